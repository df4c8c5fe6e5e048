"""Chunking: token-sized passages made of whole sentences (or table rows), each knowing where it
came from: source, title, page, section heading, transcript segment and analyst, and its exact
character offsets in the page's (or document's) extracted text.

Left out on purpose: semantic or layout-aware chunking, and chunks spanning PDF pages (a citation
names one page).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from rag.text import Unit, count_tokens, split_units


@dataclass(frozen=True)
class Page:
    """Extracted text of one page (PDF) or of a whole document (page None)."""

    text: str
    page: int | None = None


@dataclass(frozen=True)
class Chunk:
    id: str
    text: str
    source: str
    title: str
    page: int | None
    section: str | None
    segment: str | None
    speaker: str | None
    analyst: str | None
    start: int
    end: int
    doc_hash: str
    index: int
    header: str | None = None  # the column header above a table chunk ("2022 Change 2021 ...")

    @property
    def file_name(self) -> str:
        """The source's file name as words ("APPLE_2022_10K.pdf" -> "APPLE 2022 10K"): it often
        names the company and period that the title leaves out."""
        return Path(self.source).stem.replace("_", " ")

    def embed_text(self) -> str:
        """What the embedder reads: the passage under its document title and section, so a
        table row from Apple's 10-K is not just numbers (the stored text stays exact)."""
        head = " / ".join(x for x in (self.title, self.segment or self.section, self.header) if x)
        return f"{head}\n{self.text}" if head else self.text

    def metadata(self) -> dict:
        """Chroma metadata: scalars only, None dropped (Chroma rejects None values)."""
        meta = asdict(self)
        del meta["id"], meta["text"]
        return {k: v for k, v in meta.items() if v is not None}

    @classmethod
    def from_record(cls, id: str, text: str, meta: dict) -> Chunk:
        fields = {f: meta.get(f) for f in cls.__dataclass_fields__ if f not in ("id", "text")}
        return cls(id=id, text=text, **fields)


# --- transcript structure --------------------------------------------------------------------

_QUESTION_FROM = re.compile(
    r"(?:first|next|following|last|final)\s+question\s+(?:comes|is)\s+from(?:\s+the\s+line\s+of)?\s+"
    r"(?P<name>[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*){0,3})"
    r"(?:\s*(?:with|from|of|at)\s+(?P<firm>[A-Z][\w.&'-]*(?:\s+[A-Z&][\w.&'-]*){0,4}))?",
)
_CALL_OPENING = re.compile(
    r"(?:welcome to|thank you for standing by|good (?:day|morning|afternoon|evening)).{0,160}?"
    r"\b(?:call|conference|webcast)\b", re.I)
_QA_OPENING = re.compile(
    r"open (?:it |the (?:call|line|floor) )?(?:up )?(?:the (?:call|line|floor) )?for (?:q&a|questions)|"
    r"question-and-answer session|"
    r"q&a session|begin the question", re.I)
_SPEAKER_LINE = re.compile(r"^(?P<name>[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){0,3})(?:\s+--\s+[^\n:]{2,80})?:\s")


def transcript_markers(text: str) -> list[tuple[int, str, str | None]]:
    """(offset, segment, analyst) where a call transcript's segment or questioner changes; empty
    for a text that is not a call transcript."""
    markers: list[tuple[int, str, str | None]] = []
    questions = list(_QUESTION_FROM.finditer(text))
    opening = _CALL_OPENING.search(text)
    qa = _QA_OPENING.search(text)
    if not (opening or questions):
        return markers
    if opening:
        line_start = text.rfind("\n", 0, opening.start()) + 1
        markers.append((line_start, "Prepared remarks", None))
    if qa or questions:
        qa_at = min(m.start() for m in [qa, *questions[:1]] if m is not None)
        line_start = text.rfind("\n", 0, qa_at) + 1
        markers.append((line_start, "Q&A", None))
    for m in questions:
        line_start = text.rfind("\n", 0, m.start()) + 1
        name, firm = m.group("name").strip(), (m.group("firm") or "").strip()
        firm = re.split(r"\.\s|\s(?:Please|Your)\b", firm)[0].rstrip(". ")
        markers.append((line_start, "Q&A", f"{name} ({firm})" if firm else name))
    markers.sort(key=lambda m: m[0])
    return markers


# --- chunking --------------------------------------------------------------------------------

def chunk_id(source: str, doc_hash: str, index: int, text: str, size: int, overlap: int) -> str:
    """Content-derived id: the same chunk written twice is the same record."""
    key = json.dumps({"source": source, "doc": doc_hash, "i": index, "text": text,
                      "size": size, "overlap": overlap}, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _split_long(text: str, unit: Unit, size: int) -> list[Unit]:
    """Cut a unit longer than `size` tokens at word boundaries (run-on lines, huge table rows)."""
    pieces, start = [], unit.start
    word_ends = [m.end() for m in re.finditer(r"\S+", text[unit.start:unit.end])]
    last = unit.start
    for we in word_ends:
        end = unit.start + we
        if count_tokens(text[start:end]) > size and last > start:
            pieces.append(Unit(start, last, unit.kind))
            start = last + len(text[last:end]) - len(text[last:end].lstrip())
        last = end
    pieces.append(Unit(start, unit.end, unit.kind))
    return pieces


def chunk_document(pages: list[Page], *, source: str, title: str, doc_hash: str,
                   size: int, overlap: int) -> list[Chunk]:
    """Pack each page's units into chunks of at most `size` tokens, repeating up to `overlap`
    tokens of trailing sentences at the start of the next chunk. A heading or a transcript
    marker always starts a new chunk, so a chunk has one section, segment and analyst."""
    chunks: list[Chunk] = []
    section: str | None = None
    # A transcript's segment and analyst carry over page breaks (a PDF's Q&A runs over pages).
    state: dict[str, str | None] = {"segment": None, "analyst": None}
    for page in pages:
        text = page.text
        markers = transcript_markers(text)
        units: list[tuple[Unit, int]] = []
        for u in split_units(text):
            n = count_tokens(text[u.start:u.end])
            if n > size:
                units.extend((p, count_tokens(text[p.start:p.end])) for p in _split_long(text, u, size))
            else:
                units.append((u, n))

        buf: list[tuple[Unit, int]] = []
        doc = {"source": source, "title": title, "doc_hash": doc_hash, "size": size, "overlap": overlap}

        mi = 0
        state["header"] = None  # a table's column header applies on its own page only
        for u, n in units:
            if u.kind == "row" and is_column_header(text[u.start:u.end]):
                if not buf or buf[-1][0].kind != "row":
                    state["header"] = text[u.start:u.end]
                elif state.get("header") is None:
                    state["header"] = text[u.start:u.end]
            boundary = False
            while mi < len(markers) and markers[mi][0] <= u.start:
                _, seg, analyst = markers[mi]
                mi += 1
                if seg == "Prepared remarks" and state["segment"] == "Q&A":
                    continue  # "good morning ... call" said during the Q&A of a later page
                boundary = True
                pending = (seg, analyst)
            if boundary or u.kind == "heading":
                _emit(chunks, buf, text, page.page, section, state, doc)
                buf = []
                if boundary:
                    state["segment"], state["analyst"] = pending
                    section = None  # the segment is now the most specific heading
                if u.kind == "heading":
                    section = text[u.start:u.end].strip().lstrip("#").strip()
            if buf and sum(k for _, k in buf) + n > size:
                _emit(chunks, buf, text, page.page, section, state, doc)
                tail, tokens = [], 0
                for prev in reversed(buf):
                    if prev[0].kind == "heading" or tokens + prev[1] > overlap:
                        break
                    tail.insert(0, prev)
                    tokens += prev[1]
                while tail and tokens + n > size:  # the overlap must not push the chunk past `size`
                    tokens -= tail.pop(0)[1]
                buf = tail
            buf.append((u, n))
        _emit(chunks, buf, text, page.page, section, state, doc)
    return chunks


def _emit(chunks: list[Chunk], buf: list[tuple[Unit, int]], text: str, page: int | None, section: str | None,
          state: dict, doc: dict) -> None:
    """Append the chunk made of the units in `buf` (nothing for headings alone)."""
    if not buf or all(u.kind == "heading" for u, _ in buf):
        return
    s, e = buf[0][0].start, buf[-1][0].end
    body = text[s:e]
    idx = len(chunks)
    chunks.append(Chunk(
        id=chunk_id(doc["source"], doc["doc_hash"], idx, body, doc["size"], doc["overlap"]), text=body,
        source=doc["source"], title=doc["title"], page=page, section=section,
        segment=state["segment"], speaker=_speaker_at(text, s), analyst=state["analyst"],
        start=s, end=e, doc_hash=doc["doc_hash"], index=idx,
        header=state.get("header") if any(u.kind == "row" for u, _ in buf) else None))


_YEARISH = re.compile(r"^(?:FY)?(?:19|20)\d\d$|^Q[1-4]$", re.I)


def is_column_header(line: str) -> bool:
    """A table's column header: two or more years (or quarters) and few other figures."""
    tokens = line.replace(",", " ").split()
    years = sum(1 for t in tokens if _YEARISH.match(t.strip("()")))
    others = sum(1 for t in tokens if re.match(r"^[$(]?\d", t) and not _YEARISH.match(t.strip("()")))
    return years >= 2 and others <= 1


def _speaker_at(text: str, offset: int) -> str | None:
    """The 'Name:' label of the line a chunk starts in, when the transcript labels speakers."""
    line_start = text.rfind("\n", 0, offset) + 1
    m = _SPEAKER_LINE.match(text[line_start:offset + 80])
    return m.group("name") if m else None
