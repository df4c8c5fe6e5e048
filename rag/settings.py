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


def bundled_corpus_dir() -> Path:
    """The corpus shipped with rag-qa: package data in a wheel, `corpus/` in a checkout."""
    installed = PACKAGE_DIR / "_corpus"
    if installed.is_dir():
        return installed
    return PACKAGE_DIR.parent / "corpus"


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
    device: str = "auto"
    chunk_size: int = 180  # tiktoken tokens; MiniLM reads 256 word pieces and drops the rest
    chunk_overlap: int = 30
    top_k: int = 5
    answerer: str = "extractive"
    glossary: Path | None = None

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
                elif isinstance(default, Path) or name == "glossary":
                    value = Path(value).expanduser()
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

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes` (None values ignored), parsed like the environment's."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        values.update({k: v for k, v in changes.items() if v is not None})
        return self._coerce({k: v for k, v in values.items() if v is not None})

    @property
    def index_label(self) -> str:
        """Where the index lives, for messages."""
        return f"{self.chroma_url} (collection {self.collection})" if self.chroma_url else f"{self.index_dir}/"
