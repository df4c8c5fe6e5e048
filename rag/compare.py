"""Rankings from the statements: "Which of Adobe's three reportable segments grew revenue fastest
in FY2022?", "Which region had the largest net sales in FY2023?". The members compared are the
rows of one table that break a measure down (segments, regions, products), each with its figure
(or its growth over the year before) for the period asked; the answer names the first and lists
every member, each cited, the arithmetic checked like any computed figure (rag/compute.py).

How the table is found, without knowing the company's names for its segments:
- the measure is the line item the question names ("revenue", "net sales", "operating income");
- a table qualifies when its rows are not themselves that measure (they are its parts) and the
  measure names the table: its total row ("Total revenue"), a heading above the rows, or its
  caption;
- among those, a segment table first, then one with as many members as the question counts
  ("three reportable segments").
When none qualifies, or two tables fit alike with other winners, nothing is ranked.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from rag import compute
from rag.facts import Row

_WHICH = re.compile(r"^\s*(?:which|what)\b", re.I)
_MOST = re.compile(r"\b(fastest|quickest|highest|largest|biggest|most|strongest|best)\b", re.I)
_LEAST = re.compile(r"\b(slowest|lowest|smallest|least|weakest|worst)\b", re.I)
_GROWTH = re.compile(r"\b(?:grew|grow|growth|growing|increase[sd]?|performance|performing|expan\w+)\b", re.I)
# what a question calls a table's members: "segments", "regions", "product lines"
_MEMBERS = re.compile(r"\b(segments?|regions?|geograph\w*|products?|product\s+lines?|categor\w+|businesses|"
                      r"divisions?|departments?|brands?|markets?|channels?|units?)\b", re.I)
_COUNT = re.compile(r"\b(two|three|four|five|six|2|3|4|5|6)\s+(?:[\w-]+\s+){0,2}(?:segments?|regions?|divisions?|"
                    r"businesses|products?|categor\w+|brands?|markets?|channels?|units?)\b", re.I)
_COUNTS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
# the measure when the question names it by an analyst's word: "topline performance"
_MEASURE_WORDS = (("revenue", re.compile(r"\b(?:revenues?|top[\s-]?line|sales)\b", re.I)),
                  ("operating income", re.compile(r"\boperating\s+(?:income|profit|loss(?:es)?)\b", re.I)),
                  ("net income", re.compile(r"\bnet\s+(?:income|earnings|loss(?:es)?)\b", re.I)))
# a loss asked ("the biggest operating loss"): the income measure, its lowest (most negative) first
_LOSS = re.compile(r"\b(?:operating|net)\s+loss(?:es)?\b", re.I)
_RECONCILING = re.compile(r"\b(?:reconcil\w*|eliminations?|unallocated)\b", re.I)
# rows of a segment table that are no member: its totals and the items reconciling them
_NOT_MEMBER = re.compile(r"^\s*(?:total|consolidated|reconcil\w*|eliminations?|intersegment|unallocated)\b", re.I)


# where a caption's measure ends: "Net sales| by merchandising department", "Revenue| (in millions)"
_BREAKDOWN = re.compile(r"\s+by\s+|\s*[(:]|\s+follows?\b", re.I)


SHOWN = 5  # members listed in a ranked answer


@dataclass(frozen=True)
class Ranking:
    measure: compute.Item
    growth: bool
    most: bool
    period: object  # rag.framing.Period
    count: int | None
    loss: bool = False  # "the biggest operating loss": ranked lowest first, and said as a loss


def ranking(query) -> Ranking | None:
    """What a "which ... fastest/largest" question ranks, or None when it is not one."""
    framing = query.framing
    text = framing.question if framing else query.text
    if framing is None or framing.period is None or not _WHICH.match(text) or not _MEMBERS.search(text):
        return None
    most, least = _MOST.search(text), _LEAST.search(text)
    if not (most or least):
        return None
    growth = bool(_GROWTH.search(text)) or "performance" in text.lower()
    phrase = next((p.phrase for p in _asked(text)), None) or next(
        (name for name, pat in _MEASURE_WORDS if pat.search(text)), None) or ("revenue" if growth else None)
    if phrase is None:  # (a segment that "grew fastest", no measure named, grew its revenue: the top line)
        return None
    count = _COUNT.search(text)
    n = _COUNTS.get(count.group(1).lower(), None) if count else None
    if count and n is None:
        n = int(count.group(1))
    top = bool(most) and not (least and least.start() < most.start())
    loss = bool(_LOSS.search(text)) and not growth
    # "the biggest operating loss" is the lowest operating income
    return Ranking(compute.Item(phrase), growth, top != loss, framing.period, n, loss)


def asks_ranking(query) -> bool:
    """Whether a question asks which member ranks first ("Among Nike's four geographies, which grew
    fastest"), wherever its "which" stands: what `ranking` reads only at the question's start."""
    text = query.framing.question if query.framing else query.text
    return bool(re.search(r"\bwhich\b", text, re.I) and _MEMBERS.search(text) and (_MOST.search(text) or _LEAST.search(text)))


def _asked(text: str):
    from rag.facts import asked_items

    return asked_items(text)


def _tables(rows: list[Row]) -> list[list[Row]]:
    """The rows as tables: consecutive rows of a page with one caption, a total row closing one."""
    out: list[list[Row]] = []
    for r in sorted(rows, key=lambda r: (r.source, r.page or 0, r.start)):
        last = out[-1][-1] if out else None
        # a new heading over the rows ("Revenue:" then "Operating income/(loss):") starts another
        if last is None or (last.source, last.page, last.caption) != (r.source, r.page, r.caption) or \
                last.label.lower().startswith("total") or (len(r.path) > 1 and r.path[:-1] != last.path[:-1]):
            out.append([])
        out[-1].append(r)
    return out


def _members(table: list[Row], rk: Ranking) -> tuple[list[Row], float] | None:
    """The rows of a table that are parts of the measure, and how well the table is named by it;
    None when the table does not break the measure down."""
    # (a rate row between the members, "Percentage of total revenue 73 %", is no member)
    parts = [r for r in table if not _NOT_MEMBER.match(r.label) and r.unit != "%"]
    total = [r for r in table if re.match(r"\s*(?:total|consolidated)\b", r.label, re.I)]
    if any(len(r.path) > 1 and _RECONCILING.search(r.path[-2]) for r in parts):
        return None  # "Operating income reconciling amounts:": the items between segments and total
    if len(parts) < 2 or any(compute.label_score(rk.measure, r) >= compute.MIN_LABEL for r in parts):
        return None  # the rows are the measure itself (a segment's "Net sales" beside its "Operating income")
    if rk.count is not None and len(parts) != rk.count:
        return None  # "three reportable segments": a table of two (U.S. and international) is another breakdown
    named = 0.0
    if total and compute.label_score(rk.measure, total[-1]) >= compute.MIN_LABEL:
        named = 1.0
    elif any(compute.label_score(rk.measure, dataclasses.replace(r, path=(r.path[-2],)))
             >= compute.MIN_LABEL for r in parts if len(r.path) > 1):
        named = 0.8  # a heading above the rows: "Revenue:" > "Digital Media"
    elif compute.label_score(rk.measure, dataclasses.replace(parts[0], path=(parts[0].caption,))) \
            >= compute.MIN_LABEL or compute.label_score(rk.measure, dataclasses.replace(
                parts[0], path=(_BREAKDOWN.split(parts[0].caption)[0],))) >= compute.MIN_LABEL:
        named = 0.6  # the caption: "Net sales by merchandising department (and related services) follow:"
    if not named:
        return None
    return parts, named + 0.3 * (parts[0].statement == "segment") + 0.3 * (rk.count == len(parts))


def answer(query, hits):
    """The ranked answer, cited and checked; None when the question ranks nothing or no table
    breaks its measure down for the period asked."""
    from rag.cite import Answer

    rk = ranking(query)
    if rk is None:
        return None
    named = compute._naming_sources(query, hits)
    found = tables_for(rk, [r for r in compute.rows_of(hits) if r.source in named])
    if not found or (len(found) > 1 and found[1][0] >= found[0][0] - 1e-9
                     and _winner(found[1][1], rk) != _winner(found[0][1], rk)):
        return None  # nothing ranked, or two tables fit alike and name other winners
    c = _computation(found[0][1], rk)
    c, citations = compute.cite_and_check(c, hits)
    if not c.checked:
        return None
    return Answer(query.text, _text(c, rk), tuple(citations), abstained=False, computation=c.to_dict())


def tables_for(rk: Ranking, rows: list[Row]) -> list[tuple[float, list]]:
    """The tables that break the measure down with a figure for every member, best first, each as
    (score, [(row, cell, cell a year before)])."""
    out = []
    for table in _tables(rows):
        got = _members(table, rk)
        if got is None:
            continue
        parts, score = got
        figures = _figures(parts, rk)
        if figures is not None:
            out.append((score, figures))
    out.sort(key=lambda x: -x[0])
    return out


def _figures(parts: list[Row], rk: Ranking) -> list[tuple[Row, object, object | None]] | None:
    """(row, cell for the period, cell a year before when growth is ranked) of each member; None
    when a member lacks one."""
    out = []
    for r in parts:
        now, _ = compute._cell(r, rk.period)
        before = compute._cell(r, compute.shift(rk.period, -1))[0] if rk.growth else None
        if now is None or (rk.growth and (before is None or not before.value)):
            return None
        out.append((r, now, before))
    return out


def _winner(figures, rk: Ranking) -> str:
    vals = [(_value(f, rk), f[0].label) for f in figures]
    return (max if rk.most else min)(vals)[1]


def _value(f, rk: Ranking) -> float:
    _, now, before = f
    return (now.value - before.value) / abs(before.value) if rk.growth else now.value


def _computation(figures, rk: Ranking) -> compute.Computation:
    """Each member's figure (or growth) as a step; the result is the first's."""
    ordered = sorted(figures, key=lambda f: _value(f, rk), reverse=rk.most)
    ops, steps = [], []
    for r, now, before in ordered:
        i = len(ops) + 1
        ops.append(compute.Operand(r.label, r.label, now.value * (r.scale or 1), now.text, now.period.label, r.source,
                                   r.page, r, now))
        if rk.growth:
            ops.append(compute.Operand(r.label, r.label, before.value * (r.scale or 1), before.text,
                                       before.period.label, r.source, r.page, r, before))
            expression = f"(o{i} - o{i + 1}) / o{i + 1} * 100"
            shown = f"{(now.value - before.value) / abs(before.value) * 100:.2f}%"
        else:
            expression = f"o{i}"
            shown = compute._show(now.value * (r.scale or 1), "amount", None, [ops[-1]])
        steps.append((expression, shown))
    metric = f"{rk.measure.phrase} {'growth' if rk.growth else ''}".strip()
    return compute.Computation(metric, f"{'highest' if rk.most else 'lowest'} {metric}", steps[0][0],
                               compute.evaluate(steps[0][0], [o.value for o in ops]), steps[0][1],
                               2 if rk.growth else 0, "%" if rk.growth else "USD", tuple(ops), tuple(steps),
                               mode="rank", periods=(compute._period_label(rk.period),))


def _text(c: compute.Computation, rk: Ranking) -> str:
    top = c.operands[0]
    how = ("grew fastest" if rk.most else "grew slowest") if rk.growth else \
        (f"had the {'smallest' if rk.most else 'largest'} loss" if rk.loss else
         "was largest" if rk.most else "was smallest")
    per = compute._period_label(rk.period)
    lines = [f"{top.label} {how} in {per}: {c.shown}."]
    step = 2 if rk.growth else 1
    # the first few members; a table of fourteen departments would bury the answer (the
    # computation keeps every member, each cited, for the explain trace and the checker)
    for k, (_, shown) in enumerate(c.steps[:SHOWN]):
        now = c.operands[k * step]
        if rk.growth:
            before = c.operands[k * step + 1]
            lines.append(f"{now.label}: {shown} ({now.text} against {before.text}) [{now.citation}]")
        else:
            lines.append(f"{now.label}: {shown} [{now.citation}]")
    if len(c.steps) > SHOWN:
        lines.append(f"... and the others, each {'lower' if rk.most else 'higher'}.")
    return "\n".join(lines)
