"""OpenSearch storage: the same passages, articles and references in an OpenSearch cluster.

After ingestion, beside ``index.py`` (the Whoosh default). A build writes a
complete new physical index and then moves the alias ``NAME`` onto it in one
``_aliases`` call, so readers only ever see a finished index; older physical
indexes are removed. ``opensearch_index.py`` reads it back and searches it.
Only this module imports ``opensearch-py`` (``pip install
"clonus-index[opensearch]"``), and only when an ``opensearch://`` index is used.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Optional
from urllib.parse import urlsplit

from . import __version__
from .errors import ClonusIndexError, IndexDamagedError, IndexUnavailableError, IndexWriteError
from .bundled import read_sources
from .index import code_digest, section_keys
from .pipeline import Corpus
from .resources import load

if TYPE_CHECKING:
    from .opensearch_index import OpenSearchIndex

__all__ = ["SCHEMA_VERSION", "OpenSearchTarget", "is_opensearch_url", "parse_url",
           "index_body", "write_index", "build_index", "open_index"]

#: Bump when the mapping or the stored records change; older indexes then ask
#: to be rebuilt instead of answering wrongly.
SCHEMA_VERSION = 1
SCHEME = "opensearch"
DEFAULT_PORT = 9200
#: Passages and articles sent per bulk request.
BULK_CHUNK = 500
TEXT_FIELDS = ("text", "subsection", "section", "title")
#: Environment settings for a cluster that is not on this machine.
ENV_USER = "CLONUS_OPENSEARCH_USER"
ENV_PASSWORD = "CLONUS_OPENSEARCH_PASSWORD"
ENV_TLS = "CLONUS_OPENSEARCH_TLS"
ENV_CA_CERTS = "CLONUS_OPENSEARCH_CA_CERTS"
# OpenSearch index names: lower case, none of \ / * ? " < > | space , # :
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,199}$")


# --------------------------------------------------------------------------
# Where the index lives
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class OpenSearchTarget:
    """A parsed ``opensearch://host:port/NAME``: the cluster and the alias readers use."""

    host: str
    port: int
    name: str

    @property
    def url(self) -> str:
        return f"{SCHEME}://{_host_part(self.host)}:{self.port}/{self.name}"

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def connection(self, environ: Optional[dict[str, str]] = None) -> dict[str, Any]:
        """The client's connection settings, with credentials and TLS from the environment.

        TLS (with certificate checks) is on by default for a cluster on another
        machine and off on loopback; ``CLONUS_OPENSEARCH_TLS=0``/``1`` overrides.
        """
        env = os.environ if environ is None else environ
        tls_flag = env.get(ENV_TLS, "").strip().lower()
        if tls_flag not in ("", "0", "1", "true", "false", "yes", "no"):
            raise ClonusIndexError(f"{ENV_TLS}={tls_flag!r}: use 1 (TLS on) or 0 (TLS off)")
        tls = (not self.loopback) if tls_flag == "" else tls_flag in ("1", "true", "yes")
        settings: dict[str, Any] = {
            "hosts": [{"host": self.host, "port": self.port}], "use_ssl": tls,
            "verify_certs": tls, "ssl_show_warn": False, "timeout": 60,
        }
        user, password = env.get(ENV_USER), env.get(ENV_PASSWORD)
        if bool(user) != bool(password):
            raise ClonusIndexError(f"set both {ENV_USER} and {ENV_PASSWORD}, or neither")
        if user:
            settings["http_auth"] = (user, password)
        if tls and env.get(ENV_CA_CERTS):
            settings["ca_certs"] = env[ENV_CA_CERTS]
        return settings


def _host_part(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def is_opensearch_url(location: object) -> bool:
    """True for ``opensearch://...``: an index in OpenSearch rather than a folder."""
    return isinstance(location, str) and location.lower().startswith(f"{SCHEME}://")


def parse_url(url: str) -> OpenSearchTarget:
    """``opensearch://host[:port]/NAME`` as a target, or a one-line error saying what to fix."""
    example = f"{SCHEME}://127.0.0.1:9200/NAME"
    parts = urlsplit(url)
    if parts.scheme.lower() != SCHEME:
        raise ClonusIndexError(f"{url}: not an OpenSearch index URL; write it as {example}")
    if parts.username or parts.password:
        raise ClonusIndexError(f"{url}: keep credentials out of the URL; set {ENV_USER} and "
                               f"{ENV_PASSWORD} instead")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise ClonusIndexError(f"{url}: the port is not a number from 1 to 65535; "
                               f"write it as {example}") from None
    name = parts.path.strip("/")
    if not parts.hostname or not name or parts.query or parts.fragment:
        raise ClonusIndexError(f"{url}: needs a host and an index name; write it as {example}")
    if not _NAME.match(name) or name in (".", ".."):
        raise ClonusIndexError(
            f"{url}: {name!r} cannot name an OpenSearch index; use lower-case letters, digits, "
            "'-', '_' and '.', starting with a letter or digit")
    return OpenSearchTarget(parts.hostname, port, name)


def client_for(target: OpenSearchTarget):
    try:
        from opensearchpy import OpenSearch
    except ImportError:
        raise ClonusIndexError(f"{target.url}: OpenSearch support is not installed; "
                               'install it with: pip install "clonus-index[opensearch]"') from None
    return OpenSearch(**target.connection())


@contextlib.contextmanager
def reaching(target: OpenSearchTarget) -> Iterator[None]:
    """Turn the client's errors (unreachable, refused, gone, failing) into one-line messages."""
    from opensearchpy import exceptions as ox
    try:
        yield
    except ox.ConnectionError as exc:
        raise IndexUnavailableError(
            f"{target.url}: cannot reach OpenSearch ({type(exc.info).__name__ if exc.info else exc}); "
            f"start it, or check the host, the port and {ENV_TLS}") from None
    except ox.AuthenticationException:
        raise IndexUnavailableError(f"{target.url}: OpenSearch refused the credentials; "
                                    f"check {ENV_USER} and {ENV_PASSWORD}") from None
    except ox.AuthorizationException:
        raise IndexUnavailableError(f"{target.url}: these credentials may not use index "
                                    f"{target.name}; ask for access or choose another name") from None
    except ox.NotFoundError:
        raise IndexDamagedError(f"{target.url}: the index this reader opened is gone (later "
                                "builds replaced it, or it was deleted); open it again") from None
    except ox.TransportError as exc:
        raise IndexUnavailableError(f"{target.url}: OpenSearch could not answer ({exc.status_code} "
                                    f"{exc.error}); check the cluster's health") from None


# --------------------------------------------------------------------------
# Mapping and analysis, generated from the library's own data
# --------------------------------------------------------------------------

def synonym_rules() -> list[str]:
    """``clonus_index/data/synonyms.json`` as Solr-format equivalence rules."""
    rules = []
    for group in load("synonyms")["groups"]:
        words = [re.sub(r"[,=>#\\]", " ", w).strip().lower() for w in group]
        words = list(dict.fromkeys(w for w in words if w))
        if len(words) > 1:
            rules.append(", ".join(words))
    return rules


def index_body(shards: int = 1, replicas: Optional[int] = None) -> dict[str, Any]:
    """Settings and mappings of a physical index.

    The text fields are analysed as the Whoosh backend does (its tokens of
    two letters or more, its English stop words, the Snowball English
    stemmer); at search time the synonym groups expand the query as a
    ``synonym_graph``. ``replicas=None`` means one replica where a second
    node exists, none on a single node.
    """
    from whoosh.lang import stopwords_for_language

    index: dict[str, Any] = {"number_of_shards": shards, "refresh_interval": "-1"}
    if replicas is None:
        index["auto_expand_replicas"] = "0-1"
    else:
        index["number_of_replicas"] = replicas
    analysis = {
        "filter": {
            "clonus_length": {"type": "length", "min": 2},
            "clonus_stop": {"type": "stop", "stopwords": sorted(stopwords_for_language("en"))},
            "clonus_stem": {"type": "snowball", "language": "English"},
            "clonus_synonyms": {"type": "synonym_graph", "synonyms": synonym_rules(),
                                "lenient": True},
        },
        "analyzer": {
            "clonus_english": {"type": "custom", "tokenizer": "standard",
                               "filter": ["lowercase", "clonus_length", "clonus_stop",
                                          "clonus_stem"]},
            "clonus_english_query": {"type": "custom", "tokenizer": "standard",
                                     "filter": ["lowercase", "clonus_synonyms", "clonus_length",
                                                "clonus_stop", "clonus_stem"]},
        },
    }
    text = {"type": "text", "analyzer": "clonus_english",
            "search_analyzer": "clonus_english_query"}
    properties: dict[str, Any] = {
        "kind": {"type": "keyword"}, "id": {"type": "keyword"},
        "article_id": {"type": "keyword"}, "article_order": {"type": "integer"},
        "position": {"type": "integer"}, "section_key": {"type": "keyword"},
        "record": {"type": "object", "enabled": False},
    }
    for name in TEXT_FIELDS:
        properties[name] = dict(text, index_options="offsets") if name == "text" else text
    return {"settings": {"index": index, "analysis": analysis},
            "mappings": {"dynamic": "strict", "properties": properties}}


# --------------------------------------------------------------------------
# Writing: a new physical index, then one alias swap
# --------------------------------------------------------------------------

def _documents(corpus: Corpus, physical: str) -> Iterator[dict[str, Any]]:
    order = {a.id: i for i, a in enumerate(corpus.articles)}
    for article in corpus.articles:
        yield {"_index": physical, "_id": f"article:{article.id}", "kind": "article",
               "id": article.id, "article_order": order[article.id],
               "record": article.to_dict(with_text=True)}
    for p in corpus.passages:
        yield {"_index": physical, "_id": f"passage:{p.id}", "kind": "passage", "id": p.id,
               "article_id": p.article.id, "article_order": order[p.article.id],
               "position": p.position, "section_key": section_keys(p).split(","),
               "text": p.text, "section": p.section, "subsection": p.subsection or "",
               "title": p.article.title, "record": p.to_dict()}


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


def write_index(corpus: Corpus, url: str, sources_digest: str = "", shards: int = 1,
                replicas: Optional[int] = None,
                storage_hook: Optional[Callable[[Any, str], None]] = None) -> str:
    """Write ``corpus`` into a new physical index and swap alias NAME onto it; return its name.

    Until the swap, readers of NAME see the previous index; if anything fails
    the new physical index is deleted and NAME is left as it was.
    ``storage_hook(client, physical)`` runs just before the swap (tests use it
    to inject faults).
    """
    from opensearchpy import helpers
    from opensearchpy import exceptions as ox

    target = parse_url(url)
    client = client_for(target)
    name = target.name
    physical = f"{physical_prefix(name)}{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
    with reaching(target):
        previous = alias_targets(client, name)
        client.indices.create(index=physical, body=index_body(shards, replicas))
        try:
            for ok, item in helpers.streaming_bulk(client, _documents(corpus, physical),
                                                   chunk_size=BULK_CHUNK, raise_on_error=False,
                                                   max_retries=3):
                if not ok:
                    raise IndexWriteError(f"{target.url}: OpenSearch refused a record "
                                          f"({json.dumps(item)[:300]}); the previous index is "
                                          "unchanged", "bulk")
            client.indices.put_settings(index=physical, body={"index": {"refresh_interval": None}})
            client.indices.refresh(index=physical)
            counted = client.count(index=physical, body={"query": {"term": {"kind": "passage"}}})
            if counted["count"] != len(corpus.passages):
                raise IndexWriteError(f"{target.url}: {counted['count']} of "
                                      f"{len(corpus.passages)} passages were stored; the "
                                      "previous index is unchanged", "count")
            client.indices.put_mapping(index=physical, body={"_meta": {
                "schema_version": SCHEMA_VERSION, "library_version": __version__,
                "code_hash": code_digest(), "sources_hash": sources_digest,
                "articles": len(corpus.articles), "passages": len(corpus.passages),
                "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}})
            if storage_hook:
                storage_hook(client, physical)
            actions = [{"add": {"index": physical, "alias": name}}]
            if previous:  # every old target, whoever swapped it in meanwhile
                actions.insert(0, {"remove": {"index": f"{physical_prefix(name)}*",
                                              "alias": name, "must_exist": False}})
            client.indices.update_aliases(body={"actions": actions})
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


def build_index(sources: Iterable[str | Path] | str | Path, url: str, progress=None,
                with_bundled: bool = False, shards: int = 1,
                replicas: Optional[int] = None) -> "OpenSearchIndex":
    """Ingest ``sources`` and build the OpenSearch index ``url``; return it opened.

    As ``clonus_index.build_index``: ``with_bundled`` indexes the bundled
    clonus article too, after ``sources``.
    """
    parse_url(url)  # a bad URL fails before any ingestion work
    corpus, digest = read_sources(sources, progress=progress, with_bundled=with_bundled)
    write_index(corpus, url, sources_digest=digest, shards=shards, replicas=replicas)
    return open_index(url)


def open_index(url: str) -> "OpenSearchIndex":
    """Open the index behind alias NAME of ``opensearch://host:port/NAME``."""
    from .opensearch_index import OpenSearchIndex
    return OpenSearchIndex(parse_url(url))
