"""Question framing: preambles, answer instructions, units, rounding, periods, definitions and the
company read out of a question; the question itself left over. Synthetic questions, many phrasings."""

from __future__ import annotations

import dataclasses
import datetime
import random
import time

import pytest

from rag.framing import Framing, Period, frame

# --- questions with no framing come back as typed --------------------------------------------------


@pytest.mark.parametrize("q", [
    "How much did cloud revenue grow?",
    "What was total revenue?",
    "Why did free cash flow fall?",
    "Who is the CFO?",
    "What markets does the company serve?",
    "How many employees does the group have?",
    "What was the total cost of the buyback program?",
    "What were the net proceeds from the notes issued?",  # "notes" here are debt, not a document
    "How did the company describe its outlook, and what risks did it flag?",
    "How did sales fare in Japan, where the yen is weak?",  # "where" that defines nothing
    "What did analysts ask about pricing and margins?",
])
def test_plain_question_is_unchanged(q):
    f = frame(q)
    assert f.question == q
    assert f.instructions == ()
    assert (f.statement, f.unit, f.currency, f.decimals, f.period, f.definition, f.company) == (None,) * 7


# --- what is removed, and what is left ---------------------------------------------------------------


@pytest.mark.parametrize("q, question, instructions", [
    # a role preamble and an imperative sentence before the question, rounding after it
    ("Assume that you are a sell-side analyst. Answer the following question by primarily using information shown "
     "in the balance sheet. What was Widgetco's current ratio at the end of FY2021? Round your answer to one decimal place.",
     "What was Widgetco's current ratio at the end of FY2021?",
     ("Assume that you are a sell-side analyst.",
      "Answer the following question by primarily using information shown in the balance sheet.",
      "Round your answer to one decimal place.")),
    # "You are ..." as its own sentence; unit clause inside the question; instruction after it
    ("You are a buy-side analyst covering retailers. What were Gadgetly's net sales in FY23, in $ millions? "
     "Use the income statement.",
     "What were Gadgetly's net sales in FY23?",
     ("You are a buy-side analyst covering retailers.", "in $ millions", "Use the income statement.")),
    # a leading role clause
    ("As a financial analyst, what was Widgetco's free cash flow in fiscal 2021?",
     "What was Widgetco's free cash flow in fiscal 2021?", ("As a financial analyst",)),
    ("Acting as an equity research associate, explain why Orbis's margins fell in FY2022.",
     "Explain why Orbis's margins fell in FY2022.", ("Acting as an equity research associate",)),
    # a leading source clause
    ("Using the statement of stockholders' equity, how much stock did Widgetco repurchase in FY2022?",
     "How much stock did Widgetco repurchase in FY2022?", ("Using the statement of stockholders' equity",)),
    ("Based on the cash flow statement, what did Widgetco spend on capital expenditures in fiscal 2022?",
     "What did Widgetco spend on capital expenditures in fiscal 2022?", ("Based on the cash flow statement",)),
    # an instruction before a colon
    ("Answer in USD millions: what was Widgetco's net income in FY2021?",
     "What was Widgetco's net income in FY2021?", ("Answer in USD millions",)),
    # a trailing source clause
    ("What was revenue for the Cloud segment in FY2022 according to the 10-K?",
     "What was revenue for the Cloud segment in FY2022?", ("according to the 10-K",)),
    ("What was Lumora's inventory at year-end 2022, using the balance sheet?",
     "What was Lumora's inventory at year-end 2022?", ("using the balance sheet",)),
    # parenthesised unit and rounding
    ("What was Widgetco's operating income (in USD millions) in Q3'23?",
     "What was Widgetco's operating income in Q3'23?", ("(in USD millions)",)),
    ("What was Widgetco's cash balance (round to the nearest million) at June 30, 2023?",
     "What was Widgetco's cash balance at June 30, 2023?", ("(round to the nearest million)",)),
    # a unit in a parenthesis that names the measure: only the unit goes
    ("What is the FY2021 capex figure (purchases of property and equipment, in USD millions) for Widgetco?",
     "What is the FY2021 capex figure (purchases of property and equipment) for Widgetco?", ("in USD millions",)),
    # a unit mid-sentence that names a currency and a scale
    ("What was Orbis's revenue in RMB billions for the nine months ended September 30, 2023?",
     "What was Orbis's revenue for the nine months ended September 30, 2023?", ("in RMB billions",)),
    # "as a percentage of" is the measure, not a unit clause
    ("What was Widgetco's R&D expense as a percentage of revenue in 1Q24?",
     "What was Widgetco's R&D expense as a percentage of revenue in 1Q24?", ()),
    ("What was Widgetco's revenue growth from FY2020 to FY2021, expressed as a percentage?",
     "What was Widgetco's revenue growth from FY2020 to FY2021?", ("expressed as a percentage",)),
    # a definition set off as a clause goes; a parenthesised one stays
    ("What was Widgetco's gross margin for the fiscal year ended June 30, 2023, defined as gross profit divided by "
     "revenue, rounded to one decimal place?",
     "What was Widgetco's gross margin for the fiscal year ended June 30, 2023?",
     ("defined as gross profit divided by revenue", "rounded to one decimal place")),
    ("What was Orbis's operating margin (operating income divided by net sales) in FY2020?",
     "What was Orbis's operating margin (operating income divided by net sales) in FY2020?", ()),
    # a parenthesis restating the period goes; the period said once stays
    ("What were Lumora's franchise revenues in Q2 FY2024 (quarter ended June 29, 2024), in USD millions?",
     "What were Lumora's franchise revenues in Q2 FY2024?", ("(quarter ended June 29, 2024)", "in USD millions")),
    ("What was Zentrix's net margin for the six months ended March 31, 2023 (H1 FY2023)?",
     "What was Zentrix's net margin for the six months ended March 31, 2023?", ("(H1 FY2023)",)),
    ("What was Widgetco's revenue (FY2022)?", "What was Widgetco's revenue (FY2022)?", ()),
    ("What was Widgetco's revenue in FY2022?", "What was Widgetco's revenue in FY2022?", ()),
    # instructions placed before the question
    ("Please answer in USD billions. What was Widgetco's market cap at year-end 2022?",
     "What was Widgetco's market cap at year-end 2022?", ("Please answer in USD billions.",)),
    ("Round to one decimal place. What was Acme Corp's gross margin in Q4 2022?",
     "What was Acme Corp's gross margin in Q4 2022?", ("Round to one decimal place.",)),
    ("I'm a portfolio manager at a hedge fund. What was Orbis's net debt at December 31, 2021?",
     "What was Orbis's net debt at December 31, 2021?", ("I'm a portfolio manager at a hedge fund.",)),
    ("Do not use non-GAAP figures. What was Widgetco's operating income in FY2022?",
     "What was Widgetco's operating income in FY2022?", ("Do not use non-GAAP figures.",)),
    ("What is Widgetco's FY2022 gross margin? Give the answer as a percentage rounded to two decimal places; use the "
     "income statement.", "What is Widgetco's FY2022 gross margin?",
     ("Give the answer as a percentage rounded to two decimal places; use the income statement.",)),
    ("What was Widgetco's inventory turnover in FY2022 - defined as COGS divided by average inventory?",
     "What was Widgetco's inventory turnover in FY2022?", ("defined as COGS divided by average inventory",)),
    # an instruction joined to the end of the question
    ("What was Widgetco's FY2022 gross margin, and express it as a percentage?",
     "What was Widgetco's FY2022 gross margin?", ("and express it as a percentage",)),
    ("What was Orbis's FY2021 revenue; answer in USD millions.", "What was Orbis's FY2021 revenue.",
     ("answer in USD millions",)),
    ("What was Widgetco's FY2022 revenue, and give the reason for the change?",  # asks for more: stays
     "What was Widgetco's FY2022 revenue, and give the reason for the change?", ()),
    # context sentences that are not instructions stay
    ("The company reported revenue of $5 billion in 2021. What was its operating margin?",
     "The company reported revenue of $5 billion in 2021. What was its operating margin?", ()),
    # a note on units is an instruction
    ("What was Widgetco's net income in FY2021? Note: all figures are in thousands of dollars.",
     "What was Widgetco's net income in FY2021?", ("Note: all figures are in thousands of dollars.",)),
])
def test_question_and_instructions(q, question, instructions):
    f = frame(q)
    assert f.question == question
    assert f.instructions == instructions


@pytest.mark.parametrize("q, question", [
    # "Calculate X." with no other question is the question
    ("Calculate the FY2021 operating margin for Widgetco.", "Calculate the FY2021 operating margin for Widgetco."),
    ("Compute Orbis's FY2020 free cash flow as operating cash flow minus capital expenditures.",
     "Compute Orbis's FY2020 free cash flow as operating cash flow minus capital expenditures."),
    ("Calculate Widgetco's days sales outstanding for FY2022. Round your answer to two decimal places.",
     "Calculate Widgetco's days sales outstanding for FY2022."),
    # every sentence instructs: the request is kept as the question
    ("Use the balance sheet. Report Widgetco's total liabilities at fiscal year-end 2022.",
     "Report Widgetco's total liabilities at fiscal year-end 2022."),
    ("Assume you are an analyst. Use the balance sheet.", "Use the balance sheet."),
])
def test_what_is_asked_when_no_sentence_has_a_question_mark(q, question):
    assert frame(q).question == question


def test_calculate_after_a_question_instructs():
    f = frame("What was Widgetco's FY2022 margin? Calculate it as operating income divided by revenue.")
    assert f.question == "What was Widgetco's FY2022 margin?"
    assert f.definition == "operating income divided by revenue"


# --- the statement named ---------------------------------------------------------------------------


@pytest.mark.parametrize("q, statement", [
    ("Use the income statement. What was Widgetco's revenue in 2021?", "income"),
    ("Answer from the consolidated statements of operations. What was Orbis's net loss in FY2020?", "income"),
    ("Referring to the statement of earnings, what was Lumora's net income in fiscal 2019?", "income"),
    ("What was the P&L impact of the restructuring in FY2022?", "income"),
    ("What did Widgetco report as inventory? Use the balance sheet.", "balance"),
    ("Using the consolidated statement of financial position, what were Zentrix's total assets in 2022?", "balance"),
    ("Address the question using the cash flow statement. What was Orbis's capex in 2020?", "cash_flow"),
    ("How much did Widgetco pay in dividends in FY2022? Answer using the statements of cash flows.", "cash_flow"),
    ("Using the statement of shareholders' equity, how much stock did Lumora buy back in 2021?", "equity"),
    ("Answer using the segment information table. What was Cloud revenue in FY2022?", "segment"),
    ("What was comprehensive income per the statement of comprehensive income for 2021?", "comprehensive"),
    ("WHAT WAS WIDGETCO'S FY2022 REVENUE? USE THE INCOME STATEMENT.", "income"),
    ("What were Widgetco's reportable segments in 2022?", None),  # a segment, not the segment note
])
def test_statement(q, statement):
    assert frame(q).statement == statement


# --- unit, currency, rounding ----------------------------------------------------------------------


@pytest.mark.parametrize("q, unit, currency, decimals", [
    ("What was Widgetco's FY2022 revenue, in USD millions?", "millions", "USD", None),
    ("What was Widgetco's FY2022 revenue (in $ millions)?", "millions", "USD", None),
    ("What was Widgetco's FY2022 revenue in millions of dollars?", "millions", "USD", None),
    ("What was Widgetco's revenue in FY2022? Give your answer in millions.", "millions", None, None),
    ("What was Orbis's revenue in RMB billions in 2023?", "billions", "RMB", None),
    ("What were Zentrix's total assets at the end of fiscal year 2021 (in thousands of euros)?", "thousands", "EUR", None),
    ("What was the dividend per share paid by Widgetco in FY2020, in dollars?", "per_share", "USD", None),
    ("What was Widgetco's diluted EPS for the second quarter of fiscal 2024?", "per_share", None, None),
    ("What was Widgetco's gross margin in FY2022? Express it as a percentage and round your answer to two decimal "
     "places.", "percent", None, 2),
    ("By how many percentage points did Orbis's operating margin change in 2021?", "percent", None, None),
    ("What is the net debt to EBITDA ratio for Widgetco, to two decimals?", "ratio", None, 2),
    ("What was Widgetco's quick ratio as of May 31, 2022?", "ratio", None, None),
    ("How many days of inventory did Widgetco hold in FY2022, rounded to the nearest whole number?", "days", None, 0),
    ("What was Orbis's cash balance at June 30, 2023? Round to the nearest million.", "millions", None, None),
    ("What was Widgetco's EBITDA margin in fiscal 2022? Round to 1 decimal place.", None, None, 1),
    ("What was Lumora's effective tax rate in 2021, to the nearest tenth of a percent?", "percent", None, 1),
    ("What was the company's EBITDA margin in fiscal year 2022? Express your answer as a percentage to one decimal "
     "place.", "percent", None, 1),
    ("Please provide the answer rounded to 2 decimal places. What was Acme's interest coverage in 2020?", None, None, 2),
    ("What was Widgetco's operating income margin, rounded to the nearest percent?", "percent", None, 0),
    ("What was Orbis's EPS in Q4 FY23, in dollars per share?", "per_share", "USD", None),
    ("What was the revenue in FY2022 for Widgetco? Answer in USD billions, to one decimal place.", "billions", "USD", 1),
    ("What was Widgetco's revenue (USD millions) in fiscal 2022?", "millions", "USD", None),
    ("Using the statement of operations, what was Widgetco's revenue growth in FY2022?", None, None, None),
    ("How much did cloud revenue grow?", None, None, None),
])
def test_unit_currency_decimals(q, unit, currency, decimals):
    f = frame(q)
    assert (f.unit, f.currency, f.decimals) == (unit, currency, decimals)


# --- the period --------------------------------------------------------------------------------------

D = datetime.date


@pytest.mark.parametrize("q, year, quarter, months, end, instant", [
    ("What was Widgetco's revenue in FY2022?", 2022, None, 12, None, False),
    ("What was Widgetco's revenue in FY22?", 2022, None, 12, None, False),
    ("What was Widgetco's revenue in FY 2021?", 2021, None, 12, None, False),
    ("What was Widgetco's revenue in fiscal 2020?", 2020, None, 12, None, False),
    ("What was Widgetco's revenue in fiscal year 2019?", 2019, None, 12, None, False),
    ("What was Orbis's net income in Q3?", None, 3, 3, None, False),
    ("What was Orbis's net income in 3Q23?", 2023, 3, 3, None, False),
    ("What was Orbis's net income in Q1 FY2024?", 2024, 1, 3, None, False),
    ("What was Orbis's net income in Q2 2023?", 2023, 2, 3, None, False),
    ("What was Orbis's net income in the third quarter of fiscal 2023?", 2023, 3, 3, None, False),
    ("What were Orbis's first-quarter sales in 2022?", 2022, 1, 3, None, False),
    ("What were Lumora's sales for the third quarter of FY2023 (three months ended July 1, 2023)?",
     2023, 3, 3, D(2023, 7, 1), False),
    ("How much did Widgetco earn in FY2022 (52 weeks ended August 28, 2022)?", 2022, None, 12, D(2022, 8, 28), False),
    ("How much did Widgetco earn in FY2023 (53 weeks ended February 3, 2024)?", 2023, None, 12, D(2024, 2, 3), False),
    ("What was Zentrix's revenue for the twelve months ended December 31, 2022?", 2022, None, 12, D(2022, 12, 31), False),
    ("What was Zentrix's revenue for the nine months ended September 30, 2023?", 2023, None, 9, D(2023, 9, 30), False),
    ("What was Zentrix's revenue in the quarter ended June 30, 2023?", 2023, None, 3, D(2023, 6, 30), False),
    ("What was Zentrix's revenue in FY2023 (fiscal year ended January 31, 2023)?", 2023, None, 12, D(2023, 1, 31), False),
    ("What was Widgetco's backlog as of April 30, 2023?", 2023, None, None, D(2023, 4, 30), True),
    ("What was Widgetco's debt at the end of FY2022?", 2022, None, None, None, True),
    ("What was Widgetco's cash at May 31, 2022?", 2022, None, None, D(2022, 5, 31), True),
    ("As of May 31, 2022, what was Orbis's net debt?", 2022, None, None, D(2022, 5, 31), True),
    ("What was Widgetco's goodwill at fiscal 2021 year-end?", 2021, None, None, None, True),
    ("What was total debt as at 31 December 2022 for Lumen Holdings?", 2022, None, None, D(2022, 12, 31), True),
    ("What were Lumora's deferred revenues at the end of Q1 FY2024 (April 30, 2023)?", 2024, 1, None, D(2023, 4, 30), True),
    ("What was Widgetco's equity as of FY2022 (September 24, 2022)?", 2022, None, None, D(2022, 9, 24), True),
    ("What was the 3-year average margin from FY2018 to FY2020?", 2020, None, 12, None, False),
    ("How did headcount change between January 31, 2023 and April 30, 2023?", 2023, None, None, D(2023, 4, 30), False),
    ("What did the 2019 acquisition cost?", 2019, None, None, None, False),  # a year, not a fiscal-year marker
    ("What were capital expenditures at Widgetco in H1 2023, in millions?", 2023, None, 6, None, False),
    ("What was full-year 2022 revenue?", 2022, None, 12, None, False),
    ("What was Orbis's Q4 FY2023 revenue (fiscal quarter ended September 30, 2023)?", 2023, 4, 3, D(2023, 9, 30), False),
    # the period of the question wins over one in an instruction; an instruction's is used when the question has none
    ("What was Widgetco's FY2021 revenue? Compare it with fiscal 2019.", 2021, None, 12, None, False),
    ("What was Widgetco's revenue? Use the FY2020 10-K.", 2020, None, 12, None, False),
])
def test_period(q, year, quarter, months, end, instant):
    p = frame(q).period
    assert p is not None
    assert (p.year, p.quarter, p.months, p.end, p.instant) == (year, quarter, months, end, instant)


@pytest.mark.parametrize("q, text", [
    ("What were Lumora's sales for the third quarter of FY2023 (three months ended July 1, 2023)?",
     "third quarter of FY2023 (three months ended July 1, 2023)"),
    ("What was Widgetco's backlog as of April 30, 2023?", "as of April 30, 2023"),
    ("What was Widgetco's debt at the end of FY2022?", "at the end of FY2022"),
    ("What was the 3-year average margin from FY2018 to FY2020?", "from FY2018 to FY2020"),
])
def test_period_text_is_as_typed(q, text):
    assert frame(q).period.text == text


@pytest.mark.parametrize("q", [
    "How much did cloud revenue grow?",
    "What was revenue of $2,019 million?",  # an amount, not a year
    "How many 10-Q filings mention tariffs?",
])
def test_no_period(q):
    assert frame(q).period is None


# --- definitions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("q, definition", [
    ("What was Widgetco's FY2022 gross margin, defined as gross profit divided by total revenue?",
     "gross profit divided by total revenue"),
    ("What was Orbis's effective tax rate in 2021, calculated as income tax expense divided by pretax income? "
     "Round to two decimals.", "income tax expense divided by pretax income"),
    ("What was Lumora's net margin in Q1, computed as net income divided by revenue, in percent?",
     "net income divided by revenue"),
    ("What is the return on equity for Widgetco in FY2022, where return on equity is net income divided by average "
     "equity?", "return on equity is net income divided by average equity"),
    ("What is Orbis's average margin over FY2019 to FY2021, i.e. the mean of operating income divided by revenue?",
     "the mean of operating income divided by revenue"),
    ("What was Widgetco's debt-to-equity ratio at year-end 2022? Define total debt as short-term plus long-term debt.",
     "total debt as short-term plus long-term debt"),
    ("What was Widgetco's current ratio (current assets divided by current liabilities) at June 30, 2022?",
     "current assets divided by current liabilities"),
    ("Calculate Lumora's DSO for FY2021 using receivables divided by revenue, multiplied by 365 days.",
     "receivables divided by revenue, multiplied by 365 days"),
    ("What was Widgetco's inventory turnover in FY2022 - defined as COGS divided by average inventory?",
     "COGS divided by average inventory"),
    ("What was Widgetco's free cash flow in FY2022 (operating cash flow less capital expenditures), in USD millions?",
     "operating cash flow less capital expenditures"),
    # the arithmetic after a colon that names the measure, up to the parenthesis that says its periods
    ("Return on equity FY22 for Widgetco: net earnings attributable to Widgetco / average total equity (June 2021 "
     "and June 2022). In %, 2 dp.", "net earnings attributable to Widgetco / average total equity"),
    ("Question: what was Widgetco's revenue in FY2022?", None),
    ("What was Widgetco's revenue in FY2022?", None),
    # "A over B" is a division; "over the prior year", "year-over-year" are not
    ("What was Widgetco's payout ratio in FY2022, using cash dividends paid over net earnings? In %.",
     "cash dividends paid over net earnings"),
    ("How much did Widgetco's revenue grow in FY2022, using the growth over the prior year?", None),
    ("What was Widgetco's year-over-year revenue growth in FY2022, using the income statement?", None),
])
def test_definition(q, definition):
    assert frame(q).definition == definition


# --- the company -------------------------------------------------------------------------------------


@pytest.mark.parametrize("q, company", [
    ("What is the FY2022 capital expenditure amount (in USD millions) for Widgetco?", "Widgetco"),
    ("What was Nike's quick ratio as of May 31, 2022? Use the balance sheet.", "Nike"),
    ("What were The Coca-Cola Company's net operating revenues in FY2020?", "The Coca-Cola Company"),
    ("What were McDonald's revenues from franchised restaurants in Q1?", "McDonald's"),
    ("How much revenue did Costco record from membership fees in FY2022?", "Costco"),
    ("Did Oracle have positive stockholders' equity at May 31, 2022?", "Oracle"),
    ("What was eBay's gross merchandise volume in Q2 FY2023?", "eBay"),
    ("What was net income attributable to Widgetco Inc. in 2022?", "Widgetco Inc."),
    ("What was the operating income of Zentrix's Cloud segment in Q2 FY2023?", "Zentrix"),
    ("Which of Widgetco's segments (Widgetco Home, Widgetco Pro, Sam's Tools) grew fastest?", "Widgetco"),
    ("Report Widgetco's total liabilities at fiscal year-end 2022.", "Widgetco"),
    ("Is Widgetco profitable?", "Widgetco"),
    ("What were capital expenditures at Widgetco in H1 2023?", "Widgetco"),
    ("What was the revenue in FY2022 for Orbis? Answer in USD billions.", "Orbis"),
    ("WHAT WAS WIDGETCO'S FY2022 REVENUE, IN USD MILLIONS?", "WIDGETCO"),
    ("Compare Apple's and Microsoft's operating margins in FY2022.", None),  # two companies: unclear
    ("What were revenues for Greater China in FY2022?", None),  # a region, not a company
    ("What was the company's operating margin in FY2022?", None),
    ("How much did cloud revenue grow?", None),
])
def test_company(q, company):
    assert frame(q).company == company


# --- edge cases --------------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["", "   ", "\n\t"])
def test_empty(q):
    assert frame(q) == Framing("", (), None, None, None, None, None, None, None)


def test_question_in_capitals():
    f = frame("ASSUME YOU ARE AN ANALYST. WHAT WAS WIDGETCO'S FY2022 REVENUE, IN USD MILLIONS? ROUND TO ONE DECIMAL.")
    assert f.question == "WHAT WAS WIDGETCO'S FY2022 REVENUE?"
    assert f.instructions == ("ASSUME YOU ARE AN ANALYST.", "IN USD MILLIONS", "ROUND TO ONE DECIMAL.")
    assert (f.unit, f.currency, f.decimals, f.period.year, f.company) == ("millions", "USD", 1, 2022, "WIDGETCO")


def test_capitals_without_framing_are_unchanged():
    f = frame("HOW MUCH DID CLOUD REVENUE GROW?")
    assert f.question == "HOW MUCH DID CLOUD REVENUE GROW?" and f.company is None and f.period is None


def test_tidy_leaves_no_doubled_spaces_or_dangling_commas():
    f = frame("What was Widgetco's FY2022 revenue ,  in USD millions , ?")
    assert f.question == "What was Widgetco's FY2022 revenue?"
    f = frame("What  was\nOrbis's   revenue (in USD millions), and how did it change in FY2021?")
    assert f.question == "What was Orbis's revenue, and how did it change in FY2021?"


def test_ends_with_question_mark_only_when_the_question_did():
    assert frame("Calculate the FY2021 operating margin for Widgetco, rounded to two decimal places.").question == \
        "Calculate the FY2021 operating margin for Widgetco."
    assert frame("What was Widgetco's margin, in percent?").question == "What was Widgetco's margin?"


def test_frozen_dataclasses():
    f = frame("What was Widgetco's revenue in FY2022?")
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.question = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.period.year = 2000  # type: ignore[misc,union-attr]
    assert isinstance(f.period, Period) and f.period.text == "FY2022"


def test_deterministic():
    q = ("Assume that you are an analyst. What was Orbis's Q2 FY2023 (three months ended June 30, 2023) gross margin, "
         "defined as gross profit divided by revenue? Round to two decimal places.")
    assert len({frame(q) for _ in range(5)}) == 1


def test_never_raises_on_odd_strings():
    rng = random.Random(7)
    alphabet = "abcXYZ019 ,.;:?!()'’\"$%€-–/\\\n\tFYQ"
    pieces = ["FY", "Q3 ", "(", ")", "in USD millions", "defined as ", "as of ", "Feb 30, 2023", "', '", "??", "..",
              "Round to ", "decimal places", "'s", "The ", "for ", "did ", "between ", " and ", "ended ", "52 weeks"]
    for _ in range(400):
        s = "".join(rng.choice(pieces) if rng.random() < 0.3 else rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        f = frame(s)
        assert isinstance(f, Framing) and isinstance(f.question, str)
    assert frame("What was revenue on February 30, 2023?").period.end is None  # no such day: no end date


def test_fast_and_no_catastrophic_backtracking():
    q = ("Assume that you are a public equities analyst. Answer the following question by primarily using information "
         "that is shown in the income statement. What was Widgetco's FY2022 operating margin, defined as operating "
         "income divided by total revenue? Express it as a percentage and round your answer to two decimal places.")
    frame(q)
    start = time.perf_counter()
    for _ in range(50):
        frame(q)
    assert (time.perf_counter() - start) / 50 < 0.005  # well under a millisecond on an idle machine; loose for CI
    long = ("What was the revenue, the margin and the cost of " * 100) + "Widgetco in FY2022 (in USD millions"
    start = time.perf_counter()
    frame(long)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("question, decimals, asked", [
    ("What was R&D intensity in FY22? Give it as a percentage of total revenue, two decimals.", 2,
     "What was R&D intensity in FY22?"),
    ("What was the operating margin in Q2 2023? Two decimals.", 2, "What was the operating margin in Q2 2023?"),
    ("What was revenue in fiscal 2022? USD millions.", None, "What was revenue in fiscal 2022?"),
])
def test_a_bare_count_of_decimals_is_a_rounding(question, decimals, asked):
    """", two decimals." and a sentence "Two decimals." say the rounding as "round to two decimal
    places" does; a sentence that only gives the unit is an instruction too."""
    f = frame(question)
    assert f.decimals == decimals and f.question == asked


def test_a_source_clause_before_a_closing_parenthesis_is_set_aside():
    f = frame("Nike FY22 buybacks per the cash flow statement ($m)?")
    assert f.question == "Nike FY22 buybacks?" and f.statement == "cash_flow" and f.unit == "millions"
