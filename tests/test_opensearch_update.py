"""Adding and removing articles of an OpenSearch index, against a real node."""

from __future__ import annotations

import pytest

from clonus_index import IndexBusyError
from clonus_index.opensearch_backend import build_index, open_index
from clonus_index.opensearch_store import publish
from clonus_index import opensearch_update
from clonus_index.opensearch_update import add_sources, remove_articles

from conftest import DATA, SEED

pytestmark = pytest.mark.slow

QUERIES = ["what causes clonus", "gout attack", "botox injections", "migraine triggers",
           "how is sciatica treated", "ms", "pain"]


def _url(base: str, name: str) -> str:
    return base.replace("http://", "opensearch://") + f"/{name}"


def _answers(index):
    return [[(h.passage.id, round(h.score, 3)) for h in index.search(q, limit=5)] for q in QUERIES]


def _state(index):
    info = index.info()
    return ([p.to_dict() for p in index.passages()], info["articles"], info["sections"],
            index.meta["field_docs"], index.abbreviations(), _answers(index))


def test_an_updated_index_answers_as_a_fresh_build_of_the_same_articles(opensearch_url):
    url, fresh = _url(opensearch_url, "grown"), _url(opensearch_url, "fresh")
    build_index([DATA / "gout.html", DATA / "migraine.txt"], url)
    update = add_sources(url, [DATA / "sciatica.txt", SEED])
    assert update["added"] == ["what-is-sciatica", "what-is-clonus"] and update["generation"]
    with open_index(url) as grown, build_index(
            [DATA / "gout.html", DATA / "migraine.txt", DATA / "sciatica.txt", SEED],
            fresh) as built:
        assert grown.generation == update["generation"]
        assert _state(grown) == _state(built)
    removed = remove_articles(url, ["gout"])
    assert removed["removed"] == ["gout"]
    with open_index(url) as shrunk, build_index(
            [DATA / "migraine.txt", DATA / "sciatica.txt", SEED], fresh) as built:
        assert _state(shrunk) == _state(built)


def test_unchanged_sources_write_nothing_and_bad_ids_change_nothing(opensearch_url):
    url = _url(opensearch_url, "steady")
    with build_index([DATA / "gout.html"], url) as index:
        before = index.generation
        same = add_sources(url, [DATA / "gout.html"])
        assert same["unchanged"] == ["gout"] and same["generation"] is None
        with pytest.raises(KeyError, match="no article with id 'nope'; nothing was removed"):
            remove_articles(url, ["gout", "nope"])
        with pytest.raises(Exception, match="would leave an empty index; nothing was removed"):
            remove_articles(url, ["gout"])
        assert index.refresh() is False and index.generation == before


def test_a_reader_keeps_its_index_while_an_update_publishes_another(opensearch_url):
    url = _url(opensearch_url, "readers")
    with build_index([DATA / "gout.html", DATA / "migraine.txt"], url) as reader:
        before = _answers(reader)
        remove_articles(url, ["migraine"])
        assert _answers(reader) == before  # still the index it opened
        assert reader.refresh() is True
        assert all(h.passage.article.id == "gout" for h in reader.search("migraine triggers"))


def test_an_update_that_lost_the_race_changes_nothing(opensearch_url, monkeypatch):
    """Two updates from the same index: the one that swaps second fails and leaves the first's."""
    url = _url(opensearch_url, "race-update")
    build_index([DATA / "gout.html", DATA / "migraine.txt"], url)

    def racing(client, target, body, fill, meta, base=None, storage_hook=None):
        def meanwhile(client, physical):  # another update publishes first
            monkeypatch.setattr(opensearch_update, "publish", publish)
            add_sources(url, [DATA / "sciatica.txt"])
        return publish(client, target, body, fill, meta, base=base, storage_hook=meanwhile)

    monkeypatch.setattr(opensearch_update, "publish", racing)
    with pytest.raises(IndexBusyError, match="replaced the index meanwhile; nothing was changed"):
        remove_articles(url, ["migraine"])
    with open_index(url) as index:
        assert [a.id for a in index.articles()] == ["gout", "migraine", "what-is-sciatica"]
