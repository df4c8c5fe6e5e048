"""The baseline beside our numbers: a plain llama-index pipeline (default SentenceSplitter, the
same MiniLM embedder, dense top-3, the top retrieved chunk as the answer), run on the same
questions in the same eval."""

from __future__ import annotations

import contextlib
import io
import logging
import time
from pathlib import Path

from rag.embed import get_embedder


def _llama_embedding(embedder):
    from llama_index.core.embeddings import BaseEmbedding

    class Adapter(BaseEmbedding):
        """The very same sentence-transformers model, handed to llama-index explicitly (its global
        default would mean a hosted API)."""

        def _get_query_embedding(self, query: str) -> list[float]:
            return embedder.embed_query(query).tolist()

        def _get_text_embedding(self, text: str) -> list[float]:
            return embedder.embed_documents([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return embedder.embed_documents(texts).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

    return Adapter(model_name=embedder.name, embed_batch_size=32)


class Baseline:
    name = "llama-index dense top-3"

    def __init__(self, files: list[Path], embed_model: str) -> None:
        from llama_index.core import Settings as LlamaSettings
        from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        with contextlib.redirect_stdout(io.StringIO()):  # it prints "LLM is explicitly disabled"
            LlamaSettings.llm = None  # never a hosted default
        logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
        self.embed = _llama_embedding(get_embedder(embed_model))
        docs = SimpleDirectoryReader(input_files=[str(f) for f in files]).load_data(show_progress=False)
        nodes = SentenceSplitter().get_nodes_from_documents(docs)
        self.index = VectorStoreIndex(nodes, embed_model=self.embed, show_progress=False)
        self.retriever = self.index.as_retriever(similarity_top_k=3)
        self.chunks = len(nodes)

    def ask(self, question: str) -> tuple[str, list[str], float]:
        """(answer text, retrieved passages, milliseconds)."""
        t0 = time.perf_counter()
        nodes = self.retriever.retrieve(question)
        ms = (time.perf_counter() - t0) * 1000
        texts = [n.node.get_content() for n in nodes]
        return (texts[0] if texts else ""), texts, ms
