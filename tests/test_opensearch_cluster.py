"""Two OpenSearch nodes, 2 shards and 1 replica: a node killed with -9 loses no answer."""

from __future__ import annotations

import pytest

import opensearch_node
from clonus_index.opensearch_backend import open_index, write_index

pytestmark = pytest.mark.slow

QUERIES = ["what causes clonus", "botox injections", "ankle clonus diagnosis",
           "muscle relaxants", "multiple sclerosis", "stroke"]


def _answers(index):
    return [[(h.passage.id, round(h.score, 4)) for h in index.search(q, limit=5)]
            for q in QUERIES]


def test_searches_answer_the_same_after_a_node_is_killed(opensearch_pair, seed_corpus):
    first, second = opensearch_pair
    url = first.url.replace("http://", "opensearch://") + "/failover"
    write_index(seed_corpus, url, shards=2, replicas=1)
    health = opensearch_node.health(first.url, "green", nodes=2)
    assert health["active_shards"] == 4  # 2 primaries, 2 replicas, one copy on each node
    with open_index(url) as index:
        before = _answers(index)
        assert all(before)
        second.kill()
        assert second.process.returncode == -9
        assert _answers(index) == before  # at once, while the cluster notices the loss
        health = opensearch_node.health(first.url, "yellow", nodes=1)
        assert health["active_primary_shards"] == 2 and health["unassigned_shards"] == 2
        assert _answers(index) == before  # and after replicas became the primaries
    first.stop()  # closing its stdin stops the launcher cleanly
    assert first.process.returncode == 0 and first.stdout[-1] == "STOPPED\n"
