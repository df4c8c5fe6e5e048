"""A sentence-transformers model run by ONNX Runtime on the CPU: the same vectors as
sentence-transformers (within 1e-6), 3-4 times faster for a question, and no torch in a
process that only reads the index.

Why by hand: sentence-transformers' own ONNX backend needs `optimum`, whose releases pin
transformers 4.x and would replace the stack's transformers 5; Chroma's ONNX MiniLM pads every
text to 256 word pieces (a 13-piece question costs 20 times more) and is tied to its own download.
Measured on this machine's 2 cores (MiniLM-L6): a question 18 ms in torch, 5 ms here; a
180-token chunk 58 ms in torch and 46 ms here, both with two threads.

The model folder is exported once (torch's exporter: 12 s with its imports; `make setup` does it)
beside the model or in the user's cache, keyed by the model's files, checked against
sentence-transformers on a few texts before it is kept, and written atomically so that
concurrent first runs never read half a file. Models it cannot run
the same way (pooling other than the mean, extra modules) are left to sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import warnings
from pathlib import Path

import numpy as np

from rag.settings import cache_dir

log = logging.getLogger(__name__)

_CHECK_TEXTS = [
    "How much did cloud revenue grow?",
    "Revenue",
    "Cloud Intelligence Group revenue was RMB31,742 million (US$4,349 million), an increase of 13% "
    "year-over-year, driven by public cloud growth and AI-related product adoption.",
]
_LOCK = threading.Lock()


def _modules(path: Path) -> list[str] | None:
    try:
        return [m["type"].rsplit(".", 1)[-1] for m in json.loads((path / "modules.json").read_text())]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _mean_pooling(path: Path) -> bool:
    try:
        cfg = json.loads((path / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError):
        return False
    modes = [k for k, v in cfg.items() if k.startswith("pooling_mode") and v]
    return modes == ["pooling_mode_mean_tokens"]


def supported(path: Path) -> bool:
    """A Transformer, mean pooling and (optionally) normalising, with a fast tokenizer's file:
    the shape this runner reproduces exactly."""
    mods = _modules(path)
    return (mods in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"])
            and _mean_pooling(path) and (path / "tokenizer.json").is_file())


def _key(path: Path) -> str:
    """The export's name: the model's files (name, size, time), so that a changed model exports again."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and p.relative_to(path).parts[0] != "onnx"):
        st = f.stat()
        h.update(f"{f.relative_to(path)}:{st.st_size}:{st.st_mtime_ns};".encode())
    return h.hexdigest()[:16]


def onnx_path(path: Path) -> Path:
    """Where the export is kept: in the model's folder, `onnx/` (where Hugging Face model folders
    keep theirs), when it may be written (a virtual environment's copy, made once by `make setup`);
    else in the user's cache."""
    name = f"rag-qa-{_key(path)}.onnx"
    if os.access(path, os.W_OK):
        return path / "onnx" / name
    return cache_dir() / "onnx" / f"{path.parent.name}-{path.name}" / name


class OnnxModel:
    """`encode` as sentence-transformers' (the arguments the embedder passes), from the exported
    graph and the model's own tokenizer.json."""

    def __init__(self, path: Path, graph: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.path = path
        cfg = json.loads((path / "sentence_bert_config.json").read_text()) \
            if (path / "sentence_bert_config.json").is_file() else {}
        self.max_seq_length = int(cfg.get("max_seq_length") or 256)
        self.dim = int(json.loads((path / "1_Pooling" / "config.json").read_text())["word_embedding_dimension"])
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        # the file's own settings (MiniLM's: pad every text to 128) give way to sentence-transformers':
        # truncate at max_seq_length, pad to the longest text of the batch
        self.tokenizer.enable_truncation(self.max_seq_length)
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id("[PAD]") or 0)
        so = ort.SessionOptions()
        so.log_severity_level = 3
        so.intra_op_num_threads = min(4, os.cpu_count() or 1)
        # idle threads wait instead of spinning: on 2 busy cores (the page's users) a spinning pool
        # takes the CPU the other requests need (the same reason torch gets OMP_WAIT_POLICY=PASSIVE)
        so.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(graph), so, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]

    def get_sentence_embedding_dimension(self) -> int:
        return self.dim

    def encode(self, texts: list[str], batch_size: int = 32, normalize_embeddings: bool = True,
               **_ignored) -> np.ndarray:
        # longest first, as sentence-transformers does: a batch of like lengths pads little
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = []
        for i in range(0, len(texts), batch_size):
            enc = self.tokenizer.encode_batch([texts[j] for j in order[i:i + batch_size]])
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feed = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64), "attention_mask": mask,
                    "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64)}
            hidden = self.session.run(None, {k: feed[k] for k in self.inputs})[0]
            m = mask[..., None].astype(np.float32)
            vecs = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            if normalize_embeddings:
                vecs /= np.clip(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12, None)
            out.append(vecs.astype(np.float32))
        if not out:
            return np.zeros((0, self.dim), np.float32)
        vecs = np.empty((len(texts), self.dim), np.float32)
        vecs[order] = np.concatenate(out)
        return vecs


def _export(path: Path, dest: Path) -> None:
    """torch's exporter over the Hugging Face model (eager attention: the SDPA path traces its
    mask for the example's shape and gives wrong vectors at other lengths); then the export is
    checked against sentence-transformers before it is kept."""
    from rag.embed import sentence_transformer

    st = sentence_transformer(path, "cpu")  # first: it readies the environment torch reads at import
    import torch
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(str(path), attn_implementation="eager", local_files_only=True).eval()
    enc = st.tokenizer(_CHECK_TEXTS[:2], return_tensors="pt", padding=True)
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in enc]

    class Graph(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args):
            return self.model(**dict(zip(names, args))).last_hidden_state

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"hidden": {0: "batch", 1: "tokens"}}
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on shapes; the check below is what counts
            torch.onnx.export(Graph(bert), tuple(enc[n] for n in names), str(tmp), input_names=names,
                              output_names=["hidden"], dynamic_axes=axes, opset_version=17, dynamo=False)
        got = OnnxModel(path, tmp).encode(_CHECK_TEXTS)
        want = st.encode(_CHECK_TEXTS, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        worst = float(np.abs(got - want).max())
        if worst > 1e-4:
            raise ValueError(f"its vectors differ from sentence-transformers' by {worst:.2g}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def load(path: Path) -> OnnxModel | None:
    """The model folder at `path` on ONNX Runtime, exported on first use; None (and one log line)
    when it cannot be: the model has another shape, or onnxruntime or the exporter is missing,
    or the export failed its check. The caller then uses sentence-transformers."""
    if not supported(path):
        return None
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return None
    graph = onnx_path(path)
    with _LOCK:
        try:
            if not graph.is_file():
                log.warning("exporting the embedding model to ONNX once (%s)", graph.parent)
                _export(path, graph)
            return OnnxModel(path, graph)
        except Exception as e:  # the model still works through sentence-transformers
            log.warning("the embedding model runs on torch: no ONNX export (%s: %s)", type(e).__name__,
                        str(e).splitlines()[0][:160] if str(e) else "")
            return None
