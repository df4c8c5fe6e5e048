"""Answerers turn retrieved passages into a cited `Answer`. One small protocol, a registry by
name, and the default: an extractive answerer that quotes the sentence or two that answer the
question and leads with the figure, name or date asked for. Offline, deterministic, no model
beyond the embedder that retrieval already used.

What it deliberately does not do: paraphrase, combine figures arithmetically, or reason across
documents; for that, use a generative answerer (rag/generate.py, whose numbers are checked the
same way).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from rag.cite import Answer, Citation, check_grounding
from rag.errors import UsageError
from rag.question import Query
from rag.retrieve import Hit
from rag.text import NUMBER_RE, is_table_row, split_compound, split_units, stem, words, years_in

MAX_CHARS = 600
MAX_QUOTE = 330  # a longer sentence is cut to the clauses around its figure

_CURRENCY = r"(?:RMB|CNY|USD|US\$|HK\$|HKD|EUR|GBP|JPY|\$|€|£|¥)"
_SCALE = r"(?:trillion|billion|million|thousand|bn|mn|basis points|bps|percentage points?)"
FIGURE_RE = re.compile(
    rf"(?:{_CURRENCY}\s?)?(?<![\w.])\(?\d(?:[\d,]*\d)?(?:\.\d+)?\)?(?:\s?%|\s?percent\b)?(?:\s{_SCALE}\b)?", re.I)
_RETRACTION = re.compile(r"^[\s.,;:—–-]*(?:pardon me|sorry|excuse me|i mean|i'm sorry|correction|rather|"
                         r"let me correct|i should say)\b", re.I)
_CAUSAL = re.compile(r"\b(due (?:\w+ly )?to|because|driven (?:\w+ly )?by|attributed to|attributable to|as a result|"
                     r"reflect(s|ed|ing)?|owing to|primarily from|mainly from|caused by|led by|thanks to)\b", re.I)
_MONTH_BEFORE = re.compile(r"(?:January|February|March|April|May|June|July|August|September|October|November|"
                           r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?\s+$")
_ANAPHOR = re.compile(r"^\W*(?:\[\w+\]\s*)?(?:(?:later|then|also|previously|since|currently|today|now|there|here|"
                      r"in addition|additionally|however|meanwhile|moreover|as such|in (?:19|20)\d\d),?\s+)?"
                      r"(?:it|its|this|these|that|those|they|their|such|he|she|his|her|"
                      r"the (?:decrease|increase|growth|decline|transactions?|company|segment|business|deal|figure))\b", re.I)
_YEAR = re.compile(r"^(19|20)\d\d$")
_MONTHS = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
DATE_RE = re.compile(
    rf"\b(?:{_MONTHS}\s+(?:\d{{1,2}},\s+)?(?:19|20)\d\d|{_MONTHS}\s+\d{{1,2}}|(?:fiscal(?: year)?\s+)?(?:19|20)\d\d|"
    rf"(?:the\s+)?(?:{_MONTHS}|first|second|third|fourth)\s+(?:quarter|half)(?:\s+of\s+(?:fiscal\s+)?(?:19|20)\d\d)?|"
    rf"(?:next|this|last|coming|following|current)\s+(?:fiscal\s+)?(?:year|quarter|half)|"
    rf"(?:over\s+)?the\s+(?:next|past|last|coming)\s+\d+\s+(?:years|quarters|months)|Q[1-4]\s*(?:FY)?\s*(?:19|20)?\d\d|FY\s?\d{{2,4}})\b",
    re.I)
NAME_RE = re.compile(r"\b(?:(?:Mr|Ms|Mrs|Dr)\.\s)?[A-Z][a-z]+(?:[ -][A-Z]\.)?(?:\s[A-Z][a-z]+){1,2}\b|"
                     r"\b(?:Mr|Ms|Mrs|Dr)\.\s[A-Z][a-z]+\b")  # "Safra Catz", "Ms. Catz"
# Capitalised runs that are not people: sentence openers, organisations, titles, calendar words.
_NOT_NAME_WORDS = frozenset("""
The This That These Those In On At Our We As For And But So If It Its Next Your Thank Thanks Good Welcome
Group Holding Holdings Inc Ltd Limited Corp Corporation Company Co Bank Securities Capital Partners Fund
Call Conference Results Earnings Quarter Fiscal Year Annual Report Form Chief Vice President Deputy
Financial Officer Executive Operating Technology Chairman Director Head Investor Relations Board Committee
Cloud Intelligence International Digital Commerce Business Segment Services Platform Products Market
January February March April May June July August September October November December Monday Tuesday
Wednesday Thursday Friday Saturday Sunday United States America China Europe Asia North South East West
Name Names Office Offices Exchange Commission Agreement Settlement Statement Statements Section Act Item Part
Note Notes Table Contents Total Net Sales Revenue Revenues Income Plan Program Court
""".split())


class Answerer(Protocol):
    """Turns a question and its retrieved passages into an Answer. Registered by name in
    `ANSWERERS`: "extractive" (below) and the generative "llm" and "llama-cpp" (rag/generate.py)."""

    name: str

    def answer(self, query: Query, hits: list[Hit]) -> Answer: ...


@dataclass(frozen=True)
class Figure:
    text: str  # as written: "RMB 280.2 billion", "13%"
    start: int  # offsets in the passage (chunk) text
    end: int
    kind: str  # percent | money | count | year | number


def _figures(passage: str, start: int, end: int) -> list[Figure]:
    """Figures in passage[start:end]: not years of dates alone, not numbers the speaker took back."""
    out = []
    for m in FIGURE_RE.finditer(passage, start, end):
        raw = m.group(0).strip()
        digits = re.sub(r"[^\d.]", "", raw)
        if not digits or not re.search(r"\d", raw):
            continue
        if _MONTH_BEFORE.search(passage, max(0, m.start() - 12), m.start()) and len(digits) <= 2:
            continue  # "January 31": a day of a date, not a figure
        after = passage[m.end():m.end() + 60]
        if _RETRACTION.match(after) and NUMBER_RE.search(after):
            continue  # "USD 2.07 billion. pardon me, USD 20.7 billion": the first was taken back
        if re.fullmatch(r"\(\d\)", raw) and re.search(r"[A-Za-z*]\s?$", passage[max(0, m.start() - 2):m.start()]):
            continue  # "Active Buyers (1) 132": a footnote marker after a label
        low = raw.lower()
        if "%" in low or "percent" in low or "point" in low or "bps" in low:
            kind = "percent"
        elif re.search(_CURRENCY, raw) or re.search(_SCALE, low):
            kind = "money"
        elif _YEAR.match(digits) and "," not in raw:
            kind = "year"
        else:
            kind = "number"
        text = raw.strip("()")
        out.append(Figure(text, m.start(), m.start() + len(raw), kind))
    return out


_HEDGED = re.compile(r"\b(?:nearly|approximately|about|almost|roughly|around|over|more than|less than|some)\s*$", re.I)
_SCALED = re.compile(_SCALE + r"\s*$", re.I)


_PAST_ROLE = re.compile(r"\b(?:until|previously|formerly|former|retired|stepped down)\b|\bfrom \w+ (?:\d{1,2}, )?\d{4} to\b", re.I)
_FULL_YEAR_Q = re.compile(r"\b(?:full[- ]year|fiscal year|annual|for the year|twelve months|12 months)\b", re.I)
_YEAR_MARK = re.compile(r"\b(?:full[- ]year|years?|annual|twelve months|12 months)\b", re.I)
_QUARTERLY_DOC = re.compile(r"(?<![a-z])q[1-4](?!\d)|(?:19|20)\d\dq[1-4]|\b(?:first|second|third|fourth)[ -]quarter", re.I)
_QUARTER = re.compile(r"\b(?:(first|second|third|fourth|1st|2nd|3rd|4th)[\s-]+quarter|Q([1-4])(?![\d]))", re.I)
_ORDINAL_Q = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}


def _quarters(text: str) -> set[int]:
    """The quarters a text names: "fourth-quarter", "Q4", "third quarter" -> {4, 3}."""
    return {_ORDINAL_Q[m.group(1).lower()] if m.group(1) else int(m.group(2)) for m in _QUARTER.finditer(text)}


def _is_change(passage: str, f: Figure) -> bool:
    """Whether a figure is a change ("increased $555 million", "up 120 basis points"), not a level."""
    return bool(_DELTA.search(passage, max(0, f.start - 20), f.start))


def _first_figure_at(passage: str, start: int, end: int) -> int:
    """Offset, within passage[start:end], of its first figure that is not a year (or its end)."""
    return next((f.start - start for f in _figures(passage, start, end) if f.kind != "year"), end - start)


def _answer_figures(query: Query, passage: str, start: int, end: int) -> list[Figure]:
    """The figures of passage[start:end] that can answer the question: for a per-share measure
    (EPS, dividends per share), not the ones in millions or billions (share counts, totals)."""
    figs = _figures(passage, start, end)
    if query.per_share:
        figs = [f for f in figs if not _SCALED.search(f.text)]
    return figs


@dataclass
class _Candidate:
    hit: Hit
    rank: int
    start: int  # offsets in the chunk text
    end: int
    sent_cov: float
    chunk_cov: float
    matched: frozenset[str]
    fit: float
    owned: frozenset[int] = frozenset()  # indexes of the query's measures this sentence gives figures for
    score: float = 0.0
    score_phrase: float = 0.0  # share of the question's adjacent word pairs found adjacent here


def _question_bigrams(query: Query) -> list[tuple[frozenset[str], frozenset[str]]]:
    """Adjacent pairs of the question's terms, as written ("chief executive", "executive officer")."""
    seq = _stems_of(query.text)
    by_stem = {x: t.stems for t in query.terms for x in t.stems}
    return [(by_stem[a], by_stem[b]) for a, b in zip(seq, seq[1:]) if a in by_stem and b in by_stem and a != b]


def _stems_of(text: str) -> list[str]:
    out = []
    for w in words(text):
        out.append(stem(w))
        parts = split_compound(w)
        if parts != [w]:  # "December-quarter" also counts as its parts, as the question's words do
            out += [stem(p) for p in parts if len(p) > 1]
    return out


def _coverage(query: Query, stems: set[str]) -> tuple[float, frozenset[str]]:
    matched = frozenset(t.word for t in query.terms if t.stems & stems)
    got = sum(t.weight for t in query.terms if t.word in matched)
    return got / query.total_weight, matched


_CLAUSE = re.compile(r"[,;]\s")
_CLAUSE_END = re.compile(r",?\s+(?:while|whereas|but|although)\b|;|,\s+and\s+(?:its|the|our)\b")
_DELTA = re.compile(r"\b(?:increased|decreased|grew|rose|fell|declined|up|down|higher|lower)(?:\s+by)?\s*$", re.I)
# Words of a time frame ("first quarter", "fiscal 2022") frame a whole sentence, not one figure.
_PERIOD_WORDS = frozenset(stem(w) for w in "first second third fourth quarter quarters fiscal year years month "
                          "months ended ending end full half annual".split())


def _term_positions(query: Query, passage: str, start: int, end: int) -> list[tuple[int, float, str]]:
    """(offset, weight, term) of each question term's occurrences in passage[start:end]."""
    pos = []
    for m in re.finditer(r"[A-Za-z0-9][A-Za-z0-9'&-]*", passage[start:end]):
        w = m.group(0).lower()
        forms = {stem(w)} | {stem(p) for p in split_compound(w)}  # "non-GAAP" is "nongaap"
        for t in query.terms:
            if forms & t.stems:
                pos.append((start + m.start(), t.weight, t.word))
    return pos


class ExtractiveAnswerer:
    """Quotes the best sentence (and a second where it adds what the first lacks) and leads with
    the short answer. Abstains when no sentence covers the question well enough."""

    name = "extractive"
    min_coverage = 0.4  # share of the question's (IDF-weighted) terms the evidence must contain
    min_sentence_coverage = 0.4  # ... and the sentence holding a figure, date or name
    runner_up = 0.85  # how close to the best sentence's score another must be to answer in its place

    def answer(self, query: Query, hits: list[Hit]) -> Answer:
        cands = sorted(self._candidates(query, hits), key=lambda c: -c.score)
        # the best sentence may lack the figure asked for ("the computations of diluted EPS
        # excluded..."); a close runner-up that holds it ("Diluted EPS $ 3.75") answers instead
        best = next((c for c in cands if c.score >= self.runner_up * cands[0].score and self._answers(query, c)), None)
        if best is None:
            return abstain(query.text)
        chosen = [best]
        second = self._second(query, best, cands)
        if second is not None:
            chosen.append(second)
        return self._compose(query, chosen)

    # --- candidates ----------------------------------------------------------------------------

    def _candidates(self, query: Query, hits: list[Hit]) -> list[_Candidate]:
        out = []
        period_terms = {x for t in query.terms if t.stems & _PERIOD_WORDS for x in t.stems}
        asked = {x for t in query.terms for x in t.stems}
        # a person is named by a title of several words ("Chief Executive Officer", not "Chief
        # Technology Officer"): for "who" questions the title's words in order count a little
        bigrams = _question_bigrams(query) if query.intent == "person" else []
        asked_q = _quarters(query.text) if query.wants_figure else set()
        present = bool(re.search(r"\b(is|are|does|do|currently|now|leads?|heads?|runs?)\b", query.text, re.I))
        asked_year = query.wants_figure and not asked_q and bool(_FULL_YEAR_Q.search(query.text))
        top = max((h.score for h in hits), default=1.0) or 1.0
        for rank, hit in enumerate(hits):
            c = hit.chunk
            context = " ".join(x for x in (c.title, c.section, c.analyst, c.header) if x)
            context_stems = set(_stems_of(context))
            # the file name often names the company and period the title leaves out
            # ("SALESFORCE_2024Q1_EARNINGS.pdf" titled "CRM Q1 FY24 Earnings Press Release"):
            # it says whose figures these are and when, not what they are about
            file_name = c.file_name
            file_stems = set(_stems_of(file_name))
            chunk_stems = set(_stems_of(c.text)) | context_stems
            chunk_cov, _ = _coverage(query, chunk_stems)
            if query.numbers and not set(query.numbers) <= years_in(f"{c.text} {context} {file_name}"):
                continue  # the question names a year or figure this passage lacks: not its answer
            units = [u for u in split_units(c.text) if u.kind != "heading"]
            keys = _label_keys(query, c)
            # the document of the year asked (the 2022 10-K for "fiscal 2022") over one that
            # only compares with it (a 2023 10-Q's prior-year column)
            doc_years = years_in(f"{c.title} {file_name}")
            own_year = 0.03 if query.numbers and set(query.numbers) <= doc_years else 0.0
            # a document of another period (INTEL_2022Q4 asked about 2023) answers only where
            # the text itself names the year asked, not with its own period's figures
            other_period = bool(query.numbers and query.wants_figure and doc_years and
                                not doc_years & set(query.numbers))
            # a quarter's report asked for a full year ("MCDONALDS_2023Q1" and "full-year 2023
            # operating income") answers only where it speaks of a year, not with the quarter's
            year_table = None
            if asked_year and _QUARTERLY_DOC.search(f"{c.title} {file_name}"):
                cols = _header_columns(c.header or "")
                year_table = bool(_YEAR_MARK.search(_table_text(c, units))) or \
                    (any(q for _, q in cols) and any(q is None for _, q in cols))
            prev_stems: set[str] = set()
            chain: set[str] = set()  # the sentences since the last one that names its own subject
            prev_end = prev_unit_start = 0
            for u in units:
                sent = c.text[u.start:u.end]
                own = set(_stems_of(sent))
                anaphoric = bool(_ANAPHOR.match(sent))
                # "It has 170 million DAUs" after "It's a navigation app" after "...true for Amap":
                # a pronoun leans on the whole run back to the sentence that named its subject
                same_paragraph = "\n" not in c.text[prev_end:u.start]
                window_prev = chain if anaphoric else prev_stems
                prev_window_names = prev_stems if same_paragraph else set()
                chain = (chain | own) if anaphoric else own
                prev_start = prev_unit_start if same_paragraph else u.start
                prev_unit_start = u.start
                prev_stems, prev_end = own, u.end
                if sent.rstrip().endswith("?"):
                    continue  # a question asked on a call is not an answer
                if year_table is not None and not (year_table if u.kind == "row" else _YEAR_MARK.search(sent)):
                    continue
                if asked_q and (said := _quarters(sent)) and not said & asked_q:
                    continue  # "first-quarter 2023 revenue" does not answer for the fourth quarter
                if other_period and u.kind != "row" and not set(query.numbers) & years_in(
                        " ".join(x for x in (c.text[prev_start:u.end], c.section, c.header) if x)):
                    continue
                # the title, section and questioner frame every sentence of the passage. A cause
                # is not the subject: "Total net sales increased 8% or $28.5 billion ..., driven
                # by higher net sales of iPhone" gives no figure of iPhone's
                cause = _CAUSAL.search(sent) if query.wants_figure else None
                if cause:  # the cause runs to the next clause: "..., while adjusted EBITDA was ..."
                    after = _CLAUSE_END.search(sent, cause.end())
                    subject = set(_stems_of(sent[:cause.start()] + " " + (sent[after.start():] if after else "")))
                else:
                    subject = own
                sent_stems = subject | context_stems
                cov, matched = _coverage(query, sent_stems)
                # "These transactions will...", "It has...": the subject is in the sentence before
                # the sentence before counts less, unless this one points back to it
                factor = 0.9 if anaphoric else 0.75
                cov_w, _ = _coverage(query, sent_stems | window_prev)
                cov = max(cov, factor * cov_w)  # `matched` stays this sentence's own
                if not anaphoric:
                    window_prev = set()
                missing_names = 0
                if query.entities and query.wants_figure:
                    # a figure about another company or segment does not answer for this one;
                    # the paragraph's previous sentence may name it ("Revenue from X was...");
                    # a table row's subject may be in its caption ("NIKE Brand Revenues by: ...").
                    window = sent_stems | window_prev | prev_window_names | file_stems | \
                        (chunk_stems if u.kind == "row" else set())
                    missing_names = sum(1 for ent in query.entities if not ent & window)
                    cov *= 0.6 ** missing_names
                row = u.kind == "row"
                label_fit = 0.0
                first_fig = _first_figure_at(c.text, u.start, u.end) if query.wants_figure else 0
                if row and query.wants_figure:
                    # a row's label says what its figures are: "Revenues" answers "revenues"
                    # better than "Sales by Company-operated restaurants" does
                    label = c.text[u.start:u.start + first_fig]
                    # "Other revenues" is not "revenues"; "Total revenues" is
                    label_stems = [stem(w) for w in words(label) if w not in _LABEL_NEUTRAL and w.isalpha()]
                    if label_stems and any(k & set(label_stems) for k in keys):
                        label_fit = sum(1 for x in label_stems if x in asked) / len(label_stems)
                if query.numbers and period_terms and (label_fit if row else set(query.numbers) <= years_in(sent)):
                    # a table names its periods in its header ("Q4 2022 vs. Q4 2021"), not in
                    # its rows, and a sentence that names the year asked has its time frame:
                    # the question's time-frame words ("first quarter", "fiscal") count as found
                    cov = max(cov, _coverage(query, sent_stems | period_terms)[0] * 0.6 ** missing_names)
                fit = self._fit(query, hit, c.text, u.start, u.end)
                if row and query.numbers and c.header and query.wants_figure and \
                        not set(query.numbers) <= years_in(c.header):
                    fit = 0.0  # a table of 2022, 2021 and 2020 has no figure for 2019
                if row:
                    # a table row's measure and subject are in its caption and header, above it
                    window_prev = window_prev | chunk_stems
                    prev_window_names = prev_window_names | chunk_stems
                owned = self._owned_metrics(query, c.text, u.start, u.end, window_prev)
                if query.metrics and query.wants_figure:
                    # revenue is not GMV: the figure must be the figure of a measure asked for
                    missing = len(query.metrics) - len(owned) if not query.multi else (0 if owned else 1)
                    fit *= 0.3 ** missing
                if query.entities and query.wants_figure:
                    fit *= 0.3 ** missing_names
                cand = _Candidate(hit, rank, u.start, u.end, cov, chunk_cov, matched, fit, owned)
                if bigrams:
                    seq = _stems_of(sent)
                    pairs = set(zip(seq, seq[1:]))
                    cand.score_phrase = sum(1 for a, b in bigrams if any((x, y) in pairs for x in a for y in b)) / len(bigrams)
                cand.score = (0.55 * cov + 0.2 * chunk_cov + 0.15 * fit + 0.1 * hit.score / top + 0.04 * cand.score_phrase
                              - 0.02 * rank - (0.1 if len(sent) < 25 else 0.0) + own_year + 0.06 * label_fit)
                if query.wants_figure and _HEDGED.search(sent[:first_fig][-20:]):
                    cand.score -= 0.03  # "nearly 13%" loses to "12.6%" when both answer
                if query.intent in ("date", "person", "place"):
                    cand.score *= 0.6 + 0.4 * fit  # the kind of answer asked for decides among close sentences
                if query.intent == "person" and present and _PAST_ROLE.search(sent):
                    cand.score *= 0.9  # "who is the CEO": not the one who "served ... until 2014"
                if query.intent == "describe" and query.entities and any(
                        ent & set(_stems_of(sent[:40])) for ent in query.entities) and \
                        re.match(r"^\W*(?:(?:Mr|Ms|Mrs|Dr)\.\s)?[A-Z]", sent):
                    cand.score += 0.05  # "Hong Xu is ...": the sentence that introduces the subject
                out.append(cand)
        return out

    @staticmethod
    def _owned_metrics(query: Query, passage: str, start: int, end: int, prev: set[str]) -> frozenset[int]:
        """The measures the sentence's first figure is about: those named before it (or just
        after: "RMB 70.9 billion of operating cash flow"), or in the sentence before when this one
        opens with a pronoun."""
        if not query.metrics:
            return frozenset()
        figs = [f for f in _figures(passage, start, end) if f.kind != "year"]
        # "RMB 70.9 billion of operating cash flow": a measure just after the figure, but not
        # past the next figure, which the words after it belong to
        head_end = min(end, figs[0].end + 45, figs[1].start if len(figs) > 1 else end) if figs else end
        stems = set(_stems_of(passage[start:head_end])) | prev
        return frozenset(i for i, m in enumerate(query.metrics) if m & stems)

    def _fit(self, query: Query, hit: Hit, passage: str, start: int, end: int) -> float:
        """How well the sentence holds the kind of answer asked for (1 = exactly)."""
        if query.intent == "describe":
            return 1.0
        if query.intent == "place":
            return 1.0 if self._proper_nouns(query, passage, start, end) else 0.3
        if query.intent == "asker":
            return 1.0 if hit.chunk.analyst else 0.0
        if query.intent == "date":
            return 1.0 if DATE_RE.search(passage, start, end) else 0.0
        if query.intent == "person":
            return 1.0 if self._names(passage, start, end) else 0.3
        figs = _answer_figures(query, passage, start, end)
        kinds = {f.kind for f in figs}
        if query.intent == "amount" and not query.wants_ratio and any(f.kind == "money" for f in figs) and all(
                _is_change(passage, f) for f in figs if f.kind == "money"):
            return 0.5  # "increased $555 million" is a change; "what was X's revenue" asks for a level
        if "number" in kinds and is_table_row(passage[start:end]):
            kinds.add("money")  # a table's plain figures are amounts in its caption's unit
        if query.intent == "percent":
            return 1.0 if "percent" in kinds else 0.4 if kinds & {"money", "number"} else 0.0
        if query.intent == "count":
            return 1.0 if kinds & {"number", "money"} else 0.3 if "percent" in kinds else 0.0
        if query.wants_money:
            return 1.0 if "money" in kinds else 0.0
        if "money" in kinds or ("percent" in kinds and query.wants_ratio):
            return 1.0
        # "what was total GMV?" asks for an amount: a growth rate alone is a weak answer
        return 0.5 if kinds & {"percent", "number"} else 0.0

    @staticmethod
    def _proper_nouns(query: Query, passage: str, start: int, end: int) -> list[str]:
        """Capitalised names in the sentence that the question does not already use: where
        someone worked or studied, where something is."""
        asked = {w.lower() for w in re.findall(r"[A-Za-z]+", query.text)}
        out = []
        for m in re.finditer(r"(?<![.!?]\s)(?<!^)\b[A-Z][A-Za-z&'-]+(?:\s+[A-Z][A-Za-z&'-]+)*", passage[start:end]):
            words_ = [re.sub(r"['’]s$", "", w) for w in m.group(0).split()]
            if any(w.lower() not in asked and w not in _NOT_NAME_WORDS for w in words_):
                out.append(m.group(0))
        return out

    @staticmethod
    def _names(passage: str, start: int, end: int) -> list[tuple[str, int, int]]:
        """Person-like names in passage[start:end] with their offsets."""
        out = []
        for m in NAME_RE.finditer(passage, start, end):
            parts = [w.rstrip(".") for w in m.group(0).split()]
            if not any(w in _NOT_NAME_WORDS for w in parts):
                out.append((m.group(0), m.start(), m.end()))
        return out

    def _answers(self, query: Query, best: _Candidate) -> bool:
        if query.unknown_names:
            return False  # the question is about something no document names
        coverage = 0.7 * best.sent_cov + 0.3 * best.chunk_cov
        if coverage < self.min_coverage:
            return False
        if query.wants_figure or query.intent == "date":
            # the figure must sit in a sentence about the question, not merely in its passage
            return best.fit >= 0.5 and best.sent_cov >= self.min_sentence_coverage
        return True

    def _second(self, query: Query, best: _Candidate, cands: list[_Candidate]) -> _Candidate | None:
        """A second sentence when it covers question terms (or figures, for a multi-part question)
        that the first lacks."""
        def overlaps(c: _Candidate) -> bool:
            return c.hit.chunk.source == best.hit.chunk.source and c.hit.chunk.page == best.hit.chunk.page and \
                c.hit.chunk.start + c.start < best.hit.chunk.start + best.end and \
                best.hit.chunk.start + best.start < c.hit.chunk.start + c.end
        if query.intent in ("describe", "place"):
            # "He was a Vice Chairman there...": the next sentence goes on about the same subject
            nxt = [c for c in cands if c is not best and not overlaps(c) and c.hit.chunk.id == best.hit.chunk.id
                   and 0 <= c.start - best.end < 3 and c.score >= 0.8 * best.score
                   and _ANAPHOR.match(c.hit.chunk.text[c.start:c.end])]
            if nxt:
                return nxt[0]
        missing = {t.word for t in query.terms} - best.matched
        best_gain, pick = 0.0, None
        for c in cands:
            if c is best or overlaps(c) or c.fit < 0.4:
                continue
            if query.wants_figure and not query.multi and is_table_row(c.hit.chunk.text[c.start:c.end]):
                continue  # another row is another figure: it adds a number, not context
            gain = sum(t.weight for t in query.terms if t.word in (c.matched & missing)) / query.total_weight
            near = c.hit.chunk.id == best.hit.chunk.id and min(abs(c.start - best.end), abs(best.start - c.end)) < 200
            if query.multi and query.wants_figure and c.fit >= 1.0 and c.sent_cov >= 0.5 * best.sent_cov:
                # "revenue and EBITDA": the figure of a measure the first sentence lacks
                gain += (0.3 if c.owned - best.owned else 0.0) + (0.1 if near else 0.0)
            if query.causal and near and c.start >= best.start and _CAUSAL.search(c.hit.chunk.text, c.start, c.end):
                gain += 0.25  # "why": the sentence after the fact that gives its reason
            if near and gain > 0:
                gain += 0.08  # a neighbouring sentence reads as one answer
            gain *= c.score / best.score if best.score > 0 else 0
            if gain > best_gain:
                best_gain, pick = gain, c
        if best_gain >= 0.12:
            return pick
        if query.intent in ("describe", "place"):
            # a description reads on: the next sentence, when it is as much on topic
            nxt = [c for c in cands if c is not best and not overlaps(c) and c.hit.chunk.id == best.hit.chunk.id
                   and 0 <= c.start - best.end < 3 and c.score >= 0.85 * best.score]
            if nxt:
                return nxt[0]
        return None

    # --- composing -----------------------------------------------------------------------------

    def _compose(self, query: Query, chosen: list[_Candidate]) -> Answer:
        citations, parts = [], []
        for n, c in enumerate(chosen, 1):
            chunk = c.hit.chunk
            s, e = _trim(query, chunk.text, c.start, c.end)
            citations.append(Citation(
                n=n, source=chunk.source, title=chunk.title, page=chunk.page,
                section=chunk.segment or chunk.section, speaker=chunk.speaker, analyst=chunk.analyst,
                quote=chunk.text[s:e], start=chunk.start + s, end=chunk.start + e, passage=chunk.text,
                score=round(c.hit.score, 6)))
            parts.append((c, s, e))
        lead = self._short_answer(query, parts)
        body = " ".join(f"{_quote_for_text(ct.quote)} [{ct.n}]" for ct in citations)
        text = f"{lead}\n{body}" if lead else body
        if len(text) > MAX_CHARS and len(citations) > 1:
            citations = citations[:1]
            body = f"{_quote_for_text(citations[0].quote)} [1]"
            lead = self._short_answer(query, parts[:1])
            text = f"{lead}\n{body}" if lead else body
        kept, _ = check_grounding(text, citations)
        text = "\n".join(kept)
        if not text.strip():
            return abstain(query.text)
        return Answer(query.text, text, tuple(citations), abstained=False)

    def _short_answer(self, query: Query, parts: list[tuple[_Candidate, int, int]]) -> str | None:
        """The figure, date or name asked for, with the marker of the quote it comes from."""
        if query.intent in ("describe", "place"):
            return None
        c, s, e = parts[0]
        passage = c.hit.chunk.text
        if query.intent == "asker" and c.hit.chunk.analyst:
            return f"{c.hit.chunk.analyst} [1]."
        if query.intent == "person":
            picks = _nearest(query, passage, s, e, self._names(passage, s, e))
            return f"{picks[0]} [1]." if picks else None
        if query.intent == "date":
            picks = _nearest(query, passage, s, e, [(m.group(0), m.start(), m.end()) for m in DATE_RE.finditer(passage, s, e)])
            return f"{picks[0]} [1]." if picks else None
        leads = []
        for n, (c, s, e) in enumerate(parts, 1):
            figs = [f for f in _answer_figures(query, c.hit.chunk.text, s, e) if f.kind != "year"]
            if (query.wants_money or (query.intent == "amount" and not query.wants_ratio)) and \
                    any(f.kind == "money" for f in figs):
                figs = [f for f in figs if f.kind == "money"]  # "how much revenue": the amount, not its growth
                levels = [f for f in figs if not _is_change(c.hit.chunk.text, f)]
                figs = levels or figs  # "increased $555 million, ... was $1.9 billion": the level
            if query.intent == "percent" and any(f.kind == "percent" for f in figs) and not query.multi:
                figs = [f for f in figs if f.kind == "percent"]
                if not query.asks_change:  # "gross margin increased 120 basis points to 46.0%": 46.0%
                    figs = [f for f in figs if not _is_change(c.hit.chunk.text, f)] or figs
            picks = _column_pick(query, c.hit.chunk, s, e, figs) or \
                _nearest(query, c.hit.chunk.text, s, e, [(f.text, f.start, f.end) for f in figs], many=query.multi)
            picks = [p for p in picks if p not in " ".join(leads)]
            if picks:
                leads.append(f"{', '.join(picks)} [{n}]")
            if not query.multi:
                break
        return ("; ".join(leads) + ".") if leads else None


_LABEL_NEUTRAL = frozenset("total of and the by for in from to a an on at".split())


def _label_keys(query: Query, chunk) -> list[frozenset[str]]:
    """What a table row's label must name to be about the question: any word of it but its
    time frame and the names the document's title or file name already gives ("Product
    development" for "eBay's product development expense in the second quarter")."""
    doc = set(_stems_of(f"{chunk.title} {chunk.file_name}"))
    return [t.stems for t in query.terms if not t.stems & _PERIOD_WORDS and not t.stems & doc]


def _table_years(chunk, units: list) -> set[str]:
    """The years a table's figures can be of: its column header and the lines of text around
    it, not the labels of other rows ("BALANCE AT SEPTEMBER 1, 2019" does not make the next
    row a 2019 figure)."""
    return years_in(_table_text(chunk, units))


def _table_text(chunk, units: list) -> str:
    """A table's column header and the lines of text around its rows (caption, period lines)."""
    return " ".join([chunk.header or ""] + [chunk.text[u.start:u.end] for u in units if u.kind != "row"])


def row_answers(query: Query, chunk, min_coverage: float = 0.75) -> bool:
    """Whether a table row of `chunk` is labelled with what a figure question asks: its label
    ("Total paid members", "Greater China"), with the chunk's title, file name, section and
    column header around it, covers most of the question's weight and names a measure, a name
    or the rarest word the question uses. Dense retrieval reads tables poorly; such a row is strong evidence."""
    if not query.wants_figure or not query.terms:
        return False
    around = set(_stems_of(" ".join(x for x in (chunk.title, chunk.file_name, chunk.section) if x)))
    keys = _label_keys(query, chunk)
    terms = [t for t in query.terms if not t.stems & _PERIOD_WORDS]
    if not terms:
        return False
    units = split_units(chunk.text)
    # the header and the table's caption ("The following table shows net sales by reportable segment")
    around |= set(_stems_of(_table_text(chunk, units)))
    for u in units:
        if u.kind != "row":
            continue
        label = chunk.text[u.start:u.start + _first_figure_at(chunk.text, u.start, u.end)]
        own = set(_stems_of(label))
        if not any(k & own for k in keys):
            continue
        if query.numbers and not set(query.numbers) <= _table_years(chunk, units) | years_in(label) | \
                years_in(chunk.file_name):
            continue
        # the question's time frame ("full year", "end of fiscal 2022") is the header's business
        got = [t.weight for t in terms if t.stems & (own | around)]
        if sum(got) >= min_coverage * sum(t.weight for t in terms):
            return True
    return False


def _header_columns(header: str) -> list[tuple[str, int | None]]:
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
        if _YEAR.match(t.lstrip("fy")):
            if not skip:
                cols.append((t.lstrip("fy"), quarter))
            quarter, skip = None, False
    return cols


def _column_pick(query: Query, chunk, s: int, e: int, figs: list[Figure]) -> list[str]:
    """In a table row, the figure under the column of the period the question names: header
    "2022 Change 2021 Change 2020", row "iPhone $ 205,489 7 % $ 191,973 ..." -> 2022: 205,489;
    header "Q4 2022 vs. Q4 2021 2022 vs. 2021", "full year 2022" -> the second column."""
    if not (chunk.header and query.numbers and is_table_row(chunk.text[s:e])):
        return []
    cols = _header_columns(chunk.header)
    values = [f for f in figs if f.kind != "percent"]
    if len(values) < len(cols):
        return []
    asked = _quarters(query.text)
    for n in query.numbers:
        matches = [i for i, (year, q) in enumerate(cols) if year == n]
        # the quarter asked, else (a full year asked, or no quarter named) the column without one
        pick = [i for i in matches if cols[i][1] in asked] if asked else [i for i in matches if cols[i][1] is None]
        if pick or matches:
            return [values[(pick or matches)[0]].text]
    return []


def _nearest(query: Query, passage: str, s: int, e: int, items: list[tuple[str, int, int]],
             many: bool = False) -> list[str]:
    """Items (figures, dates) ordered by closeness to the question's terms in the sentence;
    one, or for a multi-part question all that score within 60% of the best (at most 4)."""
    if not items:
        return []
    pos = _term_positions(query, passage, s, e)
    starts = sorted(it[1] for it in items)

    def score(it: tuple[str, int, int]) -> float:
        mid = (it[1] + it[2]) / 2
        total = 0.0
        for p, w, word in pos:
            if not many:
                if stem(word) in _PERIOD_WORDS:
                    w *= 0.25  # "first quarter" frames the whole sentence, not one figure
                if p < it[1]:
                    if any(p < a < it[1] for a in starts):
                        w *= 0.3  # another figure stands between: the words are its label
                    elif _CLAUSE.search(passage, p, it[1]):
                        w *= 0.6  # "share count, combined with USD 10 billion": another clause
                elif any(a > p for a in starts) and _CLAUSE.search(passage, it[2], p):
                    w *= 0.3  # "$0.20, and non-GAAP diluted EPS was $1.69": the next figure's label
            total += w * math.exp(-abs(p - mid) / 60.0)
        return total + 1e-6 * (e - it[1])
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


def _trim(query: Query, passage: str, s: int, e: int) -> tuple[int, int]:
    """Cut an over-long sentence to the clauses around its best figure or terms (still an exact
    substring of the passage)."""
    if e - s <= MAX_QUOTE:
        return s, e
    cuts = sorted({s, e} | {s + m.end() for m in re.finditer(r"[,;:]\s+|\s+(?=(?:and|but|while|which)\b)",
                                                          passage[s:e])})
    pos = _term_positions(query, passage, s, e)
    figs = [(f.start + f.end) / 2 for f in _figures(passage, s, e)]
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


def _quote_for_text(quote: str) -> str:
    return " ".join(quote.split())


def quoted_answer(question: str, chunk, start: int, end: int, lead: str | None, score: float) -> Answer:
    """An answer resting on one quote, chunk.text[start:end], led by `lead` (which cites [1])."""
    quote = chunk.text[start:end]
    citation = Citation(n=1, source=chunk.source, title=chunk.title, page=chunk.page,
                        section=chunk.segment or chunk.section, speaker=chunk.speaker, analyst=chunk.analyst,
                        quote=quote, start=chunk.start + start, end=chunk.start + end, passage=chunk.text,
                        score=round(score, 6))
    body = f"{_quote_for_text(quote)} [1]"
    return Answer(question, f"{lead}\n{body}" if lead else body, (citation,), abstained=False)


def abstain(question: str) -> Answer:
    q = " ".join(question.split())
    return Answer(question, f"The documents don't say. No passage in the index answers “{q}”.",
                  (), abstained=True)


class StreamingAnswerer(Answerer, Protocol):
    """An answerer that can also show its answer as it is written: `stream` yields text deltas
    (a draft), then the final, verified Answer."""

    def stream(self, query: Query, hits: list[Hit]) -> Iterator[str | Answer]: ...


# A class, or "module:Class" for one imported on first use (the generative answerers pull in
# their model clients only when chosen; `import rag` stays light).
ANSWERERS: dict[str, type | str] = {
    "extractive": ExtractiveAnswerer,
    "llm": "rag.generate:LLMAnswerer",
    "llama-cpp": "rag.generate:LlamaCppAnswerer",
}


def get_answerer(name: str, settings=None, **kwargs) -> Answerer:
    """The answerer registered as `name`, configured from `settings` when it takes any (default:
    `Settings.load()`); an unknown name lists the valid ones."""
    try:
        cls = ANSWERERS[name]
    except KeyError:
        raise UsageError(f"Unknown answerer {name!r}; choose one of: {', '.join(sorted(ANSWERERS))}") from None
    if isinstance(cls, str):
        import importlib

        module, _, attr = cls.partition(":")
        cls = getattr(importlib.import_module(module), attr)
    if hasattr(cls, "from_settings") and not kwargs:
        from rag.settings import Settings

        return cls.from_settings(settings or Settings.load())
    return cls(**kwargs)
