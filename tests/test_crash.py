"""Crash safety: an ingest killed with SIGKILL at a random moment, then run again, leaves the index
exactly as a clean run would (same chunk ids, same count, no orphans, consistent document records);
meanwhile a committed document is always complete. Also: the interrupted states simulated one by
one through the store API, and two ingests at once on one index.

The kill tests print their random seed; rerun a failure with CRASH_SEED=<seed>."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from rag.chunk import chunk_document
from rag.errors import IndexMissingError
from rag.indexer import file_hash, ingest, read_document
from rag.settings import Settings
from rag.store import Store

ROOT = Path(__file__).resolve().parent.parent
FILINGS = ROOT.parent / "shared" / "filings"
WORDS = ("revenue margin growth cloud customer quarter billion million increase decrease segment operating "
         "income cash flow guidance outlook demand supply price widget gadget market share investment capital "
         "return dividend buyback region europe asia america product service platform user").split()


# --- helpers -----------------------------------------------------------------------------------

def expected_docs(files: list[Path], settings: Settings) -> dict[str, tuple[str, list[str]]]:
    """What a clean ingest makes of each file: source -> (doc_hash, chunk ids)."""
    out = {}
    for f in files:
        data = f.read_bytes()
        title, pages, _ = read_document(f)
        chunks = chunk_document(pages, source=str(f.resolve()), title=title, doc_hash=file_hash(data),
                                size=settings.chunk_size, overlap=settings.chunk_overlap)
        out[str(f.resolve())] = (file_hash(data), [c.id for c in chunks])
    return out


def state_of(docs: dict[str, tuple[str, list[str]]]) -> dict:
    """The index of exactly these documents, in the form actual_state() reports."""
    ids = sorted(i for _, chunk_ids in docs.values() for i in chunk_ids)
    return {"docs": {s: (h, len(chunk_ids)) for s, (h, chunk_ids) in docs.items()}, "ids": ids, "count": len(ids)}


def expected_state(files: list[Path], settings: Settings) -> dict:
    """The index a clean ingest of `files` makes: documents (hash, chunk count) and chunk ids."""
    return state_of(expected_docs(files, settings))


def actual_state(settings: Settings) -> dict:
    store = Store(settings)
    return {"docs": {s: (m["doc_hash"], int(m["chunks"])) for s, m in store.documents().items()},
            "ids": sorted(i for i, _, _ in store.chunk_keys()), "count": store.count()}


def committed_are_complete(settings: Settings) -> tuple[int, int]:
    """Every committed document has all its chunks (the state a reader sees after a crash);
    returns (committed documents, orphaned chunks)."""
    store = Store(settings)
    docs = store.documents()
    owners = Counter((s, h) for _, s, h in store.chunk_keys())
    for source, meta in docs.items():
        assert owners[(source, meta["doc_hash"])] == int(meta["chunks"]), f"{source} is committed but incomplete"
    orphans = sum(n for (s, h), n in owners.items() if docs.get(s, {}).get("doc_hash") != h)
    assert len(store.committed_chunks()) == sum(int(m["chunks"]) for m in docs.values())  # what readers load
    return len(docs), orphans


def make_text_files(folder: Path, n: int, kb: int, seed: int) -> list[Path]:
    """`n` files of about `kb` KB of sentences (prose that chunks like a filing's)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    files = []
    for i in range(n):
        paras, size = [], 0
        while size < kb * 1024:
            sents = []
            for _ in range(rng.randint(3, 7)):
                s = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 22)))
                sents.append(f"{s[0].upper()}{s[1:]} {rng.randint(1, 999)}.")
            paras.append(" ".join(sents))
            size += len(paras[-1]) + 2
        f = folder / f"doc{i:02d}.txt"
        f.write_text(f"Document {i}\n\n" + "\n\n".join(paras) + "\n")
        files.append(f)
    return files


def rag_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "rag", *args]


def rag_env() -> dict:
    # no RAG_* of the caller, and no ANONYMIZED_TELEMETRY: rag must turn Chroma's telemetry off itself
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") and k != "ANONYMIZED_TELEMETRY"}
    env.update(RAG_EMBED_MODEL="hash", HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    return env


def index_args(settings: Settings) -> list[str]:
    if settings.chroma_url:
        return ["--chroma-url", settings.chroma_url, "--collection", settings.collection]
    return ["--index", str(settings.index_dir)]


def lock_path(settings: Settings) -> Path:
    return Store.lock_path(SimpleNamespace(settings=settings))  # without opening (or creating) the store


def start(paths: list[Path], settings: Settings, log: Path) -> subprocess.Popen:
    with open(log, "ab") as err:
        return subprocess.Popen(rag_cmd("ingest", *map(str, paths), *index_args(settings)), env=rag_env(),
                                stdout=subprocess.DEVNULL, stderr=err, cwd=log.parent)


_server_stores: dict[Settings, Store] = {}


def written(settings: Settings) -> int:
    """How much the index holds: bytes on disk (embedded; read without opening the database, which
    a second process must not do mid-write) or chunks (server)."""
    if settings.chroma_url:
        try:
            if settings not in _server_stores:
                _server_stores[settings] = Store(settings)
            return _server_stores[settings].count()
        except IndexMissingError:  # the ingest has not created the collections yet
            return 0
    total = 0
    for f in settings.index_dir.rglob("*"):
        try:
            total += f.stat().st_size if f.is_file() else 0
        except FileNotFoundError:  # a journal file that came and went
            pass
    return total


def wait_until_writing(proc: subprocess.Popen, settings: Settings, timeout: float = 60) -> bool:
    """Wait until `proc` holds the index's lock (it has the lock file open) and has since written
    chunks (about one document's worth): it is past start-up and model loading, in the middle of
    the ingest. False if it ended first."""
    lock = lock_path(settings)
    deadline = time.monotonic() + timeout
    fd_dir = Path(f"/proc/{proc.pid}/fd")
    base = None if Path("/proc/self/fd").is_dir() else written(settings)  # no /proc: count from the start
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if base is None:
            try:
                if any(os.readlink(fd) == str(lock) for fd in fd_dir.iterdir()):
                    base = written(settings)
            except OSError:  # an fd closed while we looked; look again
                pass
        elif written(settings) >= base + (1 if settings.chroma_url else 1_000_000):
            return True
        time.sleep(0.05 if settings.chroma_url else 0.02)
    raise AssertionError(f"the ingest did not start writing within {timeout} s")


def run_to_end(paths: list[Path], settings: Settings, tmp_path: Path) -> None:
    proc = subprocess.run(rag_cmd("ingest", *map(str, paths), *index_args(settings)), env=rag_env(),
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr


def kill_at(proc: subprocess.Popen, delay: float) -> bool:
    """SIGKILL `proc` after `delay` seconds; False if it had finished by then."""
    time.sleep(delay)
    if proc.poll() is not None:
        return False
    proc.kill()
    proc.wait()
    return True


def seed() -> int:
    s = int(os.environ.get("CRASH_SEED", time.time_ns() % 1_000_000))
    print(f"CRASH_SEED={s}")
    return s


# --- the interrupted states, simulated step by step (deterministic, both store modes) -----------

def _chunks(path: Path, settings: Settings):
    title, pages, _ = read_document(path)
    return chunk_document(pages, source=str(path.resolve()), title=title, doc_hash=file_hash(path.read_bytes()),
                          size=settings.chunk_size, overlap=settings.chunk_overlap)


def _vectors(chunks):
    from rag.embed import get_embedder

    return get_embedder("hash").embed_documents([c.text for c in chunks])


def test_crash_before_commit_of_a_new_document(tiny_corpus, settings):
    profile, call = tiny_corpus / "acme-profile.md", tiny_corpus / "acme-q3-call.txt"
    ingest([profile], settings)
    store = Store(settings)
    new = _chunks(call, settings)
    store.mark_pending(new[0].source, new[0].doc_hash)  # as ingest does before writing a document
    store.add_chunks(new[:2], _vectors(new[:2]))  # killed after writing two chunks, before the commit

    assert set(store.documents()) == {str(profile.resolve())}  # not visible to readers
    assert {c.source for c in store.committed_chunks()} == {str(profile.resolve())}
    assert committed_are_complete(settings) == (1, 2)

    report = ingest([tiny_corpus], settings)
    assert report.added == [str(call.resolve())] and report.chunks == Store(settings).count()
    assert actual_state(settings) == expected_state([profile, call], settings)


def test_crash_during_update(tiny_corpus, settings):
    """Killed while writing a changed file's new chunks: readers keep seeing the whole old version."""
    profile = tiny_corpus / "acme-profile.md"
    ingest([tiny_corpus], settings)
    before = Store(settings).committed_chunks()
    profile.write_text(profile.read_text() + "\nAcme opened a plant in Lisbon in 2024. It employs 300 people.\n")
    new = _chunks(profile, settings)
    Store(settings).mark_pending(new[0].source, new[0].doc_hash)
    Store(settings).add_chunks(new[:1], _vectors(new[:1]))

    assert Store(settings).committed_chunks() == before
    ingest([tiny_corpus], settings)
    assert actual_state(settings) == expected_state(sorted(tiny_corpus.iterdir()), settings)
    assert not any("Lisbon" in c.text for c in before)
    assert any("Lisbon" in c.text for c in Store(settings).committed_chunks())


def test_crash_after_commit_before_old_chunks_deleted(tiny_corpus, settings):
    profile = tiny_corpus / "acme-profile.md"
    ingest([tiny_corpus], settings)
    old_ids = {c.id for c in Store(settings).committed_chunks() if c.source == str(profile.resolve())}
    profile.write_text(profile.read_text().replace("1987", "1990"))
    new = _chunks(profile, settings)
    store = Store(settings)
    store.mark_pending(new[0].source, new[0].doc_hash)
    store.add_chunks(new, _vectors(new))
    meta = dict(store.documents()[str(profile.resolve())], doc_hash=new[0].doc_hash, chunks=len(new))
    store.commit_document(str(profile.resolve()), meta)  # killed right after the commit

    assert {c.id for c in store.committed_chunks() if c.source == str(profile.resolve())} == {c.id for c in new}
    report = ingest([tiny_corpus], settings)  # the file is unchanged now; the sweep drops the old chunks
    assert len(report.unchanged) == 2 and report.embedded == 0
    state = actual_state(settings)
    assert state == expected_state(sorted(tiny_corpus.iterdir()), settings)
    assert not old_ids & set(state["ids"])


def test_crash_during_remove(tiny_corpus, settings):
    """`rag remove` killed after dropping the record: the chunks left are swept by the next ingest."""
    profile, call = tiny_corpus / "acme-profile.md", tiny_corpus / "acme-q3-call.txt"
    ingest([tiny_corpus], settings)
    Store(settings).mark_pending(str(profile.resolve()), "")  # as remove does first
    Store(settings).docs.delete(ids=[str(profile.resolve())])
    assert {c.source for c in Store(settings).committed_chunks()} == {str(call.resolve())}
    ingest([call], settings)
    assert actual_state(settings) == expected_state([call], settings)


# --- SIGKILL at random moments ------------------------------------------------------------------

@pytest.fixture(scope="module")
def big_corpus(tmp_path_factory) -> tuple[list[Path], dict]:
    """30 generated text files of ~50 KB (about 1,600 chunks), and what a clean ingest makes of each."""
    files = make_text_files(tmp_path_factory.mktemp("big") / "docs", n=30, kb=50, seed=7)
    return files, expected_docs(files, Settings.load(embed_model="hash"))


def test_kill9_at_random_moments_then_rerun(big_corpus, tmp_path):
    """Kill an ingest three times at random moments (each run resumes the previous one), check
    after each kill that readers see only complete documents, and that the final run converges to
    the clean state. During the second run a second ingest is started: it must be refused."""
    files, expected = big_corpus
    folder = files[0].parent
    settings = Settings.load(index_dir=str(tmp_path / "index"), embed_model="hash")
    log = tmp_path / "ingest.log"
    rng = random.Random(seed())
    kills, progress, refused = 0, [], None
    for delay in (rng.uniform(0, 1.2), None, rng.uniform(0, 1.2)):
        proc = start([folder], settings, log)
        if not wait_until_writing(proc, settings):
            break
        if delay is None:  # meanwhile, a second ingest on the same index
            second = subprocess.run(rag_cmd("ingest", str(folder), *index_args(settings)), env=rag_env(),
                                    capture_output=True, text=True, timeout=120, cwd=tmp_path)
            if proc.poll() is None:
                refused = second
            delay = rng.uniform(0, 0.5)
        if kill_at(proc, delay):
            kills += 1
            progress.append(committed_are_complete(settings))
    assert any(0 < done < len(files) for done, _ in progress), f"no kill landed mid-ingest: {progress}"
    if refused is not None:
        assert refused.returncode == 1 and "Another ingest" in refused.stderr, refused.stderr
        assert "Traceback" not in refused.stderr

    run_to_end([folder], settings, tmp_path)
    assert actual_state(settings) == state_of(expected)
    assert "Traceback" not in log.read_text()
    print(f"kills: {kills}, (committed documents, orphaned chunks) after each: {progress}, "
          f"second ingest refused: {refused is not None}")


def test_kill9_during_update_then_rerun(big_corpus, tmp_path):
    """Changed files: a kill mid-update, then a re-run, leaves the new versions only."""
    files, _ = big_corpus
    folder = tmp_path / "docs"
    folder.mkdir()
    for f in files[:8]:
        shutil.copy(f, folder / f.name)
    settings = Settings.load(index_dir=str(tmp_path / "index"), embed_model="hash")
    ingest([folder], settings)
    changed = [f for i, f in enumerate(sorted(folder.iterdir())) if i not in (1, 4)]
    for f in changed:  # rewrite six of the eight files
        f.write_text(f.read_text().replace("revenue", "sales") + "An added sentence.\n")
    rng = random.Random(seed())
    proc = start([folder], settings, tmp_path / "ingest.log")
    assert wait_until_writing(proc, settings)
    assert kill_at(proc, rng.uniform(0, 0.4)), "the update finished before the kill"
    done, orphans = committed_are_complete(settings)
    assert done == 8  # every document stays visible, in its old or its new version
    run_to_end([folder], settings, tmp_path)
    assert actual_state(settings) == expected_state(sorted(folder.iterdir()), settings)
    assert not any("revenue" in c.text for c in Store(settings).committed_chunks() if Path(c.source) in changed)
    print(f"killed with {orphans} orphaned chunks")


@pytest.mark.server
def test_kill9_on_chroma_server_then_rerun(big_corpus, chroma_server, tmp_path):
    files, expected = big_corpus
    files = files[:8]
    settings = Settings.load(chroma_url=chroma_server, collection=f"crash-{os.getpid()}-{time.time_ns()}",
                             embed_model="hash")
    rng = random.Random(seed())
    proc = start(files, settings, tmp_path / "ingest.log")
    assert wait_until_writing(proc, settings)
    assert kill_at(proc, rng.uniform(0, 0.4)), "the ingest finished before the kill"
    done, orphans = committed_are_complete(settings)
    assert done < len(files)
    run_to_end(files, settings, tmp_path)
    assert actual_state(settings) == state_of({str(f.resolve()): expected[str(f.resolve())] for f in files})
    print(f"killed with {done} documents committed and {orphans} orphaned chunks")


@pytest.mark.slow
def test_kill9_filings_then_rerun(tmp_path):
    """Real PDFs (10-Ks and earnings releases, some encrypted with an empty password)."""
    names = ["MCDONALDS_2023Q1_EARNINGS.pdf", "INTEL_2022Q4_EARNINGS.pdf", "EBAY_2023Q2_EARNINGS.pdf",
             "SALESFORCE_2024Q1_EARNINGS.pdf", "APPLE_2023Q3_10Q.pdf", "ADOBE_2022_10K.pdf",
             "COCACOLA_2020_10K.pdf", "WALMART_2023_10K.pdf", "NIKE_2022_10K.pdf"]
    if not all((FILINGS / n).is_file() for n in names):
        pytest.skip(f"the public filings are not at {FILINGS} (see /work/shared/filings/README.md); "
                    "test_kill9_at_random_moments_then_rerun covers the same on generated files")
    folder = tmp_path / "filings"
    folder.mkdir()
    for n in names:
        shutil.copy(FILINGS / n, folder / n)
    settings = Settings.load(index_dir=str(tmp_path / "index"), embed_model="hash")
    expected = expected_state(sorted(folder.iterdir()), settings)
    rng = random.Random(seed())
    kills, progress = 0, []
    # PDFium parses fast and the hash embedder is instant: kill early, at several moments
    # (on a busy machine the first moments may all land before the first commit: then a few
    # later ones, so that one kill at least lands mid-ingest)
    for n, (low, high) in enumerate([(0, 0.5), (0.2, 1.5), (0.5, 3.0), (0, 0.3)] + [(1.0, 6.0)] * 4):
        if n >= 4 and any(0 < done < len(names) for done, _ in progress):
            break
        proc = start([folder], settings, tmp_path / "ingest.log")
        if not wait_until_writing(proc, settings, timeout=120):
            break
        if kill_at(proc, rng.uniform(low, high)):
            kills += 1
            progress.append(committed_are_complete(settings))
    assert any(0 < done < len(names) for done, _ in progress), f"no kill landed mid-ingest: {progress}"
    run_to_end([folder], settings, tmp_path)
    assert actual_state(settings) == expected
    print(f"kills: {kills}, (committed documents, orphaned chunks) after each: {progress}")


def test_an_index_without_pending_marks_is_swept_whole_once(tiny_corpus, settings):
    """An index older code wrote records no pending documents: its first ingest reads every key
    (as before), then marks the index so that later sweeps read only the pending ones."""
    from rag.store import SWEEP_KEY

    profile, call = tiny_corpus / "acme-profile.md", tiny_corpus / "acme-q3-call.txt"
    ingest([profile], settings)
    store = Store(settings)
    assert store.marks_pending()
    store.chunks.modify(metadata={k: v for k, v in store.chunks.metadata.items() if k != SWEEP_KEY})
    new = _chunks(call, settings)
    store.add_chunks(new[:2], _vectors(new[:2]))  # an old ingest's leftovers: no pending mark
    assert not Store(settings).marks_pending()
    ingest([profile], settings)
    assert Store(settings).marks_pending() and actual_state(settings) == expected_state([profile], settings)
