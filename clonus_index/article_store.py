"""Article storage of an index generation: JSON Lines read one article at a time.

Part of index storage, beside the Whoosh segments. A build writes every
article (metadata, references and cleaned text) as one line and where each
line is; opening a generation reads only that table, and an article is read
the first time a hit or a listing needs it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Iterable, Iterator

from .errors import IndexDamagedError
from .models import Article

__all__ = ["ArticleStore", "write_articles"]


def write_articles(path: Path, offsets_path: Path,
                   articles: Iterable[Article | tuple[str, bytes]]) -> None:
    """``articles`` as JSON Lines at ``path``, and at ``offsets_path`` where each line is.

    An item may also be ``(article_id, line)``: a line copied as it is from
    another generation's store (see ``ArticleStore.line``), so an update
    rewrites only the articles it changes.
    """
    offsets: dict[str, list[int]] = {}
    with open(path, "wb") as fh:
        for article in articles:
            if isinstance(article, Article):
                aid = article.id
                line = json.dumps(article.to_dict(with_text=True),
                                  ensure_ascii=False).encode("utf-8")
            else:
                aid, line = article
            offsets[aid] = [fh.tell(), len(line)]
            fh.write(line + b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    with open(offsets_path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(offsets))  # one string: json.dump encodes piece by piece, slowly
        fh.flush()
        os.fsync(fh.fileno())


class ArticleStore(Mapping):
    """The articles of a generation by id, each read from disk the first time it is asked for.

    The file is opened once, when the generation is opened, and read through
    that descriptor: a later build may remove this generation's folder while
    a long-lived reader still serves it, and what it opened stays readable.
    """

    def __init__(self, path: Path, offsets: dict[str, list[int]], damaged: str, fd: int):
        self._path = path
        self._offsets = offsets
        self._damaged = damaged  # the message when an article cannot be read
        self._cache: dict[str, Article] = {}
        self._fd = fd

    @classmethod
    def open(cls, path: Path, offsets_path: Path, damaged: str) -> "ArticleStore":
        """Read the table of lines; a file shorter or longer than it says is damaged."""
        offsets = json.loads(offsets_path.read_text("utf-8"))
        end = max((start + length + 1 for start, length in offsets.values()), default=0)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            if os.fstat(fd).st_size != end:
                raise ValueError("articles file does not match its table")
        except BaseException:
            os.close(fd)
            raise
        return cls(path, offsets, damaged, fd)

    def close(self) -> None:
        """Let go of the file; articles already read stay available."""
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:
        self.close()

    def __getitem__(self, article_id: str) -> Article:
        found = self._cache.get(article_id)
        if found is None:
            start, length = self._offsets[article_id]
            try:
                # pread: no shared file position, so threads never interleave.
                found = Article.from_dict(json.loads(os.pread(self._fd, length, start)))
            except (OSError, ValueError, KeyError):
                raise IndexDamagedError(self._damaged) from None
            self._cache[article_id] = found
        return found

    def line(self, article_id: str) -> bytes:
        """The stored JSON line of an article, unparsed (for copying it into a new generation)."""
        start, length = self._offsets[article_id]
        try:
            line = os.pread(self._fd, length, start)
        except OSError:
            raise IndexDamagedError(self._damaged) from None
        if len(line) != length:
            raise IndexDamagedError(self._damaged)
        return line

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._offsets

    def __iter__(self) -> Iterator[str]:
        return iter(self._offsets)

    def __len__(self) -> int:
        return len(self._offsets)
