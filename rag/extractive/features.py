"""Features: what makes a sentence the answer, each a named function of its contexts with a
value in [0, 1] (or a rank), and the rules that adjust them. `score` weighs them with
`WEIGHTS` (one table); `--ablate NAME` switches a feature or a rule off; `--explain` shows
each candidate's values.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from rag.extractive.context import Frame, SentenceContext
from rag.extractive.figures import answer_figures, figures, first_figure_at, is_change, new_names, proper_nouns
from rag.extractive.tables import asked_stems, counted, counts_near, fact_row
from rag.extractive.terms import coverage, stems_of
from rag.extractive.vocab import (
    CAUSAL,
    CLAUSE,
    CURRENCY,
    DATE_RE,
    LABEL_NEUTRAL,
    NAME_RUN,
    NOT_NAME_WORDS,
    REASON,
    WHY_ONLY,
)
from rag.facts import item_stems
from rag.question import METRIC_NOUN, MONEY_NOUN, PEOPLE, Query
from rag.retrieve import Hit
from rag.text import is_table_row, stem, words, years_in

# The weight of each feature in a candidate's score, in the order they are added: as first set by
# hand, and (WEIGHTS) as `make fit` (evals/fit.py) fitted them on the eval sets, read from
# weights.json beside this file.
HAND_WEIGHTS: dict[str, float] = {
    "coverage": 0.55,
    "answer_fit": 0.15,
    "title_phrase": 0.04,
    "rank": -0.02,
    "own_year_document": 0.03,
    "label_coverage": 0.0,
    "row_label_fit": 0.06,
}
WEIGHTS_FILE = Path(__file__).with_name("weights.json")


def _fitted() -> tuple[dict[str, float], float | None]:
    """The fitted weights (and runner-up margin), or the hand-set ones where none were fitted."""
    if not WEIGHTS_FILE.is_file():
        return dict(HAND_WEIGHTS), None
    data = json.loads(WEIGHTS_FILE.read_text())
    return {n: float(data["weights"].get(n, w)) for n, w in HAND_WEIGHTS.items()}, data.get("runner_up")


WEIGHTS, FITTED_RUNNER_UP = _fitted()

FEATURE_DOCS: dict[str, str] = {
    "coverage": "share of the question's (IDF-weighted) terms in the sentence, its passage's title, section and "
                "header, and the sentence it leans on; less for each name asked that is missing",
    "answer_fit": "how well the sentence holds the kind of answer asked (a percentage, an amount, a date, a name); "
                  "less when the figure is of another measure or another company",
    "title_phrase": "who-questions: share of the title's adjacent word pairs found in order ('chief executive')",
    "rank": "the passage's retrieval rank (0 = first)",
    "own_year_document": "1 when the document's title or file name names the year asked",
    "row_label_fit": "a table row's label: share of its words that the question asks",
    "label_coverage": "figure questions: share of the question's terms in the words before the sentence's first figure "
                      "(its subject: 'Footwear revenue was $498 million' over '...increases of 3% in footwear styles')",
}

# Rules that change a feature's value or the score, switchable by name like the features.
RULE_DOCS: dict[str, str] = {
    "cause_not_subject": "figure or cause questions: the words of a cause clause ('driven by gross margin expansion') "
                         "do not count as the sentence's subject",
    "parts_not_subject": "figure questions: a clause naming the subject's parts before its figure ('Subscription "
                         "revenue, which combines our Collaboration Cloud and Security & Identity segments, was $1.93 "
                         "billion') does not count as the sentence's subject",
    "leans_on_previous": "coverage also counts the sentence before (0.75) or, for a pronoun, the run back to the "
                         "sentence naming the subject (0.9)",
    "entity_missing": "figure questions: each company or segment asked that is not named nearby multiplies coverage "
                      "by 0.6 and fit by 0.3",
    "period_in_header": "a table row, or a sentence naming the year asked, counts the question's time-frame words "
                        "as found",
    "measure_missing": "figure questions: fit x0.3 for each measure asked (revenue, GMV) the sentence's first figure is "
                       "not of (x0.7 once where a later figure is of them)",
    "other_subject": "figure questions: fit x0.5 when the words before the figure name someone or something the "
                     "question does not (a segment's revenue for the company's)",
    "qualifier_missing": "figure questions: fit x0.4 for each word narrowing the measure asked ('daily' active users, "
                         "'diluted' EPS) that the sentence and its context lack",
    "asker_by_order": "'who asked the first (second, last) question?': the call's questioners in order, from the "
                      "transcript's turns, not from word overlap",
    "second_ask_missing": "a question joined to a second of another kind ('how many shares..., and for how much?'): "
                          "fit x0.7 for a sentence or row without a figure of the second kind",
    "ambiguous_figure": "a table row read as facts answers only when one period is meant: two columns fitting the "
                        "period asked alike (a quarter and a year ending the same day): abstain, listing each",
    "computed_figure": "a figure the question defines as a computation ('defined as gross profit divided by total "
                       "revenue', a ratio rounded to two decimals) is not quoted from a passage: it is computed "
                       "(computed_metric) or the answer abstains",
    "ranked_members": "'which segment grew fastest', 'which region had the largest sales': the rows of the table that "
                      "breaks the measure down (rag/compare.py), ranked, each cited and checked; when no table does, "
                      "only a passage that ranks ('fastest', 'largest') answers",
    "computed_metric": "a metric the question defines or names (rag/metrics.toml) is computed from the table rows of "
                       "the passages, every operand cited and the arithmetic checked; an operand missing or two rows "
                       "fitting alike: abstain, saying which",
    "unnamed_metric_quote": "a library metric asked for one period (a ratio, a margin, days) and quoted by a sentence or "
                            "row that does not name it (nor its row's headings or caption): computed instead, where "
                            "it can be",
}


@dataclass
class Candidate:
    hit: Hit
    rank: int
    start: int  # offsets in the chunk text
    end: int
    sent_cov: float
    chunk_cov: float
    matched: frozenset[str]
    fit: float
    owned: frozenset[int] = frozenset()  # indexes of the query's measures this sentence gives figures for
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0


# what follows a figure that makes it a length of time or a rate ("48 months", "12.6 Trips per month")
_DURATION_OR_RATE = re.compile(r"\s*(?:-\s*)?(?:(?:months?|years?|weeks?|days?|hours?|minutes?)\b|[\w-]+\s+(?:per|a|each)\s+"
                               r"(?:month|year|week|day|hour|quarter|user|customer|share)\b)", re.I)
_DURATION_ASKED = re.compile(r"\b(?:months?|years?|weeks?|days?|hours?|minutes?|per|each|average)\b", re.I)


def _heads_label(row: str, what: frozenset[str]) -> bool:
    """Whether a table row's label is of what is counted: its first words after "Total" or
    "Number of" name it ("Employees", "Number of stores at year end"), not a later word ("Stock
    issued to employees")."""
    label = re.sub(r"^\W*(?:total\s+)?(?:number\s+of\s+)?", "", row[:first_figure_at(row, 0, len(row))], flags=re.I)
    return bool(what & set(stems_of(" ".join(label.split()[:2]))))


def _is_item_row(query: Query, hit: Hit, start: int, end: int) -> bool:
    """Whether passage[start:end] of the hit's chunk is one table row read as facts, whole, its
    label a name of a line item the question asks."""
    if not query.items or (r := fact_row(hit, start, end, asked_stems(query))) is None:
        return False
    a, b = hit.chunk.start + start, hit.chunk.start + end
    return r.start <= a and b <= r.end and (r.end - r.start) - (b - a) < 3 and bool(item_stems(r.label, query.items))


_NUMBER_OF = re.compile(r"\bnumber\s+of\s+((?:[\w-]+\s+){0,3}[\w-]+)", re.I)


def _numbers_of(sentence: str, what: frozenset[str]) -> bool:
    """Whether a sentence says it counts what is asked ("the number of VIP members ... reaching $49
    million": a transcript's stray currency sign on a count)."""
    return bool(what) and any(set(stems_of(m.group(1))) & what for m in _NUMBER_OF.finditer(sentence))


def answer_fit(query: Query, hit: Hit, passage: str, start: int, end: int) -> float:
    """How well the sentence holds the kind of answer asked for (1 = exactly)."""
    if query.intent == "describe":
        # "why did the gross margin improve": a sentence giving a reason ("driven primarily by lower
        # freight costs"), not one restating the change ("the take rate came down 3 basis points")
        if query.causal and WHY_ONLY.match(query.text) and not CAUSAL.search(passage, start, end) and \
                not REASON.search(passage, start, end):
            return 0.5
        return 1.0
    if query.intent == "place":
        return 1.0 if proper_nouns(query, passage, start, end) else 0.3
    if query.intent == "asker":
        return 1.0 if hit.chunk.analyst else 0.0
    if query.intent == "date":
        return 1.0 if DATE_RE.search(passage, start, end) else 0.0
    if query.intent == "person":
        return 1.0 if new_names(query, passage, start, end) else 0.3
    figs = answer_figures(query, passage, start, end)
    kinds = {f.kind for f in figs}
    if query.intent in ("amount", "count") and kinds == {"money"} and PEOPLE.search(query.text) and \
            not MONEY_NOUN.search(query.text):
        return 0.3  # "Microsoft's full-time headcount": people, not "$5,734 million" of their compensation
    if query.intent == "amount" and not query.wants_ratio and any(f.kind == "money" for f in figs) and all(
            is_change(passage, f) for f in figs if f.kind == "money"):
        return 0.3  # "increased $555 million" is a change; "what was X's revenue" asks for a level
    # a row the statements read as facts, labelled with a name of the line item asked, is a table
    # row however long its label ("Total cash and short-term investments 49,048 60,592" has too few
    # figures for the text's own test)
    row = is_table_row(passage[start:end]) or (passage is hit.chunk.text and _is_item_row(query, hit, start, end))
    if "number" in kinds and row:
        kinds.add("money")  # a table's plain figures are amounts in its caption's unit
    if query.intent == "percent":
        if not query.asks_change and not _MOVED_ASKED.search(query.text) and "percent" in kinds and \
                all(is_change(passage, f) for f in figs if f.kind == "percent"):
            return 0.3  # "an unfavorable impact of 2.7% on gross margin" moved it; "what was the gross margin" asks its level
        return 1.0 if "percent" in kinds else 0.4 if kinds & {"money", "number"} else 0.0
    if query.intent == "count":
        nums = [f for f in figs if f.kind == "number"]
        if nums and "money" not in kinds and not _DURATION_ASKED.search(query.text) and all(
                _DURATION_OR_RATE.match(passage, f.end, min(end, f.end + 40)) for f in nums):
            return 0.3  # "for up to 48 months", "12.6 Trips per month": a span or a rate, not how many
        what = counted(query)
        money = [f for f in figs if re.search(CURRENCY, f.text)]
        if money and len(money) == sum(f.kind not in ("year", "percent") for f in figs) and \
                (what or not MONEY_NOUN.search(query.text)) and not _numbers_of(passage[start:end], what):
            # "how many iPhone units did Apple sell": "$ 200,583" of their sales is no count; "how many
            # shares did it buy back, and how much did it spend": the amounts alone give half the answer
            return 0.5 if MONEY_NOUN.search(query.text) else 0.3
        if what and nums and not row and \
                not any(counts_near(passage, f, what, start=start, end=end) for f in figs if f.kind in ("number", "money")):
            return 0.5  # "how many associates": a figure with no associates beside it ("Exhibit 10.33")
        return 1.0 if kinds & {"number", "money"} else 0.3 if "percent" in kinds else 0.0
    if query.wants_money:
        return 1.0 if "money" in kinds else 0.0
    if "money" in kinds or ("percent" in kinds and query.wants_ratio):
        return 1.0
    # "what was total GMV?" asks for an amount: plain figures are a weak answer, and a growth
    # rate alone ("revenue rose 11%") none: it does not say how much
    return 0.5 if "number" in kinds else 0.3 if "percent" in kinds else 0.0


# a figure followed by "of" and the measure it is ("$42 million of lower amortization costs"), up to
# the next punctuation, figure or clause word
_OF_MEASURE = re.compile(r"\s+of\s+((?:(?!and\b|or\b|in\b|for\b|from\b|to\b|as\b|at\b|by\b|was\b|were\b)"
                         r"[A-Za-z&'-]+\s*){1,5})")


def owned_metrics(query: Query, passage: str, start: int, end: int, prev: set[str]) -> frozenset[int]:
    """The measures the sentence's first figure is about: those named before it (or just
    after: "RMB 70.9 billion of operating cash flow"), or in the sentence before when this one
    opens with a pronoun."""
    if not query.metrics:
        return frozenset()
    figs = [f for f in figures(passage, start, end) if f.kind != "year"]
    if figs and (m := _OF_MEASURE.match(passage, figs[0].end, end)) and METRIC_NOUN.search(m.group(1).lower()):
        # "... the increase in revenue and lower operating expenses including $42 million of lower
        # amortization costs": a figure "of" a measure is that measure's, whatever came before
        own = set(stems_of(m.group(1)))
        return frozenset(i for i, q in enumerate(query.metrics) if q & own)
    # "RMB 70.9 billion of operating cash flow": a measure just after the figure, but not
    # past the next figure, which the words after it belong to
    head_end = min(end, figs[0].end + 45, figs[1].start if len(figs) > 1 else end) if figs else end
    stems = set(stems_of(passage[start:head_end])) | prev
    return frozenset(i for i, m in enumerate(query.metrics) if m & stems)


def later_metrics(query: Query, passage: str, start: int, end: int) -> frozenset[int]:
    """The measures asked that label a figure of the sentence after its first: each figure's
    label is the words since the figure before it, and those just after it up to the next."""
    figs = [f for f in figures(passage, start, end) if f.kind != "year"]
    stems: set[str] = set()
    for i in range(1, len(figs)):
        label_end = min(end, figs[i].end + 45, figs[i + 1].start if i + 1 < len(figs) else end)
        stems |= set(stems_of(passage[figs[i - 1].end:label_end]))
    return frozenset(i for i, m in enumerate(query.metrics) if m & stems)


def row_label_fit(frame: Frame, s: SentenceContext, first_fig: int) -> float:
    """A row's label says what its figures are: "Revenues" answers "revenues" better than "Sales
    by Company-operated restaurants" does; "Other revenues" is not "revenues", "Total revenues" is."""
    if not (s.row and frame.query.wants_figure):
        return 0.0
    label = s.p.chunk.text[s.unit.start:s.unit.start + first_fig]
    if frame.query.items and item_stems(label.strip(" $"), frame.query.items):
        return 1.0  # another name of the line item asked: "Repurchase of common stock" for "buybacks"
    # a label's parentheses gloss it or mark a note: "Economic profit (1) (Adjusted after tax profit
    # less capital charge)" is labelled "Economic profit"
    head = re.sub(r"\([^()]*\)", " ", label)
    label_stems = [stem(w) for w in words(head if re.search(r"[A-Za-z]", head) else label)
                   if w not in LABEL_NEUTRAL and w.isalpha()]
    if label_stems and any(k & set(label_stems) for k in s.p.keys):
        return sum(1 for x in label_stems if x in frame.asked) / len(label_stems)
    return 0.0


# a clause naming the subject's parts: "Subscription revenue, which combines our Collaboration Cloud and
# Security & Identity segments, was $1.93 billion" gives subscription revenue, not either segment's
_PARTS_CLAUSE = re.compile(r",\s*(?:which|that)\s+(?:combines?|includes?|comprises?|consists\s+of|is\s+made\s+up\s+of|"
                           r"encompasses|spans|brings\s+together)\b[^,.;]*,", re.I)


def subject_stems(frame: Frame, s: SentenceContext) -> set[str]:
    """The sentence's stems, less a cause clause that explains its figure, when a figure or a cause
    is asked: "Reported EBIT increased 23%, driven by gross margin expansion" is about EBIT; what
    it gives of gross margin is a cause, not its figure or what drove it. The cause runs to the
    next clause. Less, too, a clause naming the subject's parts before its figure (parts_not_subject)."""
    query = frame.query
    text, own = s.text, s.own
    if query.wants_figure and frame.on("parts_not_subject") and (m := _PARTS_CLAUSE.search(text)) and \
            re.search(r"\d", text[m.end():]):
        text = text[:m.start()] + " " + text[m.end():]
        own = set(stems_of(text))
    cause = CAUSAL.search(text) if (query.wants_figure or query.causal) and frame.on("cause_not_subject") else None
    if not cause or (query.wants_figure and not re.search(r"\d", text[:cause.start()])):
        return own  # a cause given before any figure ("products, driven by X, delivered $341 million") names the subject
    # (asked why, the cause clause is never the subject: "The decrease was primarily due to lower gross
    # margin" does not say why the gross margin fell)
    after = CLAUSE.search(text, cause.end())
    return set(stems_of(text[:cause.start()] + " " + (text[after.end():] if after else "")))


def title_phrase(frame: Frame, s: SentenceContext) -> float:
    """Who-questions: the share of the title's adjacent word pairs found in order."""
    if not frame.bigrams:
        return 0.0
    seq = stems_of(s.text)
    pairs = set(zip(seq, seq[1:]))
    return sum(1 for a, b in frame.bigrams if any((x, y) in pairs for x in a for y in b)) / len(frame.bigrams)


def _coverages(frame: Frame, s: SentenceContext, sent_stems: set[str]) -> tuple[float, frozenset[str], set[str]]:
    """The sentence's coverage (leaning on the sentence before), the terms it matches itself, and
    the window of earlier sentences its subject may be in (empty unless it opens with a pronoun)."""
    query = frame.query
    cov, matched = coverage(query, sent_stems)
    if frame.on("leans_on_previous"):
        # "These transactions will...", "It has...": the subject is in the sentence before;
        # the sentence before counts less, unless this one points back to it
        factor = 0.9 if s.anaphoric else 0.75
        cov_w, _ = coverage(query, sent_stems | s.before)
        cov = max(cov, factor * cov_w)  # `matched` stays this sentence's own
    return cov, matched, s.before if s.anaphoric else set()


def _missing_names(frame: Frame, s: SentenceContext, sent_stems: set[str], window: set[str]) -> int:
    """Names asked (a company, a segment) that neither the sentence, the one before, its
    paragraph's previous sentence, the file name nor (for a row) its table's caption names."""
    query = frame.query
    if not (query.entities and query.wants_figure):
        return 0
    around = sent_stems | window | s.prev_names | s.p.file_stems | (row_window(frame, s) if s.row else set())
    return sum(1 for ent in query.entities if not ent & around)


def row_window(frame: Frame, s: SentenceContext) -> set[str]:
    """What a table row's subject and measure may be named by: its label's parents, caption and the
    table's lines that are not rows (read as facts), else anywhere in its chunk. Not the other
    rows: "United States 11,281" below "Net operating revenues 33,014" is not the total's."""
    row = s.fact
    if row is None:
        return s.p.chunk_stems
    return set(stems_of(" ".join(row.path + (row.caption,)))) | s.p.context_stems | s.p.table_stems | \
        item_stems(row.label, frame.query.items)


def evaluate(frame: Frame, s: SentenceContext) -> Candidate:
    """The candidate a sentence makes: its features, the rules applied to them, and its score."""
    query, p, u = frame.query, s.p, s.unit
    c = p.chunk
    sent_stems = subject_stems(frame, s) | p.context_stems
    if (row := s.fact) is not None:
        # a table row read as facts says what its parents say ("Net sales › Services") and what
        # its line item is also called ("Cost of sales" for "cost of goods sold")
        sent_stems = sent_stems | set(stems_of(" ".join(row.path))) | item_stems(row.label, query.items)
    cov, matched, window = _coverages(frame, s, sent_stems)
    missing_names = _missing_names(frame, s, sent_stems, window)
    name_penalty = 0.6 ** missing_names if frame.on("entity_missing") else 1.0
    cov *= name_penalty
    first_fig = first_figure_at(c.text, u.start, u.end) if query.wants_figure else 0
    label_fit = row_label_fit(frame, s, first_fig)
    if frame.on("period_in_header") and query.numbers and frame.period_terms and \
            (label_fit if s.row else set(query.numbers) <= years_in(s.text)):
        # a table names its periods in its header ("Q4 2022 vs. Q4 2021"), not in its rows, and
        # a sentence that names the year asked has its time frame
        cov = max(cov, coverage(query, sent_stems | frame.period_terms)[0] * name_penalty)
    fit = _fit(frame, s, window, missing_names, first_fig)
    cand = Candidate(p.hit, p.rank, u.start, u.end, cov, p.chunk_cov, matched, fit[0], fit[1])
    cand.features = {
        "coverage": cov, "answer_fit": fit[0], "title_phrase": title_phrase(frame, s), "rank": float(p.rank),
        "own_year_document": 1.0 if p.own_year else 0.0,
        "label_coverage": coverage(query, set(stems_of(s.text[:first_fig])))[0] if query.wants_figure else 0.0,
        "row_label_fit": label_fit,
    }
    cand.score = score(frame, s, cand)
    return cand


def _foreign_subject(frame: Frame, s: SentenceContext, first_fig: int) -> str | None:
    """A name in the words before the sentence's first figure that neither the question nor the
    document's title or file name uses: the figure is that one's ("Revenue from AIDC grew 32%"
    for "Alibaba's revenue"). The sentence's first word and calendar or title words are no names."""
    label = s.text[:first_fig]
    own = set(stems_of(f"{s.p.chunk.title} {s.p.file_name}")) | frame.asked
    for m in NAME_RUN.finditer(label):
        # the run's capitalised words ("of", "and" join them), less the sentence's opening word
        run = re.findall(r"\b(?:[A-Z][\w&'-]*|[a-z]+[A-Z][\w&'-]*)", m.group(0))[1 if m.start() == 0 else 0:]
        run = [w for w in run if w not in NOT_NAME_WORDS]
        if run and not any(set(stems_of(w)) & own for w in run):
            return m.group(0)
    return None


_MOVED_ASKED = re.compile(r"\b(?:impacts?|effects?|headwinds?|tailwinds?)\b", re.I)  # "the FX impact on gross margin"


def _fit(frame: Frame, s: SentenceContext, window: set[str], missing_names: int,
         first_fig: int = 0) -> tuple[float, frozenset[int]]:
    """answer_fit with the rules on the figure's period, measure and company; and the measures
    the sentence's figure is of."""
    query, c, u = frame.query, s.p.chunk, s.unit
    fit = answer_fit(query, s.p.hit, c.text, u.start, u.end)
    if s.row and query.intent == "count" and (what := counted(query)) and not _heads_label(s.text, what) and \
            not any(counts_near(s.text, f, what) for f in figures(s.text, 0, len(s.text)) if f.kind != "year"):
        fit = min(fit, 0.3)  # a row whose label counts something else ("Stock issued to employees ... 307")
    if s.row:
        # a table row's measure and subject are in its label's parents and caption (read as
        # facts), else somewhere in its chunk; not in the other rows' labels
        window = window | row_window(frame, s)
    owned = owned_metrics(query, c.text, u.start, u.end, window)
    if query.intent == "count" and (what := counted(query)) and any(
            counts_near(c.text, f, what, start=u.start, end=u.end) for f in figures(c.text, u.start, u.end)
            if f.kind == "number"):
        # "employed approximately 57,000 people" gives the headcount asked: what is counted, beside
        # its figure in any of its words, is the measure
        owned |= {i for i, m in enumerate(query.metrics) if m & what}
    if frame.on("measure_missing") and query.metrics and query.wants_figure:
        # revenue is not GMV: the figure must be the figure of a measure asked for
        missing = len(query.metrics) - len(owned) if not query.multi else (0 if owned else 1)
        later = len(later_metrics(query, c.text, u.start, u.end) - owned) if missing and not query.multi else 0
        # a measure named at a later figure of the sentence ("318 stores ..., and members grew to
        # 14.2 million") counts, less than at its first: once, however many measures that figure is of
        # ("$500 of senior notes ..., recorded a loss on the early extinguishment of debt of $13")
        fit *= 0.3 ** (missing - later) * (0.7 if later else 1.0)
    if frame.on("entity_missing") and query.entities and query.wants_figure:
        fit *= 0.3 ** missing_names
    if frame.on("qualifier_missing") and query.qualifiers and query.wants_figure and not query.multi:
        # "daily active users" asked, "monthly active users reached 48 million" said: another measure
        # (a table row's qualifier is in its own label or the table's caption, not in other rows)
        around = s.own | window | s.p.context_stems | s.p.file_stems | (s.p.table_stems if s.row else set())
        fit *= 0.4 ** sum(1 for q in query.qualifiers if not q & around)
    if frame.on("second_ask_missing") and query.second_ask in ("amount", "count") and query.intent != query.second_ask:
        # "How many shares..., and for how much?": a figure of the second kind must be there too;
        # a row of share counts answers half
        want = "money" if query.second_ask == "amount" else "number"
        if not any(f.kind == want for f in figures(c.text, u.start, u.end)):
            fit *= 0.7
    # a sentence that also names the company or segment asked ("Sun Art for USD 1.6 billion and
    # Intime for USD 1 billion") gives its figure too: another subject beside it is no other's sentence
    own_doc = s.p.file_stems | s.p.context_stems  # the document's own name is no subject of a sentence
    subjects = [ent for ent in query.entities if not ent & own_doc]
    names_asked = bool(subjects) and all(ent & s.own for ent in subjects)
    if frame.on("other_subject") and query.wants_figure and not s.row and not names_asked and \
            _foreign_subject(frame, s, first_fig):
        fit *= 0.5  # "Revenue from AIDC grew 32% to RMB 37.8 billion" is not Alibaba's revenue
    return fit, owned


def score(frame: Frame, s: SentenceContext, cand: Candidate) -> float:
    """The weighted sum of the features (those switched off count 0)."""
    total = 0.0
    for name, w in (frame.weights or WEIGHTS).items():
        if frame.on(name):
            total += w * cand.features[name]
    return total
