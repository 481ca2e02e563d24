"""OpenSearch storage: the same passages, articles and references in an OpenSearch cluster.

After ingestion, beside ``index.py`` (the Whoosh default). A build writes a
complete new physical index and then moves the alias ``NAME`` onto it in one
``_aliases`` call, so readers only ever see a finished index; older physical
indexes are removed. The library's own analyzer (the one the Whoosh backend
indexes with) turns each field into terms, which OpenSearch indexes as they
are, so both engines hold the very same terms at the same positions; each
passage also carries the ranking signals computed at build time.
``opensearch_backend.py`` reads it back and searches it. Only these modules
import ``opensearch-py`` (``pip install "clonus-index[opensearch]"``), and
only when an ``opensearch://`` index is used.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections import Counter
from typing import Any, Callable, Iterable, Iterator, Optional

from . import __version__
from .errors import ClonusIndexError, IndexBusyError, IndexWriteError
from .index import code_digest, make_schema, section_keys
from .models import Article, Passage
from .opensearch_connection import (OpenSearchTarget, client_for, is_opensearch_url, parse_url,
                                    reaching)
from .pipeline import Corpus
from .query import mine_abbreviations
from .ranking import passage_signals

__all__ = ["SCHEMA_VERSION", "index_body", "write_index", "publish", "documents", "bulk",
           "meta_record", "field_counts", "alias_targets", "similarity", "TEXT_FIELDS",
           "MAX_TOKEN_LENGTH", "is_opensearch_url", "parse_url"]

#: Bump when the mapping or the stored records change; older indexes then ask
#: to be rebuilt instead of answering wrongly.
SCHEMA_VERSION = 2
#: Passages and articles sent per bulk request.
BULK_CHUNK = 500
#: The searched fields, as in the Whoosh schema (``vocab`` holds the surface
#: words, as Whoosh's ``words`` field does, for spelling and fuzzy matching).
TEXT_FIELDS = ("text", "subsection", "section", "title")
#: A term longer than this is cut into pieces (no real word is that long;
#: Lucene refuses terms over 32 KB).
MAX_TOKEN_LENGTH = 4096
#: Whoosh's BM25F parameters, which every field's similarity reproduces.
WHOOSH_K1 = 1.2
WHOOSH_B = 0.75


# --------------------------------------------------------------------------
# Mapping and analysis, generated from the library's own data
# --------------------------------------------------------------------------

def similarity(field_docs: int, passages: int) -> dict[str, Any]:
    """BM25 parameters under which OpenSearch scores a field as Whoosh's BM25F does.

    Whoosh averages a field's length over every passage; Lucene over the
    passages that hold the field. With ``r`` the share that holds it, k1
    0.3 + 0.9 / r and b (0.9 / r) / k1 give Whoosh's k1 1.2 and b 0.75 on
    Whoosh's average (the query's boost makes up the (k1 + 1) factor).
    """
    r = field_docs / passages if passages and field_docs else 1.0
    k1 = WHOOSH_K1 * (1 - WHOOSH_B) + WHOOSH_K1 * WHOOSH_B / r
    return {"type": "BM25", "k1": round(k1, 6), "b": round(WHOOSH_K1 * WHOOSH_B / r / k1, 6)}


def index_body(shards: int = 1, replicas: Optional[int] = None,
               field_docs: Optional[dict[str, int]] = None, passages: int = 0) -> dict[str, Any]:
    """Settings and mappings of a physical index.

    The text fields hold the library's terms separated by spaces (see
    ``_documents``), so OpenSearch splits on spaces and nothing more; each
    field is scored by BM25 with the parameters that make it Whoosh's (see
    ``similarity``; ``field_docs`` counts the passages holding each field),
    the query supplying Whoosh's idf (see ``opensearch_query``).
    ``replicas=None`` means one replica where a second node exists, none on
    a single node.
    """
    field_docs = field_docs or {}
    index: dict[str, Any] = {
        "number_of_shards": shards, "refresh_interval": "-1",
        "similarity": {f"clonus_{name}": similarity(field_docs.get(name, passages), passages)
                       for name in TEXT_FIELDS}}
    if replicas is None:
        index["auto_expand_replicas"] = "0-1"
    else:
        index["number_of_replicas"] = replicas
    analysis = {
        "tokenizer": {"clonus_terms": {"type": "whitespace", "max_token_length": MAX_TOKEN_LENGTH}},
        "analyzer": {"clonus_terms": {"type": "custom", "tokenizer": "clonus_terms"}},
    }
    properties: dict[str, Any] = {
        "kind": {"type": "keyword"}, "id": {"type": "keyword"},
        "article_id": {"type": "keyword"}, "article_order": {"type": "integer"},
        "position": {"type": "integer"}, "section_key": {"type": "keyword"},
        "vocab": {"type": "keyword"},
        "record": {"type": "object", "enabled": False},
        "signals": {"type": "object", "enabled": False},
    }
    for name in TEXT_FIELDS:
        properties[name] = {"type": "text", "analyzer": "clonus_terms",
                            "similarity": f"clonus_{name}"}
    return {"settings": {"index": index, "analysis": analysis},
            "mappings": {"dynamic": "strict", "properties": properties}}


# --------------------------------------------------------------------------
# Writing: a new physical index, then one alias swap
# --------------------------------------------------------------------------

def _fields(p: Passage) -> dict[str, str]:
    return {"text": p.text, "subsection": p.subsection or "", "section": p.section,
            "title": p.article.title}


def meta_record(passages: list[Passage], articles: list[Article]) -> dict[str, Any]:
    """What opening an index reads instead of re-analysing: sections in reading order
    (and each article's, for updates), passages per article, the abbreviations the
    articles define."""
    by_article: dict[str, list[str]] = {}
    for p in passages:
        by_article.setdefault(p.article.id, []).append(p.section)
    return {"sections": list(dict.fromkeys(p.section for p in passages)),
            "article_sections": {aid: list(dict.fromkeys(s)) for aid, s in by_article.items()},
            "article_passages": dict(Counter(p.article.id for p in passages)),
            "abbreviations": mine_abbreviations(a.text for a in articles)}


def documents(corpus: Corpus, physical: str, first_order: int = 0) -> Iterator[dict[str, Any]]:
    """The bulk actions of ``corpus``'s articles, then its passages, each article's order
    counted from ``first_order``."""
    order = {a.id: first_order + i for i, a in enumerate(corpus.articles)}
    for article in corpus.articles:
        yield {"_index": physical, "_id": f"article:{article.id}", "kind": "article",
               "id": article.id, "article_order": order[article.id],
               "record": article.to_dict(with_text=True)}
    schema = make_schema()
    stem, surface = schema["text"].analyzer, schema["words"].analyzer
    signals = passage_signals(corpus.passages, lambda p: section_keys(p).split(","),
                              lambda text: [t.text for t in stem(text, mode="query")])
    for p, signal in zip(corpus.passages, signals):
        doc = {"_index": physical, "_id": f"passage:{p.id}", "kind": "passage", "id": p.id,
               "article_id": p.article.id, "article_order": order[p.article.id],
               "position": p.position, "section_key": section_keys(p).split(","),
               "record": p.to_dict(), "signals": signal.to_dict()}
        for name, value in _fields(p).items():  # the terms Whoosh indexes, in order
            terms = " ".join(t.text for t in stem(value, mode="index"))
            if terms:  # a field without terms is left out, as "exists" then says
                doc[name] = terms
        words = " ".join(x for x in (p.text, p.subsection or "", p.section) if x)
        doc["vocab"] = sorted({t.text for t in surface(words, mode="index")})
        yield doc


def _meta_action(physical: str, record: dict[str, Any]) -> dict[str, Any]:
    return {"_index": physical, "_id": "meta", "kind": "meta", "record": record}


def bulk(client, target: OpenSearchTarget, actions: Iterable[dict[str, Any]]) -> None:
    """Send ``actions``; a record OpenSearch refuses fails the whole write."""
    from opensearchpy import helpers
    for ok, item in helpers.streaming_bulk(client, actions, chunk_size=BULK_CHUNK,
                                           raise_on_error=False, max_retries=3):
        if not ok:
            raise IndexWriteError(f"{target.url}: OpenSearch refused a record "
                                  f"({json.dumps(item)[:300]}); the previous index is "
                                  "unchanged", "bulk")


def field_counts(corpus: Corpus) -> dict[str, int]:
    """How many passages hold a term in each text field (the document count BM25 uses)."""
    stem = make_schema()["text"].analyzer
    return {name: sum(1 for p in corpus.passages
                      if next(iter(stem(_fields(p)[name], mode="index")), None) is not None)
            for name in TEXT_FIELDS}


def physical_prefix(name: str) -> str:
    return f"{name}-gen-"


def alias_targets(client, name: str) -> list[str]:
    """The physical indexes behind alias ``name``; refuses a name used otherwise."""
    if not client.indices.exists(index=name):
        return []
    if not client.indices.exists_alias(name=name):
        raise ClonusIndexError(f"OpenSearch index {name!r} was not built by clonus_index; "
                               "choose another index name (nothing was changed)")
    targets = sorted(client.indices.get_alias(name=name))
    if not all(t.startswith(physical_prefix(name)) for t in targets):
        raise ClonusIndexError(f"OpenSearch alias {name!r} points at indexes clonus_index did "
                               "not build; choose another index name (nothing was changed)")
    return targets


def new_physical(name: str) -> str:
    return f"{physical_prefix(name)}{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"


def write_index(corpus: Corpus, url: str, sources_digest: str = "", shards: int = 1,
                replicas: Optional[int] = None,
                storage_hook: Optional[Callable[[Any, str], None]] = None) -> str:
    """Write ``corpus`` into a new physical index and swap alias NAME onto it; return its name.

    Until the swap, readers of NAME see the previous index; if anything fails
    the new physical index is deleted and NAME is left as it was.
    ``storage_hook(client, physical)`` runs just before the swap (tests use it
    to inject faults).
    """
    target = parse_url(url)
    client = client_for(target)
    field_docs = field_counts(corpus)

    def fill(physical: str) -> None:
        bulk(client, target, [_meta_action(physical, meta_record(corpus.passages,
                                                                 corpus.articles))])
        bulk(client, target, documents(corpus, physical))

    meta = {"sources_hash": sources_digest, "articles": len(corpus.articles),
            "passages": len(corpus.passages), "field_docs": field_docs}
    body = index_body(shards, replicas, field_docs, len(corpus.passages))
    return publish(client, target, body, fill, meta, storage_hook=storage_hook)


def publish(client, target: OpenSearchTarget, body: dict[str, Any],
            fill: Callable[[str], None], meta: dict[str, Any], base: Optional[str] = None,
            storage_hook: Optional[Callable[[Any, str], None]] = None) -> str:
    """Create a physical index, ``fill`` it, check it, record ``meta``, swap NAME onto it.

    A build (``base`` None) takes NAME from whatever it names; an update
    (``base``: the physical index it started from) swaps only if NAME still
    names ``base``, in the same atomic call, so two updates never lose one
    another's articles: the later one fails, saying so, and changes nothing.
    """
    from opensearchpy import exceptions as ox

    name = target.name
    physical = new_physical(name)
    with reaching(target):
        previous = alias_targets(client, name)
        client.indices.create(index=physical, body=body)
        try:
            fill(physical)
            client.indices.put_settings(index=physical, body={"index": {"refresh_interval": None}})
            client.indices.refresh(index=physical)
            counted = client.count(index=physical, body={"query": {"term": {"kind": "passage"}}})
            if counted["count"] != meta["passages"]:
                raise IndexWriteError(f"{target.url}: {counted['count']} of "
                                      f"{meta['passages']} passages were stored; the "
                                      "previous index is unchanged", "count")
            client.indices.put_mapping(index=physical, body={"_meta": {
                **meta, "schema_version": SCHEMA_VERSION, "library_version": __version__,
                "code_hash": code_digest(),
                "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}})
            if storage_hook:
                storage_hook(client, physical)
            actions = [{"add": {"index": physical, "alias": name}}]
            if base is not None:
                actions.insert(0, {"remove": {"index": base, "alias": name, "must_exist": True}})
            elif previous:  # every old target, whoever swapped it in meanwhile
                actions.insert(0, {"remove": {"index": f"{physical_prefix(name)}*",
                                              "alias": name, "must_exist": False}})
            try:
                client.indices.update_aliases(body={"actions": actions})
            except ox.NotFoundError:  # ``base`` no longer behind NAME
                raise IndexBusyError(f"{target.url}: another build or update replaced the index "
                                     "meanwhile; nothing was changed, run this again") from None
        except BaseException as exc:
            with contextlib.suppress(Exception):
                client.indices.delete(index=physical, ignore_unavailable=True)
            if isinstance(exc, ox.TransportError) and not isinstance(exc, ox.ConnectionError):
                raise IndexWriteError(f"{target.url}: OpenSearch refused the build "
                                      f"({exc.status_code} {exc.error}); the previous index "
                                      "is unchanged", str(exc.error)) from None
            raise
        _cleanup(client, name, keep={physical, *previous})
    return physical


def _cleanup(client, name: str, keep: set[str]) -> None:
    """Delete this alias's physical indexes older than the ones kept.

    The previous index stays one build longer, for a reader that opened it
    just before the swap; an index newer than the kept ones may be another
    build still running, so it is left alone too.
    """
    with contextlib.suppress(Exception):
        found = client.indices.get_settings(index=f"{physical_prefix(name)}*",
                                            name="index.creation_date")
        created = {i: int(s["settings"]["index"]["creation_date"]) for i, s in found.items()}
        oldest_kept = min((created[i] for i in keep if i in created), default=0)
        stale = [i for i, c in created.items() if i not in keep and c < oldest_kept]
        if stale:
            client.indices.delete(index=",".join(stale), ignore_unavailable=True)
