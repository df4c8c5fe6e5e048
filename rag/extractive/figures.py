"""What a sentence holds that can answer: figures (with their kind), dates, people's names,
other proper nouns, and the quarters it names. Offsets are in the passage (chunk) text."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from rag.extractive.vocab import (
    CURRENCY,
    DELTA,
    FIGURE_RE,
    MONTH_BEFORE,
    NAME_RE,
    NOT_NAME_WORDS,
    ORDINAL_Q,
    QUARTER,
    RETRACTION,
    SCALE,
    SCALED,
    YEAR,
)
from rag.question import Query
from rag.text import NUMBER_RE


@dataclass(frozen=True)
class Figure:
    text: str  # as written: "RMB 280.2 billion", "13%"
    start: int  # offsets in the passage (chunk) text
    end: int
    kind: str  # percent | money | count | year | number


def _kind(raw: str, digits: str) -> str:
    low = raw.lower()
    if "%" in low or "percent" in low or "point" in low or "bps" in low:
        return "percent"
    if re.search(CURRENCY, raw) or re.search(SCALE, low):
        return "money"
    if YEAR.match(digits) and "," not in raw:
        return "year"
    return "number"


@functools.lru_cache(maxsize=1 << 14)
def figures(passage: str, start: int, end: int) -> tuple[Figure, ...]:
    """Figures in passage[start:end]: not years of dates alone, not numbers the speaker took back.
    Kept per sentence (a tuple, never changed): the answerer's features ask for the same
    sentence's figures about four times, and this was half of a routed answer's time at 10k chunks
    (scale bench: 0.35 of 0.76 s over 18 answers)."""
    out = []
    for m in FIGURE_RE.finditer(passage, start, end):
        raw = m.group(0).strip()
        digits = re.sub(r"[^\d.]", "", raw)
        if not digits or not re.search(r"\d", raw):
            continue
        if MONTH_BEFORE.search(passage, max(0, m.start() - 12), m.start()) and len(digits) <= 2:
            continue  # "January 31": a day of a date, not a figure
        after = passage[m.end():m.end() + 120]  # the correction may open the next sentence
        if RETRACTION.match(after) and NUMBER_RE.search(after):
            continue  # "USD 2.07 billion. pardon me, USD 20.7 billion": the first was taken back
        if re.fullmatch(r"\(\d\)", raw) and re.search(r"[A-Za-z*]\s?$", passage[max(0, m.start() - 2):m.start()]):
            continue  # "Active Buyers (1) 132": a footnote marker after a label
        if re.fullmatch(r"\d{1,3}", raw) and (before := re.search(r"\b([a-z]*)[A-Z][\w-]* $", passage[
                max(0, m.start() - 30):m.start()])) and (before.group(1) or re.match(r" [A-Z][a-z]", passage[
                    m.end():m.end() + 3])) and not MONTH_BEFORE.search(passage, max(0, m.start() - 12), m.start()):
            continue  # "iPhone 14 Pro", "Galaxy S23 Ultra", "iPhone 15,": a number inside a product's name
        if re.fullmatch(r"\(\d{1,2}\)", raw) and re.search(r"(?:^|\n)\s*$", passage[max(0, m.start() - 3):m.start()]):
            continue  # "(4) Current Remaining Performance Obligation FX impact is...": a footnote's number
        if re.fullmatch(r"\d{1,3}(?:\.\d{1,2})?", raw) and (
                _NAMED_BY.match(passage, m.end()) or _NAMES_IT.search(passage, max(0, m.start() - 12), m.start())):
            continue  # "Form 10-Q", "8-K", "S-1", "Rule 10b5-1", "Exhibit 10.1", "Note 7": a name, not a figure
        if re.fullmatch(r"\d{1,3}", raw) and not passage[m.end():].strip() and \
                _FOLIO_ABOVE.search(passage, max(0, m.start() - 400), m.start()):
            continue  # a page's number, alone on its last line under a line of prose: "...the amount of cash\n13"
        if _IN_TOKEN.search(passage, max(0, m.start() - 200), m.start() + 1):
            continue  # "https://www.example.com/...-results-301886665.html": part of an address, not a figure
        # "(2.6) %": a negative percentage, shown "-2.6%" (not "2.6) %")
        text = f"-{neg.group(1)}%" if (neg := _NEG_PERCENT.fullmatch(raw)) else raw.strip("()")
        out.append(Figure(text, m.start(), m.start() + len(raw), _kind(raw, digits)))
    return tuple(out)


# the line above a page's number: a line of prose (not "Total employees", not "...stores opened were")
_FOLIO_ABOVE = re.compile(r"[^\n]{40,}(?<!\bwere)(?<!\bwas)(?<!\bof)(?<!\bto)(?<!:)\s*\n[ \t]*$")
_NEG_PERCENT = re.compile(r"\((\d[\d.,]*)\)\s?%")
# a figure inside a web or e-mail address: the address runs without a space up to it
_IN_TOKEN = re.compile(r"(?:https?://|www\.|\w@\w)\S*\S$")


# a number that is part of a name or a reference: letters glued after it ("10-Q", "10b5") or before
# it ("S-1", "COVID-19"), or a document's part before it ("Exhibit 10.1", "Item 7", "Note 12")
_NAMED_BY = re.compile(r"-[A-Z]\b|[a-z]\d")
_NAMES_IT = re.compile(r"(?:\b[A-Z]{1,6}-|[a-z]\d+-|\b(?:Exhibits?|Item|Note|Section|Rule|Form|Schedule|Part)\s+)$")


def is_change(passage: str, f: Figure) -> bool:
    """Whether a figure is a change ("increased $555 million", "up 120 basis points", "a $933
    million or 13% increase") or what moved a measure ("an unfavorable impact of 2.3% and 2.7%"),
    not a level."""
    return bool(DELTA.search(passage, max(0, f.start - 60), f.start) or _DELTA_AFTER.match(passage, f.end))


# a change named after its figure: "$933 million or 13% increase", "$42 million decline in"
_DELTA_AFTER = re.compile(r"\s*(?:(?:dollars\s+)?or\s+\d+(?:\.\d+)?\s*(?:%|percent)\s+)?(?:year-over-year\s+)?"
                          r"(?:increase|decrease|decline|rise|drop|reduction|improvement|growth)\b", re.I)


def first_figure_at(passage: str, start: int, end: int) -> int:
    """Offset, within passage[start:end], of its first figure that is not a year (or its end)."""
    return next((f.start - start for f in figures(passage, start, end) if f.kind != "year"), end - start)


def answer_figures(query: Query, passage: str, start: int, end: int) -> list[Figure]:
    """The figures of passage[start:end] that can answer the question: for a per-share measure
    (EPS, dividends per share), not the ones in millions or billions (share counts, totals)."""
    figs = figures(passage, start, end)
    if query.per_share:
        return [f for f in figs if not SCALED.search(f.text)]
    return list(figs)


def quarters(text: str) -> set[int]:
    """The quarters a text names: "fourth-quarter", "Q4", "third quarter" -> {4, 3}."""
    return {ORDINAL_Q[m.group(1).lower()] if m.group(1) else int(m.group(2)) for m in QUARTER.finditer(text)}


def names(passage: str, start: int, end: int) -> list[tuple[str, int, int]]:
    """Person-like names in passage[start:end] with their offsets: "Safra Catz", "Ms. Catz"."""
    out = []
    for m in NAME_RE.finditer(passage, start, end):
        parts = [w.rstrip(".") for w in m.group(0).split()]
        if not any(w in NOT_NAME_WORDS for w in parts):
            out.append((m.group(0), m.start(), m.end()))
    return out


def _said(text: str) -> set[str]:
    """The words of a text, lower-cased, as the name checks compare them."""
    return {w.lower() for w in re.findall(r"[A-Za-z]+", text)}


def new_names(query: Query, passage: str, start: int, end: int) -> list[tuple[str, int, int]]:
    """The people a sentence names that the question does not already say: for "Who is the CFO of
    Corvane Software?", "Priya Raghunathan", not "Corvane Software"."""
    asked = _said(query.text)
    return [n for n in names(passage, start, end) if not _said(n[0]) <= asked]


def proper_nouns(query: Query, passage: str, start: int, end: int) -> list[str]:
    """Capitalised names in the sentence that the question does not already use: where
    someone worked or studied, where something is."""
    asked = _said(query.text)
    out = []
    for m in re.finditer(r"(?<![.!?]\s)(?<!^)\b[A-Z][A-Za-z&'-]+(?:\s+[A-Z][A-Za-z&'-]+)*", passage[start:end]):
        words_ = [re.sub(r"['’]s$", "", w) for w in m.group(0).split()]
        if any(w.lower() not in asked and w not in NOT_NAME_WORDS for w in words_):
            out.append(m.group(0))
    return out
