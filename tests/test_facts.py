"""Tables read as facts (rag.facts): a statement's rows with their parents, each figure under the
period its column's header names, its unit and scale, and the exact text it came from. Synthetic
tables: a text one (read by order) and a real PDF written here with matplotlib, whose words PDFium
places (read by position), with an empty cell, a change column and a header over three lines."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.facts import FactIndex, Period, Row, period_fit, read_rows
from rag.framing import Period as Asked

ROOT = Path(__file__).resolve().parent.parent

TEXT_TABLE = """WIDGETCO, INC.
CONSOLIDATED STATEMENTS OF CASH FLOWS
Year Ended March 31,
(In millions) 2024 2023 2022
Cash provided by operations:
Net income $ 1,200 $ 950 $ 800
Depreciation 310 290 270
Cash provided by investing activities:
Purchases of widgets plant (758) (695) —
Other investing activities 12 (4) 7
"""


def test_text_table_rows_periods_values_and_parents():
    rows = read_rows(TEXT_TABLE, None, source="w.txt", page=None)
    by = {r.label: r for r in rows}
    assert set(by) == {"Net income", "Depreciation", "Purchases of widgets plant", "Other investing activities"}
    capex = by["Purchases of widgets plant"]
    assert capex.statement == "cash_flow" and capex.scale == 1e6 and capex.unit == "USD"
    assert capex.path == ("Cash provided by investing activities", "Purchases of widgets plant")
    assert [(c.period.year, c.period.months, c.value) for c in capex.cells] == [
        (2024, 12, -758.0), (2023, 12, -695.0), (2022, 12, None)]  # a dash: an empty cell
    assert capex.cells[0].period.label == "Year Ended March 31, 2024"
    assert capex.cells[0].period.end == "2024-03-31"
    for r in rows:  # every cell's text is exactly where its offsets say
        for c in r.cells:
            assert TEXT_TABLE[c.start:c.end] == c.text
        assert TEXT_TABLE[r.start:r.end] == r.text


def test_text_row_that_does_not_fill_the_header_is_not_guessed():
    """Without positions a row with fewer figures than periods cannot say which it lacks."""
    text = "BALANCE SHEETS\n(in thousands) 2024 2023\nCash 10 20\nGoodwill 30\nTotal assets 40 50\n"
    rows = {r.label: r for r in read_rows(text, None)}
    assert "Goodwill" not in rows
    assert rows["Cash"].statement == "balance" and rows["Cash"].scale == 1e3
    assert rows["Total assets"].cells[1].value == 50.0


def test_a_row_of_percentages_under_periods_is_each_periods_rate():
    """"Effective tax rate 14.7 % 16.2 %" under "2023 2022": each year's rate, a percentage (not an
    amount in the caption's millions); a change column's percentage stays no period's figure."""
    text = ("Provision for income taxes and effective tax rate were as follows (dollars in millions):\n"
            "2023 2022\nProvision for income taxes $ 16,741 $ 19,300\nEffective tax rate 14.7 % 16.2 %\n")
    rows = {r.label: r for r in read_rows(text, None)}
    rate = rows["Effective tax rate"]
    assert [(c.period.year, c.value, c.percent) for c in rate.cells] == [(2023, 14.7, True), (2022, 16.2, True)]
    assert (rate.unit, rate.scale) == ("%", 1.0) and rows["Provision for income taxes"].scale == 1e6
    change = read_rows("(In millions) 2023 2022\nNet sales 383,285 394,328 (3) %\nServices 85,200 78,129 9 %\n", None)
    assert [[c.text for c in r.cells] for r in change] == [["383,285", "394,328"], ["85,200", "78,129"]]


def test_prose_page_is_passed_over_and_a_table_page_is_not():
    """read_rows skips a page unless two of its lines end in a cell word, which every row's line does:
    prose whose sentences end in words or a lone figure has no rows, and making Line objects for
    it was the largest cost of reading a long text."""
    from rag.facts import _two_cell_ends

    prose = "Revenue grew in fiscal 2024 as demand rose.\nMargins widened on scale; see page 12.\nOutlook.\n"
    assert not _two_cell_ends(prose) and read_rows(prose, None) == []
    assert _two_cell_ends(TEXT_TABLE)
    one_row = "BALANCE SHEETS\n(in thousands) 2024 2023\nCash 10 20\n"
    assert not _two_cell_ends(one_row.replace("2024 2023", "2024 and 2023 years")) and read_rows(one_row, None) == []


def test_sentence_ending_in_a_figure_is_not_a_row():
    text = "INCOME STATEMENTS\n(in millions) 2024 2023\nRevenue 10 20\nCost 5 6\n" \
           "Our revenue grew because customers bought many more widgets than in the prior year 2024 17\n"
    assert {r.label for r in read_rows(text, None)} == {"Revenue", "Cost"}


# --- a real PDF: positions decide the columns -------------------------------------------------------

# (x in inches, line, text): a quarter table whose dates take two lines each, under span labels
PDF_WORDS = [
    (0.5, 0, "Widgetco Segment Results"),
    (0.5, 1, "(In millions)"),
    (3.0, 1, "Three Months Ended"), (5.6, 1, "Nine Months Ended"),
    (3.0, 2, "July 1,"), (4.0, 2, "June 25,"), (5.6, 2, "July 1,"), (6.6, 2, "June 25,"),
    (3.0, 3, "2024"), (4.0, 3, "2023"), (4.8, 3, "Change"), (5.6, 3, "2024"), (6.6, 3, "2023"),
    (0.5, 4, "Net sales by region:"),
    (0.7, 5, "Americas"), (3.0, 5, "$ 1,500"), (4.0, 5, "$ 1,400"), (4.8, 5, "7 %"), (5.6, 5, "4,200"), (6.6, 5, "4,000"),
    # no figure for the quarter a year ago: the cells after it must not shift left
    (0.7, 6, "Europe"), (3.0, 6, "900"), (4.8, 6, "— %"), (5.6, 6, "2,500"), (6.6, 6, "2,300"),
    (0.7, 7, "Asia"), (3.0, 7, "300"), (4.0, 7, "280"), (4.8, 7, "7 %"), (5.6, 7, "800"), (6.6, 7, "790"),
    (0.5, 8, "Total net sales"), (3.0, 8, "$ 2,700"), (4.0, 8, "$ 1,680"), (4.8, 8, "61 %"), (5.6, 8, "7,500"),
    (6.6, 8, "7,090"),
]


@pytest.fixture(scope="module")
def segment_pdf(tmp_path_factory) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["pdf.fonttype"] = 42
    import matplotlib.pyplot as plt

    path = tmp_path_factory.mktemp("pdf") / "WIDGETCO_2024Q3.pdf"
    fig = plt.figure(figsize=(8.5, 11))
    for x, line, text in PDF_WORDS:
        fig.text(x / 8.5, 0.95 - line * 0.02, text, fontsize=8, family="DejaVu Sans")
    fig.savefig(path)
    plt.close(fig)
    return path


def test_pdf_columns_by_position(segment_pdf):
    from rag.indexer import read_document

    _, pages, _ = read_document(segment_pdf)
    [page] = pages
    assert page.layout, "a page with a table gets word boxes"
    rows = {r.label: r for r in read_rows(page.text, page.layout, source=str(segment_pdf), page=1)}
    europe = rows["Europe"]
    assert europe.path == ("Net sales by region", "Europe")
    got = {(c.period.months, c.period.end): c.value for c in europe.cells}
    assert got == {(3, "2024-07-01"): 900.0, (9, "2024-07-01"): 2500.0, (9, "2023-06-25"): 2300.0}
    americas = rows["Americas"]
    assert [c.period.label for c in americas.cells] == [
        "Three Months Ended July 1, 2024", "Three Months Ended June 25, 2023",
        "Nine Months Ended July 1, 2024", "Nine Months Ended June 25, 2023"]
    assert all(not c.percent for c in americas.cells)  # the change column is no period
    assert americas.scale == 1e6 and americas.unit == "USD"
    for r in rows.values():
        for c in r.cells:
            assert page.text[c.start:c.end] == c.text


# --- periods and search ----------------------------------------------------------------------------

@pytest.mark.parametrize("period, asked, fits", [
    (Period("Year Ended May 31, 2022", 2022, 12, "2022-05-31"), Asked(year=2022, months=12), True),
    (Period("Year Ended May 31, 2021", 2021, 12, "2021-05-31"), Asked(year=2022, months=12), False),
    (Period("Three Months Ended July 1, 2023", 2023, 3, "2023-07-01"),
     Asked(year=2023, quarter=3, months=3, end=datetime.date(2023, 7, 1)), True),
    (Period("Nine Months Ended July 1, 2023", 2023, 9, "2023-07-01"),
     Asked(year=2023, quarter=3, months=3, end=datetime.date(2023, 7, 1)), False),
    (Period("May 31, 2022", 2022, None, "2022-05-31", True), Asked(year=2022, end=datetime.date(2022, 5, 31), instant=True), True),
    (Period("2020", 2020), Asked(year=2019), False),
])
def test_period_fit(period, asked, fits):
    assert (period_fit(period, asked) > 0) is fits


def test_a_quarter_asked_by_its_end_fits_a_bare_year_column_weakly():
    """"The quarter ended December 31, 2003": a column headed "2003" alone may be any span; the
    quarter's own column ends on that day."""
    asked = Asked(year=2003, months=3, end=datetime.date(2003, 12, 31))
    assert period_fit(Period("2003", 2003), asked) == 0.3
    assert period_fit(Period("Quarter Ended Dec. 31, 2003", 2004, 3, "2003-12-31"), asked) == 1.0


def _row(label, statement, cells, parents=()):
    return Row(source="s", page=1, statement=statement, caption="", path=tuple(parents) + (label,), unit="USD",
               scale=1e6, text=label, start=0, end=len(label),
               cells=tuple(__import__("rag.facts", fromlist=["Cell"]).Cell(p, v, str(v), 0, 1) for p, v in cells))


def test_search_by_label_statement_and_period():
    from rag.extractive.terms import stems_of

    fy22, fy21 = Period("2022", 2022, 12), Period("2021", 2021, 12)
    rows = [_row("Additions to property and equipment", "cash_flow", [(fy22, 758), (fy21, 695)]),
            _row("Property and equipment, net", "balance", [(fy22, 4791)]),
            _row("Additions to property and equipment", "other", [(fy21, 700)])]
    idx = FactIndex(rows)
    terms = [(frozenset(stems_of(w)), 1.0) for w in ("additions", "property", "equipment")]
    got = idx.search(terms, None, Asked(year=2022, months=12), "cash_flow")
    assert got[0][1] is rows[0]
    assert rows[2] not in [r for _, r in got]  # no column of FY2022
    assert idx.within("s", 1, 0, 100) == tuple(rows)


def test_row_record_round_trip():
    r = read_rows(TEXT_TABLE, None, source="w.txt", page=3)[0]
    text, meta = r.to_record()
    assert all(v is not None for v in meta.values())
    assert Row.from_record(text, meta) == r


# --- rag facts ---------------------------------------------------------------------------------------

def test_rag_facts_cli(tmp_path):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "widgetco.txt").write_text(TEXT_TABLE)
    (corpus / "notes.md").write_text("# Notes\n\nNo tables here, only words about widgets.\n")
    env = {"RAG_EMBED_MODEL": "hash", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
           "XDG_CACHE_HOME": str(tmp_path / "cache")}

    def rag(*args):
        return subprocess.run([sys.executable, "-m", "rag", *args, "--index", str(tmp_path / "idx")], env=env,
                              capture_output=True, text=True, timeout=120)

    assert rag("ingest", str(corpus)).returncode == 0
    out = rag("facts", "widgetco.txt", "--json")
    facts = json.loads(out.stdout)
    capex = [f for f in facts if f["row"][-1] == "Purchases of widgets plant"]
    assert [(f["period"], f["value"], f["text"]) for f in capex] == [
        ("Year Ended March 31, 2024", -758.0, "(758)"), ("Year Ended March 31, 2023", -695.0, "(695)"),
        ("Year Ended March 31, 2022", None, "—")]
    assert capex[0]["statement"] == "cash_flow" and capex[0]["scale"] == 1e6
    assert set(capex[0]) == {"source", "page", "statement", "caption", "row", "period", "value", "unit", "scale",
                             "text", "start", "end"}
    assert json.loads(rag("facts", "notes.md", "--json").stdout) == []
    assert rag("facts", "widgetco.txt", "--csv", "--statement", "balance").stdout.strip().count("\n") == 0
    bad = rag("facts", "nope.pdf")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_rows_stored_beside_chunks(settings, tmp_path):
    """Rows are stored with the chunks, in an embedded index and on a Chroma server alike; a
    changed document replaces its rows, a removed one takes them along."""
    from rag.indexer import ingest, remove
    from rag.store import Store

    doc = tmp_path / "widgetco.txt"
    doc.write_text(TEXT_TABLE)
    ingest([doc], settings)
    rows = Store(settings).committed_rows()
    assert {r.label for r in rows} == {"Net income", "Depreciation", "Purchases of widgets plant",
                                       "Other investing activities"}
    doc.write_text(TEXT_TABLE.replace("Depreciation 310 290 270", "Amortization 31 29 27"))
    ingest([doc], settings)
    store = Store(settings)
    assert {r.label for r in store.committed_rows()} == {"Net income", "Amortization", "Purchases of widgets plant",
                                                         "Other investing activities"}
    assert len(store.row_keys()) == 4  # the old version's rows are gone
    remove(str(doc), settings)
    assert Store(settings).committed_rows() == [] and Store(settings).row_keys() == []


@pytest.mark.parametrize("definition, operands", [
    ("gross profit divided by total revenue", ["gross profit", "total revenue"]),
    ("net cash provided by operating activities minus additions to property, plant and equipment",
     ["net cash provided by operating activities", "additions to property, plant and equipment"]),
    ("(cash and equivalents + short-term investments + accounts receivable, net) divided by total current liabilities",
     ["cash and equivalents", "short-term investments", "accounts receivable, net", "total current liabilities"]),
    ("cost of sales divided by average inventories", ["cost of sales", "inventories"]),
])
def test_operand_phrases(definition, operands):
    """The line items a definition combines, as rag.compute reads them."""
    from rag.compute import items_of, parse

    assert [i.phrase for i in items_of(parse(definition))] == operands


def test_line_items_match_whole_names():
    """A question's line item matches a row labelled with another of its names, whole: "cost of
    goods sold" is the row "Cost of sales"; "Net sales" is not, nor is "Other revenues" "revenues"."""
    from rag.facts import asked_items, item_stems
    from rag.question import analyze

    items = asked_items("What was Widgetco's cost of goods sold in fiscal 2022?")
    assert item_stems("Cost of sales", items)
    assert item_stems("Net sales", items) == set()
    revenue = asked_items("What were Widgetco's total revenues in 2022?")
    assert item_stems("Net sales", revenue) and not item_stems("Other revenues", revenue)
    assert asked_items("How much did cloud revenue grow?") == ()
    # a name inside a longer one asked is not asked itself, unless it also stands alone
    assert [a.phrase for a in asked_items("What were total cash and short-term investments in 2004?")] == [
        "cash and short term investments"]
    assert {a.phrase for a in asked_items("What were revenues and cost of revenues in 2022?")} == {
        "revenues", "cost of revenues"}

    class _Idf:
        max = 9.0

        def __call__(self, term):
            return 2.0
    # a line item's figure asked with "what was": an amount, though no measure word is in it
    assert analyze("What was Widgetco's depreciation and amortization in FY2019?", _Idf()).intent == "amount"
    assert analyze("What was Widgetco's strategy in FY2019?", _Idf()).intent == "describe"


def test_a_dash_under_the_period_asked_is_no_figure():
    d = datetime.date
    fy22 = Period("December 31, 2022", 2022, None, "2022-12-31", True)
    q4 = Period("Three Months Ended December 31, 2022", 2022, 3, "2022-12-31")
    q4_prior = Period("Three Months Ended December 25, 2021", 2021, 3, "2021-12-25")
    asked = Asked(year=2022, end=d(2022, 12, 31), instant=True)
    assert period_fit(fy22, asked) == 1.0
    assert 0 < period_fit(q4, asked) < 0.5  # a flow ending that day: weak
    assert period_fit(q4_prior, asked) == 0.0  # another date, whatever its span


def test_each_fact_row_is_a_unit_of_its_own():
    """A row whose long label makes the sentence splitter read it as prose is still a row."""
    from rag.chunk import Chunk
    from rag.extractive.context import with_fact_rows
    from rag.retrieve import Hit
    from rag.text import passage_units

    text = ("CASH FLOWS\nYear Ended March 31,\n(In millions) 2024 2023\n"
            "Net cash provided by operating activities of the company 15,433 29,456\n"
            "Cash flows used for investing activities:\nAdditions to property, plant and equipment (24,844) (18,733)\n")
    c = Chunk(id="c", text=text, source="s", title="t", page=None, section=None, segment=None, speaker=None,
              analyst=None, start=0, end=len(text), doc_hash="h", index=0)
    hit = Hit(c, 1.0, 1, 1, 0.9, rows=tuple(read_rows(text, None, source="s")))
    rows = [text[u.start:u.end] for u in with_fact_rows(passage_units(text), hit) if u.kind == "row"]
    assert "Net cash provided by operating activities of the company 15,433 29,456" in rows
    assert "Additions to property, plant and equipment (24,844) (18,733)" in rows


def test_two_periods_that_fit_alike_are_listed_not_guessed(segment_pdf):
    """"2024" of a table with a quarter and nine months ending the same day: both figures listed,
    each cited, no figure chosen; a question naming the span gets its figure."""
    from rag.chunk import Chunk
    from rag.extractive import ExtractiveAnswerer
    from rag.indexer import read_document
    from rag.question import analyze
    from rag.retrieve import Hit

    class _Idf:
        max = 9.0

        def __call__(self, term):
            return 2.0
    _, [page], _ = read_document(segment_pdf)
    c = Chunk(id="c", text=page.text, source=str(segment_pdf), title="Widgetco Q3 2024", page=1, section=None,
              segment=None, speaker=None, analyst=None, start=0, end=len(page.text), doc_hash="h", index=0)
    hits = [Hit(c, 1.0, 1, 1, 0.9, rows=tuple(read_rows(page.text, page.layout, source=c.source, page=1)))]
    ask = lambda q, off=frozenset(): ExtractiveAnswerer(off).answer(analyze(q, _Idf()), hits)  # noqa: E731
    both = ask("What were Widgetco's Americas net sales in 2024?")
    assert both.abstained and "1,500" in both.text and "4,200" in both.text and both.citations
    assert "Three Months Ended July 1, 2024" in both.text and "Nine Months Ended July 1, 2024" in both.text
    quarter = ask("What were Widgetco's Americas net sales in the three months ended July 1, 2024?")
    assert not quarter.abstained and quarter.text.startswith("$1,500 million [1]")
    assert not ask("What were Widgetco's Americas net sales in 2024?", frozenset({"ambiguous_figure"})).abstained


def test_a_label_wrapped_above_its_row_is_joined_though_its_dates_look_like_a_header():
    text = ("CONSOLIDATED BALANCE SHEETS\n(in millions) 2022 2021\nCash and cash equivalents $ 21,383 $ 30,098\n"
            "Trade receivables, net of allowances of $362 and $373 as of May 31, 2022 and May 31, 2021,\n"
            "respectively 5,953 5,409\nTotal current assets 27,336 35,507\n")
    rows = {r.label: r for r in read_rows(text, None)}
    label = "Trade receivables, net of allowances of $362 and $373 as of May 31, 2022 and May 31, 2021, respectively"
    assert label in rows and [c.value for c in rows[label].cells] == [5953.0, 5409.0]
    assert "respectively" not in rows


def test_a_column_is_as_wide_as_its_figures():
    """Right-aligned figures: a short one ("519") stands farther from its year than the header's
    width allows, but within the column its wider figures make."""
    from rag.facts import Line, Word, _Column, _widened

    cols = [_Column(464, 477, Period("2022", 2022, None, None, True)), _Column(546, 559, Period("2021", 2021, None, None, True))]

    def line(label, *cells):
        words = [Word(label, 0, len(label), 100, 200)]
        for text, x0, x1 in cells:
            words.append(Word(text, 0, len(text), x0, x1))
        return Line(0, 1, words)

    block = [line("Cash", ("21,383", 477, 504), ("30,098", 559, 586)), line("Securities", ("519", 492, 504), ("16,456", 564, 586))]
    wide = _widened(block, cols)
    assert [(c.x0, c.x1) for c in wide] == [(464, 504), (546, 586)]
    # a figure that spans two columns widens neither
    clash = [line("Odd", ("1,000,000", 470, 550), ("2", 580, 586))]
    assert _widened(clash, cols) == cols


def test_change_columns_between_periods_and_a_title_naming_the_years():
    """A text table whose header interleaves change columns ("2025 Change 2024 Change 2023"), under
    a title that names the years in a sentence: the figures fill the periods in order, the
    percentages are no period's, and the title's years head no column."""
    text = ("Net sales by reportable segment for 2025, 2024 and 2023 (dollars in millions):\n"
            "2025 Change 2024 Change 2023\nAmericas $ 178,353 7 % $ 167,045 3 % $ 162,560\n"
            "Greater China 64,377 (4) % 66,952 (8) % 72,559\nTotal net sales $ 416,161 6 % $ 391,035 2 % $ 383,285\n")
    rows = {r.label: r for r in read_rows(text, None)}
    assert [(c.period.year, c.value) for c in rows["Greater China"].cells] == [
        (2025, 64377.0), (2024, 66952.0), (2023, 72559.0)]


def _periods(text: str) -> dict[str, list[tuple[str, str]]]:
    return {r.label: [(c.text, c.period.label) for c in r.cells] for r in read_rows(text, None, source="t.txt")}


INCOME = "INCOME STATEMENTS\n(In millions, except earnings per share)\n{header}\nRevenue $ 28,365 $ 32,187 $ 36,835\n" \
         "Operating expenses:\nCost of revenue 5,699 6,059 6,716\nOperating income 8,272 9,545 9,034\n"


@pytest.mark.parametrize("header", ["Year Ended June 30 2002 (1) 2003 (1) 2004", "Year Ended June 30 2002 2003 2004"])
def test_a_span_with_its_month_and_day_before_the_years_is_a_header(header):
    # "30" after "June" is a day and "(1)" after a year a footnote mark: no figures, so the line heads columns
    rows = {r.label: r for r in read_rows(INCOME.format(header=header), None, source="t.htm")}
    cell = rows["Operating income"].cells[-1]
    assert rows["Operating income"].statement == "income"
    assert (cell.text, cell.period.end, cell.period.months) == ("9,034", "2004-06-30", 12)


def test_a_text_table_between_rules_under_a_sentence_naming_its_years():
    # an EDGAR text table: the sentence above names the years, the header line between rules names them again
    text = ("plans been determined as prescribed, pro forma income statements for\n"
            "1999, 2000, and 2001 would have been as follows:\n\nIn Millions\n\n"
            "Year Ended June 30                 1999         2000          2001\n"
            "------------------------------------------------------------------\n"
            "Revenue                         $19,747      $22,956       $25,296\n"
            "Operating income                 10,010       11,006        11,720\n\n"
            "Cash and Short-Term Investments\n"
            "-----------------------------------------\n"
            "In Millions  /  June 30           2000        2001\n"
            "-----------------------------------------\n"
            "Cash and equivalents:\n"
            "  Cash                        $   849     $ 1,145\n"
            "  Commercial paper              1,986         894\n")
    got = _periods(text)
    assert got["Operating income"] == [("10,010", "Year Ended June 30, 1999"), ("11,006", "Year Ended June 30, 2000"),
                                       ("11,720", "Year Ended June 30, 2001")]
    # the header ends at the rule above it: the sentence's years above head no column
    assert got["Cash"] == [("849", "2000"), ("1,145", "2001")]


def test_quarter_columns_named_by_their_quarter():
    text = "CONDENSED CONSOLIDATED STATEMENTS OF INCOME\n(In millions)\n{h}\nNet revenues $ 2,540 $ 2,420\n" \
           "Gross profit 1,840 1,770\n"
    for header, label in (("Q2 2023 Q2 2022", "Q2 2023"), ("Fourth Quarter 2023 2022", "Fourth Quarter 2023")):
        cell = read_rows(text.format(h=header), None, source="t.htm")[0].cells[0]
        assert (cell.period.label, cell.period.months) == (label, 3)
    q4 = Asked(year=2021, quarter=4, months=3, end=None, instant=False, text="Q4 2021")
    assert period_fit(Period("Q1 2021", 2021, 3, None, False), q4) == 0.0  # another quarter of the year
    assert period_fit(Period("Q4 2021", 2021, 3, None, False), q4) == 1.0
    assert period_fit(Period("Fourth Quarter 2021", 2021, 3, None, False), q4) == 1.0


def test_each_periods_amount_beside_its_percentage_without_positions():
    text = ("Net sales by merchandising department follow:\nFiscal Fiscal\n2019 2018\n"
            "dollars in millions Net Sales % of Net Sales Net Sales % of Net Sales\n"
            "Appliances $ 9,852 8.9 % $ 9,027 8.3 %\nIndoor Garden 10,989 10.0 10,450 9.7\nTools 8,563 7.8 8,135 7.5\n")
    got = _periods(text)
    assert got["Indoor Garden"] == [("10,989", "2019"), ("10,450", "2018")]
    assert got["Appliances"] == [("9,852", "2019"), ("9,027", "2018")]


def test_a_quarterly_tables_years_are_the_lines_between_its_rows():
    ordinal = ("QUARTERLY FINANCIAL DATA (UNAUDITED)\nin millions First Fiscal Quarter Second Fiscal Quarter "
               "Third Fiscal Quarter Fourth Fiscal Quarter\nFiscal 2019:\nNet sales $ 26,381 $ 30,839 $ 27,223 $ 25,782\n"
               "Gross profit 9,017 10,432 9,387 8,736\nFiscal 2018:\nNet sales $ 24,947 $ 30,463 $ 26,302 $ 26,491\n")
    rows = read_rows(ordinal, None, source="t.htm")
    assert [(r.label, r.cells[1].text, r.cells[1].period.label) for r in rows] == [
        ("Net sales", "30,839", "Second Fiscal Quarter 2019"), ("Gross profit", "10,432", "Second Fiscal Quarter 2019"),
        ("Net sales", "30,463", "Second Fiscal Quarter 2018")]
    q2 = Asked(year=2019, quarter=2, months=3, end=None, instant=False, text="the second quarter of fiscal 2019")
    assert [c.text for c in rows[0].cells if period_fit(c.period, q2) == 1.0] == ["30,839"]
    # columns by the day each quarter ends, and the year's total; fiscal 2004 ends on June 30
    dated = ("Quarter Ended Sep. 30 Dec. 31 Mar. 31 June 30 Total\nFiscal 2004\n"
             "Revenue $ 8,215 $ 10,153 $ 9,175 $ 9,292 $ 36,835\nGross profit 6,737 7,728 7,608 7,430 29,503\n")
    cells = read_rows(dated, None, source="t.htm")[0].cells
    assert [(c.period.end, c.period.months) for c in cells] == [
        ("2003-09-30", 3), ("2003-12-31", 3), ("2004-03-31", 3), ("2004-06-30", 3), ("2004-06-30", 12)]
    assert cells[1].period.label == "Quarter Ended Dec. 31, 2003 (Q2 fiscal 2004)"
    # a table whose second half is headed by its year alone is no quarterly table
    two = ("Hedged item Location of gain\n2020\nInterest rate contracts Interest expense $ 275\n"
           "Fixed-rate debt Interest expense (274)\n2019\nInterest rate contracts Interest expense $ 368\n"
           "Fixed-rate debt Interest expense (369)\nAmounts are shown before tax.\n")
    assert [c.period.label for r in read_rows(two, None, source="t.htm") for c in r.cells] == ["2020", "2020", "2019", "2019"]


def test_a_line_of_span_words_over_the_years_is_no_caption():
    """"Fiscal Fiscal Fiscal" over "2019 2018 2017" heads the columns; the table's caption is the
    sentence above it, so that two tables on a page under such lines stay two."""
    text = ("Net sales by merchandising department follow:\nFiscal Fiscal\n2019 2018\n"
            "Appliances $ 9,852 $ 9,027\nFlooring 7,443 7,494\nTotal $ 17,295 $ 16,521\nNote: renamed.\n")
    assert {r.caption for r in read_rows(text, None, source="t.htm")} == {"Net sales by merchandising department follow:"}


def test_a_member_tables_rows_sharing_their_lines_are_all_stored(settings, tmp_path):
    """The rows of a table whose columns are segments are read from the same lines: each is stored
    (none overwrites another), in the order the store gives back every time."""
    from rag.indexer import ingest
    from rag.store import Store

    doc = tmp_path / "acme-segments.htm"
    doc.write_text((Path(__file__).parent / "fixtures" / "html" / "segment-note.htm").read_text())
    ingest([doc], settings)
    rows = Store(settings).committed_rows()
    assert [r.path for r in rows if r.path[0] == "Net sales"] == [
        ("Net sales", "Health and Wellness"), ("Net sales", "Household"), ("Net sales", "Total Company")]
    assert len(rows) == 7 and len(Store(settings).row_keys()) == 7


def test_a_scale_said_of_another_table_is_not_this_ones():
    """A document read as one page (an HTML filing): the notes' "(Dollars in millions ...)" holds
    for a table far below it; a column's or a row's "(in thousands)" in between holds only near it."""
    prose = "\n".join(f"Paragraph {n} of the note says what the plan holds and how it is valued." for n in range(12))
    text = ("NOTES TO CONSOLIDATED FINANCIAL STATEMENTS\n(Dollars in millions, except per share data)\n"
            "Weighted average shares outstanding (in thousands) 2022 2021\nBasic 123,113 125,828\n"
            "Diluted 123,860 127,723\n" + prose + "\nStock-based compensation 2022 2021\n"
            "Cost of products sold 11 12\nSelling and administrative expenses 59 61\n")
    rows = {r.label: r for r in read_rows(text, None)}
    assert rows["Basic"].scale == 1e3
    assert rows["Cost of products sold"].scale == 1e6


def test_a_footnote_mark_after_a_label_is_not_a_figure():
    """"Restructuring (3) 711 0" under two periods: one figure too many, the first a one-digit
    mark in parentheses. Before, the row was dropped (three figures fit no two columns), and the
    same label in a footnote's table answered instead. A row with as many figures as periods keeps
    a "(3)" as a negative three."""
    text = ("Condensed Consolidated Statements of Operations\n(in millions)\nThree Months Ended April 30,\n"
            "2023 2022\nGeneral and administrative 638 656\nRestructuring (3) 711 0\nOther expense (3) 5\n")
    by = {r.label: r for r in read_rows(text, None, source="w.txt")}
    assert [c.value for c in by["Restructuring"].cells] == [711.0, 0.0]
    assert [c.value for c in by["Other expense"].cells] == [-3.0, 5.0]
    # a column the header does not name (a change) gives most rows one figure more: no marks there,
    # so "(3)" is never dropped to read (5) as 2024's
    text = ("(in millions)\nYear Ended December 31,\n2024 2023 $ Change\nInterest expense (3) (5) 2\n"
            "Foreign exchange (7) (1) (6)\nOther income 12 10 2\n")
    by = {r.label: r for r in read_rows(text, None, source="w.txt")}
    assert "Interest expense" not in by or [c.value for c in by["Interest expense"].cells][:2] == [-3.0, -5.0]


def test_span_labels_stacked_on_lines_of_their_own_head_their_columns_in_order():
    """A PDF's text gives "Three Months Ended" and "Six Months Ended" (laid out side by side) one
    above the other, each with its "June 30,": the first heads the first two years, the second the
    next two. Before, the nearer span headed all four, and a quarter's free cash flow was never found."""
    text = ("Reconciliation of Operating Cash Flow to Free Cash Flow\nThree Months Ended\nJune 30,\n"
            "Six Months Ended\nJune 30,\n2023 2022 2023 2022\n(In millions)\n"
            "Net cash provided by operating activities $ 605 $ 577 $ 1,446 $ 1,206\n"
            "Less: Purchases of property and equipment (113) (111) (245) (194)\n"
            "Free cash flow $ 492 $ 466 $ 1,201 $ 1,012\n")
    fcf = next(r for r in read_rows(text, None, source="w.pdf") if r.label == "Free cash flow")
    assert [(c.period.months, c.period.end, c.value) for c in fcf.cells] == [
        (3, "2023-06-30", 492.0), (3, "2022-06-30", 466.0), (6, "2023-06-30", 1201.0), (6, "2022-06-30", 1012.0)]
