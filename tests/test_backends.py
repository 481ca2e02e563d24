"""One suite for every backend: the same Index API on a Whoosh folder and on a real OpenSearch node.

Each test runs once per backend (``any_index``); the OpenSearch runs skip,
saying why, only where Java or Maven is missing. The last tests compare the
two backends' answers directly.
"""

from __future__ import annotations

import pytest

from clonus_index import Index, QueryError
from clonus_index.backend import Backend
from clonus_index.opensearch_backend import build_index as build_opensearch

from conftest import SEED


@pytest.fixture(scope="module")
def seed_opensearch(opensearch_url):
    url = opensearch_url.replace("http://", "opensearch://") + "/shared-suite"
    with build_opensearch([SEED], url) as index:
        yield index


@pytest.fixture(params=["whoosh", pytest.param("opensearch", marks=pytest.mark.slow)])
def any_index(request, seed_index) -> Index:
    if request.param == "whoosh":
        return seed_index
    return request.getfixturevalue("seed_opensearch")


def test_the_backend_is_the_only_difference(any_index):
    backend = any_index._backend
    for name in [n for n in dir(Backend) if not n.startswith("_")] + ["__len__"]:
        assert hasattr(backend, name), name
    assert type(any_index) is Index
    assert len(any_index) == 28 and any_index.generation in any_index.info()["generation"]


def test_search_ranks_highlights_and_cites(any_index):
    hits = any_index.search("botox injections for ankle clonus", limit=3)
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].passage.subsection == "Botox injections"
    assert "**Botox**" in hits[0].highlights and "botox" in hits[0].matched_terms
    assert hits[0].score >= hits[1].score >= hits[2].score > 0
    assert hits[0].passage.article.title == "What is clonus? Everything you need to know"


def test_synonyms_spelling_and_the_fuzzy_last_resort(any_index):
    generic = any_index.search("botulinum toxin", limit=3)
    assert generic[0].passage.subsection == "Botox injections"
    corrected = any_index.search("clonsu treatmnt", limit=1)
    assert corrected.corrected_query == "clonus treatment"
    assert corrected[0].passage.section == "Treatment"


def test_query_language(any_index):
    both = any_index.search("botox AND title:clonus", limit=5)
    assert both and all("botox" in h.passage.text.lower() for h in both)
    assert "clonus" in both[0].matched_terms
    prefix = any_index.search("spasti*", limit=3)
    assert prefix and all("spastic" in h.passage.text.lower() for h in prefix)
    assert any(t.startswith("spastic") for t in prefix[0].matched_terms)
    minus = any_index.search("clonus NOT botox", limit=50)
    assert minus and not any("botox" in h.passage.text.lower() for h in minus)


def test_filters_paging_and_errors(any_index):
    treated = any_index.search("clonus", limit=50, section="treatment")
    assert treated and {h.passage.section for h in treated} == {"Treatment"}
    article = any_index.articles()[0].id
    assert any_index.search("clonus", article=article)
    ranked = [h.passage.id for h in any_index.search("clonus", limit=6)]
    page = any_index.search("clonus", limit=3, offset=3)
    assert [h.passage.id for h in page] == ranked[3:6] and [h.rank for h in page] == [4, 5, 6]
    with pytest.raises(QueryError, match="unknown article 'elsewhere'; list article ids"):
        any_index.search("clonus", article="elsewhere")
    with pytest.raises(QueryError, match="unknown section 'Astrology'; choose one of: "):
        any_index.search("clonus", section="Astrology")
    with pytest.raises(QueryError, match="query is empty"):
        any_index.search("   ")


def test_explain_shows_the_plan_the_matches_and_the_factors(any_index):
    hit = any_index.search("how is clonus treated", limit=1, explain=True)[0]
    e = hit.explanation
    assert [c["word"] for c in e["concepts"]] == ["clonus", "treated"]
    assert e["intents"] == ["Treatment"] and e["factors"]["intent"] == 1.4
    assert e["matched"]["text"] and e["bm25f"] > 0 and e["score"] == round(hit.score, 4)


def test_listing_and_fetching(any_index, seed_corpus):
    assert [p.to_dict() for p in any_index.passages()] == [p.to_dict() for p in seed_corpus.passages]
    passage = seed_corpus.passages[5]
    assert any_index.get(passage.id).to_dict() == passage.to_dict()
    with pytest.raises(KeyError, match="clonus-index passages"):
        any_index.get("no-such-passage")
    info = any_index.info()
    assert info["passages"] == 28 and info["articles"][0]["passages"] == 28
    assert info["sections"] == list(dict.fromkeys(p.section for p in seed_corpus.passages))
    assert any_index.abbreviations() == any_index.meta["abbreviations"]
    assert any_index.refresh() is False


QUESTIONS = ["what causes clonus", "botox injections", "ankle clonus diagnosis",
             "muscle relaxants", "multiple sclerosis", "stroke", "how is clonus treated",
             "clonsu", "spasti*", "title:clonus AND botox", "\"muscle relaxants\""]


@pytest.mark.slow
def test_both_backends_rank_alike(seed_index, seed_opensearch):
    """The same plan and re-ranking on the same stored signals: the same first hit, and the
    same factors, matches and highlights for every passage both return."""
    for q in QUESTIONS:
        whoosh = {h.passage.id: h for h in seed_index.search(q, limit=5, explain=True)}
        other = {h.passage.id: h for h in seed_opensearch.search(q, limit=5, explain=True)}
        assert next(iter(other)) == next(iter(whoosh)), q
        shared = set(other) & set(whoosh)
        assert len(other) == len(whoosh) and len(shared) >= min(3, len(whoosh)), q
        for pid in shared:
            a, b = other[pid], whoosh[pid]
            assert a.explanation["factors"] == b.explanation["factors"], q
            assert a.matched_terms == b.matched_terms and a.highlights == b.highlights, q


@pytest.mark.slow
@pytest.mark.parametrize("q", ["ankle clonus diagnosis", "botox AND title:clonus",
                               "\"muscle relaxants\"", "stroke"])
def test_first_stage_scores_are_whooshs_bm25f(seed_index, seed_opensearch, q):
    """Where every concept has one form, the scores are Whoosh's to rounding of lengths.

    (Where a concept has several forms, Whoosh's ``DisjunctionMax`` may add a
    score from another passage; OpenSearch's ``dis_max`` does not.)
    """
    whoosh = {h.passage.id: h.score for h in seed_index.search(q, limit=10)}
    other = {h.passage.id: h.score for h in seed_opensearch.search(q, limit=10)}
    assert other.keys() == whoosh.keys()
    for pid, score in whoosh.items():
        assert other[pid] == pytest.approx(score, rel=0.05), (q, pid)


@pytest.mark.slow
def test_the_shard_count_changes_no_score(opensearch_url, seed_opensearch):
    """Term statistics are global (``dfs_query_then_fetch``): three shards rank and score as one.

    (Not for wildcard and prefix patterns: each shard expands them to its own terms.)
    """
    url = opensearch_url.replace("http://", "opensearch://") + "/three-shards"
    with build_opensearch([SEED], url, shards=3, replicas=0) as sharded:
        assert sharded.meta["passages"] == 28
        for q in [q for q in QUESTIONS if "*" not in q]:
            one = [(h.passage.id, round(h.score, 4)) for h in seed_opensearch.search(q, limit=10)]
            assert [(h.passage.id, round(h.score, 4)) for h in sharded.search(q, limit=10)] == one, q
