"""The general causes behind answers that once failed on questions nobody wrote rules for: a
title that is a sentence routing questions away from the other documents, a name common to
several documents routing at all, accents, capitals, junk pasted after a question, abstentions
that echo figures. Small synthetic documents, the hash embedder."""

from __future__ import annotations

import pytest

from rag.answerers import abstain
from rag.cite import check_grounding
from rag.engine import Engine
from rag.indexer import ingest
from rag.question import readable
from rag.settings import Settings
from rag.text import fold_accents, reads_as_sentence


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    docs = tmp_path_factory.mktemp("docs")
    (docs / "good.md").write_text("# Widgets\n\nThe widget division grew 42% in 2024, driven by exports to Norway.\n")
    (docs / "other.txt").write_text("Widget sales in Zürich rose 17 percent in 2024.\n")
    (docs / "tiny.txt").write_text("Evil traversal file. Revenue was 1 RMB.\n")
    (docs / "gadget-report.md").write_text("# Gadget Report\n\nGadget revenue grew 9% in 2024 on strong demand.\n"
                                           "Gadget margins were 31% for the year.\n")
    (docs / "acme-call.txt").write_text(
        "Acme Robotics Q3 2024 Earnings Call\n\nThis transcript was prepared for our investors and analysts.\n\n"
        "Corporate Participants\n\nJane Roe - Chief Financial Officer\nSam Poe - Chief Executive Officer\n\n"
        "Sam Poe, Acme Robotics, Inc. - CEO [3]\n\n"
        "We repurchased $40 million of stock, and the finance team kept costs flat.\n"
        "Acme Robotics remains committed to returning capital, as noted in item [2] of our release.\n")
    settings = Settings.load(env={}, index_dir=str(tmp_path_factory.mktemp("idx")), embed_model="hash")
    assert ingest([docs], settings).ok
    return Engine(settings)


@pytest.mark.parametrize("question,figure", [
    ("How much did the widget division grow?", "42%"),  # the other file's title is its first sentence
    ("How much did widget sales in Zurich rise?", "17 percent"),  # Zürich typed without its accent
    ("HOW MUCH DID THE WIDGET DIVISION GROW?", "42%"),  # capitals say nothing of names
    ("How much did the widget division grow?'; DROP TABLE x;--", "42%"),  # junk after the question
    ("How much did gadget revenue grow?", "9%"),  # the tiny document's sentence title routes nowhere
])
def test_answers_survive_their_general_cause(engine, question, figure):
    ans = engine.ask(question)
    assert not ans.abstained and ans.text.startswith(figure), ans.text


def test_a_who_question_is_answered_by_a_person_from_a_participants_list(engine):
    # "Name - Title" lines read as headings; for a who-question they are the answer, and the
    # person is not a name the question already says ("Acme Robotics")
    ans = engine.ask("Who is the Chief Financial Officer of Acme Robotics?")
    assert ans.text.startswith("Jane Roe [1]."), ans.text


def test_a_who_question_without_a_person_in_any_sentence_abstains(engine):
    assert engine.ask("Who led the stock repurchases at Acme Robotics?").abstained


def test_a_bracketed_number_in_a_quote_never_reads_as_a_citation(engine):
    from rag.cite import MARKER_RE

    ans = engine.ask("What does Acme Robotics say about returning capital?")
    assert not ans.abstained
    assert {int(n) for n in MARKER_RE.findall(ans.text)} <= {c.n for c in ans.citations}


def test_a_name_routes_only_where_it_is_distinctive(engine):
    r = engine.retriever
    assert r.route("gadget margins") is not None  # "Gadget Report" is written in its own document only
    assert r.route("widget division") is None  # "Widgets" is written in two documents: it names neither
    assert r.route("how much did revenue rise") is None  # a title that is a sentence names nothing


@pytest.mark.parametrize("typed,read", [
    ("How much did cloud revenue grow?'; DROP TABLE x;--", "How much did cloud revenue grow?"),
    ("How much did AIDC revenue grow? <script>alert(1)</script>", "How much did AIDC revenue grow?"),
    ("HOW MUCH DID CLOUD REVENUE GROW?", "How much did cloud revenue grow?"),
    ("What was EBITDA -- adjusted?", "What was EBITDA -- adjusted?"),  # a dash in prose stays
    ("What was R&D spend at AIDC?", "What was R&D spend at AIDC?"),  # an acronym among lower case stays
])
def test_readable(typed, read):
    assert readable(typed) == read


def test_folding_accents_keeps_offsets():
    assert fold_accents("Zürich, Nestlé, São Paulo") == "Zurich, Nestle, Sao Paulo"
    assert len(fold_accents("ﬁnance Ærø")) == len("ﬁnance Ærø")  # one character for one


@pytest.mark.parametrize("line,sentence", [
    ("Widget sales in Zürich rose 17 percent in 2024.", True), ("Evil traversal file. Revenue was 1 RMB.", True),
    ("Alibaba Group Holding Ltd.", False), ("CRM Q1 FY24 Earnings Press Release w financials.pdf", False),
    ("NIKE 2022 10K", False),
])
def test_reads_as_sentence(line, sentence):
    assert reads_as_sentence(line) is sentence


def test_an_abstention_echoes_no_figure_and_cites_nothing():
    ans = abstain("What was revenue in 2023, per [1] and [2]?")
    assert ans.abstained and ans.citations == ()
    kept, dropped = check_grounding(ans.text, [])
    assert not dropped and "[" not in ans.text and not any(ch.isdigit() for ch in ans.text)


def test_a_figure_taken_back_in_the_next_sentence_is_no_figure():
    from rag.extractive.figures import figures

    text = ("Equipment revenue was $206 million -- pardon me, I transposed the digits. "
            "Equipment revenue was $260 million, down 2%.")
    assert [f.text for f in figures(text, 0, len(text))] == ["$260 million", "2%"]


@pytest.mark.parametrize("question,qualifiers", [
    ("What was Marlowe's Equipment segment revenue?", set()),  # "segment" says what kind of subject, not which measure
    ("How many daily active users does Orbital have?", {"daili", "activ"}),
    ("What was diluted EPS?", {"dilut"}),
    ("What were total consolidated revenues?", set()),
])
def test_words_that_narrow_a_measure(question, qualifiers):
    from rag.question import analyze

    class Idf:
        max = 10.0

        def __call__(self, term):
            return 1.0

    assert {x for q in analyze(question, Idf()).qualifiers for x in q} == qualifiers


def test_a_measure_at_a_later_figure_of_the_sentence_counts_less_than_at_its_first():
    from rag.extractive.features import later_metrics
    from rag.question import analyze

    class Idf:
        max = 10.0

        def __call__(self, term):
            return 1.0

    query = analyze("How many loyalty members does Marlowe have?", Idf())
    text = "We ended the year with 318 stores, and our loyalty program grew to 14.2 million members."
    assert later_metrics(query, text, 0, len(text)) == frozenset({0})
    assert later_metrics(query, "Members reached 14.2 million.", 0, 29) == frozenset()


def test_connecting_words_and_the_opening_word_are_no_foreign_subject():
    from test_rules import judge

    # "As of July 1, 2023": "As" opens the sentence, "of" joins, "July" is a month: no other subject
    cands, _ = judge("How much total deferred revenue did WidgetCo report?",
                     "As of July 1, 2023 and September 24, 2022, the Company had total deferred revenue of $12.2 billion.")
    assert next(iter(cands.values())).fit == 1.0
    cands, _ = judge("How much revenue did WidgetCo report?", "Revenue from Gizmo Labs was $12.2 billion this year.")
    assert next(iter(cands.values())).fit < 1.0  # Gizmo Labs' revenue, not WidgetCo's
