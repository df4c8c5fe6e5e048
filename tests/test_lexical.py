"""The word index kept beside the store (rag.lexical): the same BM25 scores bm25s computes, the
same counts the engine used to take from every chunk, a start that reads no chunk, a stale or
missing snapshot merged again, and a reader that keeps what it mapped while a writer replaces it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import bm25s
import numpy as np
import pytest

from rag import lexical
from rag.chunk import Chunk
from rag.engine import Engine
from rag.indexer import ingest, remove
from rag.lexical import build, lexical_dir, state_of, write_segment
from rag.retrieve import bm25_text, bm25_tokens
from rag.store import Store

TEXTS = [
    "Revenue grew 12% to $4,200 million, driven by U.S. demand and R&D-led products.",
    "Operating income was $1,100 million; the company's margin widened. Revenue rose again.",
    "Cash flow from operations: $900 million. Capital expenditures were $300 million.",
    "The U.S.-based segment's revenue fell; R&D expense rose 4% (e.g. new hires).",
    "Question from Jane Roe, Goldman Sachs: how should we think about cloud margins?",
    "Answer: cloud margins improve as scale grows. Revenue revenue revenue.",
    "Question from Jane Roe, Goldman Sachs: and the share repurchase program?",
    "Question from Max Poe, Morgan Stanley: what about capital expenditures in the U.S.?",
]


def _chunks(source: str, doc_hash: str, texts: list[str], title: str, analysts=None) -> list[Chunk]:
    out, pos = [], 0
    for i, t in enumerate(texts):
        out.append(Chunk(id=f"{doc_hash[:8]}{i:024d}", text=t, source=source, title=title,
                         page=1 + i // 3, section=None, segment=None, speaker=None,
                         analyst=(analysts or {}).get(i), start=pos, end=pos + len(t), doc_hash=doc_hash, index=i))
        pos += len(t) + 2
    return out


class _Docs:
    """A store with nothing but document records and, for an unseen one, its chunks."""

    def __init__(self, docs: dict[str, list[Chunk]]) -> None:
        self.by_source = docs
        self.fetched: list[str] = []

    def documents(self):
        return {s: {"doc_hash": cs[0].doc_hash} for s, cs in self.by_source.items()}

    def document_chunks(self, source, doc_hash):
        self.fetched.append(source)
        cs = self.by_source[source]
        return cs, np.eye(len(cs), 8, dtype=np.float32)


@pytest.fixture
def two_docs(tmp_path):
    a = _chunks("/d/WIDGET_2023_10K.txt", "a" * 64, TEXTS[:4], "Widget Corp Annual Report")
    b = _chunks("/d/GADGET_2023_CALL.txt", "b" * 64, TEXTS[4:], "Gadget Inc earnings call",
                analysts={0: "Jane Roe", 1: "Jane Roe", 2: "Jane Roe", 3: "Max Poe"})
    folder = tmp_path / "lex"
    for cs in (a, b):
        write_segment(folder / "segments", cs, np.eye(len(cs), 8, dtype=np.float32))
    return folder, _Docs({a[0].source: a, b[0].source: b}), a, b


def _bm25s(chunks: list[Chunk]):
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(t, len(vocab)) for t in bm25_tokens(bm25_text(c))] for c in chunks]
    bm = bm25s.BM25()
    bm.index(bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), show_progress=False)
    return bm, vocab


def test_scores_are_bm25s_scores_exactly(two_docs):
    folder, store, a, b = two_docs
    lex = build(store, folder, store.documents(), quiet=True)
    chunks = sorted(a + b, key=lambda c: (c.source, c.index))  # document order: by source, then index
    assert [i.decode() for i in lex.ids] == [c.id for c in chunks]
    bm, vocab = _bm25s(chunks)
    for q in ["revenue grew", "cloud margins revenue", "capital expenditures U.S.", "revenue revenue", "share"]:
        toks = [t for t in bm25_tokens(q) if t in vocab]
        assert np.array_equal(bm.get_scores([vocab[t] for t in toks]), lex.scores([lex.vocab[t] for t in toks])), q


def test_a_span_scores_only_its_own_chunks(two_docs):
    folder, store, a, b = two_docs
    lex = build(store, folder, store.documents(), quiet=True)
    t = [lex.vocab["revenu"]]
    whole, part = lex.scores(t), lex.scores(t, [lex.span[a[0].source]])
    lo, hi = lex.span[a[0].source]
    assert np.array_equal(part[lo:hi], whole[lo:hi]) and not part[:lo].any() and not part[hi:].any()
    assert whole[:lo].any() or whole[hi:].any()  # the other document holds the word too


def test_frequencies_are_those_of_the_chunks(two_docs):
    folder, store, a, b = two_docs
    lex = build(store, folder, store.documents(), quiet=True)
    chunks = a + b
    for term in {t for c in chunks for t in bm25_tokens(bm25_text(c))}:
        assert lex.term_df(term) == sum(term in bm25_tokens(bm25_text(c)) for c in chunks), term
    # a term with punctuation counts the chunks that spell it at a word's start, as a regex would
    for term in ["u.s", "r&d", "company's", "e.g", "s.-based", "u.s.-based", "x&y"]:
        pat = re.compile(r"(?<!\w)" + re.escape(term), re.I)
        assert lex.punct_df(term) == sum(1 for c in chunks if pat.search(c.text)), term


def test_turns_names_and_positions(two_docs):
    folder, store, a, b = two_docs
    lex = build(store, folder, store.documents(), quiet=True)
    lo, _ = lex.span[b[0].source]
    assert lex.turn_openers(b[0].source) == [lo, lo + 3]  # Jane Roe's turn (three chunks), then Max Poe's
    assert lex.turn_openers(a[0].source) == []
    assert lex.doc_names[a[0].source] >= {"widget"} and "gadget" not in lex.doc_names[a[0].source]
    assert lex.file_df["widget"] == len(a)
    assert lex.position([b[2].id, "f" * 32, a[0].id]) == [lo + 2, None, lex.span[a[0].source][0]]
    c = a[1]
    assert lex.chunk_at(c.source, c.page, c.start + 1, c.end - 1) == lex.span[c.source][0] + 1


def test_a_document_not_seen_here_is_read_from_the_store_once(two_docs, capsys):
    folder, store, a, b = two_docs
    shutil.rmtree(folder / "segments")
    write_segment(folder / "segments", a, np.eye(len(a), 8, dtype=np.float32))
    build(store, folder, store.documents())
    assert store.fetched == [b[0].source] and "indexing the words" in capsys.readouterr().err
    build(store, folder, store.documents())
    assert store.fetched == [b[0].source]  # its segment was kept


def test_a_stale_snapshot_is_merged_again_and_the_old_one_removed(two_docs, monkeypatch):
    folder, store, a, b = two_docs
    docs = store.documents()
    first = build(store, folder, docs, quiet=True)
    assert lexical.load(folder, state_of(docs)).path == first.path
    del store.by_source[b[0].source]
    monkeypatch.setattr(lexical, "SEGMENT_GRACE", -1.0)
    assert lexical.load(folder, state_of(store.documents())) is None  # another version: stale
    second = build(store, folder, store.documents(), quiet=True)
    assert second.n == len(a) and not first.path.exists()
    assert first.scores([first.vocab["revenu"]]).any()  # what a reader mapped stays readable
    assert not list((folder / "segments").glob(f"{lexical.segment_key(b[0].source, b[0].doc_hash)}*"))


def test_an_empty_store_gives_an_empty_snapshot(tmp_path):
    lex = build(_Docs({}), tmp_path / "lex", {}, quiet=True)
    assert lex.n == 0 and lex.position(["0" * 32]) == [None] and lex.scores([]).size == 0


# --- through the store ---------------------------------------------------------------------------

def test_an_engine_starts_without_reading_the_chunks(tiny_corpus, settings, monkeypatch):
    ingest([tiny_corpus], settings)
    expected = Engine(settings).ask("What was total revenue?")

    def no(*a, **k):
        raise AssertionError("the engine read every chunk")

    monkeypatch.setattr(Store, "committed_chunks", no)
    monkeypatch.setattr(Store, "_pages", no)
    got = Engine(settings).ask("What was total revenue?")
    assert got.text == expected.text and got.citations == expected.citations


def test_a_fresh_client_builds_its_copy_once_and_answers_alike(tiny_corpus, settings, capsys):
    ingest([tiny_corpus], settings)
    before = Engine(settings)
    expected = before.ask("How many employees does Acme have?")
    shutil.rmtree(lexical_dir(settings, Store(settings)))  # another machine: nothing of the word index here
    capsys.readouterr()
    engine = Engine(settings)
    assert "indexing the words" in capsys.readouterr().err
    assert engine.ask("How many employees does Acme have?").text == expected.text
    Engine(settings)
    assert "indexing the words" not in capsys.readouterr().err


def test_an_ingest_or_a_removal_moves_the_snapshot(tiny_corpus, settings):
    files = sorted(f for f in tiny_corpus.iterdir() if f.suffix != ".toml")
    ingest(files[:1], settings)
    n1 = Engine(settings).retriever.lex.n
    ingest(files, settings)
    engine = Engine(settings)
    assert engine.retriever.lex.n > n1 and len(engine.chunks) == engine.retriever.lex.n
    remove(str(files[0]), settings)
    engine = Engine(settings)
    assert str(files[0].resolve()) not in engine.retriever.lex.span
    assert len(engine.chunks) == sum(int(m["chunks"]) for m in Store(settings).documents().values())


def test_routed_dense_search_is_exact_and_agrees_with_chroma(tiny_corpus, embedded_settings):
    ingest([tiny_corpus], embedded_settings)
    engine = Engine(embedded_settings)
    r = engine.retriever
    source = max(r.lex.span, key=lambda s: r.lex.span[s][1] - r.lex.span[s][0])
    v = engine.embedder.embed_query("revenue growth in the quarter")
    exact = r._exact(v, 5, [source])
    ids, sims = engine.store.query(v, 5, [source])
    assert [i for i, _ in exact] == r.lex.position(ids)
    assert np.allclose([s for _, s in exact], sims, atol=1e-5)


def test_a_small_index_is_searched_exactly_and_agrees_with_chroma(tiny_corpus, embedded_settings, monkeypatch):
    from rag import retrieve

    ingest([tiny_corpus], embedded_settings)
    engine = Engine(embedded_settings)
    r = engine.retriever
    v = engine.embedder.embed_query("revenue growth in the quarter")
    asked: list = []
    monkeypatch.setattr(engine.store, "query", lambda *a, **k: asked.append(a) or Store.query(engine.store, *a, **k))
    exact = r.dense_search(v, 6)
    assert asked == [] and len(exact) == 6
    monkeypatch.setattr(retrieve, "EXACT_ALL", 0)
    chroma = r.dense_search(v, 6)
    assert len(asked) == 1 and [i for i, _ in exact] == [i for i, _ in chroma]
    assert np.allclose([s for _, s in exact], [s for _, s in chroma], atol=1e-5)


def test_chunks_are_fetched_for_the_hits_only(tiny_corpus, embedded_settings, monkeypatch):
    ingest([tiny_corpus], embedded_settings)
    engine = Engine(embedded_settings)
    asked: list[str] = []
    real = engine.store.fetch_chunks
    monkeypatch.setattr(engine.store, "fetch_chunks", lambda ids: asked.extend(ids) or real(ids))
    hits = engine.retriever.retrieve("total revenue", k=2)
    assert len(hits) == 2 and sorted(asked) == sorted(h.chunk.id for h in hits) and len(engine.chunks) > 2
    engine.retriever.retrieve("total revenue", k=2)
    assert len(asked) == 2  # the second time from the cache


def test_a_read_only_index_keeps_its_word_index_in_the_cache(tmp_path, monkeypatch):
    from rag.settings import Settings

    s = Settings.load(index_dir=str(tmp_path / "index"), embed_model="hash")
    store = Store(s, create=True)
    assert lexical_dir(s, store) == Path(s.index_dir) / "lexical" / str(store.chunks.id)
    monkeypatch.setattr(lexical.os, "access", lambda p, mode: False)
    assert lexical_dir(s, store) == tmp_path / "cache" / "rag-qa" / "lexical" / str(store.chunks.id)


def test_a_full_cache_never_loses_a_chunk_it_was_asked_for(tiny_corpus, embedded_settings, monkeypatch):
    from rag.retrieve import ChunkTable

    ingest([tiny_corpus], embedded_settings)
    engine = Engine(embedded_settings)
    monkeypatch.setattr(ChunkTable, "CACHE", 2)
    table = ChunkTable(engine.retriever.lex, engine.store)
    n = len(table)
    assert n > 4 and len(table.get(range(4))) == 4
    assert set(table.fetch([0, n - 1, 1])) == {0, n - 1, 1}  # cached and fetched alike, all kept
    assert [c.id for c in table] == [c.id for c in engine.store.committed_chunks()]


def test_a_corrupt_segment_is_read_again_from_the_store(two_docs):
    folder, store, a, b = two_docs
    key = lexical.segment_key(b[0].source, b[0].doc_hash)
    (folder / "segments" / f"{key}.npz").write_bytes(b"PK\x03\x04 cut short by a crash")
    lex = build(store, folder, store.documents(), quiet=True)
    assert store.fetched == [b[0].source] and lex.n == len(a) + len(b)


def test_two_collections_in_one_folder_keep_their_own_word_index(tiny_corpus, tmp_path):
    from rag.settings import Settings

    one = Settings.load(index_dir=str(tmp_path / "index"), embed_model="hash")
    two = one.replace(collection="other", chunk_size=one.chunk_size // 2)
    ingest([tiny_corpus], one)
    ingest([tiny_corpus], two)
    e1, e2 = Engine(one), Engine(two)
    assert e1.retriever.lex.path.parent != e2.retriever.lex.path.parent
    assert len(e2.chunks) > len(e1.chunks) and e2.ask("What was total revenue?").citations


def test_a_segment_keeps_each_vector_with_its_chunk(tmp_path):
    chunks = _chunks("/d/WIDGET_2023_10K.txt", "c" * 64, TEXTS[:4], "Widget Corp Annual Report")
    vectors = np.eye(4, 8, dtype=np.float32)
    write_segment(tmp_path / "segments", chunks[::-1], vectors[::-1])  # handed over in another order
    store = _Docs({chunks[0].source: chunks})
    lex = build(store, tmp_path, store.documents(), quiet=True)
    assert [i.decode() for i in lex.ids] == [c.id for c in chunks]
    assert np.array_equal(lex.vectors(chunks[0].source), vectors) and not store.fetched


def test_a_big_index_loads_its_vector_index_in_the_background(tiny_corpus, embedded_settings, monkeypatch):
    """From WARM_AT chunks, Chroma's vector index is loaded by one unfiltered query started with the
    engine (not a daemon: it must end before the interpreter); below, none is started."""
    from rag import retrieve

    ingest([tiny_corpus], embedded_settings)
    assert Engine(embedded_settings).retriever.warming is None
    monkeypatch.setattr(retrieve, "WARM_AT", 1)
    queried: list[tuple] = []
    real = Store.query
    monkeypatch.setattr(Store, "query", lambda self, v, n, sources=None: queried.append((n, sources))
                        or real(self, v, n, sources))
    engine = Engine(embedded_settings)
    warming = engine.retriever.warming
    assert warming is not None and not warming.daemon
    warming.join(30)
    assert queried == [(1, None)]
    assert engine.ask("What was total revenue?").citations


def test_a_failing_warm_up_is_silent_and_the_question_reports_the_fault(tiny_corpus, embedded_settings,
                                                                         monkeypatch, capsys):
    from rag import retrieve

    ingest([tiny_corpus], embedded_settings)
    monkeypatch.setattr(retrieve, "WARM_AT", 1)
    monkeypatch.setattr(retrieve, "EXACT_ALL", 0)  # Chroma searched, as for a big index
    monkeypatch.setattr(Store, "query", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("store gone")))
    engine = Engine(embedded_settings)
    engine.retriever.warming.join(30)
    assert capsys.readouterr().err == ""
    with pytest.raises(RuntimeError, match="store gone"):
        engine.retriever.retrieve("how did revenue change", k=2)


def test_questions_asked_together_are_embedded_in_one_batch_with_the_same_vectors():
    """rag.embed._QueryBatcher: concurrent callers share one encode; each gets its own vector,
    the one it would get alone; an error reaches every waiter and the next call leads again."""
    import threading
    from types import SimpleNamespace

    from rag.embed import HashEmbedder, _QueryBatcher

    ref = HashEmbedder()

    class Model:
        def __init__(self):
            self.calls: list[list[str]] = []
            self.gate = threading.Event()

        def encode(self, texts, **kw):
            self.calls.append(list(texts))
            if len(self.calls) == 1:
                self.gate.wait(5)  # the first batch is slow: the others queue up meanwhile
            if "boom" in texts:
                raise RuntimeError("model failed")
            return ref.embed_documents(list(texts))

    model = Model()
    b = _QueryBatcher(SimpleNamespace(model=model))  # an embedder: its model
    texts = [f"question {i} about revenue" for i in range(6)]
    got: dict[str, np.ndarray] = {}
    threads = [threading.Thread(target=lambda t=t: got.__setitem__(t, b.embed(t))) for t in texts]
    threads[0].start()
    while not model.calls:
        pass
    for th in threads[1:]:
        th.start()
    while len(b._pending) < 5:
        pass
    model.gate.set()
    for th in threads:
        th.join(5)
    assert model.calls[0] == texts[:1] and sorted(model.calls[1]) == texts[1:]  # the five that waited: one batch
    for t in texts:
        assert np.allclose(got[t], ref.embed_query(t))
    with pytest.raises(RuntimeError, match="model failed"):
        b.embed("boom")
    assert np.allclose(b.embed(texts[0]), ref.embed_query(texts[0]))


def test_the_exact_top_n_is_a_stable_sorts_ties_included():
    from rag.retrieve import HybridRetriever

    rng = np.random.default_rng(0)
    for trial in range(500):
        m = int(rng.integers(1, 60))
        sims = (rng.choice([0.1, 0.2, 0.5], m) if trial % 2 else rng.random(m)).astype(np.float32)
        pos, n = rng.permutation(m) + 5, int(rng.integers(0, m + 3))
        expected = [(int(pos[i]), float(sims[i])) for i in np.argsort(-sims, kind="stable")[:n]]
        assert HybridRetriever._top(sims, pos, n) == expected


def test_a_name_routes_where_the_other_documents_seldom_write_it():
    # "microsoft" in two filings' names of three: most chunks that write it are theirs, the third never does
    assert lexical._distinctive(within=260, named_chunks=822, df=260, n=1314)
    # "fiscal" in one title: every filing writes it
    assert not lexical._distinctive(within=439, named_chunks=439, df=644, n=1314)
    # "test" in a readme's title: the filings write it, more than the readme
    assert not lexical._distinctive(within=3, named_chunks=3, df=100, n=6000)
    assert lexical._distinctive(within=0, named_chunks=5, df=0, n=100)  # a file name's word no chunk has
    # a placeholder title names nothing: EDGAR's "<DOCUMENT>", an HTML page's "Document"
    assert lexical._name_words("Document", "HOMEDEPOT FY2019 10K") == {"homedepot"}
    assert lexical._name_words("<DOCUMENT>", "MICROSOFT FY2001 10K") == {"microsoft"}


def test_two_words_a_file_name_writes_as_one_route_to_it():
    from types import SimpleNamespace

    from rag.retrieve import HybridRetriever

    r = SimpleNamespace(doc_names={"/f/HOMEDEPOT_FY2019_10K.htm": {"homedepot"}, "/f/MSFT_FY2004_10K.htm": {"microsoft"},
                                   "/f/MSFT_FY2001_10K.txt": {"microsoft"}})
    assert HybridRetriever.route(r, "How many associates did Home Depot employ?") == ["/f/HOMEDEPOT_FY2019_10K.htm"]
    assert HybridRetriever.route(r, "Microsoft's revenue in fiscal 2004?") == ["/f/MSFT_FY2004_10K.htm",
                                                                             "/f/MSFT_FY2001_10K.txt"]
