"""What the web page shows, as plain functions of rag's result types: an `Answer` as the HTML of
one chat message (answer text with `[n]` markers linked to numbered sources, each source with its
passage and the quoted span highlighted), retrieval hits and indexed documents as table rows,
upload names made safe, and a conversation's questions completed for follow-ups.

Nothing here imports gradio or touches the index, so all of it is tested without a server. Every
piece of document text is HTML-escaped before it is put in a page.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from pathlib import PurePosixPath, PureWindowsPath

from rag.cite import MARKER_RE, Answer, Citation
from rag.errors import UsageError
from rag.text import NUMBER_RE, whole_figure

SEARCHING = '<div class="rag-wait">Searching the documents…</div>'


def esc(text: object) -> str:
    """`text` as HTML text: &, <, >, and both quotes escaped."""
    return html.escape(str(text), quote=True)


def quote_span(c: Citation) -> tuple[int, int] | None:
    """Where the quote lies in the citation's passage, as (start, end); None if it is not there
    (a citation's quote is an exact substring of its passage, so that means a broken citation)."""
    if not c.quote:
        return None
    i = c.passage.find(c.quote)
    return (i, i + len(c.quote)) if i >= 0 else None


def highlight(passage: str, span: tuple[int, int] | None) -> str:
    """The passage, escaped, with `passage[start:end]` inside <mark>."""
    if span is None:
        return esc(passage)
    a, b = span
    return f"{esc(passage[:a])}<mark>{esc(passage[a:b])}</mark>{esc(passage[b:])}"


def where(c: Citation) -> list[str]:
    """The parts of a citation's location after its title: page, section, analyst, speaker."""
    return c.location()


def anchor(turn: int, n: int) -> str:
    """The id of source `n` of answer `turn` in the page (unique within a conversation)."""
    return f"rag-src-{turn}-{n}"


def page_html(image, url: str, band_url: str, n: int, page: int | None) -> str:
    """A cited PDF page (`rag.pages.PageImage`): the band of it around the quote, boxed, shown at a
    readable size, linked to the whole page (click to enlarge). Where the boxes are travels in the
    image address's fragment (`#band=top,bottom&marks=x0,y0,x1,y1;...&cell=...`: the band in
    fractions of the page, the boxes in fractions of the band), which the server never sees and the
    chat's HTML sanitizer keeps (it drops data- attributes), for whoever checks them."""
    def nums(box) -> str:
        return ",".join(f"{v:.4f}" for v in box)

    marks = ";".join(nums(image.in_band(m)) for m in image.marks)
    cell = f"&cell={nums(image.in_band(image.cell))}" if image.cell else ""
    src = f"{band_url}#band={nums(image.band)}&marks={marks}{cell}"
    down = f"; the quote is boxed {image.marks[0][1]:.0%} down the page" if image.marks else ""
    alt = (f"Page {page} of source {n}" if page else f"Source {n}") + down
    height = round(image.height * (image.band[1] - image.band[0]))
    return (f'<a class="rag-page-link" href="{esc(url)}" target="_blank" rel="noopener" '
            f'title="Open the whole page">'
            f'<img class="rag-page" src="{esc(src)}" width="{image.width}" height="{height}" alt="{esc(alt)}"></a>')


def source_html(c: Citation, turn: int, image=None, url: tuple[str, str] | None = None, first: bool = True) -> str:
    """One numbered source: its label (title, page, section, speaker or analyst) and, for a PDF
    page that could be drawn (`image`, served at `url`: the page's and the band's addresses), the page with the quote boxed (open for
    the first source, a click away for the others) above the passage; else the passage with the
    quote highlighted. No retrieval score: a fused rank score means nothing to a reader (it stays
    in the JSON and the API)."""
    span = quote_span(c)
    loc = "".join(f' <span class="rag-sep">·</span> {esc(p)}' for p in where(c))
    missing = "" if span else ' <span class="rag-warn">(quote not found in the passage)</span>'
    page = ""
    if image is not None and url:
        shown = page_html(image, url[0], url[1], c.n, c.page)
        page = (f'<div class="rag-page-box">{shown}</div>' if first else
                f'<details class="rag-page-box"><summary>The page, the quote marked</summary>{shown}</details>')
    return (f'<div class="rag-src" id="{anchor(turn, c.n)}">'
            f'<div class="rag-src-head"><span class="rag-n">{c.n}</span> '
            f'<b class="rag-title">{esc(c.title)}</b>{loc}{missing}</div>'
            f'{page}<div class="rag-passage">{highlight(c.passage, span)}</div></div>')


def sources_html(citations: Iterable[Citation], turn: int, images: dict | None = None) -> str:
    """All of an answer's sources under a "Sources" heading; empty when there are none. `images`
    maps a citation's number to (PageImage, (page url, band url)); the first source with one shows it open."""
    images, citations = images or {}, list(citations)
    opened = next((c.n for c in citations if c.n in images), None)
    items = "".join(source_html(c, turn, *(images.get(c.n) or (None, None)), first=c.n == opened)
                    for c in citations)
    return f'<div class="rag-sources"><div class="rag-sources-h">Sources</div>{items}</div>' if items else ""


def cited_figures(answer: Answer) -> dict[int, str]:
    """For each citation, the figure the answer takes from it: the operand's cell for a computed
    answer, else the first figure of a sentence citing it that its quote holds as a whole figure
    (not inside a longer one). A quote with a single figure or none gets none: the quote's own box
    says enough."""
    out: dict[int, str] = {}
    for o in (answer.computation or {}).get("operands", []):
        out.setdefault(int(o["citation"]), str(o["text"]))
    quotes = {c.n: c.quote for c in answer.citations}
    pos = 0
    for m in MARKER_RE.finditer(answer.text):
        n = int(m.group(1))
        sentence = answer.text[pos:m.start()]
        pos = m.end()
        quote = quotes.get(n)
        if n in out or not quote or len(NUMBER_RE.findall(quote)) < 2:
            continue
        for m in NUMBER_RE.finditer(sentence):
            f = m.group(0)
            if len(re.sub(r"\D", "", f)) >= 2 and whole_figure(quote, f):
                out[n] = f
                break
    return out


def link_markers(text: str, known: Iterable[int], turn: int) -> str:
    """`text` escaped, each `[n]` that names a source turned into a link to it (same number,
    same badge); a marker naming no source is struck through, visibly unresolved."""
    known = set(known)

    def sub(m: re.Match) -> str:
        n = int(m.group(1))
        if n in known:
            return f'<a class="rag-cite" href="#{anchor(turn, n)}" title="source {n}">[{n}]</a>'
        return f'<s class="rag-bad-cite" title="no such source">[{n}]</s>'

    out, pos = [], 0
    for m in MARKER_RE.finditer(text):
        out.append(esc(text[pos:m.start()]))
        out.append(sub(m))
        pos = m.end()
    out.append(esc(text[pos:]))
    return "".join(out).replace("\n", "<br>")


def answer_html(answer: Answer, turn: int, *, text: str | None = None, sources: bool = True,
                read_as: str | None = None, images: dict | None = None) -> str:
    """One chat message for `answer`: a banner when it abstained, the notice, the text (or the
    prefix `text` of it while streaming) with linked markers, what could not be verified, and
    the sources (when `sources`; `images` as in `sources_html`). No blank lines, so a Markdown renderer keeps it one HTML block.

    >>> from rag.cite import Answer
    >>> answer_html(Answer("q", "No.", abstained=True), 1)[:61]
    '<div class="rag-answer rag-abstained"><div class="rag-abstain'
    """
    body = answer.text if text is None else text
    parts = []
    if answer.abstained:
        parts.append('<div class="rag-abstain">Not in the documents: no passage answers this question</div>')
    if read_as:
        parts.append(f'<div class="rag-readas">Read as: {esc(read_as)}</div>')
    if answer.notice:
        parts.append(f'<div class="rag-notice">{esc(answer.notice)}</div>')
    parts.append(f'<div class="rag-text">{link_markers(body, (c.n for c in answer.citations), turn)}</div>')
    if answer.computation and text is None:
        parts.append(computation_html(answer.computation, turn))
    if sources:
        if answer.unverified:
            items = "".join(f"<li>{esc(s)}</li>" for s in answer.unverified)
            parts.append('<div class="rag-unverified">Unverified (not found in the cited sources):'
                         f'<ul>{items}</ul></div>')
        parts.append(sources_html(answer.citations, turn, images))
    cls = "rag-answer rag-abstained" if answer.abstained else "rag-answer"
    # the question as answered travels with the message, so the next turn's follow-up is
    # completed from it without completing the whole conversation again (asked_questions)
    done = f' data-completed="{esc(answer.completed)}"' if answer.completed else ""
    return f'<div class="{cls}"{done}>{"".join(parts)}</div>'


def computation_html(c: dict, turn: int) -> str:
    """A computed figure's working, from `Answer.computation` (not from the text): the formula,
    each operand with its cell, period and a link to its source, the result and whether the
    arithmetic checked against the cited cells.

    >>> computation_html({"metric": "current ratio", "formula": "a / b", "shown": "1.75", "checked": True,
    ...     "operands": [{"label": "Total current assets", "text": "350", "period": "2024", "citation": 1}]}, 1)[:36]
    '<div class="rag-computation"><b>Com'
    """
    rows = "".join(f'<tr><td>{esc(o["label"])}</td><td>{esc(o["text"])}</td><td>{esc(o["period"])}</td>'
                   f'<td><a href="#{anchor(turn, o["citation"])}">[{o["citation"]}]{_page(o)}</a></td></tr>'
                   for o in c["operands"])
    check = "checked against the cited cells" if c.get("checked") else "did not check"
    return (f'<div class="rag-computation"><b>Computed</b>: {esc(c["metric"])} = {esc(c["formula"])} = '
            f'<b>{esc(c["shown"])}</b> ({check})<table><tr><th>operand</th><th>cell</th><th>period</th><th>source</th>'
            f'</tr>{rows}</table></div>')


def _page(operand: dict) -> str:
    return f" p. {operand['page']}" if operand.get("page") else ""


def draft_html(text: str, read_as: str | None = None) -> str:
    """A generative answer while the model writes it: the text so far, escaped, markers not yet
    linked (its citations are checked when it is complete), under a line that says so."""
    parts = ['<div class="rag-wait">Writing… the sources are checked when the answer is complete</div>']
    if read_as:
        parts.append(f'<div class="rag-readas">Read as: {esc(read_as)}</div>')
    parts.append(f'<div class="rag-text">{esc(text).replace(chr(10), "<br>")}</div>')
    return f'<div class="rag-answer rag-draft">{"".join(parts)}</div>'


def error_html(message: str) -> str:
    """An error shown in place of an answer: one line, no traceback."""
    return f'<div class="rag-answer"><div class="rag-error">{esc(message)}</div></div>'


def message_text(content: object) -> str:
    """The text of a chat message's content: a string, or the text parts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or content.get("content") or "") if content.get("type", "text") == "text" else ""
    if isinstance(content, list | tuple):
        return " ".join(t for t in (message_text(p) for p in content) if t)
    return ""


_COMPLETED = re.compile(r'^<div class="rag-answer[^"]*" data-completed="([^"]*)"')


def asked_questions(history: Iterable[dict]) -> list[str]:
    """The conversation's questions as they were answered: each read from its answer's message
    (`data-completed`, which `answer_html` writes), and only where an answer does not carry it
    (an error, an older page) completed again from the ones before it."""
    from rag.engine import complete_question

    out: list[str] = []
    pending: str | None = None
    for m in list(history or []) + [{"role": "user", "content": ""}]:
        if not isinstance(m, dict):
            continue
        text = message_text(m.get("content"))
        if m.get("role") == "assistant" and pending is not None:
            got = _COMPLETED.match(text)
            try:
                out.append(html.unescape(got.group(1)) if got else complete_question(pending, out))
            except UsageError:
                pass
            pending = None
        elif m.get("role") == "user":
            if pending is not None:  # a question without an answer message
                try:
                    out.append(complete_question(pending, out))
                except UsageError:
                    pass
            pending = text.strip() or None
    return out


def count_answers(history: Iterable[dict]) -> int:
    return sum(1 for m in history or [] if isinstance(m, dict) and m.get("role") == "assistant")


# --- tables -----------------------------------------------------------------------------------

RETRIEVAL_HEADERS = ["#", "document", "where", "found by", "meaning rank", "words rank", "passage"]


def found_by(hit) -> str:
    """Which side of the search found a passage: its words (BM25), its meaning (the embeddings), or both."""
    return {(True, True): "both", (True, False): "meaning", (False, True): "words"}.get(
        (hit.dense_rank is not None, hit.bm25_rank is not None), "-")


def retrieval_rows(hits) -> list[list]:
    """One row per retrieved passage (`rag.retrieve.Hit`): its rank, document, location, which
    side found it, its rank by meaning and by words ("-" when that side did not find it) and its
    text. Ranks, not the fused score: a reciprocal-rank sum means nothing to a reader."""
    rows = []
    for i, h in enumerate(hits, 1):
        c = h.chunk
        loc = ", ".join(x for x in ([f"p. {c.page}"] if c.page else []) + [c.section or "", c.speaker or ""] if x)
        rows.append([i, c.title, loc, found_by(h), h.dense_rank if h.dense_rank is not None else "-",
                     h.bm25_rank if h.bm25_rank is not None else "-", _clip(c.text, 300)])
    return rows


def explain_html(explain: dict | None) -> str:
    """The extractive answerer's explanation (`Answer.explain`) for the retrieval view: its
    decision, the top candidates with each feature's value and their score, and the sentences
    filtered out with the filter and its reason."""
    if not explain:
        return ""
    out = [f'<div class="rag-explain"><p><b>Decision:</b> {esc(explain["decision"])}</p>',
           "<p><b>Top candidates</b> (score: features)</p><ol>"]
    for c in explain["candidates"]:
        feats = ", ".join(f"{esc(k)} {v:g}" for k, v in c["features"].items() if v)
        out.append(f"<li><b>{c['score']:.3f}</b> {esc(_clip(c['quote'], 200))}<br><small>{feats}</small></li>")
    out.append("</ol>")
    if explain["filtered"]:
        out.append("<p><b>Filtered out</b></p><ul>")
        out += [f"<li><code>{esc(r['filter'])}</code>: {esc(r['reason'])}: {esc(_clip(r['quote'], 160))}</li>"
                for r in explain["filtered"]]
        out.append("</ul>")
    return "".join(out) + "</div>"


DOCUMENT_HEADERS = ["file", "title", "chunks", "pages", "ingested", "source"]


def document_rows(docs: dict[str, dict]) -> list[list]:
    """One row per indexed document (`Store.documents()`), sorted by file name."""
    rows = []
    for source, m in sorted(docs.items(), key=lambda kv: (str(kv[1].get("name") or kv[0]).lower(), kv[0])):
        rows.append([m.get("name") or PurePosixPath(source).name, m.get("title", ""), int(m.get("chunks", 0)),
                     int(m.get("pages", 0)) or "", m.get("ingested_at", ""), source])
    return rows


def document_choices(docs: dict[str, dict]) -> list[tuple[str, str]]:
    """(label, source) pairs for a picker of indexed documents."""
    return [(f"{r[0]} ({r[2]} chunks)", r[5]) for r in document_rows(docs)]


def _clip(s: str, n: int) -> str:
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1].rstrip() + "…"


# --- uploads ----------------------------------------------------------------------------------

_ODD = re.compile(r"[^A-Za-z0-9._ ()+-]+")


def safe_filename(name: str, max_len: int = 120) -> str:
    """A file name fit to be written in the documents folder: the last path component only (no
    traversal: "../../etc/x.txt" gives "x.txt"), accents folded, characters other than letters,
    digits, space and ._()+- replaced by "_", no leading dot or dash, at most `max_len` characters
    with the extension kept.

    >>> safe_filename("../../etc/passwd.txt")
    'passwd.txt'
    >>> safe_filename("Q3 résumé<script>.pdf")
    'Q3 resume_script_.pdf'
    """
    base = PureWindowsPath(PurePosixPath(str(name).replace("\x00", "")).name).name  # / and \ both
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = _ODD.sub("_", base).strip().lstrip(".-_ ")
    base = re.sub(r"\s+", " ", base)
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    ext = ext[:10]
    stem = stem.rstrip(". ") or "document"
    limit = max_len - (len(ext) + 1 if ext else 0)
    return f"{stem[:limit].rstrip('. ')}.{ext}" if ext else stem[:max_len]
