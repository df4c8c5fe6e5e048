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


def run_set(es: EvalSet, off: frozenset[str] = frozenset(), settings: Settings | None = None) -> dict[str, bool]:
    """Whether each question of the set is answered right, with the rules in `off` switched off."""
    engine, _ = eval_engine(list(es.corpora), settings or Settings.load(), off)
    rows, _ = run_ours(load_items(es.questions), engine, "extractive", MAX_CHARS["extractive"], ranks=False)
    return {r["id"]: bool(r["correct"]) for r in rows}


def diff(base: dict[str, bool], off: dict[str, bool]) -> tuple[list[str], list[str]]:
    """(fixed, broken): the questions switching the rules off makes right, and makes wrong."""
    fixed = [i for i, ok in off.items() if ok and not base[i]]
    broken = [i for i, ok in off.items() if base[i] and not ok]
    return fixed, broken


def compare(off: frozenset[str], sets: list[EvalSet], out=sys.stdout) -> None:
    """The change on each set when the rules in `off` are switched off."""
    print(f"Ablation: {', '.join(sorted(off))} off", file=out)
    print("| set | right with | right without | fixed without | broken without |", file=out)
    print("|---|---|---|---|---|", file=out)
    for es in sets:
        base, ablated = run_set(es), run_set(es, off)
        fixed, broken = diff(base, ablated)
        print(f"| {es.name} | {sum(base.values())}/{len(base)} | {sum(ablated.values())}/{len(ablated)} | "
              f"{', '.join(fixed) or '-'} | {', '.join(broken) or '-'} |", file=out)


def rules_report(path: Path, sets: list[EvalSet]) -> str:
    """reports/rules.md: each rule, what switching it off fixes (it hurt) and breaks (it helped)
    on every set; rules that help no set are marked."""
    from rag.extractive.rules import all_rules

    bases = {es.name: run_set(es) for es in sets}
    lines = ["# What each rule of the extractive answerer is worth", "",
             "Each rule switched off alone (`rag eval --ablate NAME`). *helps*: answers right with it and wrong "
             "without it; *hurts*: the reverse. Sets: " +
             ", ".join(f"{n} ({sum(b.values())}/{len(b)} right)" for n, b in bases.items()), "",
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
