"""OpenSearch storage against a real node: URLs, mappings, atomic builds, reading, search."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest

from clonus_index import (ClonusIndexError, IndexDamagedError, IndexNotFoundError,
                          IndexWriteError, QueryError)
from clonus_index import IndexUnavailableError
from clonus_index.index import make_schema
from clonus_index.opensearch_backend import (OpenSearchTarget, build_index, index_body,
                                             is_opensearch_url, open_index, parse_url,
                                             write_index)

from conftest import SEED


def _url(base: str, name: str) -> str:
    return base.replace("http://", "opensearch://") + f"/{name}"


def _rest(base: str, path: str, body=None, method="GET"):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{base}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read())


# -- URLs and connection settings (no server needed) ---------------------------

def test_parse_url_reads_host_port_and_name():
    assert parse_url("opensearch://127.0.0.1:9201/medical") == OpenSearchTarget(
        "127.0.0.1", 9201, "medical")
    assert parse_url("OpenSearch://search.example.org/site.v2").port == 9200
    assert parse_url("opensearch://[::1]:9200/x").url == "opensearch://[::1]:9200/x"
    assert is_opensearch_url("opensearch://h/x") and not is_opensearch_url("./index")


@pytest.mark.parametrize("url, says", [
    ("opensearch://127.0.0.1:9200", "needs a host and an index name"),
    ("opensearch://127.0.0.1:9200/", "needs a host and an index name"),
    ("opensearch:///name", "needs a host and an index name"),
    ("opensearch://127.0.0.1:9200/Medical", "cannot name an OpenSearch index"),
    ("opensearch://127.0.0.1:9200/a/b", "cannot name an OpenSearch index"),
    ("opensearch://127.0.0.1:9200/_x", "cannot name an OpenSearch index"),
    ("opensearch://127.0.0.1:99999/x", "port is not a number"),
    ("opensearch://bob:secret@host/x", "keep credentials out of the URL"),
    ("http://127.0.0.1:9200/x", "not an OpenSearch index URL"),
])
def test_bad_urls_say_what_to_fix(url, says):
    with pytest.raises(ClonusIndexError, match=says):
        parse_url(url)


def test_tls_is_on_away_from_loopback_and_credentials_come_from_the_environment():
    local = parse_url("opensearch://localhost:9200/x").connection({})
    assert local["use_ssl"] is False and "http_auth" not in local
    remote = parse_url("opensearch://search.example.org/x").connection({
        "CLONUS_OPENSEARCH_USER": "reader", "CLONUS_OPENSEARCH_PASSWORD": "pw",
        "CLONUS_OPENSEARCH_CA_CERTS": "/etc/ca.pem"})
    assert remote["use_ssl"] and remote["verify_certs"] and remote["ca_certs"] == "/etc/ca.pem"
    assert remote["http_auth"] == ("reader", "pw")
    plain = parse_url("opensearch://10.0.0.5/x").connection({"CLONUS_OPENSEARCH_TLS": "0"})
    assert plain["use_ssl"] is False
    with pytest.raises(ClonusIndexError, match="set both"):
        parse_url("opensearch://h/x").connection({"CLONUS_OPENSEARCH_USER": "reader"})
    with pytest.raises(ClonusIndexError, match="use 1"):
        parse_url("opensearch://h/x").connection({"CLONUS_OPENSEARCH_TLS": "maybe"})


def test_mapping_scores_each_field_as_whoosh_does():
    body = index_body(shards=2, replicas=1, field_docs={"text": 28, "subsection": 7,
                                                        "section": 28, "title": 28}, passages=28)
    index = body["settings"]["index"]
    assert index["number_of_shards"] == 2 and index["number_of_replicas"] == 1
    assert "auto_expand_replicas" in index_body()["settings"]["index"]
    # A field every passage holds keeps Whoosh's k1 and b; one held by a quarter
    # of them gets the parameters that put Whoosh's average length back.
    assert index["similarity"]["clonus_text"] == {"type": "BM25", "k1": 1.2, "b": 0.75}
    sub = index["similarity"]["clonus_subsection"]
    assert sub["k1"] == pytest.approx(0.3 + 0.9 * 4) and sub["b"] == pytest.approx(3.6 / 3.9)
    props = body["mappings"]["properties"]
    assert props["section_key"]["type"] == "keyword" and props["vocab"]["type"] == "keyword"
    assert props["subsection"]["similarity"] == "clonus_subsection"
    assert props["signals"] == {"type": "object", "enabled": False}


def test_the_whoosh_default_never_loads_the_opensearch_client():
    code = ("import sys, clonus_index\n"
            "hits = clonus_index.search('botox for ankle clonus')\n"
            "print(hits[0].passage.section, 'opensearchpy' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["Treatment", "False"]


def test_without_the_client_installed_the_error_says_how_to_install_it():
    code = ("import sys; sys.modules['opensearchpy'] = None\n"
            "from clonus_index.opensearch_backend import open_index\n"
            "open_index('opensearch://127.0.0.1:9200/x')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].endswith(
        'OpenSearch support is not installed; install it with: '
        'pip install "clonus-index[opensearch]"')


# -- against a real node --------------------------------------------------------


@pytest.fixture(scope="module")
def seed_os(opensearch_url, seed_corpus):
    """The seed article built into OpenSearch once for this module."""
    url = _url(opensearch_url, "seed")
    build_index([SEED], url)
    with open_index(url) as index:
        yield index


@pytest.mark.slow
def test_build_writes_the_same_passages_articles_and_references(seed_os, seed_corpus):
    assert [p.to_dict() for p in seed_os.passages()] == [p.to_dict() for p in seed_corpus.passages]
    assert [a.to_dict(with_text=True) for a in seed_os.articles()] == \
        [a.to_dict(with_text=True) for a in seed_corpus.articles]
    passage = seed_corpus.passages[5]
    got = seed_os.get(passage.id)
    assert got.text == passage.article.text[passage.start:passage.end] == got.article.text[
        got.start:got.end]
    assert got.references == passage.references
    assert len(seed_os) == len(seed_corpus.passages)
    assert seed_os.meta["schema_version"] == 2 and seed_os.meta["articles"] == 1
    with pytest.raises(KeyError, match="clonus-index passages"):
        seed_os.get("no-such-passage")


@pytest.mark.slow
def test_listing_pages_through_any_number_of_records(seed_os, seed_corpus, monkeypatch):
    from clonus_index import opensearch_backend
    monkeypatch.setattr(opensearch_backend, "PAGE", 2)  # 28 passages: 14 full pages, then none
    assert len(seed_corpus.passages) % 2 == 0
    assert [p.id for p in seed_os.passages()] == [p.id for p in seed_corpus.passages]
    assert seed_os.info()["articles"][0]["passages"] == len(seed_corpus.passages)
    assert seed_os.sections() == list(dict.fromkeys(p.section for p in seed_corpus.passages))


@pytest.mark.slow
def test_the_index_holds_the_terms_whoosh_indexes_at_the_same_positions(opensearch_url, seed_os,
                                                                         seed_corpus):
    analyzer = make_schema()["text"].analyzer
    for passage in seed_corpus.passages[:6]:
        found = _rest(opensearch_url, f"/{seed_os.generation}/_termvectors/passage:{passage.id}"
                      "?fields=text&positions=true&offsets=false&payloads=false", method="GET")
        terms = found["term_vectors"]["text"]["terms"]
        stored = sorted((t["position"], term) for term, v in terms.items() for t in v["tokens"])
        whoosh = [(t.pos, t.text) for t in analyzer(passage.text, positions=True, mode="index")]
        # Whoosh counts positions from 1 after its renumbering; OpenSearch from 0.
        assert [(pos - stored[0][0], term) for pos, term in stored] == \
            [(pos - whoosh[0][0], term) for pos, term in whoosh]


@pytest.mark.slow
def test_first_search_ranks_highlights_and_filters(seed_os):
    hits = seed_os.search("botox injections for ankle clonus", limit=3)
    assert hits[0].passage.subsection == "Botox injections"
    assert "**Botox**" in hits[0].highlights and "botox" in hits[0].matched_terms
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].score >= hits[1].score >= hits[2].score > 0
    # The synonym group finds "Botox" passages for the generic name.
    assert any(h.passage.subsection == "Botox injections"
               for h in seed_os.search("botulinum toxin", limit=3))
    treated = seed_os.search("clonus", limit=50, section="treatment")
    assert treated and {h.passage.section for h in treated} == {"Treatment"}
    article = seed_os.articles()[0].id
    assert seed_os.search("clonus", article=article)
    with pytest.raises(QueryError, match="unknown article 'some-other-article'; list article ids"):
        seed_os.search("clonus", article="some-other-article")
    # Paging: a page further on is the same ranking, cut further on.
    ranked = [h.passage.id for h in seed_os.search("clonus", limit=6)]
    page = seed_os.search("clonus", limit=3, offset=3)
    assert [h.passage.id for h in page] == ranked[3:6] and [h.rank for h in page] == [4, 5, 6]
    assert page.offset == 3
    with pytest.raises(QueryError, match="offset must be a whole number"):
        seed_os.search("clonus", offset=-1)
    with pytest.raises(QueryError, match="at most 1000 hits"):
        seed_os.search("clonus", limit=10, offset=995)
    with pytest.raises(QueryError, match="unknown section 'Astrology'; choose one of: "):
        seed_os.search("clonus", section="Astrology")
    with pytest.raises(QueryError, match="query is empty"):
        seed_os.search("   ")


@pytest.mark.slow
def test_rebuild_swaps_the_alias_and_keeps_only_the_previous_index(opensearch_url, seed_corpus):
    url = _url(opensearch_url, "swap")
    names = [write_index(seed_corpus, url) for _ in range(3)]
    aliases = _rest(opensearch_url, "/_alias/swap")
    assert list(aliases) == [names[-1]]
    left = sorted(_rest(opensearch_url, "/_cat/indices/swap-gen-*?format=json&h=index"),
                  key=lambda r: r["index"])
    assert {r["index"] for r in left} == {names[-1], names[-2]}
    # A reader keeps to the physical index it opened, as a Whoosh reader keeps its generation.
    reader = open_index(url)
    assert reader.generation == names[-1]
    write_index(seed_corpus, url)
    assert reader.search("clonus") and reader.generation == names[-1]
    newest = write_index(seed_corpus, url)  # two builds on, its index is removed: it says so
    with pytest.raises(IndexDamagedError, match="the index this reader opened is gone .*; open"):
        reader.search("clonus")
    assert reader.refresh() is True and reader.generation == newest and reader.search("clonus")
    assert reader.refresh() is False


@pytest.mark.slow
def test_concurrent_builds_both_succeed_and_the_alias_names_one(opensearch_url, seed_corpus):
    from concurrent.futures import ThreadPoolExecutor
    url = _url(opensearch_url, "race")
    first = write_index(seed_corpus, url)
    with ThreadPoolExecutor(2) as pool:
        built = list(pool.map(lambda _: write_index(seed_corpus, url), range(2)))
    targets = list(_rest(opensearch_url, "/_alias/race"))
    assert len(targets) == 1 and targets[0] in built and first not in built
    assert len(open_index(url).passages()) == len(seed_corpus.passages)


@pytest.mark.slow
def test_a_failed_build_leaves_the_previous_index_untouched(opensearch_url, seed_corpus):
    url = _url(opensearch_url, "fail")
    before = write_index(seed_corpus, url)
    seen = []

    def fail(client, physical):
        seen.append(physical)
        raise IndexWriteError("disk full (injected)", "injected")

    with pytest.raises(IndexWriteError, match="injected"):
        write_index(seed_corpus, url, storage_hook=fail)
    assert list(_rest(opensearch_url, "/_alias/fail")) == [before]
    with pytest.raises(urllib.error.HTTPError):
        _rest(opensearch_url, f"/{seen[0]}")
    assert open_index(url).search("clonus")


@pytest.mark.slow
def test_a_name_that_holds_something_else_is_left_alone(opensearch_url, seed_corpus):
    _rest(opensearch_url, "/someone-elses", {"settings": {"number_of_replicas": 0}}, "PUT")
    try:
        with pytest.raises(ClonusIndexError, match="was not built by clonus_index"):
            write_index(seed_corpus, _url(opensearch_url, "someone-elses"))
        assert _rest(opensearch_url, "/someone-elses")  # still there
    finally:
        _rest(opensearch_url, "/someone-elses", method="DELETE")


@pytest.mark.slow
def test_missing_index_and_unreachable_server_say_what_to_do(opensearch_url):
    with pytest.raises(IndexNotFoundError, match="build one with: clonus-index build"):
        open_index(_url(opensearch_url, "never-built"))
    with pytest.raises(IndexUnavailableError, match="cannot reach OpenSearch"):
        open_index("opensearch://127.0.0.1:1/x")


def test_the_top_level_api_takes_an_opensearch_url(opensearch_url):
    """``clonus_index.build_index`` and ``open_index`` reach OpenSearch from its URL alone."""
    import clonus_index
    url = _url(opensearch_url, "toplevel")
    built = clonus_index.build_index([SEED], url)
    assert type(built) is clonus_index.Index and len(built) == len(clonus_index.ingest([SEED]).passages)
    opened = clonus_index.open_index(url)
    hits = opened.search("botox injections", limit=3)
    assert hits and hits[0].passage.subsection == "Botox injections"
    assert hits[0].passage.article.title == "What is clonus? Everything you need to know"
