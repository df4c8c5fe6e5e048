"""The extractive answerer: quotes the sentence or two that answer the question and leads with
the figure, name or date asked for. Offline, deterministic, no model beyond the embedder that
retrieval already used.

Its stages, one module each: `vocab` (word lists), `context` (the question's, passage's and
sentence's contexts, built once), `filters` (named predicates that rule a sentence out, with a
reason), `features` (named features, their weights and the rules that adjust them), `select`
(whether the best answers, and a second sentence), `compose` (the lead, the quotes, the
grounding check); `tables` reads text tables. A figure to compute or a ranking is handed to
rag/compute.py and rag/compare.py (the `computed_metric` and `ranked_members` rules), whose
arithmetic is shown and checked. What it deliberately does not do: paraphrase, or reason across
documents; for that, use a generative answerer (rag/generate.py, whose numbers are checked the
same way).
"""

from __future__ import annotations

import dataclasses
import re

from rag import compare, compute
from rag.answerers import abstain
from rag.cite import Answer
from rag.extractive import select
from rag.extractive.compose import ambiguous_answer, compose, quoted_answer
from rag.extractive.context import Frame, PassageContext, sentence_contexts
from rag.extractive.features import Candidate, evaluate
from rag.extractive.figures import figures
from rag.extractive.filters import PASSAGE_FILTERS, rejects
from rag.extractive.terms import coverage
from rag.extractive.vocab import ASKER_ORDINAL, ORDINALS
from rag.question import Query
from rag.retrieve import Hit
from rag.text import split_units

EXPLAIN_TOP = 5


# what a sentence that answers a ranking says: "our fastest-growing segment", "the largest region"
_RANKS = re.compile(r"\b(?:fastest|slowest|quickest|highest|lowest|largest|smallest|biggest|most|least|strongest|"
                    r"weakest|best|worst|leading|led|top)\b", re.I)


def _ranks(c: Candidate) -> bool:
    """Whether a sentence could answer a ranking: it ranks ("our fastest-growing segment") or gives
    a figure that is not a year ("Sam's Club net sales increased 14.7%"). A table row read as facts
    does not: it is one line's figures ("Net revenue $ 14,042 $ 20,528"), which no ranking names."""
    at = c.hit.chunk.start + c.start
    if any(r.start <= at < r.end for r in c.hit.rows or ()):
        return False
    text = c.hit.chunk.text
    return bool(_RANKS.search(text, c.start, c.end)) or any(f.kind != "year" for f in figures(text, c.start, c.end))


class ExtractiveAnswerer:
    """Quotes the best sentence (and a second where it adds what the first lacks) and leads with
    the short answer. Abstains when no sentence covers the question well enough. `off` names
    features, filters or rules switched off (`rag eval --ablate`)."""

    name = "extractive"

    def __init__(self, off: frozenset[str] | set[str] = frozenset(), weights: dict[str, float] | None = None) -> None:
        self.off = frozenset(off)
        self.weights = weights  # other feature weights than the fitted ones (the hand-set, to compare)

    def answer(self, query: Query, hits: list[Hit], explain: bool = False) -> Answer:
        frame = Frame.of(query, self.off, self.weights)
        if frame.on("asker_by_order") and (ans := by_order(query, hits)) is not None:
            if explain:
                ans = dataclasses.replace(ans, explain={"candidates": [], "filtered": [],
                                                        "decision": "asker_by_order: the call's question turns in order"})
            return ans
        if frame.on("computed_figure") and (why := select.computed_figure(query)):
            ans = compute.answer(query, hits) if frame.on("computed_metric") else None
            if ans is None:
                ans, decision = abstain(query.text), f"abstained: {why}"
            elif ans.computation:
                decision = f"computed_metric: {ans.computation['metric']} = {ans.computation['formula']}"
            else:
                decision = f"abstained: {ans.text}"
            return dataclasses.replace(ans, explain=_explain([], [], decision)) if explain else ans
        if frame.on("ranked_members") and (ranked := compare.answer(query, hits)) is not None:
            # "which segment grew fastest": the rows of the table that breaks the measure down, ranked
            why = f"ranked_members: {ranked.computation['formula']}"
            return dataclasses.replace(ranked, explain=_explain([], [], why)) if explain else ranked
        if frame.on("computed_metric") and (p := compute.plan(query)) is not None and \
                p.verdict in ("up", "down", "positive", "negative", "covers", "exceeds", "versus") \
                and isinstance(p.formula, compute.Op) and (computed := compute.answer(query, hits)) is not None \
                and computed.computation:
            # "did the gross margin improve", "positive working capital?": a metric's change or sign
            # computed from the statements, before any sentence that mentions a margin improving
            # (another one, another year) or words of the metric (a header holding "Capital")
            why = f"computed_metric: {computed.computation['metric']} = {computed.computation['formula']}"
            return dataclasses.replace(computed, explain=_explain([], [], why)) if explain else computed
        cands, rejected = self.candidates(frame, hits, explain)
        cands.sort(key=lambda c: -c.score)
        best, why = select.pick_best(query, cands)
        ans = None
        if best is not None and frame.on("ambiguous_figure") and (readings := select.ambiguity(query, best)):
            ans = ambiguous_answer(query, readings)
            if explain:
                ans = dataclasses.replace(ans, explain=_explain(cands, rejected, "abstained: more than one period "
                                                                 "could be meant; listed"))
            return ans
        if best is not None:
            chosen = [best]
            second = select.second(query, best, cands)
            if second is not None:
                chosen.append(second)
            ans = compose(query, chosen)
            if ans is None:
                why = "abstained: no figure of the answer is in its quote"
            elif frame.on("ranked_members") and compare.asks_ranking(query) and not any(_ranks(c) for c in chosen):
                # "which segment grew fastest", no table ranked: sentences that neither rank nor give a
                # member's figure ("we modified our segment reporting in 2022") are no answer
                ans, why = None, "abstained: a ranking is asked, no table ranks, no passage ranks or gives a figure"
        if ans is not None and frame.on("unnamed_metric_quote") and (computed := _metric_over_quote(query, hits, chosen)):
            # "What was Acme's current ratio in FY2024?" quoted by a sentence or row that does not
            # name the metric ("Total current assets 350 280"): the metric computed from the statements
            ans, why = computed, (f"computed_metric: {computed.computation['metric']} = {computed.computation['formula']}"
                                  if computed.computation else "abstained: the quote does not name the metric asked, "
                                  "and it cannot be computed") + " (the quote does not name it)"
        if ans is None and frame.on("computed_metric") and not compare.asks_ranking(query) and \
                (computed := compute.answer(query, hits)) is not None and computed.computation:
            # no passage states it; a metric the question names is computed from the statements (not
            # for "which segment grew fastest": one total's growth names no segment)
            ans, why = computed, f"computed_metric: {computed.computation['metric']} = {computed.computation['formula']}"
        ans = ans or abstain(query.text)
        if explain:
            ans = dataclasses.replace(ans, explain=_explain(cands, rejected, why))
        return ans

    def candidates(self, frame: Frame, hits: list[Hit], explain: bool = False) -> tuple[list[Candidate], list[dict]]:
        """Every sentence of every passage that no filter rules out, scored; and (when asked to
        explain) those ruled out, with the filter and its reason."""
        out: list[Candidate] = []
        rejected: list[dict] = []
        for rank, hit in enumerate(hits):
            p = PassageContext.of(frame, hit, rank)
            reason = next(((n, r) for n, f in PASSAGE_FILTERS.items() if frame.on(n) and (r := f(frame, p))), None)
            if reason:
                if explain:
                    rejected.append(_rejected(frame, hit, 0, len(hit.chunk.text), reason))
                continue
            for s in sentence_contexts(p):
                if reason := rejects(frame, s):
                    if explain:
                        rejected.append(_rejected(frame, hit, s.unit.start, s.unit.end, reason, s.own))
                    continue
                out.append(evaluate(frame, s))
        return out, rejected


def _metric_over_quote(query: Query, hits: list[Hit], chosen: list[Candidate]) -> Answer | None:
    """The computed answer, when the question asks a library metric's level for one period and the
    quote chosen does not name it: no words of the metric's names, in the sentence or in a quoted
    row's label, headings and caption ("Total current assets 350 280" for "the current ratio",
    "Gross margin 46.0 %" for "the operating margin"); an abstention saying what is missing when
    the metric cannot be computed either. None when the quote names the metric."""
    from rag.extractive.tables import fact_row
    from rag.text import content_words, is_table_row, stem

    p = compute.plan(query)
    named = compute.metric_named(query.framing.question) if query.framing else None
    if p is None or named is None or p.defined or p.mode != "level" or p.verdict or p.share or \
            compare.asks_ranking(query):
        return None
    def stems(text: str) -> str:
        return " " + " ".join(stem(w) for w in content_words(text)) + " "

    names = [stems(n) for n in (named.name, *named.names)]
    for c in chosen:
        text = c.hit.chunk.text[c.start:c.end]
        row = fact_row(c.hit, c.start, c.end)
        heading = _heading_above(c) if row is None and is_table_row(text) else ""
        if row is not None and named.result != "amount" and row.unit == "USD":
            continue  # an amount for a rate ("Total Operating Margin $ 10,926", "Average total assets $ 244,029"
            # under "CALCULATION OF RETURN ON ASSETS"): not the metric, whatever its label or headings say
        said = " ".join([text, heading, *(row.path if row else ()), row.caption if row else ""])
        own = stems(said)
        if any(n.strip() and n in own for n in names):  # the name's words in its order: "operating margin"
            return None
    computed = compute.answer(query, hits)
    # not computed either (an operand missing): the quote of another measure is no answer; the
    # abstention says which figure is missing
    return computed if computed is not None else abstain(query.text)


def _heading_above(c: Candidate) -> str:
    """A table row not read as facts: the nearest line above it in its passage that holds no
    figure but years, its heading ("Gross margin percentage:" over "Services 70.8 % 71.7 %")."""
    text = c.hit.chunk.text
    for line in reversed(text[:c.start].rstrip("\n").split("\n")[-6:]):
        if line.strip() and not any(f.kind != "year" for f in figures(line, 0, len(line))):
            return line
    return ""


def by_order(query: Query, hits: list[Hit]) -> Answer | None:
    """"Who asked the first (second, last) question?": the call's questioners in order, from the
    transcript's structure (the turns the engine retrieves for it) rather than from word overlap.
    None when that does not apply."""
    m = ASKER_ORDINAL.search(query.text)
    if query.intent != "asker" or not m:
        return None
    chunks = sorted({h.chunk.id: h.chunk for h in hits if h.chunk.analyst}.values(), key=lambda c: (c.source, c.index))
    if len({c.source for c in chunks}) != 1:
        return None
    turns = [c for i, c in enumerate(chunks) if i == 0 or chunks[i - 1].analyst != c.analyst]
    word = m.group(1).lower()
    i = -1 if word in ("last", "final") else ORDINALS.index(word)
    if i >= len(turns):
        return None
    chunk = turns[i]
    unit = next((u for u in split_units(chunk.text) if u.kind != "heading"), None)
    if unit is None:
        return None
    return quoted_answer(query.text, chunk, unit.start, unit.end, f"{chunk.analyst} [1].", 1.0)


def _rejected(frame: Frame, hit: Hit, start: int, end: int, reason: tuple[str, str], stems=None) -> dict:
    quote = " ".join(hit.chunk.text[start:end].split())
    cov = coverage(frame.query, stems)[0] if stems is not None else 0.0
    return {"quote": quote[:300], "source": hit.chunk.source, "page": hit.chunk.page,
            "filter": reason[0], "reason": reason[1], "coverage": round(cov, 4)}


def _explain(cands: list[Candidate], rejected: list[dict], why: str) -> dict:
    """The top candidates with each feature's value and their score, the top filtered out (by
    their coverage of the question), and why the answerer answered or abstained."""
    top = [{"quote": " ".join(c.hit.chunk.text[c.start:c.end].split())[:300], "source": c.hit.chunk.source,
            "page": c.hit.chunk.page, "features": {k: round(v, 4) for k, v in c.features.items()},
            "score": round(c.score, 4)} for c in cands[:EXPLAIN_TOP]]
    filtered = sorted(rejected, key=lambda r: -r["coverage"])[:EXPLAIN_TOP]
    return {"candidates": top, "filtered": filtered, "decision": why}


def format_explain(explain: dict) -> str:
    """The explanation as text: the decision, then the candidates with their features, then the
    sentences filtered out."""
    lines = [f"Explain: {explain['decision']}", "Candidates (score: features):"]
    for c in explain["candidates"]:
        feats = ", ".join(f"{k} {v:g}" for k, v in c["features"].items() if v)
        lines += [f"  {c['score']:.3f}  {c['quote'][:120]}", f"         [{c['source']}, p. {c['page']}] {feats}"]
    if explain["filtered"]:
        lines.append("Filtered out:")
        lines += [f"  {r['filter']}: {r['reason']}: {r['quote'][:100]}" for r in explain["filtered"]]
    return "\n".join(lines)
