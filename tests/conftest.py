"""Shared fixtures: the seed article, the fixture articles, small indexes in tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SEED = ROOT / "source" / "mnt-what-is-clonus.txt"


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Keep the bundled index out of the user's cache, for every test and subprocess."""
    cache = tmp_path_factory.mktemp("cache")
    old = {k: os.environ.get(k) for k in ("XDG_CACHE_HOME", "CLONUS_INDEX_DIR")}
    os.environ["XDG_CACHE_HOME"] = str(cache)
    os.environ.pop("CLONUS_INDEX_DIR", None)
    yield cache
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def seed_path() -> Path:
    return SEED


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def seed_corpus():
    from clonus_index import ingest
    return ingest([SEED])


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory):
    """An index of the seed article in a temporary folder, shared read-only."""
    from clonus_index import build_index
    return build_index([SEED], tmp_path_factory.mktemp("seed") / "index")


@pytest.fixture(scope="session")
def default_index():
    """The bundled default index (built into the session's private cache)."""
    from clonus_index import open_index
    return open_index()


@pytest.fixture
def foreign_paths(tmp_path) -> tuple[Path, Path]:
    """A folder holding something else, and a plain file: two paths that are no index."""
    folder = tmp_path / "photos"
    folder.mkdir()
    (folder / "cat.jpg").write_bytes(b"\xff\xd8")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not an index")
    return folder, a_file


def passage_with(corpus_or_passages, phrase: str):
    """The one passage whose text contains ``phrase``."""
    passages = getattr(corpus_or_passages, "passages", corpus_or_passages)
    found = [p for p in passages if phrase in p.text]
    assert len(found) == 1, f"{phrase!r} is in {len(found)} passages"
    return found[0]


# ---------------------------------------------------------------------------
# Real OpenSearch nodes (tests/opensearch_node.py): started once per session,
# skipped with the reason only where Java or Maven is missing.
# ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def opensearch_classpath() -> str:
    import opensearch_node
    reason = opensearch_node.missing_tools()
    if reason:
        pytest.skip(reason)
    return opensearch_node.build_launcher()


@pytest.fixture(scope="session")
def opensearch_url(opensearch_classpath, tmp_path_factory):
    """The URL of a real single-node OpenSearch cluster, green, for the whole session."""
    import opensearch_node
    node = opensearch_node.single_node(opensearch_classpath, tmp_path_factory.mktemp("opensearch"))
    yield node.url
    node.stop()


@pytest.fixture
def opensearch_pair(opensearch_classpath, tmp_path):
    """Two nodes (two JVMs) in one cluster, green; stopped after the test."""
    import opensearch_node
    nodes = opensearch_node.two_nodes(opensearch_classpath, tmp_path / "pair")
    yield nodes
    for node in nodes:
        node.stop()


def pytest_terminal_summary(terminalreporter):
    import opensearch_node
    if opensearch_node.TIMINGS:
        terminalreporter.write_sep("-", "OpenSearch test cluster")
        for what, seconds in opensearch_node.TIMINGS.items():
            terminalreporter.write_line(f"{what}: {seconds:.1f}")
