"""The extractive answerer on the shapes public filings take: tables whose figures carry no
currency sign, per-share measures beside share counts, footnote markers, two figures in one
sentence, periods named only by the file name. Small synthetic documents, the hash embedder."""

from __future__ import annotations

import pytest

from rag.chunk import Chunk
from rag.engine import Engine
from rag.extractive import row_answers
from rag.indexer import ingest
from rag.question import analyze
from rag.settings import Settings
from rag.text import years_in

TEN_K = """\
ACME Corporation Annual Report

Net Sales by Product
The following table shows net sales by product (in millions):
2022 Change 2021 Change 2020
Rockets $ 205,489 7 % $ 191,973 39 % $ 137,781
Anvils 5,122 4 % 4,780 30 % 3,687
Total net sales $ 394,328 8 % $ 365,817 33 % $ 274,515
Total net sales increased 8% or $28.5 billion during 2022 compared to 2021, driven primarily by higher
net sales of Rockets and Anvils.

Earnings Per Share
The computations of diluted earnings per common share excluded options to purchase an estimated
30.6 million shares of common stock because their inclusion would have been antidilutive.
Diluted earnings per common share $ 3.75 $ 3.56 $ 1.60

Employees
As of May 31, 2022, we had approximately 79,100 employees worldwide.

Cash Flows
(in millions) 2022 2021 2020
Net change in cash and cash equivalents (1,055) (1,019) 3,893
CASH AND CASH EQUIVALENTS END OF YEAR $ 10,203 $ 11,258 $ 12,277
"""

PRESS_RELEASE = """\
Second Quarter Results

Revenue was $2.5 billion, up 5% on an as-reported basis.
Subscription revenue increased $555 million during the quarter, and subscription revenue was $1.9 billion.
The effective tax rate was 20.3%.
Gross margin increased 120 basis points to 46.0% for the quarter.
Forecasting first-quarter 2024 revenue of $2.6 billion to $2.7 billion.
Earnings per Share: Second quarter GAAP diluted earnings per share was $0.20, and non-GAAP diluted EPS was $1.69.
Comparable sales increased nearly 13% for the quarter.
Global comparable sales increased 12.6%, reflecting strong demand.

Key Operating Metrics
Active Buyers (1) 132 133 134
(1) Active buyers are counted over the trailing twelve months.
"""

INCOME_STATEMENT = """\
BurgerCo reports first quarter results.

CONDENSED CONSOLIDATED STATEMENT OF INCOME
Dollars in millions
Quarters ended March 31, 2023 2022
Sales by Company-operated restaurants $ 2,224.3 $ 2,302.4
Other revenues 86.0 100.4
TOTAL REVENUES 5,897.8 5,665.6
"""

BUSINESS_UNITS = """\
ChipCo reports fourth-quarter and full-year 2022 financial results.

Business Unit Summary
Business Unit Revenue and Trends Q4 2022 vs. Q4 2021 2022 vs. 2021
Client Computing $6.6 billion down 36% $31.7 billion down 23%
Robotics $565 million up 59% $1.9 billion up 35%
"""

OFFICERS = """\
Information About Our Executive Officers

Mr. Larsen, 77, has been our Chairman of the Board and Chief Technology Officer since September 2014.
He served as our Chief Executive Officer from June 1977, when he founded Oraco, until September 2014.
Ms. Kent, 60, has been our Chief Executive Officer since September 2014.
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    root = tmp_path_factory.mktemp("filings")
    docs = root / "docs"
    docs.mkdir()
    (docs / "ACME_2022_10K.txt").write_text(TEN_K, encoding="utf-8")
    (docs / "WIDGETCO_2023Q2_EARNINGS.txt").write_text(PRESS_RELEASE, encoding="utf-8")
    (docs / "BURGERCO_2023Q1_EARNINGS.txt").write_text(INCOME_STATEMENT, encoding="utf-8")
    (docs / "CHIPCO_2022Q4_EARNINGS.txt").write_text(BUSINESS_UNITS, encoding="utf-8")
    (docs / "ORACO_2022_10K.txt").write_text(OFFICERS, encoding="utf-8")
    settings = Settings.load(index_dir=str(root / "index"), embed_model="hash")
    assert ingest([docs], settings).ok
    return Engine(settings)


def lead(ans) -> str:
    assert not ans.abstained, ans.text
    return ans.text.splitlines()[0]


def test_a_table_figure_without_currency_sign_answers_an_amount_question(engine):
    ans = engine.ask("What were ACME's Anvils net sales in fiscal 2022 (in millions)?")
    assert lead(ans).startswith("$5,122 million [1]")  # the caption's unit: "(in millions)"
    # the total "driven primarily by higher net sales of ... Anvils" is not Anvils' figure, and
    # no other row of the table is quoted beside it
    assert "28.5" not in ans.text and len(ans.citations) == 1


def test_a_number_in_a_product_name_is_no_figure():
    from rag.extractive.figures import figures

    text = "Net sales rose on higher sales of Rocket 14 Pro models and 3 new Anvil lines."
    assert [f.text for f in figures(text, 0, len(text))] == ["3"]


def test_a_number_after_a_camel_case_name_is_no_figure():
    """"Rocket 14 Pro" needs the word after; a name written in camel case ("iRocket 15,") needs none:
    neither answers "how many"."""
    from rag.extractive.figures import figures

    text = "New in the fourth quarter of 2023: iRocket 15, iRocket 15 Plus and 4 new Anvils."
    assert [f.text for f in figures(text, 0, len(text))] == ["2023", "4"]


def test_a_change_given_as_a_percentage_or_an_amount_is_a_change_in_both():
    """"decreased 27% or $10.8 billion": the $10.8 billion is how much it fell, not what it was
    (once the answer to "mac revenue 2023")."""
    from rag.extractive.figures import figures, is_change

    text = "Anvil net sales decreased 27% or $10.8 billion during 2023, and were $29.4 billion."
    assert [(f.text, is_change(text, f)) for f in figures(text, 0, len(text)) if f.kind != "year"] == [
        ("27%", True), ("$10.8 billion", True), ("$29.4 billion", False)]


def test_how_many_is_not_answered_by_an_amount_of_money(engine):
    """"How many Rockets did ACME sell": "$ 205,489" of their sales is no count of them."""
    ans = engine.ask("How many Rockets did ACME sell in fiscal 2022?")
    assert "205,489" not in ans.text.splitlines()[0], ans.text


def test_a_number_in_a_form_or_reference_name_is_no_figure():
    """"Form 10-Q", "8-K", "S-1", "Rule 10b5-1", "Exhibit 10.1", "Note 7": names, not how many or how much
    (an exhibit index once answered "What was the headcount?" with "10")."""
    from rag.extractive.figures import figures

    text = ("Employee Stock Purchase Plan, Form 10-Q for the quarter, Exhibit 10.1; see Note 7, the Form 8-K, "
            "the S-1 and Rule 10b5-1 plans. We employed 415,700 associates on 10-year terms.")
    assert [f.text for f in figures(text, 0, len(text))] == ["415,700", "10"]


def test_a_number_in_a_web_address_is_no_figure():
    """A press release's footer link ("...-results-301886665.html") once answered eBay's free
    cash flow with 301886665; digits inside an address are part of it."""
    from rag.extractive.figures import figures

    text = ("View original content: https://www.prnewswire.com/news-releases/acme-results-301886665.html "
            "SOURCE Acme Inc. Free cash flow was $492 million; write to ir2024@acme.com.")
    assert [f.text for f in figures(text, 0, len(text))] == ["$492 million"]


def test_what_moved_a_measure_is_a_change_and_a_level_beside_a_change_is_not():
    """"an unfavorable impact of 2.3% and 2.7%" moved a margin (both figures); "EPS was $1.23, up 10%,
    and $4.56 for the full year" keeps $4.56 a level, and "a tax benefit of $45 million" is an amount."""
    from rag.extractive.figures import figures, is_change

    def changes(text):
        return [f.text for f in figures(text, 0, len(text)) if is_change(text, f)]

    assert changes("The net effect was an unfavorable impact of 2.3% and 2.7% in fiscal 2025 and 2024.") == ["2.3%", "2.7%"]
    assert changes("EPS was $1.23, up 10%, and $4.56 for the full year.") == ["10%"]
    assert changes("We recorded an income tax benefit of $45 million.") == []


def test_a_percentage_in_parentheses_is_negative():
    """"Comparable sales change (2.6) % 0.1 %": the first is -2.6%, once shown as "2.6) %"; the
    quote's number and the answer's agree for grounding."""
    from rag.cite import Citation, check_grounding
    from rag.extractive.figures import figures

    text = "Comparable sales change (2.6) % 0.1 % (3.7) %"
    assert [f.text for f in figures(text, 0, len(text))] == ["-2.6%", "0.1 %", "-3.7%"]
    cite = Citation(1, "/docs/t.htm", "T", None, None, None, None, text, 0, len(text), text, 1.0)
    assert check_grounding("-2.6% [1].\n" + text + " [1]", [cite])[1] == []


def test_a_page_number_alone_on_the_pages_last_line_is_no_figure():
    """A release's page ends "...the amount of cash\n13": the 13 is the page's number, which once
    answered a quarter's free cash flow. A figure on the last line with words is kept."""
    from rag.extractive.figures import figures

    text = "Free cash flow is a liquidity measure that shows the amount of cash\n13"
    assert figures(text, 0, len(text)) == ()
    text = "Free cash flow was\n$492 million"
    assert [f.text for f in figures(text, 0, len(text))] == ["$492 million"]


def test_the_column_of_the_year_asked_is_read(engine):
    assert "191,973" in lead(engine.ask("What were ACME's Rockets net sales in fiscal 2021?"))


def test_a_per_share_measure_is_never_a_share_count(engine):
    first = lead(engine.ask("What were ACME's diluted earnings per common share for fiscal 2022?"))
    assert "3.75" in first and "30.6" not in first


def test_of_two_figures_in_a_sentence_the_one_whose_label_matches(engine):
    assert lead(engine.ask("What was WidgetCo's non-GAAP diluted EPS in the second quarter of 2023?")).startswith("$1.69")
    assert lead(engine.ask("What was WidgetCo's GAAP diluted earnings per share in the second quarter?")).startswith("$0.20")


def test_the_file_name_gives_the_company_and_period_the_text_leaves_out(engine):
    ans = engine.ask("What was WidgetCo's revenue in the second quarter of 2023?")
    assert lead(ans).startswith("$2.5 billion")
    assert engine.ask("What was WidgetCo's revenue in the second quarter of 2019?").abstained


def test_a_footnote_marker_is_not_the_figure(engine):
    assert lead(engine.ask("How many active buyers did WidgetCo have?")).startswith("132 [1]")


def test_an_exact_figure_is_preferred_to_a_rounded_one(engine):
    assert "12.6%" in lead(engine.ask("By how much did WidgetCo's global comparable sales increase?"))


def test_a_corporate_suffix_is_not_an_unknown_name(engine):
    ans = engine.ask("What were ACME, Inc.'s total net sales in fiscal 2022 (in millions)?")
    assert "394,328" in lead(ans)


def test_years_in_reads_file_names_and_fiscal_labels():
    assert years_in("APPLE_2022_10K") == {"2022"}
    assert years_in("EBAY 2023Q2 EARNINGS") == {"2023"}
    assert years_in("CRM Q1 FY24 Earnings; Q2'23 and FY 2025") == {"2024", "2023", "2025"}
    assert years_in("revenue of 20,215 and 1,2023 units, 2,021 stores") == set()


def test_a_row_labelled_with_the_whole_measure_beats_a_narrower_row(engine):
    first = lead(engine.ask("What were BurgerCo's consolidated revenues in the first quarter of 2023 (in millions)?"))
    assert first.startswith("$5,897.8 million")


class _Idf:
    max = 5.0

    def __call__(self, term: str) -> float:
        return 2.0


def _table_chunk(text: str, header: str | None) -> Chunk:
    return Chunk(id="x", text=text, source="/docs/ACME_2022_10K.pdf", title="ACME 2022 10K", page=5,
                 section="Membership", segment=None, speaker=None, analyst=None, start=0, end=len(text),
                 doc_hash="h", index=0, header=header)


def test_row_answers_finds_a_table_row_labelled_with_the_question():
    chunk = _table_chunk("Our membership was made up of the following (in thousands):\n2022 2021 2020\n"
                         "Gold Star 54,000 50,200 46,800\nTotal paid members 65,800 61,700 58,100\n",
                         "2022 2021 2020")
    q = analyze("How many total paid members did ACME have at the end of fiscal 2022?", _Idf())
    assert row_answers(q, chunk)
    # another year than the table's, a measure no row names, a question that asks for no figure
    assert not row_answers(analyze("How many total paid members did ACME have in fiscal 2019?", _Idf()), chunk)
    assert not row_answers(analyze("What was ACME's total debt in fiscal 2022?", _Idf()), chunk)
    assert not row_answers(analyze("Who leads ACME's membership program?", _Idf()), chunk)


def test_a_level_is_preferred_to_a_change(engine):
    assert lead(engine.ask("What was WidgetCo's subscription revenue in the second quarter of 2023?")).startswith("$1.9 billion")


def test_what_was_a_rate_asks_for_a_percentage(engine):
    assert lead(engine.ask("What was WidgetCo's effective tax rate in the second quarter?")).startswith("20.3%")


def test_a_document_of_another_period_does_not_answer_with_its_own_figures(engine):
    # WIDGETCO_2023Q2: its revenue is not the 2025 revenue, nor is the forecast of another quarter
    assert engine.ask("What was WidgetCo's revenue in the second quarter of 2025?").abstained
    assert engine.ask("What was WidgetCo's revenue in the fourth quarter of 2024?").abstained


def test_the_column_of_the_period_asked_quarter_or_full_year(engine):
    assert lead(engine.ask("What was Robotics revenue for ChipCo's full year 2022?")).startswith("$1.9 billion")
    assert lead(engine.ask("What was ChipCo's Robotics revenue in the fourth quarter of 2022?")).startswith("$565 million")


def test_a_quarters_report_does_not_answer_for_the_full_year(engine):
    assert engine.ask("What were BurgerCo's total revenues for full-year 2023 (in millions)?").abstained
    assert not engine.ask("What were BurgerCo's total revenues in the first quarter of 2023 (in millions)?").abstained


def test_a_percentage_level_unless_the_change_is_asked(engine):
    assert lead(engine.ask("What was WidgetCo's gross margin in the second quarter?")).startswith("46.0%")
    assert lead(engine.ask("By how much did WidgetCo's gross margin increase?")).startswith("120 basis points")


def test_a_measure_named_twice_is_one_figure(engine):
    # "cash and cash equivalents" asks for one figure, in the column of the year asked
    ans = engine.ask("How much cash and cash equivalents did ACME have at the end of fiscal 2022?")
    assert lead(ans) == "$10,203 million [1]." and len(ans.citations) == 1


def test_who_holds_a_title_now(engine):
    # "Who is X's CEO?" asks for a person (not a description of X); the title's words in order,
    # and not the one who held it until 2014
    assert lead(engine.ask("Who is Oraco's Chief Executive Officer?")) == "Ms. Kent [1]."
