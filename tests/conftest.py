"""Shared fixtures: a tiny corpus with known answers, settings whose index lives in tmp_path,
and a real Chroma server (`chroma run` on loopback) for the server-mode tier.

Unit tests use the `hash` embedder (hashed bag of words: lexical overlap still decides ranking);
tests marked `integration` use the real MiniLM model."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
TINY = FIXTURES / "tiny"
FILINGS = ROOT.parent / "shared" / "filings"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["ANONYMIZED_TELEMETRY"] = "False"


@pytest.fixture(autouse=True)
def _isolate(tmp_path, monkeypatch):
    """No test sees the user's environment, cache or index/."""
    for var in list(os.environ):
        if var.startswith("RAG_"):
            monkeypatch.delenv(var)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    """A fresh, writable copy of the tiny corpus."""
    dst = tmp_path / "tiny"
    shutil.copytree(TINY, dst)
    return dst


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real Chroma server on loopback for the whole session; its URL."""
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        pytest.fail("the chroma CLI is missing from the virtualenv (pip install chromadb)")
    port = _free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = open(data / "server.log", "wb")
    proc = subprocess.Popen([str(exe), "run", "--path", str(data / "db"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"chroma run exited: {(data / 'server.log').read_text()[-2000:]}")
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start within 60 s")
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


_counter = iter(range(1_000_000))


@pytest.fixture(params=["embedded", "server"])
def settings(request, tmp_path) -> Settings:
    """Settings for a fresh index, once in an embedded store and once on the Chroma server
    (a fresh collection each time), with the fast hash embedder."""
    if request.param == "server":
        url = request.getfixturevalue("chroma_server")
        return Settings.load(chroma_url=url, collection=f"t{os.getpid()}-{next(_counter)}", embed_model="hash")
    return Settings.load(index_dir=str(tmp_path / "index"), embed_model="hash")


@pytest.fixture
def embedded_settings(tmp_path) -> Settings:
    return Settings.load(index_dir=str(tmp_path / "index"), embed_model="hash")
