"""Serving: what the HTTP service, the MCP server and the retrievers share.

After search, beside output. One ``Catalog`` per served index keeps the index
fresh (a rebuilt index is picked up without a restart) and gives passages,
articles and hits in the shapes every interface returns, the same as the
CLI's ``--json``; none of it needs anything beyond the core install.
"""

from __future__ import annotations

import threading
import time
from itertools import islice
from pathlib import Path
from typing import Any, Optional, Union

from .errors import QueryError
from .models import Article, Hit, Passage
from .searching import Index, Results, open_index

__all__ = ["Catalog", "IndexLike", "as_index", "cited_passage", "article_summary",
           "hit_metadata", "quotable", "MAX_LIMIT", "MAX_ARTICLES", "REFRESH_SECONDS"]

#: What an interface accepts as its index: an opened ``Index``, a folder, or
#: None for the bundled article.
IndexLike = Union[Index, str, Path, None]
#: At most this many passages per search request, and articles per listing.
MAX_LIMIT = 100
MAX_ARTICLES = 1000
#: How often a served index looks for a rebuilt generation.
REFRESH_SECONDS = 1.0


def as_index(index: IndexLike) -> Index:
    """An opened ``Index`` from an ``Index``, a folder path, or None (the bundled article)."""
    return index if isinstance(index, Index) else open_index(index)


def cited_passage(passage: Passage) -> dict[str, Any]:
    """A passage with its article, citation and references: ``clonus-index show --json``."""
    article = passage.article
    data = passage.to_dict()
    data["article"] = article.to_dict()
    data["citation"] = {"apa": article.citation("apa"), "mla": article.citation("mla")}
    data["references"] = [dict(r.to_dict(), score=link.score)
                          for link, r in zip(passage.links, passage.references)]
    return data


def article_summary(article: Article, passages: int) -> dict[str, Any]:
    """An article as an entry of a listing: metadata, citation and counts, no text."""
    data = article.to_dict()
    data["references"] = len(article.references)
    data["passages"] = passages
    data["citation"] = {"apa": article.citation("apa"), "mla": article.citation("mla")}
    return data


def hit_metadata(hit: Hit) -> dict[str, Any]:
    """What a framework's document carries beside the text: where the passage came from."""
    p, article = hit.passage, hit.passage.article
    return {
        "id": p.id, "article_id": article.id, "section": p.section,
        "subsection": p.subsection, "score": round(hit.score, 4), "rank": hit.rank,
        "title": article.title, "url": article.url,
        "citation": {"apa": article.citation("apa"), "mla": article.citation("mla")},
        "references": [r.to_dict() for r in p.references],
    }


def quotable(passage: Passage, number: Optional[int] = None) -> str:
    """A passage as a model should quote it: id and place, text, source, references."""
    place = passage.section + (f" > {passage.subsection}" if passage.subsection else "")
    head = f"[{number}] " if number is not None else ""
    lines = [f"{head}{passage.id} ({passage.article.title}; {place})", passage.text,
             f"Source: {passage.article.citation('apa')}"]
    lines += [f"Reference: {r.raw}" for r in passage.references]
    return "\n".join(lines)


class Catalog:
    """A served index: searches, passages and articles, reopened when the index is rebuilt.

    Thread-safe without a lock around searches: ``Index`` serves concurrent
    searches itself; the catalog only swaps its small per-index tables when
    ``Index.refresh()`` reports a new generation.
    """

    def __init__(self, index: IndexLike = None, refresh_seconds: float = REFRESH_SECONDS):
        self.index = as_index(index)
        self._refresh_seconds = refresh_seconds
        self._checked = time.monotonic()
        self._refreshing = threading.Lock()
        self._tables = self._build_tables()

    def _build_tables(self) -> tuple[dict[str, Article], dict[str, list[str]]]:
        """The articles by id, and each article's passage ids in reading order."""
        articles = {a.id: a for a in self.index.articles()}
        passage_ids: dict[str, list[str]] = {a: [] for a in articles}
        for p in self.index.passages():
            passage_ids.setdefault(p.article.id, []).append(p.id)
        return articles, passage_ids

    def fresh(self) -> Index:
        """The index, after looking for a rebuilt generation at most once a ``refresh_seconds``."""
        now = time.monotonic()
        if now - self._checked >= self._refresh_seconds and self._refreshing.acquire(blocking=False):
            try:
                self._checked = now
                if self.index.refresh():
                    self._tables = self._build_tables()
            finally:
                self._refreshing.release()
        return self.index

    def search(self, query: str, limit: int = 10, offset: int = 0, section: Optional[str] = None,
               article: Optional[str] = None, semantic: Optional[bool] = None) -> Results:
        if isinstance(limit, int) and limit > MAX_LIMIT:
            raise QueryError(f"limit must be at most {MAX_LIMIT}; page with offset for more")
        return self.fresh().search(query, limit=limit, offset=offset, section=section,
                                   article=article, semantic=semantic)

    def passage(self, passage_id: str) -> dict[str, Any]:
        """``cited_passage`` of the passage with this id; ``KeyError`` with the CLI's message."""
        return cited_passage(self.fresh().get(passage_id))

    def articles(self, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        """A page of article summaries, in the order the index was built."""
        if not 1 <= limit <= MAX_ARTICLES:
            raise QueryError(f"limit must be a whole number from 1 to {MAX_ARTICLES}, not {limit!r}")
        if offset < 0:
            raise QueryError(f"offset must be 0 or more, not {offset!r}")
        self.fresh()
        articles, passage_ids = self._tables
        page = islice(articles.values(), offset, offset + limit)
        return {"total": len(articles), "offset": offset,
                "articles": [article_summary(a, len(passage_ids[a.id])) for a in page]}

    def article(self, article_id: str) -> dict[str, Any]:
        """One article: metadata, citation, references and its passages' ids and places."""
        self.fresh()
        articles, passage_ids = self._tables
        try:
            article = articles[article_id]
        except KeyError:
            raise KeyError(f"no article with id {article_id!r}; list ids with: "
                           "clonus-index info") from None
        data = article_summary(article, len(passage_ids[article_id]))
        data["references"] = [r.to_dict() for r in article.references]
        data["passage_ids"] = list(passage_ids[article_id])
        return data

    def info(self) -> dict[str, Any]:
        """``clonus-index info --json`` without where the index lives on disk, and with
        the number of articles instead of their list (``articles()`` pages them)."""
        data = self.fresh().info()
        data.pop("path", None)
        data["articles"] = len(data["articles"])
        return data
