"""Index storage: the Whoosh schema, atomic builds, and opening a generation.

After ingestion, before search. An index folder holds numbered generations;
a build writes a complete new generation and then swaps the ``CURRENT``
pointer in one atomic rename, so a reader only ever opens a finished index.
Builders take an exclusive lock; a crashed build leaves only a stray
``.tmp`` folder that the next build removes. What makes a folder an index,
and what may be removed from one, is in ``index_folder.py``; the bundled
article's index is in ``bundled.py``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional, Sequence

from whoosh import index as whoosh_index
from whoosh.analysis import LanguageAnalyzer, StandardAnalyzer
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from . import __version__
from .errors import (ClonusIndexError, IndexDamagedError, IndexNotFoundError, IndexVersionError,
                     IndexWriteError)
from .index_folder import (CURRENT, cleanup as _cleanup,
                           current_generation as _current_generation, folder_kind,
                           fsync_dir as _fsync_dir, is_generation_name, lease_generation,
                           new_generation_name, read_pointer, writing)
from .article_store import ArticleStore, write_articles
from .catalogue import Entry, SourceFile, derived_meta, entries_for, write_catalogue
from .pipeline import Corpus, write_atomic
from .ranking import SEARCHED_FIELDS, Signals, passage_signals
from .whoosh_postings import write_postings
from .models import Article, Passage, ReferenceLink
from .reading import iter_sources
from .sections import kind_of
from .semantic import VectorStore, write_vectors

__all__ = ["SCHEMA_VERSION", "FIELD_BOOSTS", "make_schema", "StoredIndex", "write_index",
           "read_index", "sources_hash", "BUILD_LOCK_WAIT", "code_digest", "publish_generation",
           "write_meta", "add_passages", "locked", "has_vectors"]

#: Bump when the schema or the stored record shapes change; older indexes then
#: ask to be rebuilt instead of answering wrongly.
SCHEMA_VERSION = 3
#: BM25F field weights: a term in a (sub)section heading says more about a
#: passage than the same term in its running text; the title says least,
#: because every passage of an article shares it.
FIELD_BOOSTS = {"text": 1.0, "subsection": 2.0, "section": 1.5, "title": 0.5}
#: How long a builder waits for another build of the same index to finish.
BUILD_LOCK_WAIT = 120.0
#: How long opening retries while a concurrent swap or commit settles.
OPEN_RETRY_SECONDS = 2.0

META = "meta.json"
ARTICLES = "articles.jsonl"
ARTICLE_OFFSETS = "articles.offsets.json"


def make_schema() -> Schema:
    """The passage schema. ``text`` is stemmed with Snowball English (not Porter,
    which turns "running" into "runn"); ``words`` keeps the surface words for
    spelling suggestions; ``data`` stores the whole passage record and
    ``signals`` what the re-ranking needs of it (see ``ranking.Signals``)."""
    stemmed = LanguageAnalyzer("en")
    return Schema(
        id=ID(stored=True, unique=True),
        article_id=ID(stored=True),
        section_key=KEYWORD(stored=True, lowercase=True, commas=True),
        position=NUMERIC(stored=True),
        text=TEXT(analyzer=stemmed, chars=True),
        section=TEXT(analyzer=stemmed),
        subsection=TEXT(analyzer=stemmed),
        title=TEXT(analyzer=stemmed),
        words=TEXT(analyzer=StandardAnalyzer(stoplist=None, minsize=2), phrase=False),
        data=STORED(),
        signals=STORED(),
    )


def section_keys(passage: Passage) -> str:
    """Lower-cased names a ``section=`` filter may use: the section and its kind.

    The kind is the one ingestion decided (``passage.kind``); a passage made
    without one falls back to the kind its section's name gives.
    """
    kind = passage.kind or kind_of(passage.section)
    return ",".join(sorted({passage.section.lower(), kind.lower()}))


@dataclass
class StoredIndex:
    """An opened generation: the Whoosh index, the articles and the build metadata."""

    path: Path
    generation: Path
    ix: object
    articles: ArticleStore
    meta: dict
    lease: int = -1  # a shared lock that keeps builds from removing this generation

    def close(self) -> None:
        """Let go of the articles file and of the generation's lease."""
        self.articles.close()
        lease, self.lease = self.lease, -1
        if lease >= 0:
            os.close(lease)

    def __del__(self) -> None:  # an index dropped unclosed must not pin its generation
        self.close()


def sources_hash(paths: Iterable[str | Path]) -> str:
    """A digest of the sources' names and bytes, to tell when an index is stale."""
    digest = hashlib.sha256()
    for path in iter_sources(paths):
        digest.update(os.fsencode(path.name) + b"\0")  # any bytes, UTF-8 or not
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------

def write_index(corpus: Corpus, path: str | Path, sources_digest: str = "",
                lock_wait: float = BUILD_LOCK_WAIT,
                storage_hook: Optional[Callable[[Path], None]] = None,
                files: Optional[Sequence[SourceFile]] = None,
                semantic: Optional[bool] = None) -> Path:
    """Write ``corpus`` as a new generation of the index at ``path`` and swap it in.

    The new generation is built in ``gen-<id>.tmp``, renamed to ``gen-<id>``
    when complete, and published by atomically replacing ``CURRENT``. Until
    that last rename, readers see the previous index; if anything fails, the
    unfinished folder is removed and the previous index stays as it was.
    ``storage_hook`` runs after the Whoosh commit, before the swap (tests use
    it to inject faults). ``files`` are the source files the articles came
    from, with their hashes, so a later build re-reads only what changed.
    ``semantic`` writes the passage vectors into the new generation too
    (``semantic.write_vectors``, reusing the previous generation's unchanged
    ones); None keeps what the previous generation had.
    """
    path = Path(path)
    with locked(path, lock_wait):
        _write_generation(corpus, path, sources_digest, storage_hook, files, semantic)
    return path


@contextlib.contextmanager
def locked(path: Path, lock_wait: float = BUILD_LOCK_WAIT) -> Iterator[None]:
    """Hold the build lock of the index at ``path`` (made an index folder if need be).

    A folder, marker or lock that cannot be made (read-only) is an
    ``IndexWriteError`` saying nothing was changed.
    """
    try:
        with writing(path, lock_wait):
            yield
    except OSError as exc:
        if isinstance(exc, ClonusIndexError):
            raise
        reason = exc.strerror or str(exc)
        raise IndexWriteError(f"{path}: could not write the index ({reason}); nothing was "
                              "changed. Choose another folder with --index PATH", reason) from None


def _write_generation(corpus: Corpus, path: Path, sources_digest: str,
                      storage_hook: Optional[Callable[[Path], None]] = None,
                      files: Optional[Sequence[SourceFile]] = None,
                      semantic: Optional[bool] = False) -> None:
    """The body of a build; the caller holds the build lock.

    ``files`` are the articles' source files, for the generation's sources
    catalogue (see ``catalogue.py``).
    """
    previous = _current_generation(path)
    if semantic is None:
        semantic = has_vectors(path)

    def fill(tmp: Path) -> None:
        ix = whoosh_index.create_in(str(tmp), make_schema())
        writer = ix.writer()
        try:
            add_passages(writer, corpus.passages)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        analyzer = ix.schema["text"].analyzer
        ix.close()
        write_postings(tmp, [p.id for p in corpus.passages],
                       [_field_values(p) for p in corpus.passages], SEARCHED_FIELDS,
                       lambda text: ((t.text, t.pos) for t in analyzer(text, positions=True,
                                                                        mode="index")))
        write_articles(tmp / ARTICLES, tmp / ARTICLE_OFFSETS, corpus.articles)
        if semantic:
            write_vectors(tmp, corpus.passages, previous=path / previous if previous else None)
        entries = entries_for(corpus, files)
        write_catalogue(tmp, entries)
        write_meta(tmp, entries, sources_digest)

    publish_generation(path, fill, storage_hook)


def add_passages(writer, passages: Sequence[Passage]) -> None:
    """Add ``passages`` (whole articles, in reading order) to a Whoosh writer, with their signals."""
    analyzer = writer.schema["text"].analyzer
    signals = passage_signals(passages, lambda p: section_keys(p).split(","),
                              lambda text: [t.text for t in analyzer(text, mode="query")])
    for passage, signal in zip(passages, signals):
        writer.add_document(**_document(passage, signal))


def write_meta(folder: Path, entries: Sequence[Entry], sources_digest: str,
               **fields) -> None:
    """The generation's ``meta.json``: versions, counts and what opening it needs.

    What opening needs (sections, passages per article, abbreviations) is
    derived from the catalogue ``entries``, so that an update recomputes it
    without reading every article; ``fields`` override the version fields
    (an update keeps those of the build it changes).
    """
    _write_json(folder / META, {
        "schema_version": SCHEMA_VERSION, "library_version": __version__,
        "code_hash": code_digest(), "sources_hash": sources_digest,
        "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **fields, **derived_meta(entries)})


def publish_generation(path: Path, fill: Callable[[Path], None],
                       storage_hook: Optional[Callable[[Path], None]] = None) -> str:
    """Make a new generation of the index at ``path`` with ``fill`` and swap it in.

    ``fill`` writes every file of the generation into the folder it is
    given (``gen-<id>.tmp``); that folder is then renamed to ``gen-<id>`` and
    published by atomically replacing ``CURRENT``. The caller holds the build
    lock. If anything fails the unfinished folder is removed and the previous
    generation stays current. Returns the new generation's name.
    """
    previous = _current_generation(path)
    _cleanup(path, keep={previous} if previous else set())
    name = new_generation_name(time.strftime("%Y%m%d%H%M%S"), uuid.uuid4().hex[:8])
    tmp = path / f"{name}.tmp"
    try:
        tmp.mkdir()
        fill(tmp)
        if storage_hook:
            storage_hook(tmp)
        os.rename(tmp, path / name)
        _fsync_dir(path)
        write_atomic(path / CURRENT, [name])  # via ".CURRENT.<random>", which _cleanup knows
        _fsync_dir(path)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        _cleanup(path, keep={g for g in (previous, _current_generation(path)) if g})
        if isinstance(exc, OSError) and not isinstance(exc, ClonusIndexError):
            state = "the previous index is unchanged" if previous else "nothing was written"
            reason = exc.strerror or str(exc)
            raise IndexWriteError(
                f"{path}: could not write the index ({reason}); {state}. "
                "Free some space, or choose another folder with --index PATH", reason) from None
        raise
    # Keep the previous generation one build longer: a reader that read
    # CURRENT just before the swap may still be opening it.
    _cleanup(path, keep={name} | ({previous} if previous else set()))
    return name


def _field_values(passage: Passage) -> dict[str, str]:
    """The searched fields of a passage, as indexed (and as the postings arrays hold them)."""
    return dict(text=passage.text, section=passage.section, subsection=passage.subsection or "",
                title=passage.article.title)


def has_vectors(path: str | Path) -> bool:
    """Whether the current generation of the index at ``path`` has passage vectors."""
    name = _current_generation(Path(path))
    return name is not None and VectorStore.exists(Path(path) / name)


def _document(passage: Passage, signals: Signals) -> dict:
    article = passage.article
    return dict(
        id=passage.id, article_id=article.id, position=passage.position,
        section_key=section_keys(passage), **_field_values(passage),
        words=" ".join(x for x in (passage.text, passage.subsection or "", passage.section) if x),
        data=json.dumps(passage.to_dict(), ensure_ascii=False),
        signals=json.dumps(signals.to_dict(), ensure_ascii=False, separators=(",", ":")),
    )


def _write_json(path: Path, data) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, ensure_ascii=False))  # json.dump encodes piece by piece, slowly
        fh.flush()
        os.fsync(fh.fileno())


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------

def _rebuild_hint(path: Path) -> str:
    return f"rebuild it with: clonus-index build SOURCES... --index {path}"


#: For a path that a build would refuse too (see ``index_folder.prepare_folder``): no
#: "rebuild it with" there, since that command would fail.
_ELSEWHERE = "choose another --index path (to make an index, build into a new or empty folder)"


def read_index(path: str | Path, generation: Optional[str] = None) -> StoredIndex:
    """Open the current generation of the index at ``path`` (or the one named ``generation``).

    Retries briefly when a concurrent build swaps generations under us (the
    rare ``FileNotFoundError``), then reports a missing, damaged or
    incompatible index with the command that fixes it.
    """
    path = Path(path)
    kind = folder_kind(path)
    if kind == "missing":
        if path.is_symlink():
            raise IndexNotFoundError(f"{path}: is a symbolic link to {os.readlink(path)}, "
                                     f"which does not exist; {_ELSEWHERE}")
        raise IndexNotFoundError(f"{path}: no index here; build one with: "
                                 f"clonus-index build SOURCES... --index {path}")
    if kind == "file":
        raise IndexDamagedError(f"{path}: is a file, not an index folder; {_ELSEWHERE}")
    if kind == "empty":
        raise IndexNotFoundError(f"{path}: folder is empty; {_rebuild_hint(path)}")
    if kind == "foreign":
        raise IndexNotFoundError(f"{path}: folder is not a clonus_index index; {_ELSEWHERE}")
    deadline = time.monotonic() + OPEN_RETRY_SECONDS
    while True:
        try:
            return _read_generation(path, generation)
        except FileNotFoundError as exc:
            if read_pointer(path) is None:  # a first build that never finished
                raise IndexNotFoundError(f"{path}: folder holds no finished index; "
                                         f"{_rebuild_hint(path)}") from None
            if time.monotonic() >= deadline:
                raise IndexDamagedError(f"{path}: index files are missing ({exc.filename or exc}); "
                                        f"{_rebuild_hint(path)}") from None
            time.sleep(0.02)


def _read_generation(path: Path, generation: Optional[str] = None) -> StoredIndex:
    name = generation or read_pointer(path)
    if name is None:
        raise FileNotFoundError(str(path / CURRENT))
    if not is_generation_name(name):  # "../elsewhere", "/etc", anything not ours
        raise IndexDamagedError(f"{path}: {CURRENT} names no generation of this index "
                                f"({name[:60]!r}); {_rebuild_hint(path)}")
    gen = path / name
    try:
        meta = json.loads((gen / META).read_text("utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise IndexDamagedError(f"{path}: index metadata is unreadable ({exc}); "
                                f"{_rebuild_hint(path)}") from None
    if not isinstance(meta, dict):
        raise IndexDamagedError(f"{path}: index metadata ({name}/{META}) is not a JSON object; "
                                f"{_rebuild_hint(path)}")
    version = meta.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise IndexDamagedError(f"{path}: index metadata has no valid schema version "
                                f"({version!r}); {_rebuild_hint(path)}")
    if version != SCHEMA_VERSION:
        raise IndexVersionError(
            f"{path}: index has schema version {version}, this clonus_index reads version "
            f"{SCHEMA_VERSION}; {_rebuild_hint(path)}")
    lease = lease_generation(gen)  # FileNotFoundError when a build is removing it: retried
    try:
        return _open_generation(path, name, gen, meta, lease)
    except BaseException:
        os.close(lease)
        raise


def _open_generation(path: Path, name: str, gen: Path, meta: dict, lease: int) -> StoredIndex:
    try:
        articles = ArticleStore.open(gen / ARTICLES, gen / ARTICLE_OFFSETS,
                                     f"{path}: index articles are unreadable; "
                                     + _rebuild_hint(path))
        ix = whoosh_index.open_dir(str(gen), readonly=True)
        # Open every segment now and read a record and a term of each, so a
        # missing or truncated file fails here with a clear message instead
        # of in the middle of a search, without reading the whole index.
        with ix.searcher() as searcher:
            for reader, _ in searcher.reader().leaf_readers():
                if reader.doc_count_all():
                    reader.stored_fields(0)
                    reader.stored_fields(reader.doc_count_all() - 1)
                next(iter(reader.lexicon("text")), None)
    except FileNotFoundError:
        if _current_generation(path) != name:
            raise  # swapped while we opened: retry the new one
        raise IndexDamagedError(f"{path}: index files are missing; {_rebuild_hint(path)}") from None
    except IndexVersionError:
        raise
    except Exception as exc:  # Whoosh raises many types on damaged files
        raise IndexDamagedError(f"{path}: index is damaged ({type(exc).__name__}); "
                                f"{_rebuild_hint(path)}") from None
    return StoredIndex(path=path, generation=gen, ix=ix, articles=articles, meta=meta, lease=lease)


def passage_from_stored(fields: dict, articles: Mapping[str, Article]) -> Passage:
    """Rebuild a ``Passage`` from its stored record and its article."""
    data = json.loads(fields["data"])
    return passage_from_record(data, articles[data["article_id"]])


def passage_from_record(data: dict, article: Article) -> Passage:
    """A ``Passage`` from its ``to_dict()`` record; a record without a kind
    (stored before passages had one) gets the kind its section's name gives."""
    return Passage(
        id=data["id"], article=article, position=data["position"],
        section=data["section"], subsection=data["subsection"], text=data["text"],
        start=data["start"], end=data["end"],
        links=tuple(ReferenceLink(r["id"], r["score"], tuple(r.get("terms", ())))
                    for r in data["references"]),
        kind=data.get("kind") or kind_of(data["section"]),
    )


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A hash of the package's modules and data files: what turns articles into an index.

    The bundled index is rebuilt when it changes, so an install from a newer
    checkout under the same version number never answers from passages cut
    by older code.
    """
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted([*package.glob("*.py"), *(package / "data").glob("*.json")]):
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]
