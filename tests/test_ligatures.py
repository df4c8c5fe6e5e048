"""PDFium marks a hyphen broken over a line, and a ligature whose glyph has no text, with U+FFFE:
the cleaned text has the hyphen or the letters, whichever makes an English word, and every
offset still lands on its word."""

from __future__ import annotations

import pytest

from rag.indexer import _clean_pdf_text, _mark


@pytest.mark.parametrize("raw, clean", [
    ("Gross pro\ufffet 1,822", "Gross profit 1,822"),
    ("Cash \ufffeows from operating activities", "Cash flows from operating activities"),
    ("the e\ufffeects of", "the effects of"),
    ("e\ufffeciency", "efficiency"),
    ("cloud\ufffebased services", "cloud-based services"),  # a real hyphen: no ligature makes a word
    ("non\ufffecurrent", "non-current"),
    ("line broken\ufffe\r\nhere", "line broken-\nhere"),
])
def test_marks_become_hyphens_or_ligatures(raw, clean):
    text, shift = _clean_pdf_text(raw)
    assert text == clean
    assert len(shift) == len(raw) + 1
    for i, ch in enumerate(raw):  # each kept character lands on itself
        if ch not in "\ufffe\r\x00":
            assert text[shift[i]] == ch


def test_a_mark_at_a_word_start_or_end():
    assert _mark("\ufffenancial", 0) == "fi" and _mark("bene\ufffe", 4) == "-"
