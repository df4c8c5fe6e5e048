"""`rag ask` and `rag chat` as a user runs them: real subprocesses, JSON shapes, exit codes, and
never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rag.indexer import ingest


def run(args, tmp_path, stdin=None, env=None):
    e = {**os.environ, "RAG_EMBED_MODEL": "hash", "HF_HUB_OFFLINE": "1", **(env or {})}
    p = subprocess.run([sys.executable, "-m", "rag", *args], input=stdin, capture_output=True, text=True,
                       cwd=tmp_path, env=e, timeout=300)
    assert "Traceback" not in p.stderr, p.stderr
    return p


@pytest.fixture
def index(tiny_corpus, embedded_settings):
    ingest([tiny_corpus], embedded_settings)
    return str(embedded_settings.index_dir)


def test_ask_prints_answer_and_sources(index, tmp_path):
    p = run(["ask", "How much did widget revenue grow?", "--index", index], tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("12%")
    assert "Sources:" in p.stdout


def test_ask_json(index, tmp_path):
    p = run(["ask", "What was total revenue?", "--index", index, "--json", "-k", "3"], tmp_path)
    d = json.loads(p.stdout)
    assert set(d) >= {"question", "answer", "abstained", "citations", "timings_ms"}
    assert "4.2 billion" in d["answer"] and d["abstained"] is False
    c = d["citations"][0]
    assert c["quote"] in c["passage"] and c["end"] > c["start"]


def test_ask_batch_from_stdin(index, tmp_path):
    qs = "How much did widget revenue grow?\n\nWhat is Acme's dividend per share?\n   \nWho founded Acme?\n"
    p = run(["ask", "--json", "-", "--index", index], tmp_path, stdin=qs)
    lines = [json.loads(x) for x in p.stdout.splitlines()]
    assert [x["question"].strip() for x in lines] == ["How much did widget revenue grow?",
                                                       "What is Acme's dividend per share?", "Who founded Acme?"]
    assert lines[1]["abstained"] is True
    assert p.returncode == 0


@pytest.mark.parametrize("question", ["", "   ", "x" * 10_000])
def test_bad_questions_exit_2_with_a_message(index, tmp_path, question):
    p = run(["ask", question, "--index", index], tmp_path)
    assert p.returncode == 2
    assert p.stderr.startswith("rag: ") and len(p.stderr.strip().splitlines()) == 1


def test_missing_index_is_a_clear_error(tmp_path):
    p = run(["ask", "What was revenue?", "--index", str(tmp_path / "nowhere")], tmp_path)
    assert p.returncode == 1
    assert "No index at" in p.stderr and "rag ingest" in p.stderr


def test_unknown_answerer_is_a_usage_error(index, tmp_path):
    p = run(["ask", "What was revenue?", "--index", index, "--answerer", "oracle"], tmp_path)
    assert p.returncode == 2 and "extractive" in p.stderr


def test_mismatched_model_is_refused_with_the_fix(index, tmp_path):
    p = run(["ask", "What was revenue?", "--index", index], tmp_path, env={"RAG_EMBED_MODEL": "hash-128"})
    assert p.returncode == 1 and "re-ingest" in p.stderr


def test_chat_keeps_the_conversation(index, tmp_path):
    p = run(["chat", "--index", index], tmp_path, stdin="How much did widget revenue grow?\nand gadget?\n/quit\n")
    assert p.returncode == 0
    assert "12%" in p.stdout and "3%" in p.stdout


def test_environment_selects_the_index(index, tmp_path):
    p = run(["ask", "What was total revenue?"], tmp_path, env={"RAG_INDEX": index})
    assert p.returncode == 0 and "4.2 billion" in p.stdout
