"""The web page (`rag serve`): a Gradio app over one `rag.Engine`, the same object the shell API
and the CLI use. Three tabs:

- **Chat**: an answer shows at once when it is ready, with its numbered sources (title, page,
  section or speaker; for a PDF, the cited page drawn with the quote boxed, see rag.pages; the
  passage with the quote highlighted); a generative answerer's words show as the model writes
  them, replaced at the end by the verified answer (unverified sentences set apart,
  or the extractive answer with a notice when the model fails); follow-ups ("and AIDC?") are
  completed from the conversation's earlier questions. A conversation lives in the browser
  session's state, so users never see each other's turns; the engine is shared and only read
  while answering.
- **Documents**: upload files (.pdf .txt .md .html .docx), indexed incrementally with progress and
  answerable at once; the indexed documents with their chunk counts; remove one.
- **Settings**: top-k and the answerer for this session, and a retrieval view (which side found
  each passage a question retrieves, by meaning or by words, and its rank on each; how the
  answerer chose).

Beside the chat, `/ask` answers as JSON (`Answer.to_dict()`) for scripts (`gradio_client`).
The examples under the chat fit the index served: the bundled ones for the bundled corpus, else
questions made from the index's own statement rows, each answered once at start-up to be shown.

Uploads are copied into the index's documents folder (`<index>/documents/`, or
`<index>/documents-<collection>/` with a Chroma server), not a temporary one, so they survive a
restart; `rag ingest --prune` on other folders never touches them. Removing an uploaded document
deletes its copy too.

Left out on purpose: user accounts (one optional shared login, `--auth-file`), per-user document sets,
and anything that leaves the machine: Gradio analytics are off and no share link is made unless
asked for (`--share`).
"""

from __future__ import annotations

import os

# Before gradio is imported: no usage analytics, no version check leave the machine.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import logging  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from rag.engine import Engine, clean_question  # noqa: E402
from rag.errors import RagError, UsageError  # noqa: E402
from rag.indexer import SUPPORTED, ingest, remove  # noqa: E402
from rag.pages import pages_dir, render  # noqa: E402
from rag.settings import Settings, bundled_corpus_dir  # noqa: E402
from ui.format import (  # noqa: E402
    DOCUMENT_HEADERS,
    RETRIEVAL_HEADERS,
    SEARCHING,
    answer_html,
    asked_questions,
    cited_figures,
    count_answers,
    document_choices,
    document_rows,
    draft_html,
    error_html,
    esc,
    explain_html,
    retrieval_rows,
    safe_filename,
)

log = logging.getLogger("rag.ui")

EXAMPLES = ["How much did cloud revenue grow?", "What was total revenue?", "What is the net cash position?"]
FOLLOW_UPS = ["How much did cloud revenue grow?", "and AIDC?"]
UPLOAD_TYPES = sorted(SUPPORTED)
CHAT_CONCURRENCY = 16  # conversations answered at once; answering is CPU-bound and fast

CSS = """
.rag-answer { line-height: 1.5; }
.rag-text { margin: 0.1em 0 0.4em; }
a.rag-cite { font-weight: 600; text-decoration: none; color: var(--color-accent); white-space: nowrap; }
a.rag-cite:hover { text-decoration: underline; }
.rag-abstain { display: inline-block; font-weight: 600; color: #8a5300; background: #fff4d6;
  border: 1px solid #f0c36d; border-radius: 6px; padding: 0.15em 0.6em; margin-bottom: 0.4em; }
.rag-error { color: #b42318; background: #fef3f2; border: 1px solid #fda29b; border-radius: 6px; padding: 0.3em 0.6em; }
.rag-readas, .rag-notice, .rag-wait { color: var(--body-text-color-subdued); font-style: italic; font-size: 0.92em; }
.rag-unverified { color: #8a5300; font-size: 0.92em; }
.rag-draft .rag-text { color: var(--body-text-color-subdued); }
.rag-computation { font-size: 0.9em; margin: 0.2em 0 0.4em; }
.rag-computation table { border-collapse: collapse; margin-top: 0.2em; }
.rag-computation td, .rag-computation th { padding: 0.1em 0.6em 0.1em 0; text-align: left; }
.rag-sources { margin-top: 0.6em; border-top: 1px solid var(--border-color-primary); padding-top: 0.4em; }
.rag-sources-h { font-weight: 600; font-size: 0.9em; text-transform: uppercase; letter-spacing: 0.04em;
  color: var(--body-text-color-subdued); margin-bottom: 0.3em; }
.rag-src { margin: 0.35em 0 0.7em; }
.rag-src:target { outline: 2px solid var(--color-accent); border-radius: 6px; }
.rag-src-head { font-size: 0.92em; }
.rag-n { display: inline-block; min-width: 1.5em; text-align: center; font-weight: 700; font-size: 0.85em;
  color: white; background: var(--color-accent); border-radius: 999px; padding: 0 0.35em; }
.rag-sep, .rag-score { color: var(--body-text-color-subdued); }
.rag-score { font-size: 0.85em; margin-left: 0.3em; }
.rag-warn { color: #b42318; }
.rag-passage { margin: 0.25em 0 0 0.2em; padding: 0.35em 0.7em; border-left: 3px solid var(--border-color-primary);
  font-size: 0.9em; max-height: 14em; overflow-y: auto; white-space: pre-wrap; color: var(--body-text-color); }
.rag-passage mark { background: #ffe58a; color: inherit; padding: 0 1px; border-radius: 2px; }
.rag-page-box { margin: 0.3em 0 0.3em 0.2em; }
.rag-page-box summary { cursor: pointer; font-size: 0.88em; color: var(--body-text-color-subdued); }
img.rag-page { display: block; width: 900px; max-width: 100%; min-width: 600px; height: auto;
  border: 1px solid var(--border-color-primary); border-radius: 4px; cursor: zoom-in; }
.rag-status ul { margin: 0.2em 0 0 1.2em; }
.rag-ok { color: #067647; } .rag-fail { color: #b42318; } .rag-same { color: var(--body-text-color-subdued); }
"""


def documents_dir_for(settings: Settings) -> Path:
    """Where uploads are kept: beside the index, never a temporary folder."""
    base = Path(settings.index_dir)
    return base / (f"documents-{settings.collection}" if settings.chroma_url else "documents")


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """"user:password" as Gradio's auth pair; None for no login."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise UsageError("--auth (or RAG_AUTH) expects USER:PASSWORD, both non-empty")
    return user, password


def read_auth_file(path: str | Path) -> tuple[str, str]:
    """The login kept in a file (first line USER:PASSWORD), so that it never shows in `ps`. A missing,
    empty or malformed file is a usage error; a file others may read, a warning."""
    path = Path(path).expanduser()
    try:
        first = (path.read_text(encoding="utf-8").splitlines() or [""])[0].strip()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"--auth-file {path}: cannot read it ({getattr(e, 'strerror', None) or e})") from None
    user, sep, password = first.partition(":")
    if not sep or not user or not password:
        raise UsageError(f"--auth-file {path}: its first line must be USER:PASSWORD, both non-empty")
    if path.stat().st_mode & 0o077:
        print(f"rag: warning: {path} may be read by other users of this machine; chmod 600 {path}", file=sys.stderr)
    return user, password


@dataclass
class FileResult:
    name: str
    status: str  # added, updated, unchanged, failed
    detail: str = ""


def status_html(results: list[FileResult]) -> str:
    """The outcome of an upload, one line per file."""
    if not results:
        return ""
    marks = {"added": ("rag-ok", "✓ added"), "updated": ("rag-ok", "✓ updated"),
             "unchanged": ("rag-same", "= unchanged"), "failed": ("rag-fail", "✗ not added")}
    items = []
    for r in results:
        cls, label = marks[r.status]
        detail = f": {esc(r.detail)}" if r.detail else ""
        items.append(f'<li class="{cls}">{label} <b>{esc(r.name)}</b>{detail}</li>')
    return f'<div class="rag-status"><ul>{"".join(items)}</ul></div>'


class WebApp:
    """The page's behaviour, over one engine; `blocks()` lays it out. Methods are plain enough to
    call from tests without a browser."""

    def __init__(self, engine: Engine, *, documents_dir: Path | None = None, max_upload_mb: float | None = None,
                 examples: list[str] | None = None) -> None:
        self.engine = engine
        self.documents_dir = Path(documents_dir or documents_dir_for(engine.settings))
        self.max_upload_mb = max_upload_mb if max_upload_mb is not None else engine.settings.max_upload_mb
        self.pages_dir = pages_dir(engine.settings)
        self.examples = index_examples(engine) if examples is None else examples
        self._write = threading.Lock()  # one ingest or removal at a time; answering goes on meanwhile

    # --- chat ------------------------------------------------------------------------------------

    def respond(self, message: str, history: list[dict], top_k: float | None = None,
                answerer: str | None = None) -> Iterator[str]:
        """The chat function: yields the answer's HTML, growing, then whole with its sources."""
        if not isinstance(message, str) or not message.strip():
            yield error_html('Ask a question about the documents, e.g. "How much did cloud revenue grow?"')
            return
        try:
            previous = asked_questions(history)
            q = clean_question(message)
            read_as = None  # the question as read, shown once the answer says it
            k, name = int(top_k) if top_k else None, answerer or None
            ans, draft = None, ""
            if hasattr(self.engine.answerer(name), "stream"):
                # a generative answerer's text arrives as a draft; its verified answer replaces it
                yield SEARCHING
                for part in self.engine.stream(q, previous, k=k, answerer=name):
                    if isinstance(part, str):
                        draft += part
                        yield draft_html(draft, read_as=read_as)
                    else:
                        ans = part
            else:
                ans = self.engine.ask(q, previous, k=k, answerer=name)
            read_as = ans.completed if ans.completed and ans.completed != q else None
        except RagError as e:
            yield error_html(str(e))
            return
        except Exception as e:  # the page shows one line; the traceback goes to the server log
            log.exception("answering %r failed", message)
            yield error_html(f"Something went wrong while answering ({type(e).__name__}); "
                             "the details are in the server's log.")
            return
        # a ready answer (extractive) is shown at once: a made wait is no help to a reader
        yield answer_html(ans, count_answers(history) + 1, read_as=read_as, images=self.page_images(ans))

    def page_images(self, ans) -> dict[int, tuple]:
        """{citation n: (PageImage, url)} for the cited PDF pages that can be drawn (rag.pages):
        the quote boxed, and the figure the answer takes from it. A page that cannot be drawn
        (the file gone or changed, a damaged page) is left out: its passage is shown."""
        out: dict[int, tuple] = {}
        cells = cited_figures(ans)
        for c in ans.citations:  # rag.pages draws PDF pages only: other sources give None
            try:  # the first page is shown open: drawn now; the others, a click away, meanwhile
                image = render(c.source, c.page, c.start, c.end, c.quote, self.engine.settings, cells.get(c.n),
                               wait=not out)
            except Exception:  # the page is evidence shown beside the answer, never a reason to lose it
                log.exception("drawing page %s of %s failed", c.page, c.source)
                continue
            if image is not None:
                out[c.n] = (image, (file_url(image.path), file_url(image.band_path)))
        return out

    # --- JSON API --------------------------------------------------------------------------------

    def _ask_api(self, question: str, history: list[str] | None = None) -> dict:
        """Answer a question about the documents: the answer as JSON (text, citations with their
        quotes, computation, abstained); `history` is the conversation's earlier questions."""
        return self.ask_json(question, history)

    def ask_json(self, question: str, history: list[str] | None = None) -> dict:
        """`/ask`: the answer as `Answer.to_dict()` (text, citations with quotes and scores,
        computation, abstained...); `history` holds the conversation's earlier questions, for a
        follow-up. A question that cannot be answered gives {"question", "error"}, one line."""
        if not isinstance(question, str) or not question.strip():
            return {"question": question if isinstance(question, str) else "",
                    "error": 'Ask a question about the documents, e.g. "How much did cloud revenue grow?"'}
        try:
            previous = [h for h in (history or []) if isinstance(h, str) and h.strip()]
            return self.engine.ask(clean_question(question), previous).to_dict()
        except RagError as e:
            return {"question": question, "error": str(e)}
        except Exception as e:
            log.exception("answering %r failed", question)
            return {"question": question, "error": f"Something went wrong while answering ({type(e).__name__}); "
                                                   "the details are in the server's log."}

    # --- retrieval view --------------------------------------------------------------------------

    def retrieval(self, question: str, top_k: float | None = None) -> tuple[list[list], str, str]:
        """(rows, message, explanation) for the retrieval view: the passages retrieved, and how the
        extractive answerer scored their sentences and why it answered or abstained."""
        k = int(top_k) if top_k else None
        try:
            hits = self.engine.retrieve(question, k)
            ans = self.engine.ask(question, k=k, answerer="extractive", explain=True)
        except RagError as e:
            return [], error_html(str(e)), ""
        except Exception as e:
            log.exception("retrieving %r failed", question)
            return [], error_html(f"Retrieval failed ({type(e).__name__}); the details are in the server's log."), ""
        return retrieval_rows(hits), "", explain_html(ans.explain)

    # --- documents -------------------------------------------------------------------------------

    def documents(self) -> dict[str, dict]:
        try:
            return self.engine.store.documents()
        except Exception:
            log.exception("listing documents failed")
            return {}

    def index_summary(self) -> str:
        docs = self.documents()
        s = self.engine.settings
        n = sum(int(m.get("chunks", 0)) for m in docs.values())
        return (f"Index: `{s.index_label}` · embedding model `{s.embed_model}` · "
                f"{len(docs)} documents, {n} chunks · uploads kept in `{self.documents_dir}/`")

    def add_files(self, paths: list[str], progress=None) -> list[FileResult]:
        """Copy uploads into the documents folder and index them; each file succeeds or fails
        alone, and a failure leaves the folder and the index as they were."""
        results: list[FileResult] = []
        todo: list[tuple[str, Path, Path]] = []  # (name, upload, destination)
        limit = self.max_upload_mb * 1024 * 1024
        seen: set[str] = set()
        for raw in paths or []:
            upload = Path(raw)
            name = safe_filename(upload.name)
            if Path(name).suffix.lower() not in SUPPORTED:
                results.append(FileResult(name, "failed", f"unsupported file type '{Path(name).suffix or name}' "
                                                          f"(supported: {', '.join(UPLOAD_TYPES)})"))
                continue
            try:
                size = upload.stat().st_size
            except OSError:
                results.append(FileResult(name, "failed", "the upload did not arrive; try again"))
                continue
            if size > limit:
                results.append(FileResult(name, "failed", f"{size / 1024 / 1024:.1f} MB is over the "
                                                          f"{self.max_upload_mb:g} MB upload limit"))
                continue
            if name in seen:
                results.append(FileResult(name, "failed", "the same file name twice in one upload"))
                continue
            seen.add(name)
            todo.append((name, upload, self.documents_dir / name))
        if not todo:
            return results
        with self._write:
            self.documents_dir.mkdir(parents=True, exist_ok=True)
            for i, (name, upload, dest) in enumerate(todo):
                if progress is not None:
                    progress((i, len(todo)), desc=f"Indexing {name}", unit="files")
                results.append(self._add_one(name, upload, dest))
            if any(r.status in ("added", "updated") for r in results):
                if progress is not None:
                    progress((len(todo), len(todo)), desc="Loading the index", unit="files")
                self.engine.reload()
        return results

    def _add_one(self, name: str, upload: Path, dest: Path) -> FileResult:
        staging = self.documents_dir / ".staging"
        staging.mkdir(exist_ok=True)
        incoming, backup = staging / f"{name}.incoming", staging / f"{name}.previous"
        had_previous = dest.exists()
        try:
            shutil.copyfile(upload, incoming)  # first, so the upload may even be the kept file itself
            if had_previous:
                os.replace(dest, backup)
            os.replace(incoming, dest)
            report = ingest([dest], self.engine.settings, store=self.engine.store, progress=False)
        except Exception as e:
            incoming.unlink(missing_ok=True)
            self._restore(dest, backup, had_previous)
            if not isinstance(e, RagError):
                log.exception("ingesting %s failed", name)
            return FileResult(name, "failed", str(e) if isinstance(e, RagError) else
                              f"could not be indexed ({type(e).__name__}); the details are in the server's log")
        if report.failed:
            self._restore(dest, backup, had_previous)
            return FileResult(name, "failed", "; ".join(f["error"] for f in report.failed))
        if had_previous:
            backup.unlink(missing_ok=True)
        chunks = int(self.documents().get(str(dest.resolve()), {}).get("chunks", 0))
        if report.unchanged:
            return FileResult(name, "unchanged", "already in the index")
        return FileResult(name, "updated" if report.updated else "added", f"{chunks} chunks")

    @staticmethod
    def _restore(dest: Path, backup: Path, had_previous: bool) -> None:
        dest.unlink(missing_ok=True)
        if had_previous and backup.exists():
            os.replace(backup, dest)

    def remove_document(self, source: str) -> str:
        """Remove one document from the index (and its copy, when it is an upload); a message."""
        if not source:
            return "Pick a document to remove."
        with self._write:
            try:
                removed, n = remove(source, self.engine.settings, store=self.engine.store)
            except RagError as e:
                return str(e)
            path = Path(removed)
            try:
                if path.parent.resolve() == self.documents_dir.resolve():
                    path.unlink(missing_ok=True)
            except OSError:
                log.exception("deleting the upload %s failed", removed)
            self.engine.reload()
        return f"Removed {path.name} ({n} chunks)."

    # --- layout ----------------------------------------------------------------------------------

    def blocks(self) -> gr.Blocks:
        from rag.answerers import ANSWERERS

        settings = self.engine.settings
        # delete_cache: Gradio's own copies of uploads (kept copies live in the documents folder)
        with gr.Blocks(title="rag-qa", analytics_enabled=False, fill_height=False, delete_cache=(3600, 3600)) as demo:
            gr.Markdown("## rag-qa\nAnswers about your documents, with the passages they came from.")
            with gr.Tabs():
                chat_tab = gr.Tab("Chat", id="chat")
                with gr.Tab("Documents", id="documents"):
                    uploads = gr.File(label=f"Add documents ({' '.join(UPLOAD_TYPES)}; "
                                            f"up to {self.max_upload_mb:g} MB each)",
                                      file_count="multiple", type="filepath", elem_id="rag-upload")
                    # No file_types filter: Gradio would refuse a whole batch for one odd file; each file is
                    # checked here instead and reported on its own line, as `rag ingest` does.
                    status = gr.HTML(label="Upload result", show_label=False, elem_id="rag-upload-status")
                    summary = gr.Markdown(label="Index", show_label=False)
                    table = gr.Dataframe(headers=DOCUMENT_HEADERS, interactive=False, wrap=True,
                                         label="Indexed documents", elem_id="rag-documents",
                                         column_widths=["20%", "25%", "7%", "7%", "15%", "26%"])
                    with gr.Row():
                        pick = gr.Dropdown(choices=[], label="Document to remove", allow_custom_value=True,
                                           scale=4)
                        remove_btn = gr.Button("Remove", variant="stop", scale=1)
                    removed = gr.Markdown(label="Removal", show_label=False)
                with gr.Tab("Settings", id="settings"):
                    with gr.Row():
                        top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages to retrieve (top-k)")
                        answerer = gr.Dropdown(sorted(ANSWERERS), value=settings.answerer, label="Answerer")
                    gr.Markdown("These apply to your session's chat. **Retrieval view**: the passages a question "
                                "retrieves, in the order the answerer reads them, with which side found each (its "
                                "meaning: embedding search; its words: BM25; or both) and its rank on each; below "
                                "them, how the extractive answerer chose: the rule that decided, the candidate "
                                "sentences with each feature's value and their score, those filtered out and why.")
                    with gr.Row():
                        rq = gr.Textbox(label="Question", placeholder="How much did cloud revenue grow?", scale=4,
                                        elem_id="rag-retrieve-question")
                        rbtn = gr.Button("Retrieve", scale=1, elem_id="rag-retrieve")
                    rmsg = gr.HTML(label="Retrieval message", show_label=False)
                    rtable = gr.Dataframe(headers=RETRIEVAL_HEADERS, interactive=False, wrap=True,
                                          label="Retrieved passages", elem_id="rag-retrieval",
                                          column_widths=["4%", "16%", "13%", "8%", "7%", "7%", "45%"])
                    rexplain = gr.HTML(label="How the answer was chosen", elem_id="rag-explain")
            with chat_tab:
                # latex_delimiters=[]: "$1.3 billion ... $10 billion" is money, not math
                chatbot = gr.Chatbot(height=560, latex_delimiters=[], label="Chat", show_label=False,
                                     elem_id="rag-chat", buttons=["copy"], feedback_options=None,
                                     placeholder="Ask about the documents. Every answer cites its passages; "
                                                 "follow-ups such as <i>and AIDC?</i> work.")
                chat = gr.ChatInterface(self.respond, chatbot=chatbot, additional_inputs=[top_k, answerer],
                                        examples=[[q] for q in self.examples] or None, run_examples_on_click=True,
                                        cache_examples=False, concurrency_limit=CHAT_CONCURRENCY,
                                        api_name="chat", fill_height=False, analytics_enabled=False,
                                        validator=_not_blank,
                                        textbox=gr.Textbox(placeholder="Ask a question about the documents",
                                                           show_label=False, label="Question", scale=7,
                                                           elem_id="rag-question", submit_btn=True, stop_btn=True))
                with gr.Row():
                    if self.examples == EXAMPLES:  # the bundled corpus: a follow-up to try too
                        gr.Examples([[q] for q in FOLLOW_UPS + EXAMPLES[1:]], inputs=[chat.textbox],
                                    label="Examples: click one, then press Enter ('and AIDC?' follows up the question "
                                          "before it)")
                    clear = gr.Button("New conversation", variant="secondary", size="sm", scale=0, min_width=160,
                                      elem_id="rag-clear")
                clear.click(lambda: ([], [], [], None), None,
                            [chat.chatbot, chat.chatbot_state, chat.chatbot_value, chat.textbox],
                            queue=False, api_visibility="private")

            def refresh():
                docs = self.documents()
                return document_rows(docs), gr.update(choices=document_choices(docs), value=None), self.index_summary()

            def on_upload(files, progress=gr.Progress()):
                paths = [f if isinstance(f, str) else getattr(f, "name", str(f)) for f in (files or [])]
                try:
                    results = self.add_files(paths, progress)
                except Exception as e:
                    log.exception("upload failed")
                    msg = error_html(str(e) if isinstance(e, RagError) else
                                     f"The upload failed ({type(e).__name__}); the details are in the server's log.")
                    return msg, None, *refresh()
                return status_html(results), None, *refresh()

            uploads.upload(on_upload, [uploads], [status, uploads, table, pick, summary],
                           concurrency_id="index-write", concurrency_limit=1, api_name="upload")
            remove_btn.click(lambda source: (self.remove_document(source), *refresh()), [pick],
                             [removed, table, pick, summary],
                             concurrency_id="index-write", concurrency_limit=1, api_name="remove")
            gr.on([rbtn.click, rq.submit], self.retrieval, [rq, top_k], [rtable, rmsg, rexplain], api_name="retrieve")
            gr.api(self._ask_api, api_name="ask", concurrency_limit=CHAT_CONCURRENCY)
            demo.load(refresh, None, [table, pick, summary], queue=False, api_visibility="undocumented")
        return demo


def file_url(path: Path) -> str:
    """Where the page serves a file of an allowed folder (launch's allowed_paths)."""
    from urllib.parse import quote

    return f"/gradio_api/file={quote(str(Path(path).resolve()))}"


def index_examples(engine: Engine, want: int = 3, tries: int = 8) -> list[str]:
    """Example questions that fit the index: the bundled ones when it holds the bundled corpus
    alone; else made from its documents' statement rows (a line item the glossary of line items
    knows, in a period's year, named with the document's first word so that it is routed there),
    each asked once and kept only when it is answered. None when nothing fits."""
    try:
        docs = engine.store.documents()
    except Exception:
        return []
    bundled = Path(bundled_corpus_dir()).resolve()
    if docs and all(Path(s).resolve().is_relative_to(bundled) for s in docs):
        return list(EXAMPLES)
    from rag.facts import LINE_ITEMS, _norm_item

    known = frozenset().union(*LINE_ITEMS)
    out: list[str] = []
    seen: set[str] = set()
    sources = sorted(docs, key=lambda s: -int(docs[s].get("chunks", 0)))
    for source in sources:
        if len(out) >= want or tries <= 0:
            break
        name = next((w for w in re.findall(r"[A-Za-z]+", Path(source).stem) if len(w) >= 3), None)
        row = next((r for r in engine.facts.of_sources([source])
                    if r.statement in ("income", "balance", "cash_flow") and _norm_item(r.label) in known
                    and _norm_item(r.label) not in seen and r.cells and r.cells[0].period.year), None)
        if name is None or row is None:
            continue
        q = f"What was {name.capitalize()}'s {row.label.lower()} in {row.cells[0].period.year}?"
        tries -= 1
        try:
            ans = engine.ask(q)
        except Exception:
            continue
        if not ans.abstained and ans.citations:
            out.append(q)
            seen.add(_norm_item(row.label))
    return out


def _not_blank(message: str):
    """An empty question is ignored: nothing is added to the conversation."""
    return gr.validate(bool(isinstance(message, str) and message.strip()), "Type a question first")


def build_app(engine: Engine | None = None, **kwargs) -> gr.Blocks:
    """The Gradio app over `engine` (default: `Engine()`, the bundled corpus's index)."""
    app = WebApp(engine or Engine(), **kwargs)
    demo = app.blocks()
    demo.rag_app = app  # for tests and embedding
    return demo


def launch(demo: gr.Blocks, *, host: str = "127.0.0.1", port: int = 7860, auth: tuple[str, str] | None = None,
           share: bool = False, block: bool = True, quiet: bool = False):
    """Start serving `demo`; returns at once when `block` is False (tests), else runs until Ctrl-C."""
    app: WebApp = demo.rag_app
    demo.queue(default_concurrency_limit=CHAT_CONCURRENCY)
    try:
        app.pages_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:  # pages are then not drawn (rag.pages returns none it cannot write): passages show
        log.warning("cannot keep page images in %s: %s", app.pages_dir, e)
    return demo.launch(allowed_paths=[str(app.pages_dir.resolve())], server_name=host, server_port=port, auth=auth, share=share, inbrowser=False,
                       max_file_size=f"{app.max_upload_mb:g}mb", prevent_thread_lock=not block, quiet=quiet,
                       ssr_mode=False, show_error=False, css=CSS,
                       auth_message="rag-qa: sign in with the user and password in rag serve's --auth-file")


def serve(settings: Settings | None = None, *, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None,
          share: bool = False, auth_file: str | None = None) -> int:
    """`rag serve`: load the index (building index/ from the bundled corpus on first use) and
    serve the page until interrupted. The login comes from `auth_file`, else RAG_AUTH, else
    `auth` (a command-line password, which every user of the machine sees in `ps`)."""
    settings = settings or Settings.load()
    if auth:
        print("rag: warning: --auth shows the password to every user of this machine (ps); "
              "put USER:PASSWORD in a file and use --auth-file PATH instead", file=sys.stderr)
    credentials = read_auth_file(auth_file) if auth_file else \
        parse_auth(auth or (settings.auth.reveal() if settings.auth else None))
    print("Loading the index…", file=sys.stderr)
    engine = Engine(settings)
    if host not in ("127.0.0.1", "localhost", "::1") and not credentials:
        print(f"rag: warning: serving on {host} without a login; anyone who can reach this machine can read and "
              "change the index. Add --auth-file PATH (its first line USER:PASSWORD).", file=sys.stderr)
    if share:
        print("rag: --share: Gradio makes a public link through its servers; questions and documents travel "
              "through them.", file=sys.stderr)
    demo = build_app(engine, max_upload_mb=settings.max_upload_mb)
    launch(demo, host=host, port=port, auth=credentials, share=share)
    return 0
