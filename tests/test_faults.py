"""Faults tried on purpose: each ends in one line (one JSON error line in `ask -`), never a
traceback, and leaves the index as it was. The store's server is a real `chroma run`, killed and
started again; a read-only index is read by an unprivileged user where the tests run as root."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.engine import EMPTY_INDEX, Engine
from rag.errors import IndexEmptyError, StoreError
from rag.indexer import ingest, remove
from rag.settings import Settings
from rag.store import Store, store_error


def run(args, cwd, stdin: bytes | None = None, env=None, user: int | None = None):
    e = {**os.environ, "RAG_EMBED_MODEL": "hash", "HF_HUB_OFFLINE": "1", "PYTHONIOENCODING": "utf-8", **(env or {})}
    cmd = [sys.executable, "-m", "rag", *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    p = subprocess.run(cmd, input=stdin, capture_output=True, cwd=cwd, env=e, timeout=300)
    out, err = p.stdout.decode(), p.stderr.decode()
    assert "Traceback" not in err, err
    return p.returncode, out, err


# --- an empty index --------------------------------------------------------------------------

def test_an_empty_index_opens_and_says_it_is_empty(tiny_corpus, settings, tmp_path):
    ingest([tiny_corpus], settings)
    for f in sorted(tiny_corpus.iterdir()):
        if f.suffix != ".toml":
            remove(str(f), settings)
    engine = Engine(settings)  # does not raise
    assert engine.retrieve("What was total revenue?") == []
    with pytest.raises(IndexEmptyError, match="rag ingest PATH"):
        engine.ask("What was total revenue?")
    if not settings.chroma_url:
        rc, out, err = run(["ask", "What was total revenue?", "--index", str(settings.index_dir)], tmp_path)
        assert rc == 1 and err.strip() == f"rag: {EMPTY_INDEX}" and not out


# --- rag ask -: one line per failed question, in order, and the loop goes on -----------------

def test_ask_lines_survive_bad_bytes_and_report_each_in_order(tiny_corpus, embedded_settings, tmp_path):
    ingest([tiny_corpus], embedded_settings)
    lines = b"What was total revenue?\n\xff\xfe broken\n\nHow many employees does Acme have?\n"
    rc, out, err = run(["ask", "-", "--json", "--index", str(embedded_settings.index_dir)], tmp_path, stdin=lines)
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["question"] for r in rows][0] == "What was total revenue?" and len(rows) == 3
    assert "not UTF-8" in rows[1]["error"] and "broken" in rows[1]["question"]
    assert rows[0]["citations"] and rows[2]["question"] == "How many employees does Acme have?"
    assert rc == 2  # a usage error was seen
    rc, out, err = run(["ask", "-", "--index", str(embedded_settings.index_dir)], tmp_path, stdin=lines)
    assert rc == 2 and err.count("rag: ") == 1 and "not UTF-8" in err and out.count("Sources") == 2


def test_any_failure_in_ask_lines_is_one_line_and_the_next_is_answered(tiny_corpus, embedded_settings,
                                                                       monkeypatch, capsys):
    from rag import cli

    ingest([tiny_corpus], embedded_settings)
    real = Engine.ask

    def flaky(self, question, *a, **kw):
        if "boom" in question:
            raise RuntimeError("disk said no\nsecond line")
        return real(self, question, *a, **kw)

    monkeypatch.setattr(Engine, "ask", flaky)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"boom?\nWhat was total revenue?\n")))
    rc = cli.main(["ask", "-", "--json", "--index", str(embedded_settings.index_dir), "--embed-model", "hash"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rc == 1 and rows[0] == {"question": "boom?", "error": "internal error (RuntimeError: disk said no second line)"}
    assert rows[1]["question"] == "What was total revenue?" and rows[1]["citations"]


# --- the Chroma server goes away, then comes back ----------------------------------------------

def _start_chroma(path: Path, port: int) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "chroma"
    proc = subprocess.Popen([str(exe), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    pytest.fail("chroma run did not start within 60 s")


def test_a_killed_chroma_server_fails_one_question_and_the_loop_resumes(tiny_corpus, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = _start_chroma(tmp_path / "db", port)
    url = f"http://127.0.0.1:{port}"
    try:
        ingest([tiny_corpus], Settings.load(chroma_url=url, embed_model="hash"))
        env = {**os.environ, "RAG_EMBED_MODEL": "hash", "HF_HUB_OFFLINE": "1"}
        asker = subprocess.Popen([sys.executable, "-m", "rag", "ask", "-", "--json", "--chroma-url", url],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=env, cwd=tmp_path)

        def ask(q: str) -> dict:
            asker.stdin.write(q + "\n")
            asker.stdin.flush()
            return json.loads(asker.stdout.readline())

        assert ask("What was total revenue?")["citations"]
        server.kill()
        server.wait()
        gone = ask("How many employees does Acme have?")
        assert "Cannot reach the Chroma server" in gone["error"] and "\n" not in gone["error"]
        server = _start_chroma(tmp_path / "db", port)
        assert ask("What was total revenue?")["citations"]  # answered again, same process
        asker.stdin.close()
        assert asker.wait(60) == 1
        assert "Traceback" not in asker.stderr.read()
    finally:
        server.kill()


def test_an_ingest_whose_server_dies_ends_in_one_line(tiny_corpus, tmp_path):
    rc, out, err = run(["ingest", str(tiny_corpus), "--chroma-url", "http://127.0.0.1:9"], tmp_path)
    assert rc == 1 and err.count("\n") == 1 and "Cannot reach the Chroma server" in err


def test_store_errors_read_as_what_to_do():
    from chromadb.errors import InternalError

    s = Settings.load(index_dir="/x/index")
    assert "read-only" in str(store_error(InternalError("attempt to write a readonly database"), s))
    assert "disk holding /x/index/ is full" in str(store_error(InternalError("database or disk is full"), s))
    assert store_error(ValueError("something else"), s) is None


# --- a full disk during an ingest: one line, the index as it was before that document -----------

def test_a_full_disk_mid_ingest_is_one_line_and_loses_nothing(tiny_corpus, embedded_settings, monkeypatch, capsys):
    from chromadb.api.models.Collection import Collection
    from chromadb.errors import InternalError

    from rag import cli

    profile, call = sorted(f for f in tiny_corpus.iterdir() if f.suffix != ".toml")[:2]
    ingest([profile], embedded_settings)
    before = Store(embedded_settings).committed_chunks()
    real = Collection.upsert

    def full(self, ids, *args, **kwargs):  # SQLite's own words, as Chroma passes them on
        if not self.name.endswith("-chunks"):
            return real(self, ids, *args, **kwargs)
        real(self, ids[:1], *(a[:1] for a in args), **{k: v[:1] for k, v in kwargs.items()})
        raise InternalError("database or disk is full")

    monkeypatch.setattr(Collection, "upsert", full)
    rc = cli.main(["ingest", str(tiny_corpus), "--index", str(embedded_settings.index_dir), "--embed-model", "hash"])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and "is full" in err
    assert Store(embedded_settings).committed_chunks() == before
    monkeypatch.setattr(Collection, "upsert", real)
    report = ingest([tiny_corpus], embedded_settings)  # space freed: the re-run converges
    assert report.ok and not report.failed
    assert {c.source for c in Store(embedded_settings).committed_chunks()} >= {str(profile.resolve()),
                                                                               str(call.resolve())}
    assert Store(embedded_settings).pending() == []


# --- a read-only index ---------------------------------------------------------------------------

@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="root without setpriv")
def test_a_read_only_index_is_refused_in_one_line(tiny_corpus, tmp_path):
    import tempfile

    # a folder an unprivileged user can reach (pytest's are private to root)
    base = Path(tempfile.mkdtemp(prefix="rag-ro-"))
    try:
        base.chmod(0o755)
        index = base / "index"
        tiny_corpus = Path(shutil.copytree(tiny_corpus, base / "tiny"))
        ingest([tiny_corpus], Settings.load(index_dir=str(index), embed_model="hash"))
        user = None
        if os.geteuid() == 0:
            user = 65534  # nobody: the files stay root's, so the index is read-only to it
            probe = subprocess.run(["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups",
                                    sys.executable, "-c", "import rag, chromadb"], capture_output=True, cwd=base)
            if probe.returncode:  # e.g. a clone inside `mktemp -d`, which only root may enter
                pytest.skip("this checkout or its .venv is not readable by uid 65534, so the index cannot "
                            "be tried as another user: " + probe.stderr.decode().strip().splitlines()[-1])
            for p in [index, *index.rglob("*")]:
                p.chmod(0o755 if p.is_dir() else 0o644)
        else:
            for p in [index, *index.rglob("*")]:
                p.chmod(0o555 if p.is_dir() else 0o444)
        env = {"XDG_CACHE_HOME": str(base / "cache"), "HOME": str(base)}
        for args, stdin in ((["ask", "What was total revenue?"], None), (["list"], None),
                            (["ingest", str(tiny_corpus)], None), (["ask", "-", "--json"], b"What was total revenue?\n")):
            rc, out, err = run([*args, "--index", str(index)], base, stdin=stdin, env=env, user=user)
            message = json.loads(out)["error"] if stdin else err.strip()
            assert rc == 1 and "read-only" in message and "cp -r" in message, (args, out, err)
            assert "\n" not in message
    finally:
        for p in [base, *base.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        shutil.rmtree(base, ignore_errors=True)


# --- never stale -------------------------------------------------------------------------------

def test_an_engine_sees_what_another_process_ingested_or_removed(tiny_corpus, settings, tmp_path, monkeypatch):
    import rag.engine

    monkeypatch.setattr(rag.engine, "FRESH_EVERY", 0.0)
    profile = next(f for f in tiny_corpus.iterdir() if f.name == "acme-profile.md")
    ingest([profile], settings)
    engine = Engine(settings)
    extra = tmp_path / "extra" / "zephyr.txt"
    extra.parent.mkdir()
    extra.write_text("Zephyr Corp. recorded bauxite shipments of 4,417 tonnes in 2024.\n")
    ingest([extra.parent], settings)  # as another process would: the engine is not told
    assert "4,417" in engine.ask("How many tonnes of bauxite did Zephyr ship?").text
    remove(str(extra), settings)
    assert "4,417" not in engine.ask("How many tonnes of bauxite did Zephyr ship?").text
    remove(str(profile), settings)
    with pytest.raises(IndexEmptyError):
        engine.ask("How many tonnes of bauxite did Zephyr ship?")


def test_an_unchanged_engine_does_not_reload(tiny_corpus, embedded_settings, monkeypatch):
    import rag.engine

    monkeypatch.setattr(rag.engine, "FRESH_EVERY", 0.0)
    ingest([tiny_corpus], embedded_settings)
    engine = Engine(embedded_settings)
    retriever = engine.retriever
    engine.ask("What was total revenue?")
    ingest([tiny_corpus], embedded_settings)  # nothing changed: no new generation
    engine.ask("What was total revenue?")
    assert engine.retriever is retriever


def test_store_error_passes_through_unchanged():
    e = StoreError("x")
    assert store_error(e, Settings.load()) is e


# --- re-ingest in proportion to what changed ------------------------------------------------

def test_an_unchanged_file_is_not_read_again_and_a_touched_one_is_hashed_once(tiny_corpus, embedded_settings,
                                                                              monkeypatch):
    ingest([tiny_corpus], embedded_settings)
    reads = []
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: reads.append(self.name) or real(self))
    report = ingest([tiny_corpus], embedded_settings)
    assert reads == [] and len(report.unchanged) == len(report.unchanged + report.added + report.updated) > 0
    profile = tiny_corpus / "acme-profile.md"
    os.utime(profile, ns=(time.time_ns(), time.time_ns() + 10**9))  # touched, not changed
    report = ingest([tiny_corpus], embedded_settings)
    assert reads == ["acme-profile.md"] and not report.updated and report.embedded == 0
    reads.clear()
    ingest([tiny_corpus], embedded_settings)
    assert reads == []  # its new time was recorded
    profile.write_text(profile.read_text().replace("1987", "1990"))
    report = ingest([tiny_corpus], embedded_settings)
    assert report.updated == [str(profile.resolve())]


# --- the login kept off the command line -------------------------------------------------------

def _served(monkeypatch, tmp_path, *args) -> tuple[int, dict]:
    import gradio as gr

    from rag.cli import main

    seen: dict = {}
    monkeypatch.setattr(gr.Blocks, "launch", lambda self, **kw: seen.update(kw))
    return main(["serve", "--index", str(tmp_path / "index"), "--embed-model", "hash", *args]), seen


def test_serve_reads_the_login_from_a_file(tiny_corpus, embedded_settings, tmp_path, monkeypatch, capsys):
    ingest([tiny_corpus], embedded_settings)
    secret = tmp_path / "login"
    secret.write_text("ana:s3cret:with:colons\n")
    secret.chmod(0o600)
    rc, seen = _served(monkeypatch, tmp_path, "--auth-file", str(secret))
    assert rc == 0 and seen["auth"] == ("ana", "s3cret:with:colons") and "warning" not in capsys.readouterr().err
    secret.chmod(0o644)
    rc, seen = _served(monkeypatch, tmp_path, "--auth-file", str(secret))
    assert rc == 0 and "may be read by other users" in capsys.readouterr().err
    for content in ("", "nocolon\n", ":pw\n"):
        secret.write_text(content)
        rc, _ = _served(monkeypatch, tmp_path, "--auth-file", str(secret))
        err = capsys.readouterr().err
        assert rc == 2 and err.count("\n") == 1 and "USER:PASSWORD" in err
    rc, _ = _served(monkeypatch, tmp_path, "--auth-file", str(tmp_path / "missing"))
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "cannot read it" in err
    rc, seen = _served(monkeypatch, tmp_path, "--auth", "bo:pw")
    assert rc == 0 and seen["auth"] == ("bo", "pw") and "--auth-file" in capsys.readouterr().err
