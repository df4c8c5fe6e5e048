"""The eval sets the project gates and ablates on, each with its corpus folders: the bundled set,
the failures set (the bundled corpus plus small documents that once broke answers), the two
filings sets and the shared analyst set (where ../shared is), and the calls set (fictional calls
in other vendors' layouts, written without seeing the code)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evals import unseen_filings
from rag.settings import bundled_corpus_dir

EVALS_DIR = Path(__file__).resolve().parent
ROOT = EVALS_DIR.parent
SHARED = ROOT / ".." / "shared"


@dataclass(frozen=True)
class EvalSet:
    name: str
    corpora: tuple[Path, ...]
    questions: Path
    thresholds: Path | None = None
    fitted_on: bool = False  # `make fit` fits the answerer's weights on this set (the others only check):
    # the bundled set, the failures set (each item a cause the answerer must keep handling) and filings

    @property
    def available(self) -> bool:
        return self.questions.is_file() and all(c.is_dir() for c in self.corpora)


def all_sets() -> list[EvalSet]:
    """Every set whose files are here (the filings sets need ../shared/filings; the unseen one, its
    filings fetched: `python -m evals.unseen_filings [wild|next]`)."""
    filings = (SHARED / "filings",)
    sets = [
        EvalSet("alibaba", (bundled_corpus_dir(),), EVALS_DIR / "alibaba.jsonl", EVALS_DIR / "thresholds.toml", True),
        EvalSet("failures", (bundled_corpus_dir(), EVALS_DIR / "failures" / "corpus"), EVALS_DIR / "failures.jsonl",
                EVALS_DIR / "thresholds-failures.toml", True),
        EvalSet("calls", (EVALS_DIR / "calls",), EVALS_DIR / "calls.jsonl", EVALS_DIR / "thresholds-calls.toml"),
        EvalSet("filings", filings, EVALS_DIR / "filings.jsonl", EVALS_DIR / "thresholds-filings.toml", True),
        EvalSet("filings-holdout", filings, EVALS_DIR / "filings-holdout.jsonl",
                EVALS_DIR / "thresholds-filings-holdout.toml"),
        EvalSet("analyst-filings", filings, SHARED / "evals" / "analyst-filings.jsonl",
                EVALS_DIR / "thresholds-analyst-filings.toml"),
        # our own analyst-style questions on other pages (evals/analyst-own.md): a development half
        # and a half held out while building
        EvalSet("analyst-own", filings, EVALS_DIR / "analyst-own.jsonl", EVALS_DIR / "thresholds-analyst-own.toml"),
        EvalSet("analyst-own-holdout", filings, EVALS_DIR / "analyst-own-holdout.jsonl",
                EVALS_DIR / "thresholds-analyst-own-holdout.toml"),
        # figures computed from the statements, written by someone who did not read the answerer
        # (evals/analyst-computed.md): a development half and a half held out while building
        EvalSet("analyst-computed", filings, EVALS_DIR / "analyst-computed.jsonl",
                EVALS_DIR / "thresholds-analyst-computed.toml"),
        EvalSet("analyst-computed-holdout", filings, EVALS_DIR / "analyst-computed-holdout.jsonl",
                EVALS_DIR / "thresholds-analyst-computed-holdout.toml"),
        # FinanceBench-style questions written blind and held out whole (evals/analyst-blind.md)
        EvalSet("analyst-blind", filings, EVALS_DIR / "analyst-blind.jsonl", EVALS_DIR / "thresholds-analyst-blind.toml"),
        # 40 more written blind (evals/analyst-fresh.md): a development half and a half held out
        EvalSet("analyst-fresh", filings, EVALS_DIR / "analyst-fresh.jsonl", EVALS_DIR / "thresholds-analyst-fresh.toml"),
        EvalSet("analyst-fresh-holdout", filings, EVALS_DIR / "analyst-fresh-holdout.jsonl",
                EVALS_DIR / "thresholds-analyst-fresh-holdout.toml"),
        # seven real 10-Ks no rule was written on, once fetched (evals/unseen_filings.py, analyst-unseen.md)
        EvalSet("analyst-unseen", (unseen_filings.folder(),), EVALS_DIR / "analyst-unseen.jsonl",
                EVALS_DIR / "thresholds-analyst-unseen.toml"),
        EvalSet("analyst-unseen-holdout", (unseen_filings.folder(),), EVALS_DIR / "analyst-unseen-holdout.jsonl",
                EVALS_DIR / "thresholds-analyst-unseen-holdout.toml"),
        # three more real 10-Ks (Home Depot, two Microsoft years, one an EDGAR text document), 48
        # questions written blind (evals/analyst-wild.md)
        EvalSet("analyst-wild", (unseen_filings.folder("wild"),), EVALS_DIR / "analyst-wild.jsonl",
                EVALS_DIR / "thresholds-analyst-wild.toml"),
        EvalSet("analyst-wild-holdout", (unseen_filings.folder("wild"),), EVALS_DIR / "analyst-wild-holdout.jsonl",
                EVALS_DIR / "thresholds-analyst-wild-holdout.toml"),
        # The Clorox Company's FY2022 10-K exhibits (MD&A, statements, economic profit), 48 questions
        # written blind (evals/analyst-next.md)
        EvalSet("analyst-next", (unseen_filings.folder("next"),), EVALS_DIR / "analyst-next.jsonl",
                EVALS_DIR / "thresholds-analyst-next.toml"),
        EvalSet("analyst-next-holdout", (unseen_filings.folder("next"),), EVALS_DIR / "analyst-next-holdout.jsonl",
                EVALS_DIR / "thresholds-analyst-next-holdout.toml"),
        # Apple's fiscal 2023 10-K as text with a table cell on each line, 40 questions written blind
        # (evals/analyst-later.md)
        EvalSet("analyst-later", (unseen_filings.folder("later"),), EVALS_DIR / "analyst-later.jsonl",
                EVALS_DIR / "thresholds-analyst-later.toml"),
        EvalSet("analyst-later-holdout", (unseen_filings.folder("later"),), EVALS_DIR / "analyst-later-holdout.jsonl",
                EVALS_DIR / "thresholds-analyst-later-holdout.toml"),
    ]
    return [s for s in sets if s.available]
