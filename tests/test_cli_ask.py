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


# --- generative answers (a scripted OpenAI-compatible server on 127.0.0.1) -------------------------

def llm_args(index, scripted_llm) -> list[str]:
    return ["--index", index, "--answerer", "llm", "--llm-base-url", scripted_llm.url, "--llm-model", "scripted"]


def test_ask_llm_json_carries_the_unverified_sentences(index, tmp_path, scripted_llm):
    scripted_llm.model = lambda p: (f"Total revenue was USD 4.2 billion [{p.n('Total revenue')}]. "
                                    f"Net profit was USD 900 million [{p.n('Total revenue')}].")
    p = run(["ask", "What was total revenue?", "--json", *llm_args(index, scripted_llm)], tmp_path)
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["answer"] == "Total revenue was USD 4.2 billion [1]." and d["abstained"] is False
    assert d["unverified"] == ["Net profit was USD 900 million."] and "notice" not in d
    c = d["citations"][0]
    assert c["quote"] == "Total revenue was USD 4.2 billion, an increase of 7% year over year."
    assert c["quote"] in c["passage"]


def test_ask_llm_falls_back_with_a_notice_in_text_and_json(index, tmp_path, scripted_llm):
    from conftest import Reply

    scripted_llm.model = lambda p: Reply(status=500)
    notice = "The language model did not answer (HTTP 500); this is the extractive answer."
    p = run(["ask", "What was total revenue?", *llm_args(index, scripted_llm)], tmp_path)
    assert p.returncode == 0 and p.stdout.startswith(f"Note: {notice}\n") and "4.2 billion" in p.stdout
    assert "Sources:" in p.stdout
    p = run(["ask", "What was total revenue?", "--json", *llm_args(index, scripted_llm)], tmp_path)
    assert json.loads(p.stdout)["notice"] == notice


def test_ask_llm_streams_to_a_terminal_then_prints_the_verified_answer(index, scripted_llm, monkeypatch, capsys):
    from rag import cli

    reply = "Total revenue was USD 4.2 billion [{n}]. Net profit was USD 900 million [{n}]."
    scripted_llm.model = lambda p: reply.format(n=p.n("Total revenue"))
    monkeypatch.setattr(cli, "_is_terminal", lambda: True)
    assert cli.main(["ask", "What was total revenue?", "--embed-model", "hash", *llm_args(index, scripted_llm)]) == 0
    out = capsys.readouterr().out
    draft, _, final = out.partition("\x1b[0m\n\n")
    n = scripted_llm.prompts[-1].n("Total revenue")
    assert draft == "\x1b[2m" + reply.format(n=n)  # the model's words as they came, dimmed
    assert final.startswith("Total revenue was USD 4.2 billion [1].\n")
    assert "Unverified (not found in the cited sources):\n  ? Net profit was USD 900 million." in final
    assert "Sources:\n[1] Acme Corp Third Quarter 2025 Earnings Call" in final


def test_llm_configuration_errors_are_one_line_with_the_fix(index, tmp_path):
    p = run(["ask", "What was total revenue?", "--index", index, "--answerer", "llm"], tmp_path)
    assert p.returncode == 2 and "RAG_LLM_BASE_URL" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    p = run(["ask", "What was total revenue?", "--index", index, "--llm-api-key", "sk-x"], tmp_path)
    assert p.returncode == 2 and "unrecognized arguments: --llm-api-key" in p.stderr  # keys only from the environment
    p = run(["ask", "What was total revenue?", "--index", index, "--answerer", "llama-cpp"], tmp_path)
    assert p.returncode == 2 and "RAG_LLM_GGUF" in p.stderr


def test_the_api_key_comes_from_the_environment_and_is_never_printed(index, tmp_path, scripted_llm):
    key = "sk-cli-SECRET-42"
    scripted_llm.model = lambda p: "I don't know."
    p = run(["ask", "What is the dividend?", "--json", *llm_args(index, scripted_llm)], tmp_path,
            env={"RAG_LLM_API_KEY": key})
    assert p.returncode == 0 and json.loads(p.stdout)["abstained"] is True
    assert scripted_llm.prompts[-1].headers["authorization"] == f"Bearer {key}"
    assert key not in p.stdout + p.stderr
