"""The few error classes rag raises. Each message states the fix; the CLI and the web page turn
them into one line. Nothing here catches anything."""

from __future__ import annotations


class RagError(Exception):
    """Base class: an expected failure with a message fit to show a user as is."""


class UsageError(RagError):
    """The caller asked for something malformed (empty question, unknown answerer...). Exit code 2."""


class IndexMissingError(RagError):
    """No index where one was expected."""


class IndexMismatchError(RagError):
    """The index was built with other settings (embedding model, chunking) than the ones in use."""


class IndexBusyError(RagError):
    """Another ingest holds the index's lock."""


class DocumentError(RagError):
    """One input file could not be read; the ingest reports it and goes on with the others."""


class IndexEmptyError(RagError):
    """The index holds no document: there is nothing to answer from."""


class StoreError(RagError):
    """The store failed under us: its server unreachable, its disk full or read-only. The message
    says what to do; what was committed before stays as it was."""
