"""Every rule of the extractive answerer by name, with its kind and what it does: the features
(weighed in the score), the rules that adjust them, and the filters. `rag eval --ablate NAME`
takes these names; `make rules` reports what each one is worth on every eval set."""

from __future__ import annotations

from dataclasses import dataclass

from rag.errors import UsageError
from rag.extractive.features import FEATURE_DOCS, RULE_DOCS
from rag.extractive.filters import PASSAGE_FILTERS, SENTENCE_FILTERS


@dataclass(frozen=True)
class Rule:
    name: str
    kind: str  # feature | rule | filter
    doc: str


def all_rules() -> dict[str, Rule]:
    out = {n: Rule(n, "feature", d) for n, d in FEATURE_DOCS.items()}
    out.update({n: Rule(n, "rule", d) for n, d in RULE_DOCS.items()})
    for n, f in {**PASSAGE_FILTERS, **SENTENCE_FILTERS}.items():
        out[n] = Rule(n, "filter", " ".join((f.__doc__ or "").split()))
    return out


def parse_names(spec: str) -> frozenset[str]:
    """"coverage,other_quarter" -> the names, each checked; an unknown one lists the valid ones."""
    names = frozenset(n.strip() for n in spec.split(",") if n.strip())
    known = all_rules()
    unknown = sorted(names - set(known))
    if unknown or not names:
        raise UsageError(f"Unknown rule {', '.join(unknown) or repr(spec)}; choose from: {', '.join(sorted(known))}")
    return names
