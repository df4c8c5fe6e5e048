"""Composition: the answer's lead (the figure, date or name asked for), its quotes cut to the
clauses that matter, and the numeric grounding check over the whole."""

from __future__ import annotations

import math
import re

from rag.cite import Answer, Citation, check_grounding
from rag.extractive.features import Candidate
from rag.extractive.figures import answer_figures, figures, is_change, new_names
from rag.extractive.tables import column_pick, counted, counts_near, fact_pick, with_unit
from rag.extractive.terms import stems_of, term_positions
from rag.extractive.vocab import CLAUSE, DATE_RE, PERIOD_WORDS
from rag.question import Query
from rag.text import stem

MAX_CHARS = 600
MAX_QUOTE = 330  # a longer sentence is cut to the clauses around its figure


def compose(query: Query, chosen: list[Candidate]) -> Answer | None:
    """The answer quoting the chosen sentences, led by the short answer; None when nothing
    grounded is left."""
    citations, parts = [], []
    for n, c in enumerate(chosen, 1):
        s, e = trim(query, c.hit.chunk.text, c.start, c.end)
        if m := _TRAILING_MARK.search(c.hit.chunk.text, s, e):
            e = m.start()  # "... - CFO [24]": a transcript's label number, which would read as a citation
        citations.append(Citation.of_chunk(n, c.hit.chunk, s, e, c.hit.score))
        parts.append((c, s, e))
    lead = short_answer(query, parts)
    body = " ".join(f"{quote_for_text(ct.quote)} [{ct.n}]" for ct in citations)
    text = f"{lead}\n{body}" if lead else body
    if len(text) > MAX_CHARS and len(citations) > 1:
        citations = citations[:1]
        body = f"{quote_for_text(citations[0].quote)} [1]"
        lead = short_answer(query, parts[:1])
        text = f"{lead}\n{body}" if lead else body
    kept, _ = check_grounding(text, citations)
    text = "\n".join(kept)
    if not text.strip():
        return None
    return Answer(query.text, text, tuple(citations), abstained=False)


def _figure_lead(query: Query, c: Candidate, s: int, e: int) -> list[str]:
    """The figures of one quoted sentence that answer: an amount, not its growth, for "how
    much"; a level, not its change, unless a change is asked; the column of the period asked."""
    passage = c.hit.chunk.text
    figs = [f for f in answer_figures(query, passage, s, e) if f.kind != "year"]
    if (query.wants_money or (query.intent == "amount" and not query.wants_ratio)) and \
            any(f.kind == "money" for f in figs):
        figs = [f for f in figs if f.kind == "money"]  # "how much revenue": the amount, not its growth
        levels = [f for f in figs if not is_change(passage, f)]
        figs = levels or figs  # "increased $555 million, ... was $1.9 billion": the level
    if query.intent == "percent" and any(f.kind == "percent" for f in figs) and not query.multi:
        figs = [f for f in figs if f.kind == "percent"]
        if not query.asks_change:  # "gross margin increased 120 basis points to 46.0%": 46.0%
            figs = [f for f in figs if not is_change(passage, f)] or figs
    if query.intent == "count" and (what := counted(query)):
        # "how many warehouses": the figure with warehouses beside it, not a percentage nearby
        figs = [f for f in figs if f.kind != "percent" and counts_near(passage, f, what, start=s, end=e)] or figs
    figs = _of_year_asked(query, passage, figs)
    picked = fact_pick(query, c.hit, s, e)
    if picked is not None:
        return picked
    framing = frozenset(stems_of(f"{c.hit.chunk.title} {c.hit.chunk.file_name}"))
    return column_pick(query, c.hit.chunk, s, e, figs) or \
        nearest(query, passage, s, e, [(f.text, f.start, f.end) for f in figs], many=query.multi, framing=framing)


# the year a figure is said of, right after it: "$1.78 billion in 1999", "$2.60 billion for fiscal 2000"
_YEAR_AFTER = re.compile(r"\s*(?:in|for|during)\s+(?:fiscal\s+(?:year\s+)?)?((?:19|20)\d\d)\b", re.I)


_YEAR_LIST = re.compile(r"\s*(?:in|for|during)\s+(?:fiscal\s+(?:years?\s+)?)?((?:19|20)\d\d(?:\s*,\s*(?:19|20)\d\d)*"
                        r",?\s+and\s+(?:19|20)\d\d)\b", re.I)
_LIST_GAP = re.compile(r"\s*,?\s*(?:and\s+)?", re.I)  # between two figures of one list


def _of_year_asked(query: Query, passage: str, figs: list) -> list:
    """A year asked: not the figures a sentence gives for another year ("Asia Region revenue was
    $1.78 billion in 1999, $2.60 billion in 2000, and $3.06 billion in 2001" for FY2001); those
    said of the year asked first."""
    year = query.period.year if query.period is not None and query.period.year else None
    if year is None or not figs:
        return figs
    said = {id(f): (int(m.group(1)) if (m := _YEAR_AFTER.match(passage, f.end)) else None) for f in figs}
    for j, f in enumerate(figs):
        # "$4.33 billion, $5.02 billion, and $4.86 billion in 1999, 2000, and 2001": the figures
        # before the years, one for each, in order
        if (m := _YEAR_LIST.match(passage, f.end)) and 2 <= len(years := re.findall(r"(?:19|20)\d\d", m.group(1))) <= j + 1:
            run = figs[j + 1 - len(years):j + 1]
            if all(_LIST_GAP.fullmatch(passage[a.end:b.start]) for a, b in zip(run, run[1:])):
                said.update({id(x): int(y) for x, y in zip(run, years)})
    own = [f for f in figs if said[id(f)] == year]
    return own or [f for f in figs if said[id(f)] is None]


def short_answer(query: Query, parts: list[tuple[Candidate, int, int]]) -> str | None:
    """The figure, date or name asked for, with the marker of the quote it comes from."""
    if query.intent in ("describe", "place"):
        return None
    c, s, e = parts[0]
    passage = c.hit.chunk.text
    if query.intent == "asker" and c.hit.chunk.analyst:
        return f"{c.hit.chunk.analyst} [1]."
    if query.intent == "person":
        picks = nearest(query, passage, s, e, new_names(query, passage, s, e))
        return f"{picks[0]} [1]." if picks else None
    if query.intent == "date":
        picks = nearest(query, passage, s, e, [(m.group(0), m.start(), m.end()) for m in DATE_RE.finditer(passage, s, e)])
        return f"{picks[0]} [1]." if picks else None
    leads: list[str] = []
    for n, (c, s, e) in enumerate(parts, 1):
        # a figure broken over a line ("$46.7\nbillion") is one figure on one line of the answer
        picks = [" ".join(p.split()) for p in _figure_lead(query, c, s, e)]
        picks = [p for p in picks if p not in " ".join(leads)]
        if picks:
            leads.append(f"{', '.join(picks)} [{n}]")
        if not query.multi:
            break
    return ("; ".join(leads) + ".") if leads else None


def _closeness(query: Query, passage: str, s: int, e: int, pos: list, starts: list[int], many: bool,
               framing: frozenset[str]):
    """How close an item (figure, date) is to the question's terms, each term's weight decaying
    with distance and discounted when another figure or clause stands between."""
    def score(it: tuple[str, int, int]) -> float:
        mid = (it[1] + it[2]) / 2
        total = 0.0
        for p, w, word in pos:
            if not many:
                if stem(word) in PERIOD_WORDS or stem(word) in framing:
                    # "first quarter", and the company whose document it is ("excluding Alibaba
                    # consolidated subsidiaries increased by 11%"), frame the whole sentence, not one figure
                    w *= 0.25
                if p < it[1]:
                    if any(p < a < it[1] for a in starts):
                        w *= 0.3  # another figure stands between: the words are its label
                    elif CLAUSE.search(passage, p, it[1]):
                        w *= 0.6  # "share count, combined with USD 10 billion": another clause
                elif any(a > p for a in starts) and CLAUSE.search(passage, it[2], p):
                    w *= 0.3  # "$0.20, and non-GAAP diluted EPS was $1.69": the next figure's label
            total += w * math.exp(-abs(p - mid) / 60.0)
        return total + 1e-6 * (e - it[1])
    return score


def nearest(query: Query, passage: str, s: int, e: int, items: list[tuple[str, int, int]],
            many: bool = False, framing: frozenset[str] = frozenset()) -> list[str]:
    """Items (figures, dates) ordered by closeness to the question's terms in the sentence;
    one, or for a multi-part question all that score within 60% of the best (at most 4).
    `framing`: stems of the document's own name, which frame every sentence of it."""
    if not items:
        return []
    score = _closeness(query, passage, s, e, term_positions(query, passage, s, e), sorted(it[1] for it in items), many,
                       framing)
    ranked = sorted(items, key=score, reverse=True)
    if not many:
        return [ranked[0][0]]
    top = score(ranked[0])
    keep = [it for it in ranked if score(it) >= 0.6 * top][:4]
    keep.sort(key=lambda it: it[1])
    seen, out = set(), []
    for t, _, _ in keep:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def trim(query: Query, passage: str, s: int, e: int) -> tuple[int, int]:
    """Cut an over-long sentence to the clauses around its best figure or terms (still an exact
    substring of the passage)."""
    if e - s <= MAX_QUOTE:
        return s, e
    cuts = sorted({s, e} | {s + m.end() for m in re.finditer(r"[,;:]\s+|\s+(?=(?:and|but|while|which)\b)",
                                                          passage[s:e])})
    pos = term_positions(query, passage, s, e)
    figs = [(f.start + f.end) / 2 for f in figures(passage, s, e)]
    best, best_score = (s, min(e, s + MAX_QUOTE)), -1.0
    for i, a in enumerate(cuts):
        for b in cuts[i + 1:]:
            if b - a > MAX_QUOTE:
                break
            sc = sum(w for p, w, _ in pos if a <= p < b) + (0.5 if any(a <= f < b for f in figs) else 0) + (b - a) / 10000
            if sc > best_score:
                best, best_score = (a, b), sc
    a, b = best
    while a < b and passage[a] in " ,;:":
        a += 1
    while b > a and passage[b - 1] in " ,;:":
        b -= 1
    return a, b


_TRAILING_MARK = re.compile(r"\s*\[\d{1,3}\]$")


def quote_for_text(quote: str) -> str:
    """A quote as the answer's text shows it: one line, and a bracketed number inside it ("as
    described in note [3]") written "(3)", so that it never reads as a citation marker."""
    return re.sub(r"\[(\d{1,3})\]", r"(\1)", " ".join(quote.split()))


def quoted_answer(question: str, chunk, start: int, end: int, lead: str | None, score: float) -> Answer:
    """An answer resting on one quote, chunk.text[start:end], led by `lead` (which cites [1])."""
    citation = Citation.of_chunk(1, chunk, start, end, score)
    body = f"{quote_for_text(citation.quote)} [1]"
    return Answer(question, f"{lead}\n{body}" if lead else body, (citation,), abstained=False)


def ambiguous_answer(query: Query, readings: list) -> Answer:
    """An abstention that lists what was found, when two rows or periods could be meant: each
    reading's figure with its row and period, cited, and no figure chosen."""
    citations, lines = [], []
    for c, row, cell in readings:
        n = next((ct.n for ct in citations if ct.source == c.hit.chunk.source and
                  ct.start == c.hit.chunk.start + c.start), len(citations) + 1)
        if n > len(citations):
            citations.append(Citation.of_chunk(n, c.hit.chunk, c.start, c.end, c.hit.score))
        lines.append(f"{with_unit(cell.text, row)} for {' › '.join(row.path)}, {cell.period.label} [{n}]")
    text = "More than one figure could be meant; ask for one of them: " + "; ".join(lines) + "."
    body = " ".join(f"{quote_for_text(ct.quote)} [{ct.n}]" for ct in citations)
    return Answer(query.text, f"{text}\n{body}", tuple(citations), abstained=True)
