"""The OpenSearch backend: one built OpenSearch index, read back and searched through the plan.

Between planning and re-ranking, as ``whoosh_backend`` is for a Whoosh
folder; ``opensearch_store`` writes what this reads. It answers planning's
``Lexicon`` questions from the index's term statistics (fetched for a whole
query in one request), runs the plan compiled by ``opensearch_query``, and
returns the top matches with the signals stored at build time, so
``ranking`` re-ranks them exactly as it re-ranks Whoosh's.
"""

from __future__ import annotations

import fnmatch
import json
import math
import threading
import time
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from .errors import IndexDamagedError, IndexNotFoundError, IndexVersionError
from .bundled import read_sources
from .index import make_schema, passage_from_record
from .models import Article, Passage
from .opensearch_query import MATCH_NONE, Statistics, compile_plan, parse_syntax, query_terms
from .opensearch_connection import (OpenSearchTarget, client_for, is_opensearch_url, parse_url,
                                    reaching)
from .opensearch_store import SCHEMA_VERSION, TEXT_FIELDS, alias_targets, index_body, write_index
from .planning import Plan, _edits
from .query import concepts, synonym_table, uses_syntax
from .ranking import Candidate, Signals
from .whoosh_backend import highlight_stems

__all__ = ["OpenSearchBackend", "build_index", "open_index", "write_index", "index_body",
           "is_opensearch_url", "parse_url", "OpenSearchTarget"]

#: Records read per page when listing passages or articles.
PAGE = 1000
#: Term statistics kept per opened index before the cache starts over.
MAX_CACHED_TERMS = 100_000
#: Index words derived from a word typed: at most this many are looked at (as Whoosh's).
MAX_DERIVED_LOOKUPS = 256


class _Articles(Mapping):
    """The articles of one physical index by id, fetched when first asked for."""

    def __init__(self, backend: "OpenSearchBackend"):
        self._backend = backend
        self._cache: dict[str, Article] = {}

    def __getitem__(self, article_id: str) -> Article:
        if article_id not in self._cache:
            b = self._backend
            with reaching(b.target):
                found = b.client.mget(index=b.physical, body={"ids": [f"article:{article_id}"]})
            doc = found["docs"][0]
            if not doc.get("found"):
                raise KeyError(article_id)
            if len(self._cache) >= PAGE:
                self._cache.clear()
            self._cache[article_id] = Article.from_dict(doc["_source"]["record"])
        return self._cache[article_id]

    def __contains__(self, article_id: object) -> bool:
        if not isinstance(article_id, str):
            return False
        try:
            self[article_id]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return (a.id for a in self.values())

    def values(self) -> Iterator[Article]:  # type: ignore[override]
        return (Article.from_dict(s["record"]) for s in self._backend.scan("article"))

    def __len__(self) -> int:
        return int(self._backend.meta.get("articles", 0))


class OpenSearchBackend:
    """One physical OpenSearch index, the one alias NAME named when it was opened.

    It keeps to that index, as a Whoosh reader keeps to its generation: a
    rebuild meanwhile does not mix two builds in one reader's answers.
    """

    def __init__(self, target: OpenSearchTarget, physical: Optional[str] = None):
        self.target = target
        self.location = target.url
        self.folder = None  # no passage vectors: the semantic stage works on folders only
        self.client = client_for(target)
        self.physical = physical or self.newest()
        if self.physical is None:
            raise IndexNotFoundError(f"{target.url}: no index here; build one with: "
                                     f"clonus-index build SOURCES... --index {target.url}")
        self.meta = self._load_meta()
        self.articles = _Articles(self)
        schema = make_schema()
        self._stem, self._surface = schema["text"].analyzer, schema["words"].analyzer
        self._df: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._section_keys: Optional[frozenset[str]] = None
        self.stats = Statistics(int(self.meta.get("passages", 0)),
                                dict(self.meta.get("field_docs", {})), self._doc_frequency)

    @classmethod
    def open(cls, url: str) -> "OpenSearchBackend":
        return cls(parse_url(url))

    def _load_meta(self) -> dict:
        with reaching(self.target):
            mapping = self.client.indices.get_mapping(index=self.physical)
            meta = dict(mapping[self.physical]["mappings"].get("_meta", {}))
            version = meta.get("schema_version")
            if version != SCHEMA_VERSION:
                raise IndexVersionError(
                    f"{self.target.url}: index has schema version {version}, this clonus_index "
                    f"reads version {SCHEMA_VERSION}; rebuild it with: clonus-index build "
                    f"SOURCES... --index {self.target.url}")
            found = self.client.mget(index=self.physical, body={"ids": ["meta"]})["docs"][0]
        if not found.get("found"):
            raise IndexDamagedError(f"{self.target.url}: the index has no meta record; rebuild "
                                    f"it with: clonus-index build SOURCES... --index "
                                    f"{self.target.url}")
        meta.update(found["_source"]["record"])
        return meta

    # -- builds ------------------------------------------------------------------

    @property
    def generation(self) -> str:
        return self.physical

    def newest(self) -> Optional[str]:
        with reaching(self.target):
            physical = alias_targets(self.client, self.target.name)
        return physical[-1] if physical else None

    def reopen(self) -> "OpenSearchBackend":
        return OpenSearchBackend(self.target)

    def close(self) -> None:
        self.client.close()

    def __len__(self) -> int:
        return int(self.meta.get("passages", 0))

    # -- what the index holds ----------------------------------------------------

    def scan(self, kind: str) -> Iterator[dict[str, Any]]:
        """Every record of one kind in reading order, a page at a time (search_after)."""
        sort = [{"article_order": "asc"}, {"position": {"order": "asc", "missing": "_first"}}]
        after = None
        while True:
            body: dict[str, Any] = {"size": PAGE, "query": {"term": {"kind": kind}},
                                    "sort": sort, "_source": ["record"]}
            if after:
                body["search_after"] = after
            with reaching(self.target):
                hits = self.client.search(index=self.physical, body=body)["hits"]["hits"]
            for hit in hits:
                yield hit["_source"]
            if len(hits) < PAGE:
                return
            after = hits[-1]["sort"]

    def section_keys(self) -> frozenset[str]:
        if self._section_keys is None:
            with reaching(self.target):
                found = self.client.search(index=self.physical, body={
                    "size": 0, "query": {"term": {"kind": "passage"}},
                    "aggs": {"keys": {"terms": {"field": "section_key", "size": 10_000}}}})
            self._section_keys = frozenset(
                b["key"] for b in found["aggregations"]["keys"]["buckets"])
        return self._section_keys

    def restrict(self, field: str, value: str, allow: Optional[list]) -> list:
        return [*(allow or []), {"term": {field: value}}]

    def passages(self) -> Iterator[Passage]:
        return (self.passage(s["record"]) for s in self.scan("passage"))

    def find(self, passage_id: str) -> Optional[dict[str, Any]]:
        with reaching(self.target):
            found = self.client.mget(index=self.physical, body={"ids": [f"passage:{passage_id}"]})
        doc = found["docs"][0]
        return doc["_source"]["record"] if doc.get("found") else None

    def passage_id(self, key: dict[str, Any]) -> str:
        return key["id"]

    def passage(self, key: dict[str, Any]) -> Passage:
        return passage_from_record(key, self.articles[key["article_id"]])

    # -- the Lexicon planning asks -----------------------------------------------

    def lexicon(self, query: str) -> "OpenSearchBackend":
        """Itself, with the statistics of every word and form ``query`` may plan fetched at once."""
        if uses_syntax(query):
            return self  # query language is parsed, not planned; a fallback asks as it goes
        pairs = set()
        for c in concepts(query, self.meta.get("abbreviations", {}), _synonyms()):
            for word in (c.word, *c.alternatives):
                pairs.add(("vocab", word))
            for form in c.all_forms:
                pairs.update((f, s) for s in self.analyse(form) for f in TEXT_FIELDS)
        self._fetch(pairs)
        return self

    def _doc_frequency(self, field: str, term: str) -> int:
        if (field, term) not in self._df:
            self._fetch({(field, term)})
        return self._df.get((field, term), 0)

    def _fetch(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Document counts of (field, term) pairs not yet known, in one request."""
        missing = sorted(p for p in pairs if p not in self._df)
        if not missing:
            return
        filters = {str(i): {"term": {f: t}} for i, (f, t) in enumerate(missing)}
        with reaching(self.target):
            found = self.client.search(index=self.physical, body={
                "size": 0, "query": {"term": {"kind": "passage"}},
                "aggs": {"df": {"filters": {"filters": filters}}}})
        buckets = found["aggregations"]["df"]["buckets"]
        with self._lock:
            if len(self._df) > MAX_CACHED_TERMS:
                self._df.clear()
            for i, pair in enumerate(missing):
                self._df[pair] = int(buckets[str(i)]["doc_count"])

    def analyse(self, text: str) -> list[str]:
        return [t.text for t in self._stem(text, mode="query")]

    def has_word(self, word: str) -> bool:
        return self._doc_frequency("vocab", word) > 0

    def has_stem(self, stem: str) -> bool:
        return self._doc_frequency("text", stem) > 0

    def derived_words(self, word: str, max_extra: int) -> tuple[str, ...]:
        pattern = "".join(c if c.isalnum() else f"\\{c}" for c in word) + f".{{1,{max_extra}}}"
        with reaching(self.target):
            found = self.client.search(index=self.physical, body={
                "size": 0, "query": {"prefix": {"vocab": word}},
                "aggs": {"words": {"terms": {"field": "vocab", "include": pattern,
                                             "size": MAX_DERIVED_LOOKUPS,
                                             "order": {"_key": "asc"}}}}})
        return tuple(b["key"] for b in found["aggregations"]["words"]["buckets"])

    def suggest(self, word: str, maxdist: int) -> Optional[str]:
        """The most frequent index word within ``maxdist`` edits, first letter kept (as Whoosh's)."""
        with reaching(self.target):
            found = self.client.search(index=self.physical, body={"size": 0, "suggest": {
                "s": {"text": word, "term": {
                    "field": "vocab", "suggest_mode": "always", "max_edits": min(maxdist, 2),
                    "prefix_length": 1, "min_word_length": 1, "size": 50,
                    "string_distance": "levenshtein", "sort": "frequency"}}}})
        options = [o for entry in found["suggest"]["s"] for o in entry["options"]
                   if o["text"] != word and _edits(word, o["text"], maxdist) <= maxdist]
        options.sort(key=lambda o: (-o["freq"], o["text"]))
        return options[0]["text"] if options else None

    def idf(self, stem: str) -> float:
        return math.log(len(self) / (self._doc_frequency("text", stem) + 1)) + 1

    # -- compiling and running ------------------------------------------------------

    def compile(self, plan: Plan) -> Optional[dict[str, Any]]:
        return compile_plan(plan, self.stats)

    def add(self, sources, progress=None):
        from .opensearch_update import add_sources
        return _update(add_sources(self.location, sources, progress=progress))

    def remove(self, article_ids):
        from .opensearch_update import remove_articles
        return _update(remove_articles(self.location, article_ids))

    def searchable(self, q: Optional[dict[str, Any]]) -> bool:
        return q is not None and q != MATCH_NONE

    def describe(self, q: Optional[dict[str, Any]]) -> str:
        return json.dumps(q, separators=(",", ":"))

    def candidates(self, q: Optional[dict[str, Any]], plan: Plan, allow: Optional[list],
                   wanted: int, deadline: float) -> list[Candidate]:
        """The ``wanted`` best matches of ``q`` within the filters, in reading order.

        Term statistics are global across shards (``dfs_query_then_fetch``),
        so the shard count does not change the ranking; equal scores go to
        reading order, as Whoosh's top N does.
        """
        if q is None or q == MATCH_NONE:
            return []
        left = max(deadline - time.monotonic(), 0.05)
        body = {"size": wanted, "track_total_hits": False, "track_scores": True,
                "timeout": f"{int(left * 1000)}ms",
                "query": {"bool": {"must": [q], "filter": [{"term": {"kind": "passage"}},
                                                           *(allow or [])]}},
                "sort": ["_score", {"article_order": "asc"}, {"position": "asc"}],
                "_source": ["record", "signals"]}
        with reaching(self.target):
            found = self.client.search(index=self.physical, body=body,
                                       search_type="dfs_query_then_fetch")
        hits = sorted(found["hits"]["hits"], key=lambda h: h["sort"][1:])
        named = None
        if plan.syntax is not None:
            named = query_terms(parse_syntax(plan.syntax))
        out = []
        for hit in hits:
            signals = Signals.from_dict(hit["_source"]["signals"])
            record = hit["_source"]["record"]
            matched = None
            if plan.syntax is not None or plan.fuzzy is not None:
                matched = _matched(named or set(), hit.get("matched_queries", []), signals,
                                   record, self._surface)
            out.append(Candidate(record, float(hit["_score"] or 0.0), signals, matched))
        return out

    def highlights(self, text: str, stems: set[str]) -> str:
        return highlight_stems(text, stems, self._stem)


def _matched(terms: set[tuple[str, str]], names: list[str], signals: Signals,
             record: dict[str, Any], surface) -> set[tuple[str, str]]:
    """The (field, term) pairs a query-language or fuzzy query matched in one passage.

    Named terms are checked against the passage's stored stems, as the Whoosh
    backend does; a pattern (wildcard, prefix, fuzzy, range) that the engine
    says matched (its named query) is resolved against them too.
    """
    stems = signals.stems
    found = {(f, t) for f, t in terms if t in stems.get(f, ())}
    words = None
    for name in names:
        kind, _, rest = name.partition(":")
        if kind == "fuzzy" and ":" not in rest:  # the last-resort plan, on surface words
            if words is None:
                words = {t.text for t in surface(record["text"])}
            found.update(("words", w) for w in words
                         if w[:1] == rest[:1] and _edits(rest, w, 2) <= (1 if len(rest) < 7 else 2))
            continue
        field, _, text = rest.partition(":")
        for stem in stems.get(field, ()):
            if (kind == "prefix" and stem.startswith(text)
                    or kind == "wildcard" and fnmatch.fnmatchcase(stem, text)
                    or kind == "fuzzy" and _edits(text, stem, 2) <= 2):
                found.add((field, stem))
    return found


def _update(changed: dict[str, Any]):
    """What an OpenSearch update changed, as the ``Update`` every backend returns."""
    from .updating import Update
    return Update(**{k: tuple(v) if isinstance(v, list) else v for k, v in changed.items()})


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, tuple[str, ...]]:
    return synonym_table()


def build_index(sources: Iterable[str | Path] | str | Path, url: str, progress=None,
                with_bundled: bool = False, shards: int = 1, replicas: Optional[int] = None):
    """Ingest ``sources`` and build the OpenSearch index ``url``; return it opened (an ``Index``).

    As ``clonus_index.build_index``: ``with_bundled`` indexes the bundled
    clonus article too, after ``sources``.
    """
    parse_url(url)  # a bad URL fails before any ingestion work
    corpus, digest = read_sources(sources, progress=progress, with_bundled=with_bundled)
    write_index(corpus, url, sources_digest=digest, shards=shards, replicas=replicas)
    return open_index(url)


def open_index(url: str):
    """Open the index behind alias NAME of ``opensearch://host:port/NAME`` (an ``Index``)."""
    from .searching import Index
    return Index(OpenSearchBackend.open(url))
