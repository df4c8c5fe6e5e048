"""The result types, `Answer` and `Citation`, and the checks that make a citation trustworthy:
every quote is located in its document by offsets, `[n]` markers are parsed and mapped back, and
every number an answer states must appear in a quote that its sentence cites. For generated text,
`verify_generated` does all three to a model's reply: it keeps the sentences whose markers and
numbers resolve to quotes of the cited passages and sets the others apart.

Left out on purpose: judging whether a sentence without numbers is *true* of its passage (word
overlap picks its quote; a model's paraphrase is not checked for meaning).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from rag.text import content_words, normalize_number, numbers_in, split_units, stem

if TYPE_CHECKING:
    from rag.retrieve import Hit

MARKER_RE = re.compile(r"\[(\d{1,2})\]")


@dataclass(frozen=True)
class Citation:
    """One source an answer rests on. `quote == document_text[start:end]` (for a PDF, the text of
    page `page`); `passage` is the retrieved chunk the quote lies in."""

    n: int
    source: str
    title: str
    page: int | None
    section: str | None
    speaker: str | None
    analyst: str | None
    quote: str
    start: int
    end: int
    passage: str
    score: float

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def of_chunk(cls, n: int, chunk, start: int, end: int, score: float) -> Citation:
        """Citation `n` quoting `chunk.text[start:end]` (offsets in the chunk), located in its document."""
        return cls(n=n, source=chunk.source, title=chunk.title, page=chunk.page,
                   section=chunk.segment or chunk.section, speaker=chunk.speaker, analyst=chunk.analyst,
                   quote=chunk.text[start:end], start=chunk.start + start, end=chunk.start + end,
                   passage=chunk.text, score=round(score, 6))

    def location(self) -> list[str]:
        """Where in its document the quote is, after the title: page, section, questioner, speaker."""
        parts = []
        if self.page:
            parts.append(f"p. {self.page}")
        if self.section:
            parts.append(self.section)
        if self.analyst:
            parts.append(f"question from {self.analyst}")
        if self.speaker:
            parts.append(f"speaker: {self.speaker}")
        return parts


@dataclass(frozen=True)
class Answer:
    """What `ask()` returns, in every mode: the answer text with `[n]` markers, its citations,
    and whether it abstained (asserts nothing from the documents). `print(answer)` shows both."""

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    abstained: bool = False
    timings_ms: dict = field(default_factory=dict, compare=False)
    unverified: tuple[str, ...] = ()
    notice: str | None = None
    completed: str | None = None  # the question as answered: a follow-up completed ("and AIDC?" -> ...)
    explain: dict | None = field(default=None, compare=False)  # the extractive answerer's reasons, when asked
    explain_asked: bool = field(default=False, compare=False)  # a generative answerer explains nothing: null
    computation: dict | None = None  # a figure computed from cited cells (rag.compute.Computation.to_dict)

    def to_dict(self) -> dict:
        d = {"question": self.question, "completed": self.completed or self.question, "answer": self.text,
             "abstained": self.abstained, "citations": [c.to_dict() for c in self.citations],
             "timings_ms": dict(self.timings_ms)}
        if self.unverified:
            d["unverified"] = list(self.unverified)
        if self.notice:
            d["notice"] = self.notice
        if self.explain_asked or self.explain is not None:
            d["explain"] = self.explain
        if self.computation is not None:
            d["computation"] = self.computation
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def __str__(self) -> str:
        lines = [self.text]
        if self.notice:
            lines.insert(0, f"Note: {self.notice}")
        if self.unverified:
            lines += ["", "Unverified (not found in the cited sources):"] + [f"  ? {s}" for s in self.unverified]
        if self.citations:
            lines += ["", "Sources:"]
            for c in self.citations:
                lines.append(f"[{c.n}] {_where(c)}")
                lines.append(f"    \"{_clip(c.quote, 300)}\"")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        body = self.text.replace("\n", "  \n")
        if self.notice:
            body = f"*{self.notice}*\n\n{body}"
        if not self.citations:
            return body
        refs = "\n".join(f"{c.n}. **{_where(c)}**  \n   > {_clip(c.quote, 400)}" for c in self.citations)
        return f"{body}\n\n**Sources**\n\n{refs}"


def _where(c: Citation) -> str:
    return ", ".join([c.title, *c.location()])


def _clip(s: str, n: int) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"


# --- checks ----------------------------------------------------------------------------------

def figures(text: str) -> set[str]:
    """Normalised numbers stated in `text`, citation markers excluded."""
    return {n for n, _, _ in numbers_in(MARKER_RE.sub(" ", text))}


def _bare(n: str) -> str:
    return normalize_number(n.rstrip("%"))


def grounded(sentence: str, quotes: list[str]) -> bool:
    """True when every number in `sentence` appears in one of `quotes` (13% matches 13%). A quote is
    the document's text: a "[2]" in it is a number it states, not a citation marker."""
    return _held(figures(sentence), quotes)


def _held(numbers: set[str], quotes: list[str]) -> bool:
    have = set()
    for q in quotes:
        for n, _, _ in numbers_in(q):
            have.add(n)
            have.add(_bare(n))
    return all(n in have or _bare(n) in have for n in numbers)


def split_answer_sentences(text: str) -> list[str]:
    """An answer's sentences with their markers: a sentence ends after its last marker."""
    parts = re.split(r"(?<=\])\s+(?=\S)|(?<=\]\.)\s+(?=\S)|\n+", text)
    return [p.strip() for p in parts if p.strip()]


def check_grounding(text: str, citations: Sequence[Citation], computation: dict | None = None
                    ) -> tuple[list[str], list[str]]:
    """(kept, dropped) sentences of an answer: a sentence is kept when every number in it appears
    in a quote that it cites with a valid `[n]` marker, or is a figure of the answer's
    computation (its result, a step, a constant of its formula, a period it names) and the
    computation, done again here from the cited quotes, checks."""
    from rag.compute import derived_numbers, recheck

    by_n = {c.n: c for c in citations}
    derived: set[str] = set()
    if computation is not None and recheck(computation, {c.n: c.quote for c in citations}):
        derived = derived_numbers(computation)
    kept, dropped = [], []
    for sent in split_answer_sentences(text):
        cited = [by_n[int(m)] for m in MARKER_RE.findall(sent) if int(m) in by_n]
        rest = figures(sent) - derived
        if rest and not _held(rest, [c.quote for c in cited]):
            dropped.append(sent)
        else:
            kept.append(sent)
    return kept, dropped


# --- generated answers -----------------------------------------------------------------------

@dataclass(frozen=True)
class Verified:
    """A generated reply after `verify_generated`: `text` holds the sentences that passed, each
    ending with its markers renumbered 1..m to match `citations`; `unverified` holds the sentences
    that failed, markers removed, in order."""

    text: str
    citations: tuple[Citation, ...]
    unverified: tuple[str, ...]


_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+")
_MARKER_LIST = re.compile(r"\[\s*(\d{1,2}(?:\s*[,;]\s*\d{1,2})+)\s*\]")
_MARKER_WORD = re.compile(r"\[\s*(?:passage|source|doc(?:ument)?)\s*(\d{1,2})\s*\]", re.I)
_LEADING_MARKERS = re.compile(r"^(?:\s*\[\d{1,2}\])+[.,;:]?")


def normalize_markers(text: str) -> str:
    """The forms models write for `[n]`, as `[n]`: "[1, 2]" -> "[1][2]", "[Passage 3]" -> "[3]"."""
    text = _MARKER_WORD.sub(r"[\1]", text)
    return _MARKER_LIST.sub(lambda m: "".join(f"[{n}]" for n in re.split(r"\s*[,;]\s*", m.group(1))), text)


def generated_sentences(text: str) -> list[tuple[int, str]]:
    """(line, sentence) for each sentence of a generated reply. Headings and list bullets are
    dropped, and markers written after a full stop belong to the sentence before them
    ("7%. [1] Then")."""
    out: list[tuple[int, str]] = []
    for ln, line in enumerate(text.splitlines()):
        if line.lstrip().startswith("#"):
            continue  # a Markdown heading states nothing
        line = _LIST_ITEM.sub("", line).strip()
        for u in split_units(line):
            sent = line[u.start:u.end].strip()
            lead = _LEADING_MARKERS.match(sent)
            if lead and out and out[-1][0] == ln:
                out[-1] = (ln, f"{out[-1][1]} {lead.group(0).strip()}")
                sent = sent[lead.end():].strip()
            if sent:
                out.append((ln, sent))
    return out


def _tidy(text: str) -> str:
    text = re.sub(r"\*\*|__|`", "", text)  # Markdown emphasis and code marks: the page shows plain text
    return re.sub(r"\s+([.,;:!?])", r"\1", " ".join(text.split())).strip()


def _has(have: set[str], n: str) -> bool:
    return n in have or _bare(n) in have


@dataclass(frozen=True)
class _Unit:
    start: int  # offsets in the passage (chunk) text
    end: int
    heading: bool
    numbers: frozenset[str]  # as `figures` gives them, and bare ("13%" also as "13")
    stems: frozenset[str]


def _stems(text: str) -> frozenset[str]:
    return frozenset(stem(w) for w in content_words(text))


def verify_generated(text: str, hits: Sequence[Hit], max_chars: int = 1200,
                     skip: Callable[[str], bool] | None = None) -> Verified:
    """Check a model's reply against the passages it was given (`hits`, numbered from 1).

    Markers that name no passage are dropped. A sentence passes when it cites a passage and each
    of its numbers appears in a sentence (or table row) of a passage it cites; that unit is the
    citation's quote. A sentence without numbers quotes the unit of each cited passage that
    shares the most words with it (and fails when none shares any). Passing sentences are kept
    in order while the text stays within `max_chars`; `skip(sentence)` true (e.g. "I don't
    know") leaves a sentence without numbers out silently.
    """
    units: dict[int, list[_Unit]] = {}

    def units_of(p: int) -> list[_Unit]:
        if p not in units:
            chunk_text = hits[p - 1].chunk.text
            units[p] = []
            for u in split_units(chunk_text):
                t = chunk_text[u.start:u.end]
                nums = figures(t)
                units[p].append(_Unit(u.start, u.end, u.kind == "heading",
                                      frozenset(nums | {_bare(n) for n in nums}), _stems(t)))
        return units[p]

    passed: list[tuple[int, str, list[tuple[int, int, int]]]] = []
    unverified: list[str] = []
    for ln, sent in generated_sentences(normalize_markers(text)):
        body = _tidy(MARKER_RE.sub(" ", sent))
        if not re.search(r"[A-Za-z0-9]", body):
            continue
        nums = figures(body)
        if skip is not None and not nums and skip(body):
            continue
        cited = [p for p in dict.fromkeys(int(m) for m in MARKER_RE.findall(sent)) if 1 <= p <= len(hits)]
        picks = _support(body, nums, cited, units_of)
        if picks:
            passed.append((ln, body, picks))
        else:
            unverified.append(body)

    return _assemble(passed, hits, max_chars, tuple(unverified))


def _assemble(passed: list[tuple[int, str, list[tuple[int, int, int]]]], hits: Sequence[Hit], max_chars: int,
              unverified: tuple[str, ...]) -> Verified:
    """The verified sentences in order, each with the markers of its quotes (numbered as they
    first appear), lines kept as the model wrote them, cut at a sentence within `max_chars`."""
    numbers: dict[tuple[int, int, int], int] = {}
    citations: list[Citation] = []
    lines: list[tuple[int, list[str]]] = []
    length = 0
    for ln, body, picks in passed:
        fresh = [k for k in dict.fromkeys(picks) if k not in numbers]
        ns = sorted({numbers[k] for k in picks if k in numbers} |
                    {len(numbers) + 1 + i for i in range(len(fresh))})
        rendered = _with_markers(body, ns)
        sep = 1 if lines else 0
        if length + sep + len(rendered) > max_chars:
            break  # cut at a sentence boundary; what follows is left out, not unverified
        for k in fresh:
            numbers[k] = len(numbers) + 1
            p, s, e = k
            citations.append(Citation.of_chunk(numbers[k], hits[p - 1].chunk, s, e, hits[p - 1].score))
        if lines and lines[-1][0] == ln:
            lines[-1][1].append(rendered)
        else:
            lines.append((ln, [rendered]))
        length += sep + len(rendered)
    return Verified("\n".join(" ".join(sents) for _, sents in lines), tuple(citations), unverified)


def _support(body: str, nums: set[str], cited: list[int],
             units_of: Callable[[int], list[_Unit]]) -> list[tuple[int, int, int]]:
    """The (passage, start, end) units that ground `body`: for its numbers, the fewest units that
    hold them all (most numbers first, then most shared words); for each other cited passage,
    its unit sharing the most words. Empty when the sentence does not hold."""
    if not cited:
        return []
    words = _stems(body)
    picks: list[tuple[int, int, int]] = []
    todo = set(nums)
    while todo:
        best: tuple[tuple[int, int], int, _Unit, set[str]] | None = None
        for p in cited:
            for u in units_of(p):
                cover = {n for n in todo if _has(u.numbers, n)}
                key = (len(cover), len(words & u.stems))
                if cover and (best is None or key > best[0]):
                    best = (key, p, u, cover)
        if best is None:
            return []  # a number that no cited passage holds
        _, p, u, cover = best
        picks.append((p, u.start, u.end))
        todo -= cover
    for p in cited:
        if any(q == p for q, _, _ in picks):
            continue
        us = [u for u in units_of(p) if not u.heading] or units_of(p)
        best_u = max(us, key=lambda u: len(words & u.stems), default=None)  # first of equals
        if best_u is not None and words & best_u.stems:
            picks.append((p, best_u.start, best_u.end))
    return sorted(picks)  # in passage order, as they read


def _with_markers(body: str, ns: list[int]) -> str:
    """The sentence with its markers at its end, before its full stop: "Revenue grew 7% [1]."."""
    marks = "".join(f"[{n}]" for n in ns)
    if body[-1] in ".!?":
        return f"{body[:-1].rstrip()} {marks}{body[-1]}"
    return f"{body} {marks}"
