"""Hybrid retrieval: dense (Chroma, our query embedding) and BM25 over the same chunks, fused by
reciprocal rank.

llama-index's QueryFusionRetriever and BM25Retriever wrap these same libraries, but turn every hit
into node objects and run fusion through their async machinery; on a 30 ms budget the hot path
scores directly and fuses in a few lines. BM25's scores are bm25s's (Lucene), computed at ingest
and memory-mapped at load (rag.lexical); the chunks themselves are fetched from the store for the
hits only.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.chunk import Chunk
from rag.text import STOPWORDS, fold_accents, stem

RRF_K = 60  # the constant of Cormack et al. (2009); rankings deeper than ~60 barely count


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # fused (reciprocal-rank) score
    dense_rank: int | None  # 1-based; None when the side did not return it
    bm25_rank: int | None
    dense_score: float | None
    rows: tuple = ()  # the table rows read as facts inside the chunk (rag.facts.Row), when the engine has them


def bm25_text(c: Chunk) -> str:
    # Title, section and questioner are searchable too: "what did the Goldman analyst ask?"
    return " ".join(x for x in (c.title, c.section, c.segment, c.analyst, c.header, c.text) if x)


_TOKEN = re.compile(r"(?u)\b\w\w+\b|\b\d\b")
_PREFIXED = re.compile(r"\b(non|un|ex|pre|post|sub|anti|co|multi|semi|mid|over|under)-(?=\w)")


def bm25_tokens(text: str) -> list[str]:
    # "non-GAAP" is one token, as in the answerer (rag.text.split_compound)
    text = _PREFIXED.sub(r"\1", fold_accents(text).lower())
    return [stem(t) for t in _TOKEN.findall(text) if t not in STOPWORDS]


def _grams(term: str) -> set[str]:
    padded = f"^{term}$"
    return {padded[i:i + 3] for i in range(len(padded) - 2)}


EXACT_DENSE = 50_000  # a question routed to documents of at most this many chunks is scored exactly
EXACT_ALL = 20_000  # an index of at most this many chunks is searched exactly, all of it (see dense_search)
WARM_AT = 50_000  # chunks from which Chroma's vector index is loaded in the background at start


class ChunkTable(Sequence):
    """The committed chunks in document order, as a sequence: each fetched from the store the first
    time it is needed (the hits of a question, not the corpus), the last CACHE of them kept."""

    CACHE = 8192

    def __init__(self, lex, store) -> None:
        self._lex, self._store = lex, store
        self._cache: OrderedDict[int, Chunk] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._lex.n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.get(range(*i.indices(len(self))))
        got = self.get([i if i >= 0 else i + len(self)])
        if not got:
            raise IndexError(i)
        return got[0]

    def __iter__(self):
        for lo in range(0, len(self), 1000):
            yield from self.get(range(lo, min(lo + 1000, len(self))))

    def get(self, positions) -> list[Chunk]:
        """The chunks at `positions`, in that order (one removed meanwhile by another process left out)."""
        found = self.fetch(positions)
        return [found[i] for i in positions if i in found]

    def fetch(self, positions) -> dict[int, Chunk]:
        """position -> chunk, one store call for those not cached; a chunk removed meanwhile by
        another process is absent. Safe across threads (the page shares one engine)."""
        positions = list(positions)
        with self._lock:
            out = {i: self._cache[i] for i in positions if i in self._cache}
            for i in out:
                self._cache.move_to_end(i)
        missing = [i for i in dict.fromkeys(positions) if i not in out]
        if missing:
            ids = [self._lex.ids[i].decode() for i in missing]
            found = self._store.fetch_chunks(ids)
            out.update((i, found[cid]) for i, cid in zip(missing, ids) if cid in found)
        with self._lock:  # kept after the answer is made: a call never loses what it asked for
            for i in missing:
                if i in out:
                    self._cache[i] = out[i]
            while len(self._cache) > self.CACHE:
                self._cache.popitem(last=False)
        return out


class HybridRetriever:
    """Fused dense + BM25 retrieval over the committed chunks of a word index (rag.lexical): BM25
    from its memory-mapped scores, dense from Chroma, or exactly from the document's own vectors
    when the question names documents."""

    def __init__(self, lex, store, embedder) -> None:
        self.lex = lex
        self.chunks = ChunkTable(lex, store)
        self.store = store
        self.embedder = embedder
        self.vocab: dict[str, int] = lex.vocab
        self.n_docs = max(1, lex.n)
        self.doc_names: dict[str, set[str]] = lex.doc_names
        self._trigrams: dict[str, list[str]] | None = None
        self.warming: threading.Thread | None = None
        self._all: np.ndarray | None | bool = None  # every chunk's unit vector, by position (EXACT_ALL)
        self._all_lock = threading.Lock()

    def warm(self) -> None:
        """Have Chroma load its vector index now, in the background. Chroma reads it whole on the
        first unfiltered query (3 s at a million chunks), with the GIL released: loaded while the
        engine finishes and the first question is read, it is ready (or nearly) when needed.
        Not a daemon: the interpreter waits for it at exit (Chroma's bindings, torn down under a
        running query, crash). Below WARM_AT chunks it loads in milliseconds and is left alone."""
        if self.lex.n < WARM_AT:
            return
        vector = np.full(self.embedder.dim, self.embedder.dim ** -0.5, dtype=np.float32)

        def load() -> None:
            try:
                self.store.query(vector, 1)
            except Exception:  # noqa: BLE001 - a warm-up only: the question's own query reports faults
                pass

        self.warming = threading.Thread(target=load, name="rag-warm")
        self.warming.start()

    def route(self, query: str) -> list[str] | None:
        """The documents a question names, or None when it names none (or all)."""
        if len(self.doc_names) < 2:
            return None
        found = re.findall(r"[A-Za-z][A-Za-z&'.-]{2,}", re.sub(r"['’]s\b", "", fold_accents(query).lower()))
        # "Coca-Cola" names COCACOLA_2020_10K too
        # "Home Depot" names HOMEDEPOT_FY2019_10K: two words a file name writes as one
        q = {stem(w) for w in found} | {stem(w.replace("-", "")) for w in found} | \
            {stem(p) for w in found for p in w.split("-") if len(p) > 2} | \
            {stem(a + b) for a, b in zip(found, found[1:])}
        hit = [s for s, ws in self.doc_names.items() if ws & q]
        return hit if 0 < len(hit) < len(self.doc_names) else None

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency of a stemmed term; unseen terms get the maximum."""
        return math.log(1 + self.n_docs / (1 + self.lex.term_df(term)))

    def fuzzy(self, word: str, min_sim: float = 0.6) -> list[tuple[str, float]]:
        """Corpus terms spelled like `word` (character-trigram Jaccard >= min_sim): a typo or a
        variant spelling of a name still finds its passages. Only for words of 5+ letters."""
        if len(word) < 5:
            return []
        if self._trigrams is None:
            self._trigrams = {}
            for term in self.vocab:
                if len(term) >= 4 and not term.isdigit():
                    for g in _grams(term):
                        self._trigrams.setdefault(g, []).append(term)
        target = stem(word.lower())
        grams = _grams(target)
        counts: Counter[str] = Counter(t for g in grams for t in self._trigrams.get(g, ()))
        out = []
        for term, shared in counts.most_common(50):
            sim = shared / len(grams | _grams(term))
            if sim >= min_sim and term != target:
                out.append((term, sim))
        return out[:3]

    def bm25_search(self, query: str, n: int, sources: list[str] | None = None) -> list[tuple[int, float]]:
        ids = [self.vocab[t] for t in bm25_tokens(query) if t in self.vocab]
        if not ids or not self.lex.n:
            return []
        spans = [(0, self.lex.n)] if sources is None else sorted(self.lex.span[s] for s in sources if s in self.lex.span)
        parts = list(self.lex.span_scores(ids, spans))
        if not parts:
            return []
        pos = np.concatenate([p for p, _ in parts])
        scores = np.concatenate([s for _, s in parts])
        if n < len(scores):  # the n best and whatever ties the n-th, then ties in document order
            keep = np.nonzero(scores >= np.partition(scores, len(scores) - n)[len(scores) - n])[0]
            pos, scores = pos[keep], scores[keep]
        top = np.lexsort((pos, -scores))[:n]
        return [(int(pos[i]), float(scores[i])) for i in top if scores[i] > 0]

    def dense_search(self, vector: np.ndarray, n: int, sources: list[str] | None = None) -> list[tuple[int, float]]:
        """Nearest chunks by cosine. Within named documents, scored exactly from their own vectors
        (a filtered Chroma query costs more the bigger the collection: 8 ms at 10k chunks, 315 ms
        at 500k); in an index of at most EXACT_ALL chunks, exactly over all of them (one product
        with a matrix kept in memory, 30 MB at 20k chunks: under a millisecond at the bundled
        corpus's 1.4k, where a Chroma query costs 5 ms of Python a question, most of it under
        the GIL the page's other users wait for); else Chroma's index, unfiltered."""
        if not sources and self.lex.n <= EXACT_ALL and (every := self._every_vector()) is not None:
            return self._top(every @ self._unit(vector), np.arange(len(every)), n)
        spans = [self.lex.span[s] for s in sources or [] if s in self.lex.span]
        if sources and sum(hi - lo for lo, hi in spans) <= EXACT_DENSE:
            exact = self._exact(vector, n, sources)
            if exact is not None:
                return exact
        ids, sims = self.store.query(vector, min(n, self.lex.n), sources)
        return [(i, s) for i, s in zip(self.lex.position(ids), sims) if i is not None]

    @staticmethod
    def _unit(vector: np.ndarray) -> np.ndarray:
        q = np.asarray(vector, dtype=np.float32)
        return q / (np.linalg.norm(q) or 1.0)

    @staticmethod
    def _top(sims: np.ndarray, pos: np.ndarray, n: int) -> list[tuple[int, float]]:
        """The n best, in the order a stable sort by similarity gives (ties in array order): those
        at least as good as the n-th found by partition, then sorted (10k chunks: 0.1 ms, not 0.6)."""
        idx = np.arange(len(sims))
        if 0 < n < len(sims):
            idx = np.nonzero(sims >= np.partition(sims, len(sims) - n)[len(sims) - n])[0]
        top = idx[np.lexsort((idx, -sims[idx]))][:n]
        return [(int(pos[i]), float(sims[i])) for i in top]

    def _every_vector(self) -> np.ndarray | None:
        """Every chunk's unit vector, row i for position i, read once from the documents'
        segments; None when one is missing here (Chroma answers instead)."""
        if self._all is None:
            with self._all_lock:
                if self._all is None:
                    parts = []
                    for source, (lo, hi) in sorted(self.lex.span.items(), key=lambda kv: kv[1][0]):
                        v = self.lex.vectors(source)
                        if v is None or len(v) != hi - lo:
                            self._all = False
                            return None
                        parts.append(np.asarray(v, dtype=np.float32))
                    m = np.concatenate(parts) if parts else np.zeros((0, self.embedder.dim), np.float32)
                    norms = np.linalg.norm(m, axis=1, keepdims=True)
                    self._all = m / np.where(norms > 0, norms, 1.0) if len(m) == self.lex.n else False
        return self._all if self._all is not False else None

    def _exact(self, vector: np.ndarray, n: int, sources: list[str]) -> list[tuple[int, float]] | None:
        q = self._unit(vector)
        pos, sims = [], []
        for s in sources:
            vecs = self.lex.vectors(s)
            if vecs is None:
                return None  # a segment gone from this machine: Chroma answers instead
            lo, _ = self.lex.span[s]
            v = np.asarray(vecs, dtype=np.float32)
            norms = np.linalg.norm(v, axis=1)
            sims.append((v @ q) / np.where(norms > 0, norms, 1.0))
            pos.append(np.arange(lo, lo + len(v)))
        if not pos:
            return []
        return self._top(np.concatenate(sims), np.concatenate(pos), n)

    def retrieve(self, query: str, k: int, vector: np.ndarray | None = None) -> list[Hit]:
        """Top `k` chunks for `query` by reciprocal-rank fusion of both rankings."""
        if not self.lex.n:
            return []
        depth = max(4 * k, 20)
        vector = self.embedder.embed_query(query) if vector is None else vector
        sources = self.route(query)
        dense = self.dense_search(vector, depth, sources)
        sparse = self.bm25_search(query, depth, sources)
        fused: dict[int, float] = {}
        for ranking in (dense, sparse):
            for rank, (i, _) in enumerate(ranking, 1):
                fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank)
        d_rank = {i: r for r, (i, _) in enumerate(dense, 1)}
        d_score = dict(dense)
        b_rank = {i: r for r, (i, _) in enumerate(sparse, 1)}
        order = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        chunks = self.chunks.fetch(order)
        return [Hit(chunks[i], fused[i], d_rank.get(i), b_rank.get(i), d_score.get(i)) for i in order if i in chunks]
