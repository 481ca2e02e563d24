"""Reading: the first stage of ingestion, from a file on disk to a ``Document``.

It finds the source files and hands each to the reader of its form: article
pages (``.html``/``.htm``, ``pages.py``), plain text articles (``.txt`` with
blank lines between paragraphs, ``plaintext.py``) and flattened article text
(``.txt`` whose markup was stripped, ``flattened.py``). Cleaning happens per block.
"""

from __future__ import annotations

import errno
import os
import stat
import warnings
from pathlib import Path
from typing import Iterable, Iterator

from .errors import IngestError, SkippedSourceWarning
from .flattened import read_flattened
from .models import Block, Document
from .pages import read_html
from .plaintext import is_plain_text, read_plain

__all__ = ["Block", "Document", "read_document", "read_text", "read_html", "iter_sources",
           "SOURCE_SUFFIXES", "MAX_SOURCE_MB", "source_name"]

SOURCE_SUFFIXES = (".txt", ".html", ".htm")
#: The largest source file read, in megabytes (10**6 bytes). Ingestion is
#: linear, about a second per megabyte of text; a bigger file is refused with
#: an error naming this limit, so no build runs for hours on a stray dump.
MAX_SOURCE_MB = 10


def source_name(path: str | Path) -> str:
    """A path as text that any file, terminal or JSON parser takes: bytes of a file name
    that are not UTF-8 are written as ``\\xNN`` ("latin\\xe9name.txt")."""
    return os.fsencode(Path(path).as_posix()).decode("utf-8", "backslashreplace")


def iter_sources(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Every source file named by ``paths``, folders expanded, in a stable order.

    Folders are walked recursively and sorted by relative path, so the same
    folder gives the same article order (and so the same ids) everywhere.
    Linked folders are followed, each real folder once. What a walk cannot
    use (a file or subfolder it may not read, a FIFO, a dangling link or a
    link loop with an article's suffix, a folder link back to a folder read
    already) is skipped with a
    ``SkippedSourceWarning`` naming it; a folder with nothing readable is an
    error. A file named directly must be readable: it is read or refused.
    """
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = _walk(path)
        else:
            _check_named_file(path)
            found = [path]
        for p in found:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                yield p


def _check_named_file(path: Path) -> None:
    """A path named directly must be a regular article file: say what it is otherwise."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            raise IngestError(f"{source_name(path)}: is a symbolic link to "
                              f"{source_name(os.readlink(path))}, which does not exist") from None
        raise IngestError(f"{source_name(path)}: no such file or folder") from None
    except OSError as exc:
        raise IngestError(f"{source_name(path)}: cannot read it ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        raise IngestError(f"{source_name(path)}: not a regular file (a FIFO, socket or device); "
                          "give .txt, .html or .htm files or folders of them")
    if path.suffix.lower() not in SOURCE_SUFFIXES:
        raise IngestError(f"{source_name(path)}: not an article file; give .txt, .html or .htm "
                          "files")


def _walk(folder: Path) -> list[Path]:
    """The article files under ``folder``, sorted; what cannot be read is skipped, and said."""
    found: list[Path] = []
    skipped = 0

    def skip(path: str | Path, reason: str) -> None:
        nonlocal skipped
        skipped += 1
        warnings.warn(f"{source_name(path)}: skipped, {reason}", SkippedSourceWarning,
                      stacklevel=2)

    def unreadable(exc: OSError) -> None:
        skip(exc.filename or folder, f"cannot read this folder ({exc.strerror or exc})")

    # Linked folders are followed; each real folder is walked once, so a link
    # back to a folder on the way (a loop) or to one read already is skipped.
    walked = {os.path.realpath(folder)}
    for top, subfolders, names in os.walk(folder, onerror=unreadable, followlinks=True):
        here = os.path.realpath(top)
        subfolders.sort()
        for name in list(subfolders):
            target = os.path.realpath(os.path.join(top, name))
            if target not in walked:
                walked.add(target)
                continue
            subfolders.remove(name)
            if os.path.islink(os.path.join(top, name)):
                loop = target == here or here.startswith(target + os.sep)
                what = "a symbolic link loop (back to" if loop else "a symbolic link (to"
                skip(Path(top) / name, f"{what} {source_name(target)}, read already)")
        for name in names:
            path = Path(top) / name
            if path.suffix.lower() not in SOURCE_SUFFIXES:
                continue
            if path.is_file():
                try:
                    with open(path, "rb"):
                        found.append(path)
                except OSError as exc:
                    skip(path, f"cannot read it ({exc.strerror or exc})")
            elif path.is_symlink() and not path.exists():
                skip(path, _broken_link(path))
            else:
                skip(path, "not a regular file")
    if not found:
        if skipped:
            raise IngestError(f"{source_name(folder)}: no readable .txt or .html article files "
                              f"in this folder ({skipped} skipped)")
        raise IngestError(f"{source_name(folder)}: no .txt or .html article files in this folder")
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def _broken_link(path: Path) -> str:
    """Why a symbolic link leads to no file: a loop, or nothing at its end."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop"
    return "a symbolic link to nothing"


def read_document(path: str | Path) -> Document:
    """Read one source file; the suffix decides the form, and for text the layout."""
    path = Path(path)
    limit = MAX_SOURCE_MB * 1_000_000
    try:
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise IngestError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if len(data) > limit:
        raise IngestError(f"{source_name(path)}: larger than the {MAX_SOURCE_MB} MB limit per "
                          "source file; split it into articles of at most that size")
    if not data.strip():
        raise IngestError(f"{path}: the file is empty; give a file with article text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{path}: not UTF-8 text (bad byte at offset {exc.start}); re-save it as UTF-8"
        ) from None
    try:
        if path.suffix.lower() in (".html", ".htm"):
            doc = read_html(text, source=source_name(path))
        else:
            doc = read_text(text, source=source_name(path))
    except RecursionError:
        raise IngestError(f"{path}: the page is nested too deeply to read; "
                          "simplify its HTML") from None
    if not any(b.kind == "text" for b in doc.blocks):
        raise IngestError(f"{path}: no article text found in it")
    return doc


def read_text(text: str, source: str = "<text>") -> Document:
    """Read article text: a plain text article when blank lines part its paragraphs,
    otherwise flattened article text."""
    if is_plain_text(text):
        return read_plain(text, source=source)
    return read_flattened(text, source=source)
