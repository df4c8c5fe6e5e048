"""The `rag` command: ingest, list, remove, facts, ask, chat, serve, eval. Errors become one line on stderr
(exit 2 for usage errors, 1 for others); no traceback for an expected failure."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from rag.errors import RagError, UsageError

STATEMENT_KINDS = ["income", "balance", "cash_flow", "equity", "comprehensive", "segment", "other"]
EXAMPLES = ["How much did cloud revenue grow?", "What was total revenue?", "What is the net cash position?"]


def _index_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", dest="index_dir", help="index folder (default: index/, or $RAG_INDEX)")
    p.add_argument("--chroma-url", help="use a Chroma server instead, e.g. http://127.0.0.1:8000 ($RAG_CHROMA_URL)")
    p.add_argument("--collection", help="collection name prefix in the store (default: rag)")
    p.add_argument("--embed-model", help="sentence-transformers model: all-MiniLM-L6-v2 (default) or a local folder")


def _answer_options(p: argparse.ArgumentParser, default: str | None = None) -> None:
    p.add_argument("--answerer", default=default,
                   help="extractive (default), llm (an OpenAI-compatible endpoint) or llama-cpp (a local GGUF file)")
    p.add_argument("--llm-base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 ($RAG_LLM_BASE_URL; "
                                          "the API key only from $RAG_LLM_API_KEY)")
    p.add_argument("--llm-model", help="model name the endpoint serves ($RAG_LLM_MODEL)")
    p.add_argument("--gguf", dest="llm_gguf", help="GGUF model file for --answerer llama-cpp ($RAG_LLM_GGUF)")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rag", description="Answers about your documents, with citations.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ing = sub.add_parser("ingest", help="index files and folders (.txt .md .pdf .html .docx)")
    ing.add_argument("paths", nargs="+", metavar="PATH")
    _index_options(ing)
    ing.add_argument("--chunk-size", type=int, help="chunk size in tokens (default 180)")
    ing.add_argument("--chunk-overlap", type=int, help="overlap in tokens (default 30)")
    ing.add_argument("--prune", action="store_true", help="remove documents whose files are gone from these folders")
    ing.add_argument("--json", action="store_true", help="print the report as JSON")

    ls = sub.add_parser("list", help="list indexed documents")
    _index_options(ls)
    ls.add_argument("--json", action="store_true")

    rm = sub.add_parser("remove", help="remove a document from the index")
    rm.add_argument("doc", metavar="DOC", help="its path or file name, as `rag list` shows")
    _index_options(rm)

    _facts_parser(sub)

    ask = sub.add_parser("ask", help="answer a question (or - to read one per line from stdin)")
    ask.add_argument("question", metavar="QUESTION")
    _index_options(ask)
    ask.add_argument("-k", "--top-k", type=int, help="passages to retrieve (default 5)")
    _answer_options(ask)
    ask.add_argument("--json", action="store_true", help="print JSON (one object per line with -)")
    ask.add_argument("--explain", action="store_true",
                     help="also show the candidates scored, those filtered out, and why it answered or abstained")

    chat = sub.add_parser("chat", help="chat on the terminal, with follow-up questions")
    _index_options(chat)
    chat.add_argument("-k", "--top-k", type=int)
    _answer_options(chat)

    srv = sub.add_parser("serve", help="the web page: chat, documents, settings (http://127.0.0.1:7860)",
                         description="Serve the web page on this machine only (unless --host says otherwise). "
                         "Uploads are kept in <index>/documents/; RAG_MAX_UPLOAD_MB caps their size (default 50).")
    _index_options(srv)
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    srv.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    srv.add_argument("--auth-file", metavar="PATH", help="require the login on this file's first line, USER:PASSWORD "
                                                         "(or $RAG_AUTH; keep the file chmod 600)")
    srv.add_argument("--auth", metavar="USER:PASSWORD", help="the same, on the command line, where `ps` shows it "
                                                             "(deprecated: use --auth-file)")
    srv.add_argument("--share", action="store_true", help="also make a public gradio.live link (off by default)")
    _answer_options(srv)

    ev = sub.add_parser("eval", help="run the answer-quality evals")
    ev.add_argument("--corpus", type=Path, nargs="+", help="folder(s) of documents (default: the bundled corpus)")
    ev.add_argument("--questions", type=Path, help="question file, JSONL (default: evals/alibaba.jsonl)")
    _answer_options(ev, default="extractive")
    ev.add_argument("--limit", type=int, help="only the first N questions (a quick run of a slow answerer)")
    ev.add_argument("--thresholds", type=Path, help="TOML file of minimum scores")
    ev.add_argument("--reports", type=Path, default=Path("reports"), help="where to write reports (default reports/)")
    ev.add_argument("--no-baseline", action="store_true", help="skip the llama-index baseline")
    ev.add_argument("--ablate", metavar="NAME[,NAME...]",
                    help="switch these extractive rules off and print the change on each eval set (or the one given)")
    return p


def _settings(args: argparse.Namespace):
    from rag.settings import Settings

    keys = ("index_dir", "chroma_url", "collection", "embed_model", "chunk_size", "chunk_overlap", "top_k", "answerer",
            "llm_base_url", "llm_model", "llm_gguf")
    return Settings.load(**{k: getattr(args, k, None) for k in keys})


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see rag/embed.py
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except UsageError as e:
        print(f"rag: {e}", file=sys.stderr)
        return 2
    except RagError as e:
        print(f"rag: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def cmd_ingest(args) -> int:
    from rag.indexer import ingest

    report = ingest(args.paths, _settings(args), prune=args.prune)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        for f in report.failed:
            print(f"skipped {f['path']}: {f['error']}", file=sys.stderr)
        for w in report.warnings:
            print(f"note: {w['path']}: {w['warning']}", file=sys.stderr)
        print(report.summary())
    return 0 if report.ok else 1


def cmd_list(args) -> int:
    from rag.store import Store

    store = Store(_settings(args))
    docs = store.documents()
    if args.json:
        print(json.dumps({"manifest": store.manifest(), "documents": [
            {"source": s, **m} for s, m in sorted(docs.items())]}, ensure_ascii=False))
        return 0
    if not docs:
        print("The index is empty. Run: rag ingest PATH")
        return 0
    width = max(len(m.get("title", "")) for m in docs.values())
    for source, m in sorted(docs.items()):
        print(f"{int(m.get('chunks', 0)):6d} chunks  {m.get('title', ''):<{width}}  {source}")
    print(f"{len(docs)} documents, {sum(int(m.get('chunks', 0)) for m in docs.values())} chunks")
    return 0


def cmd_remove(args) -> int:
    from rag.indexer import remove

    source, n = remove(args.doc, _settings(args))
    print(f"removed {source} ({n} chunks)")
    return 0


def _facts_parser(sub) -> None:
    fa = sub.add_parser("facts", help="print the figures read from a document's tables")
    fa.add_argument("doc", metavar="DOC", help="its path or file name, as `rag list` shows")
    fa.add_argument("--statement", choices=STATEMENT_KINDS, help="only the tables of this statement")
    out = fa.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON array of facts")
    out.add_argument("--csv", action="store_true", help="CSV with a header line")
    _index_options(fa)


def cmd_facts(args) -> int:
    from rag.indexer import resolve_document
    from rag.store import Store, manifest_for

    settings = _settings(args)
    store = Store(settings)
    store.check_manifest(manifest_for(settings))  # an index without facts asks for a re-ingest
    source = resolve_document(args.doc, store.documents())
    facts = [f for r in store.committed_rows(source) if not args.statement or r.statement == args.statement
             for f in r.facts()]
    if args.json:
        print(json.dumps(facts, ensure_ascii=False))
    elif args.csv:
        import csv

        w = csv.writer(sys.stdout)
        cols = ["source", "page", "statement", "caption", "row", "period", "value", "unit", "scale", "text", "start", "end"]
        w.writerow(cols)
        for f in facts:
            w.writerow([" > ".join(f[c]) if c == "row" else f[c] for c in cols])
    else:
        for f in facts:
            print(f"p.{f['page']}  {f['statement']:<13} {' › '.join(f['row'])[:70]:<70}  {f['period'][:36]:<36} {f['text']}")
        print(f"{len(facts)} facts from {source}")
    return 0


def cmd_ask(args) -> int:
    from rag.engine import Engine, clean_question

    if args.question == "-":
        try:
            engine = Engine(_settings(args))
        except RagError as e:
            if not args.json:
                raise
            engine = e  # a script reading JSON gets its error line for every question
        return _ask_lines(engine, args)
    clean_question(args.question)  # a usage error before the model loads
    engine = Engine(_settings(args))
    if args.json or args.explain or not _is_terminal():
        ans = engine.ask(args.question, explain=args.explain)
        print(ans.to_json() if args.json else _with_explain(ans))
    else:
        print(_stream(engine.stream(args.question)))
    return 0


def _input_lines() -> Iterator[tuple[str, str | None]]:
    """Standard input's lines as (text, error): bytes that are not UTF-8 make that line an error,
    not the end of the loop (a pipe's encoding is not the terminal's)."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a text stream handed in (tests, embedding)
        yield from ((line, None) for line in sys.stdin)
        return
    for n, raw in enumerate(stream, 1):
        try:
            yield raw.decode("utf-8"), None
        except UnicodeDecodeError as e:
            yield raw.decode("utf-8", "replace"), f"line {n} is not UTF-8 text (byte {e.start + 1}); " \
                                                  "send questions as UTF-8"


def _ask_lines(engine, args) -> int:
    """`rag ask -`: one answer per line of standard input, in order. A question that fails, for
    any reason, is one line (a JSON error object with --json) and the loop goes on; the exit code
    is the worst seen (2 for usage errors, 1 for others)."""
    status = 0
    for line, bad in _input_lines():
        if not line.strip():
            continue
        question = line.rstrip("\r\n")
        try:
            if bad:
                raise UsageError(bad)
            if isinstance(engine, Exception):
                raise engine
            ans = engine.ask(line, explain=args.explain)
            print(ans.to_json() if args.json else f"{_with_explain(ans)}\n")
        except (KeyboardInterrupt, BrokenPipeError):
            raise
        except Exception as e:  # noqa: BLE001 - one line per failed question, whatever the cause
            status = max(status, 2 if isinstance(e, UsageError) else 1)
            message = str(e) if isinstance(e, RagError) else f"internal error ({type(e).__name__}: {e})"
            message = " ".join(message.split())
            if args.json:
                print(json.dumps({"question": question, "error": message}, ensure_ascii=False))
            else:
                print(f"rag: {message}", file=sys.stderr)
        sys.stdout.flush()
    return status


def _with_explain(ans) -> str:
    """The answer as printed, and after it, when it was asked for, the answerer's explanation."""
    if not ans.explain_asked:
        return str(ans)
    if ans.explain is None:
        return f"{ans}\n\nExplain: nothing to show (only the extractive answerer explains its answers)"
    from rag.extractive.answerer import format_explain

    return f"{ans}\n\n{format_explain(ans.explain)}"


def _is_terminal() -> bool:
    return sys.stdout.isatty()


def _stream(parts) -> object:
    """Print a generative answer's draft as it arrives (dimmed), then return the final answer,
    whose verified text and sources are printed in full after it."""
    drafted = False
    for part in parts:
        if isinstance(part, str):
            if not drafted:
                sys.stdout.write("\x1b[2m")  # the draft is dim: it is not yet checked
                drafted = True
            sys.stdout.write(part)
            sys.stdout.flush()
            continue
        if drafted:
            sys.stdout.write("\x1b[0m\n\n")
        return part
    raise RuntimeError("the engine's stream ended without an answer")


def cmd_chat(args) -> int:
    from rag.engine import Engine

    chat = Engine(_settings(args)).chat()
    tty = sys.stdin.isatty()
    if tty:
        print("Ask about the documents; follow-ups work ('and AIDC?'). /reset starts over, /quit or Ctrl-D leaves.")
        print("Try: " + " | ".join(EXAMPLES))
    while True:
        try:
            line = input("\n> " if tty else "")
        except EOFError:
            return 0
        cmd = line.strip()
        if cmd in ("/quit", "/exit"):
            return 0
        if cmd == "/reset":
            chat.reset()
            print("(new conversation)")
            continue
        if not cmd:
            continue
        try:
            print(_stream(chat.stream(line)) if _is_terminal() else chat.ask(line))
        except UsageError as e:
            print(f"rag: {e}", file=sys.stderr)


def cmd_serve(args) -> int:
    try:
        from ui.app import serve  # gradio loads only for this command; rag itself never imports ui
    except ImportError as e:
        raise RagError(f"The web page needs gradio ({e}); run: pip install 'gradio>=5'") from None
    return serve(_settings(args), host=args.host, port=args.port, auth=args.auth, share=args.share,
                 auth_file=args.auth_file)


def cmd_eval(args) -> int:
    try:
        from evals.run import evaluate
    except ImportError:
        raise RagError("The evals package is not installed; run rag eval from a checkout (pip install -e .)") from None
    if args.ablate:
        from evals.ablate import compare
        from evals.sets import EvalSet, all_sets
        from rag.extractive.rules import parse_names
        from rag.settings import bundled_corpus_dir

        off = parse_names(args.ablate)
        sets = [EvalSet(args.questions.stem, tuple(args.corpus or [bundled_corpus_dir()]), args.questions)] \
            if args.questions else all_sets()
        compare(off, sets)
        return 0
    return evaluate(corpus=args.corpus, questions=args.questions, answerer=args.answerer,
                    reports=args.reports, thresholds=args.thresholds, baseline=not args.no_baseline,
                    settings=_settings(args), limit=args.limit)


COMMANDS = {"ingest": cmd_ingest, "list": cmd_list, "remove": cmd_remove, "facts": cmd_facts, "ask": cmd_ask, "chat": cmd_chat,
            "serve": cmd_serve, "eval": cmd_eval}
