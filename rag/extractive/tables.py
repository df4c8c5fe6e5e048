"""Reading text tables: the value columns of a header, the row whose label names what is asked,
and the figure under the column of the period asked. Retrieval uses `row_answers` to look deeper
for such a row, since dense retrieval reads tables poorly."""

from __future__ import annotations

import re

from rag.extractive.figures import Figure, first_figure_at, quarters
from rag.extractive.terms import stems_of
from rag.extractive.vocab import PERIOD_WORDS, YEAR
from rag.question import Query
from rag.text import is_table_row, passage_units, years_in


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
    around = set(stems_of(" ".join(x for x in (chunk.title, chunk.file_name, chunk.section) if x)))
    keys = label_keys(query, chunk)
    terms = [t for t in query.terms if not t.stems & PERIOD_WORDS]
    if not terms:
        return False
    units = passage_units(chunk.text)
    # the header and the table's caption ("The following table shows net sales by reportable segment")
    around |= set(stems_of(table_text(chunk, units)))
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
