"""Parity: the project's question sets get the same first passage from OpenSearch as from Whoosh.

Both backends index the bundled article; every question of
``tests/data/questions.jsonl`` and ``chat_questions.jsonl`` is asked of both.
The README lists each question that differs, and why.
"""

from __future__ import annotations

import pytest

from clonus_index.evaluate import load_questions
from clonus_index.opensearch_backend import build_index

from conftest import DATA

pytestmark = pytest.mark.slow

#: At least this share of each set's questions get the same first passage.
PARITY_FLOOR = 0.95


@pytest.fixture(scope="module")
def bundled_opensearch(opensearch_url):
    url = opensearch_url.replace("http://", "opensearch://") + "/parity"
    with build_index([], url, with_bundled=True) as index:
        yield index


@pytest.mark.parametrize("name", ["questions.jsonl", "chat_questions.jsonl"])
def test_same_first_passage_as_whoosh(default_index, bundled_opensearch, name):
    questions = load_questions(DATA / name)
    differ = []
    for q in questions:
        whoosh = [h.passage.id for h in default_index.search(q.q, limit=1)]
        other = [h.passage.id for h in bundled_opensearch.search(q.q, limit=1)]
        if whoosh != other:
            differ.append((q.q, whoosh, other))
    same = len(questions) - len(differ)
    print(f"{name}: {same} of {len(questions)} the same; differ: {differ}")
    assert same >= PARITY_FLOOR * len(questions), differ
