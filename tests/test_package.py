"""The package itself: a light import, a small public API, one Settings, the bundled corpus."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rag.errors import UsageError
from rag.settings import Settings


def test_import_rag_stays_light():
    code = ("import sys, rag; heavy = [m for m in ('torch', 'chromadb', 'sentence_transformers', 'llama_index', "
            "'bm25s', 'openai', 'llama_cpp') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_model_clients_load_only_when_a_generative_answerer_answers():
    code = ("import sys, rag.answerers, rag.extractive, rag.generate, rag.engine; from rag.answerers import ANSWERERS; "
            "print(sorted(ANSWERERS), [m for m in ('openai', 'llama_cpp') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['extractive', 'llama-cpp', 'llm'] []"


def test_public_api():
    import rag

    assert set(rag.__all__) == {"Answer", "Chat", "Citation", "Engine", "RagError", "Settings", "ask", "ingest"}
    from rag import ingest

    assert callable(ingest) and ingest.__name__ == "ingest"


def test_settings_from_env_and_overrides():
    s = Settings.load(env={"RAG_TOP_K": "7", "RAG_INDEX": "/tmp/x"}, top_k=None)
    assert s.top_k == 7 and str(s.index_dir) == "/tmp/x"
    assert Settings.load(env={"RAG_TOP_K": "7"}, top_k=3).top_k == 3
    with pytest.raises(UsageError):
        Settings.load(env={"RAG_TOP_K": "many"})
    with pytest.raises(UsageError):
        Settings.load(top_k=0)


def test_bundled_corpus_ships_with_a_glossary():
    from rag.settings import bundled_corpus_dir

    d = bundled_corpus_dir()
    assert (d / "alibaba-dec-quarter-2024.txt").is_file() and (d / "glossary.toml").is_file()
