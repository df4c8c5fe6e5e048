"""`make fit`: fit the extractive answerer's feature weights, and the runner-up margin that
depends on their scale, from the eval sets marked `fitted_on` (alibaba, filings), never from the
sets that only check (filings-holdout, analyst-filings, calls, failures).

Each question's candidates are scored as the answerer scores them; a candidate is positive when
the answer composed from it alone meets the question's `expect`. A pairwise logistic regression
learns weights under which, within each question, positives outrank negatives: the difference of
a positive's and a negative's features is one example, each question weighing the same, and the
weights are pulled toward the hand-set ones (a prior) rather than toward zero. The regularisation and the runner-up margin are chosen by 5-fold cross-validation over
questions; the weights are then refitted on all of them, scaled to the hand-set weights' L1 norm
(the answerer's rules compare scores by ratio, so only their direction matters), and written to
rag/extractive/weights.json with the figures of the fit. Deterministic: the same sets give the
same file.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evals.run import eval_engine, groups_met, load_items
from evals.sets import all_sets
from rag.extractive import select
from rag.extractive.compose import compose
from rag.extractive.context import Frame
from rag.extractive.features import HAND_WEIGHTS, WEIGHTS_FILE, Candidate
from rag.settings import Settings

FOLDS = 5
C_GRID = (0.1, 1.0, 10.0, 100.0)
RUNNER_UP_GRID = (0.8, 0.85, 0.9, 0.95, 1.0)


@dataclass
class Question:
    key: str
    query: object
    cands: list[Candidate]
    labels: list[bool]
    answerable: bool


def collect(set_names: list[str] | None = None) -> list[Question]:
    """Every question of the fitted sets, with its candidates and their labels."""
    out = []
    for es in all_sets():
        if not es.fitted_on or (set_names and es.name not in set_names):
            continue
        engine, _ = eval_engine(list(es.corpora), Settings.load())
        answerer = engine.answerer("extractive")
        for it in load_items(es.questions):
            chat = engine.chat()
            for turn in it.turns[:-1]:
                chat.ask(turn)
            _, _, query, hits = engine._prepare(it.turns[-1], [q for q, _ in chat.turns], None, "extractive")
            cands, _ = answerer.candidates(Frame.of(query, weights=HAND_WEIGHTS), hits)
            labels = []
            for c in cands:
                ans = None if it.unanswerable else compose(query, [c])
                labels.append(bool(ans and groups_met(ans.text, it.expect)))
            out.append(Question(f"{es.name}:{it.id}", query, cands, labels, not it.unanswerable))
        print(f"  {es.name}: {len(load_items(es.questions))} questions", file=sys.stderr)
    return out


def matrix(cands: list[Candidate], names: list[str]) -> np.ndarray:
    return np.array([[c.features[n] for n in names] for c in cands], dtype=float).reshape(len(cands), len(names))


def pairs(questions: list[Question], names: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise examples: positive minus negative (label 1) and its mirror (label 0), each
    question's pairs weighing 1 in all."""
    xs, ys, ws = [], [], []
    for q in questions:
        pos = [c for c, y in zip(q.cands, q.labels) if y]
        neg = [c for c, y in zip(q.cands, q.labels) if not y]
        if not pos or not neg:
            continue
        d = (matrix(pos, names)[:, None, :] - matrix(neg, names)[None, :, :]).reshape(-1, len(names))
        w = np.full(len(d), 1.0 / len(d))
        xs += [d, -d]
        ys += [np.ones(len(d)), np.zeros(len(d))]
        ws += [w, w]
    return np.vstack(xs), np.concatenate(ys), np.concatenate(ws)


def fit_weights(questions: list[Question], names: list[str], c: float) -> np.ndarray:
    """Pairwise logistic regression whose L2 penalty pulls toward the hand-set weights rather than
    toward zero: a feature the data never exercises (title_phrase: few questions ask for a person
    by a title of several words) keeps its prior weight instead of losing it. `c` is the inverse
    strength of that pull. (scikit-learn's LogisticRegression can only shrink toward zero, hence
    the loss written out and minimised with scipy.)"""
    from scipy.optimize import minimize
    from scipy.special import expit, log1p

    x, y, sw = pairs(questions, names)
    prior = np.array([HAND_WEIGHTS[n] for n in names])
    sign = 2 * y - 1  # +1 for positive-minus-negative, -1 for its mirror

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = sign * (x @ w)
        value = float(sw @ log1p(np.exp(-np.abs(z))) + sw @ np.maximum(-z, 0)) + ((w - prior) ** 2).sum() / (2 * c)
        grad = -(x.T @ (sw * sign * expit(-z))) + (w - prior) / c
        return value, grad

    return minimize(loss, prior.copy(), jac=True, method="L-BFGS-B").x


def rescore(q: Question, names: list[str], weights: np.ndarray) -> list[float]:
    """The candidates' scores under `weights`, as rag.extractive.features.score computes them."""
    return [float(x) for x in (matrix(q.cands, names) @ weights if q.cands else np.zeros(0))]


def outcome(q: Question, names: list[str], weights: np.ndarray, runner_up: float) -> str:
    """right, wrong or abstained: what the answerer's selection makes of the question under
    these weights (its first sentence decides; the second only adds)."""
    scores = rescore(q, names, weights)
    order = sorted(range(len(q.cands)), key=lambda i: -scores[i])
    for i in order:
        if scores[i] < runner_up * scores[order[0]]:
            break
        if select.answers(q.query, q.cands[i]) is None:
            if not q.answerable:
                return "wrong"
            return "right" if q.labels[i] else "wrong"
    return "right" if not q.answerable else "abstained"


def tally(questions: list[Question], names: list[str], weights: np.ndarray, runner_up: float) -> dict:
    got = [outcome(q, names, weights, runner_up) for q in questions]
    return {k: got.count(k) for k in ("right", "wrong", "abstained")} | {"n": len(got)}


def utility(t: dict) -> float:
    """Right answers, less two for each wrong one: a wrong figure costs more than an abstention."""
    return t["right"] - 2 * t["wrong"]


def cross_validate(questions: list[Question], names: list[str]) -> tuple[float, float, list[dict]]:
    """The regularisation and runner-up margin with the best held-out utility, over 5 folds of
    questions (a fixed shuffle)."""
    idx = list(range(len(questions)))
    random.Random(0).shuffle(idx)
    folds = [idx[i::FOLDS] for i in range(FOLDS)]
    table = []
    for c in C_GRID:
        fold_w = []
        for f in folds:
            train = [questions[i] for i in idx if i not in f]
            fold_w.append((f, fit_weights(train, names, c)))
        for r in RUNNER_UP_GRID:
            total = {"right": 0, "wrong": 0, "abstained": 0, "n": 0}
            for f, w in fold_w:
                t = tally([questions[i] for i in f], names, w, r)
                total = {k: total[k] + t[k] for k in total}
            table.append({"C": c, "runner_up": r, **total, "utility": utility(total)})
    best = max(table, key=lambda row: (row["utility"], row["right"], -row["C"], row["runner_up"] == select.RUNNER_UP))
    return best["C"], best["runner_up"], table


def report(fitted: dict[str, float], path: Path) -> None:
    """reports/fit.md: every eval set answered with the hand-set and with the fitted weights, the
    sets fitted on beside those that only check (both with the runner-up margin read at start)."""
    from evals.ablate import run_set

    lines = ["# Hand-set and fitted weights, side by side", "",
             "| set | role | hand-set: right / wrong / abstained | fitted: right / wrong / abstained |",
             "|---|---|---|---|"]
    for es in all_sets():
        cells = []
        for weights in (HAND_WEIGHTS, fitted):
            got = list(run_set(es, weights=weights).values())
            cells.append(f"{got.count('right')} / {got.count('wrong')} / {got.count('abstained')} of {len(got)}")
        lines.append(f"| {es.name} | {'fitted on' if es.fitted_on else 'checked on'} | {cells[0]} | {cells[1]} |")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Fit the extractive answerer's weights (writes rag/extractive/weights.json)")
    ap.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    args = ap.parse_args(argv)
    names = list(HAND_WEIGHTS)
    questions = collect()
    c, runner_up, table = cross_validate(questions, names)
    w = fit_weights(questions, names, c)
    w = w * (sum(abs(v) for v in HAND_WEIGHTS.values()) / (np.abs(w).sum() or 1.0))
    hand = np.array([HAND_WEIGHTS[n] for n in names])
    cv_hand = {"C": None, "runner_up": select.RUNNER_UP, **tally(questions, names, hand, select.RUNNER_UP)}
    result = {
        "weights": {n: round(float(v), 6) for n, v in zip(names, w)},
        "runner_up": runner_up,
        "fit": {"sets": sorted({q.key.split(":")[0] for q in questions}), "questions": len(questions),
                "C": c, "cross_validation": [r for r in table if r["C"] == c],
                "hand_weights_on_all": cv_hand,
                "fitted_weights_on_all": tally(questions, names, w, runner_up),
                "command": "make fit"},
    }
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    report(result["weights"], Path("reports/fit.md"))
    best = next(r for r in table if r["C"] == c and r["runner_up"] == runner_up)
    print(f"C={c} runner_up={runner_up}; held-out (5-fold): {best['right']} right, {best['wrong']} wrong, "
          f"{best['abstained']} abstained of {best['n']}; hand weights (in-sample): {cv_hand}")
    print(json.dumps(result["weights"], indent=1))
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
