"""The engine: a loaded index (store, embedder, BM25, glossary) answering questions, and `Chat`,
which keeps the turns of a conversation. The shell API, the CLI, the evals and the web page all
go through `Engine.ask`: one pipeline.
"""

from __future__ import annotations

import dataclasses
import math
import re
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rag import compare, compute
from rag.answerers import get_answerer
from rag.cite import MARKER_RE, Answer
from rag.errors import IndexEmptyError, IndexMissingError, UsageError
from rag.extractive import row_answers
from rag.extractive.tables import states_cause, states_count, states_level
from rag.extractive.terms import stems_of
from rag.extractive.vocab import ASKER_ORDINAL, CAUSAL, PERIOD_WORDS
from rag.facts import STATEMENT_TITLES, FactIndex
from rag.followup import complete
from rag.glossary import Glossary
from rag.lexical import open_lexicon
from rag.question import analyze, figure_and_cause, sub_questions
from rag.retrieve import Hit, HybridRetriever
from rag.settings import Settings, bundled_corpus_dir
from rag.text import sentence_splitter

# verbs a question reports a figure with ("did Microsoft report", "post", "record"): no row's label
_REPORTING = frozenset(stems_of("report reported post posted record recorded book booked log logged deliver delivered"))

MAX_QUESTION_CHARS = 2000
FRESH_EVERY = 0.5  # seconds: how often an engine asks the store whether another process changed it
EMPTY_INDEX = "The index is empty: add documents with rag ingest PATH"
DEEP_ROWS = 3  # a figure question also looks this many times deeper for a table row that names it
FACT_ROWS = 2  # a figure question's passages start with those holding the table rows that name it
MAX_OPERANDS = 4  # a computed figure's operands looked up as rows ("(A + B) / C": three), for up to 3 periods
OPERAND_ROWS = 2  # the rows looked up for each operand: the best, and the one that would make it ambiguous


def clean_question(question: str) -> str:
    """The question with control characters removed and whitespace collapsed; UsageError if
    nothing is left or it is too long to be a question."""
    if not isinstance(question, str):
        raise UsageError("The question must be text")
    q = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in question)
    q = re.sub(r"\s+", " ", q).strip()
    if not q:
        raise UsageError('Empty question: ask something about the documents, e.g. "How much did cloud revenue grow?"')
    if len(q) > MAX_QUESTION_CHARS:
        raise UsageError(f"The question is {len(q):,} characters long; the limit is {MAX_QUESTION_CHARS:,}. "
                         "Ask one short question at a time")
    return q


def complete_question(question: str, history: list[str] | None) -> str:
    """The question cleaned and, when it is an elliptical follow-up, completed from the last
    of `history` (the conversation's earlier questions, empty ones skipped)."""
    return complete(clean_question(question), [clean_question(h) for h in history or [] if h and h.strip()])


class _Idf:
    """idf(stem) with its maximum, as `analyze` wants it, from the word index's counts."""

    def __init__(self, retriever: HybridRetriever) -> None:
        self._r = retriever
        self._lex = retriever.lex
        self.max = retriever.idf("\0unseen\0")
        self._punct: dict[str, float] = {}

    def __call__(self, term: str) -> float:
        df = self._lex.term_df(term)
        # a word of a file name ("WIDGETCO_2023Q2_EARNINGS.txt") names that document's chunks,
        # as routing reads it, though BM25 never sees it: such a name is not unknown
        if not df and term in self._lex.file_df:
            return math.log(1 + self._r.n_docs / (1 + self._lex.file_df[term]))
        if df or not re.search(r"[^\w]", term):
            return self._r.idf(term)
        # "u.s", "r&d": BM25's tokens split these, so its counts do not know them; the chunks
        # that spell them, counted at ingest (rag.lexical.Lexicon.punct_df)
        if term not in self._punct:
            self._punct[term] = math.log(1 + self._r.n_docs / (1 + self._lex.punct_df(term)))
        return self._punct[term]


class Engine:
    """A loaded index, ready for repeated questions.

    >>> engine = Engine()                                  # doctest: +SKIP
    >>> print(engine.ask("How much did cloud revenue grow?"))  # doctest: +SKIP
    """

    def __init__(self, settings: Settings | None = None, **overrides) -> None:
        self.settings = (settings or Settings.load()).replace(**overrides)
        self._lock = threading.Lock()
        self._answerers: dict[str, object] = {}  # kept across reload(): a local model loads once
        self._load()

    def _is_default_index(self) -> bool:
        return not self.settings.chroma_url and Path(self.settings.index_dir) == Path("index")

    def _load(self) -> None:
        from rag.embed import get_embedder
        from rag.store import Store, manifest_for

        try:
            store = Store(self.settings)
        except IndexMissingError:
            if not self._is_default_index():
                raise
            # First use on a fresh checkout: build the default index from the bundled corpus.
            from rag.indexer import ingest

            report = ingest([bundled_corpus_dir()], self.settings, progress=True)
            if not report.ok:
                raise
            store = Store(self.settings)
        if self._is_default_index() and store.outdated_schema_only(manifest_for(self.settings)):
            store = self._rebuild(store)
        store.check_manifest(manifest_for(self.settings))
        generation = store.generation()  # read first: a change made while loading shows next time
        embedder = get_embedder(self.settings.embed_model, self.settings.device)
        retriever = HybridRetriever(open_lexicon(store, self.settings), store, embedder)
        facts = FactIndex(store.committed_rows())
        texts = list(store.glossaries().values())
        if self.settings.glossary:
            texts.append(Path(self.settings.glossary).read_text(encoding="utf-8"))
        # all built, then swapped in together: a question answered meanwhile sees the old state whole
        self.__dict__.update(store=store, embedder=embedder, chunks=retriever.chunks, facts=facts,
                             retriever=retriever, idf=_Idf(retriever), glossary=Glossary.from_texts(texts),
                             generation=generation, _checked=time.monotonic())
        # A big index: Chroma's vector index loads in the background (its reads wait for it, so
        # after this engine's own), and the sentence splitter with it, while the first question
        # is read. Both would otherwise load, one after the other, inside the first answer.
        retriever.warm()
        if retriever.warming is not None:
            threading.Thread(target=sentence_splitter, name="rag-warm-punkt").start()

    def _rebuild(self, store):
        """The default index, built by an older version (another schema): its documents ingested
        again into a fresh one, so that `make chat` keeps working after an upgrade. Documents whose
        files are gone are dropped, with a line saying so."""
        import sys

        from rag.indexer import ingest
        from rag.store import Store

        sources = sorted(store.documents())
        present = [s for s in sources if Path(s).is_file()]
        print(f"rag: the index in {self.settings.index_label} was built by an older version; re-indexing its "
              f"{len(present)} documents", file=sys.stderr)
        for s in sorted(set(sources) - set(present)):
            print(f"rag: {s} is gone; it leaves the index", file=sys.stderr)
        # a folder with a glossary was ingested as a folder: again so, to keep its glossary
        folders = [f for f in store.glossaries() if Path(f).is_dir()]
        files = [s for s in present if not any(s.startswith(f.rstrip("/") + "/") for f in folders)]
        store.drop()
        ingest(folders + files or [bundled_corpus_dir()], self.settings, progress=True)
        return Store(self.settings)

    def reload(self) -> None:
        """Pick up documents ingested or removed since the engine was loaded."""
        with self._lock:
            self._load()

    def refresh(self) -> bool:
        """Reload when the store changed since this engine read it (an ingest or a removal by another
        process, the CLI or another machine on a Chroma server); asked of the store at most every
        FRESH_EVERY seconds. Whether it reloaded."""
        if time.monotonic() - self._checked < FRESH_EVERY:
            return False
        with self._lock:
            self._checked = time.monotonic()
            if self.store.generation() == self.generation:
                return False
            self._load()
        return True

    def answerer(self, name: str | None = None):
        name = name or self.settings.answerer
        if name not in self._answerers:
            self._answerers[name] = get_answerer(name, settings=self.settings)
        return self._answerers[name]

    def retrieve(self, question: str, k: int | None = None) -> list[Hit]:
        """The top `k` passages for a question, as `ask` ranks them: the question read without an
        analyst's preamble, routed to the documents it names, the table rows it names first."""
        question = clean_question(question)
        self.refresh()
        if not self.chunks:
            return []
        query = analyze(question, self.idf, self.retriever.fuzzy, self.glossary)
        k = k or self.settings.top_k
        return self._retrieve(query, k)[:k]

    def ask(self, question: str, history: list[str] | None = None, *, k: int | None = None,
            answerer: str | None = None, explain: bool = False) -> Answer:
        """Answer `question` from the index; `history` holds the conversation's earlier
        questions, used to complete an elliptical follow-up ("and AIDC?"). With `explain`, the
        extractive answerer says which candidates it scored, which it filtered out and why it
        answered or abstained (`Answer.explain`; None for the generative answerers)."""
        t0 = time.perf_counter()
        q, impl, query, hits = self._prepare(question, history, k, answerer)
        t1 = time.perf_counter()
        ans = self._answer(impl, query, hits, k, explain)
        return self._finish(q, query.asked or query.text, ans, t0, t1, explain)

    def _answer(self, impl, query, hits: list[Hit], k: int | None, explain: bool = False) -> Answer:
        """The answerer's answer; for a figure and its cause asked together ("By roughly what
        percentage did G&A expense rise in fiscal 2004, and what drove the jump?") that the
        extractive answerer answers without a cause (or not at all), each part asked on its own and
        the two answers joined (`figure_and_cause`): the figure from its table, the cause from the
        sentence that gives it. When either part finds nothing, the answer to the whole stands."""
        extractive = impl.name == "extractive"
        ans = impl.answer(query, hits, explain=True) if explain and extractive else impl.answer(query, hits)
        if not extractive or not (parts := figure_and_cause(query.asked or query.text)) or \
                (not ans.abstained and any(CAUSAL.search(c.quote) for c in ans.citations)):
            return ans  # (answered as one, the cause given)
        answers = []
        for part in parts:
            sub = analyze(part, self.idf, self.retriever.fuzzy, self.glossary)
            answers.append(impl.answer(sub, self._retrieve(sub, k or self.settings.top_k), explain=explain))
        if any(a.abstained for a in answers):
            return ans
        joined = _joined(_lead_only(answers[0]), answers[1])
        if explain:
            joined = dataclasses.replace(joined, explain={
                "candidates": [], "filtered": [],
                "decision": "figure_and_cause: " + " | ".join(f"{p} -> {(a.explain or {}).get('decision')}"
                                                             for p, a in zip(parts, answers))})
        return joined

    def stream(self, question: str, history: list[str] | None = None, *, k: int | None = None,
               answerer: str | None = None) -> Iterator[str | Answer]:
        """`ask`, as it is written: text deltas while a generative answerer writes (a draft,
        not yet verified), then the final Answer, always last. An answerer that does not stream
        (the extractive one) yields the Answer alone."""
        t0 = time.perf_counter()
        q, impl, query, hits = self._prepare(question, history, k, answerer)
        t1 = time.perf_counter()
        ans = None
        if hasattr(impl, "stream"):
            for part in impl.stream(query, hits):
                if isinstance(part, Answer):
                    ans = part
                else:
                    yield part
        else:
            ans = self._answer(impl, query, hits, k)
        yield self._finish(q, query.asked or query.text, ans, t0, t1)

    def _prepare(self, question: str, history: list[str] | None, k: int | None, answerer: str | None):
        q = clean_question(question)
        self.refresh()
        if not self.chunks:
            raise IndexEmptyError(EMPTY_INDEX)
        impl = self.answerer(answerer)
        full = complete_question(q, history)
        query = analyze(full, self.idf, self.retriever.fuzzy, self.glossary)
        return q, impl, query, self._retrieve(query, k or self.settings.top_k)

    @staticmethod
    def _finish(q: str, completed: str, ans: Answer, t0: float, t1: float, explain: bool = False) -> Answer:
        t2 = time.perf_counter()
        timings = {"retrieve": round((t1 - t0) * 1000, 2), "answer": round((t2 - t1) * 1000, 2),
                   "total": round((t2 - t0) * 1000, 2)}
        return dataclasses.replace(ans, question=q, completed=completed, timings_ms=timings,
                                   explain_asked=explain or ans.explain is not None)

    def _retrieve(self, query, k: int) -> list[Hit]:
        """Hits for the question, plus for each measure of a several-measure question, plus
        (for a figure) deeper hits holding a table row labelled with what is asked, plus (for
        "who asked the first question?") the call's question turns."""
        text = self.glossary.expand(query.text)
        if query.statement:  # "... using the cash flow statement": its pages' own words
            text += " " + STATEMENT_TITLES.get(query.statement, "")
        # a count is looked for deeper still: a sentence stating it sits in a long passage on other
        # things (states_count)
        # and a why-question looks as deep for the sentence explaining what it names (states_cause)
        deep = self.retriever.retrieve(text, (DEEP_ROWS + 2 * (query.intent == "count")) * k
                                       if query.wants_figure or query.causal else k)
        rows = self._fact_hits(query, FACT_ROWS)
        for h in self._operand_hits(query):
            if all(h.chunk.id != r.chunk.id for r in rows):
                rows.append(h)
        seen = {h.chunk.id for h in rows}
        hits = rows + [h for h in deep[:k] + [h for h in deep[k:] if row_answers(query, h.chunk) or
                                              states_level(query, h.chunk) or states_count(query, h.chunk) or
                                              states_cause(query, h.chunk)][:k] + self._turns(query)
                       if h.chunk.id not in seen]
        seen = {h.chunk.id for h in hits}
        for part in sub_questions(query):
            for h in self.retriever.retrieve(self.glossary.expand(part), k):
                if h.chunk.id not in seen:
                    seen.add(h.chunk.id)
                    hits.append(h)
        if not len(self.facts):
            return hits
        return [dataclasses.replace(h, rows=self.facts.within(h.chunk.source, h.chunk.page, h.chunk.start, h.chunk.end))
                for h in hits]

    def _operand_hits(self, query) -> list[Hit]:
        """For a figure to compute (a metric the question defines or names, rag/compute.py), the
        chunks holding the best rows for each of its operands, in the documents the question
        names: the pages a computation cites."""
        if not len(self.facts):
            return []
        p = compute.plan(query)
        rk = compare.ranking(query) if p is None else None
        if p is None and rk is None:
            return []
        # the question as asked: "Using Intel's balance sheet, what was its ..." names the company
        # in the words the framing set aside
        rows = self.facts.of_sources(self.retriever.route(query.asked or query.text))
        found: list = []
        if p is not None:
            # "the International segment's margin": its rows (its share of a whole: the whole's too)
            segment = compute.segment_of(p, query)
            rows = compute.segment_rows(rows, segment)
            for item, period in compute.needs(p)[:3 * MAX_OPERANDS]:
                found += [row for _, row, _ in compute.candidates(item, rows, period, query.statement, n=OPERAND_ROWS,
                                                                  segment=segment)]
        else:  # the tables that break the measure ranked down: every member's row
            found = [f[0] for _, figures in compare.tables_for(rk, rows)[:OPERAND_ROWS] for f in figures]
        return self._row_hits(found)

    def _row_hits(self, rows) -> list[Hit]:
        """A hit for the chunk holding each row (one each, in the rows' order), fetched together."""
        lex = self.retriever.lex
        at = [lex.chunk_at(row.source, row.page, row.start, row.end) for row in rows]
        return [Hit(c, 0.0, None, None, None) for c in self.chunks.get(dict.fromkeys(i for i in at if i is not None))]

    def _fact_hits(self, query, n: int, route_by: str | None = None) -> list[Hit]:
        """For a figure question, the chunks holding the table rows whose labels name it (in the
        documents it names, with a column of the period it asks): a statement's row is found by
        its label, which dense retrieval reads poorly."""
        if not (query.wants_figure and len(self.facts)):
            return []
        # the period's words ("quarter ended December 31, 2003") are the columns' business, and a
        # verb of reporting ("What revenue did Microsoft report") is in no row's label
        said = set(stems_of(query.period.text)) if query.period is not None else set()
        keys = [(t.stems, t.weight) for t in query.terms
                if not t.stems & (PERIOD_WORDS | said) and not t.stems & _REPORTING]
        sources = self.retriever.route(route_by or query.text)
        names = set().union(*(self.retriever.doc_names.get(s, set()) for s in sources or []))
        keys = [(st, w) for st, w in keys if not st & names]  # "Nike's": the routing's business
        return self._row_hits([row for _, row in self.facts.search(keys, sources, query.period, query.statement,
                                                                   n=n, items=query.items)])

    def _turns(self, query) -> list[Hit]:
        """"Who asked the first (second, last) question?": the opening chunk of each question turn
        of the call the question is about, in the call's order, for the answerer's asker_by_order
        rule; none when no single call is meant."""
        if query.intent != "asker" or not ASKER_ORDINAL.search(query.text):
            return []
        lex = self.retriever.lex
        sources = self.retriever.route(query.text) or list(lex.span)
        firsts = [turns for turns in map(lex.turn_openers, sources) if turns]
        if len(firsts) != 1:
            return []  # no transcript, or several: which call is meant is not clear
        return [Hit(c, 0.0, None, None, None) for c in self.chunks.get(firsts[0])]

    def chat(self) -> Chat:
        return Chat(self)


@dataclass
class Chat:
    """A conversation: keeps the turns so follow-ups can be elliptical.

    >>> chat = Engine().chat()                       # doctest: +SKIP
    >>> chat.ask("How much did cloud revenue grow?")  # doctest: +SKIP
    >>> chat.ask("and AIDC?")                         # doctest: +SKIP
    """

    engine: Engine
    turns: list[tuple[str, Answer]] = field(default_factory=list)

    def ask(self, question: str, **kwargs) -> Answer:
        history = [q for q, _ in self.turns]
        ans = self.engine.ask(question, history, **kwargs)
        self.turns.append((ans.completed or question, ans))
        return ans

    def stream(self, question: str, **kwargs) -> Iterator[str | Answer]:
        """`ask` as `Engine.stream` gives it: deltas, then the Answer (kept as the turn)."""
        history = [q for q, _ in self.turns]
        for part in self.engine.stream(question, history, **kwargs):
            if isinstance(part, Answer):
                self.turns.append((part.completed or question, part))
            yield part

    def reset(self) -> None:
        self.turns.clear()


def _joined(first: Answer, then: Answer) -> Answer:
    """Two answers as one: the first's text and citations as they are, the second's after them,
    its markers renumbered (a quote both cite keeps the first's number); the first's computation."""
    key = {(c.source, c.start, c.end): c.n for c in first.citations}
    renumber, extra = {}, []
    for c in then.citations:
        if (c.source, c.start, c.end) in key:
            renumber[c.n] = key[(c.source, c.start, c.end)]
        else:
            renumber[c.n] = len(first.citations) + len(extra) + 1
            extra.append(dataclasses.replace(c, n=renumber[c.n]))
    text = MARKER_RE.sub(lambda m: f"[{renumber.get(int(m.group(1)), int(m.group(1)))}]", then.text)
    return dataclasses.replace(first, text=f"{first.text}\n{text}", citations=first.citations + tuple(extra),
                               unverified=first.unverified + then.unverified)


def _lead_only(ans: Answer) -> Answer:
    """A figure's answer without the quotes its lead does not cite: asked with a cause, the figure
    keeps its own passage, and the cause's passage replaces the sentence added for context. Kept
    whole when what it cites is not numbered first (the computation refers to those numbers)."""
    lines = ans.text.split("\n")
    lead = {int(n) for n in MARKER_RE.findall(lines[0])}
    if not lead or lead != set(range(1, len(lead) + 1)):
        return ans
    kept = [ln for ln in lines[1:] if {int(n) for n in MARKER_RE.findall(ln)} <= lead]
    return dataclasses.replace(ans, text="\n".join([lines[0], *kept]),
                               citations=tuple(c for c in ans.citations if c.n in lead))
