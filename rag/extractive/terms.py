"""The question's terms in a text: stems, coverage (the share of the question's IDF weight a
text holds), term positions and the question's adjacent word pairs."""

from __future__ import annotations

import functools
import re

from rag.question import Query
from rag.text import fold_accents, split_compound, stem, words


@functools.lru_cache(maxsize=1 << 16)
def stems_of(text: str) -> tuple[str, ...]:
    """The stems of a text's words; "December-quarter" also counts as its parts, as the
    question's words do. Cached: the same passages and sentences come back question after
    question, and this is the answerer's hottest step."""
    out: list[str] = []
    for w in words(text):
        out += _word_stems(w)
    return tuple(out)


@functools.lru_cache(maxsize=1 << 16)
def _word_stems(w: str) -> tuple[str, ...]:
    """One word's stems (itself, then a compound's parts), kept per word: a new passage is
    mostly words met before, and stemming each afresh was half of a routed answer's time at
    10k chunks (evals/scale.py)."""
    parts = split_compound(w)
    if parts == [w]:
        return (stem(w),)
    return (stem(w), *(stem(p) for p in parts if len(p) > 1))


def coverage(query: Query, stems: set[str]) -> tuple[float, frozenset[str]]:
    """The share of the question's term weight found in `stems`, and the terms found."""
    matched = frozenset(t.word for t in query.terms if t.stems & stems)
    got = sum(t.weight for t in query.terms if t.word in matched)
    return got / query.total_weight, matched


def term_positions(query: Query, passage: str, start: int, end: int) -> list[tuple[int, float, str]]:
    """(offset, weight, term) of each question term's occurrences in passage[start:end]."""
    pos = []
    for m in re.finditer(r"[A-Za-z0-9][A-Za-z0-9'&-]*", fold_accents(passage[start:end])):
        w = m.group(0).lower()
        forms = {stem(w)} | {stem(p) for p in split_compound(w)}  # "non-GAAP" is "nongaap"
        for t in query.terms:
            if forms & t.stems:
                pos.append((start + m.start(), t.weight, t.word))
    return pos


def question_bigrams(query: Query) -> list[tuple[frozenset[str], frozenset[str]]]:
    """Adjacent pairs of the question's terms, as written ("chief executive", "executive officer")."""
    seq = stems_of(query.text)
    by_stem = {x: t.stems for t in query.terms for x in t.stems}
    return [(by_stem[a], by_stem[b]) for a, b in zip(seq, seq[1:]) if a in by_stem and b in by_stem and a != b]


@functools.lru_cache(maxsize=4096)
def file_stems(question: str, file_name: str) -> frozenset[str]:
    """The file name's stems, and the question's words a file name writes as one: "Home Depot" in
    HOMEDEPOT_FY2019_10K.htm names the document's company, as "Nike" does in NIKE_2022_10K.pdf."""
    own = set(stems_of(file_name))
    found = re.findall(r"[A-Za-z]+", question)
    for a, b in zip(found, found[1:]):
        if stem((a + b).lower()) in own:
            own |= set(stems_of(f"{a} {b}"))
    return frozenset(own)
