"""Selection: whether the best candidate answers at all, and the second sentence that adds what
the first lacks."""

from __future__ import annotations

import re

from rag import compute
from rag.extractive.features import FITTED_RUNNER_UP, Candidate
from rag.extractive.figures import first_figure_at
from rag.extractive.vocab import ANAPHOR, CAUSAL
from rag.question import Query
from rag.text import is_table_row

# Thresholds on the scale of the features (`make fit` refits those that depend on the weights)
MIN_COVERAGE = 0.4  # share of the question's (IDF-weighted) terms the evidence must contain
MIN_SENTENCE_COVERAGE = 0.4  # ... and the sentence holding a figure, date or name
MIN_FIT = 0.5  # a figure or date question: how well the sentence must hold the kind of answer
# how close to the best sentence's score another must be to answer in its place (fitted by `make fit`)
RUNNER_UP = FITTED_RUNNER_UP or 0.85
SECOND_GAIN = 0.12  # what a second sentence must add to be quoted too


def answers(query: Query, best: Candidate, min_coverage: float = MIN_COVERAGE,
            min_sentence_coverage: float = MIN_SENTENCE_COVERAGE) -> str | None:
    """Why `best` does not answer the question (None when it does)."""
    if query.unknown_names:
        return f"no document names {', '.join(query.unknown_names)}"
    coverage = 0.7 * best.sent_cov + 0.3 * best.chunk_cov
    if coverage < min_coverage and not _row_of_item_asked(query, best):
        return f"it covers {coverage:.2f} of the question's terms (minimum {min_coverage})"
    if query.wants_figure or query.intent in ("date", "person"):
        # the figure (date, name) must sit in a sentence about the question, not merely in its passage
        if best.fit < MIN_FIT:
            return f"it does not hold the kind of answer asked (fit {best.fit:.2f})"
        if best.sent_cov < min_sentence_coverage and not _row_of_item_asked(query, best):
            return f"the sentence itself covers {best.sent_cov:.2f} of the question (minimum {min_sentence_coverage})"
    return None


def _row_of_item_asked(query: Query, c: Candidate) -> bool:
    """A table row labelled with a name of the line item a figure question asks ("Inventories" for
    "What inventory balance did Apple carry ...?"), holding a figure for the period asked (a row
    without one is filtered before): it answers however many other words the question has."""
    from rag.facts import item_stems

    if not (query.wants_figure and query.items and c.features.get("row_label_fit") == 1.0):
        return False
    text = c.hit.chunk.text[c.start:c.end]
    return bool(item_stems(text[:first_figure_at(text, 0, len(text))].strip(" $"), query.items))


def pick_best(query: Query, cands: list[Candidate], runner_up: float = RUNNER_UP, **limits) -> tuple[Candidate | None, str]:
    """The answering candidate: the best, or a close runner-up that holds the figure asked when the
    best lacks it ("the computations of diluted EPS excluded..." vs "Diluted EPS $ 3.75"); with
    why the best (or, when none answers, the best) was chosen or refused."""
    if not cands:
        return None, "no candidate sentence"
    for c in cands:
        if c.score < runner_up * cands[0].score:
            break
        if answers(query, c, **limits) is None:
            return c, "the best candidate answers" if c is cands[0] else "a close runner-up holds what is asked"
    return None, f"abstained: {answers(query, cands[0], **limits)}"


def _overlaps(best: Candidate, c: Candidate) -> bool:
    return c.hit.chunk.source == best.hit.chunk.source and c.hit.chunk.page == best.hit.chunk.page and \
        c.hit.chunk.start + c.start < best.hit.chunk.start + best.end and \
        best.hit.chunk.start + best.start < c.hit.chunk.start + c.end


def _next_sentence(best: Candidate, cands: list[Candidate], min_ratio: float, anaphoric: bool) -> Candidate | None:
    """The sentence right after `best` in its passage, when it is as much on topic."""
    nxt = [c for c in cands if c is not best and not _overlaps(best, c) and c.hit.chunk.id == best.hit.chunk.id
           and 0 <= c.start - best.end < 3 and c.score >= min_ratio * best.score
           and (not anaphoric or ANAPHOR.match(c.hit.chunk.text[c.start:c.end]))]
    return nxt[0] if nxt else None


def _gain(query: Query, best: Candidate, c: Candidate, missing: set[str]) -> float:
    """What candidate `c` adds to `best`: the question's terms it covers that best lacks, a
    measure's figure for a several-measure question, the reason for a why-question."""
    gain = sum(t.weight for t in query.terms if t.word in (c.matched & missing)) / query.total_weight
    near = c.hit.chunk.id == best.hit.chunk.id and min(abs(c.start - best.end), abs(best.start - c.end)) < 200
    if query.multi and query.wants_figure and c.fit >= 1.0 and c.sent_cov >= 0.5 * best.sent_cov:
        # "revenue and EBITDA": the figure of a measure the first sentence lacks
        gain += (0.3 if c.owned - best.owned else 0.0) + (0.1 if near else 0.0)
    if query.causal and near and c.start >= best.start and CAUSAL.search(c.hit.chunk.text, c.start, c.end):
        gain += 0.25  # "why": the sentence after the fact that gives its reason
    if near and gain > 0:
        gain += 0.08  # a neighbouring sentence reads as one answer
    return gain * (c.score / best.score if best.score > 0 else 0)


def second(query: Query, best: Candidate, cands: list[Candidate]) -> Candidate | None:
    """A second sentence when it covers question terms (or figures, for a multi-part question)
    that the first lacks."""
    if query.intent in ("describe", "place"):
        # "He was a Vice Chairman there...": the next sentence goes on about the same subject
        nxt = _next_sentence(best, cands, 0.8, anaphoric=True)
        if nxt:
            return nxt
    missing = {t.word for t in query.terms} - best.matched
    best_gain, pick = 0.0, None
    for c in cands:
        if c is best or _overlaps(best, c) or c.fit < 0.4:
            continue
        if query.wants_figure and not query.multi and is_table_row(c.hit.chunk.text[c.start:c.end]):
            continue  # another row is another figure: it adds a number, not context
        gain = _gain(query, best, c, missing)
        if gain > best_gain:
            best_gain, pick = gain, c
    if best_gain >= SECOND_GAIN:
        return pick
    if query.intent in ("describe", "place"):
        # a description reads on: the next sentence, when it is as much on topic
        return _next_sentence(best, cands, 0.85, anaphoric=False)
    return None


# a definition that is arithmetic: "X divided by Y", "X minus Y", "(A + B) / 2"
_COMPUTE = re.compile(r"\b(divided by|minus|plus|times|multiplied by|less|over|ratio of|average of|sum of)\b|[-+*/]\s*\(?\w",
                      re.I)


_VERDICT = re.compile(r"^\s*(?:is|are|was|were|does|do|did|has|have|had|can|could)\b", re.I)
# an instruction asking for the figure a verdict rests on: "Give the working capital figure",
# "Support your answer with capex as a percentage of net revenue"
_COMPUTE_ASK = re.compile(r"\b(?:give|provide|support|show|state|report|include)\b.*\b(?:figure|amount|percentage|"
                          r"ratio|margin|number|value|calculation)\b", re.I)


def computed_figure(query: Query) -> str | None:
    """Why the figure asked must be computed, not quoted: the question spells out its formula
    ("defined as gross profit divided by total revenue"), or asks a ratio or rate rounded to
    decimals the documents do not state ("round to two decimal places"). A passage that states a
    rounder figure of that name ("Effective tax rate 21 %") does not answer; computing it from
    cited figures is the metric library's work, not a quote's."""
    framing = query.framing
    if framing is None:
        return None
    if framing.definition and (query.wants_figure or _COMPUTE.search(framing.definition)):
        return f"the figure asked is computed ({framing.definition[:80]}), not stated"
    if framing.decimals and query.wants_ratio:
        return f"a ratio or rate to {framing.decimals} decimal places is computed, not stated"
    if framing.decimals is not None and (m := compute.metric_named(framing.question)) is not None:
        return f"{m.name} to {framing.decimals} decimal places is computed, not stated"
    if framing.decimals is not None and (p := compute.plan(query)) is not None and p.mode in ("growth", "change"):
        # "Give the year-over-year change as a percentage, two decimals": a "(7)%" in a table is rounder
        return f"the {p.mode} of {p.metric} to {framing.decimals} decimal places is computed, not stated"
    if compute.percent_between(query) and (p := compute.plan(query)) is not None and p.mode == "growth":
        # "By what percentage did total net sales change from fiscal 2022 to fiscal 2023?": the two
        # years' figures give it exactly; a change column's "(3) %" or a sentence's "decreased 3%" is rounder
        return f"the growth of {p.metric} between the two years named is computed, not stated"
    if framing.period is not None and (parts := compute.summed_items(framing.question, framing)):
        return f"the sum of {parts[0]} and {parts[1]} is computed, not stated"
    if framing.unit and _VERDICT.match(query.text) and _COMPUTE_ASK.search(" ".join(framing.instructions)):
        # "Does Apple have positive working capital? Give the working capital figure in USD
        # millions.": a verdict resting on a figure the answer must compute and show
        return f"a verdict resting on a computed figure (in {framing.unit}) is asked"
    return None


def ambiguity(query: Query, best: Candidate) -> list[tuple[Candidate, object, object]]:
    """What else could be meant, when the best answer is a table row read as facts: the columns of
    its row that fit the period asked equally but hold other spans ("2022" asked of "Three Months
    Ended December 31, 2022" and "Twelve Months Ended December 31, 2022"). [(candidate, row,
    cell)] of each reading when there are two or more; [] when one is meant. (Two rows scored
    alike are not taken for two readings: on the eval sets another row of the same table scores
    within 3% of the right one too often; see the note on issue 11.)"""
    from rag.extractive.tables import asked_stems, fact_row, period_cells

    if not query.wants_figure or query.multi:
        return []
    row = fact_row(best.hit, best.start, best.end, asked_stems(query))
    if row is None:
        return []
    cells = period_cells(query, row)
    if len({c.value for c in cells}) >= 2 and len({c.period.months for c in cells}) >= 2:
        return [(best, row, c) for c in cells]
    return []
