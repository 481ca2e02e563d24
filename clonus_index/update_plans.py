"""Update plans: what an add, a remove or a build changes, decided against one generation.

The first half of an update (``updating.py`` writes the plan as a new
generation). A plan names the catalogue entries of the new generation in
article order, the articles read anew, and the articles of the current
generation whose passages go. Article ids are given as ingestion gives
them: each title's id, made unique with ``-2``, ``-3`` in order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from .catalogue import Entry, SourceFile, entry_from_article
from .errors import IndexStateError
from .index import StoredIndex
from .models import Article, Passage
from .pipeline import _renamed, article_id_for, ingest  # ingestion's own renaming

__all__ = ["Update", "Plan", "Read", "source_reader", "plan_add", "plan_remove", "plan_build"]

#: Reads sources (by their recorded name) into articles and passages, each once.
Read = Callable[[Sequence[SourceFile]], dict[str, tuple[Article, list[Passage]]]]


@dataclass(frozen=True)
class Update:
    """What an add, remove or build changed: article ids by what happened to them.

    ``generation`` is the generation it wrote, None when nothing changed
    (then no generation was written). ``read`` counts the sources read and
    ingested; unchanged sources are only hashed.
    """

    added: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    read: int = 0
    generation: Optional[str] = None

    @property
    def changed(self) -> bool:
        return self.generation is not None

    def to_dict(self) -> dict[str, Any]:
        return {"added": list(self.added), "replaced": list(self.replaced),
                "removed": list(self.removed), "unchanged": len(self.unchanged),
                "read": self.read, "generation": self.generation}


@dataclass
class Plan:
    """A new generation described against the current one."""

    entries: list[Entry]  # the new catalogue, in article order
    fresh: dict[str, tuple[Article, list[Passage]]]  # article id -> newly read article
    dropped: set[str]  # article ids of the current generation whose passages go
    update: Update
    digest: Optional[str] = None  # the sources digest to record; None: from the catalogue
    compact: bool = False  # a build: merge everything when deletions pile up
    fields: dict = field(default_factory=dict)  # meta fields kept from the current build


def source_reader(progress, relative_to: Optional[Path]) -> Read:
    """Reads sources for a plan (each source once, however often plans are made)."""
    cache: dict[tuple[str, str], tuple[Article, list[Passage]]] = {}

    def read(files: Sequence[SourceFile]) -> dict[str, tuple[Article, list[Passage]]]:
        missing = [f for f in files if (f.source, f.sha256) not in cache]
        if missing:
            corpus = ingest([f.path for f in missing], progress=progress, relative_to=relative_to)
            by_article: dict[str, list[Passage]] = {a.id: [] for a in corpus.articles}
            for p in corpus.passages:
                by_article[p.article.id].append(p)
            for f, article in zip(missing, corpus.articles):
                cache[(f.source, f.sha256)] = (article, by_article[article.id])
        return {f.source: cache[(f.source, f.sha256)] for f in files}

    return read


def _unique(base: str, used: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... : the first not in ``used`` (as ingestion names)."""
    aid, n = base, 2
    while aid in used:
        aid, n = f"{base}-{n}", n + 1
    used.add(aid)
    return aid


def _named(article: Article, passages: list[Passage], aid: str,
           file: SourceFile) -> tuple[Entry, tuple]:
    article, passages = _renamed(article, passages, aid)
    return entry_from_article(article, passages, file), (article, passages)


def plan_add(files: list[SourceFile], entries: list[Entry], read: Read) -> Plan:
    # A source is the one the index holds when named the same, or when it is the same file.
    by_path = {e.resolved: e for e in entries if e.resolved}
    by_name = {e.source: e for e in entries}
    known = {f.source: by_name.get(f.source) or by_path.get(f.resolved) for f in files}
    known = {source: e for source, e in known.items() if e is not None}
    stale = [f for f in files if f.source not in known or known[f.source].sha256 != f.sha256
             or known[f.source].source != f.source]
    unchanged = tuple(known[f.source].article for f in files if f not in stale)
    found = read(stale)
    replaced_entries = {f.source: known[f.source] for f in stale if f.source in known}
    used = {e.article for e in entries} - {e.article for e in replaced_entries.values()}
    ids: dict[str, str] = {}
    # A re-added source keeps its id when its title gives the same one ...
    for f in stale:
        old = replaced_entries.get(f.source)
        if old is not None and article_id_for(found[f.source][0].title) == old.base:
            ids[f.source] = old.article
            used.add(old.article)
    # ... every other article gets its title's id, made unique as ingestion does.
    for f in stale:
        if f.source not in ids:
            ids[f.source] = _unique(article_id_for(found[f.source][0].title), used)
    new_entries: dict[str, Entry] = {}
    fresh = {}
    for f in stale:
        entry, fresh[ids[f.source]] = _named(*found[f.source], ids[f.source], f)
        new_entries[f.source] = entry
    instead = {known[f.source].article: new_entries.pop(f.source) for f in stale
               if f.source in known}
    order = [instead.get(e.article, e) for e in entries] + list(new_entries.values())
    replaced = tuple(ids[s] for s in replaced_entries)
    update = Update(added=tuple(ids[f.source] for f in stale if f.source not in known),
                    replaced=replaced, unchanged=unchanged, read=len(stale))
    return Plan(order, fresh, {e.article for e in replaced_entries.values()}, update)


def plan_remove(ids: list[str], entries: list[Entry], stored: StoredIndex) -> Plan:
    present = {e.article for e in entries}
    unknown = [aid for aid in ids if aid not in present]
    if unknown:
        what = "articles with ids" if len(unknown) > 1 else "article with id"
        raise KeyError(f"{stored.path}: no {what} {', '.join(map(repr, unknown))}; nothing was "
                       "removed. List the article ids with: clonus-index info "
                       f"--index {stored.path}")
    gone = set(ids)
    order = [e for e in entries if e.article not in gone]
    if not order:
        raise IndexStateError(f"{stored.path}: removing {len(gone)} article(s) would leave the "
                              "index empty; nothing was removed. To start again, build a new "
                              "index: clonus-index build SOURCES... --index PATH")
    return Plan(order, {}, gone, Update(removed=tuple(ids), unchanged=tuple(
        e.article for e in order)))


def plan_build(files: list[SourceFile], entries: list[Entry], read: Read, digest: str) -> Plan:
    known = {e.source: e for e in entries}
    stale = [f for f in files if f.source not in known or known[f.source].sha256 != f.sha256]
    found = read(stale)
    # Ids exactly as a whole build would give them: each title's id, in source order.
    used: set[str] = set()
    ids = {}
    for f in files:
        base = article_id_for(found[f.source][0].title) if f.source in found else \
            known[f.source].base
        ids[f.source] = _unique(base, used)
    # A kept source whose id moved (an earlier title changed) is read again, to rename it.
    moved = [f for f in files if f.source not in found and ids[f.source] != known[f.source].article]
    found.update(read(moved))
    entries_out, fresh = [], {}
    for f in files:
        if f.source in found:
            entry, fresh[ids[f.source]] = _named(*found[f.source], ids[f.source], f)
        else:
            entry = known[f.source]
        entries_out.append(entry)
    kept = {f.source for f in files if f.source not in found}
    dropped = {e.article for e in entries if e.source not in kept}
    given = {f.source for f in files}
    update = Update(
        added=tuple(ids[f.source] for f in stale if f.source not in known),
        replaced=tuple(ids[f.source] for f in files
                       if f.source in found and f.source in known),
        removed=tuple(e.article for e in entries if e.source not in given),
        unchanged=tuple(ids[s] for s in kept), read=len(stale) + len(moved))
    plan = Plan(entries_out, fresh, dropped, update, digest=digest, compact=True,
                 fields={"built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    return plan
