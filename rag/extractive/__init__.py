"""The extractive answerer, in named stages (see rag/extractive/answerer.py)."""

from rag.extractive.answerer import ExtractiveAnswerer
from rag.extractive.compose import quoted_answer
from rag.extractive.tables import row_answers

__all__ = ["ExtractiveAnswerer", "quoted_answer", "row_answers"]
