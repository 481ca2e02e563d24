"""Reading an OpenSearch index back, and its first-stage search.

After ``opensearch_backend.py`` has built an index: passages, articles and
references come back as the same records the Whoosh backend returns, and a
BM25 search over the library's fields and boosts returns ranked,
highlighted, filtered hits. The library's query analysis and re-ranking do
not run on these hits yet.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator, Optional

from .errors import IndexNotFoundError, IndexVersionError, QueryError
from .index import FIELD_BOOSTS, passage_from_record
from .models import Article, Hit, Passage
from .opensearch_backend import (SCHEMA_VERSION, TEXT_FIELDS, OpenSearchTarget, alias_targets,
                                 client_for, reaching)
from .query import validate

__all__ = ["OpenSearchIndex"]

#: Records read per page when listing passages or articles.
PAGE = 1000
_MARKED = re.compile(r"\*\*(.+?)\*\*")


class OpenSearchIndex:
    """An opened OpenSearch index: list, fetch and (first stage only) search its passages.

    Opening resolves the alias to one physical index and keeps to it, as a
    Whoosh reader keeps to its generation: a rebuild meanwhile does not mix
    two builds in one reader's answers.
    """

    def __init__(self, target: OpenSearchTarget):
        self.target = target
        self._client = client_for(target)
        self._load(self._current())

    def _current(self) -> str:
        """The physical index the alias names now."""
        with reaching(self.target):
            physical = alias_targets(self._client, self.target.name)
        if not physical:
            raise IndexNotFoundError(f"{self.target.url}: no index here; build one with: "
                                     f"clonus-index build SOURCES... --index {self.target.url}")
        return physical[-1]

    def _load(self, physical: str) -> None:
        with reaching(self.target):
            mapping = self._client.indices.get_mapping(index=physical)
        meta = mapping[physical]["mappings"].get("_meta", {})
        version = meta.get("schema_version")
        if version != SCHEMA_VERSION:
            raise IndexVersionError(
                f"{self.target.url}: index has schema version {version}, this clonus_index "
                f"reads version {SCHEMA_VERSION}; rebuild it with: clonus-index build "
                f"SOURCES... --index {self.target.url}")
        self.physical, self._meta = physical, meta
        self._articles: dict[str, Article] = {}

    def refresh(self) -> bool:
        """Serve the newest build if one replaced the opened index; True when it switched."""
        physical = self._current()
        if physical == self.physical:
            return False
        self._load(physical)
        return True

    # -- introspection -------------------------------------------------------

    @property
    def url(self) -> str:
        return self.target.url

    @property
    def meta(self) -> dict:
        return dict(self._meta)

    def __len__(self) -> int:
        return int(self._meta.get("passages", 0))

    def __enter__(self) -> "OpenSearchIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def articles(self) -> list[Article]:
        """Every article, in source order (each with its text and references)."""
        articles = [Article.from_dict(s["record"]) for s in self._scan("article")]
        self._articles.update((a.id, a) for a in articles)
        return articles

    def passages(self) -> list[Passage]:
        """Every passage, articles in source order, passages in reading order."""
        return [self._passage(s) for s in self._scan("passage")]

    def get(self, passage_id: str) -> Passage:
        """The passage with this id; ``KeyError`` when there is none."""
        with reaching(self.target):
            found = self._client.mget(index=self.physical, body={"ids": [f"passage:{passage_id}"]})
        doc = found["docs"][0]
        if not doc.get("found"):
            raise KeyError(f"no passage with id {passage_id!r}; list ids with: "
                           "clonus-index passages")
        return self._passage(doc["_source"])

    def sections(self) -> list[str]:
        """Section names, in reading order of their first passage."""
        return list(dict.fromkeys(p.section for p in self.passages()))

    def info(self) -> dict[str, Any]:
        """What the index holds and where it lives: the Whoosh backend's ``info`` keys."""
        counts = self._passages_per_article()
        articles = self.articles()
        meta = self._meta
        return {
            "path": self.url, "generation": self.physical,
            "schema_version": meta.get("schema_version"),
            "library_version": meta.get("library_version"), "built": meta.get("built"),
            "sources_hash": meta.get("sources_hash"), "passages": len(self),
            "references": sum(len(a.references) for a in articles),
            "sections": self.sections(),
            "articles": [{"id": a.id, "title": a.title, "source": a.source,
                          "passages": counts.get(a.id, 0), "references": len(a.references)}
                         for a in articles],
        }

    def _count(self, kind: str, field: str, value: str) -> int:
        """How many records of ``kind`` have ``field`` equal to ``value``."""
        with reaching(self.target):
            found = self._client.count(index=self.physical, body={"query": {"bool": {"filter": [
                {"term": {"kind": kind}}, {"term": {field: value}}]}}})
        return int(found["count"])

    def _passages_per_article(self) -> dict[str, int]:
        """Passage counts by article id, a page of a composite aggregation at a time."""
        counts: dict[str, int] = {}
        after = None
        while True:
            composite: dict[str, Any] = {"size": PAGE,
                                         "sources": [{"id": {"terms": {"field": "article_id"}}}]}
            if after:
                composite["after"] = after
            with reaching(self.target):
                found = self._client.search(index=self.physical, body={
                    "size": 0, "query": {"term": {"kind": "passage"}},
                    "aggs": {"per_article": {"composite": composite}}})
            page = found["aggregations"]["per_article"]
            counts.update((b["key"]["id"], b["doc_count"]) for b in page["buckets"])
            after = page.get("after_key")
            if not page["buckets"] or not after:
                return counts

    def _scan(self, kind: str) -> Iterator[dict[str, Any]]:
        """Every record of one kind in reading order, a page at a time (search_after)."""
        sort = [{"article_order": "asc"}, {"position": {"order": "asc", "missing": "_first"}}]
        after = None
        while True:
            body: dict[str, Any] = {"size": PAGE, "query": {"term": {"kind": kind}},
                                    "sort": sort, "_source": ["record"]}
            if after:
                body["search_after"] = after
            with reaching(self.target):
                hits = self._client.search(index=self.physical, body=body)["hits"]["hits"]
            for hit in hits:
                yield hit["_source"]
            if len(hits) < PAGE:
                return
            after = hits[-1]["sort"]

    def _article(self, article_id: str) -> Article:
        if article_id not in self._articles:
            with reaching(self.target):
                doc = self._client.get(index=self.physical, id=f"article:{article_id}")
            self._articles[article_id] = Article.from_dict(doc["_source"]["record"])
        return self._articles[article_id]

    def _passage(self, source: dict[str, Any]) -> Passage:
        data = source["record"]
        return passage_from_record(data, self._article(data["article_id"]))

    # -- search ----------------------------------------------------------------

    def search(self, query: str, limit: int = 10, section: Optional[str] = None,
               explain: bool = False, offset: int = 0, article: Optional[str] = None,
               semantic: Optional[bool] = None):
        """The first stage only: BM25 hits for ``query``, best first, as a ``Results`` list.

        Every field is searched with the library's boosts and the scores
        summed; ``section`` (a name or kind, any case) and ``article`` (an
        article id) filter; ``offset`` skips that many hits (paging), as in
        the Whoosh backend, within its ``MAX_RESULTS``. Statistics are global across shards
        (``dfs_query_then_fetch``), so the shard count does not change the
        ranking. The concept coverage, intent and heading re-ranking of the
        Whoosh backend do not run here yet. ``explain`` adds the words each
        field matched and OpenSearch's own score explanation. There is no
        semantic stage here: ``semantic=True`` is refused.
        """
        from .searching import Results

        query = validate(query, limit, offset)
        if semantic:
            raise QueryError(f"{self.url}: the semantic stage works on index folders only; "
                             "search without --semantic")
        filters: list[dict[str, Any]] = [{"term": {"kind": "passage"}}]
        if section is not None:
            filters.append({"term": {"section_key": self._section_key(section)}})
        if article is not None:
            if not isinstance(article, str) or not self._count("article", "id", article):
                raise QueryError(f"unknown article {article!r}; list article ids with: "
                                 "clonus-index info")
            filters.append({"term": {"article_id": article}})
        match = {"multi_match": {"query": query, "type": "most_fields",
                                 "fields": [f"{f}^{FIELD_BOOSTS[f]}" for f in TEXT_FIELDS]}}
        body = {"from": offset, "size": limit, "query": {"bool": {"must": [match], "filter": filters}},
                "sort": ["_score", {"article_order": "asc"}, {"position": "asc"}],
                "track_scores": True, "_source": ["record"],
                "explain": explain,
                "highlight": {"fields": {f: {"number_of_fragments": 0} for f in TEXT_FIELDS},
                              "pre_tags": ["**"], "post_tags": ["**"]}}
        with reaching(self.target):
            found = self._client.search(index=self.physical, body=body,
                                        search_type="dfs_query_then_fetch")
        hits = []
        for rank, hit in enumerate(found["hits"]["hits"], offset + 1):
            passage = self._passage(hit["_source"])
            matched = {f: list(dict.fromkeys(t.lower() for t in _MARKED.findall(marks[0])))
                       for f, marks in hit.get("highlight", {}).items()}
            matched = {f: matched[f] for f in TEXT_FIELDS if matched.get(f)}
            score = float(hit["_score"] or 0.0)
            explanation = None
            if explain:
                explanation = {"parsed_query": json.dumps(match), "concepts": [],
                               "matched": matched, "bm25f": round(score, 4), "factors": {},
                               "intents": [], "score": round(score, 4),
                               "opensearch": hit.get("_explanation")}
            marked = (hit.get("highlight", {}).get("text") or [""])[0]
            hits.append(Hit(rank=rank, score=score, passage=passage,
                            highlights=marked or passage.text,
                            matched_terms=tuple(dict.fromkeys(t for ts in matched.values()
                                                              for t in ts)),
                            explanation=explanation))
        return Results(hits, query, None, json.dumps(match), section, article, offset)

    def _section_key(self, section: str) -> str:
        """The filter key for a section name or kind; ``QueryError`` listing them if none has it."""
        key = section.strip().lower() if isinstance(section, str) else None
        if key is None or not self._count("passage", "section_key", key):
            raise QueryError(f"unknown section {section!r}; choose one of: "
                             + ", ".join(self.sections()))
        return key
