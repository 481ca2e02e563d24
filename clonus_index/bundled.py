"""The bundled default index: the bundled article, indexed on first use into the user cache.

Beside index storage (``index.py``), which it uses to build and open that
index. Also lists a build's sources with the bundled article after them
(``--with-bundled``), for every backend's build.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterable, Iterator, Optional

from . import __version__
from .errors import (CacheError, IndexBusyError, IndexDamagedError, IndexNotFoundError,
                     IndexVersionError, IndexWriteError)
from .index import (BUILD_LOCK_WAIT, SCHEMA_VERSION, StoredIndex, _write_generation, code_digest,
                    read_index, sources_hash)
from .index_folder import writing
from .pipeline import Corpus, ingest
from .resources import bundled_corpus

__all__ = ["default_index_dir", "bundled_index", "bundled_sources", "read_sources", "source_list"]


def default_index_dir() -> Path:
    """Where the bundled corpus's index lives: ``$CLONUS_INDEX_DIR``, else the user cache."""
    explicit = os.environ.get("CLONUS_INDEX_DIR")
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "clonus_index" / f"default-v{SCHEMA_VERSION}"


def bundled_index(path: Optional[str | Path] = None) -> StoredIndex:
    """Open the bundled article's index, building or rebuilding it when needed.

    Built on first use, rebuilt when the bundled source, the library version
    or its code changed, or the index is missing, damaged or from another
    schema version. Concurrent first users serialise on the build lock; the
    second finds the first one's index.
    """
    with bundled_sources() as corpus_dir:
        digest = sources_hash([corpus_dir])
        target = Path(path) if path else default_index_dir()
        try:
            stored = read_index(target)
            if _fresh(stored, digest):
                return stored
        except (IndexNotFoundError, IndexDamagedError, IndexVersionError):
            pass
        try:
            with writing(target, BUILD_LOCK_WAIT):
                # Another process may have built it while we waited for the lock.
                with contextlib.suppress(IndexNotFoundError, IndexDamagedError,
                                         IndexVersionError):
                    stored = read_index(target)
                    if _fresh(stored, digest):
                        return stored
                corpus = ingest([corpus_dir], relative_to=corpus_dir.parent.parent)
                _write_generation(corpus, target, digest)
        except IndexDamagedError:  # a file, or a folder of something else: nothing was touched
            raise CacheError(f"{target}: holds something other than an index; choose another "
                             "folder with CLONUS_INDEX_DIR=PATH, or use --index PATH") from None
        except (IndexBusyError, IndexVersionError):
            raise
        except OSError as exc:  # includes IndexWriteError: the cache cannot be written
            raise CacheError(_cache_message(target, exc)) from None
        return read_index(target)


def _fresh(stored: StoredIndex, digest: str) -> bool:
    """The bundled index is current: same article bytes, built by this very code."""
    return (stored.meta.get("sources_hash") == digest
            and stored.meta.get("library_version") == __version__
            and stored.meta.get("code_hash") == code_digest())


def _cache_message(target: Path, exc: OSError) -> str:
    reason = exc.reason if isinstance(exc, IndexWriteError) else (exc.strerror or exc)
    return (f"{target}: cannot write the bundled article's index there ({reason}); "
            "choose another folder with CLONUS_INDEX_DIR=PATH, or use --index PATH")


def read_sources(sources: Iterable[str | Path] | str | Path, progress=None,
                 with_bundled: bool = False) -> tuple[Corpus, str]:
    """Ingest ``sources`` (with the bundled article after them when asked) for a build.

    Returns the corpus and the sources' digest, which a build records so the
    index can tell when it is stale. Shared by every backend's build.
    """
    with source_list(sources, with_bundled) as (sources, relative_to):
        return ingest(sources, progress=progress, relative_to=relative_to), sources_hash(sources)


@contextlib.contextmanager
def source_list(sources: Iterable[str | Path] | str | Path,
                with_bundled: bool = False) -> Iterator[tuple[list, Optional[Path]]]:
    """``sources`` as a list, with the bundled article's folder after them when asked.

    Also yields the folder that articles record their source relative to
    (for the bundled article: "clonus_index/corpus/..."), None without it.
    """
    sources = [sources] if isinstance(sources, (str, Path)) else list(sources)
    if not with_bundled:
        yield sources, None
        return
    with bundled_sources() as corpus_dir:
        yield [*sources, corpus_dir], corpus_dir.parent.parent


@contextlib.contextmanager
def bundled_sources() -> Iterator[Path]:
    """The folder of the bundled article, on disk for as long as the ``with`` lasts.

    Articles in it record their source as ``clonus_index/corpus/<file>``
    when ingested with ``relative_to=folder.parent.parent``.
    """
    from importlib import resources
    with resources.as_file(bundled_corpus()) as folder:
        yield Path(folder)
