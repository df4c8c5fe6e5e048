"""Ingestion through the Python API: readers (.txt .md .pdf .html .docx), chunk metadata and exact
offsets, transcripts, and the incremental / idempotent behaviour against both store modes.

The `settings` fixture (conftest.py) runs a test once on an embedded Chroma store and once on a
real `chroma run` server, with the fast `hash` embedder."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from rag.chunk import Chunk, chunk_document
from rag.errors import RagError
from rag.indexer import file_hash, read_document, remove
from rag.settings import Settings, bundled_corpus_dir
from rag.store import Store
from rag.text import count_tokens

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PDFS = FIXTURES / "pdf"
CORPUS_FILE = "alibaba-dec-quarter-2024.txt"
SLACK = 3  # tokens: chunks are packed by summed unit counts, the joined text may count a little more


# --- helpers -----------------------------------------------------------------------------------

def chunks_of(path: Path, size: int = 180, overlap: int = 30) -> tuple[list, list[Chunk]]:
    """(pages, chunks) exactly as an ingest of `path` makes them."""
    title, pages, _ = read_document(path)
    chunks = chunk_document(pages, source=str(path.resolve()), title=title,
                            doc_hash=file_hash(path.read_bytes()), size=size, overlap=overlap)
    return pages, chunks


def assert_offsets_exact(pages, chunks: list[Chunk]) -> None:
    by_page = {p.page: p.text for p in pages}
    assert chunks
    for c in chunks:
        assert c.page in by_page, f"chunk {c.index} names page {c.page}, not one of {sorted(by_page, key=str)}"
        assert by_page[c.page][c.start:c.end] == c.text, f"chunk {c.index} of {c.source}: offsets are off"
        assert c.text.strip() == c.text and c.text


def stored_chunks(store: Store, source: str | None = None) -> list[Chunk]:
    got = store.chunks.get(where={"source": source} if source else None, include=["documents", "metadatas"])
    return sorted((Chunk.from_record(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"], strict=True)),
                  key=lambda c: (c.source, c.index))


def state(settings: Settings) -> dict:
    """Everything that identifies an index's content: documents, chunk ids and their owners."""
    store = Store(settings)
    keys = store.chunk_keys()
    return {"docs": {s: (m["doc_hash"], int(m["chunks"])) for s, m in store.documents().items()},
            "ids": sorted(i for i, _, _ in keys), "count": store.count()}


def assert_consistent(settings: Settings) -> None:
    """Every committed document has exactly its chunks, and there is no other chunk."""
    store = Store(settings)
    docs = store.documents()
    owners = Counter((s, h) for _, s, h in store.chunk_keys())
    assert owners == Counter({(s, m["doc_hash"]): int(m["chunks"]) for s, m in docs.items()})


def write_docx(path: Path) -> None:
    import docx

    d = docx.Document()
    d.add_heading("Widget Handbook", 0)
    d.add_paragraph("This handbook explains how to install a widget. Widgets must be mounted on a flat wall.")
    d.add_heading("Maintenance", 1)
    d.add_paragraph("Clean the widget every three months with a dry cloth. Replace the filter once a year.")
    d.save(path)


HTML = """<!doctype html><html><head><title>Gadget Guide</title>
<style>body { color: red }</style><script>var hidden = "SCRIPTSECRET";</script></head>
<body><h1>Gadget Guide</h1><p>A gadget measures the flow of water. It runs on two batteries.</p>
<h2>Safety</h2><p>Never open the gadget while it is wet. Keep it away from children.</p></body></html>
"""


def mixed_folder(root: Path) -> Path:
    """A folder with one file of each supported type, nested, plus things that must be skipped."""
    folder = root / "mixed"
    (folder / "sub" / "deeper").mkdir(parents=True)
    (folder / "plain.txt").write_text("Plain text notes. The widget costs 40 euros.\n")
    (folder / "sub" / "readme.md").write_text("# Readme Title\n\nMarkdown body about gadgets.\n")
    shutil.copy(PDFS / "report.pdf", folder / "sub" / "report.pdf")
    (folder / "sub" / "deeper" / "guide.html").write_text(HTML)
    write_docx(folder / "sub" / "deeper" / "handbook.docx")
    (folder / ".hidden.txt").write_text("never indexed\n")
    (folder / ".git").mkdir()
    (folder / ".git" / "config.txt").write_text("never indexed either\n")
    return folder


# --- API and report ------------------------------------------------------------------------------

def test_from_rag_import_ingest_and_report_keys(tiny_corpus, embedded_settings):
    from rag import ingest  # the name the README shows; Python binds it to the module rag.indexer

    report = ingest([tiny_corpus], embedded_settings)
    assert type(report).__name__ == "IngestReport"
    d = report.to_dict()
    assert {"added", "updated", "unchanged", "removed", "failed", "chunks"} <= set(d)
    assert (d["added"], d["updated"], d["unchanged"], d["removed"], d["failed"]) == (2, 0, 0, 0, [])
    assert d["chunks"] == report.embedded == Store(embedded_settings).count() > 0
    assert report.ok


def test_folder_recursive_all_types(tmp_path, embedded_settings):
    folder = mixed_folder(tmp_path)
    report = ingest_ok([folder], embedded_settings)
    assert report.failed == []
    store = Store(embedded_settings)
    docs = store.documents()
    names = {Path(s).name: m for s, m in docs.items()}
    assert set(names) == {"plain.txt", "readme.md", "report.pdf", "guide.html", "handbook.docx"}
    assert all(Path(s).is_absolute() for s in docs)
    assert names["report.pdf"]["title"] == "Widgetco Annual Report 2024"  # the PDF's /Title
    assert names["report.pdf"]["pages"] == 3
    assert names["guide.html"]["title"] == "Gadget Guide"
    assert names["readme.md"]["title"] == "Readme Title"
    assert names["handbook.docx"]["title"] == "Widget Handbook"
    texts = {Path(c.source).name: [] for c in stored_chunks(store)}
    for c in stored_chunks(store):
        texts[Path(c.source).name].append(c.text)
    joined = {k: "\n".join(v) for k, v in texts.items()}
    assert "Clean the widget every three months" in joined["handbook.docx"]
    assert "Never open the gadget while it is wet." in joined["guide.html"]
    assert "SCRIPTSECRET" not in joined["guide.html"] and "color: red" not in joined["guide.html"]
    assert "Spare parts 180 160 13%" in " ".join(joined["report.pdf"].split())
    assert report.chunks == store.count() == sum(int(m["chunks"]) for m in docs.values())


def ingest_ok(paths, settings, **kw):
    from rag.indexer import ingest

    report = ingest(paths, settings, **kw)
    assert report.ok, report.failed
    return report


# --- chunks --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["plain.txt", "sub/readme.md", "sub/report.pdf", "sub/deeper/guide.html",
                                  "sub/deeper/handbook.docx"])
def test_offsets_exact_for_every_reader(tmp_path, name):
    path = mixed_folder(tmp_path) / name
    pages, chunks = chunks_of(path, size=40, overlap=10)
    assert_offsets_exact(pages, chunks)
    if path.suffix == ".pdf":
        assert {c.page for c in chunks} == {1, 2, 3}
    else:
        assert {c.page for c in chunks} == {None}


def test_stored_metadata_round_trips(tmp_path, embedded_settings):
    """What Chroma gives back is the chunk that was made: text, page, section, offsets, ids."""
    folder = mixed_folder(tmp_path)
    ingest_ok([folder / "sub" / "report.pdf"], embedded_settings)
    _, expected = chunks_of(folder / "sub" / "report.pdf")
    assert stored_chunks(Store(embedded_settings)) == expected


@pytest.mark.parametrize("size,overlap", [(180, 30), (64, 20), (40, 15)])
def test_chunk_token_sizes(size, overlap):
    for path in (bundled_corpus_dir() / CORPUS_FILE, PDFS / "report.pdf", PDFS / "call.pdf"):
        pages, chunks = chunks_of(path, size, overlap)
        sizes = [count_tokens(c.text) for c in chunks]
        assert max(sizes) <= size + SLACK, f"{path.name}: a chunk of {max(sizes)} tokens for chunk_size {size}"
        if path.suffix == ".txt":  # and they are packed, not one sentence each
            assert sum(sizes) / len(sizes) > size / 2


def test_chunks_split_at_sentence_boundaries():
    sentences = [f"Sentence {i} says that widget number {i} weighs {i * 7} grams and ships from Lyon."
                 for i in range(120)]
    from rag.chunk import Page

    text = "\n".join(" ".join(sentences[i:i + 4]) for i in range(0, 120, 4))  # wrapped like a PDF
    chunks = chunk_document([Page(text)], source="s", title="t", doc_hash="h", size=60, overlap=15)
    assert len(chunks) > 10
    whole = re.compile(r"(?:Sentence \d+ says that widget number \d+ weighs \d+ grams and ships from Lyon\.\s*)+")
    for c in chunks:
        assert whole.fullmatch(c.text), f"chunk {c.index} cuts a sentence: {c.text[:60]!r}...{c.text[-40:]!r}"
    # consecutive chunks overlap by at most `overlap` tokens of whole sentences
    starts = [int(re.match(r"Sentence (\d+)", c.text).group(1)) for c in chunks]
    assert starts == sorted(starts) and starts[0] == 0
    assert "Sentence 119 " in chunks[-1].text


def test_pdf_table_split_by_lines():
    pages, chunks = chunks_of(PDFS / "report.pdf", size=40, overlap=10)
    table = {p.page: p.text for p in pages}[2]
    table_chunks = [c for c in chunks if c.page == 2]
    assert len(table_chunks) >= 4
    for c in table_chunks:
        assert c.start == 0 or table[c.start - 1] == "\n", f"chunk starts mid-line: {c.text[:40]!r}"
        assert c.end == len(table) or table[c.end] == "\n", f"chunk ends mid-line: {c.text[-40:]!r}"
    rows = [ln for ln in table.splitlines() if re.search(r"\d", ln)]
    assert len(rows) > 15
    for row in rows:
        assert any(row in c.text.splitlines() for c in table_chunks), f"row {row!r} is split"


def test_sections_and_pages_of_pdf():
    _, chunks = chunks_of(PDFS / "report.pdf", size=64, overlap=10)
    assert {c.section for c in chunks if c.page == 1} == {"Overview"}
    assert {c.section for c in chunks if c.page == 2} == {"Segment Results"}
    assert {c.section for c in chunks if c.page == 3} == {"Outlook"}
    assert all(c.title == "Widgetco Annual Report 2024" for c in chunks)
    [dividend] = [c for c in chunks if "dividend of EUR 1.10" in c.text]
    assert dividend.page == 1


def test_markdown_section(tiny_corpus):
    _, chunks = chunks_of(tiny_corpus / "acme-profile.md")
    [cfo] = [c for c in chunks if "Chief Financial Officer" in c.text]
    assert cfo.section == "Management"
    assert cfo.title == "Acme Corp profile"


def test_transcript_segments_and_analysts(tiny_corpus):
    pages, chunks = chunks_of(tiny_corpus / "acme-q3-call.txt", size=60, overlap=10)
    assert_offsets_exact(pages, chunks)

    def at(phrase: str) -> Chunk:
        found = [c for c in chunks if phrase in c.text]
        assert found, phrase
        return found[0]

    assert (at("Widget revenue grew 12%").segment, at("Widget revenue grew 12%").analyst) == ("Prepared remarks", None)
    pricing = at("Pricing in widgets improved by 2 points")
    assert (pricing.segment, pricing.analyst) == ("Q&A", "Dana Smith (Example Securities)")
    gadgets = at("weaker consumer spending")
    assert (gadgets.segment, gadgets.analyst) == ("Q&A", "Lee Park (Sample Capital)")
    # a chunk never mixes two questioners
    assert not any("Dana Smith" in c.text and "Lee Park" in c.text for c in chunks)


def test_transcript_state_carries_over_pdf_pages():
    """A PDF call transcript: the Q&A and the analyst continue after a page break."""
    pages, chunks = chunks_of(PDFS / "call.pdf")
    assert_offsets_exact(pages, chunks)
    by_phrase = {p: next(c for c in chunks if p in c.text) for p in (
        "Revenue for the quarter was EUR 650 million", "open the call for questions",
        "Prices in precision widgets rose", "We expect further increases next year",
        "What drove the growth in spare parts?")}
    got = {p: (c.page, c.segment, c.analyst) for p, c in by_phrase.items()}
    assert got == {
        "Revenue for the quarter was EUR 650 million": (1, "Prepared remarks", None),
        "open the call for questions": (2, "Q&A", None),
        "Prices in precision widgets rose": (2, "Q&A", "Dana Smith (Example Securities)"),
        "We expect further increases next year": (3, "Q&A", "Dana Smith (Example Securities)"),
        "What drove the growth in spare parts?": (3, "Q&A", "Lee Park (Sample Capital)"),
    }


def test_bundled_corpus_dir():
    corpus = bundled_corpus_dir()
    assert corpus.is_dir()
    assert (corpus / CORPUS_FILE).is_file()
    assert (corpus / CORPUS_FILE).stat().st_size > 10_000


def test_bundled_corpus_chunks():
    pages, chunks = chunks_of(bundled_corpus_dir() / CORPUS_FILE)
    assert_offsets_exact(pages, chunks)
    assert max(count_tokens(c.text) for c in chunks) <= 180 + SLACK
    analysts = {c.analyst for c in chunks if c.analyst}
    assert analysts == {"Alicia Yap (Citigroup)", "Alex Yao (JPMorgan)", "Kenneth Fong (UBS)",
                        "Ron Keung (Goldman Sachs)", "Yuan Liao (Citic Securities)", "Gary Yu (Morgan Stanley)",
                        "Jialong Shi (Nomura)"}
    citic = [c for c in chunks if c.analyst == "Yuan Liao (Citic Securities)"]
    assert citic and all(c.segment == "Q&A" for c in citic)
    assert any("Citic Securities" in c.text for c in citic)
    segments = [c.segment for c in chunks]
    first_qa = segments.index("Q&A")
    assert "Prepared remarks" in segments[:first_qa] and "Prepared remarks" not in segments[first_qa:]
    assert all(c.analyst is None for c in chunks if c.segment != "Q&A")
    assert len({c.id for c in chunks}) == len(chunks)


# --- bad text input in-process (the CLI variants are in test_cli_ingest.py) ----------------------

def test_latin1_read_with_warning(tmp_path, embedded_settings):
    f = tmp_path / "latin.txt"
    f.write_bytes("Le café coûte 3 euros à Zürich. La crème brûlée aussi.\n".encode("latin-1"))
    report = ingest_ok([f], embedded_settings)
    assert report.added == [str(f)] and report.failed == []
    assert [w["path"] for w in report.warnings] == [str(f)]
    assert "UTF-8" in report.warnings[0]["warning"]
    [chunk] = stored_chunks(Store(embedded_settings))
    assert chunk.text == "Le café coûte 3 euros à Zürich. La crème brûlée aussi."


def test_unreadable_file_reported(tmp_path, embedded_settings, monkeypatch):
    """Permission denied, simulated (tests run as root, where chmod 000 does not block reading);
    test_cli_ingest.py has the real chmod variant for non-root runs."""
    good, locked = tmp_path / "good.txt", tmp_path / "locked.txt"
    good.write_text("Good file about widgets.\n")
    locked.write_text("Secret file.\n")
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    report = ingest_ok([tmp_path], embedded_settings)
    assert report.added == [str(good)]
    assert report.failed == [{"path": str(locked), "error": "cannot read: Permission denied"}]


# --- incremental and idempotent (both store modes) -------------------------------------------------

def test_reingest_unchanged_embeds_nothing(tiny_corpus, settings):
    first = ingest_ok([tiny_corpus], settings)
    assert len(first.added) == 2 and first.embedded == first.chunks > 0
    before = state(settings)
    second = ingest_ok([tiny_corpus], settings)
    assert second.embedded == 0
    assert (len(second.added), len(second.updated), len(second.unchanged)) == (0, 0, 2)
    assert state(settings) == before
    assert second.chunks == before["count"]
    assert_consistent(settings)


def test_ids_are_content_hashes(tiny_corpus, settings, tmp_path):
    """The same files give the same ids in any index: ids come from content, not from the run."""
    ingest_ok([tiny_corpus], settings)
    other = Settings.load(index_dir=str(tmp_path / "other-index"), embed_model="hash")
    ingest_ok([tiny_corpus], other)
    assert state(settings)["ids"] == state(other)["ids"]
    expected = sorted(c.id for f in sorted(tiny_corpus.iterdir()) for c in chunks_of(f)[1])
    assert state(settings)["ids"] == expected


def test_changed_file_replaces_its_chunks(tiny_corpus, settings):
    ingest_ok([tiny_corpus], settings)
    store = Store(settings)
    call = str((tiny_corpus / "acme-q3-call.txt").resolve())
    profile = tiny_corpus / "acme-profile.md"
    call_ids = {c.id for c in stored_chunks(store, call)}
    old_hash = store.documents()[str(profile.resolve())]["doc_hash"]

    profile.write_text(profile.read_text().replace("founded in 1987", "founded in 1990")
                       + "\nAcme opened a plant in Lisbon in 2024.\n")
    report = ingest_ok([tiny_corpus], settings)
    assert (len(report.added), len(report.updated), len(report.unchanged)) == (0, 1, 1)
    new_chunks = chunks_of(profile)[1]
    assert report.embedded == len(new_chunks)

    store = Store(settings)
    stored = stored_chunks(store, str(profile.resolve()))
    assert stored == new_chunks
    assert all(c.doc_hash != old_hash for c in stored)
    all_text = "\n".join(c.text for c in stored_chunks(store))
    assert "founded in 1987" not in all_text and "plant in Lisbon" in all_text
    assert {c.id for c in stored_chunks(store, call)} == call_ids  # the other document is untouched
    assert report.chunks == store.count()
    assert_consistent(settings)


def test_remove_by_name_and_by_path(tiny_corpus, settings):
    ingest_ok([tiny_corpus], settings)
    docs = Store(settings).documents()
    profile = str((tiny_corpus / "acme-profile.md").resolve())
    call = str((tiny_corpus / "acme-q3-call.txt").resolve())

    assert remove("acme-profile.md", settings) == (profile, int(docs[profile]["chunks"]))
    store = Store(settings)
    assert set(store.documents()) == {call}
    assert not store.chunks.get(where={"source": profile}, include=[])["ids"]

    assert remove(call, settings) == (call, int(docs[call]["chunks"]))
    assert Store(settings).documents() == {} and Store(settings).count() == 0

    with pytest.raises(RagError, match="rag list"):
        remove("acme-profile.md", settings)


def test_remove_ambiguous_name(tmp_path, settings):
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "notes.txt").write_text(f"Notes of folder {d}. Widgets are sold here.\n")
    ingest_ok([tmp_path / "a", tmp_path / "b"], settings)
    with pytest.raises(RagError) as err:
        remove("notes.txt", settings)
    msg = str(err.value)
    assert "full path" in msg and str(tmp_path / "a" / "notes.txt") in msg and str(tmp_path / "b" / "notes.txt") in msg
    assert remove(str(tmp_path / "b" / "notes.txt"), settings)[0] == str(tmp_path / "b" / "notes.txt")
    assert set(Store(settings).documents()) == {str(tmp_path / "a" / "notes.txt")}


def test_prune_removes_only_files_gone_from_the_folder(tmp_path, settings):
    def write(rel: str) -> Path:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"This is {rel}. It talks about widgets and gadgets.\n")
        return p

    a, b, c = write("docs/a.txt"), write("docs/b.txt"), write("docs/sub/c.md")
    d = write("docs-old/d.txt")  # a sibling whose name starts like the folder's
    e = write("other/e.txt")
    single = write("single.txt")
    ingest_ok([tmp_path / "docs", tmp_path / "docs-old", tmp_path / "other", single], settings)
    assert len(Store(settings).documents()) == 6

    for p in (a, c, d, e, single):
        p.unlink()
    kept = ingest_ok([tmp_path / "docs"], settings)  # no --prune: nothing is removed
    assert kept.removed == [] and len(Store(settings).documents()) == 6

    report = ingest_ok([tmp_path / "docs"], settings, prune=True)
    assert sorted(report.removed) == sorted([str(a), str(c)])
    store = Store(settings)
    assert set(store.documents()) == {str(b), str(d), str(e), str(single)}
    assert {s for _, s, _ in store.chunk_keys()} == set(store.documents())
    assert report.chunks == store.count()

    # pruning with only a file named (no folder) removes nothing
    assert ingest_ok([b], settings, prune=True).removed == []
    assert_consistent(settings)


def test_report_chunks_counts_the_whole_index(tmp_path, tiny_corpus, settings):
    ingest_ok([tiny_corpus / "acme-profile.md"], settings)
    report = ingest_ok([tiny_corpus / "acme-q3-call.txt"], settings)
    assert report.chunks == Store(settings).count() > report.embedded > 0


@pytest.mark.integration
def test_real_model_ingest_and_query(tiny_corpus, tmp_path):
    """The one test with the real MiniLM model: vectors are 384-d, normalised, and rank sensibly."""
    import numpy as np

    from rag.embed import get_embedder

    s = Settings.load(index_dir=str(tmp_path / "index"))
    report = ingest_ok([tiny_corpus], s)
    assert report.embedded > 0
    store = Store(s)
    got = store.chunks.get(include=["embeddings"], limit=1)
    vec = np.asarray(got["embeddings"][0])
    assert vec.shape == (384,) and abs(np.linalg.norm(vec) - 1) < 1e-3
    ids, sims = store.query(get_embedder(s.embed_model).embed_query("Who is the chief financial officer?"), 3)
    top = store.chunks.get(ids=[ids[0]], include=["documents"])["documents"][0]
    assert "Chief Financial Officer" in top and sims[0] > 0.3


FILING_HTML = """<html><body>
<div style="display:none"><ix:header><ix:hidden>0001018724 FY 2025-12-31</ix:hidden></ix:header></div>
<p>Net sales increased <span>11</span>% to $<span>5.3</span> billion.</p>
<p>CONSOLIDATED STATEMENTS OF OPERATIONS</p><p>(in millions)</p>
<table>
<tr><td></td><td colspan="2">Year Ended December 31,</td></tr>
<tr><td></td><td>2024</td><td>2025</td></tr>
<tr><td>Total net sales</td><td>$</td><td>637,959</td><td>$</td><td>716,924</td></tr>
<tr><td>Provision for income taxes</td><td>(</td><td>9,265</td><td>)</td><td>(</td><td>19,087</td><td>)</td></tr>
</table></body></html>"""


def test_an_html_filing_reads_as_lines_its_tables_as_rows(tmp_path):
    """Inline runs stay in their line; a table row is one line of its cells, which the fact reader
    reads as a statement row; an inline XBRL filing's hidden header is no text."""
    from rag.facts import read_rows
    from rag.indexer import read_document

    path = tmp_path / "ACME_2025_10K.htm"
    path.write_text(FILING_HTML)
    _, pages, _ = read_document(path)
    text = pages[0].text
    assert "Net sales increased 11% to $5.3 billion." in text
    assert "Provision for income taxes (9,265) (19,087)" in text and "0001018724" not in text
    rows = {r.label: r for r in read_rows(text, None)}
    assert [c.value for c in rows["Total net sales"].cells] == [637959.0, 716924.0]
    assert rows["Provision for income taxes"].statement == "income"
    assert [c.period.year for c in rows["Provision for income taxes"].cells] == [2024, 2025]


def test_an_edgar_text_document_is_read_page_by_page_without_its_markup(tmp_path):
    doc = tmp_path / "acme-10k.txt"
    doc.write_text("<DOCUMENT>\n<TYPE>10-K\n<SEQUENCE>1\n<TEXT>\n<PAGE>\n\n=================\n\n   ACME CORP ANNUAL REPORT\n"
                   "\nWe make widgets.\n<PAGE>\nIncome Statements\n<TABLE>\n<CAPTION>\n------------------\n"
                   "Year Ended June 30      2000      2001\n------------------\n<S>                    <C>       <C>\n"
                   "Revenue               $19,747   $22,956\n</TABLE>\n</TEXT>\n</DOCUMENT>\n", encoding="utf-8")
    title, pages, _ = read_document(doc)
    assert title == "ACME CORP ANNUAL REPORT"  # a rule ("=====") is no title
    assert [p.page for p in pages] == [1, 2]
    assert not any(re.search(r"<(?:/?[A-Z]+|S|C)>", p.text) for p in pages)
    assert "Revenue               $19,747   $22,956" in pages[1].text


# a filing's text as HTML-to-text tools leave it: each table cell on a line of its own
CELL_PER_LINE = "\n".join([
    "ACME CORP", "CONSOLIDATED STATEMENTS OF OPERATIONS", "(In millions)", "Years ended", "September 30,", "2023",
    "September 24,", "2022", "Net sales:", "Products", "$", "298,085", "$", "316,199", "Services", "85,200", "78,129",
    "Total net sales", "383,285", "394,328", "Other income/(expense), net", "(", "565", ")", "(", "334", ")",
    "Effective tax rate", "14.7", "%", "16.2", "%", "Segment operating income", "$", "150,888", "$", "152,895",
    "(1)", "Includes corporate marketing expenses.",
    "Total net sales include $", "8.2", "billion of revenue recognized in 2023, and the Company expects", "67",
    "% of deferred revenue to be realized within a year.",
    "The following table shows net sales by category (in millions):", "2023", "Change", "2022",
    "iPhone", "$", "200,583", "(", "2", ")", "%", "$", "205,489", "iPad", "28,300", "(", "3", ")", "%", "29,292",
    "Acme Corp. | 2023 Form 10-K | 27"])


def test_a_text_with_a_table_cell_on_each_line_reads_its_rows_back(tmp_path):
    """Text taken out of an HTML filing one cell per line ("Total net sales" / "383,285" / "394,328")
    is read with each row on one line, its column headers on one line, a figure inside a sentence
    back in the sentence and a footnote's mark with its note; the statement's rows are read as facts."""
    from rag.facts import read_rows
    from rag.indexer import read_document

    path = tmp_path / "ACME_FY2023_10K.txt"
    path.write_text(CELL_PER_LINE, encoding="utf-8")
    text = read_document(path)[1][0].text
    lines = text.splitlines()
    assert "Years ended September 30, 2023 September 24, 2022" in lines
    assert "Products $ 298,085 $ 316,199" in lines and "Other income/(expense), net (565) (334)" in lines
    assert "Effective tax rate 14.7 % 16.2 %" in lines
    assert "Segment operating income $ 150,888 $ 152,895" in lines  # the "(1)" below is the note's
    assert "(1) Includes corporate marketing expenses." in lines
    assert "Total net sales include $8.2 billion of revenue recognized in 2023, and the Company expects 67% of " \
           "deferred revenue to be realized within a year." in lines
    assert "2023 Change 2022" in lines and "iPhone $ 200,583 (2) % $ 205,489" in lines  # "iPad" opens no sentence
    assert "iPad 28,300 (3) % 29,292" in lines
    rows = {r.label: r for r in read_rows(text, None)}
    assert [(c.value, c.period.year) for c in rows["Total net sales"].cells] == [(383285.0, 2023), (394328.0, 2022)]
    assert [c.value for c in rows["Other income/(expense), net"].cells] == [-565.0, -334.0]


def test_a_markdown_table_is_read_as_rows_under_its_columns(tmp_path):
    """A statement as PDF-to-Markdown tools write it ("| Total revenues | $ 1,000 | $ 800 |" under a
    "|---|---:|" rule): each row one line of its cells, each figure under its column's period; a
    "|" in prose is left alone."""
    from rag.facts import read_rows
    from rag.indexer import read_document

    path = tmp_path / "ACME_2024_10K.md"
    path.write_text("# Acme Corp annual report\n\nPrices rose | volumes fell.\n\n## Consolidated Statements of "
                    "Operations\n(In millions)\n\n| | Year ended December 31, 2024 | Year ended December 31, 2023 |\n"
                    "|---|---:|---:|\n| Total revenues | $ 1,000 | $ 800 |\n| Other income (expense), net | ( 25 ) | 10 |"
                    "\n\nMore prose.\n", encoding="utf-8")
    page = read_document(path)[1][0]
    lines = page.text.splitlines()
    assert "Total revenues $ 1,000 $ 800" in lines and "Other income (expense), net (25) 10" in lines
    assert "Prices rose | volumes fell." in lines and not any(set(ln) <= set("|-: ") for ln in lines if ln)
    rows = {r.label: r for r in read_rows(page.text, page.layout, indents=page.indents)}
    assert [(c.value, c.period.year) for c in rows["Total revenues"].cells] == [(1000.0, 2024), (800.0, 2023)]
    assert [c.value for c in rows["Other income (expense), net"].cells] == [-25.0, 10.0]


def test_text_with_few_lone_figures_is_read_as_it_is():
    from rag.indexer import rejoin_cells

    prose = "Revenue was\n12\nbillion.\nPage\n3\n" + "A line of prose in the report.\n" * 40
    assert rejoin_cells(prose) == prose


def _html_rows(tmp_path, body: str):
    from rag.facts import read_rows
    from rag.indexer import read_document

    path = tmp_path / "ACME_2025_10K.htm"
    path.write_text(f"<html><body>{body}</body></html>")
    _, pages, _ = read_document(path)
    return read_rows(pages[0].text, pages[0].layout, indents=pages[0].indents)


def test_an_html_tables_figure_is_read_under_the_column_it_stands_in(tmp_path):
    """Cells keep their columns (colspan counted): a row with an empty cell gives its one figure to
    the period it stands under, not to the first; a change column's percentage is no period's."""
    rows = {r.label: r for r in _html_rows(tmp_path, """<p>Consolidated Statements of Operations (in millions)</p><table>
<tr><td></td><td colspan="3">2025</td><td></td><td colspan="3">2024</td><td></td><td>Change</td></tr>
<tr><td>Net sales</td><td>$</td><td>7,107</td><td></td><td></td><td>$</td><td>7,341</td><td></td><td></td><td>(3)%</td></tr>
<tr><td>Restructuring charges</td><td></td><td></td><td></td><td></td><td></td><td>42</td><td></td><td></td><td></td></tr>
<tr><td>Operating income</td><td>$</td><td>982</td><td></td><td></td><td>$</td><td>1,101</td><td></td><td></td><td>(11)%</td></tr>
</table>""")}
    assert [(c.period.year, c.value) for c in rows["Net sales"].cells] == [(2025, 7107.0), (2024, 7341.0)]
    assert [(c.period.year, c.value) for c in rows["Restructuring charges"].cells] == [(2024, 42.0)]


# Clorox's segment note as its 10-K prints it: the segments as columns, the years as rows
SEGMENT_NOTE = Path(__file__).resolve().parent / "fixtures" / "html" / "segment-note.htm"


def test_a_table_whose_columns_are_segments_and_rows_years_is_read_as_each_segments_row(tmp_path):
    """A segment note printing its segments as columns and its years as rows ("Net sales 2022 $
    2,690 $ 1,984 ... / 2021 2,980 1,981 ...") is read as one row per measure and segment, a cell
    per year; a segment with a dash in every year (Corporate's sales) has no row of that measure. A
    label spanning two rows (rowspan) keeps the next row's cells in their columns."""
    from rag.facts import read_rows
    from rag.indexer import read_document

    page = read_document(SEGMENT_NOTE)[1][0]
    rows = {r.path: r for r in read_rows(page.text, page.layout, indents=page.indents)}
    household = rows[("Net sales", "Household")]
    assert [(c.period.year, c.value) for c in household.cells] == [(2022, 1984.0), (2021, 1981.0)]
    assert household.statement == "segment" and household.scale == 1e6 and household.unit == "USD"
    assert [c.value for c in rows[("Net sales", "Health and Wellness")].cells] == [2690.0, 2980.0]  # no "(1)"
    assert ("Net sales", "Corporate") not in rows
    assert [c.value for c in rows[("Earnings before income taxes", "Corporate")].cells] == [-304.0, -301.0]
    assert "Net sales 2022 $ 2,690" in household.text and household.text.endswith("4,961")


def test_a_captions_sentence_ends_the_table_above_it(tmp_path):
    """A table right below another, its caption a sentence ("Net sales ... by geographic area were as
    follows:"), is read as its own: the geographic table's columns are regions, not the years of
    the percentage table above it."""
    rows = _html_rows(tmp_path, (
        "<table><tr><td></td><td>2022</td><td>2021</td></tr><tr><td>Cleaning products</td><td>42%</td><td>43%</td></tr>"
        "<tr><td>Bags and wraps</td><td>16%</td><td>14%</td></tr></table>"
        "<p>Net sales and property, plant and equipment, net, by geographic area were as follows:</p>"
        "<table><tr><td></td><td>Fiscal Year</td><td>United States</td><td>Foreign</td><td>Total Company</td></tr>"
        "<tr><td>Net sales</td><td>2022</td><td>$ 5,951</td><td>$ 1,156</td><td>$ 7,107</td></tr>"
        "<tr><td></td><td>2021</td><td>6,207</td><td>1,134</td><td>7,341</td></tr></table>"))
    got = {r.path: r for r in rows}
    assert [(c.period.year, c.value) for c in got[("Net sales", "United States")].cells] == [(2022, 5951.0),
                                                                                             (2021, 6207.0)]
    assert [c.value for c in got[("Net sales", "Total Company")].cells] == [7107.0, 7341.0]


def test_a_one_period_table_whose_columns_are_segments_is_read_as_each_segments_row(tmp_path):
    """A year on a line of its own, the segments' names under it, a row per measure: each figure is
    its segment's for that year, not the year's figure of the whole line."""
    rows = _html_rows(tmp_path, """<p>Information by reportable segment (in millions):</p><table>
<tr><td></td><td colspan="9">2025</td></tr>
<tr><td></td><td colspan="2">Americas</td><td></td><td colspan="2">Europe</td><td></td><td colspan="2">Japan</td><td></td>
<td colspan="2">Total</td></tr>
<tr><td>Net sales</td><td>$</td><td>178,353</td><td></td><td>$</td><td>111,032</td><td></td><td>$</td><td>28,703</td><td></td>
<td>$</td><td>318,088</td></tr>
<tr><td>Operating income</td><td>$</td><td>72,480</td><td></td><td>$</td><td>47,739</td><td></td><td>$</td><td>13,955</td><td></td>
<td>$</td><td>134,174</td></tr>
</table>""")
    got = {r.path: [(c.period.year, c.value) for c in r.cells] for r in rows}
    assert got[("Net sales", "Europe")] == [(2025, 111032.0)]
    assert got[("Operating income", "Japan")] == [(2025, 13955.0)]
    assert not any(r.path == ("Net sales",) for r in rows)


def test_a_roll_forward_by_segment_reads_balances_at_their_dates(tmp_path):
    """Segments as columns, no period over them, the dates in the balance rows' labels: a balance
    is the segment's figure at its date, a change between two balances the year's that ends at the
    later one; the line over the segments ("Goodwill") names what they hold."""
    rows = _html_rows(tmp_path, """<p>The changes in the carrying amount of goodwill by reportable segment were as follows:</p>
<p>Goodwill</p><table>
<tr><td></td><td colspan="2">Household</td><td></td><td colspan="2">International</td><td></td><td colspan="2">Total</td></tr>
<tr><td>Balance as of June 30, 2021</td><td>$</td><td>85</td><td></td><td>$</td><td>617</td><td></td><td>$</td><td>702</td></tr>
<tr><td>Effect of foreign currency translation</td><td></td><td>&#8212;</td><td></td><td></td><td>(17)</td><td></td><td></td>
<td>(17)</td></tr>
<tr><td>Balance as of June 30, 2022</td><td>$</td><td>85</td><td></td><td>$</td><td>600</td><td></td><td>$</td><td>685</td></tr>
</table>""")
    got = {r.path: [(c.period.label, c.period.instant, c.value) for c in r.cells] for r in rows}
    assert got[("Goodwill", "Balance as of June 30, 2022", "International")] == [("June 30, 2022", True, 600.0)]
    assert got[("Goodwill", "Effect of foreign currency translation", "International")] == [
        ("Year Ended June 30, 2022", False, -17.0)]
    assert ("Goodwill", "Effect of foreign currency translation", "Household") not in got  # a dash: none
    assert got[("Goodwill", "Balance as of June 30, 2021", "Total")] == [("June 30, 2021", True, 702.0)]


def test_an_amount_beside_its_share_under_one_year_is_the_years_figure(tmp_path):
    """Each year over two columns, "Net Sales" and "% of Net Sales": the year's figure is the amount,
    though the share stands nearer the year's head (centered over both)."""
    rows = {r.label: r for r in _html_rows(tmp_path, """<p>Net sales by merchandising department (dollars in millions)</p>
<table><tr><td></td><td colspan="5">2019</td><td></td><td colspan="5">2018</td></tr>
<tr><td>dollars in millions</td><td colspan="2">Net Sales</td><td></td><td colspan="2">% of Total Net Sales</td><td></td>
<td colspan="2">Net Sales</td><td></td><td colspan="2">% of Total Net Sales</td></tr>
<tr><td>Appliances</td><td>$</td><td>9,852</td><td></td><td>8.9</td><td>%</td><td></td><td>$</td><td>9,027</td><td></td>
<td>8.3</td><td>%</td></tr>
<tr><td>Indoor Garden</td><td></td><td>10,989</td><td></td><td>10.0</td><td></td><td></td><td></td><td>10,450</td><td></td>
<td>9.7</td><td></td></tr>
<tr><td>Total</td><td>$</td><td>110,225</td><td></td><td>100.0</td><td>%</td><td></td><td>$</td><td>108,203</td><td></td>
<td>100.0</td><td>%</td></tr>
</table>""")}
    assert [(c.period.year, c.value) for c in rows["Indoor Garden"].cells] == [(2019, 10989.0), (2018, 10450.0)]
    assert [(c.period.year, c.value) for c in rows["Appliances"].cells] == [(2019, 9852.0), (2018, 9027.0)]
