"""`make eval-llm`: the answer-quality eval with a real language model behind `--answerer llm`.

Starts llama.cpp's OpenAI-compatible server (`python -m llama_cpp.server`, from the optional
extra `rag-qa[local]`) on 127.0.0.1 with a GGUF file (`make local-model` writes one), waits until
it answers, runs `rag eval --answerer llm` on the first questions of the bundled set (a 1.5B model
on 2 cores takes 20-40 s a question), writes reports/eval-alibaba-llm.{json,md,png}, and stops
the server. No thresholds: this measures, it does not gate.

    python -m evals.eval_llm --gguf models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf --limit 12
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from rag.generate import LLAMA_CPP_HINT, LOCAL_CONTEXT

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_GGUF = ROOT / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(gguf: Path, port: int) -> list[str]:
    """llama.cpp's server on loopback only, with the model's own chat template (from the GGUF)."""
    return [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
            "--port", str(port), "--n_ctx", str(LOCAL_CONTEXT), "--n_threads", str(os.cpu_count() or 2)]


def wait_ready(base_url: str, proc: subprocess.Popen | None = None, timeout: float = 300.0) -> None:
    """Return once GET {base_url}/models answers; SystemExit if the server exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"eval_llm: the llama.cpp server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2) as r:
                if r.status == 200 and json.load(r).get("data") is not None:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"eval_llm: the llama.cpp server did not answer at {base_url} within {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m evals.eval_llm", description=__doc__.split("\n\n")[0])
    p.add_argument("--gguf", type=Path, default=DEFAULT_GGUF, help="GGUF model file (default: make local-model's)")
    p.add_argument("--limit", type=int, default=12, help="first N questions of the bundled set (default 12)")
    p.add_argument("--timeout", type=float, default=180.0, help="seconds allowed for one answer (default 180)")
    p.add_argument("--reports", type=Path, default=ROOT / "reports")
    args = p.parse_args(argv)
    if not args.gguf.is_file():
        raise SystemExit(f"eval_llm: no GGUF file at {args.gguf}; run: make local-model")
    if importlib.util.find_spec("llama_cpp") is None:
        raise SystemExit(f"eval_llm: {LLAMA_CPP_HINT}")

    from evals.run import evaluate
    from rag.settings import Settings

    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    args.reports.mkdir(parents=True, exist_ok=True)
    log_path = args.reports / "llama-server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(server_command(args.gguf, port), stdout=log, stderr=subprocess.STDOUT)
        try:
            print(f"Starting llama.cpp's server on {base_url} (log: {log_path})…", file=sys.stderr)
            wait_ready(base_url, proc)
            settings = Settings.load(answerer="llm", llm_base_url=base_url, llm_model=args.gguf.stem,
                                     llm_timeout=args.timeout)
            return evaluate(answerer="llm", reports=args.reports, baseline=False, settings=settings,
                            limit=args.limit)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
