"""Earnings-call transcripts in the common vendor layouts: who is speaking, whose question a turn
belongs to and that analyst's firm are read from the transcript's structure, whatever the names.

Each fixture under fixtures/transcripts/ is a short, made-up call in one layout:
- refinitiv-style: a bulleted participants list with the firm and title under each name, label
  lines "Name, Firm, Research Division - Analyst [n]" between rules, firm left out of one
  operator introduction;
- seeking-alpha-style: "Name - Title" / "Name - Firm" lists, a bare name line over each turn;
- inline-labels: "Executives" / "Analysts" lists of "Name - Title" and "Name, Firm", inline
  "Operator:", "Name - Firm - Title:" and "Name (Firm):" labels, a question without its "?";
- fool-style: "Name -- Firm -- Analyst" label lines and the participants list at the end.

Each layout is checked for the same things, at two chunk sizes, so a test fails for the cause (a
layout not read) rather than for one example.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from rag.chunk import Chunk, Page, chunk_document
from rag.indexer import file_hash, read_document

TRANSCRIPTS = Path(__file__).resolve().parent / "fixtures" / "transcripts"
SIZES = [(60, 10), (180, 30)]


@dataclass(frozen=True)
class Call:
    """What a fixture says, written down by hand from reading it."""

    questions: dict[str, str]  # words of each question -> who asked it, "Name (Firm)", in call order
    answers: dict[str, tuple[str, str]]  # words of each answer -> (executive answering, questioner)
    remarks: dict[str, str]  # words of the prepared remarks -> executive speaking
    listed: str  # the participants list's first line
    listed_only: str  # an analyst on the list who asks nothing
    closing: str  # words said after the last question
    page_break: str  # the line a second PDF page would start with (the list is on the other page)


CALLS = {
    "refinitiv-style.txt": Call(
        questions={"welding order growth came from automotive": "Oliver Pratt (Halden Brothers)",
                   "break down service revenue by region": "Sunita Rao (Keel Street Capital Markets)"},
        answers={"about half of the new welding orders": ("Katrin Vogel", "Oliver Pratt (Halden Brothers)"),
                 "Service revenue in Asia doubled": ("Emil Sandberg", "Sunita Rao (Keel Street Capital Markets)")},
        remarks={"Order intake for welding cells rose 18%": "Katrin Vogel",
                 "Gross margin reached 41.2%": "Emil Sandberg"},
        listed="Corporate Participants", listed_only="Marco Bellini",
        closing="There are no further questions", page_break="Presentation"),
    "seeking-alpha-style.txt": Call(
        questions={"How are retailers reacting": "Henrik Dahl (Fairhaven Partners)",
                   "outlook for packaging costs": "Grace Whitfield (Stonebridge Securities)",
                   "a follow-up on capital spending": "Grace Whitfield (Stonebridge Securities)"},
        answers={"accepted most of the increases": ("Daniel Marsh", "Henrik Dahl (Fairhaven Partners)"),
                 "packaging costs to fall slightly": ("Meera Natarajan", "Grace Whitfield (Stonebridge Securities)"),
                 "about USD 80 million": ("Meera Natarajan", "Grace Whitfield (Stonebridge Securities)")},
        remarks={"Frozen meals revenue grew 9%": "Daniel Marsh", "Gross margin was 33.5%": "Meera Natarajan"},
        listed="Company Participants", listed_only="Felix Romero",
        closing="This concludes our question-and-answer session", page_break="Operator"),
    "inline-labels.txt": Call(
        questions={"How many hospitals adopted": "Beatriz Moura (Westbrook Research)",
                   "quantify the currency impact": "Joel Mbeki (Pinecrest Capital)"},
        answers={"About 120 hospitals": ("Ruth Adebayo", "Beatriz Moura (Westbrook Research)"),
                 "Currency reduced implant sales growth": ("Samuel Kline", "Joel Mbeki (Pinecrest Capital)")},
        remarks={"Implant sales grew 14%": "Ruth Adebayo", "Operating margin was 22.4%": "Samuel Kline"},
        listed="Executives", listed_only="Kemal Arslan",
        closing="There are no further questions", page_break="Operator: Good day"),
    "fool-style.txt": Call(
        questions={"charter rates developing": "Carla Mendes (Brookfield Lane)",
                   "plan for the older tankers": "Peter Holm (Skagen Markets)"},
        answers={"Charter rates rose about 6%": ("Jonas Berg", "Carla Mendes (Brookfield Lane)"),
                 "sell four of the older tankers": ("Jonas Berg", "Peter Holm (Skagen Markets)")},
        remarks={"Fleet utilization was 94%": "Jonas Berg", "With me is our chief executive": "Mette Aas"},
        listed="Call participants:", listed_only="Rafael Ortiz",
        closing="That concludes our Q&A session", page_break="Call participants:"),
}


def chunks_of(name: str, size: int, overlap: int) -> tuple[list[Page], list[Chunk]]:
    """(pages, chunks) exactly as an ingest of the fixture makes them."""
    path = TRANSCRIPTS / name
    title, pages, _ = read_document(path)
    return pages, chunk_document(pages, source=str(path), title=title, doc_hash=file_hash(path.read_bytes()),
                                 size=size, overlap=overlap)


@pytest.fixture(params=[(name, size) for name in CALLS for size in SIZES],
                ids=[f"{name.removesuffix('.txt')}-{size[0]}" for name in CALLS for size in SIZES])
def call(request) -> tuple[Call, list[Page], list[Chunk]]:
    name, (size, overlap) = request.param
    return CALLS[name], *chunks_of(name, size, overlap)


def at(chunks: list[Chunk], words: str) -> Chunk:
    """The chunk holding `words` (a chunk's overlap may repeat them: the first is the turn's own)."""
    found = [c for c in chunks if words in " ".join(c.text.split())]
    assert found, f"no chunk holds {words!r}"
    return found[0]


def test_offsets_are_exact(call):
    _, pages, chunks = call
    by_page = {p.page: p.text for p in pages}
    for c in chunks:
        assert by_page[c.page][c.start:c.end] == c.text, f"chunk {c.index}: offsets are off"
        assert c.text == c.text.strip() and c.text


def test_question_turns_carry_their_analyst_and_firm(call):
    expected, _, chunks = call
    for words, who in expected.questions.items():
        c = at(chunks, words)
        assert (c.segment, c.analyst) == ("Q&A", who), words
        assert c.speaker == who.split(" (")[0], f"{words}: spoken by {c.speaker}"
    for words, (executive, who) in expected.answers.items():
        c = at(chunks, words)
        assert (c.segment, c.speaker, c.analyst) == ("Q&A", executive, who), words
    # each questioner's turn is one run of chunks, in the order the operator called them
    runs = [c.analyst for i, c in enumerate(chunks) if c.analyst and (i == 0 or chunks[i - 1].analyst != c.analyst)]
    assert runs == list(dict.fromkeys(expected.questions.values()))


def test_the_operator_is_never_a_questioner_or_an_answerer(call):
    expected, _, chunks = call
    assert not any(c.analyst and "operator" in c.analyst.lower() for c in chunks)
    said = [*expected.questions, *expected.answers, *expected.remarks]
    for c in chunks:
        if c.speaker == "Operator":
            assert not any(words in " ".join(c.text.split()) for words in said), f"the operator said: {c.text!r}"
    # the operator's introduction already belongs to the question it introduces
    intros = [c for c in chunks if c.speaker == "Operator" and c.segment == "Q&A" and c.analyst]
    assert [c.analyst for c in intros] == list(dict.fromkeys(expected.questions.values()))


def test_prepared_remarks_have_no_analyst(call):
    expected, _, chunks = call
    for words, executive in expected.remarks.items():
        c = at(chunks, words)
        assert (c.segment, c.speaker, c.analyst) == ("Prepared remarks", executive, None), words
    assert all(c.analyst is None for c in chunks if c.segment != "Q&A")
    segments = [c.segment for c in chunks if c.segment]
    first_qa = segments.index("Q&A")
    assert set(segments[:first_qa]) == {"Prepared remarks"} and set(segments[first_qa:]) == {"Q&A"}
    closing = at(chunks, expected.closing)
    assert (closing.segment, closing.analyst) == ("Q&A", None)


def test_a_participants_list_is_not_a_turn(call):
    expected, _, chunks = call
    listing = at(chunks, expected.listed)
    assert (listing.segment, listing.speaker, listing.analyst) == (None, None, None)
    # the list stays searchable ("who is the CFO?") but nobody on it speaks from it
    assert any(expected.listed_only in c.text for c in chunks)
    names = {c.speaker for c in chunks} | {c.analyst for c in chunks}
    assert not any(n and expected.listed_only in n for n in names)
    questioners = {who.split(" (")[0] for who in expected.questions.values()}
    executives = {e for e, _ in expected.answers.values()} | set(expected.remarks.values())
    assert {c.speaker for c in chunks} - {None, "Operator"} <= questioners | executives


@pytest.mark.parametrize("name", CALLS)
def test_a_pdf_s_pages_share_the_participants_list(name):
    """A PDF's list on one page names the speakers and firms of the others."""
    expected = CALLS[name]
    path = TRANSCRIPTS / name
    text = path.read_text(encoding="utf-8")
    cut = text.index("\n" + expected.page_break) + 1
    pages = [Page(text[:cut].rstrip(), 1), Page(text[cut:], 2)]
    chunks = chunk_document(pages, source=str(path), title=name, doc_hash="h", size=180, overlap=30)
    for words, who in expected.questions.items():
        assert at(chunks, words).analyst == who, words
    for words, (executive, who) in expected.answers.items():
        assert (at(chunks, words).speaker, at(chunks, words).analyst) == (executive, who), words


SHORT_LIST = ("Corporate Participants\n\nJane Roe - Chief Financial Officer\nSam Poe, Acme Robotics\n\n"
              "Sam Poe, Acme Robotics, Inc. - CEO [3]\n\n"
              "We repurchased $40 million of stock, and the finance team kept costs flat.\n")


@pytest.mark.parametrize("opening", [
    "This transcript was prepared for our investors and analysts.",  # not read as a call
    "Good morning, and welcome to the Acme Robotics earnings call.",  # read as a call
], ids=["document", "call"])
def test_a_short_participants_list_is_chunk_text(opening):
    """Two entries under a participants heading look like headings, yet say who holds which title
    ("Who is the CFO?"): they are chunk text, not a section label, not dropped and not a turn."""
    text = f"Acme Robotics Q3 2024 Earnings Call\n\n{opening}\n\n{SHORT_LIST}"
    chunks = chunk_document([Page(text)], source="acme-call.txt", title="Acme", doc_hash="h", size=180, overlap=30)
    for c in chunks:
        assert text[c.start:c.end] == c.text
    for line in ("Corporate Participants", "Jane Roe - Chief Financial Officer", "Sam Poe, Acme Robotics"):
        listing = at(chunks, line)
        assert (listing.segment, listing.speaker, listing.analyst) == (None, None, None), line
    assert "Jane Roe" not in at(chunks, "We repurchased").text  # the list ends where a turn's label begins
    assert not any(c.section and "Jane Roe" in c.section for c in chunks)
