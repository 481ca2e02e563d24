import threading
import errno
import json
import re
import os
import subprocess
import sys
from pathlib import Path

import pytest

import clonus_index
from clonus_index import (IndexDamagedError, IndexNotFoundError, IndexVersionError,
                          build_index, ingest, open_index)
from clonus_index.bundled import default_index_dir
from clonus_index.index import CURRENT, code_digest, read_index, write_index

ROOT = Path(__file__).resolve().parent.parent


def _ids(index, query="botox injections"):
    return [h.passage.id for h in index.search(query)]


def _generations(path: Path):
    return sorted(p.name for p in path.iterdir() if p.name.startswith("gen-"))


def test_readers_see_the_old_index_until_the_swap(tmp_path, seed_path, seed_corpus):
    path = tmp_path / "ix"
    old = build_index([seed_path], path)
    before = _ids(old)
    old_generation = (path / CURRENT).read_text().strip()
    seen = {}

    def mid_build(tmp: Path) -> None:
        # The new generation is complete on disk but not yet published.
        seen["current"] = (path / CURRENT).read_text().strip()
        seen["ids"] = _ids(open_index(path))
        seen["tmp_is_index"] = tmp.name.endswith(".tmp")

    smaller = clonus_index.Corpus(seed_corpus.articles, seed_corpus.passages[:10])
    write_index(smaller, path, storage_hook=mid_build)
    assert seen == {"current": old_generation, "ids": before, "tmp_is_index": True}
    new = open_index(path)
    assert len(new) == 10 and len(old) == len(seed_corpus.passages)
    assert (path / CURRENT).read_text().strip() != old_generation
    assert not any(p.name.endswith(".tmp") for p in path.iterdir())
    # the old generation is kept one build longer for readers that were opening it
    assert old_generation in _generations(path)
    write_index(smaller, path)
    assert old_generation in _generations(path)  # `old` still serves it: never removed under it
    old.close()
    new.close()
    write_index(smaller, path)
    assert old_generation not in _generations(path) and len(_generations(path)) == 2


def test_failed_build_keeps_the_previous_index_and_releases_the_lock(tmp_path, seed_path, seed_corpus):
    path = tmp_path / "ix"
    build_index([seed_path], path)
    before = _ids(open_index(path))

    def disk_full(tmp: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_index(seed_corpus, path, storage_hook=disk_full)
    assert _ids(open_index(path)) == before
    assert not any(p.name.endswith(".tmp") for p in path.iterdir())
    write_index(seed_corpus, path, lock_wait=0)  # lock was released: no waiting needed


def test_incompatible_schema_version_asks_for_a_rebuild(tmp_path, seed_path):
    path = tmp_path / "ix"
    build_index([seed_path], path)
    meta_file = path / (path / CURRENT).read_text().strip() / "meta.json"
    meta = json.loads(meta_file.read_text())
    meta["schema_version"] = 0
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(IndexVersionError, match=r"schema version 0.*rebuild it with: clonus-index build"):
        open_index(path)


def test_missing_empty_and_foreign_folders(tmp_path, seed_corpus):
    with pytest.raises(IndexNotFoundError, match="no index here; build one with"):
        open_index(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(IndexNotFoundError, match="folder is empty; rebuild it with"):
        open_index(empty)
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(IndexNotFoundError, match="not a clonus_index index") as info:
        open_index(foreign)
    assert "rebuild it with" not in str(info.value)  # a build would refuse this folder
    with pytest.raises(IndexDamagedError, match="not a clonus_index index and is not empty"):
        write_index(seed_corpus, foreign)
    assert [p.name for p in foreign.iterdir()] == ["cat.jpg"]


def test_a_foreign_folder_or_file_is_not_offered_a_build_into_it(seed_corpus, foreign_paths):
    """The reader must not suggest a build that the writer then refuses."""
    foreign, a_file = foreign_paths
    for path in (foreign, a_file):
        with pytest.raises((IndexNotFoundError, IndexDamagedError)) as info:
            open_index(path)
        message = str(info.value)
        assert message.startswith(f"{path}: ") and "choose another --index path" in message
        assert "rebuild it with" not in message and f"--index {path}" not in message
        with pytest.raises(IndexDamagedError, match="choose another --index path"):
            write_index(seed_corpus, path)


def test_an_unfinished_first_build_still_says_rebuild(tmp_path, seed_corpus):
    """A folder a first build died in is an index folder: rebuilding into it works."""
    path = tmp_path / "ix"
    path.mkdir()
    (path / ".build.lock").write_text("")
    (path / "gen-20240101000000-deadbeef.tmp").mkdir()
    with pytest.raises(IndexNotFoundError, match=r"rebuild it with: clonus-index build SOURCES"):
        open_index(path)
    write_index(seed_corpus, path)
    assert len(open_index(path)) == len(seed_corpus.passages)


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o002])
def test_the_index_pointer_follows_the_umask(tmp_path, seed_corpus, umask):
    """CURRENT must be as readable as the rest of the index, not 0600."""
    old = os.umask(umask)
    try:
        write_index(seed_corpus, tmp_path / "ix")
    finally:
        os.umask(old)
    expected = 0o666 & ~umask
    assert (tmp_path / "ix" / CURRENT).stat().st_mode & 0o777 == expected
    assert (tmp_path / "ix" / (tmp_path / "ix" / CURRENT).read_text().strip() / "meta.json"
            ).stat().st_mode & 0o777 == expected


def test_opening_retries_while_a_swap_settles(tmp_path, seed_path, monkeypatch):
    path = tmp_path / "ix"
    build_index([seed_path], path)
    import clonus_index.index as index_module
    real = index_module._read_generation
    calls = []

    def flaky(p, *generation):
        calls.append(p)
        if len(calls) < 3:
            raise FileNotFoundError(2, "No such file", str(p / "gen-x" / "_MAIN_1.toc"))
        return real(p, *generation)

    monkeypatch.setattr(index_module, "_read_generation", flaky)
    assert len(read_index(path).articles) == 1
    assert len(calls) == 3


def test_default_index_location_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("CLONUS_INDEX_DIR", raising=False)
    assert default_index_dir().parent == tmp_path / "xdg" / "clonus_index"
    monkeypatch.setenv("CLONUS_INDEX_DIR", str(tmp_path / "mine"))
    assert default_index_dir() == tmp_path / "mine"
    index = open_index()
    assert index.path == tmp_path / "mine" and len(index) > 20


@pytest.mark.parametrize("key", ["sources_hash", "library_version", "code_hash"])
def test_bundled_index_rebuilds_when_what_built_it_changed(tmp_path, monkeypatch, key):
    """A new article, version or code (a newer install) never answers from old passages."""
    monkeypatch.setenv("CLONUS_INDEX_DIR", str(tmp_path / "ix"))
    first = open_index()
    assert first.meta["code_hash"] == code_digest()
    meta_file = first._stored.generation / "meta.json"
    meta = json.loads(meta_file.read_text())
    meta[key] = "from something older"
    meta_file.write_text(json.dumps(meta))
    second = open_index()
    assert second._stored.generation != first._stored.generation
    assert second.meta[key] != "from something older"
    assert open_index()._stored.generation == second._stored.generation  # not rebuilt again


@pytest.mark.slow
def test_two_first_users_of_the_bundled_corpus_both_succeed(tmp_path):
    env = dict(os.environ, CLONUS_INDEX_DIR=str(tmp_path / "fresh"), PYTHONPATH=str(ROOT))
    code = "import clonus_index; print(clonus_index.search('botox')[0].passage.id)"
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outs
    assert len({out for out, _ in outs}) == 1
    assert len(_generations(tmp_path / "fresh")) == 1


@pytest.mark.parametrize("meta, message", [
    ("[]", "is not a JSON object"), ("null", "is not a JSON object"),
    ('"text"', "is not a JSON object"), ("3", "is not a JSON object"),
    ('{"schema_version": "1"}', "has no valid schema version ('1')"),
    ('{"schema_version": true}', "has no valid schema version (True)"),
    ("{}", "has no valid schema version (None)"),
])
def test_metadata_of_the_wrong_shape_is_named_and_the_bundled_index_rebuilds(
        tmp_path, monkeypatch, meta, message):
    path = tmp_path / "bundled"
    monkeypatch.setenv("CLONUS_INDEX_DIR", str(path))
    first = open_index()
    (first._stored.generation / "meta.json").write_text(meta)
    with pytest.raises(IndexDamagedError, match=re.escape(message) + ".*rebuild it with"):
        open_index(path)
    assert len(open_index()) == len(first)  # the bundled index rebuilt itself
    assert open_index()._stored.generation != first._stored.generation


def test_a_truncated_articles_file_is_named_with_the_fix(seed_path, tmp_path):
    from clonus_index import IndexDamagedError, build_index, open_index
    path = tmp_path / "ix"
    index = build_index([seed_path], path)
    articles = index._stored.generation / "articles.jsonl"
    articles.write_bytes(articles.read_bytes()[:-100])
    with pytest.raises(IndexDamagedError, match=r"index is damaged.*rebuild it with: clonus-index build"):
        open_index(path)


def test_a_build_never_removes_the_generation_an_open_index_serves(tmp_path, seed_path):
    """A long-lived reader (a server, a notebook) keeps its generation until it closes it.

    Its searchers and articles are opened lazily, in new threads too, so
    the files must still be there however many builds happen meanwhile.
    """
    from clonus_index import build_index, open_index
    path = tmp_path / "ix"
    build_index([seed_path], path)
    reader = open_index(path)  # no article read yet: they are read when a hit needs them
    generation = path / (path / "CURRENT").read_text().strip()
    other = tmp_path / "gout.txt"
    for n in range(3):  # each build changes something, or it would write nothing
        other.write_text(f"Gout\n\nGout is a form of arthritis. Build {n}.\n")
        build_index([seed_path, other], path)
    assert generation.is_dir()
    results = []
    worker = threading.Thread(target=lambda: results.extend(reader.search("serotonin syndrome")))
    worker.start()
    worker.join()
    assert results[0].passage.article.title == "What is clonus? Everything you need to know"
    reader.close()
    build_index([seed_path], path)
    assert not generation.exists()
    assert not (path / "CURRENT").read_text().strip() == generation.name


def test_a_stored_passage_keeps_its_kind_and_an_older_record_gets_its_sections_kind(seed_corpus):
    from clonus_index.index import passage_from_record
    p = seed_corpus.passages[10]
    record = p.to_dict()
    assert passage_from_record(record, p.article).kind == p.kind
    record.pop("kind")
    record["section"] = "Causes of clonus"
    assert passage_from_record(record, p.article).kind == "Causes"
