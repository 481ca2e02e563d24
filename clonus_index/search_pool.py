"""Search worker processes: one opened index searched on several cores at once.

Beside ``searching.py``. The search engine is pure Python and numpy, so the
threads of one process share one core's worth of interpreter. An ``Index``
opened with ``workers=N`` sends each search to one of N worker processes,
each of which opens the same index folder read-only, on the very generation
the ``Index`` serves (and follows it when ``refresh()`` switches), and sends
the hits back. Everything else an ``Index`` does stays in its own process.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Optional

from .errors import IndexStateError

__all__ = ["SearchPool", "MAX_WORKERS"]

#: More worker processes than this are refused (each holds its own copy of an opened index).
MAX_WORKERS = 64

# -- in a worker process ---------------------------------------------------------------

_opened: dict[str, Any] = {}


def _open(path: str, generation: str):
    """This worker's index at ``path`` on ``generation`` (opened once, kept until it changes)."""
    from .index import read_index
    from .searching import Index

    index = _opened.get(path)
    if index is None or index._stored.generation.name != generation:
        if index is not None:
            index.close()
        index = _opened[path] = Index(read_index(path, generation))
    return index


def _search(path: str, generation: str, query: str, options: dict[str, Any]):
    """Search ``generation`` of the index at ``path`` in this worker."""
    return _open(path, generation).search(query, **options)


def _started() -> None:
    """Nothing: submitted once per worker so that all of them start (and open) at once."""


# -- in the searching process ----------------------------------------------------------

class SearchPool:
    """N worker processes (started with ``spawn``) that run searches of one index folder."""

    def __init__(self, path: Path, workers: int, generation: str):
        if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
            raise ValueError(f"workers must be a whole number from 1 to {MAX_WORKERS}, "
                             f"not {workers!r}")
        self.path = str(path)
        self.workers = workers
        self._lock = threading.Lock()
        self._executor: Optional[ProcessPoolExecutor] = None
        self._start(generation)

    def _start(self, generation: str) -> None:
        """Start the workers; each opens ``generation`` as it starts, before any search."""
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_open, initargs=(self.path, generation))
        for _ in range(self.workers):  # workers start on demand: ask for all of them now
            self._executor.submit(_started)

    def search(self, generation: str, query: str, options: dict[str, Any]):
        """The ``Results`` of one search, run in a worker on ``generation``.

        A worker that died (killed, out of memory) is replaced and the search
        run once more.
        """
        for attempt in (1, 2):
            with self._lock:
                executor = self._executor
                if executor is None:
                    raise IndexStateError(f"{self.path}: this index was closed; open it again "
                                          "with clonus_index.open_index(PATH)")
            try:
                return executor.submit(_search, self.path, generation, query, options).result()
            except BrokenProcessPool:
                if attempt == 2:
                    raise IndexStateError(f"{self.path}: search worker processes keep dying; "
                                          "open the index without workers") from None
                with self._lock:
                    if self._executor is executor:
                        executor.shutdown(wait=False, cancel_futures=True)
                        self._start(generation)
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
