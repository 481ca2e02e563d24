"""Searches in worker processes: the same hits as in-process, following refresh(), surviving a dead worker."""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest

from clonus_index import build_index, open_index
from clonus_index.errors import IndexStateError, QueryError

from conftest import DATA, SEED

pytestmark = pytest.mark.slow

QUERIES = ["what causes clonus", "clonus symptoms", "how is clonus treated",
           "I have jerky ankle movements after a stroke. Will they go away?"]


def ids(results) -> list[str]:
    return [h.passage.id for h in results]


def test_workers_answer_as_the_calling_process_does_from_many_threads(seed_index):
    with open_index(seed_index.path, workers=2) as pooled:
        with ThreadPoolExecutor(4) as threads:
            answers = list(threads.map(lambda q: pooled.search(q, limit=5, explain=True),
                                       QUERIES * 3))
        for q, got in zip(QUERIES * 3, answers):
            expected = seed_index.search(q, limit=5, explain=True)
            assert got.to_dict() == expected.to_dict()
        with pytest.raises(QueryError, match="unknown section"):
            pooled.search("clonus", section="no such section")


def test_workers_follow_refresh_to_the_new_generation(tmp_path):
    path = tmp_path / "index"
    build_index([SEED], path)
    with open_index(path, workers=1) as pooled:
        before = pooled.search("shingles rash", limit=3)
        assert not any("shingles" in h.passage.article.id for h in before)
        build_index([SEED, DATA / "shingles.txt"], path)
        assert pooled.refresh()
        after = pooled.search("shingles rash", limit=3)
        assert after and all("shingles" in h.passage.article.id for h in after)


def test_a_dead_worker_is_replaced(seed_index):
    with open_index(seed_index.path, workers=1) as pooled:
        expected = ids(pooled.search("what causes clonus"))
        for pid in list(pooled._pool._executor._processes):
            os.kill(pid, signal.SIGKILL)
        assert ids(pooled.search("what causes clonus")) == expected


def test_workers_must_be_a_small_whole_number(seed_index):
    for bad in (-1, 1000, 1.5, True, "2"):
        with pytest.raises(ValueError, match="workers must be a whole number"):
            open_index(seed_index.path, workers=bad)


def test_a_closed_pooled_index_refuses_searches(seed_index):
    pooled = open_index(seed_index.path, workers=1)
    pooled.close()
    with pytest.raises(IndexStateError, match="closed"):
        pooled.search("clonus")
