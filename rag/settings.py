"""One frozen `Settings`, built in one place from defaults, `RAG_*` environment variables and
explicit overrides (CLI flags). Nothing heavy happens here: models load on first use elsewhere."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rag.errors import UsageError

DEFAULT_EMBED_MODEL = "all-MiniLM-L6-v2"
PACKAGE_DIR = Path(__file__).resolve().parent
UNVERIFIED_MODES = ("mark", "drop")


class Secret:
    """A credential (an API key): printed, logged or repr'd it is `***`; `reveal()` gives the
    value at the one place that sends it. Not a dataclass, so `dataclasses.asdict` of the
    settings cannot spell it out either.

    >>> Secret("sk-123")
    ***
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "***"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))


def bundled_corpus_dir() -> Path:
    """The corpus shipped with rag-qa: package data in a wheel, `corpus/` in a checkout."""
    installed = PACKAGE_DIR / "_corpus"
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / "corpus"


def cache_dir() -> Path:
    """The user's cache folder for rag-qa (`$XDG_CACHE_HOME/rag-qa`, else `~/.cache/rag-qa`): what
    can be made again (page images, lexical copies, the ONNX export, locks of a server's index)."""
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rag-qa"


@dataclass(frozen=True)
class Settings:
    """Every knob of the pipeline. Build with `Settings.load(**overrides)`.

    >>> Settings.load(top_k=3).top_k
    3
    """

    index_dir: Path = Path("index")
    chroma_url: str | None = None
    collection: str = "rag"
    embed_model: str = DEFAULT_EMBED_MODEL
    device: str = "auto"  # auto: ONNX Runtime on the CPU, torch on CUDA with an NVIDIA GPU; onnx; cpu (torch); cuda
    chunk_size: int = 180  # tiktoken tokens; MiniLM reads 256 word pieces and drops the rest
    chunk_overlap: int = 30
    top_k: int = 5
    answerer: str = "extractive"
    glossary: Path | None = None
    # generative answerers (rag/generate.py): an OpenAI-compatible endpoint, or a local GGUF file
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: Secret | None = None  # from the environment only, never a flag
    llm_timeout: float = 60.0  # seconds for the whole reply
    llm_unverified: str = "mark"  # a sentence that fails verification: "mark" (shown apart) or "drop"
    llm_gguf: Path | None = None
    # the web page (`rag serve`): the upload limit, and a login as USER:PASSWORD
    max_upload_mb: float = 50.0
    auth: Secret | None = None  # from the environment (RAG_AUTH) or --auth
    eval_cache: Path | None = None  # where `rag eval` keeps its indexes (default ~/.cache/rag-qa/eval-index)

    # environment variable -> field name; values are parsed by the field's type
    _ENV: ClassVar[dict[str, str]] = {
        "RAG_INDEX": "index_dir",
        "RAG_CHROMA_URL": "chroma_url",
        "RAG_COLLECTION": "collection",
        "RAG_EMBED_MODEL": "embed_model",
        "RAG_DEVICE": "device",
        "RAG_CHUNK_SIZE": "chunk_size",
        "RAG_CHUNK_OVERLAP": "chunk_overlap",
        "RAG_TOP_K": "top_k",
        "RAG_ANSWERER": "answerer",
        "RAG_GLOSSARY": "glossary",
        "RAG_LLM_BASE_URL": "llm_base_url",
        "RAG_LLM_MODEL": "llm_model",
        "RAG_LLM_API_KEY": "llm_api_key",
        "RAG_LLM_TIMEOUT": "llm_timeout",
        "RAG_LLM_UNVERIFIED": "llm_unverified",
        "RAG_LLM_GGUF": "llm_gguf",
        "RAG_MAX_UPLOAD_MB": "max_upload_mb",
        "RAG_AUTH": "auth",
        "RAG_EVAL_CACHE": "eval_cache",
    }

    @classmethod
    def load(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then `RAG_*` variables from `env` (default: os.environ), then `overrides`
        (None values are ignored, so CLI flags left unset don't mask the environment)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for var, name in cls._ENV.items():
            if env.get(var):
                values[name] = env[var]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls._coerce(values)

    @classmethod
    def _coerce(cls, values: dict[str, Any]) -> Settings:
        fields = {f.name: f for f in dataclasses.fields(cls)}
        out: dict[str, Any] = {}
        for name, value in values.items():
            if name not in fields:
                raise UsageError(f"Unknown setting {name!r}; valid: {', '.join(sorted(fields))}")
            default = fields[name].default
            try:
                if isinstance(default, bool):
                    value = str(value).lower() in ("1", "true", "yes")
                elif isinstance(default, int):
                    value = int(value)
                elif isinstance(default, float):
                    value = float(value)
                elif isinstance(default, Path) or name in ("glossary", "llm_gguf", "eval_cache"):
                    value = Path(value).expanduser()
                elif name in ("llm_api_key", "auth") and not isinstance(value, Secret):
                    value = Secret(str(value))
            except ValueError:
                raise UsageError(f"Setting {name} expects a number, got {value!r}") from None
            out[name] = value
        s = cls(**out)
        s.validate()
        return s

    def validate(self) -> None:
        if self.chunk_size < 32:
            raise UsageError(f"chunk_size must be at least 32 tokens, got {self.chunk_size}")
        if not 0 <= self.chunk_overlap < self.chunk_size // 2:
            raise UsageError("chunk_overlap must be between 0 and half of chunk_size")
        if not 1 <= self.top_k <= 50:
            raise UsageError(f"top_k must be between 1 and 50, got {self.top_k}")
        if self.llm_unverified not in UNVERIFIED_MODES:
            raise UsageError(f"RAG_LLM_UNVERIFIED must be mark or drop, got {self.llm_unverified!r}")
        if not self.max_upload_mb > 0:
            raise UsageError(f"RAG_MAX_UPLOAD_MB must be a positive number of megabytes, got {self.max_upload_mb:g}")
        if not self.llm_timeout > 0:
            raise UsageError(f"RAG_LLM_TIMEOUT must be a positive number of seconds, got {self.llm_timeout}")

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes` (None values ignored), parsed like the environment's."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values.update({k: v for k, v in changes.items() if v is not None})
        return self._coerce({k: v for k, v in values.items() if v is not None})

    @property
    def index_label(self) -> str:
        """Where the index lives, for messages."""
        return f"{self.chroma_url} (collection {self.collection})" if self.chroma_url else f"{self.index_dir}/"
