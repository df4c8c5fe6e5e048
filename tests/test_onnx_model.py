"""The embedding model on ONNX Runtime (rag/onnx_model.py): which models it takes, where the
export is kept, the fall-back to sentence-transformers, and (integration) the same vectors."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag import onnx_model
from rag.embed import SentenceTransformerEmbedder, get_embedder

ROOT = Path(__file__).resolve().parent.parent


def _model_dir(tmp_path: Path, modules=("Transformer", "Pooling", "Normalize"), pooling="mean_tokens",
               tokenizer=True) -> Path:
    d = tmp_path / "model"
    (d / "1_Pooling").mkdir(parents=True)
    (d / "modules.json").write_text(json.dumps(
        [{"idx": i, "name": str(i), "path": "", "type": f"sentence_transformers.models.{m}"}
         for i, m in enumerate(modules)]))
    modes = ("cls_token", "mean_tokens", "max_tokens", "mean_sqrt_len_tokens")
    (d / "1_Pooling" / "config.json").write_text(json.dumps(
        {"word_embedding_dimension": 8} | {f"pooling_mode_{m}": m == pooling for m in modes}))
    if tokenizer:
        (d / "tokenizer.json").write_text("{}")
    return d


@pytest.mark.parametrize("kwargs, ok", [
    ({}, True),
    ({"modules": ("Transformer", "Pooling")}, True),
    ({"pooling": "cls_token"}, False),  # another pooling: left to sentence-transformers
    ({"modules": ("Transformer", "Pooling", "Dense", "Normalize")}, False),
    ({"tokenizer": False}, False),  # no fast tokenizer's file to read
])
def test_supported_models(tmp_path, kwargs, ok):
    assert onnx_model.supported(_model_dir(tmp_path, **kwargs)) is ok


def test_export_key_follows_the_model_files_not_the_export(tmp_path):
    d = _model_dir(tmp_path)
    key = onnx_model._key(d)
    (d / "onnx").mkdir()
    (d / "onnx" / "rag-qa-x.onnx").write_bytes(b"graph")
    assert onnx_model._key(d) == key  # the export itself does not change its name
    (d / "config.json").write_text("{}")
    assert onnx_model._key(d) != key  # a changed model is exported again


def test_export_kept_beside_the_model_else_in_the_cache(tmp_path, monkeypatch):
    d = _model_dir(tmp_path)
    assert onnx_model.onnx_path(d).parent == d / "onnx"
    monkeypatch.setattr(onnx_model.os, "access", lambda p, mode: Path(p) != d)  # a read-only model folder
    p = onnx_model.onnx_path(d)
    assert p.is_relative_to(tmp_path / "cache" / "rag-qa" / "onnx") and p.name.startswith("rag-qa-")


def test_a_failed_export_falls_back_to_sentence_transformers(tmp_path, monkeypatch, caplog):
    d = _model_dir(tmp_path)

    def broken(path, dest):
        raise RuntimeError("the exporter is missing an operator\nsecond line")

    monkeypatch.setattr(onnx_model, "_export", broken)
    with caplog.at_level(logging.WARNING, logger="rag.onnx_model"):
        assert onnx_model.load(d) is None
    assert "runs on torch" in caplog.text and "missing an operator" in caplog.text
    assert "second line" not in caplog.text
    e = SentenceTransformerEmbedder("m", d, device="auto")
    monkeypatch.setattr(e, "_torch_model", lambda: "the torch model")
    monkeypatch.setattr("rag.embed._nvidia_gpu", lambda: False)
    assert e.model == "the torch model"


def test_devices_choose_the_runtime(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(onnx_model, "load", lambda path: calls.append(path) or "onnx model")
    for device, gpu, want in (("auto", False, "onnx model"), ("onnx", True, "onnx model"),
                              ("auto", True, "torch model"), ("cpu", False, "torch model"),
                              ("cuda", True, "torch model")):
        e = SentenceTransformerEmbedder("m", tmp_path, device=device)
        monkeypatch.setattr(e, "_torch_model", lambda: "torch model")
        monkeypatch.setattr("rag.embed._nvidia_gpu", lambda gpu=gpu: gpu)
        assert e.model == want, (device, gpu)


@pytest.mark.integration
def test_same_vectors_as_sentence_transformers():
    """Questions, a batch padded to its longest text, and a text past the model's 256 word pieces
    (truncated, as sentence-transformers does)."""
    e = get_embedder("all-MiniLM-L6-v2")
    assert isinstance(e.model, onnx_model.OnnxModel)
    texts = ["How much did cloud revenue grow?", "EBITDA", "Net cash position of RMB 365.9 billion " * 3,
             "revenue " * 400, ""]
    got = e.embed_documents(texts)
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(e.path), device="cpu", local_files_only=True)
    want = st.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    assert got.shape == want.shape == (len(texts), e.dim) and got.dtype == np.float32
    assert float(np.abs(got - want).max()) < 1e-5
    assert np.allclose(e.embed_query(texts[0]), want[0], atol=1e-5)


@pytest.mark.integration
def test_asking_loads_no_torch(tmp_path):
    """With the export made (make setup), a process that embeds questions never imports torch:
    the cold start of `rag ask` is its index and its answer, not torch's import."""
    assert get_embedder("all-MiniLM-L6-v2").model is not None  # the export, unless a test before made it
    code = ("import sys; from rag.embed import get_embedder; "
            "v = get_embedder('all-MiniLM-L6-v2').embed_query('How much did cloud revenue grow?'); "
            "assert v.shape == (384,); print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers') "
            "if m in sys.modules))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.integration
def test_a_broken_export_is_never_kept(tmp_path, monkeypatch):
    """The export is written beside its place, checked, then renamed: one that fails its check
    (here torch's exporter writes a broken graph) leaves nothing a later run would read."""
    import torch

    def broken_graph(model, args, f, **kwargs):
        Path(f).write_bytes(b"half a graph")

    monkeypatch.setattr(torch.onnx, "export", broken_graph)
    dest = tmp_path / "onnx" / "rag-qa-x.onnx"
    from onnxruntime.capi.onnxruntime_pybind11_state import InvalidProtobuf

    with pytest.raises(InvalidProtobuf):
        onnx_model._export(get_embedder("all-MiniLM-L6-v2").path, dest)
    assert list((tmp_path / "onnx").iterdir()) == []
