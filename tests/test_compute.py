"""Figures computed from the statements (rag.compute): the formula language, every metric of the
library on a small synthetic statement, a definition the question spells out, changes, growth and
averages over periods, operands missing or ambiguous, and the re-check that keeps a computed
figure out of an answer unless its cited cells give it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rag import compute
from rag.chunk import Chunk
from rag.cite import check_grounding
from rag.extractive import ExtractiveAnswerer
from rag.facts import read_rows
from rag.question import analyze
from rag.retrieve import Hit

STATEMENTS = """ACME CORP ANNUAL REPORT
CONSOLIDATED STATEMENTS OF OPERATIONS
Year Ended December 31,
(In millions) 2024 2023 2022
Total revenues 1,000 800 700
Cost of sales 600 500 450
Gross profit 400 300 250
Research and development 100 90 80
Selling, general and administrative 50 46 40
Operating income 250 164 130
Interest expense 25 20 15
Income before income taxes 225 144 115
Provision for income taxes 45 29 23
Net income 180 115 92

CONSOLIDATED BALANCE SHEETS
(In millions) 2024 2023
Cash and cash equivalents 120 100
Short-term investments 30 20
Accounts receivable, net 90 70
Inventories 110 90
Total current assets 350 280
Property, plant and equipment, net 400 360
Total assets 900 800
Accounts payable 60 50
Total current liabilities 200 180
Total debt 300 320
Total liabilities 500 480
Total shareholders' equity 400 320

CONSOLIDATED STATEMENTS OF CASH FLOWS
Year Ended December 31,
(In millions) 2024 2023 2022
Net income 180 115 92
Depreciation and amortization 40 35 30
Net cash provided by operating activities 300 220 200
Purchases of property, plant and equipment (120) (100) (90)
Dividends paid (60) (50) (40)
"""

# Each metric of rag/metrics.toml for fiscal 2024, worked out by hand from the figures above
EXPECTED = {
    "gross margin": "40.00%",  # 400 / 1,000
    "operating margin": "25.00%",  # 250 / 1,000
    "net margin": "18.00%",  # 180 / 1,000
    "ebitda": "$290 million",  # 250 + 40
    "ebitda margin": "29.00%",
    "effective tax rate": "20.00%",  # 45 / 225
    "current ratio": "1.75",  # 350 / 200
    "quick ratio": "1.20",  # (120 + 30 + 90) / 200
    "cash ratio": "0.75",  # (120 + 30) / 200
    "working capital": "$150 million",  # 350 - 200
    "days payable outstanding": "36.50 days",  # 60 / 600 * 365
    "days sales outstanding": "32.85 days",  # 90 / 1,000 * 365
    "days inventory outstanding": "66.92 days",  # 110 / 600 * 365
    "inventory turnover": "6.00",  # 600 / ((110 + 90) / 2)
    "fixed asset turnover": "2.63",  # 1,000 / ((400 + 360) / 2)
    "asset turnover": "1.18",  # 1,000 / ((900 + 800) / 2)
    "receivables turnover": "12.50",  # 1,000 / ((90 + 70) / 2)
    "capex to revenue": "12.00%",  # 120 / 1,000: a payment printed "(120)" is an amount
    "free cash flow": "$180 million",  # 300 - 120
    "free cash flow margin": "18.00%",
    "cash conversion": "1.67",  # 300 / 180
    "dividend payout ratio": "33.33%",  # 60 / 180
    "debt to equity": "0.75",  # 300 / 400
    "liabilities to equity": "1.25",  # 500 / 400
    "debt to assets": "0.56",  # 500 / 900
    "net debt": "$180 million",  # 300 - 120
    "return on assets": "21.18%",  # 180 / ((900 + 800) / 2)
    "return on equity": "50.00%",  # 180 / ((400 + 320) / 2)
    "interest coverage": "10.00",  # 250 / 25
    "r&d intensity": "10.00%",  # 100 / 1,000
    "sg&a to revenue": "5.00%",  # 50 / 1,000
    "cash conversion cycle": "63.27 days",  # DIO 66.92 + DSO 32.85 - DPO 36.50, each from the library
    "operating cash flow ratio": "1.50",  # 300 / 200
    "retention ratio": "66.67%",  # (180 - 60) / 180
}


class _Idf:
    max = 10.0

    def __call__(self, term: str) -> float:
        return 1.0


def _hits(text: str = STATEMENTS, source: str = "/docs/ACME_2024_10K.txt") -> list[Hit]:
    chunk = Chunk(id="c1", text=text, source=source, title="Acme annual report", page=None, section=None,
                  segment=None, speaker=None, analyst=None, start=0, end=len(text), doc_hash="h", index=0)
    return [Hit(chunk, 1.0, 1, 1, 0.9, rows=tuple(read_rows(text, None, source=source)))]


def ask(question: str, hits: list[Hit] | None = None):
    return compute.answer(analyze(question, _Idf()), hits or _hits())


def test_every_library_metric_has_a_test():
    assert {m.name for m in compute.library()} == set(EXPECTED)


@pytest.mark.parametrize("metric", sorted(EXPECTED))
def test_library_metric_on_a_synthetic_statement(metric):
    ans = ask(f"What was Acme's {metric} in fiscal 2024?")
    assert ans is not None and not ans.abstained, ans and ans.text
    c = ans.computation
    assert c["metric"] == metric and c["checked"]
    assert c["shown"] == EXPECTED[metric], ans.text
    assert ans.text.split(": ", 1)[1].startswith(EXPECTED[metric])  # the result leads
    for o in c["operands"]:  # every operand cited by the row it was read from
        assert o["text"] in ans.citations[o["citation"] - 1].quote
    assert check_grounding(ans.text, ans.citations, c)[1] == []


@pytest.mark.parametrize("definition,rendered,statements,averaged", [
    ("gross profit divided by total revenue", "gross profit / total revenue", [None, None], [False, False]),
    ("(cash and equivalents + short-term investments + accounts receivable, net) divided by total current liabilities",
     "((cash and equivalents + short-term investments) + accounts receivable, net) / total current liabilities",
     [None] * 4, [False] * 4),
    ("commercial paper plus current term debt plus non-current term debt, and divide it by total shareholders' equity",
     "((commercial paper + current term debt) + non-current term debt) / total shareholders' equity", [None] * 4,
     [False] * 4),
    ("ending accounts payable (balance sheet, August 28, 2022) divided by merchandise costs (income statement), "
     "multiplied by 365 days", "(accounts payable / merchandise costs) * 365", ["balance", "income"], [False, False]),
    ("GAAP operating income plus depreciation plus amortization of intangibles (both from the cash flow statement)",
     "(operating income + depreciation) + amortization of intangibles", [None, "cash_flow", "cash_flow"], [False] * 3),
    ("cost of sales divided by average inventories (the average of the May 31, 2022 and May 31, 2021 balances)",
     "cost of sales / average inventories", [None, None], [False, True]),
    ("total debt as notes payable (current) plus notes payable (non-current) minus cash",
     "(notes payable, current + notes payable, non-current) - cash", [None] * 3, [False] * 3),
    ("cash dividends paid to Acme stockholders over net earnings attributable to Acme",
     "cash dividends paid to Acme stockholders / net earnings attributable to Acme", [None, None], [False, False]),
])
def test_definitions_parse(definition, rendered, statements, averaged):
    """Read left to right as the questions write them; notes in parentheses give an item's
    statement or narrow it, and dates are dropped."""
    tree = compute.parse(definition)
    assert compute.render(tree) == rendered
    assert [i.statement for i in compute.items_of(tree)] == statements
    assert [i.average for i in compute.items_of(tree)] == averaged


@pytest.mark.parametrize("text", ["revenue in the December quarter", "the reasons for growth", "",
                                  "revenue growth over the prior year", "year-over-year revenue growth"])
def test_words_without_arithmetic_are_no_formula(text):
    assert compute.parse(text) is None


def test_the_questions_definition_wins_over_the_library():
    ans = ask("What was Acme's gross margin in fiscal 2024, defined as operating income divided by total revenues? "
              "Round to two decimal places.")
    assert ans.computation["shown"] == "25.00%" and ans.computation["formula"] == "operating income / total revenues"


def test_a_definition_with_x_for_times_and_a_where_clause():
    """"365 x (average ...)": the x is the sign; ", where FY2024 is ..." explains a term, it is no
    term of the formula. Before, neither was read, and the library's DPO (year-end payables) answered."""
    ans = ask("What is Acme's FY2024 days payable outstanding (DPO)? DPO is defined as: 365 x (average accounts "
              "payable between FY2023 and FY2024) / (FY2024 cost of sales), where FY2024 is the fiscal year ended "
              "December 31, 2024. Round your answer to two decimal places.")
    c = ans.computation
    assert c["shown"] == "33.46 days", ans.text  # 365 * (60 + 50) / 2 / 600
    assert sorted(o["text"] for o in c["operands"]) == ["50", "60", "600"]


def test_a_definition_with_over_for_divided_by_and_the_average_after_it():
    """"net income over the average of beginning and ending equity": "over" divides, though "the
    average" opens with an "a" (once read as "over a year"); the metric's other names are known."""
    ans = ask("What was Acme's return on average shareholders' equity in fiscal 2024 (net income over the average of "
              "beginning and ending total shareholders' equity)? Round to two decimals.")
    assert ans.computation["shown"] == "50.00%", ans.text  # 180 / ((400 + 320) / 2)
    assert compute.metric_named("return on average stockholders' equity").name == "return on equity"
    assert compute.parse("revenue growth over a year") is None and compute.parse("growth over 2021") is None


def test_terms_the_question_assigns_replace_the_librarys():
    """"debt to equity, where debt = A + B and equity = C": the question's terms stand in for the
    library formula's items that hold their words (total debt, shareholders' equity)."""
    ans = ask("What was Acme's debt to equity at FY2024 year end, where debt = total debt + accounts payable and "
              "equity = total shareholders' equity? 2 decimals")
    assert ans.computation["shown"] == "0.90", ans.text  # (300 + 60) / 400
    assert ans.computation["formula"] == "(total debt + accounts payable) / total shareholders' equity"
    assert ask("What was Acme's debt to equity at FY2024 year end? 2 decimals").computation["shown"] == "0.75"


def test_a_change_in_percent_between_two_years_named_is_computed_not_quoted():
    """"By what percentage did revenues change from fiscal 2023 to fiscal 2024?": both years' figures
    give it exactly; a sentence's rounder "25%" does not answer it. One year named is quoted."""
    hits = _hits(STATEMENTS + "\nTotal revenues increased 25% in fiscal 2024 on higher volumes.\n")
    q = analyze("By what percentage did Acme's total revenues change from fiscal 2023 to fiscal 2024?", _Idf())
    ans = ExtractiveAnswerer().answer(q, hits)
    assert ans.computation and ans.computation["mode"] == "growth" and ans.computation["shown"] == "25.00%", ans.text
    one = ExtractiveAnswerer().answer(analyze("By what percentage did Acme's total revenues grow in fiscal 2024?",
                                              _Idf()), hits)
    assert one.computation is None and "25%" in one.text


def test_one_amount_set_against_another_gives_the_verdict_and_both_sides():
    """"Did A cover B plus C?", "Did A exceed B?": the first less the second, its sign the verdict;
    both sides shown and each operand cited (outflows added as amounts paid)."""
    ans = ExtractiveAnswerer().answer(analyze(
        "Did Acme's net cash provided by operating activities cover dividends paid plus purchases of property, "
        "plant and equipment in fiscal 2024?", _Idf()), _hits())
    assert ans.text.startswith("Yes: net cash provided by operating activities ($300 million) covered dividends paid "
                               "+ purchases of property, plant and equipment ($180 million) in FY2024, a surplus of "
                               "$120 million."), ans.text
    assert ans.computation["checked"] and check_grounding(ans.text, ans.citations, ans.computation)[1] == []
    no = ask("Did Acme's net income exceed net cash provided by operating activities in fiscal 2024?")
    assert no.text.startswith("No: net income ($180 million) did not exceed net cash provided by operating activities "
                              "($300 million) in FY2024, a shortfall of $120 million."), no.text


def test_a_quote_that_does_not_name_the_metric_asked_gives_way_to_the_computation():
    """"What was the operating margin?" quoted by a sentence that names another margin ("its gross
    margin was 40.0%") is computed from the statements instead; a quote that names it answers."""
    hits = _hits(STATEMENTS + "\nAcme's operating expenses grew in fiscal 2024, while its gross margin was 40.0% in "
                              "fiscal 2024.\n")
    ans = ExtractiveAnswerer().answer(analyze("What was Acme's operating margin in fiscal 2024?", _Idf()), hits)
    assert ans.computation and ans.computation["shown"] == "25.00%", ans.text
    off = ExtractiveAnswerer({"unnamed_metric_quote"}).answer(
        analyze("What was Acme's operating margin in fiscal 2024?", _Idf()), hits)
    assert off.computation is None and "40.0%" in off.text  # (the rule is what changes it)
    named = ExtractiveAnswerer().answer(analyze("What was Acme's gross margin in fiscal 2024?", _Idf()), hits)
    assert named.computation is None and named.text.startswith("40.0%")
    # a row not read as facts is named by the heading above it
    for heading, computed in (("Gross margin:", True), ("Operating margin:", False)):
        rows = _hits(STATEMENTS + f"\nRESULTS\nFiscal Year 2024 2023 Change\n{heading}\nAcme total 40.0 % 37.5 % Up 2.5 pts\n")
        got = ExtractiveAnswerer().answer(analyze("What was Acme's operating margin in fiscal 2024?", _Idf()), rows)
        assert bool(got.computation) == computed, got.text
    # an amount named like a rate ("Total operating margin $ 250", a company's word for operating
    # income) is not the rate either
    amount = _hits(STATEMENTS + "\nSEGMENT RESULTS\n(In millions) 2024 Change 2023\nTotal revenues $ 1,000 25% $ 800\n"
                                "Total operating margin $ 250 52% $ 164\n")
    ans = ExtractiveAnswerer().answer(analyze("What was Acme's operating margin in fiscal 2024?", _Idf()), amount)
    assert ans.computation and ans.computation["shown"] == "25.00%", ans.text  # not "$250 million"


def test_two_rates_set_side_by_side_are_read_as_printed():
    """"Was the effective tax rate above or below the statutory rate?": both rates from their rows
    (percentages under the years, not the library's provision over pre-tax income), which side
    the first fell on and the gap in percentage points, each cited and checked."""
    text = ("ACME CORP ANNUAL REPORT\nIncome taxes were as follows (dollars in millions):\n2024 2023\n"
            "Provision for income taxes $ 45 $ 29\nEffective tax rate 20.0 % 20.1 %\n"
            "Statutory federal income tax rate 21 % 21 %\n")
    ans = ExtractiveAnswerer().answer(analyze("Was Acme's fiscal 2024 effective tax rate above or below the statutory "
                                              "federal income tax rate, and why?", _Idf()), _hits(text))
    assert ans.text.startswith("Below: effective tax rate (20.0%) was below statutory federal income tax rate (21.0%) "
                               "in FY2024, by 1.0 percentage points."), ans.text
    assert ans.computation["checked"] and check_grounding(ans.text, ans.citations, ans.computation)[1] == []
    from rag.question import figure_and_cause
    assert figure_and_cause("Was the rate below the statutory rate, and why?") == (
        "Was the rate below the statutory rate?", "Why was the rate below the statutory rate?")


def test_an_item_a_company_may_not_report_is_left_out_of_the_sum_and_said_so():
    """The quick ratio of a company without short-term investments: cash and receivables over
    current liabilities, the answer saying none are in the statements; an item that is not
    optional (the divisor) missing is still named as missing."""
    lean = STATEMENTS.replace("Short-term investments 30 20\n", "")
    ans = ask("What was Acme's quick ratio at the end of fiscal 2024?", _hits(lean))
    assert ans.computation and ans.computation["shown"] == "1.05", ans.text  # (120 + 90) / 200
    assert "(short-term investments: none in the statements)" in ans.text
    assert check_grounding(ans.text, ans.citations, ans.computation)[1] == []
    assert ask("What was Acme's quick ratio at the end of fiscal 2024?").computation["shown"] == "1.20"  # (120+30+90)/200
    no_divisor = ask("What was Acme's quick ratio at the end of fiscal 2024?",
                     _hits(lean.replace("Total current liabilities 200 180\n", "")))
    assert no_divisor.abstained and "current liabilities" in no_divisor.text


def test_a_balance_is_never_read_from_the_cash_flow_statements_change_in_it():
    """Inventory turnover where only the cash flow statement names inventories ("Inventories (20)
    (15)", the change in them): the balance is missing, not the change averaged into a negative
    turnover."""
    text = STATEMENTS.replace("Inventories 110 90\n", "").replace("Dividends paid (60) (50) (40)\n",
                                                                   "Dividends paid (60) (50) (40)\nInventories (20) (15) (10)\n")
    ans = ask("What was Acme's inventory turnover in fiscal 2024? Round to two decimal places.", _hits(text))
    assert ans.abstained and "inventories" in ans.text, ans.text
    assert ask("What was Acme's inventory turnover in fiscal 2024? Round to two decimal places.").computation["shown"] \
        == "6.00"  # 600 / ((110 + 90) / 2)


def test_two_line_items_asked_combined_are_added_split_at_the_and_between_names():
    """"A and B combined", "the sum of A and B": the "and" inside a line item's name ("research and
    development") is not the one between the two. Outflows add as amounts paid; an amount asked in
    billions is shown in billions."""
    ans = ask("What was the sum of Acme's research and development and selling, general and administrative "
              "expenses in fiscal 2024?")
    assert ans.computation["shown"] == "$150 million", ans.text
    assert ans.computation["formula"] == "research and development + selling, general and administrative expenses"
    ans = ask("How much cash did Acme return to shareholders in fiscal 2024 through dividends paid and purchases of "
              "property, plant and equipment combined? Answer in USD billions, rounded to two decimal places.")
    assert ans.computation["shown"] == "$0.18 billion", ans.text  # (60) + (120), in millions
    assert check_grounding(ans.text, ans.citations, ans.computation)[1] == []
    from rag.extractive import select
    q = "What were Acme's total revenues and net income combined in fiscal 2024?"
    assert "sum of total revenues and net income" in select.computed_figure(analyze(q, _Idf()))  # not two quotes
    q = "What were the combined company's total revenues and net income in fiscal 2024?"
    assert compute.summed_items(q, analyze(q, _Idf()).framing) is None  # a merged company's two figures


def test_a_ratio_of_one_item_to_another_not_in_the_library():
    """"total debt to EBITDA ratio": the first over the second (EBITDA from its formula). Before, the
    library's EBITDA, the one metric it names, answered alone; a library ratio keeps its own name."""
    ans = ask("What was Acme's total debt to EBITDA ratio in fiscal 2024? Round to two decimal places.")
    c = ans.computation
    assert c["shown"] == "1.03" and c["metric"] == "total debt to EBITDA ratio", ans.text  # 300 / (250 + 40)
    assert ask("What was Acme's debt-to-equity ratio in fiscal 2024?").computation["metric"] == "debt to equity"
    change = ask("What was the change in Acme's debt to equity ratio from fiscal 2023 to fiscal 2024?").computation
    assert change["metric"] == "debt to equity" and change["mode"] == "change"


def test_change_in_percentage_points_between_two_years():
    ans = ask("By how many percentage points did Acme's operating margin change from FY2023 to FY2024? "
              "Round to two decimal places.")
    c = ans.computation
    assert c["shown"] == "4.50 percentage points" and c["mode"] == "change"  # 25.00% - 20.50%
    assert [s["shown"] for s in c["steps"]] == ["20.50%", "25.00%"]
    assert "an increase" in ans.text
    assert check_grounding(ans.text, ans.citations, c)[1] == []


def test_growth_of_a_line_item_over_the_year_before():
    ans = ask("What was Acme's year-over-year total revenues growth in fiscal 2024? Round to two decimal places.")
    assert ans.computation["shown"] == "25.00%" and ans.computation["mode"] == "growth"  # (1,000 - 800) / 800


def test_average_of_a_metric_over_a_range_of_years():
    ans = ask("What is Acme's three-year average gross margin from FY2022 to FY2024? Round to two decimal places.")
    c = ans.computation
    assert c["mode"] == "mean" and [s["shown"] for s in c["steps"]] == ["35.71%", "37.50%", "40.00%"]
    assert c["shown"] == "37.74%"


def test_a_missing_operand_is_named_not_guessed():
    ans = ask("What was Acme's coverage in fiscal 2024, defined as operating income divided by interest paid? "
              "Round to two decimal places.")
    assert ans.abstained and ans.computation is None
    assert "interest paid" in ans.text and "not computed" in ans.text


def test_a_period_the_statements_do_not_cover_is_missing():
    ans = ask("What was Acme's gross margin in fiscal 2019? Round to two decimal places.")
    assert ans.abstained and "gross profit" in ans.text


def test_two_rows_fitting_alike_are_not_guessed():
    text = STATEMENTS + "\nCONSOLIDATED STATEMENTS OF OPERATIONS\nYear Ended December 31,\n(In millions) 2024 2023\n" \
                        "Total revenues 1,100 900\n"
    ans = ask("What was Acme's gross margin in fiscal 2024? Round to two decimal places.", _hits(text))
    assert ans.abstained and "two rows" in ans.text


def test_a_computation_that_does_not_check_is_not_grounded():
    """The checker computes again from the cited quotes: a result, or an operand, changed after the
    fact is caught."""
    ans = ask("What was Acme's current ratio in fiscal 2024?")
    c = ans.computation
    assert compute.recheck(c, {ct.n: ct.quote for ct in ans.citations})
    wrong = dict(c, shown="1.80")
    assert not compute.recheck(wrong, {ct.n: ct.quote for ct in ans.citations})
    assert check_grounding(ans.text.replace("1.75", "1.80"), ans.citations, wrong)[1]
    moved = dict(c, operands=[dict(c["operands"][0], text="351")] + c["operands"][1:])
    assert not compute.recheck(moved, {ct.n: ct.quote for ct in ans.citations})


def test_the_extractive_answerer_computes_and_can_be_switched_off():
    q = "What was Acme's FY2024 effective tax rate, calculated as provision for income taxes divided by income " \
        "before income taxes? Round to two decimal places."
    on = ExtractiveAnswerer().answer(analyze(q, _Idf()), _hits())
    assert on.computation["shown"] == "20.00%" and on.to_dict()["computation"]["checked"]
    off = ExtractiveAnswerer(off={"computed_metric"}).answer(analyze(q, _Idf()), _hits())
    assert off.abstained and off.computation is None and "computation" not in off.to_dict()


def test_a_question_asking_no_computation_has_no_plan():
    assert compute.plan(analyze("Who is Acme's chief executive officer?", _Idf())) is None
    assert ask("What was Acme's revenue in fiscal 2024?") is None


def test_recheck_reads_only_arithmetic():
    with pytest.raises(ValueError):
        compute.evaluate("__import__('os')", [])
    assert compute.evaluate("(o1 + o2) / 2", [3.0, 5.0]) == 4.0


def test_outflows_are_amounts_only_in_the_cash_flow_statement():
    ans = ask("What was Acme's free cash flow in fiscal 2024?")
    ops = {o["item"]: o for o in ans.computation["operands"]}
    assert ops["capital expenditures"]["text"] == "(120)" and ops["capital expenditures"]["value"] == 120e6


def test_a_definition_in_its_own_sentence_with_periods_changes_and_metrics_inside():
    """"X is defined as: 365 * (average A between FY2023 and FY2024) / (FY2024 B + change in C
    between FY2023 and FY2024)": the periods inside are the plan's business, "change in C" is C
    less C a year before, and a metric named inside is its formula."""
    ans = ask("What is Acme's FY2024 days payable outstanding? DPO is defined as: 365 * (average accounts payable "
              "between FY2023 and FY2024) / (FY2024 COGS + change in inventory between FY2023 and FY2024). Round "
              "your answer to two decimal places.")
    assert ans.computation["shown"] == "32.38 days"  # 365 * 55 / (600 + 20)
    assert "change in inventory (110 - 90)" in ans.text
    ccc = ask("What is Acme's FY2024 cash conversion cycle? CCC is defined as: DIO + DSO - DPO.")
    assert ccc.computation["shown"] == "63.27 days"


@pytest.mark.parametrize("question,verdict,shown", [
    ("Does Acme have positive working capital as of FY2024? Give the working capital figure in USD millions.", "Yes",
     "$150 million"),
    ("Did Acme have negative shareholders' equity at the end of fiscal 2024?", "No", "$400 million"),
    ("Did Acme's total debt increase in fiscal 2024?", "No", "-$20 million"),  # 300 after 320
    ("Did Acme's net income grow in fiscal 2024?", "Yes", "$65 million"),  # 180 after 115
])
def test_yes_no_questions_on_a_figure(question, verdict, shown):
    """A yes/no question on the sign of a figure or the direction of its change: the verdict
    first, then the figures, cited."""
    ans = ask(question)
    assert ans.text.startswith(f"{verdict}:"), ans.text
    assert ans.computation["shown"] == shown and ans.computation["checked"]
    assert check_grounding(ans.text, ans.citations, ans.computation)[1] == []


def test_a_yes_no_question_is_not_taken_for_the_metric_it_mentions():
    """"Is a debt-to-equity ratio meaningful?" asks no debt-to-equity ratio."""
    assert compute.plan(analyze("Is a conventional debt-to-equity ratio meaningful for Acme?", _Idf())) is None


def test_the_figure_an_instruction_asks_to_support_a_verdict():
    ans = ask("Is Acme a capital-intensive business based on FY2024 data? Support your answer with capital "
              "expenditure (purchases of property, plant and equipment) as a percentage of total revenues.")
    assert ans.computation["shown"] == "12.00%"


def test_the_llm_answerer_gives_the_checked_computation_without_asking_the_model(scripted_llm):
    """A model never does the arithmetic: the computed answer, cited and checked, is the answer;
    a question that asks no computation still goes to the model."""
    from rag.generate import LLMAnswerer

    llm = LLMAnswerer(base_url=scripted_llm.url, model="scripted", timeout=5)
    q = "What was Acme's FY2024 current ratio, defined as total current assets divided by total current " \
        "liabilities? Round to two decimal places."
    ans = llm.answer(analyze(q, _Idf()), _hits())
    assert ans.computation["shown"] == "1.75" and ans.computation["checked"] and not scripted_llm.prompts
    streamed = list(llm.stream(analyze(q, _Idf()), _hits()))
    assert streamed == [ans] and not scripted_llm.prompts
    llm.answer(analyze("Who is Acme's chief executive?", _Idf()), _hits())
    assert len(scripted_llm.prompts) == 1


def test_a_statement_the_definition_names_is_required():
    """"Accounts payable (cash flow statement)" is not the balance sheet's row, whatever it scores."""
    ans = ask("What was Acme's FY2024 ratio, defined as accounts payable (from the cash flow statement) divided by "
              "cost of sales? Round to two decimal places.")
    assert ans.abstained and "accounts payable" in ans.text


def test_a_long_label_whose_figures_stand_in_columns_is_a_row():
    from rag.facts import Line, Word, _is_row

    words = "Trade receivables, net of allowances for doubtful accounts of $23 and of $16, respectively".split()
    x, line = 60.0, []
    for w in words:
        line.append(Word(w, 0, 0, x, x + 5 * len(w)))
        x += 5 * len(w) + 3
    row = Line(0, 0, line + [Word("2,065", 0, 0, x + 80, x + 100), Word("1,878", 0, 0, x + 150, x + 170)])
    sentence = Line(0, 0, line + [Word("2,065", 0, 0, x + 2, x + 22), Word("1,878", 0, 0, x + 25, x + 45)])
    assert _is_row(row) and not _is_row(sentence)


# --- rankings (rag/compare.py) ------------------------------------------------------------------------

SEGMENTS = """ACME CORP ANNUAL REPORT
Segment information
The following table presents subscription revenue by reportable segment:
(In millions) 2024 2023
Widgets 500 400
Gadgets 300 280
Services 200 100
Total subscription revenue 1,000 780
The following table presents revenue by reportable segment:
(In millions) 2024 2023
Widgets 520 410
Gadgets 330 300
Services 150 90
Total revenue 1,000 800
"""


def test_which_segment_grew_fastest_ranks_the_table_that_breaks_revenue_down():
    """The members are the rows of the table whose total is the measure asked ("Total revenue",
    not "Total subscription revenue"); each cited, the arithmetic checked."""
    from rag import compare

    hits = _hits(SEGMENTS)
    ans = compare.answer(analyze("Which of Acme's three reportable segments grew revenue fastest in fiscal 2024?",
                                 _Idf()), hits)
    assert ans.text.startswith("Services grew fastest in FY2024: 66.67%.")  # (150 - 90) / 90
    assert "Widgets: 26.83% (520 against 410)" in ans.text and "Gadgets: 10.00%" in ans.text
    assert ans.computation["checked"] and ans.computation["mode"] == "rank"
    assert check_grounding(ans.text, ans.citations, ans.computation)[1] == []
    largest = compare.answer(analyze("Which of Acme's segments had the largest revenue in fiscal 2024?", _Idf()), hits)
    assert largest.text.startswith("Widgets was largest in FY2024: $520 million.")
    slowest = compare.answer(analyze("Which segment of Acme grew revenue slowest in fiscal 2024?", _Idf()), hits)
    assert slowest.text.startswith("Gadgets grew slowest")
    # "two segments" counted: no table of three is taken for them; words between count and noun too
    assert compare.ranking(analyze("Which of Acme's three reportable operating segments grew revenue fastest in "
                                   "fiscal 2024?", _Idf())).count == 3
    assert compare.answer(analyze("Which of Acme's two segments grew revenue fastest in fiscal 2024?", _Idf()),
                          hits) is None


def test_a_segment_that_grew_fastest_with_no_measure_named_grew_its_revenue():
    from rag import compare

    ans = compare.answer(analyze("Which of Acme's reportable segments grew fastest in fiscal 2024?", _Idf()),
                         _hits(SEGMENTS))
    assert ans is not None and ans.text.startswith("Services grew fastest in FY2024: 66.67%.")
    assert compare.ranking(analyze("Which of Acme's segments was largest in fiscal 2024?", _Idf())) is None


def test_a_rate_row_between_the_members_is_no_member():
    """"Percentage of total revenue 52 %" under each segment's row: the three segments are ranked,
    the rate rows are not counted as members."""
    from rag import compare

    text = ("ACME CORP ANNUAL REPORT\nRevenue by reportable segment (in millions):\n2024 2023\nWidgets 520 410\n"
            "Percentage of total revenue 52 % 51 %\nGadgets 330 300\nPercentage of total revenue 33 % 38 %\n"
            "Services 150 90\nPercentage of total revenue 15 % 11 %\nTotal revenue 1,000 800\n")
    ans = compare.answer(analyze("Which of Acme's three reportable segments grew revenue fastest in fiscal 2024?",
                                 _Idf()), _hits(text))
    assert ans is not None and ans.text.startswith("Services grew fastest in FY2024: 66.67%."), ans


def test_segments_printed_as_columns_are_ranked(tmp_path):
    """A segment note with its segments as columns and its years as rows (an HTML filing's) ranks
    like one with a row per segment: the segment with a dash in every year is none, the total none."""
    from rag import compare
    from rag.indexer import read_document

    path = tmp_path / "ACME_2022_10K.htm"
    path.write_text((Path(__file__).parent / "fixtures" / "html" / "segment-note.htm").read_text())
    page = read_document(path)[1][0]
    chunk = Chunk(id="c1", text=page.text, source=str(path), title="Acme 10-K", page=None, section=None, segment=None,
                  speaker=None, analyst=None, start=0, end=len(page.text), doc_hash="h", index=0)
    hits = [Hit(chunk, 1.0, 1, 1, 0.9, rows=tuple(read_rows(page.text, page.layout, source=str(path),
                                                            indents=page.indents)))]
    ans = compare.answer(analyze("Which of Acme's segments grew net sales fastest in fiscal 2022?", _Idf()), hits)
    assert ans.text.startswith("Household grew fastest in FY2022: 0.15%.")  # (1,984 - 1,981) / 1,981
    assert "Health and Wellness: -9.73% (2,690 against 2,980)" in ans.text and "Corporate" not in ans.text
    assert check_grounding(ans.text, ans.citations, ans.computation)[1] == []


def test_a_segments_metric_is_computed_from_its_column_of_a_segment_table(tmp_path):
    """A segment note printing its segments as columns: "the Household segment's pre-tax margin" is
    computed from Household's rows of the measures ("Net sales" > "Household"), not the total's."""
    from rag.indexer import read_document

    path = tmp_path / "ACME_2022_10K.htm"
    path.write_text((Path(__file__).parent / "fixtures" / "html" / "segment-note.htm").read_text())
    page = read_document(path)[1][0]
    hits = _hits(page.text, str(path))
    hits = [dataclasses.replace(hits[0], rows=tuple(read_rows(page.text, page.layout, source=str(path),
                                                              indents=page.indents)))]
    ans = ask("What was the Household segment's pre-tax margin (earnings before income taxes / net sales) in "
              "fiscal 2022?", hits)
    assert ans.text.split(": ", 1)[1].startswith("11.79%"), ans.text  # 234 / 1,984
    assert [o["text"] for o in ans.computation["operands"]] == ["234", "1,984"]
    assert check_grounding(ans.text, ans.citations, ans.computation)[1] == []


@pytest.mark.parametrize("question, shown", [
    ("What share of Acme's fiscal 2024 revenue came from Widgets?", "52.00%"),
    ("What percentage of Acme's revenue in fiscal 2024 came from the Services segment?", "15.00%"),
    ("What share of Acme's revenue came from the gadgets business in fiscal 2024?", "33.00%"),
])
def test_a_members_share_of_the_whole_is_its_row_over_the_total(question, shown):
    """"What share of revenue came from X": X's row of the table breaking revenue down, over the
    total; a segment named is the numerator's, the whole stays the consolidated figure."""
    text = ("ACME CORP ANNUAL REPORT\nThe following table presents revenue by reportable segment:\n"
            "(In millions) 2024 2023\nWidgets 520 410\nGadgets 330 300\nServices 150 90\nTotal revenue 1,000 800\n")
    ans = ask(question, _hits(text))
    assert ans.text.split(": ", 1)[1].startswith(shown), ans.text
    assert ans.computation["operands"][1]["text"] == "1,000"
    assert check_grounding(ans.text, ans.citations, ans.computation)[1] == []
    assert ask("What share of Acme's revenue came from Europe in fiscal 2024?", _hits(text)).abstained


def test_a_table_of_one_segments_measures_is_not_ranked():
    """Rows that are themselves measures (a segment's "Net sales", "Operating income") are no members."""
    from rag import compare

    text = "ACME SEGMENT RESULTS\n(In millions) 2024 2023\nNet sales 900 800\nOperating income 90 70\n"
    q = analyze("Which of Acme's segments had the highest net sales growth in fiscal 2024?", _Idf())
    assert compare.answer(q, _hits(text)) is None
    assert compute.plan(q) is None  # a ranking, not one figure


DEPARTMENTS = """Net sales by merchandising department follow:
Fiscal Fiscal
2019 2018
Appliances $ 9,852 $ 9,027
Flooring 7,443 7,494
Lumber 7,894 8,393
Total $ 25,189 $ 24,914
Note: some departments were renamed.
"""


def test_a_breakdown_named_by_its_caption_ranks_departments():
    """"Net sales by merchandising department": the caption names the measure before "by"; its
    rows are the members, whatever the question calls them ("departments"), over a "Fiscal" line
    that is no caption. A company asked by two words ("Home Depot") names its file (HOMEDEPOT_...)."""
    from rag import compare

    q = analyze("Which of Home Depot's merchandising departments grew net sales the fastest in fiscal 2019?", _Idf())
    ans = compare.answer(q, _hits(DEPARTMENTS, source="/docs/HOMEDEPOT_FY2019_10K.htm"))
    assert ans is not None and ans.text.startswith("Appliances grew fastest in FY2019: 9.14%."), ans
    assert "Lumber: -5.95%" in ans.text and ans.computation["checked"]


def test_a_ranking_of_many_members_lists_the_first_few():
    """Fourteen departments would bury the answer: the first five are listed, the rest said to be
    lower; the computation keeps every member, each cited."""
    from rag import compare

    rows = "".join(f"Dept {chr(65 + k)} {100 + k} 100\n" for k in range(8))
    text = f"Net sales by department follow:\n2019 2018\n{rows}Total 828 800\nNote: none.\n"
    ans = compare.answer(analyze("Which of Acme's departments grew net sales the fastest in fiscal 2019?", _Idf()),
                         _hits(text))
    assert ans.text.startswith("Dept H grew fastest in FY2019: 7.00%.")
    assert ans.text.count("\n") == 6 and ans.text.endswith("... and the others, each lower.")
    assert len(ans.computation["operands"]) == 16 and check_grounding(ans.text, ans.citations, ans.computation)[1] == []


SEGMENT_RESULTS = """Segment results
(In millions) 2004 2003
Revenue:
Client 11,241 10,287
Games 2,870 2,779
Devices 239 153
Consolidated 14,350 13,219
Operating income/(loss):
Client 9,005 8,362
Games (894) (938)
Devices (102) (162)
Reconciling amounts (9,432) (6,473)
Consolidated (1,423) 789
Operating income reconciling amounts:
Legal settlements (2,778) (1,079)
Stock-based compensation (4,773) (3,749)
Total (7,551) (4,828)
"""


def test_the_biggest_loss_is_the_lowest_income_among_the_segments_alone():
    """"The biggest operating loss": the lowest operating income, among the segments under that
    heading (not the revenue rows above, not the reconciling amounts or the consolidated total)."""
    from rag import compare

    hits = _hits(SEGMENT_RESULTS)
    ans = compare.answer(analyze("Which Acme segment posted the biggest operating loss in fiscal 2004?", _Idf()), hits)
    assert ans is not None and ans.text.startswith("Games had the largest loss in FY2004: -$894 million."), ans
    assert "Reconciling" not in ans.text and "Legal" not in ans.text and "11,241" not in ans.text
    top = compare.answer(analyze("Which Acme segment had the largest operating income in fiscal 2004?", _Idf()), hits)
    assert top.text.startswith("Client was largest in FY2004: $9,005 million.")


def test_the_extractive_answerer_ranks_and_can_be_switched_off():
    q = analyze("Which of Acme's three reportable segments grew revenue fastest in fiscal 2024?", _Idf())
    text = SEGMENTS
    assert ExtractiveAnswerer().answer(q, _hits(text)).computation["mode"] == "rank"
    assert ExtractiveAnswerer(off={"ranked_members"}).answer(q, _hits(text)).computation is None


def test_a_line_item_alone_is_not_computed_as_its_own_growth():
    """A growth question whose second period is not found computes nothing: the item's figure
    is not a growth rate."""
    q = analyze("Did Acme's operating expenses grow faster than revenue in fiscal 2024? Round to two decimals.", _Idf())
    p = compute.plan(q)
    assert p is None or p.mode != "level" or p.verdict


# --- read as others write it: found by the cause each handles, on statements of their own ----------

QUARTER = """ACME CORP QUARTERLY REPORT
CONSOLIDATED STATEMENTS OF OPERATIONS
Three Months Ended
(In millions) June 30, 2024 June 30, 2023
Total revenue 1,000 800
Operating income 150 144
Net sales by category:
Widgets 400 500
Gadgets 600 300
"""


def test_a_label_in_the_singular_is_the_plural_line_item():
    """"Total revenue" is a name of net revenues ("total revenues"): a formula's denominator is found."""
    ans = ask("What was Acme's R&D intensity in fiscal 2024? Round to two decimal places.",
              _hits(STATEMENTS.replace("Total revenues", "Total revenue")))
    assert ans.computation["shown"] == "10.00%"


def test_percentage_points_asked_with_any_verb_is_a_difference():
    ans = ask("Compute Acme's operating margin for Q2 2024 and Q2 2023. By how many percentage points did it move "
              "year over year? Two decimals.", _hits(QUARTER))
    c = ans.computation
    assert c["mode"] == "change" and c["shown"] == "-3.00 percentage points"  # 15.00% - 18.00%


def test_growth_of_a_member_of_a_breakdown_named_before_its_measure():
    """"Widgets net sales" compared with a year earlier: the row "Widgets" under the heading "Net sales
    by category", not total revenue; the growth asked in an instruction."""
    ans = ask("How did Acme's Widgets net sales in the quarter ended June 30, 2024 compare with the same quarter a "
              "year earlier? Give the year-over-year change as a percentage, two decimals.", _hits(QUARTER))
    c = ans.computation
    assert c["mode"] == "growth" and c["shown"] == "-20.00%"  # (400 - 500) / 500
    assert "the quarter ended June 30, 2024 over the quarter ended June 30, 2023" in ans.text


def test_an_average_is_of_balances_not_of_the_cash_flow_change():
    text = STATEMENTS + "Changes in accounts receivable, net (20) (10) (5)\n"
    ans = ask("What was Acme's receivables turnover in fiscal 2024, i.e. total revenues divided by the average of "
              "accounts receivable, net at December 31, 2024 and 2023? Round to two decimals.", _hits(text))
    assert ans.computation["shown"] == "12.50"  # 1,000 / ((90 + 70) / 2), not the cash flow statement's change


def test_member_phrase_needs_an_entity_before_the_item():
    assert compute._with_member("How did Widgets net sales compare", "net sales", [frozenset({"widget"})]) == \
        "Widgets net sales"
    assert compute._with_member("What was GAAP net income growth", "net income", []) == "net income"
    assert compute._with_member("Net sales growth", "net sales", [frozenset({"net"})]) == "net sales"


def test_an_expense_printed_as_a_deduction_every_year_is_an_amount():
    """"Provision for income taxes (45) (29) (23)": the effective tax rate is 20.00%, not negative; a
    row with a benefit one year keeps its signs."""
    text = STATEMENTS.replace("Provision for income taxes 45 29 23", "Provision for income taxes (45) (29) (23)")
    ans = ask("What was Acme's effective tax rate in fiscal 2024? Round to two decimal places.", _hits(text))
    assert ans.computation["shown"] == "20.00%" and ans.computation["checked"]
    mixed = STATEMENTS.replace("Provision for income taxes 45 29 23", "Provision for income taxes (45) 29 23")
    ans = ask("What was Acme's effective tax rate in fiscal 2024? Round to two decimal places.", _hits(mixed))
    assert ans.computation["shown"] == "-20.00%"


def test_a_margin_named_inside_a_division_is_the_amount_it_is_a_share_of():
    """"gross margin divided by total revenues": the row "Gross margin" (a company's name for gross
    profit), not the gross margin percentage divided again."""
    text = STATEMENTS.replace("Gross profit 400 300 250", "Gross margin 400 300 250")
    ans = ask("What was Acme's gross margin percentage (gross margin divided by total revenues) in fiscal 2024? "
              "Round to two decimal places.", _hits(text))
    assert ans.computation["shown"] == "40.00%" and ans.computation["operands"][0]["label"] == "Gross margin"


def test_two_items_compared_are_not_computed_as_one():
    """"Did operating expenses grow faster than revenues?": two growth rates compared, which no plan
    of one figure answers (the answer abstains rather than give one of them)."""
    assert ask("In fiscal 2024, did Acme's cost of sales grow faster than its total revenues, compared with fiscal "
               "2023? Give both growth rates, rounded to two decimal places.") is None
    assert ask("Did Acme's total revenues grow faster than the prior year in fiscal 2024? Round to two decimal "
               "places.") is not None  # "than the prior year" is the same figure a year before


def test_a_row_named_gross_margin_in_dollars_is_gross_profit():
    """Apple labels gross profit "Total gross margin": the ratio asked is computed from that row."""
    text = STATEMENTS.replace("Gross profit 400 300 250", "Total gross margin 400 300 250")
    ans = ask("Did Acme's gross margin improve in fiscal 2024 versus fiscal 2023?", _hits(text))
    assert ans.computation["operands"][0]["label"] == "Total gross margin" and ans.text.startswith("Yes: gross margin rose")


def test_a_verdict_on_a_metrics_change_is_computed_before_a_sentence_about_a_margin():
    text = STATEMENTS.replace("ACME CORP ANNUAL REPORT\n", "ACME CORP ANNUAL REPORT\nServices gross margin increased "
                              "in 2024 on a better mix.\n")
    q = "Did Acme's gross margin improve in fiscal 2024 versus fiscal 2023? Quote both years' percentages."
    ans = ExtractiveAnswerer().answer(analyze(q, _Idf()), _hits(text))
    assert ans.computation is not None and "37.50%" in ans.text and "40.00%" in ans.text
    off = ExtractiveAnswerer(off={"computed_metric"}).answer(analyze(q, _Idf()), _hits(text))
    assert off.computation is None


def test_a_ranking_no_table_answers_is_answered_only_by_a_passage_that_ranks():
    text = "ACME CORP ANNUAL REPORT\nAcme modified its segment reporting in 2024 to align with its reorganization.\n"
    q = "Looking at Acme's segment results, which segment posted the fastest revenue growth in fiscal 2024?"
    assert ExtractiveAnswerer().answer(analyze(q, _Idf()), _hits(text)).abstained
    ranked = text + "Widgets was our fastest-growing segment in 2024, up 31%.\n"
    assert "Widgets" in ExtractiveAnswerer().answer(analyze(q, _Idf()), _hits(ranked)).text


def test_a_quarter_is_not_computed_from_a_years_column():
    # a 10-K's "Fiscal 2024" column (its span unnamed) is the year's: Q4's margin is not its margin
    text = "ACME CORP\nCONSOLIDATED STATEMENTS OF EARNINGS\n(In millions) Fiscal 2024 Fiscal 2023\n" \
           "Net sales 1,000 800\nGross profit 400 300\n"
    ans = ask("Acme gross margin in Q4 of fiscal 2024, in percent?", _hits(text))
    assert ans is None or ans.abstained
    assert ask("What was Acme's gross margin in fiscal 2024? Round to two decimals.", _hits(text)).computation[
        "shown"] == "40.00%"


def test_a_definition_set_off_by_taking():
    ans = ask("Free cash flow for Acme in fiscal 2024, taking total revenues minus cost of sales?")
    assert ans.computation["formula"] == "total revenues - cost of sales" and ans.computation["shown"] == "$400 million"


@pytest.mark.parametrize("company, file_name", [("Coca-Cola", "COCACOLA_2022_10K.txt"),
                                                ("Home Depot", "HOMEDEPOT_FY2019_10K.txt")])
def test_a_company_a_file_name_writes_as_one_word_names_its_statements(company, file_name):
    """Operands come from the documents that name the company asked: a file name that writes its
    words as one ("Coca-Cola", "Home Depot") names it, as it does for the answerer; another
    company's statements do not."""
    text = "Net revenues 100 90\nCost of revenues 60 55"
    hits = _hits(text, f"/docs/{file_name}") + _hits(text, "/docs/WIDGETCO_2022_10K.txt")
    hits = [dataclasses.replace(h, chunk=dataclasses.replace(h.chunk, id=h.chunk.source, title="Annual report"))
            for h in hits]
    query = analyze(f"What was {company}'s gross margin in 2022?", _Idf())
    assert compute._naming_sources(query, hits) == {f"/docs/{file_name}"}


def test_a_defined_figure_as_a_percentage_of_another_is_their_share():
    """"free cash flow as a percentage of total revenues ... Use operating cash flow minus capital
    expenditures": the definition is the numerator's; an amount is never shown as a percentage."""
    ans = ask("What was Acme's free cash flow as a percentage of total revenues in FY2024? Use net cash provided by "
              "operating activities minus capital expenditures.")
    assert ans.computation["formula"].endswith("/ total revenues"), ans.computation["formula"]
    assert ans.computation["shown"] == "18.00%"  # (300 - 120) / 1,000
    assert compute.plan(analyze("What was Acme's free cash flow in FY2024, in percent?", _Idf())) is None


def test_the_sign_of_a_computed_metric_is_computed_before_any_sentence_is_quoted():
    """"Did Acme have positive working capital?": the answerer computes it from the statements,
    rather than quote a passage holding the question's words (an equity statement's header)."""
    text = STATEMENTS + "\nCommon Stock Additional Paid-in Capital Treasury Stock Total Stockholders' Equity at June 30, " \
                        "2024 Amount Shares Working Capital Accounts\n"
    ans = ExtractiveAnswerer().answer(analyze("Did Acme have positive working capital at December 31, 2024?", _Idf()),
                                      _hits(text))
    assert ans.text.startswith("Yes:"), ans.text
    assert ans.computation["shown"] == "$150 million"


@pytest.mark.parametrize("question, segment", [
    ("By how many percentage points did the International segment's pre-tax margin change?", "International"),
    ("What was the operating income of Amazon's AWS segment in Q2 FY2023?", "AWS"),
    ("What was Adobe's Digital Media reportable segment operating margin?", "Digital Media"),
    ("Which segment grew fastest?", None),
    ("Which of Acme's four reportable segments grew the fastest?", None),
])
def test_the_segment_a_question_names(question, segment):
    assert compute.segment_asked(question) == segment


def test_a_segments_metric_is_not_computed_from_the_consolidated_rows():
    """"The Gadgets segment's gross margin": the consolidated statements are not the segment's;
    the answer says so rather than show the company's margin."""
    ans = ask("What was the gross margin of Acme's Gadgets segment in FY2024?")
    assert ans.abstained and "Gadgets segment" in ans.text and ans.computation is None
    assert ask("What was Acme's gross margin in FY2024?").computation["shown"] == "40.00%"


def test_an_average_of_beginning_and_ending_balances_is_the_items_average():
    """"the average of beginning and ending inventories": the average of the line item's two
    balances, not a line item named "beginning and ending inventories"."""
    ans = ask("Inventory turnover for Acme in FY2024, defined as cost of sales divided by the average of beginning and "
              "ending inventories (balance sheet)?")
    assert ans.computation["shown"] == "6.00"  # 600 / ((110 + 90) / 2)


def test_the_companys_own_net_income_is_its_share_not_the_consolidated_one():
    """A statement with "Net income", "... attributable to noncontrolling interests" and "...
    attributable to Acme": a return on equity rests on Acme's share, not on the consolidated
    figure that holds the noncontrolling interests' too."""
    text = STATEMENTS.replace("Net income 180 115 92\n", "Net income 180 115 92\nLess: Net income attributable to "
                              "noncontrolling interests 10 5 2\nNet income attributable to Acme 170 110 90\n", 1)
    ans = ask("What was Acme's return on equity in FY2024? Round to two decimal places.", _hits(text))
    assert ans.computation["shown"] == "47.22%", ans.text  # 170 / ((400 + 320) / 2)
