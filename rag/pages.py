"""The page behind a citation: a cited PDF page rendered as an image, with the quote (and, for a
computed answer, the operand's cell) boxed where it is printed, so that a reader checks a figure
against the statement itself without leaving the answer.

A citation's offsets index the page's text as the indexer cleaned it (`indexer._clean_pdf_text`:
NULs and CRs dropped, U+FFFE read as a hyphen or a lost ligature). The same cleaning, run again
on PDFium's text of that page, maps those offsets back to PDFium's characters, and each
character's box (`PdfTextPage.get_charbox`) gives where it is printed. A file changed since it
was indexed, or gone, gives no image (the page shows the passage instead).

Images are rendered once (pypdfium2, RENDER_WIDTH pixels wide) and kept in `<index>/pages/`, or
in the user's cache for a Chroma server or a folder this user may not write. Only PDFs have pages
to show; a text source's passage is shown with its quote marked (ui.format).

Left out on purpose: rotated pages get the page without a box (the boxes would need the page's
rotation applied); a quote found twice on its page is boxed where the citation's offsets put it.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from rag.settings import Settings, cache_dir
from rag.text import whole_figure

RENDER_WIDTH = 1240  # px: the page at about 150 dpi, sharp when enlarged; shown at the chat's width
MARK_FILL = (255, 214, 10, 70)  # the quote: translucent yellow, the text stays readable
MARK_EDGE = (230, 126, 0, 255)
CELL_EDGE = (200, 30, 30, 255)  # an operand's cell: red
PAD = 1.5  # points around a line's characters
VERSION = "1"  # part of every image's name: a change to how pages are drawn renders them again

_render_lock = threading.Lock()  # PDFium is not thread-safe: one document open at a time
_rendered: OrderedDict = OrderedDict()  # (file, size, mtime, page) -> the page's pixels, unmarked
RENDERED_KEEP = 8  # pages kept drawn (6 MB each): an answer's operands often share one statement page
PNG_LEVEL = 1  # zlib level: a 10-K page writes in 34 ms at 1, 62 ms at 6, for 13% more bytes


BAND = 0.36  # the part of the page shown beside an answer: this share of its height, the quote within


@dataclass(frozen=True)
class PageImage:
    """A rendered page: the PNG, its size in pixels, the boxes drawn on it as fractions of its
    width and height (x0, y0, x1, y1: the quote's lines; `cell`, the figure's), and a band of the
    page around them (`band_path`, from `band[0]` to `band[1]` of the height) to show at a
    readable size beside the answer, the whole page a click away."""

    path: Path
    width: int
    height: int
    marks: tuple[tuple[float, float, float, float], ...]
    cell: tuple[float, float, float, float] | None = None
    band_path: Path | None = None
    band: tuple[float, float] = (0.0, 1.0)

    def in_band(self, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        """A box in fractions of the band image instead of the page."""
        top, bottom = self.band
        span = max(1e-9, bottom - top)
        return box[0], (box[1] - top) / span, box[2], (box[3] - top) / span


def band_of(marks, share: float = BAND) -> tuple[float, float]:
    """The band of a page (top, bottom, fractions of its height) to show: `share` of the page
    centred on the marks (all of them, when they need more), kept inside the page."""
    if not marks:
        return 0.0, 1.0
    top, bottom = min(m[1] for m in marks), max(m[3] for m in marks)
    need = max(share, bottom - top + 0.04)
    if need >= 1:
        return 0.0, 1.0
    a = max(0.0, min((top + bottom) / 2 - need / 2, 1 - need))
    return round(a, 5), round(a + need, 5)


def pages_dir(settings: Settings) -> Path:
    """Where rendered pages are kept: `<index>/pages/`, else (a server's index, or one this user
    may not write) the user's cache, by collection."""
    if not settings.chroma_url and os.access(settings.index_dir, os.W_OK):
        return Path(settings.index_dir) / "pages"
    base = cache_dir() / "pages"
    return base / hashlib.sha256(f"{settings.chroma_url}\0{settings.collection}".encode()).hexdigest()[:16]


def _lines(boxes: list[tuple[float, float, float, float]]) -> list[tuple[float, float, float, float]]:
    """Character boxes (left, bottom, right, top, in reading order) joined into one box a printed
    line: a character starts a new line when its middle lies more than half a line's height above
    or below the line so far (a table row's cells, far apart on one baseline, stay one line)."""
    out: list[list[float]] = []
    for left, bottom, right, top in boxes:
        if out:
            cur = out[-1]
            mid, h = (bottom + top) / 2, max(cur[3] - cur[1], top - bottom, 1.0)
            if cur[1] - h / 2 <= mid <= cur[3] + h / 2:
                cur[:] = min(cur[0], left), min(cur[1], bottom), max(cur[2], right), max(cur[3], top)
                continue
        out.append([left, bottom, right, top])
    return [tuple(x) for x in out]


def page_text(textpage) -> tuple[str, str, list[int]]:
    """PDFium's text of a page, that text cleaned as the indexer cleaned it, and where each of
    PDFium's characters lands in the clean text (`indexer._clean_pdf_text`)."""
    from rag.indexer import _clean_pdf_text

    raw = textpage.get_text_range()
    return (raw, *_clean_pdf_text(raw))


def locate_quote(text: str, start: int, end: int, quote: str) -> tuple[int, int] | None:
    """Where the quote stands in the page's clean text: at the citation's offsets, else (an edit
    above it moved it) where the same words are; None when they are not on the page (the file changed)."""
    if text[start:end] == quote:
        return start, end
    i = text.find(quote) if quote else -1
    return (i, i + len(quote)) if i >= 0 else None


def char_boxes(textpage, raw: str, shift: list[int], start: int, end: int) -> list[tuple[float, float, float, float]]:
    """The printed boxes (PDF points) of the characters at clean offsets [start, end) of a page,
    one per line (`raw` and `shift` from `page_text`)."""
    boxes = []
    for i, ch in enumerate(raw):
        if start <= shift[i] < end and not ch.isspace() and ch != "\x00":
            left, bottom, right, top = textpage.get_charbox(i)
            if right > left and top > bottom:
                boxes.append((left, bottom, right, top))
    return _lines(boxes)


def render(source: str | Path, page: int, start: int, end: int, quote: str, settings: Settings,
           cell: str | None = None, wait: bool = True) -> PageImage | None:
    """Page `page` (1-based) of the PDF `source`, with the characters at cleaned offsets
    [start, end) (which must read `quote`) boxed, and the figure `cell` within them boxed apart;
    rendered once and cached. None for a source that is not a PDF on this machine, a page it no
    longer has, or text that no longer matches (the file changed since it was indexed).

    Where the boxes go is read at once (the page's text, ~10 ms); with `wait=False` the pixels are
    drawn and written in the background (`settle()` waits for them): for a source shown a click
    away, whose image is needed a moment later, not before the answer."""
    path = Path(source)
    if path.suffix.lower() != ".pdf" or not page or page < 1 or not path.is_file():
        return None
    st, resolved = path.stat(), path.resolve()
    key = hashlib.sha256(f"{VERSION}\0{resolved}\0{st.st_size}\0{st.st_mtime_ns}\0{page}\0{start}\0{end}\0"
                         f"{quote}\0{cell or ''}".encode()).hexdigest()[:32]
    folder = pages_dir(settings)
    out, band_png, meta = folder / f"{key}.png", folder / f"{key}-band.png", folder / f"{key}.txt"
    if out.exists() and meta.exists() and band_png.exists():
        try:
            return _read_meta(out, meta.read_text())
        except (ValueError, OSError):
            pass  # a damaged record: rendered again
    import pypdfium2 as pdfium

    with _render_lock:
        try:
            pdf = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError:
            return None
        try:
            if page > len(pdf):
                return None
            p = pdf[page - 1]
            textpage = p.get_textpage()
            raw, text, shift = page_text(textpage)
            span = locate_quote(text, start, end, quote)
            lines = char_boxes(textpage, raw, shift, *span) if span else []
            if not lines:
                return None
            at = whole_figure(text, cell, *span) if cell else None
            cell_box = next(iter(char_boxes(textpage, raw, shift, *at)), None) if at else None
            rotated = p.get_rotation() % 360 != 0
            crop_l, crop_b, crop_r, crop_t = p.get_cropbox()
            textpage.close()
            p.close()
        finally:
            pdf.close()
    pw, ph = max(1.0, crop_r - crop_l), max(1.0, crop_t - crop_b)

    def frac(box):  # PDF points (origin bottom left) to fractions of the page (origin top left)
        left, bottom, right, top = box
        return (max(0.0, (left - PAD - crop_l) / pw), max(0.0, (crop_t - top - PAD) / ph),
                min(1.0, (right + PAD - crop_l) / pw), min(1.0, (crop_t - bottom + PAD) / ph))

    marks = () if rotated else tuple(frac(b) for b in lines)
    cell_mark = None if rotated or cell_box is None else frac(cell_box)
    band = band_of(marks + ((cell_mark,) if cell_mark else ()))
    scale = RENDER_WIDTH / pw
    w, h = round(pw * scale), round(ph * scale)
    job = functools.partial(_draw, path, page, (str(resolved), st.st_size, st.st_mtime_ns, page), scale,
                            marks, cell_mark, band, folder, key)
    if not wait:
        future = _drawer().submit(job)
        future.add_done_callback(_report)
        with _pending_lock:
            _pending.append(future)
        return _read_meta(out, _write_meta(w, h, marks, cell_mark, band))  # as the record will read
    return job()


def _draw(path: Path, page: int, page_key: tuple, scale: float, marks, cell_mark, band, folder: Path,
          key: str) -> PageImage | None:
    """The page's pixels (drawn once, kept for the next citation on it), this citation's boxes on a
    copy, then the band, the whole page and the record written, each whole (renamed into place)."""
    import pypdfium2 as pdfium
    from PIL import ImageDraw

    with _render_lock:
        img = _rendered.get(page_key)
        if img is None:
            try:
                pdf = pdfium.PdfDocument(str(path))
            except pdfium.PdfiumError:
                return None
            try:
                p = pdf[page - 1]
                img = _rendered[page_key] = p.render(scale=scale).to_pil().convert("RGB")
                p.close()
            finally:
                pdf.close()
            while len(_rendered) > RENDERED_KEEP:
                _rendered.popitem(last=False)
        else:
            _rendered.move_to_end(page_key)
        img = img.copy()  # the marks are this citation's
    w, h = img.size
    draw = ImageDraw.Draw(img, "RGBA")
    for x0, y0, x1, y1 in marks:
        draw.rectangle((x0 * w, y0 * h, x1 * w, y1 * h), fill=MARK_FILL, outline=MARK_EDGE, width=2)
    if cell_mark:
        x0, y0, x1, y1 = cell_mark
        draw.rectangle((x0 * w - 2, y0 * h - 2, x1 * w + 2, y1 * h + 2), outline=CELL_EDGE, width=3)
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{key}.png"
    tmp = folder / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
    img.crop((0, round(band[0] * h), w, round(band[1] * h))).save(tmp, format="PNG", compress_level=PNG_LEVEL)
    os.replace(tmp, folder / f"{key}-band.png")
    img.save(tmp, format="PNG", compress_level=PNG_LEVEL)
    os.replace(tmp, out)
    record = _write_meta(w, h, marks, cell_mark, band)
    tmp.write_text(record)
    os.replace(tmp, folder / f"{key}.txt")
    return _read_meta(out, record)


_pending: list = []
_pending_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _drawer():
    """One background drawer (PDFium draws one page at a time anyway); its thread is joined at exit."""
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-pages")


def _report(future) -> None:
    """A page drawn in the background that failed (a full disk, a damaged page): one log line; the
    source still shows its passage, and the next answer citing it draws it again."""
    if future.exception() is not None:
        logging.getLogger("rag.pages").warning("drawing a cited page failed: %s", future.exception())


def settle(timeout: float | None = 30) -> None:
    """Wait for the pages being drawn in the background (`render(wait=False)`)."""
    with _pending_lock:
        todo, _pending[:] = list(_pending), []
    for f in todo:
        f.result(timeout)


def _write_meta(w: int, h: int, marks, cell, band) -> str:
    rows = [f"{w} {h}", "band " + " ".join(f"{v:.5f}" for v in band)]
    rows += ["mark " + " ".join(f"{v:.5f}" for v in m) for m in marks]
    if cell:
        rows.append("cell " + " ".join(f"{v:.5f}" for v in cell))
    return "\n".join(rows) + "\n"


def _read_meta(png: Path, text: str) -> PageImage:
    rows = text.splitlines()
    w, h = (int(x) for x in rows[0].split())
    got = {r.split()[0]: tuple(float(v) for v in r.split()[1:]) for r in rows[1:] if r.split()[0] in ("band", "cell")}
    marks = tuple(tuple(float(v) for v in r.split()[1:]) for r in rows[1:] if r.startswith("mark "))
    return PageImage(png, w, h, marks, got.get("cell"), png.with_name(png.stem + "-band.png"), got["band"])
