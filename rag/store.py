"""The Chroma store: a chunks collection (our embeddings, text, metadata) and a documents
collection whose records are the commit markers of ingested files.

A document is visible only once its record names the hash its chunks were written under; chunks of
any other hash are leftovers of an interrupted ingest and are swept on the next one. Chroma never
embeds on its own: the collections carry a guard embedding function that raises, and telemetry
is off. Embedded (`PersistentClient`) and server (`HttpClient`) modes behave the same.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from rag.chunk import Chunk
from rag.errors import IndexBusyError, IndexMismatchError, IndexMissingError, RagError, StoreError
from rag.settings import Settings, cache_dir

SCHEMA_VERSION = 12  # 2: chunks embedded under title and section; 3: PDFium text, table headers; 4: transcript
# speakers, analysts and firms in common layouts; 5: table rows read as facts (the -facts collection);
# 6: a PDF's lost ligatures restored ("Gross pro-t" -> "Gross profit"), a table's own title; 7: a row's
# label wrapped onto the line above it, a column as wide as its figures, an HTML table row one line;
# 8: a text table's title naming its years heads no column when a line of years is below it; 9: EDGAR
# text documents read page by page without their SGML lines, "Year Ended June 30 2002 2003 2004" (and
# years with footnote marks) read as a header, a text table's header ends at the rule above it, and
# without positions only the lowest line of years heads columns; a column headed "Q2 2023" or "Fourth
# Quarter" is a quarter, an amount beside its percentage is read, and prose wrapped at a fixed width is
# no table row where its sentence goes on below; a line of span words ("Fiscal Fiscal Fiscal") is no caption;
# 10: an HTML table's cells placed in columns (colspan kept) and read by position, as a PDF's; tables whose
# columns are members (segments, regions) read as one row per measure and member; 11: a footnote mark
# after a row's label ("Restructuring (3) 711 0") is no figure; span labels stacked on lines of their own
# ("Three Months Ended" above "Six Months Ended") head their columns in order; a line carrying on an
# unfinished sentence is prose, not a table row (chunk boundaries move); 12: text with a table cell on each
# line read with each row on one line, Markdown pipe tables read as rows placed in columns; a caption's
# sentence ("... were as follows:") ends the table above it; a row of percentages under periods is each
# period's rate (unit "%")
GLOSSARY_PREFIX = "glossary::"
PENDING_PREFIX = "pending::"  # a document being written: its chunks are swept if the ingest dies
GENERATION_ID = "generation::"  # bumped by every change of the committed documents
SWEEP_KEY = "rag_pending_markers"  # in the chunks' metadata: this index records pending documents
RETRY_WAITS = (0.2, 0.5, 1.0)  # seconds between the tries of a call a Chroma server did not answer
ONE_READ = 50_000  # records read in one call; more are read a document at a time
LEASE_ID = "lease::ingest"  # a server index's writer lease, in the docs collection
LEASE_TTL = 120.0  # seconds without a heartbeat after which a lease counts as abandoned
LEASE_RENEW = 10.0  # how often a writer refreshes its heartbeat


@functools.lru_cache(maxsize=1)
def host_id() -> str:
    """This machine, as leases name it: host name and kernel boot id (a reboot is a new host)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:8]
    except OSError:
        boot = "-"
    return f"{socket.gethostname()}:{boot}"


def _guard_function():
    from chromadb.api.types import EmbeddingFunction

    class NeverEmbed(EmbeddingFunction):
        """Chroma's default function downloads a model; we always hand over our own vectors."""

        def __init__(self) -> None:
            pass

        def __call__(self, input):  # noqa: A002 - Chroma's signature
            raise RagError("internal error: Chroma was asked to embed text itself")

        @staticmethod
        def name() -> str:
            return "rag-qa-never-embed"

        def get_config(self) -> dict:
            return {}

        @staticmethod
        def build_from_config(config: dict) -> NeverEmbed:
            return NeverEmbed()

    return NeverEmbed()


def _transport_errors() -> tuple[type[BaseException], ...]:
    import httpx

    return (httpx.TransportError, ConnectionError)


def store_error(e: BaseException, settings: Settings) -> StoreError | None:
    """A failure of the store under us (its server gone, its disk full or read-only) as one line
    that says what to do; None for anything else. SQLite's messages are matched as SQLite words
    them: Chroma passes them on inside its own InternalError."""
    import errno

    text = str(e)
    if isinstance(e, StoreError):
        return e
    if isinstance(e, _transport_errors()):
        return StoreError(f"Cannot reach the Chroma server at {settings.chroma_url} ({type(e).__name__}); "
                          "start it again (chroma run --path DIR --port PORT) and retry: what was committed "
                          "before is kept")
    if "readonly database" in text or getattr(e, "errno", None) == errno.EROFS:
        return _read_only(settings)
    if "database or disk is full" in text or getattr(e, "errno", None) == errno.ENOSPC:
        return StoreError(f"The disk holding {settings.index_label} is full; the index is as it was before "
                          "the document being written. Free some space and run the same command again")
    return None


def _read_only(settings: Settings) -> StoreError:
    return StoreError(
        f"The index in {settings.index_label} is read-only for this user, and Chroma opens its database "
        "for writing even to read it (chroma-core/chroma#1438). Copy it somewhere writable "
        f"(cp -r {settings.index_dir} /tmp/rag-index, then --index /tmp/rag-index) or get write access to it")


def _writable(index_dir: Path) -> bool:
    """Whether this process may write the index's folder and database (a read-only mount too)."""
    db = index_dir / "chroma.sqlite3"
    if not os.access(index_dir, os.W_OK) or (db.exists() and not os.access(db, os.W_OK)):
        return False
    try:
        return not os.statvfs(index_dir).f_flag & os.ST_RDONLY
    except OSError:
        return True


def make_client(settings: Settings, create: bool):
    os.environ["ANONYMIZED_TELEMETRY"] = "False"
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url if "://" in settings.chroma_url else f"http://{settings.chroma_url}")
        try:
            client = chromadb.HttpClient(host=url.hostname or "127.0.0.1", port=url.port or 8000,
                                         ssl=url.scheme == "https", settings=chroma_settings)
            client.heartbeat()
        except Exception as e:
            raise RagError(f"Cannot reach the Chroma server at {settings.chroma_url} "
                           f"({type(e).__name__}); start it with: chroma run --path DIR --port "
                           f"{url.port or 8000}") from None
        return client
    if not create and not settings.index_dir.is_dir():
        raise IndexMissingError(f"No index at {settings.index_dir}/. Run: rag ingest corpus/")
    try:
        settings.index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise store_error(e, settings) or RagError(f"Cannot create {settings.index_dir}/: {e.strerror or e}") from None
    if not _writable(settings.index_dir):
        raise _read_only(settings)
    try:
        return chromadb.PersistentClient(path=str(settings.index_dir), settings=chroma_settings)
    except Exception as e:
        raise (store_error(e, settings) or e) from None


class _Guarded:
    """A Chroma client or collection whose calls, on a server, are tried again a few times when
    the server does not answer (RETRY_WAITS), and whose failures of the store itself become
    StoreError (one line). Written here because Chroma's clients neither retry nor say what a
    low-level error means for the index."""

    def __init__(self, target, settings: Settings) -> None:
        self._target = target
        self._settings = settings

    def __getattr__(self, name: str):
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            waits = RETRY_WAITS if self._settings.chroma_url else ()
            for attempt in range(len(waits) + 1):
                try:
                    out = attr(*args, **kwargs)
                except Exception as e:
                    if attempt < len(waits) and isinstance(e, _transport_errors()):
                        time.sleep(waits[attempt])
                        continue
                    raise (store_error(e, self._settings) or e) from None
                return _Guarded(out, self._settings) if _is_collection(out) else out
        return call


def _is_collection(obj) -> bool:
    from chromadb.api.models.Collection import Collection

    return isinstance(obj, Collection)


def manifest_for(settings: Settings) -> dict:
    """How an index is made; opening it with other values is refused."""
    return {"rag_schema": SCHEMA_VERSION, "embed_model": settings.embed_model,
            "chunk_size": settings.chunk_size, "chunk_overlap": settings.chunk_overlap}


def _is_document(record_id: str) -> bool:
    return not (record_id.startswith((GLOSSARY_PREFIX, PENDING_PREFIX)) or record_id in (LEASE_ID, GENERATION_ID))


class Store:
    """One index: `<collection>-chunks` and `<collection>-docs` in a Chroma database."""

    def __init__(self, settings: Settings, create: bool = False) -> None:
        self.settings = settings
        self.client = _Guarded(make_client(settings, create), settings)
        names = {c if isinstance(c, str) else c.name for c in self.client.list_collections()}
        self._chunks_name = f"{settings.collection}-chunks"
        self._docs_name = f"{settings.collection}-docs"
        self._facts_name = f"{settings.collection}-facts"
        if not create and self._chunks_name not in names:
            where = settings.index_label
            raise IndexMissingError(f"No index in {where}. Run: rag ingest corpus/"
                                    + (f" --chroma-url {settings.chroma_url}" if settings.chroma_url else ""))
        self.chunks = self._collection(self._chunks_name, cosine=True)
        self.docs = self._collection(self._docs_name, cosine=False)
        # table rows read as facts (rag.facts): one record per row, found by document, not by
        # vector (a 1-d placeholder, as the docs records have)
        self.facts = self._collection(self._facts_name, cosine=False)
        self._lease: dict | None = None  # this writer's lease on a server index, while it holds one

    def _collection(self, name: str, cosine: bool):
        config = {"hnsw": {"space": "cosine"}} if cosine else None
        return self.client.get_or_create_collection(name, embedding_function=_guard_function(),
                                                    configuration=config)

    # --- manifest ----------------------------------------------------------------------------

    def manifest(self) -> dict:
        meta = dict(self.chunks.metadata or {})
        return {k: meta[k] for k in ("rag_schema", "embed_model", "chunk_size",
                                     "chunk_overlap") if k in meta}

    def check_manifest(self, expected: dict) -> None:
        """Adopt `expected` on an empty index; refuse an index made with other settings."""
        have = self.manifest()
        if not have:
            self.chunks.modify(metadata=expected)
            return
        diffs = [f"{k}={have.get(k)!r} (now {v!r})" for k, v in expected.items() if have.get(k) != v]
        if diffs:
            target = f"--chroma-url {self.settings.chroma_url} --collection NAME" if self.settings.chroma_url \
                else "--index NEW_DIR"
            raise IndexMismatchError(
                f"The index in {self.settings.index_label} was built with {', '.join(diffs)}. "
                f"Use the same settings, or re-ingest into a fresh index: rag ingest PATH {target} "
                f"(or delete {self.settings.index_label} and run rag ingest again)")

    def outdated_schema_only(self, expected: dict) -> bool:
        """Whether the index differs from `expected` in its schema alone (same model and chunking):
        an index older code built, which re-ingesting its own documents brings up to date."""
        have = self.manifest()
        return bool(have) and have.get("rag_schema") != expected["rag_schema"] and \
            all(have.get(k) == v for k, v in expected.items() if k != "rag_schema")

    def drop(self) -> None:
        """Delete this index's collections (its chunks and document records); the files ingested
        are not touched."""
        import shutil

        from rag.lexical import lexical_dir

        shutil.rmtree(lexical_dir(self.settings, self), ignore_errors=True)
        for name in (self._chunks_name, self._docs_name, self._facts_name):
            self.client.delete_collection(name)

    # --- documents ---------------------------------------------------------------------------

    def documents(self) -> dict[str, dict]:
        """Committed documents: source -> record metadata (doc_hash, title, chunks, ...)."""
        got = self.docs.get(include=["metadatas"])
        return {i: m for i, m in zip(got["ids"], got["metadatas"]) if _is_document(i)}

    def commit_document(self, source: str, meta: dict) -> None:
        self.docs.upsert(ids=[source], metadatas=[meta], embeddings=[[0.0]])
        self._bump()

    def delete_document(self, source: str) -> int:
        """Remove a document's record first (it disappears at once), then all its chunks (marked
        pending meanwhile: a removal that dies is finished by the next ingest's sweep)."""
        self.mark_pending(source, "")
        self.docs.delete(ids=[source])
        self._bump()
        ids = self.chunks.get(where={"source": source}, include=[])["ids"]
        self.delete_chunks(ids)
        self.delete_rows(self.facts.get(where={"source": source}, include=[])["ids"])
        self.clear_pending(source)
        return len(ids)

    # A document being written is marked pending first: an ingest that dies leaves the mark, and
    # the next one sweeps that document's uncommitted chunks, without reading every chunk's key.

    def mark_pending(self, source: str, doc_hash: str) -> None:
        self.docs.upsert(ids=[PENDING_PREFIX + source], metadatas=[{"doc_hash": doc_hash}], embeddings=[[0.0]])

    def clear_pending(self, source: str) -> None:
        self.docs.delete(ids=[PENDING_PREFIX + source])

    def pending(self) -> list[str]:
        """The sources whose writing an ingest began and did not finish."""
        got = self.docs.get(include=[])
        return [i[len(PENDING_PREFIX):] for i in got["ids"] if i.startswith(PENDING_PREFIX)]

    def marks_pending(self) -> bool:
        """Whether this index records pending documents (else a sweep reads every key, once)."""
        return bool((self.chunks.metadata or {}).get(SWEEP_KEY))

    def set_marks_pending(self) -> None:
        self.chunks.modify(metadata={**(self.chunks.metadata or {}), SWEEP_KEY: True})

    def generation(self) -> str:
        """A token that changes whenever the committed documents (or glossaries) change: a reader
        compares it to the one it loaded to know it is stale ("" on an index older code wrote)."""
        got = self.docs.get(ids=[GENERATION_ID], include=["metadatas"])
        return str(got["metadatas"][0].get("token", "")) if got["ids"] else ""

    def _bump(self) -> None:
        self.docs.upsert(ids=[GENERATION_ID], metadatas=[{"token": uuid.uuid4().hex, "at": time.time()}],
                         embeddings=[[0.0]])

    def glossaries(self) -> dict[str, str]:
        got = self.docs.get(include=["documents"])
        return {i[len(GLOSSARY_PREFIX):]: d for i, d in zip(got["ids"], got["documents"])
                if i.startswith(GLOSSARY_PREFIX)}

    def put_glossary(self, folder: str, text: str | None) -> None:
        key = GLOSSARY_PREFIX + folder
        if text is None:
            self.docs.delete(ids=[key])
        elif self.glossaries().get(folder) != text:
            self.docs.upsert(ids=[key], documents=[text], metadatas=[{"kind": "glossary"}], embeddings=[[0.0]])
        else:
            return
        self._bump()

    # --- chunks ------------------------------------------------------------------------------

    def _batches(self, n: int) -> Iterator[slice]:
        size = min(1000, self.client.get_max_batch_size())
        for i in range(0, n, size):
            yield slice(i, i + size)

    def add_chunks(self, chunks: list[Chunk], embeddings: np.ndarray) -> None:
        for sl in self._batches(len(chunks)):
            part = chunks[sl]
            self.chunks.upsert(ids=[c.id for c in part], documents=[c.text for c in part],
                               metadatas=[c.metadata() for c in part], embeddings=embeddings[sl])

    def delete_chunks(self, ids: list[str]) -> None:
        for sl in self._batches(len(ids)):
            self.chunks.delete(ids=ids[sl])

    def chunk_keys(self) -> list[tuple[str, str, str]]:
        """(id, source, doc_hash) of every stored chunk, committed or not."""
        out = []
        for page in self._pages(include=["metadatas"]):
            out += [(i, m.get("source", ""), m.get("doc_hash", "")) for i, m in zip(page["ids"], page["metadatas"])]
        return out

    def _pages(self, include: list[str], size: int = 5000) -> Iterator[dict]:
        offset = 0
        while True:
            page = self.chunks.get(include=include, limit=size, offset=offset)
            if not page["ids"]:
                return
            yield page
            offset += len(page["ids"])

    def committed_chunks(self) -> list[Chunk]:
        """Every chunk of a committed document, in document order (read a document at a time: an
        offset page costs more the further it is)."""
        out = []
        for source, meta in sorted(self.documents().items()):
            out += self.document_chunks(source, meta.get("doc_hash", ""), vectors=False)[0]
        return out

    def count(self) -> int:
        return self.chunks.count()

    def fetch_chunks(self, ids: list[str]) -> dict[str, Chunk]:
        """The chunks with these ids (an id no longer stored is absent): a question's hits."""
        out: dict[str, Chunk] = {}
        for sl in self._batches(len(ids)):
            got = self.chunks.get(ids=ids[sl], include=["documents", "metadatas"])
            out.update((i, Chunk.from_record(i, t, m)) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"]))
        return out

    def document_chunks(self, source: str, doc_hash: str, vectors: bool = True) -> tuple[list[Chunk], np.ndarray]:
        """One document version's chunks, in order, and their vectors (rows alike; none unless asked)."""
        got = self.chunks.get(where={"$and": [{"source": source}, {"doc_hash": doc_hash}]},
                              include=["documents", "metadatas"] + (["embeddings"] if vectors else []))
        embs = got["embeddings"] if vectors else [None] * len(got["ids"])
        rows = sorted(zip(got["ids"], got["documents"], got["metadatas"], embs), key=lambda r: int(r[2].get("index", 0)))
        chunks = [Chunk.from_record(i, t, m) for i, t, m, _ in rows]
        return chunks, np.array([e for *_, e in rows], dtype=np.float32) if vectors else np.zeros((len(rows), 0))

    # --- facts (table rows) --------------------------------------------------------------------

    def add_rows(self, rows: list, doc_hash: str) -> None:
        """Store a document's table rows (rag.facts.Row), keyed by document version."""
        # rows read from one span (a table whose columns are members: a row per measure and member)
        # are told apart by their place among them
        seen: dict[tuple, int] = {}
        ids = []
        for r in rows:
            n = seen[(r.page, r.start)] = seen.get((r.page, r.start), -1) + 1
            ids.append(f"{doc_hash[:16]}:{r.page or 0}:{r.start}" + (f":{n}" if n else ""))
        for sl in self._batches(len(rows)):
            part = rows[sl]
            records = [r.to_record() for r in part]
            self.facts.upsert(ids=ids[sl],
                              documents=[text for text, _ in records],
                              metadatas=[{**meta, "doc_hash": doc_hash} for _, meta in records],
                              embeddings=[[0.0]] * len(part))

    def delete_rows(self, ids: list[str]) -> None:
        for sl in self._batches(len(ids)):
            self.facts.delete(ids=ids[sl])

    def row_keys(self) -> list[tuple[str, str, str]]:
        """(id, source, doc_hash) of every stored row, committed or not."""
        got = self.facts.get(include=["metadatas"])
        return [(i, m.get("source", ""), m.get("doc_hash", "")) for i, m in zip(got["ids"], got["metadatas"])]

    def committed_rows(self, source: str | None = None) -> list:
        """The table rows of committed documents (or of one), in document and page order: read in
        one call when they are few, else a document at a time (never by offset: a page costs more
        the further it is)."""
        from rag.facts import Row

        committed = {s: m.get("doc_hash") for s, m in self.documents().items()}
        if source is None and self.facts.count() <= ONE_READ:
            got = self.facts.get(include=["documents", "metadatas"])
            out = [Row.from_record(t, m) for t, m in zip(got["documents"], got["metadatas"])
                   if committed.get(m.get("source")) == m.get("doc_hash")]
        else:
            out = []
            for s in sorted(committed) if source is None else [source] * (source in committed):
                got = self.facts.get(include=["documents", "metadatas"],
                                     where={"$and": [{"source": s}, {"doc_hash": committed[s]}]})
                out += [Row.from_record(t, m) for t, m in zip(got["documents"], got["metadatas"])]
        out.sort(key=lambda r: (r.source, r.page or 0, r.start, r.path))
        return out

    def query(self, vector: np.ndarray, n: int, sources: list[str] | None = None) -> tuple[list[str], list[float]]:
        """Nearest chunk ids and cosine similarities, optionally within some documents. `n` is
        at most the number of chunks stored: the caller knows it, Chroma is not asked."""
        if n <= 0:
            return [], []
        where = None
        if sources:
            where = {"source": sources[0]} if len(sources) == 1 else {"source": {"$in": list(sources)}}
        res = self.chunks.query(query_embeddings=[vector], n_results=n, include=["distances"], where=where)
        return res["ids"][0], [1.0 - d for d in res["distances"][0]]

    # --- locking -----------------------------------------------------------------------------

    # --- the writer lease (server indexes) ----------------------------------------------------
    #
    # A file lock keeps two ingests on one machine apart; a Chroma server is shared by machines,
    # so a server index also has a lease: a record in the docs collection naming its writer,
    # with a heartbeat. Chroma has no compare-and-set, but `add` of an id that exists is a
    # no-op (the first writer wins) and `delete` can be conditioned on the record's token:
    # enough for "insert if absent" and "remove only the lease I read". Written here because
    # Chroma offers no lock of its own.

    def lease(self) -> dict | None:
        got = self.docs.get(ids=[LEASE_ID], include=["metadatas"])
        return dict(got["metadatas"][0]) if got["ids"] else None

    def take_lease(self) -> None:
        """Become the index's writer, or raise IndexBusyError naming the one that is. A lease
        whose heartbeat is older than LEASE_TTL, or one taken on this machine (whose holder
        would hold this machine's file lock, which the caller has), is taken over."""
        now = time.time()
        held = self.lease()
        if held and held.get("host") != host_id() and now - float(held.get("heartbeat", 0)) < LEASE_TTL:
            self._busy(held)
        if held:
            self.docs.delete(ids=[LEASE_ID], where={"token": held.get("token", "")})
        mine = {"host": host_id(), "pid": os.getpid(), "token": uuid.uuid4().hex, "since": now, "heartbeat": now}
        self.docs.add(ids=[LEASE_ID], metadatas=[mine], embeddings=[[0.0]])
        got = self.lease()
        if not got or got.get("token") != mine["token"]:
            self._busy(got or held or {})  # another writer added its lease first
        self._lease = mine

    def renew_lease(self) -> None:
        mine = self._lease
        if mine and time.time() - mine["heartbeat"] >= LEASE_RENEW:
            mine["heartbeat"] = time.time()
            self.docs.update(ids=[LEASE_ID], metadatas=[mine])

    def release_lease(self) -> None:
        mine, self._lease = self._lease, None
        if mine:
            self.docs.delete(ids=[LEASE_ID], where={"token": mine["token"]})

    def _busy(self, held: dict):
        since = time.strftime("%H:%M:%S", time.localtime(float(held.get("since", 0)))) if held.get("since") else "?"
        raise IndexBusyError(
            f"Another ingest (on {str(held.get('host', '?')).split(':')[0]}, pid {held.get('pid', '?')}, since {since}) "
            f"is writing to {self.settings.index_label}; wait for it to finish, then run this again "
            f"(a writer that stops renewing its lease for {int(LEASE_TTL)} s is taken over)")

    def lock_path(self) -> Path:
        """A file lock for writers on this machine (a server index has a lease as well)."""
        if not self.settings.chroma_url:
            return self.settings.index_dir / ".ingest.lock"
        key = hashlib.sha256(json.dumps([self.settings.chroma_url, self.settings.collection]).encode()).hexdigest()[:16]
        base = cache_dir() / "locks"
        base.mkdir(parents=True, exist_ok=True)
        return base / f"{key}.lock"
