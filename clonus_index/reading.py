"""Reading: the first stage of ingestion, from a file on disk to a ``Document``.

It finds the source files and hands each to the reader of its form: article
pages (``.html``/``.htm``, ``pages.py``), plain text articles (``.txt`` with
blank lines between paragraphs, ``plaintext.py``) and flattened article text
(``.txt`` whose markup was stripped, ``flattened.py``). Cleaning happens per block.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from .errors import IngestError
from .flattened import read_flattened
from .models import Block, Document
from .pages import read_html
from .plaintext import is_plain_text, read_plain

__all__ = ["Block", "Document", "read_document", "read_text", "read_html", "iter_sources",
           "SOURCE_SUFFIXES", "MAX_SOURCE_MB"]

SOURCE_SUFFIXES = (".txt", ".html", ".htm")
#: The largest source file read, in megabytes (10**6 bytes). Ingestion is
#: linear, about a second per megabyte of text; a bigger file is refused with
#: an error naming this limit, so no build runs for hours on a stray dump.
MAX_SOURCE_MB = 10


def iter_sources(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Every source file named by ``paths``, folders expanded, in a stable order.

    Folders are walked recursively and sorted by relative path, so the same
    folder gives the same article order (and so the same ids) everywhere.
    """
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted((p for p in path.rglob("*")
                            if p.is_file() and p.suffix.lower() in SOURCE_SUFFIXES),
                           key=lambda p: p.relative_to(path).as_posix())
            if not found:
                raise IngestError(f"{path}: no .txt or .html article files in this folder")
        elif path.is_file():
            if path.suffix.lower() not in SOURCE_SUFFIXES:
                raise IngestError(f"{path}: not an article file; give .txt, .html or .htm files")
            found = [path]
        else:
            raise IngestError(f"{path}: no such file or folder")
        for p in found:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                yield p



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
        raise IngestError(f"{path}: larger than the {MAX_SOURCE_MB} MB limit per source file; "
                          "split it into articles of at most that size")
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
            doc = read_html(text, source=path.as_posix())
        else:
            doc = read_text(text, source=path.as_posix())
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
