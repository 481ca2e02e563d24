"""Search: ranked, highlighted, cited passages from an index.

The last stage before output, and the API around it. A query is planned
(``planning``), run by the index's backend (``whoosh_backend`` or
``opensearch_backend``, through the ``backend.Backend`` protocol), and its
candidates re-ranked (``ranking``); this module wires them together and
turns what comes back into ``Hit`` records, whatever the engine.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Optional

from .backend import Backend
from .errors import IndexStateError, QueryError
from .bundled import bundled_index
from .fusion import (GenerationVectors, fused_page, lexical_confidence, require_extra,
                     semantic_rank)
from .index import StoredIndex, has_vectors, read_index
from . import opensearch_connection, semantic as semantic_stage
from .models import Article, Hit, Passage
from .planning import Plan, fuzzy_words, make_plan
from .query import MAX_RESULTS, synonym_table, validate
from .ranking import Candidate, explanation, matched_terms, rerank, with_topics
from .search_pool import MAX_WORKERS, SearchPool
from .updating import BUNDLED_MESSAGE, Update, build_sources
from .whoosh_backend import (MAX_BOOST, MAX_EXPANDED_POSTINGS, MAX_EXPANSIONS, MAX_FUZZY_DISTANCE,
                             MAX_QUERY_TERMS, MAX_TERMS, WhooshBackend)

__all__ = ["Index", "Results", "open_index", "build_index", "search", "SEARCH_SECONDS",
           "MAX_EXPANSIONS", "MAX_FUZZY_DISTANCE", "MAX_QUERY_TERMS", "MAX_TERMS",
           "MAX_EXPANDED_POSTINGS", "MAX_BOOST", "MAX_RESULTS", "DEFAULT_LIMIT", "CANDIDATES",
           "MAX_WORKERS"]

#: A query-language search stops collecting after this long and returns what
#: it has: a safety net for hostile input. Plain questions (and their fuzzy
#: last resort) are bounded by the caps on terms and postings alone, so their
#: answer never depends on machine load.
SEARCH_SECONDS = 2.0
#: How many first-stage candidates the re-ranking looks at. When a page
#: reaches further, the hits after these keep their first-stage order, so
#: that pages (``offset``) follow each other.
CANDIDATES = 50
#: How many hits are returned when no limit is given (API and CLI alike).
DEFAULT_LIMIT = 10


class Results(list):
    """The hits of one search, best first, plus how the query was understood.

    A plain ``list`` of ``Hit`` to iterate over; ``corrected_query`` is the
    query with spelling corrections, or None when nothing was corrected.
    """

    def __init__(self, hits: Iterable[Hit], query: str, corrected_query: Optional[str],
                 parsed: str, section: Optional[str], article: Optional[str] = None,
                 offset: int = 0, semantic: bool = False):
        super().__init__(hits)
        self.query = query
        self.corrected_query = corrected_query
        self.parsed = parsed
        self.section = section
        self.article = article
        self.offset = offset
        #: Whether the semantic stage ranked these hits with the lexical ranker.
        self.semantic = semantic

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"query": self.query, "corrected_query": self.corrected_query}
        if self.section:
            data["section"] = self.section
        if self.article:
            data["article"] = self.article
        if self.offset:
            data["offset"] = self.offset
        if self.semantic:
            data["semantic"] = True
        data["hits"] = [h.to_dict() for h in self]
        return data


class Index:
    """An opened index: search it, list or fetch its passages.

    Get one with :func:`open_index` or :func:`build_index`. One ``Index``
    serves any number of threads at once (each thread searches with its own
    searcher); :meth:`refresh` switches to a newer build. The same class
    serves a Whoosh folder and an OpenSearch index: only its backend differs.
    With ``workers=N`` a Whoosh index's searches run in N worker processes
    (see ``search_pool``), so that threads searching at once use several cores.
    """

    def __init__(self, backend: Backend | StoredIndex, bundled: bool = False, workers: int = 0):
        self._bundled = bundled  # the bundled article's index: rebuilt, never updated
        self._closed = False
        self._refresh_lock = threading.Lock()
        self._retired: list[Backend] = []
        if isinstance(backend, StoredIndex):
            backend = WhooshBackend(backend)
        self._backend: Backend = backend
        self._pool: Optional[SearchPool] = None
        if workers and isinstance(backend, WhooshBackend):
            try:
                self._pool = SearchPool(backend.stored.path, workers,
                                        backend.stored.generation.name)
            except BaseException:
                self._backend.close()
                raise
        self._vectors = GenerationVectors()

    @property
    def _stored(self) -> StoredIndex:
        """The opened Whoosh generation (Whoosh indexes only)."""
        return self._backend.stored  # type: ignore[attr-defined]

    # -- introspection -------------------------------------------------------

    @property
    def path(self) -> Path | str:
        """The index folder, or the ``opensearch://`` URL."""
        return self._backend.location

    @property
    def generation(self) -> str:
        """The build served: a generation folder's name, or an OpenSearch physical index."""
        return self._backend.generation

    @property
    def meta(self) -> dict:
        """Build metadata: schema version, sources hash, counts, build time."""
        return dict(self._backend.meta)

    def __len__(self) -> int:
        return len(self._backend)

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{self._backend.meta.get('passages')} passages"
        return (f"<Index {str(self.path)!r} {self._backend.generation} "
                f"{len(self._backend.articles)} article(s), {state}>")

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Release the index files. Searching a closed index raises ``IndexStateError``."""
        with self._refresh_lock:
            self._closed = True
            if self._pool is not None:
                self._pool.close()
            for backend in [self._backend, *self._retired]:
                backend.close()
            self._retired.clear()

    def _check_open(self) -> None:
        if self._closed:
            raise IndexStateError(f"{self.path}: this index was closed; open it again with "
                                  "clonus_index.open_index(PATH)")

    def refresh(self) -> bool:
        """Serve the index's newest generation if a build replaced it since it was opened.

        Returns True when it switched to a new generation, False when the
        generation served is still the current one. Searches already running
        finish on the generation they started on.
        """
        self._check_open()
        if self._backend.newest() in (None, self._backend.generation):
            return False
        backend = self._backend.reopen()
        with self._refresh_lock:
            self._check_open()
            self._retired.append(self._backend)  # closed with the index: a search may use it
            self._backend = backend
        return True

    # -- updates -----------------------------------------------------------------

    def add(self, sources: Iterable[str | Path] | str | Path, progress=None) -> Update:
        """Add the articles of ``sources`` (files and folders of .txt/.html), replacing re-added ones.

        A source already in the index replaces its article, which keeps its
        id when its title is the same; an unchanged source is skipped. The
        change is a new generation, swapped in atomically (other readers see
        it after :meth:`refresh`); this ``Index`` serves it on return.
        Returns what changed (an ``Update``). Raises ``IngestError`` when a
        source cannot be read, and then nothing is changed.
        """
        self._check_writable()
        update = self._backend.add(sources, progress=progress)
        self.refresh()
        return update

    def remove(self, article_ids: Iterable[str] | str) -> Update:
        """Remove the articles with these ids (see :meth:`articles`), atomically.

        Raises ``KeyError`` naming an unknown id, and then nothing is changed.
        """
        self._check_writable()
        update = self._backend.remove(article_ids)
        self.refresh()
        return update

    def _check_writable(self) -> None:
        self._check_open()
        if self._bundled:
            raise IndexStateError(BUNDLED_MESSAGE)

    def articles(self) -> list[Article]:
        return list(self._backend.articles.values())

    def sections(self) -> list[str]:
        """Section names in reading order."""
        return list(self._backend.meta["sections"])

    def passages(self) -> list[Passage]:
        """Every passage, articles in source order, passages in reading order."""
        return list(self._backend.passages())

    def get(self, passage_id: str) -> Passage:
        """The passage with this id; ``KeyError`` when there is none."""
        backend = self._backend
        docnum = backend.find(passage_id) if isinstance(passage_id, str) else None
        if docnum is None:
            raise KeyError(f"no passage with id {passage_id!r}; list ids with: "
                           "clonus-index passages")
        return backend.passage(docnum)

    def info(self) -> dict[str, Any]:
        """What the index holds and where it lives (the ``info`` command's data)."""
        meta = self._backend.meta
        counts = meta["article_passages"]
        return {
            "path": str(self.path), "generation": self._backend.generation,
            "schema_version": meta.get("schema_version"),
            "library_version": meta.get("library_version"), "built": meta.get("built"),
            "sources_hash": meta.get("sources_hash"), "passages": len(self),
            "references": sum(len(a.references) for a in self.articles()),
            "sections": self.sections(),
            "semantic": self._semantic_info(),
            "articles": [{"id": a.id, "title": a.title, "source": a.source,
                          "passages": counts.get(a.id, 0), "references": len(a.references)}
                         for a in self.articles()],
        }

    def _semantic_info(self) -> Optional[dict[str, Any]]:
        """The stored passage vectors (model, count) and whether searches use them; None without."""
        if self._backend.folder is None:
            return None
        summary = semantic_stage.vectors_summary(self._backend.folder)
        if summary is not None:
            summary["available"] = semantic_stage.is_available()
        return summary

    def abbreviations(self) -> dict[str, str]:
        """Abbreviations found in the articles ("ms" -> "multiple sclerosis")."""
        return dict(self._backend.meta["abbreviations"])

    # -- search ----------------------------------------------------------------

    def search(self, query: str, limit: int = DEFAULT_LIMIT, section: Optional[str] = None,
               explain: bool = False, offset: int = 0, article: Optional[str] = None,
               semantic: Optional[bool] = None) -> Results:
        """Ranked hits for ``query``, best first (a ``Results`` list of ``Hit``).

        ``limit`` hits are returned after skipping the first ``offset`` (for
        paging; ``offset + limit`` is at most ``MAX_RESULTS``). ``section``
        keeps only passages of that section (its name or its kind, any case),
        ``article`` only passages of the article with that id. ``semantic``
        fuses the lexical ranking with the passage vectors' similarity to the
        query (``fusion``); None uses it when the index has vectors (built
        with ``semantic=True``) and the ``semantic`` extra is installed.
        Raises ``QueryError`` (a ``ValueError``) for an empty query, a limit
        below 1, a negative offset, an unknown section or article, or
        ``semantic=True`` on an index without vectors;
        ``SemanticUnavailableError`` for ``semantic=True`` without the extra;
        and ``IndexStateError`` once the index is closed.
        """
        deadline = time.monotonic() + SEARCH_SECONDS
        query = validate(query, limit, offset)
        self._check_open()
        backend = self._backend  # one generation for the whole search, even if refreshed
        if self._pool is not None:
            return self._pool.search(backend.generation, query, dict(
                limit=limit, section=section, explain=explain, offset=offset, article=article,
                semantic=semantic))
        store = self._vector_store(backend, semantic)
        allow = self._allowed(backend, section, article)
        abbreviations, synonyms = backend.meta["abbreviations"], _synonyms()
        lexicon = backend.lexicon(query)
        plan = make_plan(query, lexicon, abbreviations, synonyms, section, article)
        q = backend.compile(plan)
        if q is None:  # query syntax that yields nothing: search its words
            plan = make_plan(query, lexicon, abbreviations, synonyms, section, article,
                             syntax=False)
            q = backend.compile(plan)
        wanted = max(CANDIDATES, offset + limit)
        found = backend.candidates(q, plan, allow, wanted, deadline)
        if not found and plan.concepts:
            fuzzy = fuzzy_words(plan)
            fuzzy_q = backend.compile(fuzzy)
            if backend.searchable(fuzzy_q):  # else explain shows the words searched
                plan, q = fuzzy, fuzzy_q
                found = backend.candidates(q, plan, allow, wanted, deadline)
        plan = with_topics(found, plan)
        ranked = _rank(found, plan)
        parsed = backend.describe(q)

        def hit(rank: int, explain: bool = explain) -> Hit:  # the lexical ranking's hit at rank
            score, candidate = ranked[rank - 1]
            return self._hit(backend, rank, score, candidate, plan, parsed, explain)

        if store is None:
            hits = [hit(rank) for rank in range(offset + 1, min(len(ranked), offset + limit) + 1)]
        else:
            fused = semantic_rank(
                query, [(backend.passage_id(c.key), score) for score, c in ranked], store,
                semantic_stage.shared_encoder(),
                lexical_confidence(hit(1, True)) if ranked else 0.0,
                keep=None if allow is None else lambda pid: backend.find(pid) in allow)
            hits = fused_page(fused, hit, lambda pid: backend.passage(backend.find(pid)),
                              offset, offset + limit, explain)
        return Results(hits, query, plan.corrected, parsed, section, article, offset,
                       semantic=store is not None)

    def _vector_store(self, backend: Backend, semantic: Optional[bool]):
        """The passage vectors this search fuses with, or None (no vectors, or not asked)."""
        if backend.folder is None:  # an engine that keeps no vectors
            if semantic:
                raise QueryError(f"{self.path}: the semantic stage works on index folders "
                                 "only; search without --semantic")
            return None
        return self._vectors.for_search(backend.folder, semantic, self.path)

    def _allowed(self, backend: Backend, section: Optional[str], article: Optional[str]):
        """What the filters let through, in the backend's terms; None when there is no filter."""
        allow = None
        if section is not None:
            key = section.strip().lower() if isinstance(section, str) else None
            if key not in backend.section_keys():
                raise QueryError(f"unknown section {section!r}; choose one of: "
                                 + ", ".join(self.sections()))
            allow = backend.restrict("section_key", key, allow)
        if article is not None:
            if not isinstance(article, str) or article not in backend.articles:
                raise QueryError(f"unknown article {article!r}; list article ids with: "
                                 "clonus-index info")
            allow = backend.restrict("article_id", article, allow)
        return allow

    def _hit(self, backend: Backend, rank: int, score: float, candidate: Candidate,
             plan: Plan, parsed: str, explain: bool) -> Hit:
        passage = backend.passage(candidate.key)
        matched = sorted(matched_terms(candidate, plan))
        marked = backend.highlights(passage.text, {t for f, t in matched if f == "text"})
        return Hit(rank=rank, score=score, passage=passage, highlights=marked or passage.text,
                   matched_terms=tuple(t for _, t in matched),
                   explanation=explanation(candidate, plan, score, parsed) if explain else None)


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, tuple[str, ...]]:
    return synonym_table()


# ---------------------------------------------------------------------------
# Module-level entry points
# ---------------------------------------------------------------------------

def open_index(path: Optional[str | Path] = None, workers: int = 0) -> Index:
    """Open a built index, or with no path the bundled clonus article's index.

    With ``workers=N`` (1 to ``MAX_WORKERS``) searches run in N worker
    processes that each open the same generation read-only: threads that
    search one ``Index`` at once then use up to N cores. The default, 0,
    searches in the calling thread. Scripts that use workers must guard
    their entry point with ``if __name__ == "__main__":`` (they are started
    with ``spawn``).

    The bundled index is built on first use into the user cache
    (``$XDG_CACHE_HOME/clonus_index``; ``CLONUS_INDEX_DIR`` overrides) and
    rebuilt when the bundled article changes or the index is damaged. An
    ``opensearch://HOST:PORT/NAME`` URL opens that OpenSearch index instead
    (the ``opensearch`` extra), with the same methods.
    """
    if path is None:
        return Index(bundled_index(), bundled=True, workers=workers)
    if opensearch_connection.is_opensearch_url(path):
        from .opensearch_backend import OpenSearchBackend
        return Index(OpenSearchBackend.open(path))
    return Index(read_index(path), workers=workers)


def build_index(sources: Iterable[str | Path] | str | Path, path: str | Path,
                progress=None, with_bundled: bool = False,
                semantic: Optional[bool] = None) -> Index:
    """Ingest ``sources`` (files and folders of .txt/.html) and build an index at ``path``.

    The build is atomic: readers of ``path`` see the old index until the new
    one is complete. Into an index this same version built, only sources
    whose bytes changed are read again (``progress`` is called for those
    only), articles of sources no longer given are dropped, and nothing is
    written when nothing changed. With ``with_bundled``, the bundled clonus
    article is indexed too, after ``sources``. ``semantic=True`` also stores
    each passage's vector for the semantic stage (the ``semantic`` extra;
    vectors of passages unchanged since the previous build are reused),
    ``False`` builds without; None keeps what the index had. Returns the
    opened new index. ``path`` may be an ``opensearch://HOST:PORT/NAME``
    URL: the build then writes a new OpenSearch index and swaps the alias
    NAME to it in one call (without vectors).
    """
    if opensearch_connection.is_opensearch_url(path):
        if semantic:
            raise QueryError(f"{path}: the semantic stage works on index folders only; "
                             "build into a folder with --index PATH, or leave out --semantic")
        from .opensearch_backend import build_index as build_opensearch
        return build_opensearch(sources, path, progress=progress, with_bundled=with_bundled)
    if semantic or (semantic is None and has_vectors(path)):
        require_extra(path, inherited=semantic is None)  # before the articles are read
    build_sources(path, sources, progress=progress, with_bundled=with_bundled, semantic=semantic)
    return open_index(path)


_default: Optional[Index] = None
_default_lock = threading.Lock()


def search(query: str, limit: int = DEFAULT_LIMIT, section: Optional[str] = None,
           explain: bool = False, offset: int = 0, article: Optional[str] = None,
           semantic: Optional[bool] = None) -> Results:
    """Search the bundled default index: ``clonus_index.search("what causes clonus")``.

    Takes the arguments of :meth:`Index.search`. Each call first picks up a
    rebuilt bundled index (see :meth:`Index.refresh`).
    """
    global _default
    with _default_lock:
        if _default is None:
            _default = open_index()
        else:
            try:
                _default.refresh()
            except IndexStateError:  # gone or damaged: open (and rebuild) it again
                _default = open_index()
        index = _default
    return index.search(query, limit=limit, section=section, explain=explain, offset=offset,
                        article=article, semantic=semantic)


def _rank(found: list, plan) -> list:
    """The best ``CANDIDATES`` first-stage matches re-ranked, then the rest in first-stage order.

    The re-ranked set does not grow with ``offset``, so a later page neither
    repeats nor skips a hit of an earlier one; a score never rises down the list.
    """
    # First-stage order; equal scores keep reading order, as the backend's top N does.
    order = sorted(range(len(found)), key=lambda i: -(found[i].score or 0.0))
    ranked = rerank([found[i] for i in sorted(order[:CANDIDATES])], plan)
    for i in order[CANDIDATES:]:
        ((score, candidate),) = rerank([found[i]], plan)
        ranked.append((min(score, ranked[-1][0]), candidate))
    return ranked
