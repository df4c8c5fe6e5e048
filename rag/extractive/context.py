"""The contexts a candidate sentence is judged in, each built once: the question's (`Frame`),
its passage's (`PassageContext`: title, file name, table header, periods) and its own
(`SentenceContext`: its stems, and the sentences before it that it leans on)."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from rag.extractive.figures import names, quarters
from rag.extractive.tables import asked_stems, fact_row, header_columns, label_keys, table_text
from rag.extractive.terms import coverage, file_stems, question_bigrams, stems_of
from rag.extractive.vocab import ANAPHOR, FULL_YEAR_Q, PERIOD_WORDS, QUARTERLY_DOC, YEAR_MARK
from rag.question import Query
from rag.retrieve import Hit
from rag.text import Unit, passage_units, years_in


@dataclass(frozen=True)
class Frame:
    """What the question asks, read once for all its candidates; `off` names the rules
    switched off (ablation)."""

    query: Query
    off: frozenset[str] = frozenset()
    period_terms: frozenset[str] = frozenset()  # stems of the question's time-frame words
    asked: frozenset[str] = frozenset()  # every stem the question asks with
    bigrams: tuple = ()  # for who-questions: the title's adjacent word pairs
    asked_quarters: frozenset[int] = frozenset()
    asked_year: bool = False  # a full year asked ("full-year 2023"), no quarter
    weights: dict | None = None  # feature weights other than the fitted ones (the hand-set, for comparison)

    @classmethod
    def of(cls, query: Query, off: frozenset[str] = frozenset(), weights: dict | None = None) -> Frame:
        # (a quarter's figure, or why it changed in that quarter)
        asked_q = quarters(query.text) if query.wants_figure or query.causal else set()
        return cls(
            query=query, off=off,
            period_terms=frozenset(x for t in query.terms if t.stems & PERIOD_WORDS for x in t.stems),
            asked=frozenset(x for t in query.terms for x in t.stems),
            # a person is named by a title of several words ("Chief Executive Officer", not "Chief
            # Technology Officer"): for "who" questions the title's words in order count a little
            bigrams=tuple(question_bigrams(query)) if query.intent == "person" else (),
            asked_quarters=frozenset(asked_q),
            asked_year=query.wants_figure and not asked_q and bool(FULL_YEAR_Q.search(query.text)), weights=weights)

    def on(self, rule: str) -> bool:
        return rule not in self.off


@dataclass
class PassageContext:
    """One retrieved passage (chunk) and what frames every sentence in it."""

    hit: Hit
    rank: int
    context: str  # title, section, questioner and table header
    context_stems: set[str]
    file_name: str  # the file name often names the company and period the title leaves out
    file_stems: set[str]
    chunk_stems: set[str]
    chunk_cov: float
    units: list[Unit]
    keys: list[frozenset[str]]  # what a row's label must name (rag.extractive.tables.label_keys)
    table_stems: set[str]  # a table's header and the lines around its rows (caption, periods), not its other rows
    doc_years: set[str]  # the years its title and file name name
    own_year: bool = False  # the document of the year asked (the 2022 10-K for "fiscal 2022")
    other_period: bool = False  # a document of another period (INTEL_2022Q4 asked about 2023)
    year_table: bool | None = None  # a quarter's report asked for a year: whether this table speaks of one
    asked: frozenset[str] = frozenset()  # the question's stems: which member's row a member table's line is

    @property
    def chunk(self):
        return self.hit.chunk

    @classmethod
    def of(cls, frame: Frame, hit: Hit, rank: int) -> PassageContext:
        c, query = hit.chunk, frame.query
        context = " ".join(x for x in (c.title, c.section, c.analyst, c.header) if x)
        context_stems = set(stems_of(context))
        # "SALESFORCE_2024Q1_EARNINGS.pdf" titled "CRM Q1 FY24 Earnings Press Release": the file
        # name says whose figures these are and when, not what they are about
        file_name = c.file_name
        chunk_stems = set(stems_of(c.text)) | context_stems
        # a heading line answers nothing, but for a who-question a line that names a person is a
        # participants list's or a speaker label's "Priya Raghunathan - Chief Financial Officer"
        units = [u for u in with_fact_rows(passage_units(c.text), hit) if u.kind != "heading" or
                 (query.intent == "person" and names(c.text, u.start, u.end))]
        p = cls(hit, rank, context, context_stems, file_name, file_stems(query.text, file_name), chunk_stems,
                coverage(query, chunk_stems)[0], units, label_keys(query, c), set(stems_of(table_text(c, units))),
                years_in(f"{c.title} {file_name}"))
        p.asked = asked_stems(query)
        asked = set(query.numbers)
        p.own_year = bool(asked) and asked <= p.doc_years
        p.other_period = bool(asked and query.wants_figure and p.doc_years and not p.doc_years & asked)
        if frame.asked_year and QUARTERLY_DOC.search(f"{c.title} {file_name}"):
            cols = header_columns(c.header or "")
            p.year_table = bool(YEAR_MARK.search(table_text(c, units))) or \
                (any(q for _, q in cols) and any(q is None for _, q in cols))
        return p



@dataclass
class SentenceContext:
    """One sentence (or table row) of a passage, with the sentences before it that it leans on."""

    p: PassageContext
    unit: Unit
    text: str
    own: set[str]  # the sentence's stems
    anaphoric: bool  # opens with a pronoun ("It has...", "These transactions...")
    before: set[str]  # stems of what it leans on: the run back to the sentence naming its subject
    prev_names: set[str] = field(default_factory=set)  # the paragraph's previous sentence
    prev_start: int = 0  # where the paragraph's previous sentence starts (or this one)

    @property
    def row(self) -> bool:
        return self.unit.kind == "row"

    @functools.cached_property
    def fact(self):
        """The table row read as facts (rag.facts.Row) this row unit quotes, if any: looked up
        once, though the features, rules and filters all ask."""
        return fact_row(self.p.hit, self.unit.start, self.unit.end, self.p.asked) if self.row else None


def with_fact_rows(units, hit) -> list:
    """The passage's units, each table row read as facts (rag.facts) a row unit of its own: the
    sentence splitter takes "Net cash provided by operating activities 15,433 29,456" (a long
    label, two figures) for prose and runs it into the rows around it."""
    c = hit.chunk
    spans = sorted((max(0, r.start - c.start), min(len(c.text), r.end - c.start)) for r in hit.rows)
    spans = [(a, b) for a, b in spans if a < b]
    if not spans:
        return list(units)
    out = []
    for u in units:
        inside = [(a, b) for a, b in spans if a < u.end and b > u.start]
        if u.kind == "row" or not inside:
            out.append(u)
            continue
        pos = u.start
        for a, b in inside:
            if c.text[pos:max(pos, a)].strip():
                out.append(Unit(pos, a, u.kind))
            out.append(Unit(max(a, u.start), min(b, u.end), "row"))
            pos = min(b, u.end)
        if re.search(r"\w", c.text[pos:u.end]):
            out.append(Unit(pos, u.end, u.kind))
    return out


def sentence_contexts(p: PassageContext) -> Iterator[SentenceContext]:
    """The passage's sentences and rows in order, each with the window it leans on: "It has 170
    million DAUs" after "It's a navigation app" after "...true for Amap": a pronoun leans on the
    whole run back to the sentence that named its subject."""
    text = p.chunk.text
    prev_stems: set[str] = set()
    chain: set[str] = set()  # the sentences since the last one that names its own subject
    prev_end = prev_unit_start = 0
    for u in p.units:
        sent = text[u.start:u.end]
        own = set(stems_of(sent))
        anaphoric = bool(ANAPHOR.match(sent))
        same_paragraph = "\n" not in text[prev_end:u.start]
        yield SentenceContext(p, u, sent, own, anaphoric, before=chain if anaphoric else prev_stems,
                              prev_names=prev_stems if same_paragraph else set(),
                              prev_start=prev_unit_start if same_paragraph else u.start)
        chain = (chain | own) if anaphoric else own
        prev_unit_start = u.start
        prev_stems, prev_end = own, u.end
