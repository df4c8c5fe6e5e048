"""Question analysis and follow-up completion: deterministic rules, checked case by case."""

from __future__ import annotations

import pytest

from rag.engine import clean_question
from rag.followup import complete, is_elliptical
from rag.glossary import Glossary
from rag.question import analyze, classify
from rag.text import normalize_for_match, numbers_in, passage_blocks, passage_units, split_units, stem


@pytest.mark.parametrize("q, intent", [
    ("How much did cloud revenue grow?", "percent"),
    ("What percentage of tokens are generated on the cloud?", "percent"),
    ("What was total revenue?", "amount"),
    ("How much did Alibaba spend on buybacks?", "amount"),
    ("How many employees does Apple have?", "count"),
    ("When was Acme founded?", "date"),
    ("In which quarter will the impact be reflected?", "date"),
    ("Who is the CFO?", "person"),
    ("Who is Hong Xu?", "describe"),
    ("Which analyst asked about margins?", "asker"),
    ("Which firm was that analyst from?", "asker"),
    ("Why did free cash flow fall?", "describe"),
    ("According to Toby Xu, what rate did CMR grow at?", "percent"),
    ("What quarterly dividend per share does Corvane pay?", "amount"),  # a measure right after "what"
    ("What operating margin did Acme report?", "percent"),
    ("What dividend policy does Acme have?", "describe"),  # the measure qualifies another noun
    ("What markets does Acme serve?", "describe"),
    ("What was Microsoft's full-time headcount as of June 30, 2004?", "count"),  # a measure counting people
    ("What was the compensation of Acme's employees in 2004?", "amount"),  # ... but their pay is money
    ("What was Acme's market share in India in 2020?", "percent"),  # a share of a market is a percentage ...
    ("What was Acme's share count in 2020?", "amount"),  # ... a share of stock is not
    ("What was Acme's net loss in 2021?", "amount"),  # a loss is a measure, as income is
    ("What caused the loss of exclusivity for Humira?", "describe"),  # ... a loss of something is not
    ("What were Acme's open-market share repurchases in fiscal 2023?", "amount"),
])
def test_classify(q, intent):
    assert classify(q) == intent


class _Idf:
    max = 5.0

    def __call__(self, term):
        return {"revenu": 1.0, "cloud": 2.0}.get(term, 3.0)


def test_terms_drop_filler_and_possessives_and_use_aliases():
    g = Glossary.from_texts(['[aliases]\n"Qwen" = ["Q1"]'])
    q = analyze("How many Qwen-based models does Alibaba's cloud have, according to Eddie Wu?", _Idf(), None, g)
    words = {t.word for t in q.terms}
    assert "alibaba" in words and "alibaba's" not in words
    assert "according" not in words and "eddie" not in words  # attribution is not matched
    qwen = next(t for t in q.terms if t.word == "qwen")
    assert "q1" in qwen.stems


def test_a_possessive_ends_a_name():
    """"McDonald's U.S. comparable sales": the segment is a name of its own, required apart from
    the company, not hidden behind the company's rarer word."""
    q = analyze("How much did McDonald's U.S. comparable sales grow?", _Idf())
    assert len(q.entities) == 2
    assert len(analyze("How much did Morgan Stanley Wealth revenue grow?", _Idf()).entities) == 1


def test_analyst_framing_is_read_out_of_the_question():
    """An analyst's preamble and instructions are not what is asked; the period, statement and a
    second question joined on are kept."""
    q = analyze("Assume that you are a public equities analyst. Answer the following question by primarily using "
                "information that is shown in the cash flow statement. What is the FY2022 capital expenditure "
                "amount (in USD millions) for Nike?", _Idf())
    assert q.text == "What is the FY2022 capital expenditure amount for Nike?"
    assert q.statement == "cash_flow" and q.period.year == 2022 and q.period.months == 12
    assert "fy2022" not in {t.word for t in q.terms}  # a period, not a word to match
    two = analyze("How many shares did Acme repurchase in 2022, and for how much?", _Idf())
    assert two.multi and two.second_ask == "amount"


def test_question_defines_its_own_abbreviation():
    q = analyze("What did Alibaba International Digital Commerce (AIDC) report?", _Idf())
    assert "aidc" in next(t for t in q.terms if t.word == "digital").stems


def test_numbers_in_questions_are_required_facts():
    assert analyze("What was revenue in 2019?", _Idf()).numbers == ("2019",)


def test_glossary_matches_whole_words_and_longest_first():
    g = Glossary.from_texts(['[aliases]\n"Taobao" = ["Tabou"]\n"Taobao and Tmall Group" = ["TTG"]'], finance=False)
    assert g.expand("What did Taobao and Tmall Group earn?").endswith("(TTG)")
    assert g.expand("Taobaoish?") == "Taobaoish?"


def test_glossary_rejects_bad_toml():
    from rag.errors import RagError

    with pytest.raises(RagError, match="TOML"):
        Glossary.from_texts(["[aliases\n"])


@pytest.mark.parametrize("prev, follow, expected", [
    ("How much did cloud revenue grow?", "and AIDC?", "How much did AIDC revenue grow?"),
    ("What was Taobao and Tmall Group revenue?", "what about its adjusted EBITDA?",
     "What was Taobao and Tmall Group adjusted EBITDA?"),
    ("How much did cloud revenue grow?", "What about EBITDA?", "How much did cloud EBITDA grow?"),
    ("How much did cloud revenue grow?", "What was total revenue?", "What was total revenue?"),
])
def test_follow_ups(prev, follow, expected):
    assert complete(follow, [prev]) == expected


def test_follow_up_without_history_is_left_alone():
    assert complete("and AIDC?", []) == "and AIDC?"
    assert is_elliptical("and AIDC?") and not is_elliptical("What was the revenue of the cloud segment?")


def test_clean_question():
    assert clean_question("  How\tmuch\x00 did it grow?\n") == "How much did it grow?"


def test_units_keep_exact_offsets_and_split_tables_by_line():
    text = "Revenue grew 13%. Margins fell.\nTotal net sales 394,328 365,817 274,515\nProducts 316,199 297,392\n"
    units = split_units(text)
    kinds = [u.kind for u in units]
    assert kinds == ["sentence", "sentence", "row", "row"]
    assert [text[u.start:u.end] for u in units][2] == "Total net sales 394,328 365,817 274,515"


def test_blocks_are_units_without_sentences():
    """passage_blocks (retrieval's look for rows) keeps split_units' rows and headings, and its
    runs of prose hold the sentences Punkt would cut them into, over the bundled corpus."""
    from rag.settings import bundled_corpus_dir

    text = "\n".join(p.read_text() for p in sorted(bundled_corpus_dir().glob("*.txt")))
    for i in range(0, len(text), 1500):
        chunk = text[i:i + 1500]
        units, blocks = passage_units(chunk), passage_blocks(chunk)
        assert [u for u in units if u.kind != "sentence"] == [b for b in blocks if b.kind != "prose"]
        runs = [b for b in blocks if b.kind == "prose"]
        for u in units:
            if u.kind == "sentence":
                assert any(r.start <= u.start and u.end <= r.end for r in runs), chunk[u.start:u.end]


def test_number_normalisation():
    assert [n for n, _, _ in numbers_in("13 percent, 1,577 and 20.70")] == ["13%", "1577", "20.7"]
    assert normalize_for_match("13 percent of 1,577") == "13% of 1577"
    assert stem("grew") == stem("increase") == stem("growth")


@pytest.mark.parametrize("question, intent", [
    ("Nike FY22 buybacks per the cash flow statement ($m)?", "amount"),
    ("Walmart FY23 capex?", "amount"),
    ("Costco dividends paid fiscal 2022", "amount"),
    ("Describe Walmart's capital expenditures in fiscal 2023.", "describe"),  # asked for words, not a figure
    ("Walmart's approach to capex?", "describe"),  # no period, no unit: not a figure asked
    ("What inventory balance did Apple carry as of July 1, 2023? USD millions.", "amount"),  # the unit says so
    ("Microsoft FY01 Asia Region revenue?", "amount"),  # "revenue", a line item named in the singular
    ("HD gross margin in Q4 of fiscal 2019, in percent?", "percent"),  # a rate, asked in percent
    ("By roughly what percentage did G&A expense rise in fiscal 2004?", "percent"),
    ("Approximately how many employees did WidgetCo have as of December 31, 2020?", "count"),
])
def test_a_line_item_and_a_period_without_a_verb_ask_its_figure(question, intent):
    assert analyze(question, _Idf()).intent == intent


def test_a_line_item_is_named_in_either_number():
    from rag.facts import asked_items

    assert [a.phrase for a in asked_items("What was the share repurchase in 2022?")] == ["share repurchase"]
    assert asked_items("What was the gain on net sale of the plant?") == ()  # "net sale" is no "net sales"
    assert asked_items("How much did cloud revenue grow?") == ()  # one word stays as written


def test_prose_wrapped_at_a_fixed_width_is_no_table_row():
    text = ("Asia Region revenue was $1.78 billion in 1999, $2.60 billion in 2000, and $3.06\nbillion in 2001.  "
            "The growth was strong.\n\nNet sales 1,200 1,100\ncost of sales 700 650\n")
    units = [(u.kind, text[u.start:u.end]) for u in split_units(text)]
    assert units[0] == ("sentence", "Asia Region revenue was $1.78 billion in 1999, $2.60 billion in 2000, and $3.06\n"
                                    "billion in 2001.")
    assert units[-2:] == [("row", "Net sales 1,200 1,100"), ("row", "cost of sales 700 650")]


@pytest.mark.parametrize("q, intent", [
    ("What did WidgetCo hold in total cash and short-term investments at the end of fiscal 2004?", "amount"),
    ("What did WidgetCo spend on research and development in fiscal 2004?", "amount"),
    ("What did WidgetCo say on the call about inventory in fiscal 2022?", "describe"),
    ("What did management say about revenue in 2004?", "describe"),
])
def test_what_did_x_verb_in_a_line_item_asks_its_amount(q, intent):
    """"What did X hold in <line item> <period>": the verb's object is an amount of the line item;
    a line item named after another phrase ("on the call about inventory") is what was said."""
    assert analyze(q, _Idf()).intent == intent


@pytest.mark.parametrize("question, parts", [
    ("By roughly what percentage did Microsoft's general and administrative expense rise in fiscal 2004 versus "
     "fiscal 2003, and what drove the jump?",
     ("By roughly what percentage did Microsoft's general and administrative expense rise in fiscal 2004 versus "
      "fiscal 2003?", "Why did Microsoft's general and administrative expense rise in fiscal 2004 versus fiscal 2003?")),
    ("How much did U.S. comparable sales grow in Q1 FY2023, and what drove the increase?",
     ("How much did U.S. comparable sales grow in Q1 FY2023?", "Why did U.S. comparable sales grow in Q1 FY2023?")),
    ("How much did cloud EBITDA increase; and why?", ("How much did cloud EBITDA increase?", "Why did cloud EBITDA increase?")),
    ("What was revenue growth in 2020, and what were the main drivers?",
     ("What was revenue growth in 2020?", "Why was revenue growth in 2020?")),
    # the cause asked first, a figure and no cause, a second figure: not a figure and its cause
    ("What drove the change in gross margin, and by how much did it change?", None),
    ("What were revenue and net income?", None),
    ("How much did revenue grow, and what was operating income?", None),
])
def test_a_figure_and_its_cause_split_into_two_questions(question, parts):
    from rag.question import figure_and_cause

    assert figure_and_cause(question) == parts
