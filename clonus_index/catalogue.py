"""The sources catalogue of an index generation: which source gave which article, and its hash.

Part of index storage, beside the articles and the Whoosh segments. Every
generation records, per source in article order, the source's name, the
SHA-256 of its bytes, the article it gave and what the index's metadata
derives from that article (its sections, passage count and abbreviations).
An update (``updating.py``) reads it to tell which sources changed and to
recompute the metadata without reading every article again. Opening an index
for search never reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterable, Optional

from .models import Article, Passage
from .pipeline import Corpus, article_id_for
from .query import mine_abbreviations
from .reading import iter_sources, source_name

__all__ = ["CATALOGUE", "Entry", "SourceFile", "scan_sources", "digest_of", "entries_for",
           "derived_meta", "write_catalogue", "read_catalogue", "entry_from_article"]

CATALOGUE = "sources.json"


@dataclass(frozen=True)
class SourceFile:
    """A source file named for a build: its path, the name its article records, its hash.

    ``resolved`` is its absolute path with links resolved: the same file
    named another way (``./a.txt``, ``/home/me/a.txt``) is still known.
    """

    path: Path
    source: str
    sha256: str
    resolved: str


@dataclass(frozen=True)
class Entry:
    """One article of an index and the source it came from.

    ``sha256`` is None when it is not known (an index written before
    catalogues): the source then counts as changed. ``base`` is the id the
    title gives (``article_id``'s value before a ``-2`` made it unique).
    """

    source: str
    sha256: Optional[str]
    article: str
    base: str
    passages: int
    sections: tuple[str, ...]
    abbreviations: dict[str, str]
    resolved: Optional[str] = None

    def to_dict(self) -> dict:
        return {"source": self.source, "sha256": self.sha256, "article": self.article,
                "base": self.base, "passages": self.passages, "sections": list(self.sections),
                "abbreviations": self.abbreviations, "resolved": self.resolved}

    @classmethod
    def from_dict(cls, data: dict) -> "Entry":
        return cls(source=data["source"], sha256=data.get("sha256"), article=data["article"],
                   base=data["base"], passages=int(data["passages"]),
                   sections=tuple(data["sections"]), abbreviations=dict(data["abbreviations"]),
                   resolved=data.get("resolved"))


def _source_key(path: Path, relative_to: Optional[Path]) -> str:
    """The name an article read from ``path`` records as its source (as ingestion names it)."""
    if relative_to is not None and path.is_relative_to(relative_to):
        return source_name(path.relative_to(relative_to))
    return source_name(path)


def scan_sources(paths: Iterable[str | Path],
                 relative_to: Optional[Path] = None) -> list[SourceFile]:
    """Every source file of ``paths`` in ingestion order, with its name and content hash."""
    return [SourceFile(p, _source_key(p, relative_to), hashlib.sha256(p.read_bytes()).hexdigest(),
                       source_name(p.resolve())) for p in iter_sources(paths)]


def digest_of(names_and_hashes: Iterable[tuple[str, Optional[str]]]) -> str:
    """The sources digest a build records (``index.sources_hash``), from names and hashes.

    ``name`` is the source's file name or its recorded source (only its last
    part counts); an unknown hash counts as the hash of nothing.
    """
    digest = hashlib.sha256()
    for name, sha in names_and_hashes:
        digest.update(os.fsencode(PurePosixPath(name).name) + b"\0")
        digest.update(bytes.fromhex(sha) if sha else hashlib.sha256(b"").digest())
    return digest.hexdigest()


def entry_from_article(article: Article, passages: Iterable[Passage],
                       file: Optional[SourceFile]) -> Entry:
    """The catalogue entry of one article, from the article, its passages and its source file."""
    passages = list(passages)
    return Entry(source=article.source, sha256=file.sha256 if file else None, article=article.id,
                 base=article_id_for(article.title), passages=len(passages),
                 sections=tuple(dict.fromkeys(p.section for p in passages)),
                 abbreviations=mine_abbreviations([article.text]),
                 resolved=file.resolved if file else None)


def entries_for(corpus: Corpus, files: Optional[Iterable[SourceFile]] = None) -> list[Entry]:
    """The catalogue of a whole corpus, whose articles came from ``files`` (when known)."""
    by_source = {f.source: f for f in files or ()}
    by_article: dict[str, list[Passage]] = {a.id: [] for a in corpus.articles}
    for p in corpus.passages:
        by_article[p.article.id].append(p)
    return [entry_from_article(a, by_article[a.id], by_source.get(a.source))
            for a in corpus.articles]


def derived_meta(entries: Iterable[Entry]) -> dict:
    """What an index's metadata derives from all its articles, from their entries.

    The same values a build computes from every passage: the counts, section
    names in reading order, passages per article, and the abbreviations
    (the first article that defines one wins).
    """
    entries = list(entries)
    sections: dict[str, None] = {}
    abbreviations: dict[str, str] = {}
    for entry in entries:
        sections.update(dict.fromkeys(entry.sections))
        for short, long in entry.abbreviations.items():
            abbreviations.setdefault(short, long)
    return {"articles": len(entries), "passages": sum(e.passages for e in entries),
            "sections": list(sections),
            "article_passages": {e.article: e.passages for e in entries},
            "abbreviations": abbreviations}


def write_catalogue(folder: Path, entries: Iterable[Entry]) -> None:
    with open(folder / CATALOGUE, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"sources": [e.to_dict() for e in entries]}, ensure_ascii=False))
        fh.flush()
        os.fsync(fh.fileno())


def read_catalogue(folder: Path) -> Optional[list[Entry]]:
    """The catalogue of a generation; None when it has none or it cannot be read."""
    try:
        data = json.loads((folder / CATALOGUE).read_text("utf-8"))
        return [Entry.from_dict(e) for e in data["sources"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
