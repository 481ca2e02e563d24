"""The postings first stage: the same top N as Whoosh's matchers, bounded by work, not by time."""

from __future__ import annotations

import json
import random
import math

import pytest

from clonus_index import open_index, searching
from clonus_index.whoosh_postings import POSTINGS_DATA, POSTINGS_META

from conftest import DATA
from corpora import build_synthetic


def questions() -> list[str]:
    found = []
    for name in ("questions.jsonl", "chat_questions.jsonl"):
        with open(DATA / name, encoding="utf-8") as fh:
            found += [json.loads(line)["q"] for line in fh if line.strip()]
    return found


EXTRA = ["ms treatment", "high blood pressure and muscle relaxant", "how is clonus treated",
         "brain damage stroke", "spinal cord injury clonus clonus", "what causes it"]


@pytest.fixture(scope="module")
def synthetic_path(tmp_path_factory):
    return build_synthetic(tmp_path_factory.mktemp("postings") / "index", 60, 25)


def first_stage(index, query: str, **filters) -> list[tuple[str, float]]:
    """The first stage's top 50 (passage id, BM25F score) of a plain query."""
    results = index.search(query, limit=50, explain=True, **filters)
    return [(h.passage.id, h.explanation["bm25f"]) for h in results]


def assert_same(fast, slow):
    assert [i for i, _ in fast] == [i for i, _ in slow]
    for (_, a), (_, b) in zip(fast, slow):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-4)


@pytest.mark.parametrize("where", ["bundled", "synthetic"])
def test_postings_rank_exactly_as_whoosh_matchers(where, synthetic_path):
    path = None if where == "bundled" else synthetic_path
    with open_index(path) as fast, open_index(path) as slow:
        assert fast._backend.postings is not None
        slow._backend.postings = None  # the same index, through Whoosh's matchers
        queries = questions() + EXTRA if where == "bundled" else [
            " ".join(p.text.split()[:n]) for p in fast.passages()[::97] for n in (2, 5, 30)]
        for q in queries:
            assert_same(first_stage(fast, q), first_stage(slow, q))


def test_postings_respect_filters_and_pages(default_index):
    slow = open_index()
    slow._backend.postings = None
    try:
        for q in ("what causes clonus", "treatment of clonus with muscle relaxants"):
            assert_same(first_stage(default_index, q, section="treatment"),
                        first_stage(slow, q, section="treatment"))
            pages = [h.passage.id for o in range(0, 20, 5)
                     for h in default_index.search(q, limit=5, offset=o)]
            assert pages == [h.passage.id for h in default_index.search(q, limit=20)]
            assert len(set(pages)) == len(pages)
    finally:
        slow.close()


def test_index_without_postings_is_searched_through_whoosh(tmp_path):
    path = build_synthetic(tmp_path / "index", 5, 10)
    with open_index(path) as index:
        expected = [h.passage.id for h in index.search("synthetic article", limit=20)]
        generation = index._stored.generation
    meta = json.loads((generation / POSTINGS_META).read_text())
    renumbered = dict(meta, sample_ids={**meta["sample_ids"], "0": "synthetic-0004-p9"})
    (generation / POSTINGS_META).write_text(json.dumps(renumbered))
    with open_index(path) as index:  # arrays that number the passages otherwise are not used
        assert index._backend.postings is None
        assert [h.passage.id for h in index.search("synthetic article", limit=20)] == expected
    (generation / POSTINGS_META).unlink()
    (generation / POSTINGS_DATA).unlink()
    with open_index(path) as index:
        assert index._backend.postings is None
        assert [h.passage.id for h in index.search("synthetic article", limit=20)] == expected


def test_a_normal_query_does_not_depend_on_the_clock(monkeypatch, default_index, synthetic_path):
    """Plain questions and chat messages give the same hits with no time left at all;
    only query-language input (hostile patterns) is cut by the safety budget."""
    queries = questions()[:20] + EXTRA + ["clonsu symptms", "ankel jerkng"]  # fuzzy last resort
    with open_index(synthetic_path) as big:
        chat = [" ".join(p.text.split()[:40]) for p in big.passages()[::211]]
        before = {(i, q): [h.passage.id for h in index.search(q, limit=20)]
                  for i, index in ((0, default_index), (1, big))
                  for q in (queries if i == 0 else chat)}
        monkeypatch.setattr(searching, "SEARCH_SECONDS", -1.0)
        after = {(i, q): [h.passage.id for h in index.search(q, limit=20)]
                 for i, index in ((0, default_index), (1, big))
                 for q in (queries if i == 0 else chat)}
        assert after == before
        assert all(before.values())
        # Query language walks Whoosh's matchers and is still cut by the budget.
        assert big.search("synthetic* OR article*", limit=20) == []


def test_highlights_are_whoosh_highlighters_marks(default_index):
    from whoosh import highlight

    from clonus_index.whoosh_queries import Mark

    backend = default_index._backend
    rng = random.Random(5)
    texts = [p.text for p in default_index.passages()] + [
        "Dr. Smith's e.g. 3.5 mg/kg ankle-clonus CLONUS Clonus's (clonus) the the", ""]
    for text in texts:
        stems = sorted(set(backend.analyse(text))) + ["the", "e.g", "3.5", "absent"]
        for _ in range(6):
            pick = set(rng.sample(stems, min(len(stems), rng.randint(1, 5))))
            expected = highlight.highlight(text, frozenset(pick), backend._analyzer,
                                           highlight.WholeFragmenter(charlimit=None), Mark(),
                                           top=1)
            assert backend.highlights(text, pick) == expected


def test_an_updated_index_is_searched_through_whoosh_until_rebuilt(tmp_path):
    from clonus_index import build_index

    from conftest import SEED

    path = tmp_path / "index"
    with build_index([SEED], path) as index:
        assert index._backend.postings is not None
        index.add([DATA / "shingles.txt"])  # new segments: the arrays no longer describe them
        assert index._backend.postings is None
        hits = index.search("shingles rash", limit=3)
        assert hits and all("shingles" in h.passage.article.id for h in hits)
        assert index.search("what causes clonus")[0].passage.article.id != "shingles"
