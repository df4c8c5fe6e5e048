"""The page behind a citation (rag.pages): the cited PDF page drawn with the quote boxed where
the fixture prints it. tests/fixtures/make_pdfs.py writes line i of a page with its baseline at
0.96 - 0.0185 i of the page's height from the bottom, starting at 6% of its width: the expected
places below come from that layout, not from the code under test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from rag import pages
from rag.indexer import _read_pdf
from rag.pages import pages_dir, render
from rag.settings import Settings

PDFS = Path(__file__).resolve().parent / "fixtures" / "pdf"
LEFT, TOP, STEP = 0.06, 0.96, 0.0185


def baseline(i: int) -> float:
    """Line i's baseline, as a fraction of the page's height from the top."""
    return 1 - (TOP - i * STEP)


@pytest.fixture
def settings(tmp_path) -> Settings:
    (tmp_path / "index").mkdir()
    return Settings.load(env={}, index_dir=str(tmp_path / "index"), embed_model="hash")


@pytest.fixture
def report(tmp_path) -> Path:
    p = tmp_path / "report.pdf"
    shutil.copy(PDFS / "report.pdf", p)
    return p


def _span(path: Path, page: int, quote: str) -> tuple[int, int]:
    _, got = _read_pdf(path, [])
    text = next(p.text for p in got if p.page == page)
    start = text.index(quote)
    return start, start + len(quote)


def test_a_table_row_is_boxed_on_its_line_and_its_figure_apart(report, settings):
    # page 2, line 9: "Total 2,400 2,230 9%"
    quote = "Total 2,400 2,230 9%"
    start, end = _span(report, 2, quote)
    image = render(report, 2, start, end, quote, settings, cell="2,400")
    assert image is not None and image.width >= 600 and image.path.is_file()
    (x0, y0, x1, y1), = image.marks
    assert y0 < baseline(9) < y1 and y1 - y0 < STEP * 1.2  # that line, not its neighbours
    assert abs(x0 - LEFT) < 0.01 and x1 < 0.5
    cx0, cy0, cx1, cy1 = image.cell
    assert x0 < cx0 < cx1 < x1 and cy0 < baseline(9) < cy1 and cx1 - cx0 < (x1 - x0) / 2
    with Image.open(image.path) as img:  # drawn: tinted inside the box, white beside it
        w, h = img.size
        inside = img.getpixel((int((x0 + 0.002) * w), int((y0 + y1) / 2 * h)))
        beside = img.getpixel((int((x1 + 0.1) * w), int((y0 + y1) / 2 * h)))
    assert beside == (255, 255, 255) and inside != (255, 255, 255) and inside[2] < inside[0]
    top, bottom = image.band  # the band shown beside the answer holds the boxes, at the page's width
    assert top < y0 and y1 < bottom and bottom - top == pytest.approx(pages.BAND, abs=1e-3)
    with Image.open(image.band_path) as band:
        assert band.size == (w, round(bottom * h) - round(top * h))
        bx0, by0, bx1, by1 = image.in_band((x0, y0, x1, y1))
        assert band.getpixel((int((bx0 + 0.002) * w), int((by0 + by1) / 2 * band.size[1]))) == inside


def test_the_band_stays_on_the_page_and_holds_every_mark():
    assert pages.band_of([]) == (0.0, 1.0)
    assert pages.band_of([(0, 0.02, 1, 0.04)]) == (0.0, pages.BAND)  # at the top: not above the page
    assert pages.band_of([(0, 0.96, 1, 0.98)])[1] == 1.0
    top, bottom = pages.band_of([(0, 0.1, 1, 0.12), (0, 0.7, 1, 0.72)])
    assert top <= 0.1 and bottom >= 0.72


def test_a_quote_over_two_lines_gets_a_box_a_line(report, settings):
    _, got = _read_pdf(report, [])
    text = got[0].text
    start = text.index("Revenue for fiscal 2024")
    nl = text.index("\n", start)
    end = text.index(".", nl) + 1  # into the next printed line
    image = render(report, 1, start, end, text[start:end], settings)
    assert len(image.marks) == 2
    first, second = image.marks
    assert first[3] <= second[1] + 0.002 and second[1] - first[1] == pytest.approx(STEP, abs=0.004)


def test_rendered_once_then_read_from_the_cache(report, settings, monkeypatch):
    quote = "Total 2,400 2,230 9%"
    start, end = _span(report, 2, quote)
    first = render(report, 2, start, end, quote, settings)
    assert first.path.parent == Path(settings.index_dir) / "pages"
    import pypdfium2

    monkeypatch.setattr(pypdfium2, "PdfDocument", lambda *a, **k: pytest.fail("rendered again"))
    assert render(report, 2, start, end, quote, settings) == first


def test_no_image_for_a_file_gone_changed_or_not_a_pdf(report, settings, tmp_path):
    quote = "Total 2,400 2,230 9%"
    start, end = _span(report, 2, quote)
    assert render(report, 9, start, end, quote, settings) is None  # no such page
    text = tmp_path / "a.txt"
    text.write_text(quote)
    assert render(text, 1, 0, len(quote), quote, settings) is None
    shutil.copy(PDFS / "call.pdf", report)  # the file changed since it was indexed
    assert render(report, 2, start, end, quote, settings) is None
    report.unlink()
    assert render(report, 2, start, end, quote, settings) is None


def test_pages_of_a_server_index_or_a_read_only_one_go_to_the_users_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    server = Settings.load(env={}, chroma_url="http://127.0.0.1:9", collection="c")
    assert pages_dir(server).parent == tmp_path / "cache" / "rag-qa" / "pages"
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o555)
    try:
        ro = pages_dir(Settings.load(env={}, index_dir=str(tmp_path / "ro")))
        import os

        assert ro.parent == tmp_path / "cache" / "rag-qa" / "pages" or os.access(tmp_path / "ro", os.W_OK)  # root writes anyway
    finally:
        (tmp_path / "ro").chmod(0o755)


def test_lines_join_a_rows_cells_and_split_at_a_new_line():
    row = [(10, 100, 20, 108), (60, 100, 80, 108), (200, 100.5, 220, 108.2)]
    below = [(10, 88, 20, 96)]
    assert pages._lines(row + below) == [(10, 100, 220, 108.2), (10, 88, 20, 96)]


def test_a_page_is_drawn_once_for_the_citations_on_it(report, settings, monkeypatch):
    """An answer's operands often stand on one statement page: its pixels are drawn once and each
    citation gets its own copy with its own box."""
    import pypdfium2

    pages._rendered.clear()
    calls: list[int] = []
    real = pypdfium2.PdfPage.render
    monkeypatch.setattr(pypdfium2.PdfPage, "render", lambda self, *a, **k: calls.append(1) or real(self, *a, **k))
    quotes = ["Total 2,400 2,230 9%", "Services 150 133 13%"]
    got = [render(report, 2, *_span(report, 2, q), q, settings) for q in quotes]
    assert len(calls) == 1 and got[0].marks != got[1].marks
    assert got[1].marks[0][3] <= got[0].marks[0][1] + 0.002  # "Services" is the line above "Total"


def test_a_page_a_click_away_is_drawn_in_the_background_alike(report, settings, tmp_path):
    quote = "Total 2,400 2,230 9%"
    start, end = _span(report, 2, quote)
    later = render(report, 2, start, end, quote, settings, cell="2,400", wait=False)
    assert later is not None and later.marks and later.cell  # where the boxes go is known at once
    pages.settle()
    assert later.path.is_file() and later.band_path.is_file()
    other = Settings.load(env={}, index_dir=str(tmp_path / "other"), embed_model="hash")
    (tmp_path / "other").mkdir()
    now = render(report, 2, start, end, quote, other, cell="2,400")
    assert (now.marks, now.cell, now.band) == (later.marks, later.cell, later.band)
    assert Image.open(now.path).tobytes() == Image.open(later.path).tobytes()


def test_a_figure_is_found_whole_not_inside_a_longer_one():
    from rag.text import whole_figure

    text = "Sales 12,400 2,400.5 (2,400) 2,400"
    assert whole_figure(text, "2,400") == (22, 27)  # inside "(2,400)": the parentheses are not digits
    assert whole_figure(text, "2,400", 27) == (29, 34)
    assert whole_figure(text, "2,400", 0, 20) is None and whole_figure(text, "(2,400)") == (21, 28)
