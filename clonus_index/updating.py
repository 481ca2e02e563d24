"""Incremental updates: add, replace and remove articles without rebuilding the index.

Beside ``index.py``, which writes whole generations. An update writes a new
generation too, published by the same atomic swap, but does not rewrite the
Whoosh index: its segment files never change once written, so the new
generation hard-links them (or copies them where links cannot be made),
marks the documents of replaced or removed articles deleted, adds the new
ones as a new segment and commits without merging anything large. The
articles file is rewritten by copying the unchanged articles' lines as they
are, and the metadata is recomputed from the sources catalogue
(``catalogue.py``), never from every passage. A build into an index that
this same code wrote re-reads only the sources whose bytes changed.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import time
from pathlib import Path
from typing import Callable, Iterable, Optional

from whoosh import index as whoosh_index
from whoosh.reading import SegmentReader
from whoosh.writing import OPTIMIZE

from . import __version__
from .article_store import write_articles
from .catalogue import Entry, SourceFile, digest_of, read_catalogue, scan_sources, write_catalogue
from .errors import ClonusIndexError, IndexStateError, IngestError
from .bundled import default_index_dir, source_list
from .index import (ARTICLE_OFFSETS, ARTICLES, BUILD_LOCK_WAIT, SCHEMA_VERSION, StoredIndex,
                    add_passages, code_digest, has_vectors, locked, publish_generation,
                    read_index, write_index, write_meta)
from .index_folder import current_generation, folder_kind
from .pipeline import ingest
from .update_plans import Plan, Read, Update, plan_add, plan_build, plan_remove, source_reader

__all__ = ["Update", "add_sources", "remove_articles", "build_sources", "BUNDLED_MESSAGE",
           "MERGE_FACTOR", "MERGE_MAX_DOCS", "COMPACT_DELETED", "COMPACT_SEGMENTS"]

#: Small segments of about the same size are merged this many at a time ...
MERGE_FACTOR = 8
#: ... when each holds fewer passages than this: an update's merge touches at
#: most ``MERGE_FACTOR * MERGE_MAX_DOCS`` passages, never the large segments.
MERGE_MAX_DOCS = 512
#: A build merges every segment (dropping deleted passages for good) when
#: more than this share of the stored passages are deleted ones ...
COMPACT_DELETED = 0.25
#: ... or when the index has more segments than this.
COMPACT_SEGMENTS = 24
#: Whoosh's own lock file, which a new generation must not share.
_WHOOSH_LOCK = "MAIN_WRITELOCK"

BUNDLED_MESSAGE = ("the bundled article's index is rebuilt from the bundled article and cannot "
                   "be changed; make your own with: clonus-index build SOURCES... --with-bundled "
                   "--index PATH, then add to that one")


# --------------------------------------------------------------------------
# The entry points
# --------------------------------------------------------------------------

def add_sources(path: str | Path, sources: Iterable[str | Path] | str | Path,
                progress: Optional[Callable[[Path], None]] = None,
                lock_wait: float = BUILD_LOCK_WAIT) -> Update:
    """Add the articles of ``sources`` to the index at ``path``, replacing those they re-add.

    A source already in the index (the same recorded source name) replaces
    its article; it keeps its article id when its title gives the same id.
    A source whose bytes did not change is left alone, and when nothing
    changed no generation is written. A source that cannot be read raises
    ``IngestError`` and nothing is changed.
    """
    path = Path(path)
    _refuse_bundled(path)
    try:
        files = scan_sources([sources] if isinstance(sources, (str, Path)) else sources)
        if not files:
            raise IngestError("no sources given; name .txt or .html files or folders of them")
        if has_vectors(path):  # new passages need their vectors: fail before reading
            from .fusion import require_extra
            require_extra(path, inherited=True)
        return _run(path, lambda stored, entries, read: plan_add(files, entries, read),
                    source_reader(progress, None), lock_wait)
    except IngestError as exc:
        raise IngestError(f"{exc}; nothing was added") from None


def remove_articles(path: str | Path, article_ids: Iterable[str],
                    lock_wait: float = BUILD_LOCK_WAIT) -> Update:
    """Remove the articles with these ids from the index at ``path``.

    An unknown id raises ``KeyError`` naming it, and nothing is changed.
    """
    path = Path(path)
    _refuse_bundled(path)
    ids = list(dict.fromkeys([article_ids] if isinstance(article_ids, str) else article_ids))
    if not ids:
        raise KeyError("name the articles to remove by id; list them with: clonus-index info")
    return _run(path, lambda stored, entries, read: plan_remove(ids, entries, stored),
                source_reader(None, None), lock_wait)


def build_sources(path: str | Path, sources: Iterable[str | Path] | str | Path,
                  progress: Optional[Callable[[Path], None]] = None,
                  with_bundled: bool = False, semantic: Optional[bool] = None) -> Update:
    """Build the index at ``path`` from ``sources``, re-reading only what changed.

    Into an index that this very code built (same schema, same library
    code), only sources that are new or whose bytes changed are read again;
    articles whose source is no longer given are dropped, and the rest are
    kept as they are. Otherwise (a new folder, an index from other code) every
    source is read and a whole new index is written; so it is when
    ``semantic`` asks for passage vectors the index lacks, or for none when
    it has them (None keeps what it has). Either way the result is a new
    generation swapped in atomically, or no change at all.
    """
    path = Path(path)
    with source_list(sources, with_bundled) as (sources, relative_to):
        files = scan_sources(sources, relative_to)
        if not files:
            raise IngestError("no sources given; name .txt or .html files or folders of them")
        digest = digest_of((f.path.name, f.sha256) for f in files)
        if _reusable(path) and semantic in (None, has_vectors(path)):
            return _run(path, lambda stored, entries, read: plan_build(files, entries, read, digest),
                        source_reader(progress, relative_to), BUILD_LOCK_WAIT)
        return _full_build(path, sources, files, digest, progress, relative_to, semantic)


def _full_build(path: Path, sources: list, files: list[SourceFile], digest: str, progress,
                relative_to: Optional[Path], semantic: Optional[bool]) -> Update:
    corpus = ingest(sources, progress=progress, relative_to=relative_to)
    write_index(corpus, path, sources_digest=digest, files=files, semantic=semantic)
    ids = tuple(a.id for a in corpus.articles)
    return Update(added=ids, read=len(files), generation=current_generation(path))


# --------------------------------------------------------------------------
# Applying a plan: a new generation
# --------------------------------------------------------------------------

def _refuse_bundled(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.resolve() == default_index_dir().resolve():
            raise IndexStateError(f"{path}: {BUNDLED_MESSAGE}")


def _reusable(path: Path) -> bool:
    """The index at ``path`` was built by this very code and records its sources."""
    try:
        if folder_kind(path) != "index":
            return False
        stored = read_index(path)
    except ClonusIndexError:
        return False
    try:
        meta = stored.meta
        return (meta.get("code_hash") == code_digest() and meta.get("library_version") == __version__
                and read_catalogue(stored.generation) is not None)
    finally:
        stored.close()


def _state(path: Path) -> tuple[StoredIndex, list[Entry]]:
    stored = read_index(path)
    entries = read_catalogue(stored.generation)
    if entries is None:
        stored.close()
        raise IndexStateError(f"{path}: this index does not record its sources (it was built "
                              "by an older clonus_index); build it again once with: clonus-index "
                              f"build SOURCES... --index {path}")
    return stored, entries


def _run(path: Path, planner: Callable[[StoredIndex, list[Entry], Read], Plan], read: Read,
         lock_wait: float) -> Update:
    """Plan against the current generation (reading sources unlocked), then apply it locked.

    If another writer swapped generations in between, the plan is made again
    against the new one (sources already read are not read again).
    """
    stored, entries = _state(path)
    try:
        plan = planner(stored, entries, read)
        with locked(path, lock_wait):
            if current_generation(path) != stored.generation.name:
                stored.close()
                stored, entries = _state(path)
                plan = planner(stored, entries, read)
            if not plan.fresh and not plan.dropped:
                return plan.update
            name = publish_generation(path, lambda tmp: _write(tmp, stored, plan))
    finally:
        stored.close()
    return Update(**{**plan.update.__dict__, "generation": name})


def _write(tmp: Path, stored: StoredIndex, plan: Plan) -> None:
    """Fill the new generation ``tmp`` from the current one, ``stored``, and ``plan``."""
    previous = stored.generation
    _link_segments(previous, tmp)
    ix = whoosh_index.open_dir(str(tmp))
    writer = ix.writer()
    try:
        for aid in sorted(plan.dropped):
            writer.delete_by_term("article_id", aid)
        passages = [p for e in plan.entries if e.article in plan.fresh
                    for p in plan.fresh[e.article][1]]
        add_passages(writer, passages)
        compact = plan.compact and _worth_compacting(writer.segments)
    except BaseException:
        writer.cancel()
        raise
    writer.commit(mergetype=OPTIMIZE if compact else merge_small)
    ix.close()
    write_articles(tmp / ARTICLES, tmp / ARTICLE_OFFSETS,
                   [plan.fresh[e.article][0] if e.article in plan.fresh
                    else (e.article, stored.articles.line(e.article)) for e in plan.entries])
    write_catalogue(tmp, plan.entries)
    kept = {k: stored.meta[k] for k in ("schema_version", "library_version", "code_hash", "built")
            if k in stored.meta}
    digest = plan.digest or digest_of((e.source, e.sha256) for e in plan.entries)
    write_meta(tmp, plan.entries, digest, **{**kept, **plan.fields,
                                             "schema_version": SCHEMA_VERSION,
                                             "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                      time.gmtime())})
    _carry_vectors(previous, tmp, stored, plan)


def _link_segments(previous: Path, tmp: Path) -> None:
    """Hard-link the previous generation's Whoosh files into ``tmp`` (copy where links fail).

    Whoosh never changes a segment or table-of-contents file once written
    (deletions go into the next table of contents), so both generations can
    share them.
    """
    for entry in os.scandir(previous):
        name = entry.name
        if (name.startswith(("MAIN_", "_MAIN_")) and name != _WHOOSH_LOCK
                and entry.is_file(follow_symlinks=False)):
            try:
                os.link(entry.path, tmp / name)
            except OSError:
                shutil.copy2(entry.path, tmp / name)


def _tier(docs: int) -> int:
    return int(math.log(max(docs, 1), MERGE_FACTOR))


def merge_small(writer, segments: list) -> list:
    """Whoosh merge policy of updates: merge ``MERGE_FACTOR`` small segments of one size tier.

    Only segments under ``MERGE_MAX_DOCS`` passages are ever merged, so an
    update never rewrites the large segments a build made, and repeated
    updates do not pile up segments without bound.
    """
    tiers: dict[int, list] = {}
    for seg in segments:
        if seg.doc_count_all() < MERGE_MAX_DOCS:
            tiers.setdefault(_tier(seg.doc_count_all()), []).append(seg)
    group = next((g for _, g in sorted(tiers.items()) if len(g) >= MERGE_FACTOR), None)
    if group is None:
        return segments
    for seg in group:
        segment = SegmentReader(writer.storage, writer.schema, seg)
        writer.add_reader(segment)
        segment.close()
    return [s for s in segments if s not in group]


def _worth_compacting(segments: list) -> bool:
    stored = sum(s.doc_count_all() for s in segments)
    deleted = sum(s.deleted_count() for s in segments)
    return len(segments) > COMPACT_SEGMENTS or (stored and deleted / stored > COMPACT_DELETED)


def _carry_vectors(previous: Path, tmp: Path, stored: StoredIndex, plan: Plan) -> None:
    """Carry the previous generation's passage vectors over, updated, when it has them."""
    from .semantic import VECTORS_META
    if not (previous / VECTORS_META).is_file():
        return
    from .semantic import VectorStore, document_digest, passage_document, shared_encoder
    counts = stored.meta.get("article_passages", {})
    gone = [f"{aid}-p{n}" for aid in plan.dropped for n in range(counts.get(aid, 0))]
    vectors = VectorStore.open(previous).remove(gone)
    passages = [p for article, found in plan.fresh.values() for p in found]
    if passages:
        documents = [passage_document(p) for p in passages]
        vectors = vectors.add([p.id for p in passages], shared_encoder().encode(documents),
                              [document_digest(d) for d in documents])
    vectors.save(tmp)
