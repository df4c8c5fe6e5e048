"""The answerers: one small protocol, a registry by name, and the abstention every answerer
gives. The default is the extractive answerer (rag/extractive/); the generative ones ("llm",
"llama-cpp") are in rag/generate.py and are imported only when chosen."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Protocol

from rag.cite import Answer
from rag.errors import UsageError
from rag.question import Query
from rag.retrieve import Hit


class Answerer(Protocol):
    """Turns a question and its retrieved passages into an Answer. Registered by name in
    `ANSWERERS`."""

    name: str

    def answer(self, query: Query, hits: list[Hit]) -> Answer: ...


class StreamingAnswerer(Answerer, Protocol):
    """An answerer that can also show its answer as it is written: `stream` yields text deltas
    (a draft), then the final, verified Answer."""

    def stream(self, query: Query, hits: list[Hit]) -> Iterator[str | Answer]: ...


# "module:Class", imported on first use: the generative answerers pull in their model clients
# only when chosen, and `import rag` stays light.
ANSWERERS: dict[str, str] = {
    "extractive": "rag.extractive:ExtractiveAnswerer",
    "llm": "rag.generate:LLMAnswerer",
    "llama-cpp": "rag.generate:LlamaCppAnswerer",
}


def get_answerer(name: str, settings=None, **kwargs) -> Answerer:
    """The answerer registered as `name`, configured from `settings` when it takes any (default:
    `Settings.load()`); an unknown name lists the valid ones."""
    try:
        cls = ANSWERERS[name]
    except KeyError:
        raise UsageError(f"Unknown answerer {name!r}; choose one of: {', '.join(sorted(ANSWERERS))}") from None
    if isinstance(cls, str):
        module, _, attr = cls.partition(":")
        cls = getattr(importlib.import_module(module), attr)
    if hasattr(cls, "from_settings") and not kwargs:
        from rag.settings import Settings

        return cls.from_settings(settings or Settings.load())
    return cls(**kwargs)


def abstain(question: str) -> Answer:
    """The answer when the documents don't say: it asserts nothing and cites nothing (nor does it
    repeat the question, whose figures and "[1]" would read as claims without a source)."""
    return Answer(question, "The documents don't say: no passage in the index answers this question.",
                  (), abstained=True)
