"""Adding and removing articles of an OpenSearch index, published as a new physical index.

Beside ``opensearch_store.py`` (whole builds). An update copies the records
it keeps from the current physical index as they are stored (terms,
signals, records: nothing is analysed again), adds the new articles' records,
and swaps the alias only if it still names the index the update started
from. Readers therefore keep answering from one complete index throughout
(never one with an article half removed or half added, never one whose
BM25 statistics mix the two), as a Whoosh reader keeps its generation, and
two updates at once never lose each other's articles: the later fails,
changing nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from .errors import IndexNotFoundError, IndexStateError
from .bundled import read_sources
from .models import Article
from .opensearch_connection import client_for, parse_url, reaching
from .opensearch_store import (TEXT_FIELDS, _meta_action, alias_targets, bulk, documents,
                               field_counts, index_body, meta_record, publish)
from .pipeline import Corpus, _renamed, article_id_for

__all__ = ["add_sources", "remove_articles"]

#: Kept records copied per page, and how long reading one page may take.
COPY_PAGE = 1000
COPY_SECONDS = 300


def add_sources(url: str, sources: Iterable[str | Path] | str | Path,
                progress=None) -> dict[str, Any]:
    """Add the articles of ``sources``, replacing the articles of sources the index holds.

    A source is known by the ``source`` its article records. A re-added
    source keeps its article id when its title gives the same id; an article
    whose record did not change is left alone, and when nothing changed no
    index is written. Returns what changed (``added``, ``replaced``,
    ``removed``, ``unchanged``, ``read``, ``generation``).
    """
    target = parse_url(url)
    corpus, _ = read_sources(sources, progress=progress)
    client = client_for(target)
    base, old = _current(client, target)
    by_source = {a.source: a for a in old.values()}
    used = set(old)
    fresh: list[tuple[Article, list]] = []
    gone: set[str] = set()
    added, replaced, unchanged = [], [], []
    passages = {}
    for p in corpus.passages:
        passages.setdefault(p.article.id, []).append(p)
    for article in corpus.articles:
        previous = by_source.get(article.source)
        if previous is not None and article_id_for(article.title) == article_id_for(previous.title):
            aid = previous.id
        else:
            if previous is not None:
                used.discard(previous.id)
            aid = _unique(article_id_for(article.title), used)
        article, ps = _renamed(article, passages.get(article.id, []), aid)
        used.add(aid)
        if previous is not None and article.to_dict(with_text=True) == previous.to_dict(with_text=True):
            unchanged.append(aid)
            continue
        if previous is not None:
            gone.add(previous.id)
            replaced.append(aid)
        else:
            added.append(aid)
        fresh.append((article, ps))
    update = {"added": added, "replaced": replaced, "removed": [], "unchanged": unchanged,
              "read": len(corpus.articles), "generation": None}
    if fresh or gone:
        update["generation"] = _write(client, target, base, old, gone, fresh)
    return update


def remove_articles(url: str, article_ids: Iterable[str] | str) -> dict[str, Any]:
    """Remove the articles with these ids; an unknown id raises ``KeyError`` and changes nothing."""
    target = parse_url(url)
    ids = list(dict.fromkeys([article_ids] if isinstance(article_ids, str) else article_ids))
    if not ids:
        raise KeyError("name the articles to remove by id; list them with: clonus-index info")
    client = client_for(target)
    base, old = _current(client, target)
    unknown = [aid for aid in ids if aid not in old]
    if unknown:
        raise KeyError(f"{target.url}: no article with id {', '.join(map(repr, unknown))}; "
                       "nothing was removed. List the article ids with: clonus-index info "
                       f"--index {target.url}")
    if len(ids) == len(old):
        raise IndexStateError(f"{target.url}: removing every article would leave an empty "
                              "index; nothing was removed. Build a new one with: clonus-index "
                              f"build SOURCES... --index {target.url}")
    generation = _write(client, target, base, old, set(ids), [])
    return {"added": [], "replaced": [], "removed": ids, "unchanged": [], "read": 0,
            "generation": generation}


def _current(client, target) -> tuple[str, dict[str, Article]]:
    """The physical index NAME names now, and its articles by id in article order."""
    with reaching(target):
        physical = alias_targets(client, target.name)
        if not physical:
            raise IndexNotFoundError(f"{target.url}: no index here; build one with: "
                                     f"clonus-index build SOURCES... --index {target.url}")
        base = physical[-1]
        articles: dict[str, Article] = {}
        after = None
        while True:
            body: dict[str, Any] = {"size": 1000, "query": {"term": {"kind": "article"}},
                                    "sort": [{"article_order": "asc"}], "_source": ["record"]}
            if after:
                body["search_after"] = after
            hits = client.search(index=base, body=body)["hits"]["hits"]
            for hit in hits:
                article = Article.from_dict(hit["_source"]["record"])
                articles[article.id] = article
            if len(hits) < 1000:
                return base, articles
            after = hits[-1]["sort"]


def _unique(base: str, used: set[str]) -> str:
    """``base``, else ``base-2``, ``base-3``... as ingestion numbers colliding ids."""
    aid, n = base, 1
    while aid in used:
        n += 1
        aid = f"{base}-{n}"
    return aid


def _write(client, target, base: str, old: dict[str, Article], gone: set[str],
           fresh: list[tuple[Article, list]]) -> str:
    """Publish a copy of ``base`` without the ``gone`` articles and with the ``fresh`` ones."""
    with reaching(target):
        mapping = client.indices.get_mapping(index=base)[base]["mappings"]
        settings = client.indices.get_settings(index=base)[base]["settings"]["index"]
        keep = {"bool": {"filter": [{"terms": {"kind": ["article", "passage"]}}],
                         "must_not": [{"terms": {"article_id": sorted(gone)}},
                                      {"terms": {"id": sorted(gone)}}]}}
        passages_kept = {"bool": {"filter": [{"term": {"kind": "passage"}}, keep]}}
        kept = client.search(index=base, body={"size": 0, "query": passages_kept, "aggs": {
            field: {"filter": {"exists": {"field": field}}} for field in TEXT_FIELDS}})
        # A search counts hits only to 10,000; the count API counts them all.
        kept_count = client.count(index=base, body={"query": passages_kept})["count"]
    meta = dict(mapping.get("_meta", {}))
    with reaching(target):
        before = client.get(index=base, id="meta")["_source"]["record"]
        last = client.search(index=base, body={"size": 0, "aggs": {
            "last": {"max": {"field": "article_order"}}}})["aggregations"]["last"]["value"]
    new = Corpus([a for a, _ in fresh], [p for _, ps in fresh for p in ps])
    added_fields = field_counts(new)
    field_docs = {f: kept["aggregations"][f]["doc_count"] + added_fields[f] for f in TEXT_FIELDS}
    passages = kept_count + len(new.passages)
    articles = [a for aid, a in old.items() if aid not in gone] + new.articles
    replicas = settings.get("auto_expand_replicas")
    body = index_body(int(settings["number_of_shards"]),
                      None if replicas else int(settings.get("number_of_replicas", 0)),
                      field_docs, passages)
    record = meta_record(new.passages, articles)
    for key in ("article_passages", "article_sections"):
        record[key] = {**{aid: v for aid, v in before[key].items() if aid not in gone},
                       **record[key]}
    record["sections"] = list(dict.fromkeys(  # reading order, articles in their order
        s for a in articles for s in record["article_sections"].get(a.id, ())))

    def fill(physical: str) -> None:
        from opensearchpy import helpers
        kept_records = helpers.scan(client, index=base, query={"query": keep}, size=COPY_PAGE,
                                    request_timeout=COPY_SECONDS)
        bulk(client, target, ({"_index": physical, "_id": hit["_id"], **hit["_source"]}
                              for hit in kept_records))
        bulk(client, target, documents(new, physical, first_order=int(last or 0) + 1))
        bulk(client, target, [_meta_action(physical, record)])

    meta.update(articles=len(articles), passages=passages, field_docs=field_docs,
                sources_hash="")  # no longer the digest of one set of sources
    return publish(client, target, body, fill, meta, base=base)
