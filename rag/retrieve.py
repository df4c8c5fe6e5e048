"""Hybrid retrieval: dense (Chroma, our query embedding) and BM25 (bm25s) over the same chunks,
fused by reciprocal rank.

llama-index's QueryFusionRetriever and BM25Retriever wrap these same libraries, but turn every hit
into node objects and run fusion through their async machinery; on a 30 ms budget the hot path
calls `bm25s` and `chromadb` directly and fuses in a few lines. (Not measured side by side here.)
The BM25 index is rebuilt from the store's text at load (no re-embedding): 0.6 s for the bundled
corpus, 1.5 s for 6,590 chunks of filings, Engine() included (evals/bench.py).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from rag.chunk import Chunk
from rag.text import STOPWORDS, fold_accents, reads_as_sentence, stem

RRF_K = 60  # the constant of Cormack et al. (2009); rankings deeper than ~60 barely count


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # fused (reciprocal-rank) score
    dense_rank: int | None  # 1-based; None when the side did not return it
    bm25_rank: int | None
    dense_score: float | None
    rows: tuple = ()  # the table rows read as facts inside the chunk (rag.facts.Row), when the engine has them


def _bm25_text(c: Chunk) -> str:
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


class HybridRetriever:
    """Fused dense + BM25 retrieval over a fixed list of committed chunks."""

    def __init__(self, chunks: list[Chunk], store, embedder) -> None:
        import bm25s

        self.chunks = chunks
        self.by_id = {c.id: i for i, c in enumerate(chunks)}
        self.store = store
        self.embedder = embedder
        self.bm25 = bm25s.BM25()
        corpus_tokens = [bm25_tokens(_bm25_text(c)) for c in chunks]
        ids = self._to_ids(corpus_tokens)
        if chunks:  # bm25s cannot index nothing; an empty index answers nothing
            self.bm25.index(ids, show_progress=False)
        # document frequencies for the answerer's term weights (over chunks, stemmed)
        self.df = Counter(t for toks in corpus_tokens for t in set(toks))
        self.n_docs = max(1, len(chunks))
        self._trigrams: dict[str, list[str]] | None = None
        self._route_index(corpus_tokens)

    def _route_index(self, corpus_tokens: list[list[str]]) -> None:
        """Name words of each document (title and file name): a question that names a company
        or document ("Apple's net sales") is answered from that document's chunks. A title that
        is the document's first sentence (a text file without a heading: "Widget sales in Zurich
        rose 17 percent.") names nothing: its words are what the document says, not what it is."""
        names: dict[str, set[str]] = {}
        for c in self.chunks:
            if c.source not in names:
                title = "" if reads_as_sentence(c.title) else c.title
                raw = f"{title} {c.file_name}".replace("_", " ")
                names[c.source] = {stem(w) for w in re.findall(r"[A-Za-z][A-Za-z&'.-]{2,}", fold_accents(raw).lower())
                                   if w not in STOPWORDS}
        # words most documents share ("10k", "annual", "report") name none of them
        counts = Counter(w for ws in names.values() for w in ws)
        limit = max(1, len(names) // 3)
        self.doc_names = {s: {w for w in ws if counts[w] <= limit} for s, ws in names.items()}
        self.doc_chunks: dict[str, list[int]] = {}
        for i, c in enumerate(self.chunks):
            self.doc_chunks.setdefault(c.source, []).append(i)
        # A name routes only where it is distinctive: "Nike" is written mostly in Nike's filing,
        # but "widget", the title of one note among others about widgets, is written in the
        # others as much, and names none of them
        inside: Counter[str] = Counter()
        for i, c in enumerate(self.chunks):
            inside.update(set(corpus_tokens[i]) & self.doc_names[c.source])
        self.doc_names = {s: {w for w in ws if not self.df[w] or inside[w] > self.df[w] / 2}
                          for s, ws in self.doc_names.items()}

    def route(self, query: str) -> list[str] | None:
        """The documents a question names, or None when it names none (or all)."""
        if len(self.doc_names) < 2:
            return None
        found = re.findall(r"[A-Za-z][A-Za-z&'.-]{2,}", re.sub(r"['’]s\b", "", fold_accents(query).lower()))
        # "Coca-Cola" names COCACOLA_2020_10K too
        q = {stem(w) for w in found} | {stem(w.replace("-", "")) for w in found} | \
            {stem(p) for w in found for p in w.split("-") if len(p) > 2}
        hit = [s for s, ws in self.doc_names.items() if ws & q]
        return hit if 0 < len(hit) < len(self.doc_names) else None

    def _to_ids(self, corpus_tokens: list[list[str]]):
        import bm25s

        self.vocab: dict[str, int] = {}
        ids = [[self.vocab.setdefault(t, len(self.vocab)) for t in toks] for toks in corpus_tokens]
        return bm25s.tokenization.Tokenized(ids=ids, vocab=self.vocab)

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency of a stemmed term; unseen terms get the maximum."""
        return math.log(1 + self.n_docs / (1 + self.df.get(term, 0)))

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
        if not ids or not self.chunks:
            return []
        scores = self.bm25.get_scores(ids)
        if sources is not None:
            mask = np.zeros(len(scores), dtype=bool)
            for src in sources:
                mask[self.doc_chunks.get(src, [])] = True
            scores = np.where(mask, scores, 0.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def dense_search(self, vector: np.ndarray, n: int, sources: list[str] | None = None) -> list[tuple[int, float]]:
        ids, sims = self.store.query(vector, min(n, len(self.chunks)), sources)
        return [(self.by_id[i], s) for i, s in zip(ids, sims) if i in self.by_id]

    def retrieve(self, query: str, k: int, vector: np.ndarray | None = None) -> list[Hit]:
        """Top `k` chunks for `query` by reciprocal-rank fusion of both rankings."""
        if not self.chunks:
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
        return [Hit(self.chunks[i], fused[i], d_rank.get(i), b_rank.get(i), d_score.get(i)) for i in order]
