"""The fetcher of the unseen filings (evals/unseen_filings.py), against a local archive: a file
checked by its SHA-256, and a JSON file whose text is the document written as .txt, the JSON kept
beside it hidden, so that a later run checks it and fetches nothing."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest

from evals import unseen_filings


def _archive(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            t.addfile(info, io.BytesIO(body))
    return buf.getvalue()


def test_a_json_wrapped_filing_is_written_as_its_text_and_checked_by_its_source(tmp_path, monkeypatch):
    doc = json.dumps({"ticker": "ACME", "raw_text": "ACME CORP\nTotal net sales\n383,285\n"}).encode()
    data = _archive({"pkg-1.0/tests/fixtures/acme.json": doc, "pkg-1.0/README": b"readme"})
    sha = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
    monkeypatch.setitem(unseen_filings.SOURCES, "test", [
        ("pkg", "pkg-1.0.tar.gz", sha(data), {"ACME_10K.txt": ("tests/fixtures/acme.json", sha(doc), "raw_text")})])
    fetched = []

    class _Response(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(unseen_filings, "_url", lambda package, archive: f"file://{archive}")
    monkeypatch.setattr(unseen_filings.urllib.request, "urlopen",
                        lambda url, timeout=0: fetched.append(url) or _Response(data))
    out = unseen_filings.fetch(tmp_path, quiet=True, corpus="test")
    assert (out / "ACME_10K.txt").read_text() == "ACME CORP\nTotal net sales\n383,285\n"
    assert (out / ".ACME_10K.txt.json").read_bytes() == doc and len(fetched) == 1
    unseen_filings.fetch(tmp_path, quiet=True, corpus="test")
    assert len(fetched) == 1  # checked by its source, nothing fetched again
    (out / ".ACME_10K.txt.json").write_bytes(b"{}")
    unseen_filings.fetch(tmp_path, quiet=True, corpus="test")
    assert len(fetched) == 2 and (out / ".ACME_10K.txt.json").read_bytes() == doc  # a changed source is fetched again
    monkeypatch.setitem(unseen_filings.SOURCES, "test", [
        ("pkg", "pkg-1.0.tar.gz", "0" * 64, {"OTHER.txt": ("tests/fixtures/acme.json", sha(doc), "raw_text")})])
    with pytest.raises(RuntimeError, match="not the archive recorded"):
        unseen_filings.fetch(tmp_path, quiet=True, corpus="test")
