"""The web page: its formatting functions (plain, no server), its behaviour over a real engine on
the tiny corpus (uploads, removal, errors), and its chat endpoint through gradio_client against
the app served on 127.0.0.1, eight conversations at once."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from rag.chunk import Chunk
from rag.cite import Answer, Citation
from rag.engine import Engine
from rag.errors import RagError
from rag.indexer import ingest
from rag.retrieve import Hit
from rag.settings import Settings
from ui.format import (
    SEARCHING,
    answer_html,
    asked_questions,
    cited_figures,
    document_rows,
    draft_html,
    highlight,
    link_markers,
    quote_span,
    retrieval_rows,
    safe_filename,
    source_html,
)

TINY = Path(__file__).resolve().parent / "fixtures" / "tiny"
ZORBLAT = ("Zorblat Widgets annual note\n\n"
           "The Zorblat factory in Quexton produced 4,812 widgets in 2024, up 17% from 2023.\n")


def cite(n=1, passage="Intro. Revenue grew 13% in the quarter. Outro.", quote="Revenue grew 13% in the quarter.",
         **kw) -> Citation:
    fields = dict(n=n, source="/docs/a.txt", title="Acme <Corp>", page=None, section=None, speaker=None,
                  analyst=None, quote=quote, start=0, end=len(quote), passage=passage, score=0.0328)
    fields.update(kw)
    return Citation(**fields)


# --- formatting: plain functions -------------------------------------------------------------------

def test_source_highlights_the_quote_and_escapes_document_text():
    passage = 'Before <script>alert("x")</script> & Revenue grew 13% & more <b>. After.'
    c = cite(passage=passage, quote="Revenue grew 13% & more <b>.", page=4, section="Prepared remarks",
             speaker="Toby Xu", analyst="Dana Smith (Example Securities)")
    html = source_html(c, turn=2)
    assert "<script>" not in html and "<b>." not in html and "Acme <Corp>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; " in html
    assert "<mark>Revenue grew 13% &amp; more &lt;b&gt;.</mark> After." in html
    assert "Acme &lt;Corp&gt;" in html
    for part in ("p. 4", "Prepared remarks", "speaker: Toby Xu", "question from Dana Smith (Example Securities)"):
        assert part in html
    assert "0.0328" not in html and "score" not in html  # a fused rank score means nothing to a reader
    assert 'id="rag-src-2-1"' in html and '<span class="rag-n">1</span>' in html


def test_quote_span_locates_the_quote_and_flags_a_missing_one():
    c = cite()
    a, b = quote_span(c)
    assert c.passage[a:b] == c.quote
    assert highlight("x < y", None) == "x &lt; y"
    broken = cite(quote="not in the passage")
    assert quote_span(broken) is None
    assert "quote not found" in source_html(broken, 1) and "<mark>" not in source_html(broken, 1)


def test_markers_link_to_their_numbered_sources():
    ans = Answer("q", "Cloud grew 13% [1]. AIDC grew 32% [2]. Stray [7].\n<i>x</i>",
                 (cite(1), cite(2, quote="Intro.")))
    html = answer_html(ans, turn=3)
    assert '<a class="rag-cite" href="#rag-src-3-1" title="source 1">[1]</a>' in html
    assert 'href="#rag-src-3-2"' in html and 'id="rag-src-3-1"' in html and 'id="rag-src-3-2"' in html
    assert '<s class="rag-bad-cite" title="no such source">[7]</s>' in html  # visibly unresolved
    assert "&lt;i&gt;x&lt;/i&gt;" in html and "<br>" in html
    assert link_markers("a [1] b", {1}, 1).count("<a ") == 1


def test_abstention_is_marked_and_answers_are_not():
    abstained = answer_html(Answer("q", "The documents don't say.", abstained=True), 1)
    assert "rag-abstain" in abstained and "Not in the documents" in abstained
    assert "rag-sources" not in abstained
    answered = answer_html(Answer("q", "13% [1].", (cite(),)), 1)
    assert "rag-abstain" not in answered and "Sources" in answered


def test_answer_html_is_one_block_with_notice_unverified_and_read_as():
    ans = Answer("q", "One.\n\nTwo [1].", (cite(),), unverified=("It grew 99%.",), notice="Answered <partly>")
    html = answer_html(ans, 1, read_as="How much did <AIDC> revenue grow?")
    assert "\n\n" not in html and "\n" not in html  # a Markdown renderer keeps it one HTML block
    assert "Answered &lt;partly&gt;" in html and "It grew 99%." in html
    assert "Read as: How much did &lt;AIDC&gt; revenue grow?" in html
    streaming = answer_html(ans, 1, text="One.", sources=False)
    assert "rag-sources" not in streaming and "It grew" not in streaming


def test_a_computed_answer_shows_its_working_from_the_computation():
    """The page reads `Answer.computation`, not the text: each operand's cell, period and source
    link, the result, and whether it checked."""
    comp = {"metric": "current ratio", "formula": "total current assets / total current liabilities",
            "shown": "1.75", "checked": True,
            "operands": [{"label": "Total current <assets>", "text": "350", "period": "2024", "citation": 1},
                         {"label": "Total current liabilities", "text": "200", "period": "2024", "citation": 2}]}
    ans = Answer("q", "Current ratio, FY2024: 1.75 = total current assets 350 [1] / total current liabilities 200 [2]",
                 (cite(1), cite(2, quote="Intro.")), computation=comp)
    html = answer_html(ans, 4)
    assert "rag-computation" in html and "<b>1.75</b> (checked against the cited cells)" in html
    assert "Total current &lt;assets&gt;" in html and 'href="#rag-src-4-2">[2]</a>' in html
    assert "\n" not in html
    assert "rag-computation" not in answer_html(Answer("q", "13% [1].", (cite(),)), 1)


def test_draft_is_escaped_text_under_a_note_that_it_is_not_yet_checked():
    html = draft_html("Revenue <b>grew</b> 7% [1].\nMore", read_as="What <x>?")
    assert "rag-draft" in html and "checked when the answer is complete" in html and "\n" not in html
    assert "Revenue &lt;b&gt;grew&lt;/b&gt; 7% [1].<br>More" in html and "Read as: What &lt;x&gt;?" in html
    assert "rag-cite" not in html  # markers are linked only once the citations are settled


def test_cited_figures_are_the_answers_figures_in_table_rows_and_the_operands_cells():
    row = cite(1, passage="Total 2,400 2,230 9%", quote="Total 2,400 2,230 9%")
    prose = cite(2, passage="Revenue was EUR 2.4 billion.", quote="Revenue was EUR 2.4 billion.")
    ans = Answer("q", "2,400 [1]. It was EUR 2.4 billion [2].", (row, prose))
    assert cited_figures(ans) == {1: "2,400"}  # a quote with one figure needs no cell of its own
    assert cited_figures(Answer("q", "240 [1].", (row,))) == {}  # not "2,400"'s digits
    comp = {"operands": [{"label": "Total", "text": "2,230", "period": "2023", "citation": 1}]}
    assert cited_figures(Answer("q", "2,400 [1].", (row,), computation=comp)) == {1: "2,230"}


def test_the_first_pdf_source_shows_its_page_open_and_the_others_behind_a_click(tmp_path):
    from rag.pages import PageImage

    image = PageImage(tmp_path / "p.png", 1240, 1600, ((0.05, 0.19, 0.25, 0.21),), (0.1, 0.19, 0.15, 0.21),
                      tmp_path / "p-band.png", (0.1, 0.5))
    ans = Answer("q", "2,400 [1]. Also [2].", (cite(1, page=2), cite(2, page=5)))
    html = answer_html(ans, 1, images={1: (image, ("/f/1.png", "/f/1b.png")), 2: (image, ("/f/2.png", "/f/2b.png"))})
    first, second = html.split('id="rag-src-1-2"')
    assert '<div class="rag-page-box"><a class="rag-page-link" href="/f/1.png"' in first  # the whole page on a click
    # the band shown: its place on the page, and the boxes in the band's fractions ((0.19 - 0.1) / 0.4)
    assert 'src="/f/1b.png#band=0.1000,0.5000&amp;marks=0.0500,0.2250,0.2500,0.2750&amp;cell=0.1000,0.2250' in first
    assert 'loading="lazy"' not in html and 'width="1240" height="640"' in first
    assert '<details class="rag-page-box">' in second and 'src="/f/2b.png#band=' in second
    assert "<mark>" in html  # the passage with its quote stays under the page


def test_retrieval_rows_say_which_side_found_a_passage_not_the_fused_score():
    from types import SimpleNamespace

    chunk = SimpleNamespace(title="T", page=3, section=None, speaker=None, text="Revenue grew.")
    hits = [SimpleNamespace(chunk=chunk, score=0.0323, dense_rank=1, bm25_rank=4),
            SimpleNamespace(chunk=chunk, score=0.0161, dense_rank=None, bm25_rank=2),
            SimpleNamespace(chunk=chunk, score=0.0159, dense_rank=5, bm25_rank=None)]
    rows = retrieval_rows(hits)
    assert [r[3] for r in rows] == ["both", "words", "meaning"]
    assert rows[0][4:6] == [1, 4] and rows[1][4] == "-" and rows[2][5] == "-"
    assert not any(0.0323 in r or "0.0323" in map(str, r) for r in rows)


@pytest.mark.parametrize("name, expected", [
    ("report.pdf", "report.pdf"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\Windows\\evil.md", "evil.md"),
    ("/abs/path/notes.txt", "notes.txt"),
    (".hidden.txt", "hidden.txt"),
    ("Q3 résumé<script>.pdf", "Q3 resume_script_.pdf"),
    ("a\x00b;rm -rf $HOME.txt", "ab_rm -rf _HOME.txt"),
    ("..", "document"),
    ("x" * 300 + ".docx", "x" * 115 + ".docx"),
])
def test_safe_filename_keeps_the_basename_and_plain_characters(name, expected):
    out = safe_filename(name)
    assert out == expected
    assert "/" not in out and "\\" not in out and not out.startswith(".")


def test_the_questions_as_answered_come_from_the_answers_messages():
    # an answer's message carries its question as answered (answer_html's data-completed): the
    # next follow-up is completed from it, not by completing the conversation again
    history = [{"role": "user", "content": "How much did widget revenue grow?"},
               {"role": "assistant", "content": answer_html(
                   Answer("q", "12% [1]", completed="How much did widget revenue grow in Q3?"), 1)},
               {"role": "user", "content": [{"type": "text", "text": "and gadget?"}]},
               {"role": "assistant", "content": "<div>3%</div>"},  # no data-completed: completed again
               {"role": "user", "content": "   "}]
    assert asked_questions(history) == ["How much did widget revenue grow in Q3?", "How much did gadget revenue grow in Q3?"]
    assert asked_questions([{"role": "user", "content": ""}, {"role": "user", "content": "What was total revenue?"}]) \
        == ["What was total revenue?"]


def test_retrieval_and_document_rows():
    chunk = Chunk(id="c1", text="Widget revenue grew 12%.", source="/d/a.txt", title="Acme call", page=3,
                  section="Prepared remarks", segment=None, speaker=None, analyst=None, start=0, end=24,
                  doc_hash="h", index=0)
    rows = retrieval_rows([Hit(chunk, 0.0325, 1, None, 0.8), Hit(chunk, 0.016, None, 2, None)])
    assert rows[0] == [1, "Acme call", "p. 3, Prepared remarks", "meaning", 1, "-", "Widget revenue grew 12%."]
    assert rows[1][3:6] == ["words", "-", 2]
    docs = {"/x/b.txt": {"name": "b.txt", "title": "B", "chunks": 3}, "/x/a.pdf": {"name": "a.pdf", "title": "A",
                                                                               "chunks": 9, "pages": 2}}
    assert [r[:4] for r in document_rows(docs)] == [["a.pdf", "A", 9, 2], ["b.txt", "B", 3, ""]]


# --- the page's behaviour over a real engine ------------------------------------------------------

@pytest.fixture
def app(tiny_corpus, embedded_settings):
    from ui.app import WebApp

    ingest([tiny_corpus], embedded_settings)
    return WebApp(Engine(embedded_settings))


def test_a_ready_answer_is_shown_at_once_with_its_sources(app):
    parts = list(app.respond("How much did widget revenue grow?", []))
    assert len(parts) == 1  # no made wait, word by word: the answer, whole
    final = parts[-1]
    assert "12%" in final and "rag-sources" in final and "<mark>" in final and 'href="#rag-src-1-1"' in final


def test_follow_up_is_completed_from_the_conversation(app):
    history = [{"role": "user", "content": "How much did widget revenue grow?"},
               {"role": "assistant", "content": "12% [1]."}]
    final = list(app.respond("and gadget?", history))[-1]
    assert "3%" in final and "Read as: How much did gadget revenue grow?" in final
    assert 'id="rag-src-2-1"' in final  # second answer of the conversation: its own anchors


def test_empty_question_is_ignored(app):
    from ui.app import _not_blank

    assert _not_blank("  \n")["is_valid"] is False  # the page adds nothing to the conversation
    assert _not_blank("What was total revenue?")["is_valid"] is True
    parts = list(app.respond("   ", []))
    assert len(parts) == 1 and "rag-error" in parts[0]


def test_engine_errors_show_as_a_message_not_a_traceback(app, monkeypatch, caplog):
    def fails(*a, **k):
        raise RagError("No index at x/. Run: rag ingest corpus/")

    monkeypatch.setattr(app.engine, "ask", fails)
    out = list(app.respond("What was total revenue?", []))[-1]
    assert "rag-error" in out and "No index at x/. Run: rag ingest corpus/" in out

    def crashes(*a, **k):
        raise ZeroDivisionError("secret internals")

    monkeypatch.setattr(app.engine, "ask", crashes)
    out = list(app.respond("What was total revenue?", []))[-1]
    assert "ZeroDivisionError" in out and "secret internals" not in out and "Traceback" not in out
    assert "secret internals" in caplog.text  # the details go to the server's log


@pytest.fixture
def llm_app(tiny_corpus, llm_settings):
    from ui.app import WebApp

    ingest([tiny_corpus], llm_settings)
    return WebApp(Engine(llm_settings))


def test_llm_answer_streams_its_draft_then_the_verified_answer(llm_app, scripted_llm):
    scripted_llm.model = lambda p: (f"Total revenue was USD 4.2 billion [{p.n('Total revenue')}]. "
                                    f"Net profit was USD 900 million [{p.n('Total revenue')}].")
    parts = list(llm_app.respond("What was total revenue?", [], 5, "llm"))
    assert parts[0] == SEARCHING
    drafts, final = parts[1:-1], parts[-1]
    assert len(drafts) > 3 and all("rag-draft" in d and "rag-sources" not in d for d in drafts)
    assert "Net profit was USD 900 million" in drafts[-1]  # the model's words, while it writes
    assert "rag-draft" not in final and "rag-sources" in final and "<mark>" in final
    text = final.split('<div class="rag-text">')[1].split("</div>")[0]
    assert "4.2 billion" in text and "900" not in text  # the verified text replaces the draft
    assert '<div class="rag-unverified">' in final and "<li>Net profit was USD 900 million.</li>" in final


def test_llm_failure_shows_the_notice_and_the_extractive_answer(llm_app, scripted_llm):
    from conftest import Reply

    scripted_llm.model = lambda p: Reply(status=503)
    final = list(llm_app.respond("What was total revenue?", [], None, "llm"))[-1]
    assert ('<div class="rag-notice">The language model did not answer (HTTP 503); this is the extractive '
            "answer.</div>") in final
    assert "4.2 billion" in final and "rag-sources" in final


def test_llm_without_an_endpoint_is_a_message_with_the_fix(app):
    final = list(app.respond("What was total revenue?", [], None, "llm"))[-1]
    assert "rag-error" in final and "RAG_LLM_BASE_URL" in final


def test_upload_is_indexed_kept_beside_the_index_and_answerable_at_once(app, tmp_path, embedded_settings):
    up = tmp_path / "upload" / "Zorblat note (2024).txt"
    up.parent.mkdir()
    up.write_text(ZORBLAT)
    results = app.add_files([str(up)])
    assert [(r.name, r.status) for r in results] == [("Zorblat note (2024).txt", "added")]
    kept = embedded_settings.index_dir / "documents" / "Zorblat note (2024).txt"
    assert app.documents_dir == embedded_settings.index_dir / "documents" and kept.read_text() == ZORBLAT
    assert "4,812" in app.engine.ask("How many widgets did the Zorblat factory produce in 2024?").text
    up.unlink()  # the temporary upload is gone; the kept copy still answers after a restart
    again = Engine(embedded_settings)
    assert str(kept.resolve()) in again.store.documents()
    assert "4,812" in again.ask("How many widgets did the Zorblat factory produce in 2024?").text
    # a re-ingest with --prune of another folder never touches the uploads
    ingest([TINY], embedded_settings, prune=True)
    assert str(kept.resolve()) in again.store.documents()
    # the same file again is unchanged
    assert [r.status for r in app.add_files([str(kept)])] == ["unchanged"]


def test_bad_uploads_get_a_message_and_nothing_else_is_lost(app, tmp_path):
    d = tmp_path / "upload"
    d.mkdir()
    (d / "note.txt").write_text(ZORBLAT)
    assert app.add_files([str(d / "note.txt")])[0].status == "added"
    before = app.documents()
    bad = {"note.txt": b"\x00\x01binary junk" * 50,  # a corrupt new version of a good document
           "broken.pdf": b"%PDF-1.4 this is not really a pdf",
           "tool.exe": b"MZ\x90\x00",
           "empty.md": b"",
           "big.txt": b"word " * 400_000}  # 2 MB, over the 1 MB limit set below
    bad_dir = tmp_path / "bad"
    bad_dir.mkdir()
    for name, data in bad.items():
        (bad_dir / name).write_bytes(data)
    (bad_dir / "ok été #2.md").write_text("# Quexton\n\nQuexton has 12 bridges.\n")
    app.max_upload_mb = 1
    results = {r.name: r for r in app.add_files([str(bad_dir / n) for n in [*bad, "ok été #2.md"]])}
    assert results["ok ete _2.md"].status == "added"  # the good one in the batch still goes in
    for name in bad:
        assert results[name].status == "failed" and results[name].detail, name
    assert "unsupported file type '.exe'" in results["tool.exe"].detail
    assert "over the 1 MB upload limit" in results["big.txt"].detail
    assert "corrupt or not a PDF" in results["broken.pdf"].detail
    # the earlier good version of note.txt is still there, on disk and in the index
    assert (app.documents_dir / "note.txt").read_text() == ZORBLAT
    after = app.documents()
    assert set(after) == set(before) | {str((app.documents_dir / "ok ete _2.md").resolve())}
    assert sorted(p.name for p in app.documents_dir.iterdir() if not p.name.startswith(".")) == \
        ["note.txt", "ok ete _2.md"]
    assert "4,812" in app.engine.ask("How many widgets did the Zorblat factory produce in 2024?").text


def test_remove_a_document_and_its_uploaded_copy(app, tmp_path):
    up = tmp_path / "zorblat.txt"
    up.write_text(ZORBLAT)
    app.add_files([str(up)])
    kept = app.documents_dir / "zorblat.txt"
    source = str(kept.resolve())
    assert "Removed zorblat.txt (1 chunks)" in app.remove_document(source)
    assert source not in app.documents() and not kept.exists()
    assert "4,812" not in app.engine.ask("How many widgets did the Zorblat factory produce in 2024?").text
    assert "No document" in app.remove_document(source)
    assert app.remove_document("") == "Pick a document to remove."
    # a document that is not an upload leaves its file alone
    call = next(s for s in app.documents() if s.endswith("acme-q3-call.txt"))
    app.remove_document(call)
    assert call not in app.documents() and (tmp_path / "tiny" / "acme-q3-call.txt").exists()


def test_retrieval_view_shows_which_side_found_each_passage_and_its_ranks(app):
    rows, msg, explain = app.retrieval("How much did widget revenue grow?", 4)
    assert msg == "" and 1 <= len(rows) <= 4
    assert "Decision:" in explain and "coverage" in explain  # how the answerer scored the sentences
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
    assert {r[3] for r in rows} <= {"both", "words", "meaning"}
    assert all(isinstance(r[4], int) or r[4] == "-" for r in rows)
    assert any(isinstance(r[5], int) for r in rows)
    rows, msg, explain = app.retrieval("   ")
    assert rows == [] and "rag-error" in msg and explain == ""


# --- the served app: gradio_client -----------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app over a tiny index (hash embedder), served on a free 127.0.0.1 port."""
    from ui.app import build_app, launch

    d = tmp_path_factory.mktemp("ui-served")
    shutil.copytree(TINY, d / "tiny")
    settings = Settings.load(env={}, index_dir=str(d / "index"), embed_model="hash")
    ingest([d / "tiny"], settings)
    demo = build_app(Engine(settings))
    port = _free_port()
    launch(demo, host="127.0.0.1", port=port, block=False, quiet=True)
    yield f"http://127.0.0.1:{port}/", demo
    demo.close()


def test_chat_endpoint_answers_with_sources_and_follows_up(served):
    from gradio_client import Client

    url, _ = served
    client = Client(url, verbose=False)
    first = client.predict("How much did widget revenue grow?", api_name="/chat")
    assert "12%" in first and "rag-sources" in first and "<mark>" in first
    follow = client.predict("and gadget?", api_name="/chat")
    assert "3%" in follow and "Read as: How much did gadget revenue grow?" in follow


def test_ask_endpoint_returns_the_answer_as_json(served):
    """`/ask` (question, history of earlier questions) gives `Answer.to_dict()`: what a script needs
    without scraping the chat's HTML; a question that cannot be asked gives one error line."""
    from gradio_client import Client

    url, demo = served
    client = Client(url, verbose=False)
    got = client.predict("How much did widget revenue grow?", [], api_name="/ask")
    expected = demo.rag_app.engine.ask("How much did widget revenue grow?").to_dict()
    assert got["answer"] == expected["answer"] and "12%" in got["answer"] and not got["abstained"]
    assert got["citations"][0]["quote"] in got["citations"][0]["passage"] and "score" in got["citations"][0]
    follow = client.predict("and gadget?", ["How much did widget revenue grow?"], api_name="/ask")
    assert follow["completed"] == "How much did gadget revenue grow?" and "3%" in follow["answer"]
    assert set(client.predict("   ", [], api_name="/ask")) == {"question", "error"}
    assert "/ask" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]


def test_examples_fit_the_index_served(tmp_path, monkeypatch):
    """The bundled corpus keeps its examples; another index gets questions made from its own
    statement rows, each answered at start-up; an index with nothing to make them from, none."""
    from ui.app import EXAMPLES, index_examples

    settings = Settings.load(env={}, index_dir=str(tmp_path / "index"), embed_model="hash")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "notes.txt").write_text("Meeting notes. The team discussed the new office.\n")
    ingest([docs], settings)
    assert index_examples(Engine(settings)) == []
    (docs / "ZANTOR_2024_10K.txt").write_text(
        "Zantor Corporation Annual Report 2024\n\nZantor makes industrial pumps.\n\n"
        "CONSOLIDATED STATEMENTS OF OPERATIONS\n(In millions)\nYear Ended December 31, 2024 2023\n"
        "Net revenues 4,200 3,900\nCost of revenues 2,100 2,000\nNet income 700 650\n")
    ingest([docs], settings)
    engine = Engine(settings)
    made = index_examples(engine)
    assert made == ["What was Zantor's net revenues in 2024?"]
    assert "4,200" in engine.ask(made[0]).text
    monkeypatch.setattr(Engine, "ask", lambda self, q, *a, **k: SimpleAnswer())  # answered by nothing: not shown
    assert index_examples(engine) == []
    bundled = Settings.load(env={}, index_dir=str(tmp_path / "bundled"), embed_model="hash")
    from rag.settings import bundled_corpus_dir

    ingest([bundled_corpus_dir()], bundled)
    assert index_examples(Engine(bundled)) == EXAMPLES


class SimpleAnswer:
    abstained, citations = True, ()


# Each conversation's follow-up only makes sense after its own first question; 3 and 4 mirror each other.
CONVERSATIONS = [
    ("How much did widget revenue grow?", "and gadget?"),
    ("What was total revenue?", "and widget?"),
    ("How much free cash flow did Acme generate?", "and operating income?"),
    ("What was operating income?", "and free cash flow?"),
    ("When was Acme founded?", "Who is the Chief Financial Officer of Acme?"),
    ("How much remains under the buyback authorization?", "How many employees does Acme have?"),
    ("Who is the Chief Executive Officer of Acme?", "When was Acme founded?"),
    ("How many employees does Acme have?", "How much did widget revenue grow?"),
]


def test_eight_concurrent_conversations_are_not_mixed_up(served):
    from gradio_client import Client

    url, demo = served
    app = demo.rag_app
    expected = []
    for q, f in CONVERSATIONS:  # what each conversation must get, computed in-process
        a1 = list(app.respond(q, []))[-1]
        a2 = list(app.respond(f, [{"role": "user", "content": q}, {"role": "assistant", "content": a1}]))[-1]
        expected.append((a1, a2))
    assert len({a2 for _, a2 in expected}) == len(CONVERSATIONS)  # distinct, so a mix-up would show
    start = threading.Barrier(len(CONVERSATIONS))

    def converse(i: int) -> tuple[str, str]:
        client = Client(url, verbose=False)
        start.wait(timeout=60)
        q, f = CONVERSATIONS[i]
        return client.predict(q, api_name="/chat"), client.predict(f, api_name="/chat")

    with ThreadPoolExecutor(len(CONVERSATIONS)) as pool:
        got = list(pool.map(converse, range(len(CONVERSATIONS))))
    for i, ((a1, a2), (g1, g2)) in enumerate(zip(expected, got)):
        assert g1 == a1, CONVERSATIONS[i]
        assert g2 == a2, CONVERSATIONS[i]
    assert "3%" in got[0][1] and "1.9 billion" in got[1][1]


def test_login_when_auth_is_given(served):
    from gradio_client import Client

    from ui.app import build_app, launch

    _, demo = served
    locked = build_app(demo.rag_app.engine)
    port = _free_port()
    launch(locked, port=port, auth=("ana", "s3cret"), block=False, quiet=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        with pytest.raises(Exception):  # noqa: B017 - gradio_client raises a plain error without a login
            Client(url, verbose=False).predict("What was total revenue?", api_name="/chat")
        ok = Client(url, auth=("ana", "s3cret"), verbose=False).predict("What was total revenue?", api_name="/chat")
        assert "4.2 billion" in ok
    finally:
        locked.close()


# --- rag serve -------------------------------------------------------------------------------------

def test_rag_serve_is_local_private_and_without_analytics(monkeypatch, tmp_path, tiny_corpus):
    import gradio as gr

    from rag.cli import main

    settings = Settings.load(env={}, index_dir=str(tmp_path / "index"), embed_model="hash")
    ingest([tiny_corpus], settings)
    seen = {}

    def fake_launch(self, **kwargs):
        seen.update(kwargs, analytics=self.analytics_enabled)

    monkeypatch.setattr(gr.Blocks, "launch", fake_launch)
    monkeypatch.setenv("RAG_AUTH", "ana:s3cret")
    assert main(["serve", "--index", str(tmp_path / "index"), "--embed-model", "hash"]) == 0
    assert seen["server_name"] == "127.0.0.1" and seen["server_port"] == 7860 and seen["share"] is False
    assert seen["auth"] == ("ana", "s3cret") and seen["analytics"] is False
    assert seen["max_file_size"] == "50mb"
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    monkeypatch.setenv("RAG_MAX_UPLOAD_MB", "5")
    assert main(["serve", "--index", str(tmp_path / "index"), "--embed-model", "hash", "--port", "8000",
                 "--auth", "bo:pw", "--share"]) == 0
    assert seen["server_port"] == 8000 and seen["share"] is True and seen["auth"] == ("bo", "pw")
    assert seen["max_file_size"] == "5mb"
    monkeypatch.delenv("RAG_AUTH")
    assert main(["serve", "--index", str(tmp_path / "index"), "--embed-model", "hash", "--auth", "nocolon"]) == 2


def test_rag_never_imports_the_web_page():
    code = "import sys, rag, rag.cli, rag.engine; print([m for m in ('gradio', 'ui') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
