"""The Chroma store: the manifest that refuses an index built with other settings, the guard that
keeps Chroma from embedding on its own, telemetry off, no network, and the writers' lock. Both store
modes (embedded and a real `chroma run` server) through the `settings` fixture."""

from __future__ import annotations

import os
import socket

import numpy as np
import pytest

from rag.errors import IndexBusyError, IndexMismatchError, IndexMissingError, RagError
from rag.indexer import ingest
from rag.settings import Settings
from rag.store import Store, manifest_for


def _ingest(paths, settings):
    report = ingest(paths, settings)
    assert report.ok and not report.failed, report.failed
    return report


# --- manifest ----------------------------------------------------------------------------------

def test_manifest_adopted_by_a_fresh_index(tiny_corpus, settings):
    _ingest([tiny_corpus], settings)
    assert Store(settings).manifest() == manifest_for(settings)
    assert manifest_for(settings)["embed_model"] == "hash" and manifest_for(settings)["chunk_size"] == 180


@pytest.mark.parametrize("change", [{"chunk_size": 100}, {"embed_model": "hash-128"}, {"chunk_overlap": 10}])
def test_other_settings_refused(tiny_corpus, settings, change):
    _ingest([tiny_corpus], settings)
    count = Store(settings).count()
    other = settings.replace(**change)
    [(key, value)] = change.items()

    with pytest.raises(IndexMismatchError) as err:
        ingest([tiny_corpus], other)
    msg = str(err.value)
    assert f"{key}={getattr(settings, key)!r} (now {value!r})" in msg
    assert "re-ingest" in msg and "rag ingest" in msg
    if settings.chroma_url:
        assert "--collection" in msg and settings.chroma_url in msg
    else:
        assert "--index" in msg and str(settings.index_dir) in msg
    assert "\n" not in msg

    # re-opening the store for reading checks the same way
    with pytest.raises(IndexMismatchError):
        Store(other).check_manifest(manifest_for(other))
    assert Store(settings).count() == count  # nothing was written
    Store(settings).check_manifest(manifest_for(settings))  # the original settings still open it


def test_missing_index(tmp_path):
    s = Settings.load(index_dir=str(tmp_path / "nowhere"), embed_model="hash")
    with pytest.raises(IndexMissingError, match="rag ingest"):
        Store(s)
    assert not (tmp_path / "nowhere").exists()  # opening for reading creates nothing


# --- Chroma never embeds, telemetry off, no network --------------------------------------------------

def test_chroma_never_embeds_on_its_own(tiny_corpus, settings):
    _ingest([tiny_corpus], settings)
    store = Store(settings)
    n = store.count()
    for col in (store.chunks, store.docs):
        with pytest.raises(RagError, match="asked to embed"):
            col.add(ids=["x-1"], documents=["a text without an embedding"])
        with pytest.raises(RagError, match="asked to embed"):
            col.upsert(ids=["x-1"], documents=["a text without an embedding"])
        with pytest.raises(RagError, match="asked to embed"):
            col.query(query_texts=["widgets"], n_results=1)
    assert store.count() == n and not store.chunks.get(ids=["x-1"])["ids"]


def test_telemetry_off(tiny_corpus, settings, monkeypatch):
    monkeypatch.delenv("ANONYMIZED_TELEMETRY", raising=False)  # conftest sets it; the store must itself
    _ingest([tiny_corpus], settings)
    store = Store(settings)
    assert store.client.get_settings().anonymized_telemetry is False
    assert os.environ["ANONYMIZED_TELEMETRY"] == "False"


def test_cosine_space(tiny_corpus, settings):
    """The chunks collection measures cosine: a chunk's own vector comes back with similarity 1."""
    _ingest([tiny_corpus], settings)
    store = Store(settings)
    got = store.chunks.get(include=["embeddings"])
    for i, vec in list(zip(got["ids"], got["embeddings"], strict=True))[:3]:
        ids, sims = store.query(np.asarray(vec, dtype=np.float32) * 7.0, 1)  # scale must not matter
        assert ids == [i] and sims[0] == pytest.approx(1.0, abs=1e-4)


def test_no_network_in_embedded_mode(tiny_corpus, embedded_settings, monkeypatch):
    """An embedded ingest and query open no socket to anywhere (Python side: model hubs,
    telemetry endpoints)."""
    attempts = []

    def connect(self, address):
        attempts.append(address)
        raise OSError("network disabled by the test")

    def getaddrinfo(host, *a, **kw):
        attempts.append(host)
        raise socket.gaierror("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", lambda *a, **kw: connect(None, a[0] if a else None))
    _ingest([tiny_corpus], embedded_settings)
    store = Store(embedded_settings)
    from rag.embed import get_embedder

    ids, _ = store.query(get_embedder("hash").embed_query("widget revenue"), 2)
    assert ids
    assert attempts == []


# --- the writers' lock ----------------------------------------------------------------------------

def test_second_writer_refused(tiny_corpus, settings):
    from filelock import FileLock

    store = Store(settings, create=True)
    with FileLock(str(store.lock_path())):  # another ingest holds the index
        with pytest.raises(IndexBusyError) as err:
            ingest([tiny_corpus], settings)
        msg = str(err.value)
        assert "Another ingest" in msg and settings.index_label in msg and "\n" not in msg
        assert Store(settings).documents() == {}
    assert ingest([tiny_corpus], settings).ok  # once released, the next ingest goes ahead
    assert len(Store(settings).documents()) == 2


def test_lock_is_per_index(tmp_path, tiny_corpus):
    a = Settings.load(index_dir=str(tmp_path / "a"), embed_model="hash")
    b = Settings.load(index_dir=str(tmp_path / "b"), embed_model="hash")
    assert Store(a, create=True).lock_path() != Store(b, create=True).lock_path()
    server_a = Settings.load(chroma_url="http://127.0.0.1:1", collection="one", embed_model="hash")
    server_b = server_a.replace(collection="two")
    paths = {Store.lock_path(type("S", (), {"settings": s})()) for s in (server_a, server_b)}
    assert len(paths) == 2


def test_the_default_index_built_by_an_older_version_is_rebuilt_others_are_refused(tiny_corpus, tmp_path,
                                                                                   monkeypatch, capsys):
    """`make chat` keeps working after an upgrade that changes the schema: the default index/
    re-ingests its own documents (its folders, so their glossaries stay); any other index is refused."""
    from rag.engine import Engine
    from rag.store import SCHEMA_VERSION

    monkeypatch.chdir(tmp_path)
    default = Settings.load(env={}, index_dir="index", embed_model="hash")
    _ingest([tiny_corpus], default)
    old = {**manifest_for(default), "rag_schema": SCHEMA_VERSION - 1}
    Store(default).chunks.modify(metadata=old)
    count = Store(default).count()

    engine = Engine(default)
    assert Store(default).manifest()["rag_schema"] == SCHEMA_VERSION and len(engine.chunks) == count > 0
    assert "built by an older version" in capsys.readouterr().err

    other = Settings.load(env={}, index_dir=str(tmp_path / "other"), embed_model="hash")
    _ingest([tiny_corpus], other)
    Store(other).chunks.modify(metadata=old)
    with pytest.raises(IndexMismatchError):
        Engine(other)
