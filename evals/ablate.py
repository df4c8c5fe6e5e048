"""Ablation: switch extractive rules off and see what each is worth. `rag eval --ablate NAME[,NAME]`
prints the change on every eval set (or the one given); `make rules` (python -m evals.ablate)
writes reports/rules.md: every rule, with the answers it fixes and breaks on every set."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evals.run import MAX_CHARS, eval_engine, load_items, run_ours
from evals.sets import EvalSet, all_sets
from rag.settings import Settings


def run_set(es: EvalSet, off: frozenset[str] = frozenset(), settings: Settings | None = None,
            weights: dict[str, float] | None = None) -> dict[str, str]:
    """Each question's outcome (right, wrong or abstained), with the rules in `off` switched off
    (and other feature weights than the fitted ones, when given)."""
    engine, _ = eval_engine(list(es.corpora), settings or Settings.load(), off, weights)
    rows, _ = run_ours(load_items(es.questions), engine, "extractive", MAX_CHARS["extractive"], ranks=False)
    return {r["id"]: "right" if r["correct"] else "abstained" if r["abstained"] else "wrong" for r in rows}


# how much better one outcome is than another: a wrong answer is worse than an abstention
_RANK = {"wrong": 0, "abstained": 1, "right": 2}


def diff(base: dict[str, str], off: dict[str, str]) -> tuple[list[str], list[str]]:
    """(fixed, broken): the questions whose outcome switching the rules off makes better (an
    abstention or a wrong answer made right, a wrong answer made an abstention), and worse."""
    fixed = [i for i, o in off.items() if _RANK[o] > _RANK[base[i]]]
    broken = [i for i, o in off.items() if _RANK[o] < _RANK[base[i]]]
    return fixed, broken


def compare(off: frozenset[str], sets: list[EvalSet], out=sys.stdout) -> None:
    """The change on each set when the rules in `off` are switched off."""
    print(f"Ablation: {', '.join(sorted(off))} off", file=out)
    print("| set | with (right/wrong) | without (right/wrong) | better without | worse without |", file=out)
    print("|---|---|---|---|---|", file=out)
    for es in sets:
        base, ablated = run_set(es), run_set(es, off)
        fixed, broken = diff(base, ablated)
        print(f"| {es.name} | {_tally(base)} | {_tally(ablated)} | "
              f"{', '.join(fixed) or '-'} | {', '.join(broken) or '-'} |", file=out)


def _tally(outcomes: dict[str, str]) -> str:
    got = list(outcomes.values())
    return f"{got.count('right')}/{len(got)} right, {got.count('wrong')} wrong"


def rules_report(path: Path, sets: list[EvalSet]) -> str:
    """reports/rules.md: each rule, what switching it off fixes (it hurt) and breaks (it helped)
    on every set; rules that help no set are marked."""
    from rag.extractive.rules import all_rules

    bases = {es.name: run_set(es) for es in sets}
    lines = ["# What each rule of the extractive answerer is worth", "",
             "Each rule switched off alone (`rag eval --ablate NAME`). *helps*: questions whose outcome is better "
             "with it (right rather than wrong or abstained, or an abstention rather than a wrong answer); *hurts*: "
             "the reverse. Sets (right, wrong): " + ", ".join(f"{n} ({_tally(b)})" for n, b in bases.items()), "",
             "| rule | kind | helps | hurts | what it does |", "|---|---|---|---|---|"]
    for rule in all_rules().values():
        helps, hurts = [], []
        for es in sets:
            fixed, broken = diff(bases[es.name], run_set(es, frozenset({rule.name})))
            helps += [f"{es.name}:{i}" for i in broken]
            hurts += [f"{es.name}:{i}" for i in fixed]
        mark = "" if helps else " **(helps no set)**"
        lines.append(f"| {rule.name}{mark} | {rule.kind} | {len(helps)}: {' '.join(helps) or '-'} | "
                     f"{len(hurts)}: {' '.join(hurts) or '-'} | {rule.doc} |")
        print(f"{rule.name}: helps {len(helps)}, hurts {len(hurts)}", file=sys.stderr)
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="What each extractive rule is worth, on every eval set")
    ap.add_argument("--out", type=Path, default=Path("reports/rules.md"))
    ap.add_argument("--sets", help="comma-separated set names (default: every set that is here)")
    args = ap.parse_args(argv)
    sets = [s for s in all_sets() if not args.sets or s.name in args.sets.split(",")]
    rules_report(args.out, sets)
    print(f"Wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
