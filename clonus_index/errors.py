"""The exceptions clonus_index raises, one family so callers can catch them all.

Each message names the thing at fault and says what to do about it, because
the CLI prints it as the whole of its one-line error.
"""

from __future__ import annotations

__all__ = [
    "ClonusIndexError", "IngestError", "OutputError", "QueryError", "IndexStateError",
    "IndexNotFoundError", "IndexVersionError", "IndexBusyError", "IndexDamagedError",
    "IndexWriteError", "IndexUnavailableError", "CacheError", "SkippedSourceWarning",
]


class ClonusIndexError(Exception):
    """Base class of every error clonus_index raises on purpose."""


class IngestError(ClonusIndexError, ValueError):
    """A source file cannot be read as an article (not UTF-8, empty, no article text)."""


class OutputError(ClonusIndexError, ValueError):
    """An output path cannot be written as asked: it is a folder, or two outputs share it."""


class QueryError(ClonusIndexError, ValueError):
    """A search request is invalid: blank query, limit below 1, unknown section."""


class IndexStateError(ClonusIndexError):
    """Something is wrong with an index on disk."""


class IndexNotFoundError(IndexStateError, FileNotFoundError):
    """No index exists at the given path."""


class IndexVersionError(IndexStateError):
    """The index was written by an incompatible schema version."""


class IndexDamagedError(IndexStateError):
    """The index folder exists but its files are missing or unreadable."""


class IndexBusyError(IndexStateError):
    """Another process is building the same index and did not finish in time."""


class IndexWriteError(IndexStateError, OSError):
    """A build could not write its files (disk full, read-only folder); the old index stands."""

    def __init__(self, message: str, reason: str = ""):
        super().__init__(message)
        self.reason = reason

    def __str__(self) -> str:
        return str(self.args[0])


class IndexUnavailableError(IndexStateError, ConnectionError):
    """The search engine that holds an index cannot be reached or refused the credentials."""


class CacheError(ClonusIndexError, OSError):
    """The cache folder for the bundled index cannot be written."""


class SkippedSourceWarning(UserWarning):
    """A file or subfolder in a source folder could not be used and was left out.

    The message names it and says why; the command line prints it on stderr.
    """
