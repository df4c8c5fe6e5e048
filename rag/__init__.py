"""rag-qa: answers about your documents, with the passages they came from.

>>> from rag import ask                                   # doctest: +SKIP
>>> print(ask("How much did cloud revenue grow?"))        # doctest: +SKIP

Importing `rag` is cheap: the engine, the model and Chroma load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Answer", "Chat", "Citation", "Engine", "RagError", "Settings", "ask", "ingest"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from rag.cite import Answer, Citation
    from rag.engine import Chat, Engine
    from rag.errors import RagError
    from rag.indexer import ingest
    from rag.settings import Settings

_LAZY = {"Answer": "rag.cite", "Citation": "rag.cite", "Chat": "rag.engine", "Engine": "rag.engine",
         "RagError": "rag.errors", "ingest": "rag.indexer", "Settings": "rag.settings"}
_engines: dict = {}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")


def ask(question: str, history: list[str] | None = None, **settings: Any) -> Answer:
    """Answer a question from the default index (built from the bundled corpus on first use),
    or from the index that `settings` (e.g. index_dir=..., top_k=...) name. The engine is kept
    between calls, so only the first call pays for loading the model."""
    from rag.engine import Engine
    from rag.settings import Settings

    s = Settings.load(**settings)
    engine = _engines.get(s)
    if engine is None:
        engine = _engines[s] = Engine(s)
    return engine.ask(question, history)
