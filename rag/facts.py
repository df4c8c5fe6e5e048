"""Financial tables read as facts: every numeric cell of a statement or table, with its row (and
the row's parents), its column's period, its unit and scale, and the exact text it was read from.

A PDF page arrives as text lines (PDFium writes one table row per line) and the x extent of each
word on the page (PDFium's character boxes, `Page.layout`). Columns are found where they are on
the page: a cell belongs to the period whose header sits above it, not to the n-th number of its
line, so an empty cell, a "Change" column or a header spread over three lines ("Three Months
Ended" / "July 1," / "2023") does not shift a row's figures into another period. Text without
positions (a .txt or .md table) is read by order: a row with as many figures as the header has
periods.

No well-kept library does this offline: pdfplumber finds table cells (about 0.3 s a page, too slow
to run on every page of a 10-K), docling and camelot need models or Ghostscript; none reads a
statement's periods, row parents or scale. The word boxes come from PDFium; what is written here
is the reading of a financial table's header and rows.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import re
from dataclasses import asdict, dataclass, field

# --- vocabulary ------------------------------------------------------------------------------

# Statement titles, as US filings and earnings releases print them: "CONSOLIDATED STATEMENTS OF
# CASH FLOWS", "Condensed Consolidated Balance Sheets", "Statement of Financial Position".
STATEMENTS: tuple[tuple[str, re.Pattern], ...] = (
    ("cash_flow", re.compile(r"\bstatements? of cash flows?\b|\bcash flows? statements?\b", re.I)),
    ("balance", re.compile(r"\bbalance sheets?\b|\bstatements? of financial (position|condition)\b", re.I)),
    ("comprehensive", re.compile(r"\bstatements? of comprehensive (income|loss|earnings)\b", re.I)),
    ("equity", re.compile(r"\bstatements? of (changes in )?(stockholders['’]?|shareholders['’]?|share-?owners['’]?)?\s*"
                          r"(equity|deficit)\b", re.I)),
    ("income", re.compile(r"\bstatements? of (consolidated )?(operations|income|earnings)\b|\bincome statements?\b", re.I)),
)
# What a statement's pages call it, for retrieval: "use the cash flow statement" finds its pages
STATEMENT_TITLES = {"cash_flow": "statements of cash flows", "balance": "balance sheets",
                    "income": "statements of operations income", "equity": "statements of stockholders equity",
                    "comprehensive": "statements of comprehensive income", "segment": "segment information"}
_SEGMENT = re.compile(r"\bsegments?\b|\bby (reportable )?segment\b", re.I)
# "(In millions, except per share data)", "(Dollars in millions)", "(Amounts in thousands)"
_SCALE = re.compile(r"\b(?:in|amounts in|dollars in|\$ in)\s+(thousands|millions|billions)\b", re.I)
_SCALES = {"thousands": 1e3, "millions": 1e6, "billions": 1e9}
_YEAR = re.compile(r"^(?:FY|fy|Fiscal)?'?((?:19|20)\d\d)$")
_MONTH = re.compile(r"^(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?$", re.I)
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_LENGTH = re.compile(r"\b(three|six|nine|twelve|3|6|9|12|thirteen|twenty-six|thirty-nine|fifty-two|fifty-three|"
                     r"13|26|39|52|53)[\s-]+(months?|weeks?)\b|\b(years?|quarters?|fiscal)\b[^,]*\bended\b", re.I)
_LENGTHS = {"three": 3, "3": 3, "six": 6, "6": 6, "nine": 9, "9": 9, "twelve": 12, "12": 12, "thirteen": 3, "13": 3,
            "twenty-six": 6, "26": 6, "thirty-nine": 9, "39": 9, "fifty-two": 12, "52": 12, "fifty-three": 12, "53": 12}
# A cell: "6,046", "(1,676)", "$ 758" (the sign apart), "12.5", "(2)%", "7 %", or a dash for none
_NUMBER = re.compile(r"^\(?-?\$?\d(?:[\d,]*\d)?(?:\.\d+)?\)?%?$|^\(?\d*\.\d+\)?%?$")
_DASH = re.compile(r"^[—–-]+$")
_FOOTNOTE = re.compile(r"^\(\d\)$")
_RULE = re.compile(r"^[-=_\s]{10,}$")  # "--------", "========": a text table's rule
_PER_SHARE = re.compile(r"\bper (?:\w+ )?share\b|\bper ADS\b", re.I)


@dataclass(frozen=True)
class Period:
    """A column's period: "Year Ended May 31, 2022" -> year 2022, 12 months, ended 2022-05-31."""

    label: str  # as the header writes it, its lines joined: "Three Months Ended July 1, 2023"
    year: int | None = None  # the year of its end: the fiscal year a 10-K's column is named by
    months: int | None = None  # 3, 6, 9, 12 when the header says; None for a balance date
    end: str | None = None  # ISO date when the header gives month and day
    instant: bool = False  # a balance date ("May 31, 2022" on a balance sheet), not a span


@dataclass(frozen=True)
class Cell:
    period: Period
    value: float | None  # parentheses negative, a dash None
    text: str  # as printed: "(758)", "7 %"
    start: int  # offsets in the page's text
    end: int
    percent: bool = False


@dataclass(frozen=True)
class Row:
    """A table row: its label with its parents, its cells, and where it stands."""

    source: str
    page: int | None
    statement: str  # income | balance | cash_flow | equity | comprehensive | segment | other
    caption: str  # the table's title or the sentence that introduces it
    path: tuple[str, ...]  # parents..., label: ("Current liabilities", "Accounts payable")
    unit: str  # "USD", "USD/share", "%", "" (a count or unknown)
    scale: float  # 1e6 for "(In millions)"; 1 for per-share figures and percentages
    text: str  # the row's lines, exact
    start: int
    end: int
    cells: tuple[Cell, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return self.path[-1]

    def facts(self) -> list[dict]:
        """One record per cell, as `rag facts --json` prints them."""
        out = []
        for c in self.cells:
            out.append({"source": self.source, "page": self.page, "statement": self.statement,
                        "caption": self.caption, "row": list(self.path), "period": c.period.label,
                        "value": c.value, "unit": "%" if c.percent else self.unit,
                        "scale": 1 if c.percent else self.scale, "text": c.text, "start": c.start, "end": c.end})
        return out

    def to_record(self) -> tuple[str, dict]:
        """(document, metadata) for the store: the row's text and everything else as JSON."""
        import json

        cells = [[asdict(c.period), c.value, c.text, c.start, c.end, c.percent] for c in self.cells]
        return self.text, {"source": self.source, "page": self.page or 0, "statement": self.statement,
                           "caption": self.caption, "path": json.dumps(self.path), "unit": self.unit,
                           "scale": self.scale, "start": self.start, "end": self.end, "cells": json.dumps(cells)}

    @classmethod
    def from_record(cls, text: str, meta: dict) -> Row:
        import json

        cells = tuple(Cell(Period(**p), v, t, s, e, pc) for p, v, t, s, e, pc in json.loads(meta["cells"]))
        return cls(source=meta["source"], page=meta.get("page") or None, statement=meta["statement"],
                   caption=meta.get("caption", ""), path=tuple(json.loads(meta["path"])), unit=meta.get("unit", ""),
                   scale=float(meta.get("scale", 1)), text=text, start=int(meta["start"]), end=int(meta["end"]),
                   cells=cells)


# --- words with their place on the page --------------------------------------------------------

@dataclass
class Word:
    text: str
    start: int
    end: int
    x0: float
    x1: float


@dataclass
class Line:
    start: int
    end: int
    words: list[Word]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    def split(self) -> tuple[list[Word], list[Word]]:
        """The label's words and the cells' words: the cells are the run of figures (and
        dashes, "$" and "%" signs) that ends the line."""
        i = len(self.words)
        while i > 0 and (_is_cell_word(self.words[i - 1].text)):
            i -= 1
        return self.words[:i], self.words[i:]


def _is_cell_word(t: str) -> bool:
    return bool(_NUMBER.match(t) or _DASH.match(t) or t in ("$", "%", "$(", ")"))


def lines_of(text: str, layout: list[tuple[int, int, float, float]] | None) -> list[Line]:
    """The page's lines of words; a word's x extent from `layout` ((start, end, x0, x1) per word,
    in text offsets), else its column in the line (a monospaced text table)."""
    boxes = {s: (x0, x1) for s, _, x0, x1 in layout or ()}
    out = []
    for m in re.finditer(r"[^\n]+", text):
        ws = []
        for w in re.finditer(r"\S+", m.group(0)):
            s = m.start() + w.start()
            x0, x1 = boxes.get(s, (float(w.start()) * 5, float(w.end()) * 5))
            ws.append(Word(w.group(0), s, s + len(w.group(0)), x0, x1))
        if ws:
            out.append(Line(m.start(), m.end(), ws))
    return out


# --- reading ---------------------------------------------------------------------------------

def statement_of(lines: list[Line]) -> str | None:
    """The statement a page's title names, read in its first lines (a title, not a mention)."""
    for line in lines[:8]:
        t = line.text
        if len(t) > 120:
            continue
        for kind, pat in STATEMENTS:
            if pat.search(t):
                return kind
    return None


_TITLE_SMALL = frozenset("of and in the for to on at by a an".split())


def _is_title(text: str) -> bool:
    """A title, not a sentence that mentions a statement: short, its words capitalized ("CONSOLIDATED
    BALANCE SHEETS", "Condensed Consolidated Statements of Cash Flows")."""
    words = text.split()
    return 0 < len(words) <= 10 and all(w[0].isupper() or not w[0].isalpha() or w.lower() in _TITLE_SMALL
                                        for w in words)


def _cells(words: list[Word]) -> list[Word]:
    """A row's cells as words: "$" joins the figure after it, a lone "%" or ")" the figure before
    it ("7 %", "(2)%"); a cell ending in "%" is a change column's percentage."""
    out: list[Word] = []
    for w in words:
        if w.text in ("$", "$("):
            continue
        if w.text in ("%", ")") and out:
            c = out[-1]
            c.text, c.end, c.x1 = c.text + (" " if w.start > c.end else "") + w.text, w.end, w.x1
            continue
        out.append(Word(w.text, w.start, w.end, w.x0, w.x1))
    return out


def parse_value(text: str) -> float | None:
    """ "(1,676)" -> -1676.0, "7 %" -> 7.0, "—" -> None."""
    t = text.replace(" ", "").replace("$", "").replace(",", "").rstrip("%")
    neg = t.startswith("(") or t.startswith("-")
    t = t.strip("()-")
    try:
        v = float(t)
    except ValueError:
        return None
    return -v if neg else v


def _is_row(line: Line) -> bool:
    """A line that ends in figures: not a sentence that ends with one, not a header of years."""
    label, cells = line.split()
    words = label + cells
    at = len(label)
    # a day after its month ("Year Ended June 30 2002 2003 2004") and a footnote mark after a year
    # ("2002 (1) 2003 (1) 2004") are no figures: such a line is a header of years
    figures = [w.text for n, w in enumerate(cells, at) if _NUMBER.match(w.text) and not (
        n and (_MONTH.match(words[n - 1].text) and w.text.isdigit() and int(w.text) <= 31 or
               _YEAR.match(words[n - 1].text.strip(",()")) and _FOOTNOTE.match(w.text)))]
    # a long label is a sentence ending in a figure, unless its figures stand apart in columns
    # ("Trade receivables, net of allowances for doubtful accounts of $23 and of $16, respectively
    # 2,065 1,878": the label ends at x 384, the first cell starts at 464)
    apart = bool(label and cells) and cells[0].x0 - label[-1].x1 >= 30
    if not figures or (len(label) > 12 and len(figures) < 3 and not apart):
        return False
    return not all(_YEAR.match(f) for f in figures)


@dataclass
class _Column:
    x0: float
    x1: float
    period: Period | None  # None: a "Change" or "%" column


_HEAD = re.compile(r"^(?:(?:FY|Fiscal|Q[1-4])\s?)?'?((?:19|20)\d\d)$", re.I)
_MONTH_DAY = re.compile(r"^([A-Za-z]{3,9})\.?\s+(\d{1,2}),?$")
_SPAN = re.compile(r"\b(ended|ending|as of|months|weeks|year|quarter|Q[1-4])\b", re.I)


def _header_columns(header: list[Line], kind: str | None, positioned: bool) -> list[_Column]:
    """The period columns a table's header lines name, each with its x extent: a year standing
    alone (a title line's "For the Years Ended May 31, 2022, 2021 and 2020" heads no column),
    with the month and day beside it or above it ("July 1," over "2023"), under the span label
    above it that is nearest in x ("Three Months Ended", "Year Ended May 31,"). A quarterly
    table's columns are its quarters, each year's rows under a line of their own (`_quarter_columns`)."""
    if quarters := _quarter_columns(header):
        return quarters
    phrases = [[(t, x0, x1) for t, x0, x1 in (_phrases(ln) if positioned else _words(ln))] for ln in header]
    cols: list[_Column] = []
    lines_at: list[int] = []  # the header line of each column's period
    for li, line in enumerate(phrases):
        for text, x0, x1 in line:
            m = _HEAD.match(text.strip(",()")) or _dated(text)
            # without positions, a line of years heads the columns only where no line of years
            # is below it: a title's or a sentence's years ("pro forma income statements for 1999,
            # 2000, and 2001 would have been as follows:") are not columns of their own
            if not m or (not positioned and (not _header_like(header[li]) or _years_below(header, li))):
                continue
            year = int(m.group(1) if isinstance(m, re.Match) else m[0])
            md = None if isinstance(m, re.Match) else m[1]
            if md is None and (above := _nearest(phrases[:li], x0, x1, lambda t: _MONTH_DAY.match(t), 12)):
                got = _MONTH_DAY.match(above[0])
                if _MONTH.match(got.group(1)):
                    md = (_MONTHS[got.group(1)[:3].lower()], int(got.group(2)))
                    x0 = min(x0, above[1])
            # the span over the column, or at the left of its own line ("Quarters Ended March 31, 2023 2022")
            span = _nearest(phrases[:li], x0, x1, _span_phrase, 1e9) or \
                _nearest([[p for p in line if p[2] < x0]], x0, x1, _span_phrase, 1e9)
            # "Q2 2023": the quarter is the column's own word
            own_q = re.match(r"(?i)(Q[1-4])\s?'?(?:19|20)\d\d$", text.strip(",()"))
            cols.append(_Column(x0, x1, _period(year, md, " ".join(
                filter(None, [span[0] if span else "", own_q.group(1) if own_q else ""])), kind)))
            lines_at.append(li)
    return _amount_columns(cols, lines_at, phrases) if positioned else _stacked_spans(cols, lines_at, phrases, kind)


def _stacked_spans(cols: list[_Column], lines_at: list[int], phrases, kind: str | None) -> list[_Column]:
    """Text without positions whose span labels stand on lines of their own, one above the other,
    as a PDF's text gives a header laid out side by side:

        Three Months Ended
        June 30,
        Six Months Ended
        June 30,
        2023 2022 2023 2022

    read in order: the first span over the first columns, the next over as many after them, each
    with the month and day below it. Only where the columns of one line of years split evenly among
    two spans or more; else the columns stay as read."""
    if not cols or len(set(lines_at)) != 1:
        return cols
    above = phrases[:lines_at[0]]
    spans = [i for i, line in enumerate(above) if len(line) == 1 and _span_phrase(line[0][0])]
    if len(spans) < 2 or len(cols) % len(spans):
        return cols
    for i in range(spans[0], len(above)):  # from the first span down: spans and their month and day only
        if i not in spans and not (i - 1 in spans and len(above[i]) == 1 and _MONTH_DAY.match(above[i][0][0])):
            return cols
    per = len(cols) // len(spans)
    out = []
    for j, c in enumerate(cols):
        k = spans[j // per]
        md = None
        if k + 1 < len(above) and k + 1 not in spans and len(above[k + 1]) == 1 and \
                (got := _MONTH_DAY.match(above[k + 1][0][0])) and _MONTH.match(got.group(1)):
            md = (_MONTHS[got.group(1)[:3].lower()], int(got.group(2)))
        year = c.period.year if c.period else None
        if year is None:
            return cols
        out.append(dataclasses.replace(c, period=_period(year, md, above[k][0][0], kind)))
    return out


def _amount_columns(cols: list[_Column], lines_at: list[int], phrases) -> list[_Column]:
    """A period's column narrowed to its amount where a header line below the periods splits it in
    an amount and its share ("Net Sales" | "% of Net Sales" under "2019"): the share is no figure of
    the period's, though it stands nearer the period's head (centered over both)."""
    out = []
    edges = sorted((c.x0 + c.x1) / 2 for c in cols)
    for c, li in zip(cols, lines_at):
        mid = (c.x0 + c.x1) / 2
        k = edges.index(mid)
        lo = (edges[k - 1] + mid) / 2 if k else None
        hi = (edges[k + 1] + mid) / 2 if k + 1 < len(edges) else None
        if lo is None and hi is None:
            lo, hi = -1e9, 1e9
        lo, hi = (2 * mid - hi if lo is None else lo), (2 * mid - lo if hi is None else hi)  # the outer columns as wide
        for line in phrases[li + 1:]:
            under = [p for p in line if lo <= (p[1] + p[2]) / 2 < hi]
            shares = [p for p in under if p[0].startswith("%") or re.search(r"\bpercent", p[0], re.I)]
            if len(under) == 2 and len(shares) == 1:
                amount = next(p for p in under if p is not shares[0])
                c = dataclasses.replace(c, x0=amount[1], x1=amount[2])
                break
        out.append(c)
    return out


# A quarterly table ("Quarterly financial data"): its columns the quarters ("First Fiscal Quarter",
# "Q1"; "Quarter Ended Sep. 30 Dec. 31 Mar. 31 June 30 Year"), each fiscal year's rows under a line
# naming the year ("Fiscal 2019:", "2001"). A column's year is 0 until that line gives it.
_QUARTER_COL = re.compile(r"\b(first|second|third|fourth)\s+(?:fiscal\s+)?quarter\b|\bQ([1-4])\b", re.I)
_MONTH_DAY_COL = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})\b", re.I)
_YEAR_COL = re.compile(r"\b(?:year|total|fiscal\s+year)\s*$", re.I)
_GROUP_YEAR = re.compile(r"^(?:fiscal\s+(?:year\s+)?)?((?:19|20)\d\d)\s*:?$", re.I)


def _phrase_x(line: Line, a: int, b: int) -> tuple[float, float]:
    """The x extent of the words of line.text[a:b]."""
    at, xs = 0, []
    for w in line.words:
        if at < b and at + len(w.text) > a:
            xs += [w.x0, w.x1]
        at += len(w.text) + 1
    return (min(xs), max(xs)) if xs else (0.0, 0.0)


def _quarter_columns(header: list[Line]) -> list[_Column]:
    """A quarterly table's columns (their year 0), from the lowest header line naming two quarters
    or more; [] for any other table."""
    spans = " ".join(ln.text for ln in header)
    for ln in reversed(header):
        t = ln.text
        if re.search(r"(?:19|20)\d\d", t):
            continue  # a line of years heads year columns
        found = list(_QUARTER_COL.finditer(t))
        if len(found) >= 2:
            return [_Column(*_phrase_x(ln, m.start(), m.end()), Period(
                label=m.group(0), year=0, months=3, end=None, instant=False)) for m in found]
        dated = [m for m in _MONTH_DAY_COL.finditer(t) if _MONTH.match(m.group(1))]
        if len(dated) >= 2 and re.search(r"\bquarters?\s+ended\b", spans, re.I):
            cols = [_Column(*_phrase_x(ln, m.start(), m.end()), Period(
                label=f"Quarter Ended {m.group(0)}|Q{k}", year=0, months=3,
                end=f"{_MONTHS[m.group(1)[:3].lower()]:02d}-{int(m.group(2)):02d}", instant=False))
                for k, m in enumerate(dated, 1)]
            if (y := _YEAR_COL.search(t)) and y.start() > dated[-1].end():
                cols.append(_Column(*_phrase_x(ln, y.start(), y.end()), Period(
                    label="Fiscal Year", year=0, months=12, end=cols[-1].period.end, instant=False)))
            return cols
    return []


def _quarterly(cols: list[_Column]) -> bool:
    """Whether columns are a quarterly table's, their year given by the lines between its rows."""
    return any(c.period is not None and c.period.year == 0 for c in cols)


def _with_year(p: Period, year: int, last_end: str | None) -> Period:
    """A quarterly table's column period in the fiscal year `year` (ending on `last_end`, "MM-DD"):
    "Quarter Ended Dec. 31" of fiscal 2004 (ending June 30) is the quarter ended 2003-12-31."""
    if p.end is None:
        return Period(label=f"{p.label} {year}", year=year, months=p.months, end=None, instant=False)
    cal = year if last_end is None or p.end <= last_end else year - 1
    try:
        end = datetime.date(cal, int(p.end[:2]), int(p.end[3:])).isoformat()
    except ValueError:
        end = None
    if p.months == 12:
        return Period(label=f"Fiscal Year {year}", year=year, months=12, end=end, instant=False)
    name, q = p.label.split("|")
    return Period(label=f"{name}, {cal} ({q} fiscal {year})", year=year, months=3, end=end, instant=False)


def _names_its_years(line: Line) -> bool:
    """A title or a sentence that names the years it covers ("Net sales by reportable segment for
    2025, 2024 and 2023 (dollars in millions):"): more than five words that are no month, span or
    column word. Where a line of years is below it, its years head no column: that line's do."""
    words = [w.text.strip(",():").lower() for w in line.words]
    return sum(1 for w in words if w.isalpha() and not _MONTH.match(w) and w not in _HEAD_WORDS) > 5


def _years_below(header: list[Line], li: int) -> bool:
    """Whether a header line below line `li` holds two years or more: the columns' own line."""
    return any(sum(bool(_YEAR.match(w.text.strip(",()"))) for w in ln.words) >= 2 for ln in header[li + 1:])


_HEAD_WORDS = frozenset("and ended ending year years months weeks quarter quarters fiscal three six nine twelve "
                        "change changes of the for in as at to".split())


def _span_phrase(text: str) -> bool:
    """A label over columns ("Three Months Ended", "Year Ended May 31,"); not a title line that
    names the years itself ("For the Years Ended May 31, 2022, 2021 and 2020")."""
    return bool(_SPAN.search(text)) and len(text) <= 40 and not re.search(r"\b(?:19|20)\d\d\b", text)


def _words(line: Line) -> list[tuple[str, float, float]]:
    """Without positions: the words before a line's first year are one phrase ("Quarters ended
    March 31,"), each year after them one; a line without years is one phrase."""
    first = next((n for n, w in enumerate(line.words) if _YEAR.match(w.text.strip(",()"))), len(line.words))
    head = line.words[:first]
    out = [(" ".join(w.text for w in head), head[0].x0, head[-1].x1)] if head else []
    return out + [(w.text, w.x0, w.x1) for w in line.words[first:]]


def _dated(text: str) -> tuple[int, tuple[int, int]] | None:
    """ "Dec 31, 2022" as one phrase -> (2022, (12, 31))."""
    if len(text) > 40:
        return None
    m = re.fullmatch(r"(?:[A-Za-z ]*\b(?:ended|ending|of)\s+)?([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+((?:19|20)\d\d)",
                     text.strip(), re.I)
    if m and _MONTH.match(m.group(1)):
        return int(m.group(3)), (_MONTHS[m.group(1)[:3].lower()], int(m.group(2)))
    return None


def _nearest(lines: list[list[tuple[str, float, float]]], x0: float, x1: float, want, limit: float):
    """The phrase of the lines above that `want` accepts and stands nearest over [x0, x1]: in x
    first (0 when they overlap), then in lines."""
    best = None
    for depth, line in enumerate(reversed(lines)):
        for text, p0, p1 in line:
            if not want(text):
                continue
            d = max(p0 - x1, x0 - p1, 0)
            if d <= limit and (best is None or (d, depth) < best[0]):
                best = ((d, depth), (text, p0, p1))
    return best[1] if best else None


def _phrases(line: Line, gap: float = 12.0) -> list[tuple[str, float, float]]:
    """A header line cut where words stand apart ("Three Months Ended" | "Nine Months Ended") and
    after each year, which ends a column's head ("FISCAL 2022" | "FISCAL 2021", close together)."""
    out: list[list] = []
    for w in line.words:
        if out and w.x0 - out[-1][2] <= gap and not _YEAR.match(out[-1][0].split()[-1]) and \
                not re.fullmatch(r"(?i)fy|fiscal", w.text):
            out[-1][0] += " " + w.text
            out[-1][2] = w.x1
        else:
            out.append([w.text, w.x0, w.x1])
    return [tuple(p) for p in out]


_SPAN_DATE = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s*$")


_QUARTER_SPAN = re.compile(r"\bQ[1-4]\b|\b(?:first|second|third|fourth)\s+quarter\b", re.I)


def _period(year: int, month_day, span: str, kind: str | None) -> Period:
    """A column's period from its year, the month and day above or beside it, and the span label
    over it: "Year Ended May 31," + 2022 -> Year Ended May 31, 2022 (12 months, 2022-05-31)."""
    span = " ".join(span.split())
    m = _LENGTH.search(span)
    months = None
    if m:  # "Three Months Ended", "52 Weeks Ended"; "Quarter Ended" is 3, "Year Ended" 12
        months = _LENGTHS[m.group(1).lower()] if m.group(1) else (3 if m.group(3).lower().startswith("quarter") else 12)
    elif _QUARTER_SPAN.search(span):
        months = 3  # "Fourth Quarter" over 2022, "Q2" before 2023
    tail = _SPAN_DATE.search(span)
    if tail and not _MONTH.match(tail.group(1)):
        tail = None
    if tail:
        label, md = f"{span.rstrip(', ')}, {year}", (_MONTHS[tail.group(1)[:3].lower()], int(tail.group(2)))
    elif month_day:
        name = datetime.date(2000, month_day[0], 1).strftime("%B")
        label, md = f"{span} {name} {month_day[1]}, {year}".strip(), month_day[:2]
    else:
        label, md = f"{span} {year}".strip(), None
    end = None
    if md:
        try:
            end = datetime.date(year, md[0], md[1]).isoformat()
        except ValueError:
            end = None
    instant = months is None and (kind == "balance" or bool(re.search(r"\b(as of|at)\b", span, re.I)) or
                                  (bool(md) and not re.search(r"\bended\b", span, re.I)))
    return Period(label=label, year=year, months=months, end=end, instant=instant)


def _scale(lines: list[Line], near: int = 10) -> float | None:
    """The scale the lines above a table state, nearest first: any mention in the `near` lines
    right above it (its header's "Number of Shares (In thousands)"); farther up only a line that
    opens with it ("(Dollars in millions, except per share data)" over a statement or the notes) or
    a sentence introducing tables ending with it ("... (in millions):"), not another table's column
    or row ("Weighted average shares outstanding (in thousands)")."""
    for k, line in enumerate(reversed(lines)):
        if (m := _SCALE.search(line.text)) and (k < near or m.start() <= 2 or _INTRO_END.match(line.text, m.end())):
            return _SCALES[m.group(1).lower()]
    return None


# the end of a sentence introducing tables: "... as of July 1, 2023 and September 24, 2022 (in millions):"
_INTRO_END = re.compile(r"[^.;:]{0,40}\)\s*:\s*$")


def _caption(lines: list[Line]) -> str:
    """The table's title: the last line above its header that is words, not figures or periods."""
    for line in reversed(lines):
        t = line.text
        if len(t) > 6 and not _is_row(line) and not _YEAR.search(t.split()[-1].strip(",")) and not _SPAN.search(t) and \
                re.search(r"[A-Za-z]{3,}", t) and not re.fullmatch(r"[\d\W]+", t) and \
                not all(w.strip(",:()").lower() in _HEAD_WORDS for w in t.split()):  # "Fiscal Fiscal Fiscal" over years
            return t[:200]
    return ""


def read_rows(text: str, layout=None, *, source: str = "", page: int | None = None, indents: bool = True) -> list[Row]:
    """Every table row of a page with at least one figure under a period column (or, in a table
    whose columns are members and whose rows are years, under a member's column). `indents`:
    whether a label's x in `layout` is its depth under the label lines above it."""
    if not _two_cell_ends(text):  # a page of prose: no Line objects made for it
        return []
    lines = lines_of(text, layout)
    if sum(_is_row(ln) for ln in lines) < 2:
        return []
    kind = statement_of(lines)
    rows: list[Row] = []
    i, last = 0, None
    # a page's last lines are its footer: "Apple Inc. | Q3 2023 Form 10-Q | 16" is no row
    while len(lines) > 3 and len(lines[-1].split()[1]) == 1:
        lines = lines[:-1]
    while i < len(lines):
        if not _is_row(lines[i]):
            i += 1
            continue
        j = i
        while j < len(lines) and (_is_row(lines[j]) or _continues_table(lines, j)):
            j += 1
        got, last = _read_block(text, lines, i, j, kind, source, page, last, bool(layout), indents)
        rows += got
        i = j
    return rows


def _two_cell_ends(text: str) -> bool:
    """Whether two of the page's lines end in a cell word: what `_is_row` asks of a row's last word,
    read from the text alone (read_rows needs two rows)."""
    n = 0
    for line in text.splitlines():
        last = line.rsplit(None, 1)[-1:]
        if last and _is_cell_word(last[0]):
            n += 1
            if n == 2:
                return True
    return False


def _continues_table(lines: list[Line], j: int) -> bool:
    """A label line inside a table ("Current liabilities:", a label wrapped onto two lines): a
    short line followed, within two lines, by another row."""
    t = lines[j].text
    if len(t) <= 200 and j + 1 < len(lines) and _is_row(lines[j + 1]) and lines[j + 1].words[0].text[:1].islower():
        return True  # a label wrapped onto the row below ("... as of May 31, 2022 and May 31, 2021," / "respectively
        # 5,953 5,409"), though its dates make it look like a header
    # (a caption's sentence, "Net sales ... by geographic area ... were as follows:", ends the table above)
    return len(t) <= 160 and any(_is_row(ln) for ln in lines[j + 1:j + 3]) and not _header_like(lines[j]) and \
        not _CAPTION_SENTENCE.search(t)


# a sentence, not a label: over 12 words, ending in a full stop, or a caption's "as follows:"
_CAPTION_SENTENCE = re.compile(r"^(?:\S+\s+){12,}\S|[a-z]{4,}\.$|\b(?:as\s+follows|below)\s*:$", re.I)


def _header_like(line: Line) -> bool:
    years = sum(bool(_YEAR.match(w.text.strip(",()"))) for w in line.words)
    return years >= 2 or (years >= 1 and len(line.words) <= 3)


def _header_above(lines: list[Line], i: int) -> tuple[list[Line], int]:
    """The header lines right above row `i`: lines with years, dates or span labels, up to twenty
    (Apple's dates take two lines each, Nike's "% CHANGE EXCLUDING CURRENCY CHANGES" five), stopping at a sentence or another table's row."""
    k = i
    while k > 0 and i - k < 20:
        ln = lines[k - 1]
        t = ln.text
        if _is_row(ln) and not _header_like(ln):
            break
        if _RULE.match(t):
            if any(_header_like(x) for x in lines[k:i]):
                break  # a text table's rule above its header line: what is above is not the table's
        elif len(t) > 110 and len(_QUARTER_COL.findall(t)) < 2:
            break  # a sentence; not a header naming four quarters ("First Fiscal Quarter ... Fourth ...")
        k -= 1
    head = lines[k:i]
    # keep from the first line that holds a year, a date or a span
    for n, ln in enumerate(head):
        if _header_like(ln) or re.search(r"\b(ended|as of|months|weeks|fiscal|year)\b", ln.text, re.I):
            return head[n:], k + n
    return [], i


def _lead(header: list[Line]) -> list[Line]:
    """The label lines between a header's last period line and the first row ("Net sales by
    category:"): the parents of the rows below."""
    last = max((n for n, ln in enumerate(header) if _header_like(ln) or _HEAD.search(ln.text.split()[-1].strip(",()"))),
               default=len(header) - 1)
    return [ln for ln in header[last + 1:] if not _SCALE.search(ln.text)]


def _read_block(text: str, lines: list[Line], i: int, j: int, kind: str | None, source: str, page: int | None,
                last: tuple | None, layout: bool, indents: bool = True) -> tuple[list[Row], tuple | None]:
    """The rows of lines[i:j] under the header above them; a block without a header of its own
    (a table broken by a long wrapped label) continues the one before it on the page."""
    if layout and (members := _transposed(text, lines, i, j, kind, source, page)):
        return members, None
    header, h0 = _header_above(lines, i)
    above = lines[max(0, h0 - 4):h0]
    # a table's own title ("CONSOLIDATED BALANCE SHEETS" above its header) over the page's: a text
    # file or a release page holds several statements, one after another
    kind = statement_of([ln for ln in above if _is_title(ln.text)]) or kind
    if last is not None and _quarterly(last[0]) and header and all(_GROUP_YEAR.match(ln.text) for ln in header):
        # "Fiscal 2018:" over a quarterly table's next rows: the same columns, another year
        return _block_rows(text, header[-1:] + lines[i:j], last[0], last[1], last[2], last[3], source, page, layout,
                           last[4], indents), last
    cols = _header_columns(header, kind, layout)
    if layout and len(cols) == 1 and cols[0].period is not None and \
            any(len(ln.text) <= 40 and str(cols[0].period.year) in ln.text for ln in header) and \
            (members := _one_period_members(text, lines, i, j, cols[0].period, kind, source, page)):
        # the period a line of its own ("2025", "May 31, 2022"), not a sentence's ("for fiscal 2023 and 2022:")
        return members, None
    if layout and not cols and (members := _dated_members(text, lines, i, j, kind, source, page)):
        return members, None
    if cols:
        caption = _caption(lines[max(0, h0 - 6):h0] + [ln for ln in header if not _header_like(ln)][:1])
        page_scale = _scale(lines[:h0] + header, len(header) + 10)
        statement = kind or ("segment" if any(_SEGMENT.search(ln.text) for ln in above + header) else "other")
        last = (cols, caption, page_scale, statement, None if layout else _sub_columns(header, len(cols)))
    elif last is not None:
        cols, caption, page_scale, statement, _ = last
    else:
        return [], None
    lead = _lead(header) if cols is last[0] and header else []
    if _quarterly(cols):
        lead = [ln for ln in header if _GROUP_YEAR.match(ln.text)][-1:]  # "Fiscal 2019:" over the first rows
    return _block_rows(text, lead + lines[i:j], cols, caption, page_scale, statement, source, page, layout,
                       last[4], indents), last


_MARK_CELL = re.compile(r"\(\d\)")  # a footnote's mark read as a figure: "(3)"
_NOTE_MARK = re.compile(r"(?:\s*\(\d\)|\s*\*+)+$")  # "International (2)", "Corporate*": a footnote's mark


def _transposed(text: str, lines: list[Line], i: int, j: int, kind: str | None, source: str,
                page: int | None) -> list[Row]:
    """A table whose columns are members (segments, regions) and whose rows are years, a measure's
    label on its first year's row, as segment notes print them:

        Fiscal Year   Health and Wellness   Household   ...   Total Company
        Net sales     2022   $ 2,690   $ 1,984   ...   $ 7,107
                      2021     2,980     1,981   ...     7,341

    read as one row per measure and member ("Net sales" > "Household"), a cell per year. Only where
    the page gives positions: the line above names the members, each over its figures; text alone
    cannot tell where "Health and Wellness Household" splits. [] for any other block."""
    if i == 0 or _is_row(lines[i - 1]):
        return []
    rows = [ln for ln in lines[i:j] if _is_row(ln)]
    split = [(ln, *ln.split()) for ln in rows]
    if len(rows) < 2 or not split[0][1] or any(not c or not _YEAR.match(c[0].text) or c[0].text.startswith(("FY", "fy"))
                                               for _, _, c in split):
        return []  # every row's first figure a year, the first row's label a measure
    year_x1 = max(c[0].x1 for _, _, c in split)
    members, _ = _member_heads(lines, i, year_x1, 2)
    if not members:
        return []
    span = " ".join(t for t, x0, _ in _phrases(lines[i - 1]) if x0 <= year_x1)
    groups: list[list[tuple[Line, list[Word], list[Word], Period]]] = []
    for ln, label, cells in split:
        if label:
            groups.append([])
        groups[-1].append((ln, label, cells[1:], _period(int(_YEAR.match(cells[0].text).group(1)), None, span, kind)))
    return _member_rows(text, lines, i, groups, members, kind, source, page)


# a header's words over an amount and its share, not over members: "Amount  % of Total"
_NOT_MEMBER_HEAD = re.compile(r"^(?:amounts?|percent\w*|%.*|\$.*|.*\bchange\b.*|shares?|price|rate|values?|number|"
                              r"balance|per\b.*|dollars?|units?)$", re.I)


def _region(regions: list[tuple[float, float]], x: float) -> int | None:
    return next((n for n, (lo, hi) in enumerate(regions) if lo <= x < hi), None)


def _member_heads(lines: list[Line], i: int, x_min: float, least: int) -> tuple[list[tuple[str, float, float]], int]:
    """The members the header line above row `i` names over a table's figures, right of `x_min`,
    each with its x extent ("Health and Wellness (1)" -> "Health and Wellness"), a name wrapped
    over the lines above it joined ("CASH FLOW" / "HEDGES"); and the index of the header's first
    line. ([], i) when the line names fewer than `least`, or holds a period, a figure or a column
    word ("Amount", "% Change")."""
    def heads(line: Line) -> list[list]:
        return [[_NOTE_MARK.sub("", t), x0, x1] for t, x0, x1 in _phrases(line) if x0 > x_min]

    def member(t: str) -> bool:
        return bool(re.search(r"[A-Za-z]{2,}", t)) and not (_YEAR.search(t) or _SPAN.search(t) or _NOT_MEMBER_HEAD.match(t))

    members = heads(lines[i - 1])
    if len(members) < least or not all(member(t) for t, _, _ in members):
        return [], i
    top = i - 1
    while top > 0 and i - top < 4 and not _is_row(lines[top - 1]) and len(lines[top - 1].text) <= 100:
        above = heads(lines[top - 1])
        over = [[m for m in members if max(p[1] - m[2], m[1] - p[2]) <= 0] for p in above]
        if not above or not all(len(o) == 1 and member(p[0]) for p, o in zip(above, over)) or \
                len({id(o[0]) for o in over}) < len(over):
            break  # a line not of the members' names: a title, a period, the label column's head
        for p, (m,) in zip(above, over):
            m[0], m[1], m[2] = f"{p[0]} {m[0]}", min(m[1], p[1]), max(m[2], p[2])
        top -= 1
    return [tuple(m) for m in members], top


def _member_rows(text: str, lines: list[Line], i: int, groups, members, kind: str | None, source: str,
                 page: int | None, parents: tuple[str, ...] = ()) -> list[Row]:
    """One row per measure and member from `groups` (each a measure's lines: (line, label words,
    cell words, the line's period)), a figure under the member whose head stands over it."""
    before = lines[max(0, i - 7):i - 1]
    statement = kind or ("segment" if any(_SEGMENT.search(ln.text) for ln in before + lines[i - 1:i]) else "other")
    caption, scale = _caption(before), _scale(lines[:i]) or 1.0
    money = any("$" in ln.text for group in groups for ln, *_ in group)
    # a member's figures stand nearer its name than any other's: centered under it, or
    # right-aligned and so off its center
    mids = [(x0 + x1) / 2 for _, x0, x1 in members]
    edges = [(a + b) / 2 for a, b in zip(mids, mids[1:])]
    half = (mids[-1] - mids[0]) / (2 * (len(mids) - 1))
    regions = list(zip([mids[0] - half, *edges], [*edges, mids[-1] + half]))
    out = []
    for group in groups:
        measure = " ".join(w.text for w in group[0][1])
        got: list[list[Cell]] = [[] for _ in members]
        for _, _, cells, period in group:
            for c in _cells(cells):
                n = _region(regions, (c.x0 + c.x1) / 2)
                if n is None and parse_value(c.text) is not None:
                    return []  # a figure under no member's name: the names are not all on the line read
                if n is not None and not any(x.period == period for x in got[n]):
                    got[n].append(Cell(period, parse_value(c.text), c.text, c.start, c.end, c.text.endswith("%")))
        start, end = group[0][0].start, group[-1][0].end
        per_share = bool(_PER_SHARE.search(measure))
        for (name, _, _), cells in zip(members, got):
            if any(c.value is not None for c in cells):  # a member with a dash in every period has no figure
                out.append(Row(source=source, page=page, statement=statement, caption=caption,
                               path=(*parents, measure, name),
                               unit="USD/share" if per_share else ("USD" if money else ""),
                               scale=1.0 if per_share else scale, text=text[start:end], start=start, end=end,
                               cells=tuple(cells)))
    return out


def _one_period_members(text: str, lines: list[Line], i: int, j: int, period: Period, kind: str | None,
                        source: str, page: int | None) -> list[Row]:
    """A table of one period whose columns are members, their names on the line above the rows
    and the period above them ("2025" / "Americas  Europe  Greater China ... Total" / "Net sales
    $ 178,353 $ 111,032 ..."): one row per measure and member. [] for any other block."""
    if i == 0 or _is_row(lines[i - 1]):
        return []
    rows = [ln for ln in lines[i:j] if _is_row(ln)]
    split = [(ln, *ln.split()) for ln in rows]
    if not split or any(not label for _, label, _ in split):
        return []
    members, _ = _member_heads(lines, i, max(w.x1 for _, label, _ in split for w in label), 3)
    if not members:
        return []
    return _member_rows(text, lines, i, [[(ln, label, cells, period)] for ln, label, cells in split], members, kind,
                        source, page)


_LABEL_DATE = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+((?:19|20)\d\d)\b")


def _label_date(label: str) -> datetime.date | None:
    """The date a row's label names ("Balance as of June 30, 2022" -> 2022-06-30)."""
    m = _LABEL_DATE.search(label)
    if not m or not _MONTH.match(m.group(1)):
        return None
    try:
        return datetime.date(int(m.group(3)), _MONTHS[m.group(1)[:3].lower()], int(m.group(2)))
    except ValueError:
        return None


def _dated_members(text: str, lines: list[Line], i: int, j: int, kind: str | None, source: str,
                   page: int | None) -> list[Row]:
    """A roll-forward whose columns are members and whose header names no period, the dates in its
    balance rows' labels:

        Goodwill
                                      Health and Wellness   Household   International   Total
        Balance as of June 30, 2021   $ 629                 $ 85        $ 617           $ 1,575
        Effect of foreign currency translation     —          —           (17)            (17)
        Balance as of June 30, 2022   $ 629                 $ 85        $ 600           $ 1,558

    A balance row is its member's figure at its date; a row between two balances is its member's
    change over the period ending at the later one (a year when they are a year apart). The label
    line above the members ("Goodwill") is their parent. [] for any other block."""
    if i == 0 or _is_row(lines[i - 1]):
        return []
    split = []
    for ln in lines[i:j]:
        if _is_row(ln):
            label, cells = ln.split()
            if len(label) >= 2 and cells and _YEAR.match(cells[0].text) and _MONTH.match(label[-2].text) and \
                    re.fullmatch(r"\d{1,2},?", label[-1].text):
                label, cells = label + cells[:1], cells[1:]  # "Balance as of June 30, | 2020 $ 857": the date's year
            split.append((ln, label, cells))
    if len(split) < 2 or any(not label for _, label, _ in split):
        return []
    members, top = _member_heads(lines, i, max(w.x1 for _, label, _ in split for w in label), 3)
    dates = [_label_date(" ".join(w.text for w in label)) for _, label, _ in split]
    if not members or not any(dates):
        return []
    groups, before = [], None
    for n, (ln, label, cells) in enumerate(split):
        if dates[n]:
            period, before = Period(label=dates[n].strftime("%B %-d, %Y"), year=dates[n].year, months=None,
                                    end=dates[n].isoformat(), instant=True), dates[n]
        else:
            after = next((d for d in dates[n + 1:] if d), None)
            if after is None:
                continue  # a change after the last balance: no period to give it
            year = before is not None and 350 <= (after - before).days <= 380
            period = Period(label=f"{'Year' if year else 'Period'} Ended {after.strftime('%B %-d, %Y')}", year=after.year,
                            months=12 if year else None, end=after.isoformat(), instant=False)
        groups.append([(ln, label, cells, period)])
    above = lines[top - 1].text.rstrip(":") if top >= 1 else ""
    parents = (above,) if above[:1].isupper() and len(above) <= 60 and not _is_row(lines[top - 1]) and \
        not re.search(r"(?:19|20)\d\d", above) and not above.endswith(".") else ()
    return _member_rows(text, lines, i, groups, members, kind, source, page, parents)


def _sub_columns(header: list[Line], n: int) -> tuple[int, int] | None:
    """Without positions: a header line that repeats, under each of the `n` periods, an amount and
    its percentage ("Net Sales % of Net Sales" three times) -> (2, the amount's place in the pair);
    None for a header without one."""
    if n < 2:
        return None
    for ln in header:
        words = [w.text for w in ln.words]
        if _header_like(ln):
            continue
        for size in range(2, len(words) // n + 1):  # after a label of its own ("dollars in millions")
            tail = words[len(words) - size * n:]
            group = tail[:size]
            if all(tail[k * size:(k + 1) * size] == group for k in range(n)) and "%" in "".join(group):
                return 2, 1 if group[0].startswith("%") else 0
    return None


def _block_rows(text: str, block: list[Line], cols: list[_Column], caption: str, page_scale: float | None,
                statement: str, source: str, page: int | None, positioned: bool,
                sub: tuple[int, int] | None = None, indents: bool = True) -> list[Row]:
    """Rows with their parents: a label line ("Current assets:") is the parent of the rows below
    it that are indented deeper, until a row at its depth ("Total current assets")."""
    money = any("$" in ln.text for ln in block)
    if positioned:
        cols = _widened(block, cols)
    # rows with one figure more than the periods: a footnote's mark on a few ("Restructuring (3) 711 0"),
    # a column the header does not name (a change) on many
    rows = [ln for ln in block if _is_row(ln)]
    marked = 3 * sum(len(_cells(ln.split()[1])) == len(cols) + 1 for ln in rows) <= len(rows)
    indented = positioned and indents  # whether a label's x is its depth
    parents: list[tuple[float, str]] = []
    pending: Line | None = None
    out = []
    quarterly = _quarterly(cols)
    last_end = next((c.period.end for c in reversed(cols) if c.period is not None and c.period.end), None)
    year = None  # a quarterly table's year, from the line above its rows ("Fiscal 2019:")
    for ln in block:
        label_words, cell_words = ln.split()
        if quarterly and (g := _GROUP_YEAR.match(ln.text)):
            year, pending = int(g.group(1)), None
            continue
        if not _is_row(ln):
            if pending is not None:
                while parents and (parents[-1][0] >= pending.words[0].x0 - 2 or not indented):
                    parents.pop()
                parents.append((pending.words[0].x0, pending.text.rstrip(":")))
            pending = ln
            continue
        x = label_words[0].x0 if label_words else ln.words[0].x0
        start, label = ln.start, " ".join(w.text for w in label_words)
        if pending is not None:
            if (label[:1].islower() and not pending.text.endswith(":")) or not label:  # a label wrapped onto the row's line
                label, start = f"{pending.text} {label}".strip(), pending.start
            else:
                if not indented:
                    parents.clear()
                parents.append((pending.words[0].x0, pending.text.rstrip(":")))
        pending = None
        # a parent holds the rows indented under it; text without positions shows no indent: a
        # label line ("Cash provided by investing activities:") holds the rows up to the next one
        while indented and parents and parents[-1][0] >= x - 2:
            parents.pop()
        words = _cells(cell_words)
        if marked and label and len(words) == len(cols) + 1 and _MARK_CELL.fullmatch(words[0].text) and \
                not cell_words[0].text.startswith("$"):
            # "Restructuring (3) 711 0" under two periods: the "(3)" is the label's footnote mark,
            # not a figure (one figure too many, a one-digit one, on a row of few such)
            words = words[1:]
        cells = _assign(words, cols, positioned, sub)
        if quarterly:
            if year is None:
                continue
            cells = [dataclasses.replace(c, period=_with_year(c.period, year, last_end)) for c in cells]
        if not cells or not label:
            continue
        per_share = bool(_PER_SHARE.search(" ".join(p for _, p in parents[-3:]) + " " + label))
        rate = all(c.percent for c in cells)  # "Effective tax rate 14.7 % 16.2 %": no amount in the caption's unit
        out.append(Row(source=source, page=page, statement=statement, caption=caption,
                       path=tuple(p for _, p in parents[-3:]) + (label,),
                       unit="%" if rate else "USD/share" if per_share else ("USD" if money else ""),
                       scale=1.0 if per_share or rate else (page_scale or 1.0),
                       text=text[start:ln.end], start=start, end=ln.end, cells=tuple(cells)))
    return out


def _widened(block: list[Line], cols: list[_Column]) -> list[_Column]:
    """Each column's extent grown to the figures placed under it: a header's year is narrower than
    its column, whose figures are right-aligned, so a short figure ("519" under "2022") can stand
    apart from the year but never from the column's wider figures."""
    lo, hi = [c.x0 for c in cols], [c.x1 for c in cols]
    for ln in block:
        if not _is_row(ln):
            continue
        for c in _cells(ln.split()[1]):
            if c.text.endswith("%"):
                continue
            near = [n for n, col in enumerate(cols) if max(col.x0 - c.x1, c.x0 - col.x1, 0) <= 10]
            if len(near) == 1:
                lo[near[0]], hi[near[0]] = min(lo[near[0]], c.x0), max(hi[near[0]], c.x1)
    widened = [dataclasses.replace(col, x0=a, x1=b) for col, a, b in zip(cols, lo, hi)]
    # grown columns must not run into each other: keep the header's extent where they would
    if any(a.x1 > b.x0 for a, b in zip(sorted(widened, key=lambda c: c.x0), sorted(widened, key=lambda c: c.x0)[1:])):
        return cols
    return widened


def _assign(cells: list[Word], cols: list[_Column], positioned: bool, sub: tuple[int, int] | None = None) -> list[Cell]:
    """Each figure under its period's column: by position where the page gives positions (the
    column whose extent overlaps it, else the nearest), by order where the row has exactly as
    many figures as there are periods. A change column's percentage is no period's figure; a row
    of percentages alone under periods alone ("Effective tax rate 14.7 % 16.2 % 13.3 %") is each
    period's rate."""
    rates = bool(cells) and all(c.text.endswith("%") for c in cells) and len(cells) == len(cols) and \
        all(col.period is not None for col in cols)
    if rates and (positioned or all(c.x1 <= c2.x0 for c, c2 in zip(cells, cells[1:]))):
        return [Cell(col.period, parse_value(c.text), c.text, c.start, c.end, True) for c, col in zip(cells, cols)]
    numbers = [c for c in cells if not c.text.endswith("%")]
    if sub and not positioned and len(numbers) == sub[0] * len(cols):
        numbers = numbers[sub[1]::sub[0]]  # each period's amount, not its percentage beside it
    if len(numbers) == len(cols) and all(c.x1 <= c2.x0 for c, c2 in zip(numbers, numbers[1:])):
        return [Cell(col.period, parse_value(c.text), c.text, c.start, c.end) for c, col in zip(numbers, cols)]
    if not positioned:
        return []  # without positions, a row that does not fill the header is not read
    out, used = [], set()
    for c in numbers:
        mid = (c.x0 + c.x1) / 2
        gap, _, n = min((max(col.x0 - c.x1, c.x0 - col.x1, 0), abs(mid - (col.x0 + col.x1) / 2), n)
                        for n, col in enumerate(cols))
        if gap <= 10 and n not in used:
            used.add(n)
            out.append(Cell(cols[n].period, parse_value(c.text), c.text, c.start, c.end))
    return out


# --- finding rows -------------------------------------------------------------------------------

class FactIndex:
    """The table rows of an index, found by where they stand (the rows inside a chunk) and by
    what their labels say (the rows a figure question names)."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows
        self._at: dict[tuple[str, int], list[Row]] = {}
        for r in rows:
            self._at.setdefault((r.source, r.page or 0), []).append(r)
        self._stems: list[frozenset[str]] | None = None
        self._by_source: dict[str, list[Row]] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def of_sources(self, sources: list[str] | None) -> list[Row]:
        """The rows of those documents (all rows for None)."""
        if sources is None:
            return self.rows
        if self._by_source is None:
            self._by_source = {}
            for r in self.rows:
                self._by_source.setdefault(r.source, []).append(r)
        return [r for s in sources for r in self._by_source.get(s, ())]

    def within(self, source: str, page: int | None, start: int, end: int) -> tuple[Row, ...]:
        """The rows whose text lies inside [start, end) of a page."""
        return tuple(r for r in self._at.get((source, page or 0), ()) if r.start >= start and r.end <= end)

    def at(self, source: str, page: int | None, start: int, end: int) -> Row | None:
        """The row that a quoted line [start, end) of a page is, or is part of."""
        for r in self._at.get((source, page or 0), ()):
            if r.start <= start < r.end or start <= r.start < end:
                return r
        return None

    @staticmethod
    def label_stems(r: Row) -> frozenset[str]:
        from rag.extractive.terms import stems_of

        return frozenset(stems_of(r.label))

    def stems(self) -> list[frozenset[str]]:
        """Each row's label words (its parents' and caption's too), stemmed; built on first use."""
        if self._stems is None:
            from rag.extractive.terms import stems_of

            self._stems = [frozenset(stems_of(" ".join(r.path + (r.caption,)))) for r in self.rows]
        return self._stems

    def search(self, terms: list[tuple[frozenset[str], float]], sources: list[str] | None,
               asked=None, statement: str | None = None, n: int = 5,
               min_coverage: float = 0.6, items=()) -> list[tuple[float, Row]]:
        """The rows whose labels (with their parents) name most of `terms` ((stems, weight) of
        the question's words, its period and its documents' names left out), in `sources`, with
        a column of the period `asked`: best first, a row of the statement named ahead."""
        if not terms:
            return []
        total = sum(w for _, w in terms)
        allowed = set(sources) if sources else None
        scored = []
        for r, stems in zip(self.rows, self.stems()):
            if allowed is not None and r.source not in allowed:
                continue
            named = item_stems(r.label, items) if items else set()
            if named:
                stems = stems | named
            got = sum(w for s, w in terms if s & stems)
            if named:  # the label is a name of the line item asked: the question's other words
                got = max(got, min_coverage * total)  # ("What inventory balance did X carry") need not be in it
            if got < min_coverage * total:
                continue
            fit = max((period_fit(c.period, asked) for c in r.cells), default=0.0) if asked else 1.0
            if fit <= 0:
                continue
            # a shorter label says less else: "Total revenues" before "Total revenues by region"
            extra = len(self.label_stems(r) - {x for s, _ in terms for x in s})
            score = got / total + 0.3 * (statement is not None and r.statement == statement) + 0.2 * fit - 0.02 * extra
            scored.append((score, r))
        scored.sort(key=lambda x: (-x[0], x[1].source, x[1].page or 0, x[1].start))
        return scored[:n]


_ORDINAL_QUARTER = {"first": 1, "second": 2, "third": 3, "fourth": 4}


@functools.lru_cache(maxsize=4096)
def _label_quarter(label: str) -> int | None:
    """The quarter a column's label names: "Q2 2023" -> 2, "Fourth Quarter 2022" -> 4."""
    m = re.search(r"\bQ([1-4])\b|\b(first|second|third|fourth)\s+(?:fiscal\s+)?quarter\b", label, re.I)
    return (int(m.group(1)) if m.group(1) else _ORDINAL_QUARTER[m.group(2).lower()]) if m else None


def period_fit(p: Period, asked) -> float:
    """How well a column's period is the one a question asks (rag.framing.Period): 1 for the same
    span and end, 0 for another period; between, where one side does not say (a column headed
    "2022" alone, a question naming only its fiscal year). A 10-K's columns are named by the
    year their fiscal year ends in: "Year Ended May 31, 2022" is FY2022."""
    if asked is None:
        return 1.0
    if asked.months and p.months and asked.months != p.months:
        return 0.0  # a quarter is not the nine months that end with it
    if asked.quarter and p.months == 3 and (q := _label_quarter(p.label)) and q != asked.quarter:
        return 0.0  # "Q1 2020" is not the fourth quarter
    if asked.end and p.end and abs((datetime.date.fromisoformat(p.end) - asked.end).days) > 7:
        return 0.0
    if asked.instant and p.months:
        return 0.2  # a balance asked "as of" a date: a flow over the period ending then is a weak match
    if asked.end and p.end:
        return 1.0
    if asked.year and p.year:
        if asked.year != p.year:
            # "Q1 FY2024" of a fiscal year ending in January ends in calendar 2023
            return 0.2 if asked.quarter and not asked.end and p.year == asked.year - 1 else 0.0
    if (asked.quarter or (asked.months and asked.months < 12)) and not p.months and not p.instant:
        return 0.3  # a quarter asked ("the quarter ended December 31, 2003"), the column's span unknown
    if asked.months == 12 and not p.months and not p.instant:
        return 0.8
    return 1.0


# --- line items: one measure, the names statements give it (rag/line_items.toml) -----------------

@functools.lru_cache(maxsize=1 << 14)
def _norm_item(text: str) -> str:
    """A line item's name compared whole: lower case, punctuation as spaces, "Total" dropped."""
    text = " ".join(re.sub(r"[^a-z0-9&]+", " ", text.lower().replace("’", "'").replace("'", "")).split())
    return re.sub(r"^total ", "", text)


def _load_line_items() -> tuple[frozenset[str], ...]:
    import tomllib
    from pathlib import Path

    data = tomllib.loads(Path(__file__).with_name("line_items.toml").read_text(encoding="utf-8"))
    return tuple(frozenset(_norm_item(n) for n in [key, *names]) for key, names in data["line_items"].items())


LINE_ITEMS = _load_line_items()


@dataclass(frozen=True)
class AskedItem:
    phrase: str  # as the question writes it: "cost of goods sold"
    names: frozenset[str]  # every name of that line item, normalized


def asked_items(question: str) -> tuple[AskedItem, ...]:
    """The line items a question names, each with all its names: "What was Walmart's cost of goods
    sold?" -> cost of goods sold = cost of sales = cost of revenue = merchandise costs ..."""
    q = f" {_norm_item(question)} "
    out = []
    for names in LINE_ITEMS:
        found = [f for n in names for f in (n, _number_variant(n)) if f and f" {f} " in q]
        if found:
            out.append(AskedItem(max(found, key=len), names))
    # "total cash and short-term investments": the longer name is asked, not the one inside it
    # ("revenues and cost of revenues" asks both: "revenues" stands alone too)
    def alone(a: AskedItem) -> bool:
        rest = q
        for b in out:
            if len(b.phrase) > len(a.phrase) and f" {a.phrase} " in f" {b.phrase} ":
                rest = rest.replace(f" {b.phrase} ", " ")
        return f" {a.phrase} " in rest
    return tuple(a for a in out if alone(a))


# plurals whose singular means something else: "a sale", "earning", "a good", "a saving"
_PLURAL_ONLY = frozenset("sales earnings goods savings operations proceeds".split())


@functools.lru_cache(maxsize=4096)
def _number_variant(name: str) -> str | None:
    """A line item's name of several words with its last word in the other number: "dividend
    paid" for "dividends paid", "share repurchase" for "share repurchases"; None where that reads
    as another word ("net sale")."""
    head, _, last = name.rpartition(" ")
    if not head or len(last) < 4 or last in _PLURAL_ONLY or last.endswith("ss"):
        return None  # a name of one word stays as written: "cloud revenue" is no line item
    other = last[:-1] if last.endswith("s") else last + "s"
    return f"{head} {other}".strip()


def item_stems(label: str, items) -> set[str]:
    """The question's words a row's label stands for through a line item's other name: the row
    "Cost of sales" for the question's "cost of goods sold". Whole names only."""
    if not items:
        return set()
    from rag.extractive.terms import stems_of

    own = _norm_item(label)
    return {x for it in items if own in it.names or _holds_name(label, it.names) for x in stems_of(it.phrase)}


@functools.lru_cache(maxsize=1 << 16)
def _holds_name(label: str, names: frozenset[str]) -> bool:
    """Whether a label names the line item as compute.label_score reads it: all the words of one of
    its names, a few more ("Cash dividend payments" for "payments of dividends")."""
    from rag import compute

    return compute.label_score(compute.Item(next(iter(sorted(names)))), _Labelled(label, (label,))) >= compute.MIN_LABEL


@dataclass(frozen=True)
class _Labelled:
    label: str
    path: tuple[str, ...]
