"""End to end in a real browser: headless Debian Chromium driven by Playwright opens the page, asks
about the bundled corpus, uploads a document and asks about it. The index is built with the hash
embedder, which still answers "How much did cloud revenue grow?" with 13%.

Without Chromium (or Playwright) the test is skipped with the reason, except in CI (the CI variable
is set), where it fails: `make test` installs Chromium first. Screenshots go to reports/."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from rag.engine import Engine
from rag.indexer import ingest
from rag.settings import Settings, bundled_corpus_dir

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
TIMEOUT_MS = 30_000


def _need(what: str) -> None:
    msg = f"{what}; install it with: apt-get install -y chromium (and pip install playwright)"
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run in CI: {msg}")
    pytest.skip(msg)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("Playwright is not installed")
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        _need(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                              args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def url(tmp_path):
    from ui.app import build_app, launch

    settings = Settings.load(env={}, index_dir=str(tmp_path / "index"), embed_model="hash")
    ingest([bundled_corpus_dir()], settings)
    demo = build_app(Engine(settings))
    port = _free_port()
    launch(demo, host="127.0.0.1", port=port, block=False, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def _ask(page, question: str) -> str:
    """Type a question, press Enter, wait for the answer with its sources; the answer's text."""
    before = page.locator(".rag-answer .rag-sources, .rag-answer .rag-abstain").count()
    box = page.locator("#rag-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('.rag-answer .rag-sources, .rag-answer .rag-abstain').length > n",
        arg=before, timeout=TIMEOUT_MS)
    return page.locator(".rag-answer").last.inner_text()


def test_chat_upload_and_ask_in_a_real_browser(browser, url, tmp_path):
    REPORTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else None)
    page.goto(url)
    page.wait_for_selector("#rag-question textarea", timeout=TIMEOUT_MS)

    answer = _ask(page, "How much did cloud revenue grow?")
    assert "13%" in answer
    last = page.locator(".rag-answer").last
    assert last.locator(".rag-src").count() >= 1
    assert "Alibaba" in last.locator(".rag-src-head").first.inner_text()
    assert "13%" in last.locator(".rag-passage mark").first.inner_text()
    cite = last.locator("a.rag-cite").first
    target = cite.get_attribute("href")
    assert target and last.locator(target).count() == 1  # [1] links to source 1
    page.screenshot(path=str(REPORTS / "ui-chat.png"), full_page=True)

    follow = _ask(page, "and AIDC?")
    assert "32%" in follow and "Read as" in follow

    doc = tmp_path / "zorblat-note.txt"
    doc.write_text("Zorblat Widgets annual note\n\nThe Zorblat factory in Quexton produced 4,812 widgets in 2024, "
                   "up 17% from 2023.\n")
    page.get_by_role("tab", name="Documents").click()
    page.locator("#rag-upload input[type=file]").set_input_files(str(doc))
    page.wait_for_selector("#rag-upload-status li", timeout=TIMEOUT_MS)
    assert "added zorblat-note.txt" in page.locator("#rag-upload-status").inner_text()
    page.wait_for_function("() => document.querySelector('#rag-documents').innerText.includes('zorblat-note.txt')",
                           timeout=TIMEOUT_MS)

    page.get_by_role("tab", name="Chat").click()
    answer = _ask(page, "How many widgets did the Zorblat factory produce in 2024?")
    assert "4,812" in answer
    assert "Zorblat Widgets annual note" in page.locator(".rag-answer").last.locator(".rag-src-head").first.inner_text()
    page.screenshot(path=str(REPORTS / "ui-upload-answer.png"), full_page=True)

    page.locator("#rag-clear").click()  # a new conversation: nothing left of the old one
    page.wait_for_function("() => document.querySelectorAll('.rag-answer').length === 0", timeout=TIMEOUT_MS)
    _ask(page, "What was total revenue?")
    assert page.locator(".rag-answer").count() == 1
    assert page.locator(".rag-answer a.rag-cite").first.get_attribute("href") == "#rag-src-1-1"
    assert outside == []  # nothing the page loads leaves the machine


ZANTOR = ("Zantor Corporation Annual Report 2024\n\nZantor makes industrial pumps.\n\n"
          "CONSOLIDATED STATEMENTS OF OPERATIONS\n(In millions)\nYear Ended December 31, 2024 2023\n"
          "Net revenues 4,200 3,900\nCost of revenues 2,100 2,000\nNet income 700 650\n")


@pytest.fixture
def pdf_url(tmp_path):
    """The page over a PDF report (tests/fixtures/pdf, whose layout make_pdfs.py fixes) and a
    text filing with a statement, so that examples are made from the index's rows."""
    from ui.app import build_app, launch

    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "pdf" / "report.pdf", docs / "report.pdf")
    (docs / "ZANTOR_2024_10K.txt").write_text(ZANTOR)
    settings = Settings.load(env={}, index_dir=str(tmp_path / "index"), embed_model="hash")
    ingest([docs], settings)
    demo = build_app(Engine(settings))
    port = _free_port()
    launch(demo, host="127.0.0.1", port=port, block=False, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


def test_the_cited_pdf_page_is_shown_with_the_quote_marked(browser, pdf_url):
    """The statement page beside the answer: an image at least 600 px wide, loaded at once in
    the first source, its box on the line the fixture prints the quote on (page 2, line 9:
    baseline at 1 - (0.96 - 9 * 0.0185) of the height), and the box drawn there in the image."""
    REPORTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    page.goto(pdf_url)
    page.wait_for_selector("#rag-question textarea", timeout=TIMEOUT_MS)
    answer = _ask(page, "What was total revenue in EUR millions by segment?")
    assert "2,400" in answer
    img = page.locator(".rag-answer").last.locator(".rag-src").first.locator("img.rag-page")
    assert img.count() == 1 and img.get_attribute("loading") != "lazy"
    page.wait_for_function("el => el.complete && el.naturalWidth > 0", arg=img.element_handle(), timeout=TIMEOUT_MS)
    natural, shown = img.evaluate("el => [el.naturalWidth, el.getBoundingClientRect().width]")
    assert natural >= 600 and shown >= 600
    src = img.get_attribute("src")
    fragment = dict(part.split("=") for part in src.split("#")[1].split("&"))
    top, bottom = (float(v) for v in fragment["band"].split(","))
    x0, y0, x1, y1 = (float(v) for v in fragment["marks"].split(";")[0].split(","))
    line = 1 - (0.96 - 9 * 0.0185)  # on the page; the image shows the band from top to bottom of it
    assert top + y0 * (bottom - top) < line < top + y1 * (bottom - top) and abs(x0 - 0.06) < 0.01
    # read the drawn pixels in the browser: tinted at the box's left edge, white beside the box
    inside, beside = img.evaluate("""(el, m) => {
        const c = document.createElement('canvas'); c.width = el.naturalWidth; c.height = el.naturalHeight;
        const g = c.getContext('2d'); g.drawImage(el, 0, 0);
        const px = (fx, fy) => Array.from(g.getImageData(Math.round(fx * c.width), Math.round(fy * c.height), 1, 1).data);
        return [px(m[0] + 0.002, (m[1] + m[3]) / 2), px(m[2] + 0.1, (m[1] + m[3]) / 2)];
    }""", [x0, y0, x1, y1])
    assert beside[:3] == [255, 255, 255] and inside[:3] != [255, 255, 255] and inside[2] < inside[0]
    href = img.locator("xpath=..").get_attribute("href")
    assert href == src.split("#")[0].replace("-band.png", ".png") and img.locator("xpath=..").get_attribute("target") == "_blank"
    assert "score" not in page.locator(".rag-answer").last.inner_text()  # no raw scores in the chat
    img.scroll_into_view_if_needed()
    page.screenshot(path=str(REPORTS / "ui-pdf-page.png"), full_page=True)


def test_the_examples_fit_the_index_and_the_json_api_answers(browser, pdf_url):
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(pdf_url)
    page.wait_for_selector("#rag-question textarea", timeout=TIMEOUT_MS)
    example = page.get_by_text("What was Zantor's net revenues in 2024?").first
    assert example.is_visible()
    assert page.get_by_text("How much did cloud revenue grow?").count() == 0  # not the bundled corpus's
    example.click()
    page.wait_for_function("() => document.querySelectorAll('.rag-answer .rag-sources').length > 0",
                           timeout=TIMEOUT_MS)
    assert "4,200" in page.locator(".rag-answer").last.inner_text()
    # /ask from the page's own origin, as a script in a browser would call it: JSON, not HTML
    got = page.evaluate("""async () => {
        const r = await fetch('/gradio_api/call/ask', {method: 'POST', headers: {'Content-Type': 'application/json'},
                              body: JSON.stringify({data: ['What was total revenue in EUR millions by segment?', []]})});
        const {event_id} = await r.json();
        const text = await (await fetch('/gradio_api/call/ask/' + event_id)).text();
        const line = text.split('\\n').find(l => l.startsWith('data:') && text.includes('event: complete'));
        return JSON.parse(line.slice(5))[0];
    }""")
    assert "2,400" in got["answer"] and got["citations"][0]["page"] == 2 and not got["abstained"]
    page.screenshot(path=str(REPORTS / "ui-examples.png"), full_page=True)


def test_the_retrieval_view_explains_without_raw_scores(browser, url):
    """Settings tab: which side found each passage and its ranks (no fused score), and how the
    answerer chose (the deciding rule, the candidates' scores)."""
    page = browser.new_page(viewport={"width": 1280, "height": 1200})
    page.goto(url)
    page.get_by_role("tab", name="Settings").click()
    box = page.locator("#rag-retrieve-question textarea")
    box.fill("How much did cloud revenue grow?")
    page.locator("#rag-retrieve").click()
    page.wait_for_function("() => document.querySelector('#rag-explain').innerText.includes('Decision')",
                           timeout=TIMEOUT_MS)
    table = page.locator("#rag-retrieval").inner_text()
    assert "found by" in table and "fused" not in table
    assert any(side in table for side in ("both", "words", "meaning"))
    explain = page.locator("#rag-explain").inner_text()
    assert "Top candidates" in explain and "13%" in explain
    page.screenshot(path=str(REPORTS / "ui-retrieval.png"), full_page=True)
