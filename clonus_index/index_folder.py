"""Index folders: the marker that proves a folder is an index, its generations, its lock.

Under ``index.py``, which writes and reads generations. Nothing here touches
a folder before it has proved to be an index: it holds the marker file that
every build writes, or (for indexes written before the marker existed) the
exact layout of one. Only names this module itself creates are ever removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Iterator, Optional

from .errors import IndexBusyError, IndexDamagedError, IndexVersionError
from .pipeline import write_atomic

__all__ = ["MARKER", "FORMAT_VERSION", "CURRENT", "LOCK", "folder_kind", "prepare_folder",
           "writing", "cleanup", "current_generation", "read_pointer", "new_generation_name",
           "is_generation_name", "fsync_dir", "lease_generation", "LEASE_FILE"]

#: The marker file: its presence, with this project's name, makes a folder an index.
MARKER = "clonus_index.json"
#: The layout of an index folder (marker, generations, ``CURRENT``, lock). A
#: folder of a newer layout is neither read nor written.
FORMAT_VERSION = 1
PROJECT = "clonus_index"
CURRENT = "CURRENT"
LOCK = ".build.lock"
#: The file of a generation that its readers hold a shared lock on, so a
#: build never removes a generation a process still serves.
LEASE_FILE = "meta.json"
#: How many times a builder takes a new lock when failed first builds keep removing it.
_LOCK_ATTEMPTS = 20

#: A generation's name, exactly as ``new_generation_name`` makes it.
_GENERATION = re.compile(r"gen-\d{14}-[0-9a-f]{8}")
#: A generation being written.
_UNFINISHED = re.compile(r"gen-\d{14}-[0-9a-f]{8}\.tmp")
#: The temporary file ``write_atomic`` writes a pointer or the marker into first.
_SWAP_FILE = re.compile(r"\.(?:CURRENT|clonus_index\.json)\.[0-9a-f]{8}")
#: The marker's own temporary file: a folder holding only that is being made an index.
_MARKER_SWAP = re.compile(r"\.clonus_index\.json\.[0-9a-f]{8}")
#: Files a generation holds: Whoosh's segments, table of contents and lock, and ours.
_GENERATION_FILE = re.compile(
    r"_?MAIN_[A-Za-z0-9_.]+|MAIN_WRITELOCK|meta\.json|articles\.json|articles\.jsonl"
    r"|articles\.offsets\.json|sources\.json|postings\.json|postings\.bin")


def new_generation_name(stamp: str, token: str) -> str:
    """``gen-<14-digit time stamp>-<8 hex digits>``: the only name a generation gets."""
    name = f"gen-{stamp}-{token}"
    assert _GENERATION.fullmatch(name), name
    return name


def is_generation_name(name: str) -> bool:
    return _GENERATION.fullmatch(name) is not None


# --------------------------------------------------------------------------
# Telling an index folder from anything else
# --------------------------------------------------------------------------

def _marker_version(path: Path) -> Optional[int]:
    """The format version the marker records; None when there is no valid marker."""
    try:
        data = json.loads((path / MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("project") != PROJECT:
        return None
    version = data.get("format_version")
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def _only_generation_files(folder: Path) -> bool:
    try:
        return all(e.is_file(follow_symlinks=False) and _GENERATION_FILE.fullmatch(e.name)
                   for e in os.scandir(folder))
    except OSError:
        return False


def _is_unmarked_index(path: Path) -> bool:
    """An index written before folders had the marker, recognised by its exact layout.

    Every entry must be one the old code wrote: ``CURRENT`` naming a present
    generation, the lock, pointer swap files, and ``gen-<time>-<hex>``
    folders (finished or ``.tmp``) holding only Whoosh's files and ours.
    Anything else, and the folder is not ours to touch.
    """
    entries = list(os.scandir(path))
    ours = False
    for entry in entries:
        name = entry.name
        if name in (CURRENT, LOCK) or _SWAP_FILE.fullmatch(name):
            if not entry.is_file(follow_symlinks=False):
                return False
            ours = ours or name in (CURRENT, LOCK)
        elif _GENERATION.fullmatch(name) or _UNFINISHED.fullmatch(name):
            if not entry.is_dir(follow_symlinks=False) or not _only_generation_files(Path(entry)):
                return False
        else:
            return False
    if not ours:
        return False
    pointer = read_pointer(path)
    return pointer is None or (_GENERATION.fullmatch(pointer) is not None
                               and (path / pointer).is_dir())


def folder_kind(path: Path) -> str:
    """What ``path`` is: "missing", "file", "empty", "index", "unmarked index" or "foreign".

    A marker of a newer layout raises ``IndexVersionError``.
    """
    if not path.exists():
        return "missing"
    if not path.is_dir():
        return "file"
    version = _marker_version(path)
    if version is not None:
        if version > FORMAT_VERSION:
            raise IndexVersionError(
                f"{path}: index folder format {version} is newer than this clonus_index reads "
                f"({FORMAT_VERSION}); upgrade clonus_index, or choose another --index path")
        return "index"
    if all(_MARKER_SWAP.fullmatch(p.name) for p in path.iterdir()):
        return "empty"  # or another builder is writing the marker into it right now
    return "unmarked index" if _is_unmarked_index(path) else "foreign"


def _write_marker(path: Path) -> None:
    write_atomic(path / MARKER, [json.dumps({"project": PROJECT,
                                             "format_version": FORMAT_VERSION})])


def prepare_folder(path: Path) -> Optional[str]:
    """Make ``path`` an index folder, or refuse it before anything is touched.

    Returns "created" or "empty" when this build makes the index (the folder
    was missing, or empty), so a failed first build can leave it as it was;
    None for an existing index. An index from before the marker gets it now.
    """
    if path.is_symlink() and not path.exists():
        raise IndexDamagedError(f"{path}: is a symbolic link to {os.readlink(path)}, which does "
                                "not exist; choose another --index path")
    kind = folder_kind(path)
    if kind == "file":
        raise IndexDamagedError(f"{path}: exists and is not a folder; choose another --index path")
    if kind == "foreign":
        raise IndexDamagedError(
            f"{path}: folder is not a clonus_index index and is not empty; "
            "choose another --index path (nothing was changed)")
    fresh = None
    if kind == "missing":
        try:
            path.mkdir(parents=True)
        except FileExistsError:  # another builder made it first: look again
            return prepare_folder(path)
        fresh = "created"
    elif kind == "empty":
        fresh = "empty"
    if kind != "index":
        try:
            _write_marker(path)
        except FileNotFoundError:
            # Another builder wrote the marker first and, holding the lock,
            # removed our marker's temporary file as debris: the folder is an
            # index now, which is all this was for.
            if _marker_version(path) is None:
                if fresh:
                    _unmake(path, fresh)
                raise
        except BaseException:
            if fresh:
                _unmake(path, fresh)
            raise
    return fresh


def _unmake(path: Path, fresh: str) -> None:
    """Leave a folder whose first build failed as it was: no marker, no lock, no folder."""
    with contextlib.suppress(OSError):
        if {p.name for p in path.iterdir()} - {MARKER, LOCK}:
            return  # something else got in: leave it all
        (path / LOCK).unlink(missing_ok=True)
        (path / MARKER).unlink(missing_ok=True)
        if fresh == "created":
            path.rmdir()


# --------------------------------------------------------------------------
# Locking
# --------------------------------------------------------------------------

class _LockLost(Exception):
    """The lock file was removed while we waited for it (a first build gave up)."""


def _acquire(path: Path, wait: float) -> int:
    """An exclusive, crash-safe lock (flock: the kernel drops it when a builder dies)."""
    try:
        fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except FileNotFoundError:  # the folder itself went with a failed first build
        raise _LockLost() from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusyError(
                        f"{path}: another build of this index is still running; "
                        "wait for it to finish and try again") from None
                time.sleep(0.05)
        try:
            same = os.stat(path / LOCK).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            raise _LockLost()
        return fd
    except BaseException:
        os.close(fd)
        raise


@contextlib.contextmanager
def writing(path: Path, wait: float) -> Iterator[None]:
    """Prepare ``path`` as an index folder and hold its build lock for the body.

    When the body fails on a folder that had no index before, the folder is
    left as it was found (no marker, no lock; removed if this build made it).
    """
    for attempt in itertools.count():
        fresh = prepare_folder(path)
        try:
            fd = _acquire(path, wait)
            break
        except _LockLost:
            if attempt >= _LOCK_ATTEMPTS:
                raise IndexBusyError(f"{path}: other builds keep failing to create this index; "
                                     "try again") from None
    try:
        yield
    except BaseException:
        if fresh and current_generation(path) is None:
            cleanup(path, keep=set())
            _unmake(path, fresh)
        raise
    finally:
        os.close(fd)  # closing releases the lock


# --------------------------------------------------------------------------
# Generations
# --------------------------------------------------------------------------

def read_pointer(path: Path) -> Optional[str]:
    """What ``CURRENT`` says, unchecked; None when there is no ``CURRENT``."""
    try:
        name = (path / CURRENT).read_text("utf-8", errors="replace").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except IsADirectoryError:
        return ""
    return name


def current_generation(path: Path) -> Optional[str]:
    """The generation ``CURRENT`` names, when it is one of ours; else None."""
    name = read_pointer(path)
    return name if name is not None and _GENERATION.fullmatch(name) else None


def cleanup(path: Path, keep: set[str]) -> None:
    """Remove unfinished builds and generations other than ``keep``, in an index folder only.

    Only names this module makes are removed: ``gen-<time>-<hex>`` folders
    (finished or ``.tmp``, never through a symbolic link) and the pointer and
    marker swap files. A folder without the marker is left alone.
    """
    if _marker_version(path) is None:
        return
    for child in path.iterdir():
        name = child.name
        if ((_GENERATION.fullmatch(name) and name not in keep) or _UNFINISHED.fullmatch(name)):
            if child.is_dir() and not child.is_symlink():
                with _unleased(child) as free:
                    if free:
                        shutil.rmtree(child, ignore_errors=True)
        elif _SWAP_FILE.fullmatch(name) and child.is_file() and not child.is_symlink():
            child.unlink(missing_ok=True)


def lease_generation(generation: Path) -> int:
    """A shared lock on ``generation`` for as long as the returned descriptor is open.

    Builds skip a generation somebody holds (see ``cleanup``), so a process
    that opened it (a server, a notebook) keeps reading files that its
    searchers open later. The kernel drops the lock when the process dies.
    Raises ``FileNotFoundError`` when the generation is gone or going.
    """
    fd = os.open(generation / LEASE_FILE, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        if not (generation / LEASE_FILE).exists():  # removed between open and lock
            raise FileNotFoundError(str(generation / LEASE_FILE))
    except BlockingIOError:  # a build is removing it right now
        os.close(fd)
        raise FileNotFoundError(str(generation / LEASE_FILE)) from None
    except BaseException:
        os.close(fd)
        raise
    return fd


@contextlib.contextmanager
def _unleased(generation: Path) -> Iterator[bool]:
    """True, holding the generation exclusively, when no reader holds a lease on it."""
    try:
        fd = os.open(generation / LEASE_FILE, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:  # unfinished or damaged: nobody can be reading it
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
