"""The word side of the index, kept on disk beside the store: an engine maps it at start instead of
reading every chunk out of Chroma and tokenizing it again (at 500k chunks that was over two
minutes a start, and about 1 GB of chunk objects held in every process).

Two layers:

- A **segment** per document version (`segments/<key>.npz`, its vectors in `<key>.vec.npy`): the
  chunks' BM25 tokens, the chunk table (id, page, offsets), the words with a dot, an ampersand or an
  apostrophe it spells ("R&D", "U.S."), its question turns, its name words. Written by the ingest
  that embeds the document, which has all of it in hand; for a document this machine has not seen
  (another client of a Chroma server, an index older code wrote), read once from the store.
- A **snapshot** (`snap-<token>/`): the segments merged in document order. BM25 scores as a
  term-major sparse matrix, the layout and Lucene scoring bm25s uses, computed the same way; the
  chunk table as arrays; document frequencies; routing names. Memory-mapped at load. `CURRENT` names
  the snapshot in use and the document versions it was made from (`state_of` the store's document
  records), and is replaced atomically: a reader never sees a half-written snapshot, and one whose
  store has other versions merges a new snapshot, once, from the segments (no re-tokenizing).

Written by hand because bm25s can save and memory-map an index but not merge or update one: each
change would tokenize the whole corpus again. A merge of per-document postings is a few numpy calls.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from rag.chunk import Chunk
from rag.settings import Settings, cache_dir
from rag.text import STOPWORDS, fold_accents, reads_as_sentence, stem

FORMAT = 1  # of segments and snapshots: another format is rebuilt, not read
K1, B = 1.5, 0.75  # bm25s's defaults (its "lucene" method), which the in-memory index used
SEGMENT_GRACE = 3600.0  # seconds a segment of an uncommitted version is kept
ID_WIDTH = 32  # chunk ids are 32 hex digits (rag.chunk.chunk_id)
# a run of non-blanks holding a dot, an ampersand or an apostrophe: each of its suffixes that starts
# a word is what a question's term with punctuation ("u.s", "r&d") can be the start of
_PUNCT_RUN = re.compile(r"\S*[&'.]\S*")
_WORD_START = re.compile(r"(?<!\w)\w")
_PUNCT_KEEP = re.compile(r"[&'.]")
_NAME_WORD = re.compile(r"[A-Za-z][A-Za-z&'.-]{2,}")
# a title a tool put there, naming no document: EDGAR's "<DOCUMENT>" tag, HTML's "Document"
_PLACEHOLDER = re.compile(r"<[^>]*>|(?i:document|untitled|title|home|index)")


def lexical_dir(settings: Settings, store) -> Path:
    """Where a collection's word side lives: in the index folder; for a Chroma server, or a folder
    this user may not write, in the user's cache. Named by the collection's id, which a server keeps
    whatever address it is reached at, and which a collection made again (other settings, an
    upgrade's re-index) does not share."""
    if not settings.chroma_url and os.access(settings.index_dir, os.W_OK):
        return Path(settings.index_dir) / "lexical" / str(store.chunks.id)
    base = cache_dir() / "lexical"
    return base / str(store.chunks.id)


def segment_key(source: str, doc_hash: str) -> str:
    return hashlib.sha256(f"{source}\0{doc_hash}".encode()).hexdigest()[:24]


# --- segments -----------------------------------------------------------------------------------

def _name_words(title: str, file_name: str) -> set[str]:
    """A document's name words (title and file name), as routing reads them. A title that is the
    document's first sentence names nothing: its words are what it says, not what it is."""
    title = "" if reads_as_sentence(title) or _PLACEHOLDER.fullmatch(title.strip()) else title
    raw = f"{title} {file_name}".replace("_", " ")
    return {stem(w) for w in _NAME_WORD.findall(fold_accents(raw).lower()) if w not in STOPWORDS}


def _punct_tokens(text: str) -> set[str]:
    """Every suffix of a punctuated run that starts a word and still holds the punctuation:
    "u.s.-based" gives "u.s.-based", "s.-based" ("based" has none left)."""
    out = set()
    for m in _PUNCT_RUN.finditer(text.lower()):
        run = m.group(0)
        out.update(run[w.start():] for w in _WORD_START.finditer(run) if _PUNCT_KEEP.search(run, w.start()))
    return out


def write_segment(folder: Path, chunks: list[Chunk], vectors: np.ndarray) -> str:
    """Save one document version's segment (its chunks in order, their vectors); its key."""
    from rag.retrieve import bm25_text, bm25_tokens

    order = sorted(range(len(chunks)), key=lambda i: chunks[i].index)  # rows of `vectors` follow
    chunks, vectors = [chunks[i] for i in order], np.asarray(vectors, dtype=np.float32)[order]
    first = chunks[0]
    terms: dict[str, int] = {}
    tok, tok_ptr, pterms, punct, punct_ptr = [], [0], {}, [], [0]
    names = _name_words(first.title, first.file_name)
    inside: Counter[str] = Counter()
    turns, last_analyst = [], None
    for i, c in enumerate(chunks):
        toks = bm25_tokens(bm25_text(c))
        tok += [terms.setdefault(t, len(terms)) for t in toks]
        tok_ptr.append(len(tok))
        inside.update(set(toks) & names)
        punct += sorted(pterms.setdefault(p, len(pterms)) for p in _punct_tokens(c.text))
        punct_ptr.append(len(punct))
        if c.analyst:  # a question turn opens where the analyst changes (other speakers between)
            if c.analyst != last_analyst:
                turns.append(i)
            last_analyst = c.analyst
    key = segment_key(first.source, first.doc_hash)
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"format": FORMAT, "source": first.source, "doc_hash": first.doc_hash, "title": first.title,
            "file_name": first.file_name, "names": sorted(names), "inside": [inside[w] for w in sorted(names)]}
    tmp = folder / f".{key}.{uuid.uuid4().hex[:8]}"
    with open(f"{tmp}.npz", "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta)),
                 ids=np.array([c.id for c in chunks], dtype=f"S{ID_WIDTH}"),
                 page=np.array([c.page or 0 for c in chunks], dtype=np.int32),
                 start=np.array([c.start for c in chunks], dtype=np.int32),
                 end=np.array([c.end for c in chunks], dtype=np.int32),
                 terms=np.array(list(terms), dtype=str), tok=np.array(tok, dtype=np.int32),
                 tok_ptr=np.array(tok_ptr, dtype=np.int64), pterms=np.array(list(pterms), dtype=str),
                 punct=np.array(punct, dtype=np.int32), punct_ptr=np.array(punct_ptr, dtype=np.int64),
                 turns=np.array(turns, dtype=np.int32))
    np.save(f"{tmp}.vec.npy", vectors)
    os.replace(f"{tmp}.vec.npy", folder / f"{key}.vec.npy")  # vectors first: an npz implies them
    os.replace(f"{tmp}.npz", folder / f"{key}.npz")
    return key


def _read_segment(folder: Path, key: str) -> dict | None:
    try:
        with np.load(folder / f"{key}.npz", allow_pickle=False) as z:
            seg = {k: z[k] for k in z.files}
        seg["meta"] = json.loads(str(seg["meta"]))
        return seg if seg["meta"].get("format") == FORMAT else None
    except Exception:  # noqa: BLE001 - missing, truncated by a crash, another format: read it again
        return None


# --- the snapshot -------------------------------------------------------------------------------

class Lexicon:
    """A merged snapshot, memory-mapped: BM25 scores, the chunk table, frequencies and names."""

    def __init__(self, path: Path) -> None:
        self.path = path
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"word index format {meta.get('format')} (this version reads {FORMAT})")
        self.state: str = meta["state"]
        self.n: int = meta["n"]
        self.vocab: dict[str, int] = {t: i for i, t in enumerate(meta["vocab"])}
        self.pterms: list[str] = meta["pterms"]
        self.docs: list[dict] = meta["docs"]  # source, key, lo, hi, title, file_name (document order)
        self.doc_names: dict[str, set[str]] = {s: set(ws) for s, ws in meta["doc_names"].items()}
        self.file_df: Counter[str] = Counter(meta["file_df"])
        self.segments = path.parent / "segments"
        arr = {name: np.load(path / f"{name}.npy", mmap_mode="r") for name in
               ("ids", "order", "sorted_ids", "page", "start", "end", "indptr", "indices", "data", "pindptr", "pindices", "turns")}
        self.__dict__.update(arr)
        self.df = np.diff(self.indptr)  # a term's postings are the chunks holding it
        self.span = {d["source"]: (d["lo"], d["hi"]) for d in self.docs}
        self._keys = {d["source"]: d["key"] for d in self.docs}
        self._vectors: dict[str, np.ndarray] = {}

    def term_df(self, term: str) -> int:
        i = self.vocab.get(term)
        return 0 if i is None else int(self.df[i])

    def punct_df(self, term: str) -> int:
        """Chunks whose text spells `term` at the start of a word ("u.s" in "U.S.-based"): the
        union of the postings of every stored word that begins with it."""
        lo = bisect.bisect_left(self.pterms, term)
        hi = bisect.bisect_left(self.pterms, term + "\U0010ffff")
        if lo == hi:
            return 0
        parts = [self.pindices[self.pindptr[i]:self.pindptr[i + 1]] for i in range(lo, hi)]
        return int(np.unique(np.concatenate(parts)).size)

    def scores(self, term_ids: Sequence[int], spans: list[tuple[int, int]] | None = None) -> np.ndarray:
        """BM25 scores of every chunk for the query's term ids (a repeated term counts again, as in
        bm25s); with `spans`, only chunks inside them score, the others 0."""
        out = np.zeros(self.n, dtype=np.float32)
        for pos, sc in self.span_scores(term_ids, spans or [(0, self.n)]):
            out[pos] = sc
        return out

    def span_scores(self, term_ids: Sequence[int], spans: list[tuple[int, int]]):
        """(positions, scores) of the chunks inside each span. A term's postings are sorted by chunk,
        so a span costs what its own postings cost, not the corpus's."""
        for lo, hi in spans:
            acc = np.zeros(hi - lo, dtype=np.float32)
            for t in term_ids:
                a, b = int(self.indptr[t]), int(self.indptr[t + 1])
                if lo or hi < self.n:
                    idx = self.indices[a:b]
                    a, b = a + int(np.searchsorted(idx, lo)), a + int(np.searchsorted(idx, hi))
                acc[self.indices[a:b] - lo] += self.data[a:b]  # unique within a term: a plain scatter
            yield np.arange(lo, hi), acc

    def position(self, chunk_ids: list[str]) -> list[int | None]:
        """Each chunk id's position in document order (None for an id not in the snapshot)."""
        if not self.n:
            return [None] * len(chunk_ids)
        keys = np.array(chunk_ids, dtype=f"S{ID_WIDTH}")
        at = np.minimum(np.searchsorted(self.sorted_ids, keys), self.n - 1)
        return [int(self.order[a]) if self.sorted_ids[a] == k else None for a, k in zip(at, keys)]

    def chunk_at(self, source: str, page: int | None, start: int, end: int) -> int | None:
        """The first chunk of `source` on `page` whose span holds [start, end)."""
        lo, hi = self.span.get(source, (0, 0))
        if lo == hi:
            return None
        hit = np.nonzero((self.page[lo:hi] == (page or 0)) & (self.start[lo:hi] <= start) & (self.end[lo:hi] >= end))[0]
        return lo + int(hit[0]) if hit.size else None

    def turn_openers(self, source: str) -> list[int]:
        lo, hi = self.span.get(source, (0, 0))
        t = self.turns
        return [int(i) for i in t[np.searchsorted(t, lo):np.searchsorted(t, hi)]]

    def vectors(self, source: str) -> np.ndarray | None:
        """The document's chunk vectors (memory-mapped), row i for its chunk lo + i."""
        if source not in self._vectors:
            try:
                self._vectors[source] = np.load(self.segments / f"{self._keys[source]}.vec.npy", mmap_mode="r")
            except Exception:  # noqa: BLE001 - gone or truncated: the caller asks Chroma instead
                return None
        return self._vectors[source]


def _distinctive(within: int, named_chunks: int, df: int, n: int, rate: float = 0.02) -> bool:
    """Whether a name word is distinctive of the documents whose names hold it: most chunks that
    write it are theirs (`within` of `df`), and the other documents write it in under `rate` of
    their chunks (`df - within` of `n - named_chunks`). A company's name passes (a competitor's
    filing names it in a few passages); "fiscal" or "year" in one title, which every filing
    writes, do not, nor "test" in a readme's title. A word no chunk has ("homedepot") passes."""
    return within > df / 2 and (df - within) < rate * max(n - named_chunks, 1) if df else True


def _merge(segs: list[dict], state: str, out: Path) -> None:
    """Write the snapshot of `segs` (in document order) to the folder `out`."""
    vocab: dict[str, int] = {}
    pvocab: dict[str, int] = {}
    toks, dls, pt, pd, ids, page, start, end, turns, docs = [], [], [], [], [], [], [], [], [], []
    names: dict[str, set[str]] = {}
    sizes: dict[str, int] = {}  # chunks per document
    inside: dict[str, dict[str, int]] = {}
    file_df: Counter[str] = Counter()
    n = 0
    for seg in segs:
        m = seg["meta"]
        k = len(seg["ids"])
        remap = np.array([vocab.setdefault(t, len(vocab)) for t in seg["terms"].tolist()], dtype=np.int64)
        # this document's postings, (term, chunk) with its count: a chunk's tokens are counted
        # here, so the corpus-wide arrays hold postings, not tokens
        local = np.repeat(np.arange(k, dtype=np.int64), np.diff(seg["tok_ptr"]))
        keys, tf = np.unique(remap[seg["tok"]] * k + local if len(seg["tok"]) else np.zeros(0, np.int64),
                             return_counts=True)
        toks.append(((keys // max(k, 1)).astype(np.int32), (keys % max(k, 1) + n).astype(np.int32),
                     tf.astype(np.int32)))
        dls.append(np.diff(seg["tok_ptr"]))
        premap = np.array([pvocab.setdefault(t, len(pvocab)) for t in seg["pterms"].tolist()], dtype=np.int64)
        pt.append(premap[seg["punct"]] if len(seg["punct"]) else np.zeros(0, np.int64))
        pd.append(np.repeat(np.arange(n, n + k, dtype=np.int64), np.diff(seg["punct_ptr"])))
        ids.append(seg["ids"])
        page.append(seg["page"])
        start.append(seg["start"])
        end.append(seg["end"])
        turns.append(seg["turns"].astype(np.int64) + n)
        docs.append({"source": m["source"], "key": segment_key(m["source"], m["doc_hash"]), "lo": n, "hi": n + k,
                     "title": m["title"], "file_name": m["file_name"]})
        # names as _name_words reads them now (a segment keeps those of the rule that wrote it)
        names[m["source"]] = set(m["names"]) & _name_words(m["title"], m["file_name"])
        sizes[m["source"]] = k
        inside[m["source"]] = dict(zip(m["names"], m["inside"]))
        for w in set(_NAME_WORD.findall(m["file_name"].lower())):
            file_df[stem(w)] += k
        n += k

    def cat(parts, dtype):
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    # BM25 (Lucene idf, Robertson tf, as bm25s computes them), term-major: the postings of term t
    # are data/indices[indptr[t]:indptr[t + 1]], sorted by chunk
    term, chunk, tf = (cat([t[i] for t in toks], np.int32) for i in range(3))
    toks.clear()
    by_term = np.argsort(term, kind="stable")  # documents come in chunk order: chunks stay sorted
    term, chunk, tf = term[by_term], chunk[by_term], tf[by_term]
    del by_term
    dl = cat(dls, np.int64)
    avgdl = np.float64(dl.mean()) if n else np.float64(1.0)
    df = np.bincount(term, minlength=len(vocab)).astype(np.int64)
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
    tfc = tf.astype(np.float32) / (K1 * ((1 - B) + B * dl[chunk] / avgdl) + tf.astype(np.float32))
    data = (idf[term] * tfc).astype(np.float32)
    indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
    # the words with punctuation, sorted, so that those beginning with a prefix are one run
    plist = list(pvocab)
    porder = np.array(sorted(range(len(plist)), key=plist.__getitem__), dtype=np.int64)
    rank = np.empty(len(plist), dtype=np.int64)
    rank[porder] = np.arange(len(plist))
    pterm = rank[cat(pt, np.int64)] if len(plist) else np.zeros(0, np.int64)
    pkeys = np.unique(pterm * max(n, 1) + cat(pd, np.int64))
    pindptr = np.searchsorted(pkeys // max(n, 1), np.arange(len(plist) + 1)).astype(np.int64)
    pterms = [plist[i] for i in porder]
    # routing: a word every document's name has ("10k") names none of them; and a name routes only
    # where it is distinctive: the other documents seldom write it. "Microsoft" in two Microsoft
    # filings of three still names them; "fiscal" or "year" in one title names nothing
    counts = Counter(w for ws in names.values() for w in ws)
    within: Counter[str] = Counter()
    size: Counter[str] = Counter()
    for s, ws in names.items():
        within.update({w: inside[s].get(w, 0) for w in ws})
        size.update({w: sizes[s] for w in ws})
    doc_names = {s: sorted(w for w in ws if counts[w] < len(names) and _distinctive(
                     within[w], size[w], int(df[vocab[w]]) if w in vocab else 0, n))
                 for s, ws in names.items()}
    ids_all = cat(ids, f"S{ID_WIDTH}")
    order = np.argsort(ids_all, kind="stable").astype(np.int64)
    arrays = {"ids": ids_all, "order": order, "sorted_ids": ids_all[order],
              "page": cat(page, np.int32), "start": cat(start, np.int32), "end": cat(end, np.int32),
              "indptr": indptr, "indices": chunk, "data": data,
              "pindptr": pindptr, "pindices": (pkeys % max(n, 1)).astype(np.int32), "turns": cat(turns, np.int64)}
    out.mkdir(parents=True)
    for name, a in arrays.items():
        np.save(out / f"{name}.npy", a)
    meta = {"format": FORMAT, "state": state, "n": n, "vocab": list(vocab), "pterms": pterms,
            "docs": docs, "doc_names": doc_names, "file_df": dict(file_df),
            "built_at": time.time()}
    (out / "meta.json").write_text(json.dumps(meta), encoding="utf-8")


SNAPSHOT = 2  # what a snapshot derives from the segments (routing names): another is made again


def state_of(docs: dict[str, dict]) -> str:
    """The committed documents' versions as one token: a snapshot made from other versions (or by
    another SNAPSHOT rule) is stale."""
    pairs = sorted((source, str(m.get("doc_hash", ""))) for source, m in docs.items())
    return hashlib.sha256(json.dumps([SNAPSHOT, pairs]).encode()).hexdigest()[:24]


def _current(folder: Path) -> tuple[str, str] | None:
    try:
        name, state = (folder / "CURRENT").read_text(encoding="utf-8").split()
    except (OSError, ValueError):
        return None
    return name, state


def load(folder: Path, state: str) -> Lexicon | None:
    """The snapshot in `folder` if it was made from the document versions `state` names."""
    for _ in range(2):  # a writer may replace CURRENT and remove the old snapshot meanwhile
        cur = _current(folder)
        if cur is None or cur[1] != state:
            return None
        try:
            return Lexicon(folder / cur[0])
        except (OSError, ValueError, KeyError):
            continue
    return None


def build(store, folder: Path, docs: dict[str, dict], *, quiet: bool = False) -> Lexicon:
    """Merge a snapshot of the committed documents `docs` (the store's, as just read): segments
    this machine has are reused; a document it has not seen is read from the store once (its
    chunks and vectors) and its segment kept. One builder at a time (a file lock): a second one
    waits, then finds the snapshot made."""
    from filelock import FileLock

    folder.mkdir(parents=True, exist_ok=True)
    state = state_of(docs)
    with FileLock(str(folder / ".build.lock")):
        lex = load(folder, state)
        return lex if lex is not None else _build(store, folder, docs, state, quiet)


def _build(store, folder: Path, docs: dict[str, dict], state: str, quiet: bool) -> Lexicon:
    segments = folder / "segments"
    order = sorted(docs)
    segs, fetched = [], 0
    t0 = time.perf_counter()
    for source in order:
        h = docs[source].get("doc_hash", "")
        seg = _read_segment(segments, segment_key(source, h))
        if seg is None:
            chunks, vectors = store.document_chunks(source, h)
            if not chunks:
                continue
            if not quiet and not fetched:
                print(f"rag: indexing the words of {len(order):,} documents for {folder} (once)", file=sys.stderr)
            write_segment(segments, chunks, vectors)
            seg = _read_segment(segments, segment_key(source, h))
            fetched += 1
        if seg is not None and len(seg["ids"]):
            segs.append(seg)
    tmp = Path(tempfile.mkdtemp(prefix=".snap-", dir=folder))
    shutil.rmtree(tmp)
    _merge(segs, state, tmp)
    del segs
    name = f"snap-{uuid.uuid4().hex[:12]}"
    os.replace(tmp, folder / name)
    lex = Lexicon(folder / name)
    pointer = folder / f".CURRENT.{uuid.uuid4().hex[:8]}"
    pointer.write_text(f"{name} {state}\n", encoding="utf-8")
    os.replace(pointer, folder / "CURRENT")
    _collect(folder, keep=name, live={segment_key(s, docs[s].get("doc_hash", "")) for s in order})
    if fetched and not quiet:
        print(f"rag: word index ready ({lex.n:,} chunks, {time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return lex


def _collect(folder: Path, keep: str, live: Iterable[str]) -> None:
    """Remove older snapshots (a reader that mapped one keeps its files open), the segments of
    document versions no longer committed, and what a killed build or ingest left half-written;
    not what is younger than SEGMENT_GRACE (an ingest may be about to commit it)."""
    live = set(live)

    def old(p: Path) -> bool:
        try:
            return time.time() - p.stat().st_mtime > SEGMENT_GRACE
        except OSError:
            return False

    for p in folder.glob("snap-*"):
        if p.name != keep:
            shutil.rmtree(p, ignore_errors=True)
    for p in folder.glob(".snap-*"):
        if old(p):
            shutil.rmtree(p, ignore_errors=True)
    for p in (folder / "segments").glob("*"):
        key = p.name.split(".")[0] if not p.name.startswith(".") else ""
        if key not in live and old(p):
            p.unlink(missing_ok=True)


def open_lexicon(store, settings: Settings, docs: dict[str, dict] | None = None) -> Lexicon:
    """The word side of the store's committed documents (`docs`, read from the store if not
    given), merged first if this machine's is stale or missing."""
    docs = store.documents() if docs is None else docs
    folder = lexical_dir(settings, store)
    lex = load(folder, state_of(docs))
    if lex is not None:
        return lex
    folder.mkdir(parents=True, exist_ok=True)
    return build(store, folder, docs)
