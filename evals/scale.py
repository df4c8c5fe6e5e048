"""`make bench-scale`: how the index's own costs grow with the corpus. Synthetic filing-like text
(companies, segments, years, figures; about 500 chunks a document) is ingested with the hashed
embedder (`hash`, so that only the index's costs show, not the model's) into an index per size,
embedded and (with --server) on a real `chroma run`. Corpora and indexes are cached between runs
in $RAG_SCALE_DIR (default ~/.cache/rag-qa/scale); a cached index is reused, its ingest time read
from its record.

Per size it prints: ingest rate (chunks/s, CPU seconds), cold start (`rag ask` as a subprocess;
and in a fresh worker, Engine() plus the first answer), warm `ask` p50/p95 over generated
questions, the worker's peak RSS (VmHWM; the server's apart), an unchanged re-ingest, and apart
the first start of a client with no word index of its own (rag.lexical: it reads the store once).
Not part of `make test`: 1M chunks take about an hour to build the first time.

    python -m evals.scale --sizes 10k,100k,1m [--server] [--seed-server]

--seed-server gives a server that has no store of its size a copy of the embedded one (`chroma
run --path` serves the same files: how a user moves an index to a server), instead of an ingest
over HTTP (73 minutes at 1M); its ingest is then reported as not measured.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHUNKS_PER_DOC = 500
MARK = "SCALE_JSON "
SEGMENTS = ["Cloud", "Retail", "Logistics", "Media", "Industrial", "Healthcare", "Energy", "Payments"]
LINES = ["revenue", "operating income", "gross margin", "capital expenditures", "free cash flow",
         "net income", "research and development expense", "deferred revenue", "inventories", "headcount"]
WORDS = ("the company reported results driven by demand across markets while costs reflected investment "
         "in infrastructure pricing customers growth contracts backlog guidance outlook currency impact "
         "supply chain efficiency margin expansion adjusted basis fiscal quarter year compared prior period "
         "management expects continued momentum subject to risks described in this report").split()


def _size(text: str) -> int:
    text = text.lower().strip()
    mult = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * mult)


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


def make_corpus(folder: Path, chunks: int, seed: int = 1) -> list[str]:
    """Text documents of about CHUNKS_PER_DOC chunks each, `chunks` in all; the companies' names."""
    docs = max(1, chunks // CHUNKS_PER_DOC)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    names = []
    for d in range(docs):
        name = f"Company{d:05d}"
        names.append(name)
        path = folder / f"{name.upper()}_{2020 + d % 5}_10K.txt"
        if path.exists():
            continue
        paras = [f"{name} Annual Report {2020 + d % 5}"]
        for _ in range(CHUNKS_PER_DOC):
            seg, line = rng.choice(SEGMENTS), rng.choice(LINES)
            a, b = rng.randint(100, 99_999), rng.randint(100, 99_999)
            body = " ".join(rng.choice(WORDS) for _ in range(95))
            paras.append(f"{seg} segment. {name}'s {seg.lower()} {line} was ${a:,} million in fiscal "
                         f"{2020 + d % 5}, compared with ${b:,} million a year earlier. {body.capitalize()}.")
        path.write_text("\n\n".join(paras) + "\n", encoding="utf-8")
    return names


def questions(names: list[str], n: int = 40, seed: int = 2) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        seg, line = rng.choice(SEGMENTS), rng.choice(LINES)
        # half name a company (routed to one document), half do not
        out.append(f"What was {rng.choice(names)}'s {seg.lower()} {line}?" if i % 2 else
                   f"How did {seg.lower()} {line} change compared with a year earlier?")
    return out


def _env(extra: dict | None = None) -> dict:
    return {**os.environ, "RAG_EMBED_MODEL": "hash", "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
            **(extra or {})}


def _rag(*args: str, env: dict | None = None, stdin: str | None = None, timeout: float = 7200) -> tuple[float, str]:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "rag", *args], capture_output=True, text=True, env=_env(env),
                       input=stdin, timeout=timeout, cwd=ROOT)
    if p.returncode != 0:
        raise RuntimeError(f"rag {' '.join(args[:2])}: {(p.stderr.strip().splitlines() or ['?'])[-1]}")
    return time.perf_counter() - t0, p.stdout


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def worker(where: list[str], qs: list[str]) -> dict:
    """In a fresh process: Engine() and the first answer, then warm asks; memory."""
    os.environ.update(_env())
    t0 = time.perf_counter()
    from rag.engine import Engine
    from rag.settings import Settings

    keys = dict(zip(where[::2], where[1::2]))
    engine = Engine(Settings.load(**keys))
    t1 = time.perf_counter()
    engine.ask(qs[0])
    t2 = time.perf_counter()
    for q in qs[:5]:
        engine.ask(q)
    lat = []
    for q in qs:
        s = time.perf_counter()
        engine.ask(q)
        lat.append((time.perf_counter() - s) * 1000)
    status = Path("/proc/self/status").read_text()
    mem = {k: int(line.split()[1]) // 1024 for line in status.splitlines()
           for k in ("VmHWM", "VmRSS") if line.startswith(k + ":")}
    lat.sort()
    return {"engine_s": t1 - t0, "first_answer_s": t2 - t1, "p50_ms": statistics.median(lat),
            "p95_ms": lat[min(len(lat) - 1, int(0.95 * len(lat)))], "peak_rss_mb": mem.get("VmHWM"),
            "rss_mb": mem.get("VmRSS"), "chunks": len(engine.chunks)}


def first_build(where: list[str]) -> dict:
    """In a fresh process with no word index on this machine (another client): Engine() builds its
    copy from the store."""
    os.environ.update(_env())
    t0 = time.perf_counter()
    from rag.engine import Engine
    from rag.settings import Settings

    Engine(Settings.load(**dict(zip(where[::2], where[1::2]))))
    status = Path("/proc/self/status").read_text()
    peak = next(int(x.split()[1]) // 1024 for x in status.splitlines() if x.startswith("VmHWM:"))
    return {"first_build_s": time.perf_counter() - t0, "first_build_rss_mb": peak}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server(path: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(path),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("chroma run did not start")


def _rss_mb(pid: int) -> int | None:
    try:
        line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) // 1024
    except (OSError, StopIteration):
        return None


def _seed(store: Path, embedded: Path) -> None:
    """A server's store copied from the embedded index of the same size (its Chroma files only)."""
    (store / "db").mkdir(parents=True, exist_ok=True)
    for part in (embedded / "index").iterdir():
        if part.name == "chroma.sqlite3" or (part.is_dir() and (part / "header.bin").exists()):
            (shutil.copytree if part.is_dir() else shutil.copy2)(part, store / "db" / part.name)
    (store / "ingest.json").write_text(json.dumps({"chunks": json.loads((embedded / "ingest.json").read_text())[
        "chunks"], "copied_from": embedded.name}))


def measure(n: int, base: Path, server: bool, first: bool = True, seed: bool = False) -> dict:
    corpus = base / f"corpus-{_label(n)}"
    names = make_corpus(corpus, n)
    qs = questions(names)
    mode = "server" if server else "embedded"
    store = base / f"{mode}-{_label(n)}"
    record = store / "ingest.json"
    proc = None
    if server and seed and not record.exists() and (base / f"embedded-{_label(n)}" / "ingest.json").exists():
        _seed(store, base / f"embedded-{_label(n)}")
    try:
        if server:
            proc, url = _server(store / "db")
            where = ["chroma_url", url]
            flags = ["--chroma-url", url]
        else:
            where = ["index_dir", str(store / "index")]
            flags = ["--index", str(store / "index")]
        out: dict = {"size": _label(n), "mode": mode}
        if record.exists():
            out.update(json.loads(record.read_text()), ingest_cached=True)
        else:
            shutil.rmtree(store / "index", ignore_errors=True)
            cpu0 = _children_cpu()
            secs, stdout = _rag("ingest", str(corpus), "--json", *flags)
            rep = json.loads(stdout)
            out.update(ingest_s=secs, ingest_cpu_s=_children_cpu() - cpu0, chunks=rep["chunks"],
                       ingest_rate=rep["chunks"] / secs)
            store.mkdir(parents=True, exist_ok=True)
            record.write_text(json.dumps({k: out[k] for k in ("ingest_s", "ingest_cpu_s", "chunks", "ingest_rate")}))
        if first:  # a fresh client first: no word index here (a cache of its own; the index's own removed)
            fresh = base / "fresh-cache"
            shutil.rmtree(fresh, ignore_errors=True)
            if not server:
                shutil.rmtree(store / "index" / "lexical", ignore_errors=True)
            p = subprocess.run([sys.executable, "-m", "evals.scale", "--build", json.dumps(where)], capture_output=True,
                               text=True, env=_env({"XDG_CACHE_HOME": str(fresh)}), cwd=ROOT, timeout=7200)
            line = next((x for x in p.stdout.splitlines() if x.startswith(MARK)), None)
            if line is None:
                raise RuntimeError(f"first build: {(p.stderr.strip().splitlines() or ['?'])[-1]}")
            out.update(json.loads(line[len(MARK):]))
            shutil.rmtree(fresh, ignore_errors=True)
        out["cold_ask_s"], _ = _rag("ask", qs[1], "--json", *flags)
        p = subprocess.run([sys.executable, "-m", "evals.scale", "--worker", json.dumps([where, qs])],
                           capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=7200)
        line = next((x for x in p.stdout.splitlines() if x.startswith(MARK)), None)
        if line is None:
            raise RuntimeError(f"worker: {(p.stderr.strip().splitlines() or ['?'])[-1]}")
        out.update(json.loads(line[len(MARK):]))
        out["reingest_s"], _ = _rag("ingest", str(corpus), *flags)
        if proc is not None:
            out["server_peak_rss_mb"] = _rss_mb(proc.pid)
        return out
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)


def _row(r: dict) -> str:
    if "error" in r:
        return f"| {r['size']} | {r['mode']} | failed: {r['error']} |"
    server = f" (server {r['server_peak_rss_mb']} MB)" if r.get("server_peak_rss_mb") else ""
    cached = " (cached)" if r.get("ingest_cached") else ""
    ingest = (f"copied from {r['copied_from']}, not measured" if "copied_from" in r else
              f"{r['ingest_rate']:.0f}/s, {r['ingest_cpu_s']:.0f} s CPU{cached}")
    return (f"| {r['size']} | {r['mode']} | {r['chunks']:,} | {ingest} "
            f"| {r['cold_ask_s']:.1f} / {r['engine_s'] + r['first_answer_s']:.1f} s "
            f"| {r['peak_rss_mb']} MB{server} | {r['p50_ms']:.0f} / {r['p95_ms']:.0f} ms | {r['reingest_s']:.1f} s "
            + (f"| {r['first_build_s']:.1f} s, {r['first_build_rss_mb']} MB |" if "first_build_s" in r else "| - |"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10k,100k,1m", help="comma-separated chunk counts (10k, 100k, 1m)")
    ap.add_argument("--server", action="store_true", help="also on a Chroma server (chroma run)")
    ap.add_argument("--dir", type=Path, default=Path(os.environ.get("RAG_SCALE_DIR", Path(
        os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rag-qa" / "scale")))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--no-first-build", action="store_true",
                    help="skip a fresh client's first build (minutes at 1M chunks)")
    ap.add_argument("--seed-server", action="store_true",
                    help="a server without a store of its size starts from a copy of the embedded one")
    ap.add_argument("--build", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.build:
        print(MARK + json.dumps(first_build(json.loads(args.build))), flush=True)
        return 0
    if args.worker:
        where, qs = json.loads(args.worker)
        print(MARK + json.dumps(worker(where, qs)), flush=True)
        return 0
    rows = []
    print("| size | mode | chunks | ingest | cold start: rag ask / engine + first answer | peak RSS | warm ask p50 / p95 "
          "| re-ingest, nothing changed | a fresh client's first build |\n|---|---|---|---|---|---|---|---|---|", flush=True)
    for n in (_size(s) for s in args.sizes.split(",")):
        for server in (False, True) if args.server else (False,):
            try:
                r = measure(n, args.dir, server, first=not args.no_first_build, seed=args.seed_server)
            except Exception as e:  # one line, and the other sizes still run
                r = {"size": _label(n), "mode": "server" if server else "embedded", "error": str(e)[:200]}
            rows.append(r)
            print(_row(r), flush=True)
    out = ROOT / "reports" / "bench-scale.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=1))
    return 0 if all("error" not in r for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
