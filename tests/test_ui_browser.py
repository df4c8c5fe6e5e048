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
    demo = build_app(Engine(settings), stream_delay=0.01)
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
