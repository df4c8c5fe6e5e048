"""`rag eval`: answer-quality evals that are deterministic, offline and fast enough for CI.

Runs a question file (schema in evals/README.md) against a corpus folder, in an index of its own
(never the user's index/), and reports retrieval hit@1/3/5 and MRR, answer accuracy, citation
precision, numeric grounding, abstention precision and recall, and latency, with a plain
llama-index baseline beside ours. Writes JSON, Markdown and a PNG chart to reports/, and fails
(exit 1) below the thresholds in evals/thresholds.toml.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import statistics
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from rag.cite import check_grounding
from rag.errors import UsageError
from rag.settings import Settings, bundled_corpus_dir
from rag.text import normalize_for_match

EVALS_DIR = Path(__file__).resolve().parent
DEFAULT_QUESTIONS = EVALS_DIR / "alibaba.jsonl"
DEFAULT_THRESHOLDS = EVALS_DIR / "thresholds.toml"
MAX_CHARS = {"extractive": 600}
RANK_DEPTH = 20  # retrieval is ranked this deep for hit@k (the evidence page among the first 20)
GENERATIVE_MAX_CHARS = 1200


@dataclass
class Item:
    id: str
    turns: list[str]
    expect: list[list[str]]
    unanswerable: bool
    evidence: list[str]  # short exact quotes; the gold passage holds one of them
    tags: list[str]
    kind: str | None = None  # the question's type, where the set gives one (extraction, numeric-reasoning...)
    source: str | None = None  # the file that holds the evidence, where the set names it (with its pages)
    pages: tuple[int, ...] = ()  # 1-based physical pages of the evidence (the analyst set's `pages`)


def load_items(path: Path) -> list[Item]:
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            d = json.loads(line)
            turns = d["turns"] if "turns" in d else [d["question"]]
            evidence = d.get("evidence") or []
            items.append(Item(d.get("id", f"line-{n}"), list(turns), [list(g) for g in d.get("expect", [])],
                              bool(d.get("unanswerable", False)), [evidence] if isinstance(evidence, str) else
                              list(evidence), list(d.get("tags", [])), d.get("type"), d.get("source"),
                              tuple(d.get("pages") or ())))
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise UsageError(f"{path}:{n}: not a valid eval item ({e}); see evals/README.md") from None
    if not items:
        raise UsageError(f"{path} holds no questions")
    return items


def contains(text: str, variant: str) -> bool:
    return normalize_for_match(variant) in normalize_for_match(text)


def groups_met(text: str, expect: list[list[str]]) -> bool:
    return all(any(contains(text, v) for v in group) for group in expect)


def is_gold(passage: str, item: Item) -> bool:
    """The gold passage holds the evidence quote, or else every expected group: it survives any
    re-chunking."""
    if item.evidence:
        flat = " ".join(passage.split()).lower()
        return any(" ".join(e.split()).lower() in flat for e in item.evidence)
    return bool(item.expect) and groups_met(passage, item.expect)


def _rank(passages: list[str], item: Item) -> int | None:
    return next((i for i, p in enumerate(passages, 1) if is_gold(p, item)), None)


def _page_rank(hits: list, item: Item) -> int | None:
    """The rank of the first hit on a page that holds the evidence (its file and page), where
    the set names them; else of the first passage holding an evidence quote."""
    if not (item.source and item.pages):
        return _rank([h.chunk.text for h in hits], item)
    return next((i for i, h in enumerate(hits, 1)
                 if Path(h.chunk.source).name == item.source and h.chunk.page in item.pages), None)


def eval_index_dir(corpus: Path | list[Path], settings: Settings) -> Path:
    """An index kept per corpus (one folder, or several together) and settings, in the user's
    cache: re-runs embed nothing new."""
    from rag.store import SCHEMA_VERSION

    corpora = [corpus] if isinstance(corpus, Path) else list(corpus)
    where: str | list[str] = str(corpora[0].resolve()) if len(corpora) == 1 else [str(c.resolve()) for c in corpora]
    key = hashlib.sha256(json.dumps([where, settings.embed_model, settings.chunk_size,
                                     settings.chunk_overlap, SCHEMA_VERSION]).encode()).hexdigest()[:12]
    corpus = corpora[-1]
    base = settings.eval_cache or Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rag-qa" / "eval-index"
    return base / f"{corpus.resolve().name}-{key}"


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def run_ours(items: list[Item], engine, answerer: str, max_chars: int, ranks: bool = True) -> tuple[list[dict], dict]:
    rows = []
    for it in items:
        chat = engine.chat()
        for turn in it.turns[:-1]:
            chat.ask(turn, answerer=answerer)
        history = [q for q, _ in chat.turns]
        ans = chat.ask(it.turns[-1], answerer=answerer)
        full = chat.turns[-1][0]
        rank = None
        if ranks and not it.unanswerable:
            rank = _page_rank(engine.retrieve(full, k=RANK_DEPTH), it)
        kept, dropped = check_grounding(ans.text, list(ans.citations), ans.computation)
        figure_ok = groups_met(ans.text, it.expect) if not it.unanswerable else None
        cited_ok = None
        if not it.unanswerable and not ans.abstained and figure_ok:
            quotes = " \n ".join(c.quote for c in ans.citations)
            cited_ok = all(any(contains(quotes, v) for v in g if contains(ans.text, v)) for g in it.expect)
        rows.append({
            "id": it.id, "question": " → ".join(it.turns), "completed": full if history else None,
            "tags": it.tags, "kind": it.kind, "unanswerable": it.unanswerable, "abstained": ans.abstained,
            "answer": ans.text, "chars": len(ans.text), "rank": rank,
            "correct": (ans.abstained if it.unanswerable else
                        (not ans.abstained and figure_ok and len(ans.text) <= max_chars)),
            "figure_hit": figure_ok, "cited_ok": cited_ok, "grounded": not dropped,
            "ms": ans.timings_ms.get("total", 0.0),
            "notice": ans.notice, "unverified": list(ans.unverified),  # a generative answerer's fallback, doubts
            "computation": ans.computation,
        })
    return rows, summarize(rows)


def summarize(rows: list[dict]) -> dict:
    ans = [r for r in rows if not r["unanswerable"]]
    una = [r for r in rows if r["unanswerable"]]
    ranks = [r["rank"] for r in ans]
    abst = [r for r in rows if r["abstained"]]
    tp = sum(1 for r in una if r["abstained"])
    answered = [r for r in rows if not r["abstained"]]
    cited = [r["cited_ok"] for r in ans if r["cited_ok"] is not None]
    gloss = [r for r in ans if "glossary" in r["tags"]]
    computed = [r for r in rows if r.get("computation")]
    ms = [r["ms"] for r in rows]
    return {
        "questions": len(rows), "answerable": len(ans), "unanswerable": len(una),
        "hit@1": _share(ranks, lambda x: x is not None and x <= 1),
        "hit@3": _share(ranks, lambda x: x is not None and x <= 3),
        "hit@5": _share(ranks, lambda x: x is not None and x <= 5),
        "hit@20": _share(ranks, lambda x: x is not None and x <= 20),
        "mrr": round(sum(1 / x for x in ranks if x) / len(ranks), 3) if ranks else 0.0,
        "answer_accuracy": _share(ans, lambda r: bool(r["correct"])),
        "figure_hits": _share(ans, lambda r: bool(r["figure_hit"])),
        "citation_precision": round(sum(cited) / len(cited), 3) if cited else 0.0,
        "numeric_grounding": _share(answered, lambda r: r["grounded"]) if answered else 1.0,
        "abstention_precision": round(tp / len(abst), 3) if abst else 1.0,
        "abstention_recall": round(tp / len(una), 3) if una else 1.0,
        "false_abstention_rate": _share(ans, lambda r: r["abstained"]),
        "computed": sum(1 for r in rows if r.get("computation")),
        "computed_checked": _share(computed, lambda r: r["computation"]["checked"] and r["grounded"]) if computed else 1.0,
        "glossary_right": f"{sum(1 for r in gloss if r['correct'])}/{len(gloss)}",
        "right": sum(1 for r in ans if r["correct"]),
        # an answer that asserts something wrong: a wrong figure, or any answer where none is due
        "wrong": sum(1 for r in rows if not r["abstained"] and not r["correct"]),
        "abstained_answerable": sum(1 for r in ans if r["abstained"]),
        "mean_chars": round(statistics.mean(r["chars"] for r in rows), 1) if rows else 0,
        "latency_p50_ms": round(pct(ms, 0.5), 1), "latency_p95_ms": round(pct(ms, 0.95), 1),
        "fallbacks": sum(1 for r in rows if r.get("notice")),
        "with_unverified": sum(1 for r in rows if r.get("unverified")),
    }


def _share(xs: list, pred) -> float:
    return round(sum(1 for x in xs if pred(x)) / len(xs), 3) if xs else 0.0


def run_baseline(items: list[Item], files: list[Path], settings: Settings, max_chars: int) -> tuple[list[dict], dict]:
    from evals.baseline import Baseline

    base = Baseline(files, settings.embed_model)
    rows = []
    for it in items:
        # no conversation memory: the baseline sees each turn alone, as such a pipeline would
        text, passages, ms = base.ask(it.turns[-1])
        hit = groups_met(text, it.expect) if not it.unanswerable else None
        rows.append({"id": it.id, "unanswerable": it.unanswerable, "abstained": False, "chars": len(text),
                     "rank": _rank(passages, it) if not it.unanswerable else None,
                     "figure_hit": hit, "correct": False if it.unanswerable else bool(hit and len(text) <= max_chars),
                     "ms": ms})
    ans = [r for r in rows if not r["unanswerable"]]
    summary = {
        "chunks": base.chunks,
        "hit@1": _share([r["rank"] for r in ans], lambda x: x is not None and x <= 1),
        "hit@3": _share([r["rank"] for r in ans], lambda x: x is not None and x <= 3),
        "hit@5": None, "mrr": round(sum(1 / r["rank"] for r in ans if r["rank"]) / len(ans), 3) if ans else 0.0,
        "answer_accuracy": _share(ans, lambda r: r["correct"]),
        "figure_hits": _share(ans, lambda r: bool(r["figure_hit"])),
        "abstention_recall": 0.0,
        "mean_chars": round(statistics.mean(r["chars"] for r in rows), 1),
        "latency_p50_ms": round(pct([r["ms"] for r in rows], 0.5), 1),
        "latency_p95_ms": round(pct([r["ms"] for r in rows], 0.95), 1),
    }
    return rows, summary


def check(summary: dict, thresholds: dict) -> list[str]:
    failures = []
    for key, limit in thresholds.items():
        if key.endswith("_max"):
            name = key[:-4]
            if summary.get(name, 0) > limit:
                failures.append(f"{name} {summary.get(name)} > {limit}")
        elif summary.get(key, 0) < limit:
            failures.append(f"{key} {summary.get(key)} < {limit}")
    return failures


def evaluate(corpus: Path | list[Path] | None = None, questions: Path | None = None, answerer: str = "extractive",
             reports: Path = Path("reports"), thresholds: Path | None = None, baseline: bool = True,
             name: str | None = None, settings: Settings | None = None, out=sys.stdout,
             limit: int | None = None, off: frozenset[str] = frozenset()) -> int:
    """Run one eval; returns the exit code (0 pass, 1 below thresholds). `corpus` is a folder or
    several indexed together; `limit` keeps the first questions only; `off` switches extractive
    rules off (ablation); a generative answerer's report is named after it (eval-alibaba-llm)."""
    from rag.indexer import discover

    settings = settings or Settings.load()
    corpora, questions = _corpora(corpus), Path(questions) if questions else DEFAULT_QUESTIONS
    if not questions.is_file():
        raise UsageError(f"No question file at {questions}")
    items = load_items(questions)[:limit] if limit else load_items(questions)
    name = name or (questions.stem if answerer == "extractive" else f"{questions.stem}-{answerer}")
    max_chars = MAX_CHARS.get(answerer, GENERATIVE_MAX_CHARS)
    t0 = time.perf_counter()
    engine, eval_settings = eval_engine(corpora, settings, off)
    rows, ours = run_ours(items, engine, answerer, max_chars)
    base_rows, base = ([], None)
    if baseline:
        files, _, _ = discover(corpora)
        base_rows, base = run_baseline(items, files, eval_settings, max_chars)
    limits = {}
    tpath = thresholds or (DEFAULT_THRESHOLDS if questions == DEFAULT_QUESTIONS else None)
    if tpath:
        limits = tomllib.loads(Path(tpath).read_text()).get(answerer, {})
    failures = check(ours, limits)
    result = {"name": name, "corpus": " ".join(map(str, corpora)), "questions_file": str(questions),
              "answerer": answerer, "ours": ours, "baseline": base, "thresholds": limits, "failures": failures,
              "seconds": round(time.perf_counter() - t0, 1), "rows": rows, "baseline_rows": base_rows,
              "by_kind": by_kind(rows)}
    reports.mkdir(parents=True, exist_ok=True)
    (reports / f"eval-{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    md = markdown(result)
    (reports / f"eval-{name}.md").write_text(md)
    _chart(result, reports / f"eval-{name}.png")
    print(md, file=out)
    print(f"Reports: {reports}/eval-{name}.{{json,md,png}}", file=out)
    if failures:
        print("FAILED thresholds: " + "; ".join(failures), file=out)
        return 1
    print("Thresholds met." if limits else "No thresholds for this question set.", file=out)
    return 0


def _corpora(corpus: Path | list[Path] | None) -> list[Path]:
    corpora = [bundled_corpus_dir()] if corpus is None else [Path(corpus)] if isinstance(corpus, (str, Path)) \
        else [Path(c) for c in corpus]
    for c in corpora:
        if not c.is_dir():
            raise UsageError(f"No corpus folder at {c}")
    return corpora


_ENGINES: dict[tuple, tuple] = {}


def eval_engine(corpora: list[Path], settings: Settings, off: frozenset[str] = frozenset(),
                weights: dict[str, float] | None = None):
    """An engine over the corpus folders' own eval index (ingested first: only new or changed
    files are embedded), warmed up; with the extractive rules in `off` switched off. Kept per
    corpus for the process, so that ablation runs load each index once."""
    from rag.engine import Engine
    from rag.extractive import ExtractiveAnswerer
    from rag.indexer import ingest

    # the eval's own embedded index, whatever the user's index is
    eval_settings = dataclasses.replace(settings, index_dir=eval_index_dir(corpora, settings), chroma_url=None)
    key = (tuple(str(c.resolve()) for c in corpora), eval_settings)
    if key not in _ENGINES:
        report = ingest(corpora, eval_settings, prune=True)
        for f in report.failed:
            print(f"  skipped {f['path']}: {f['error']}", file=sys.stderr)
        engine = Engine(eval_settings)
        engine.ask("warm-up question about revenue", answerer="extractive")  # start-up costs are not latency
        _ENGINES[key] = (engine, eval_settings)
    engine, eval_settings = _ENGINES[key]
    engine._answerers["extractive"] = ExtractiveAnswerer(off, weights)
    return engine, eval_settings


def by_kind(rows: list[dict]) -> dict[str, dict]:
    """Right, wrong and abstained answers by the questions' type, where the set gives one."""
    out: dict[str, dict] = {}
    for r in rows:
        if r.get("kind"):
            d = out.setdefault(r["kind"], {"n": 0, "right": 0, "wrong": 0, "abstained": 0})
            d["n"] += 1
            d["right"] += bool(r["correct"])
            d["wrong"] += not r["abstained"] and not r["correct"]
            d["abstained"] += r["abstained"] and not r["unanswerable"]
    return out


METRICS = ["hit@1", "hit@3", "hit@5", "hit@20", "mrr", "answer_accuracy", "right", "wrong", "abstained_answerable", "figure_hits", "citation_precision",
           "numeric_grounding", "abstention_precision", "abstention_recall", "false_abstention_rate",
           "glossary_right", "computed", "computed_checked", "mean_chars", "latency_p50_ms", "latency_p95_ms", "fallbacks", "with_unverified"]


def markdown(result: dict) -> str:
    ours, base = result["ours"], result["baseline"] or {}
    lines = [f"# Eval: {result['name']} ({ours['questions']} questions, {ours['unanswerable']} unanswerable; "
             f"answerer: {result['answerer']})", "",
             "| metric | rag-qa | baseline (llama-index dense top-3, top chunk) |", "|---|---|---|"]
    for m in METRICS:
        b = base.get(m, "")
        lines.append(f"| {m} | {ours.get(m, '')} | {'' if b is None else b} |")
    if result.get("by_kind"):
        lines += ["", "| type | questions | right | wrong | abstained (answerable) |", "|---|---|---|---|---|"]
        lines += [f"| {k} | {d['n']} | {d['right']} | {d['wrong']} | {d['abstained']} |"
                  for k, d in sorted(result["by_kind"].items())]
    if base:
        lines += ["", f"Baseline figure hits ignore length: {base['figure_hits']} of its answers contain the "
                      f"expected figures, but its answers average {base['mean_chars']:.0f} characters; with the "
                      f"concision rule its accuracy is {base['answer_accuracy']}."]
    computed = [r for r in result["rows"] if r.get("computation")]
    if computed:
        lines += ["", f"Computed answers ({len(computed)}): the arithmetic as the answer shows it, each operand with "
                      "its cell and citation, and whether the grounding check, done again from the cited quotes, "
                      "held.", "", "| id | ok | metric | result | operands | checked |", "|---|---|---|---|---|---|"]
        for r in computed:
            c = r["computation"]
            ops = "; ".join(f"{o['label']} {o['text']} ({o['period']}) [{o['citation']}]" for o in c["operands"])
            lines.append(f"| {r['id']} | {'✓' if r['correct'] else '✗'} | {c['metric']} | {c['shown']} = "
                         f"{c['expression']} | {ops.replace('|', '/')} | {'yes' if r['grounded'] and c['checked'] else 'NO'} |")
    lines += ["", "| id | ok | rank | chars | ms | answer |", "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        ans = " ".join(r["answer"].split())[:110].replace("|", "\\|")
        lines.append(f"| {r['id']} | {'✓' if r['correct'] else '✗'} | {r['rank'] or '-'} | {r['chars']} | "
                     f"{r['ms']:.0f} | {ans} |")
    return "\n".join(lines) + "\n"


def _chart(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["hit@1", "hit@3", "mrr", "answer_accuracy", "figure_hits", "citation_precision",
            "numeric_grounding", "abstention_recall"]
    ours = [float(result["ours"].get(k) or 0) for k in keys]
    base = [float((result["baseline"] or {}).get(k) or 0) for k in keys]
    fig, ax = plt.subplots(figsize=(9, 3.6), dpi=100)
    x = range(len(keys))
    ax.bar([i - 0.2 for i in x], ours, 0.4, label="rag-qa")
    if result["baseline"]:
        ax.bar([i + 0.2 for i in x], base, 0.4, label="baseline")
    ax.set_xticks(list(x), keys, rotation=25, ha="right", fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"Eval {result['name']}: {result['ours']['questions']} questions")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
