"""Reading text tables: the value columns of a header, the row whose label names what is asked,
and the figure under the column of the period asked. Retrieval uses `row_answers` to look deeper
for such a row, since dense retrieval reads tables poorly."""

from __future__ import annotations

import re

from rag.extractive.figures import Figure, figures, first_figure_at, quarters
from rag.extractive.terms import stems_of
from rag.extractive.vocab import CAUSAL, PERIOD_WORDS, YEAR
from rag.facts import period_fit
from rag.question import CHANGE_WORDS, PEOPLE, Query
from rag.text import is_table_row, passage_blocks, passage_units, years_in


def label_keys(query: Query, chunk) -> list[frozenset[str]]:
    """What a table row's label must name to be about the question: any word of it but its
    time frame and the names the document's title or file name already gives ("Product
    development" for "eBay's product development expense in the second quarter")."""
    doc = set(stems_of(f"{chunk.title} {chunk.file_name}"))
    return [t.stems for t in query.terms if not t.stems & PERIOD_WORDS and not t.stems & doc]


def table_text(chunk, units: list) -> str:
    """A table's column header and the lines of text around its rows (caption, period lines)."""
    return " ".join([chunk.header or ""] + [chunk.text[u.start:u.end] for u in units if u.kind != "row"])


def table_years(chunk, units: list) -> set[str]:
    """The years a table's figures can be of: its column header and the lines of text around
    it, not the labels of other rows ("BALANCE AT SEPTEMBER 1, 2019" does not make the next
    row a 2019 figure)."""
    return years_in(table_text(chunk, units))


def row_answers(query: Query, chunk, min_coverage: float = 0.75) -> bool:
    """Whether a table row of `chunk` is labelled with what a figure question asks: its label
    ("Total paid members", "Greater China"), with the chunk's title, file name, section and
    column header around it, covers most of the question's weight and names a measure, a name
    or the rarest word the question uses. Dense retrieval reads tables poorly; such a row is strong evidence."""
    if not query.wants_figure or not query.terms:
        return False
    keys = label_keys(query, chunk)
    terms = [t for t in query.terms if not t.stems & PERIOD_WORDS]
    if not terms:
        return False
    units = passage_blocks(chunk.text)  # rows only are read: no sentences needed
    around: set | None = None  # read once a row's label matches: most passages have none
    for u in units:
        if u.kind != "row":
            continue
        label = chunk.text[u.start:u.start + first_figure_at(chunk.text, u.start, u.end)]
        own = set(stems_of(label))
        if not any(k & own for k in keys):
            continue
        if query.numbers and not set(query.numbers) <= table_years(chunk, units) | years_in(label) | \
                years_in(chunk.file_name):
            continue
        if around is None:
            # the chunk's title, file name and section; the header and the table's caption ("The
            # following table shows net sales by reportable segment")
            around = set(stems_of(" ".join(x for x in (chunk.title, chunk.file_name, chunk.section) if x)))
            around |= set(stems_of(table_text(chunk, units)))
        # the question's time frame ("full year", "end of fiscal 2022") is the header's business
        got = [t.weight for t in terms if t.stems & (own | around)]
        if sum(got) >= min_coverage * sum(t.weight for t in terms):
            return True
    return False


def header_columns(header: str) -> list[tuple[str, int | None]]:
    """The value columns of a table header as (year, quarter): "2022 Change 2021" -> 2022, 2021;
    "Q4 2022 vs. Q4 2021 2022 vs. 2021" -> (2022, Q4), (2022, full year): a "vs." pair is one
    column of values (and its change), named by its first period."""
    cols: list[tuple[str, int | None]] = []
    quarter, skip = None, False
    for tok in header.replace(",", " ").split():
        t = tok.strip("()").lower()
        if t in ("vs", "vs.", "versus"):
            skip = True
            continue
        if m := re.fullmatch(r"q([1-4])", t):
            quarter = int(m.group(1))
            continue
        if YEAR.match(t.lstrip("fy")):
            if not skip:
                cols.append((t.lstrip("fy"), quarter))
            quarter, skip = None, False
    return cols


def column_pick(query: Query, chunk, s: int, e: int, figs: list[Figure]) -> list[str]:
    """In a table row, the figure under the column of the period the question names: header
    "2022 Change 2021 Change 2020", row "iPhone $ 205,489 7 % $ 191,973 ..." -> 2022: 205,489;
    header "Q4 2022 vs. Q4 2021 2022 vs. 2021", "full year 2022" -> the second column."""
    if not (chunk.header and query.numbers and is_table_row(chunk.text[s:e])):
        return []
    cols = header_columns(chunk.header)
    values = [f for f in figs if f.kind != "percent"]
    if len(values) < len(cols):
        return []
    asked = quarters(query.text)
    for n in query.numbers:
        matches = [i for i, (year, q) in enumerate(cols) if year == n]
        # the quarter asked, else (a full year asked, or no quarter named) the column without one
        pick = [i for i in matches if cols[i][1] in asked] if asked else [i for i in matches if cols[i][1] is None]
        if pick or matches:
            return [values[(pick or matches)[0]].text]
    return []


# --- table rows read as facts (rag.facts) --------------------------------------------------------

_SCALE_WORDS = {1e3: "thousand", 1e6: "million", 1e9: "billion"}


def asked_stems(query: Query) -> frozenset[str]:
    """The question's words, stemmed: what tells a member table's rows apart (`fact_row`)."""
    return frozenset(stems_of(query.text))  # stems_of caches the stemming


def fact_row(hit, s: int, e: int, asked: frozenset[str] = frozenset()):
    """The fact row (rag.facts.Row) that passage[s:e] of a hit's chunk quotes, if any. A table whose
    columns are members (segments) reads a row per member from the same line: the member whose
    name the question's words (`asked`, stems) name most of, else the total, else the first."""
    start, end = hit.chunk.start + s, hit.chunk.start + e
    rows = [r for r in hit.rows if r.start <= start < r.end or start <= r.start < end]
    same = [r for r in rows if (r.start, r.end) == (rows[0].start, rows[0].end)] if rows else []
    if len(same) < 2:
        return rows[0] if rows else None

    def named(r) -> tuple[float, bool]:
        own = set(stems_of(r.label))
        return (len(own & asked) / len(own) if own else 0.0), r.label.lower().startswith("total")
    return max(same, key=named)


def period_cells(query: Query, row) -> list:
    """The cells of a row (with a figure) that fit the period asked best, equally."""
    if query.period is None:
        return []
    fits = [(period_fit(c.period, query.period), c) for c in row.cells if c.value is not None]
    top = max((f for f, _ in fits), default=0.0)
    return [c for f, c in fits if f == top and f > 0]


def fact_pick(query: Query, hit, s: int, e: int) -> list[str] | None:
    """The figure a table row holds for the period the question asks, in the column the page
    puts it under (rag.facts), written with the table's unit: "$758 million". None when the row
    was not read as facts or no period is asked; [] when none of its columns is that period."""
    if query.period is None:
        return None
    row = fact_row(hit, s, e, asked_stems(query))
    if row is None or not row.cells:
        return None
    cells = period_cells(query, row)
    if cells and query.intent == "percent" and query.asks_change and (
            m := _CHANGE_AFTER.match(hit.chunk.text, cells[0].end - hit.chunk.start, e)):
        # "General and administrative $ 1,843 $ 2,426 32 % $ 4,997 106 %" under "2003 Percentage
        # inc./(dec.) 2004 Percentage inc./(dec.)": the percentage right after the period's amount is
        # its change, which a growth asked in percent is
        return [m.group(1).replace(" ", "")]
    return [with_unit(cells[0].text, row, money=query.intent != "count")] if cells else []


_CHANGE_AFTER = re.compile(r"[ \t]*(\(?-?\d+(?:\.\d+)?[ \t]*\)?[ \t]*%)")


def with_unit(text: str, row, money: bool = True) -> str:
    """A cell with its row's currency and scale: "6,046" -> "$6,046 million", "(758)" -> "-$758
    million"; a count asked ("how many Trips") with its scale alone, "6,368 million"; other cells
    as printed."""
    digits = text.replace("$", "").strip()
    scale = _SCALE_WORDS.get(row.scale)
    if not money:
        return f"{digits} {scale}" if scale and row.unit == "USD" and not digits.endswith("%") else digits
    if row.unit == "USD" and not digits.startswith("(") and not digits.endswith("%"):
        return f"${digits} {scale}" if scale else f"${digits}"
    if row.unit == "USD" and scale and digits.startswith("("):
        return f"-${digits.strip('()')} {scale}"
    return digits


def other_period_columns(query: Query, hit, s: int, e: int) -> str | None:
    """Why a table row cannot answer: the question asks a period none of its columns holds a figure
    for ("FY2019" of a table of 2022, 2021 and 2020; a dash under the year asked). None when it
    can, or cannot tell."""
    if query.period is None:
        return None
    row = fact_row(hit, s, e, asked_stems(query))
    if row is None or not row.cells or period_cells(query, row):
        return None
    return "no figure in its columns for the period asked: " + ", ".join(
        f"{c.period.label} {c.text}" for c in row.cells[:4])


def states_level(query: Query, chunk) -> bool:
    """Whether a passage states the measure an amount question asks as a level, in a sentence
    naming every measure asked and no change of it: "total consolidation revenue was RMB 280.2
    billion" for "What was Alibaba's revenue in the December quarter?", a sentence retrieval
    ranks low because it lacks the question's time frame. Retrieval looks deeper for such."""
    from rag.extractive.figures import figures, is_change

    if query.intent != "amount" or not query.metrics or query.asks_change:
        return False
    text = chunk.text
    # a sentence naming every measure lies in a run of prose naming them all: most passages
    # retrieval looks through have none, and need no cutting into sentences (Punkt)
    if not any(u.kind == "prose" and all(m & set(stems_of(text[u.start:u.end])) for m in query.metrics)
               for u in passage_blocks(text)):
        return False
    for u in passage_units(text):
        if u.kind != "sentence":
            continue
        own = set(stems_of(text[u.start:u.end]))
        if all(m & own for m in query.metrics) and any(
                f.kind == "money" and not is_change(text, f) for f in figures(text, u.start, u.end)):
            return True
    return False


# "How many associates ...", "how many full-time employees ...": the words naming what is counted
_COUNTED = re.compile(r"\bhow\s+many\s+((?:[\w-]+\s*){1,4})", re.I)
# where what is counted ends: a verb or preposition after it ("associates did", "stores at")
_COUNT_END = re.compile(r"\b(?:did|does|do|was|were|is|are|has|have|had|will|would|can|could|in|at|for|of|on|as|"
                        r"during|by|from|to|with)\b.*", re.I | re.S)


_PEOPLE_WORDS = "headcount employees workforce staff associates people persons"


def counted(query: Query) -> frozenset[str]:
    """The stems of what a "how many X" (or "what was the headcount") question counts, with the names the glossary gives its
    words ("employees": "employed"); empty for other questions."""
    if query.intent != "count":
        return frozenset()
    if m := _COUNTED.search(query.text):
        words = set(stems_of(_COUNT_END.sub("", m.group(1)))) - PERIOD_WORDS
    elif PEOPLE.search(query.text):  # "What was Microsoft's full-time headcount?": a count of people,
        words = set(stems_of(_PEOPLE_WORDS))  # which a filing states in any of their words
    else:
        return frozenset()
    return frozenset(words.union(*(t.stems for t in query.terms if t.stems & words)))


def counts_near(text: str, f: Figure, what: frozenset[str], words: int = 4, start: int = 0,
                end: int | None = None) -> bool:
    """Whether a figure has what is counted within `words` words before or after it, inside
    text[start:end] (its sentence): "415,700 associates", "employed approximately 47,600 people"."""
    end = len(text) if end is None else end
    after = " ".join(text[f.end:min(end, f.end + 80)].split()[:words])
    before = " ".join(text[max(start, f.start - 80):f.start].split()[-words:])
    return bool(what & (set(stems_of(after)) | set(stems_of(before))))


def states_count(query: Query, chunk) -> bool:
    """Whether a passage states the count a "how many X" question asks: a figure with the thing
    counted beside it ("we employed approximately 415,700
    associates"). Retrieval ranks such a sentence low in a long passage about other things (Home
    Depot's associates are in a section on its Pro customers); it looks deeper for one."""
    what = counted(query)
    text = chunk.text
    if not what or not what & set(stems_of(text)):
        return False
    return any(counts_near(text, f, what) for f in figures(text, 0, len(text)) if f.kind == "number")


# the words of a why-question that ask for the cause rather than name what changed
_ASKING_CAUSE = frozenset(stems_of("why what drove drive driven drivers driver caused cause causes reason reasons "
                                   "explain explains behind factors contributed versus vs prior previous"))
# the owner a possessive names: "Home Depot's net sales"
_OWNER = re.compile(r"((?:[A-Z][\w&.-]*\s+){0,3}[A-Z][\w&.-]*)['’]s?\b")


def cause_subject(query: Query, chunk) -> frozenset[str]:
    """The stems naming what changed in a why-question ("general administrative expense" of "Why did
    Microsoft's general and administrative expense rise in fiscal 2004?"): its terms but the names
    of the company (and the document's title), the period, the change and the asking for a cause."""
    if not query.causal:
        return frozenset()
    doc = set(stems_of(f"{chunk.title} {chunk.file_name}"))
    names = set().union(*(stems_of(m.group(1)) for m in _OWNER.finditer(query.text)))
    out = set()
    for t in query.terms:
        if t.stems & (PERIOD_WORDS | _ASKING_CAUSE | doc | names) or YEAR.fullmatch(t.word) or \
                CHANGE_WORDS.fullmatch(t.word):
            continue
        out.add(t.word)
    return frozenset(stems_of(" ".join(out)))


def states_cause(query: Query, chunk) -> bool:
    """Whether a passage gives the cause a why-question asks: a sentence naming every word of what
    changed, with a causal clause ("General and administrative costs increased in fiscal 2004
    primarily due to legal expenses ..." for "Why did Microsoft's general and administrative
    expense rise in fiscal 2004?"). MD&A explains each line item in a paragraph of its own that
    dense retrieval ranks below paragraphs on the company's other changes; retrieval looks deeper
    for one."""
    what = cause_subject(query, chunk)
    text = chunk.text
    if not what or not CAUSAL.search(text) or not what <= set(stems_of(text)):
        return False
    return any(u.kind == "sentence" and CAUSAL.search(text, u.start, u.end) and
               what <= set(stems_of(text[u.start:u.end])) for u in passage_units(text))
