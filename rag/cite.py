"""The result types, `Answer` and `Citation`, and the checks that make a citation trustworthy:
every quote is located in its document by offsets, `[n]` markers are parsed and mapped back, and
every number an answer states must appear in a quote that its sentence cites.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

from rag.text import normalize_number, numbers_in

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

    def to_dict(self) -> dict:
        d = {"question": self.question, "answer": self.text, "abstained": self.abstained,
             "citations": [c.to_dict() for c in self.citations], "timings_ms": dict(self.timings_ms)}
        if self.unverified:
            d["unverified"] = list(self.unverified)
        if self.notice:
            d["notice"] = self.notice
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
    """True when every number in `sentence` appears in one of `quotes` (13% matches 13%)."""
    have = set()
    for q in quotes:
        for n in figures(q):
            have.add(n)
            have.add(_bare(n))
    return all(n in have or _bare(n) in have for n in figures(sentence))


def split_answer_sentences(text: str) -> list[str]:
    """An answer's sentences with their markers: a sentence ends after its last marker."""
    parts = re.split(r"(?<=\])\s+(?=\S)|(?<=\]\.)\s+(?=\S)|\n+", text)
    return [p.strip() for p in parts if p.strip()]


def check_grounding(text: str, citations: list[Citation]) -> tuple[list[str], list[str]]:
    """(kept, dropped) sentences of an answer: a sentence is kept when every number in it appears
    in a quote that it cites with a valid `[n]` marker."""
    by_n = {c.n: c for c in citations}
    kept, dropped = [], []
    for sent in split_answer_sentences(text):
        cited = [by_n[int(m)] for m in MARKER_RE.findall(sent) if int(m) in by_n]
        if figures(sent) and not grounded(sent, [c.quote for c in cited]):
            dropped.append(sent)
        else:
            kept.append(sent)
    return kept, dropped
