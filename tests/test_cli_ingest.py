"""`rag ingest`, `rag list` and `rag remove` as a user runs them: a subprocess, `python -m rag`.
Bad files are reported with a one-line reason while the good ones are indexed; no traceback ever;
the exit code is non-zero only when nothing could be indexed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.chunk import Chunk
from rag.errors import IndexBusyError
from rag.indexer import ingest
from rag.settings import Settings
from rag.store import LEASE_ID, LEASE_TTL, Store, host_id

ROOT = Path(__file__).resolve().parent.parent
PDFS = Path(__file__).resolve().parent / "fixtures" / "pdf"


def rag(*args: str, cwd: Path, expect: int | None = 0) -> subprocess.CompletedProcess:
    # no RAG_* of the caller, and no ANONYMIZED_TELEMETRY: rag must turn Chroma's telemetry off itself
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") and k != "ANONYMIZED_TELEMETRY"}
    env.update(RAG_EMBED_MODEL="hash", HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "rag", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)
    assert "Traceback" not in proc.stderr, proc.stderr
    if expect is not None:
        assert proc.returncode == expect, f"rc {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return proc


def index_args(settings: Settings) -> list[str]:
    if settings.chroma_url:
        return ["--chroma-url", settings.chroma_url, "--collection", settings.collection]
    return ["--index", str(settings.index_dir)]


def pdf_variant(dst: Path, **encrypt) -> Path:
    import pypdf

    w = pypdf.PdfWriter(clone_from=PDFS / "report.pdf")
    if encrypt:
        w.encrypt(**encrypt)
    w.write(dst)
    return dst


def blank_pdf(dst: Path) -> Path:
    import pypdf

    w = pypdf.PdfWriter()
    w.add_blank_page(612, 792)
    w.write(dst)
    return dst


# --- the report ------------------------------------------------------------------------------

def test_ingest_json_report_and_rerun(tmp_path, tiny_corpus):
    idx = tmp_path / "index"
    first = rag("ingest", str(tiny_corpus), str(ROOT / "corpus" / "alibaba-dec-quarter-2024.txt"),
                "--index", str(idx), "--json", cwd=tmp_path)
    report = json.loads(first.stdout)
    assert {"added", "updated", "unchanged", "removed", "failed", "chunks"} <= set(report)
    assert (report["added"], report["updated"], report["unchanged"], report["removed"]) == (3, 0, 0, 0)
    assert report["failed"] == [] and report["chunks"] == report["embedded"] > 76

    again = json.loads(rag("ingest", str(tiny_corpus), "--index", str(idx), "--json", cwd=tmp_path).stdout)
    assert (again["added"], again["updated"], again["unchanged"], again["embedded"]) == (0, 0, 2, 0)
    assert again["chunks"] == report["chunks"]  # the index still holds the corpus file too
    assert sum(int(m["chunks"]) for m in Store(Settings.load(index_dir=str(idx), embed_model="hash"))
               .documents().values()) == report["chunks"]


def test_list_and_remove(tiny_corpus, settings, tmp_path):
    """`rag list` shows documents with their chunk counts; `rag remove` takes a file name or a path.
    Both store modes."""
    where = index_args(settings)
    ingest([tiny_corpus], settings)
    docs = {s: int(m["chunks"]) for s, m in Store(settings).documents().items()}
    assert len(docs) == 2

    out = rag("list", *where, cwd=tmp_path).stdout
    for source, n in docs.items():
        [line] = [ln for ln in out.splitlines() if ln.endswith(source)]
        assert re.match(rf"\s*{n} chunks\s", line), line
    assert f"2 documents, {sum(docs.values())} chunks" in out

    profile = str((tiny_corpus / "acme-profile.md").resolve())
    out = rag("remove", "acme-profile.md", *where, cwd=tmp_path).stdout
    assert out.strip() == f"removed {profile} ({docs[profile]} chunks)"
    call = str((tiny_corpus / "acme-q3-call.txt").resolve())
    assert set(Store(settings).documents()) == {call}

    gone = rag("remove", "acme-profile.md", *where, cwd=tmp_path, expect=1)
    assert gone.stderr.count("\n") == 1 and "rag list" in gone.stderr


def test_prune_flag(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for n in ("a", "b"):
        (docs / f"{n}.txt").write_text(f"File {n} is about widgets.\n")
    idx = str(tmp_path / "index")
    ingest([docs], Settings.load(index_dir=idx, embed_model="hash"))
    (docs / "a.txt").unlink()
    report = json.loads(rag("ingest", str(docs), "--index", idx, "--prune", "--json", cwd=tmp_path).stdout)
    assert (report["removed"], report["unchanged"]) == (1, 1)


def test_manifest_mismatch_one_line(tmp_path, tiny_corpus):
    idx = str(tmp_path / "index")
    ingest([tiny_corpus], Settings.load(index_dir=idx, embed_model="hash"))
    proc = rag("ingest", str(tiny_corpus), "--index", idx, "--chunk-size", "100", cwd=tmp_path, expect=1)
    assert proc.stderr.startswith("rag: ") and proc.stderr.count("\n") == 1
    assert "chunk_size=180 (now 100)" in proc.stderr and "--index NEW_DIR" in proc.stderr


# --- bad input -------------------------------------------------------------------------------

def test_bad_files_reported_good_files_indexed(tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "good.txt").write_text("Widgets are blue. The widget factory is in Lyon.\n")
    (folder / "notes.md").write_text("# Notes\n\nGadgets are green.\n")
    (folder / "latin1.txt").write_bytes("Le café coûte 3 euros. Crème brûlée.\n".encode("latin-1"))
    pdf_variant(folder / "aes-empty.pdf", user_password="", algorithm="AES-256")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (folder / "corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R\n" + bytes(range(256)) * 4)
    (folder / "not-a.pdf").write_text("this is text with a .pdf name\n")
    # a damaged stream filter: pypdf raises NotImplementedError, not a PdfReadError
    (folder / "bad-filter.pdf").write_bytes((PDFS / "report.pdf").read_bytes().replace(b"/FlateDecode", b"/FlateDecodX"))
    pdf_variant(folder / "locked.pdf", user_password="secret")
    pdf_variant(folder / "locked-aes.pdf", user_password="secret", algorithm="AES-256")
    blank_pdf(folder / "scanned.pdf")
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip archive")
    (folder / "data.xyz").write_text("unsupported\n")
    missing = tmp_path / "no-such-folder"
    idx = str(tmp_path / "index")

    proc = rag("ingest", str(folder), str(missing), "--index", idx, "--json", cwd=tmp_path)
    report = json.loads(proc.stdout)
    assert report["added"] == 4
    errors = {Path(f["path"]).name: f["error"] for f in report["failed"]}
    expected = {
        "empty.txt": r"^empty file$",
        "binary.txt": r"^binary content",
        "corrupt.pdf": r"^corrupt or not a PDF",
        "not-a.pdf": r"^corrupt or not a PDF",
        "bad-filter.pdf": r"^corrupt or not a PDF \(NotImplementedError: Unsupported filter",
        "locked.pdf": r"needs a password",
        "locked-aes.pdf": r"needs a password",
        "scanned.pdf": r"^no text layer",
        "broken.docx": r"^corrupt or not a \.docx",
        "data.xyz": r"^unsupported file type '\.xyz'",
        "no-such-folder": r"^no such file or folder$",
    }
    assert set(errors) == set(expected)
    for name, pattern in expected.items():
        assert re.search(pattern, errors[name]), f"{name}: {errors[name]!r}"
        assert "\n" not in errors[name] and len(errors[name]) < 200
    assert [Path(w["path"]).name for w in report["warnings"]] == ["latin1.txt"]

    settings = Settings.load(index_dir=idx, embed_model="hash")
    store = Store(settings)
    assert {Path(s).name for s in store.documents()} == {"good.txt", "notes.md", "latin1.txt", "aes-empty.pdf"}
    got = store.chunks.get(where={"source": str(folder / "latin1.txt")}, include=["documents"])
    assert got["documents"] == ["Le café coûte 3 euros. Crème brûlée."]
    got = store.chunks.get(where={"source": str(folder / "aes-empty.pdf")}, include=["documents", "metadatas"])
    pdf_chunks = [Chunk.from_record(i, t, m) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"],
                                                                  strict=True)]
    assert {c.page for c in pdf_chunks} == {1, 2, 3}
    assert any("dividend of EUR 1.10" in c.text for c in pdf_chunks)


def test_exit_code_when_nothing_could_be_indexed(tmp_path):
    folder = tmp_path / "junk"
    folder.mkdir()
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    blank_pdf(folder / "scanned.pdf")
    missing = tmp_path / "missing.txt"
    proc = rag("ingest", str(folder), str(missing), "--index", str(tmp_path / "index"), cwd=tmp_path, expect=1)
    # the human-readable report: one "skipped PATH: reason" line per bad file on stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 4 and all(ln.startswith("skipped ") for ln in lines), proc.stderr
    reasons = dict(ln[len("skipped "):].split(": ", 1) for ln in lines)
    assert reasons == {str(folder / "binary.txt"): "binary content, not text (NUL bytes)",
                       str(folder / "empty.txt"): "empty file",
                       str(folder / "scanned.pdf"): "no text layer (a scanned PDF?); run OCR on it first",
                       str(missing): "no such file or folder"}
    assert "0 added" in proc.stdout and "4 failed" in proc.stdout


def test_unreadable_file_chmod(tmp_path):
    folder = tmp_path / "perm"
    folder.mkdir()
    (folder / "good.txt").write_text("Readable file about widgets.\n")
    locked = folder / "locked.txt"
    locked.write_text("Unreadable file.\n")
    locked.chmod(0)
    try:
        try:
            locked.read_bytes()
            pytest.skip("running as root: chmod 000 does not stop reading (test_ingest.py simulates it)")
        except PermissionError:
            pass
        proc = rag("ingest", str(folder), "--index", str(tmp_path / "index"), "--json", cwd=tmp_path)
        report = json.loads(proc.stdout)
        assert report["added"] == 1
        assert report["failed"] == [{"path": str(locked), "error": "cannot read: Permission denied"}]
    finally:
        locked.chmod(0o644)


def test_second_ingest_refused_cli(tmp_path, tiny_corpus):
    """Another ingest holds the lock: the CLI says so in one line and exits 1."""
    from filelock import FileLock

    settings = Settings.load(index_dir=str(tmp_path / "index"), embed_model="hash")
    lock = Store(settings, create=True).lock_path()
    with FileLock(str(lock)):
        proc = rag("ingest", str(tiny_corpus), "--index", str(settings.index_dir), cwd=tmp_path, expect=1)
    assert proc.stderr.startswith("rag: Another ingest") and proc.stderr.count("\n") == 1
    assert Store(settings).documents() == {}



# --- a server index's writer lease: ingests on different machines -----------------------------

def _server_settings(url: str) -> Settings:
    return Settings.load(chroma_url=url, collection=f"lease-{os.getpid()}-{time.time_ns()}", embed_model="hash")


def _plant_lease(store: Store, host: str, age: float) -> None:
    """A lease as another writer leaves it: on `host`, last renewed `age` seconds ago."""
    now = time.time()
    store.docs.add(ids=[LEASE_ID], metadatas=[{"host": host, "pid": 4242, "token": "theirs", "since": now - age,
                                               "heartbeat": now - age}], embeddings=[[0.0]])


@pytest.mark.server
def test_an_ingest_on_another_machine_holds_the_server_index(chroma_server, tmp_path, tiny_corpus):
    settings = _server_settings(chroma_server)
    store = Store(settings, create=True)
    _plant_lease(store, "build-box:1234abcd", age=5)
    proc = rag("ingest", str(tiny_corpus), *index_args(settings), cwd=tmp_path, expect=1)
    assert proc.stderr.startswith("rag: Another ingest (on build-box, pid 4242") and proc.stderr.count("\n") == 1
    assert Store(settings).documents() == {} and store.lease()["token"] == "theirs"


@pytest.mark.server
@pytest.mark.parametrize("host, age", [("build-box:1234abcd", LEASE_TTL + 60),  # abandoned
                                       (None, 5)])  # this machine's: its holder died (kill -9)
def test_an_abandoned_or_dead_lease_is_taken_over_and_released(chroma_server, tmp_path, tiny_corpus, host, age):
    settings = _server_settings(chroma_server)
    store = Store(settings, create=True)
    _plant_lease(store, host or host_id(), age=age)
    proc = rag("ingest", str(tiny_corpus), *index_args(settings), "--json", cwd=tmp_path)
    report = json.loads(proc.stdout)
    assert report["added"] >= 1 and not report["failed"]
    assert store.lease() is None  # released at the end
    assert LEASE_ID not in Store(settings).documents()


@pytest.mark.server
def test_lease_between_two_machines(chroma_server, monkeypatch):
    settings = _server_settings(chroma_server)
    a, b = Store(settings, create=True), Store(settings)
    a.take_lease()
    monkeypatch.setattr("rag.store.host_id", lambda: "other-machine:ffffffff")
    with pytest.raises(IndexBusyError, match=r"Another ingest \(on "):
        b.take_lease()
    a.release_lease()
    b.take_lease()
    assert a.lease()["host"] == "other-machine:ffffffff"
    b.release_lease()
    assert a.lease() is None


@pytest.mark.server
def test_the_server_keeps_the_first_of_two_adds(chroma_server):
    """What the lease rests on: Chroma's `add` of an existing id leaves the first record, and a
    delete conditioned on a token removes only that token's record."""
    docs = Store(_server_settings(chroma_server), create=True).docs
    docs.add(ids=["k"], metadatas=[{"token": "first"}], embeddings=[[0.0]])
    docs.add(ids=["k"], metadatas=[{"token": "second"}], embeddings=[[0.0]])
    assert docs.get(ids=["k"])["metadatas"] == [{"token": "first"}]
    docs.delete(ids=["k"], where={"token": "second"})
    assert docs.get(ids=["k"])["ids"] == ["k"]
    docs.delete(ids=["k"], where={"token": "first"})
    assert docs.get(ids=["k"])["ids"] == []
