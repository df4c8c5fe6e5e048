"""Shared fixtures: a tiny corpus with known answers, settings whose index lives in tmp_path,
a real Chroma server (`chroma run` on loopback) for the server-mode tier, and a scripted
OpenAI-compatible chat server (real HTTP on loopback) standing in for a language model.

Unit tests use the `hash` embedder (hashed bag of words: lexical overlap still decides ranking);
tests marked `integration` use the real MiniLM model."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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


# --- a scripted OpenAI-compatible chat server ---------------------------------------------------

_PASSAGE = re.compile(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', re.S)


@dataclass
class Prompt:
    """One request the scripted model received: its JSON body and headers, and the passages of
    its user message by number."""

    body: dict
    headers: dict

    @property
    def system(self) -> str:
        return next(m["content"] for m in self.body["messages"] if m["role"] == "system")

    @property
    def user(self) -> str:
        return next(m["content"] for m in self.body["messages"] if m["role"] == "user")

    @property
    def passages(self) -> dict[int, str]:
        return {int(n): text for n, text in _PASSAGE.findall(self.user)}

    @property
    def k(self) -> int:
        return len(self.passages)

    def n(self, text: str) -> int:
        """The number of the first passage that contains `text`."""
        for n, passage in sorted(self.passages.items()):
            if text in passage:
                return n
        raise AssertionError(f"no passage in the prompt contains {text!r}")


@dataclass
class Reply:
    """What the scripted model answers: `text` as the message content (None: no text), or an
    HTTP `status` error, or `raw` bytes as the body (or as the SSE data line when streaming),
    after `delay` seconds."""

    text: str | None = ""
    status: int = 200
    delay: float = 0.0
    raw: bytes | None = None


class ScriptedLLM:
    """A real HTTP server on 127.0.0.1 speaking the OpenAI chat-completions API, streaming (SSE)
    and not. `model(prompt) -> str | Reply` decides each reply; `prompts` records the requests."""

    def __init__(self) -> None:
        self.model: Callable[[Prompt], str | Reply] = lambda p: Reply("I don't know.")
        self.prompts: list[Prompt] = []
        self.errors: list[BaseException] = []  # a script that failed: the test fails at teardown
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # a client that timed out hung up
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # /v1/models: what llama.cpp's server answers when ready
                self._send(200, json.dumps({"object": "list", "data": [{"id": "scripted", "object": "model"}]}).encode())

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                prompt = Prompt(body, {k.lower(): v for k, v in self.headers.items()})  # names are case-insensitive
                scripted.prompts.append(prompt)
                try:
                    reply = scripted.model(prompt)
                except Exception as e:
                    scripted.errors.append(e)
                    reply = Reply(status=599)
                reply = Reply(reply) if isinstance(reply, str) else reply
                time.sleep(reply.delay)
                if reply.status != 200:
                    self._send(reply.status, b'{"error": {"message": "scripted failure", "type": "server_error"}}')
                elif body.get("stream"):
                    self._sse(reply)
                elif reply.raw is not None:
                    self._send(200, reply.raw)
                else:
                    message = {"role": "assistant", "content": reply.text}
                    self._send(200, json.dumps({
                        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
                        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}).encode())

            def _send(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _sse(self, reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                if reply.raw is not None:
                    self.wfile.write(b"data: " + reply.raw + b"\n\n")
                    return
                text = reply.text or ""
                deltas = [{"role": "assistant", "content": ""}] + \
                    [{"content": text[i:i + 7]} for i in range(0, len(text), 7)]
                if reply.text is None:
                    deltas = [{"role": "assistant", "content": None}]
                for i, delta in enumerate(deltas + [{}]):
                    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 0, "model": "scripted",
                             "choices": [{"index": 0, "delta": delta,
                                          "finish_reason": "stop" if i == len(deltas) else None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

        return Handler


@pytest.fixture
def scripted_llm():
    """A scripted OpenAI-compatible server on 127.0.0.1; set `.model` to script its replies."""
    llm = ScriptedLLM()
    yield llm
    llm.close()
    assert not llm.errors, f"the scripted model failed: {llm.errors!r}"


@pytest.fixture
def llm_settings(embedded_settings, scripted_llm) -> Settings:
    """Settings for the tiny index whose llm answerer talks to the scripted server."""
    return embedded_settings.replace(llm_base_url=scripted_llm.url, llm_model="scripted", llm_timeout=5)
