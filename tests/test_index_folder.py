"""Index folders: only a folder that proves to be an index is read, locked or cleaned."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from clonus_index import (CacheError, IndexDamagedError, IndexNotFoundError, IndexVersionError,
                          build_index, open_index)
from clonus_index.cli import cli
from clonus_index.index import CURRENT, write_index
from clonus_index.index_folder import FORMAT_VERSION, LOCK, MARKER

ROOT = Path(__file__).resolve().parent.parent


def _snapshot(root: Path) -> dict:
    """Every path under ``root`` with its bytes (files) or None (folders)."""
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


@pytest.fixture
def leveldb(tmp_path) -> Path:
    """A browser-profile-like folder: a ``CURRENT`` file beside folders of the user's files."""
    folder = tmp_path / "lv"
    folder.mkdir()
    (folder / CURRENT).write_text("MANIFEST-000001\n")
    (folder / "gen-photos").mkdir()
    (folder / "gen-photos" / "a.jpg").write_text("x\n")
    (folder / "000003.log").write_bytes(b"\0\1")
    return folder


def test_a_build_into_a_folder_that_is_no_index_touches_nothing(leveldb, seed_path):
    before = _snapshot(leveldb)
    result = CliRunner().invoke(cli, ["build", str(seed_path), "--index", str(leveldb)])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: {leveldb}: folder is not a clonus_index index and is not empty; "
        "choose another --index path (nothing was changed)")
    assert _snapshot(leveldb) == before  # no lock file, no marker, a.jpg still there


def test_a_search_with_the_cache_pointed_at_a_folder_that_is_no_index_touches_nothing(
        leveldb, monkeypatch):
    before = _snapshot(leveldb)
    monkeypatch.setenv("CLONUS_INDEX_DIR", str(leveldb))
    result = CliRunner().invoke(cli, ["search", "x"])
    assert result.exit_code == 1
    assert "holds something other than an index" in result.stderr
    with pytest.raises(CacheError):
        open_index()
    with pytest.raises(IndexNotFoundError, match="not a clonus_index index"):
        open_index(leveldb)
    assert _snapshot(leveldb) == before


@pytest.mark.slow
def test_the_reported_commands_delete_nothing(leveldb, seed_path):
    """The commands exactly as a user types them, in real processes."""
    before = _snapshot(leveldb)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code = "import sys; from clonus_index.cli import main; sys.argv[0] = 'clonus-index'; main()"
    build = subprocess.run([sys.executable, "-c", code, "build", str(seed_path), "--index",
                            str(leveldb)], env=env, capture_output=True, text=True)
    search = subprocess.run([sys.executable, "-c", code, "search", "x"],
                            env=dict(env, CLONUS_INDEX_DIR=str(leveldb)),
                            capture_output=True, text=True)
    assert (build.returncode, search.returncode) == (1, 1), (build.stderr, search.stderr)
    assert _snapshot(leveldb) == before


@pytest.mark.parametrize("layout", [
    {LOCK: "", "notes.txt": "mine"},
    {CURRENT: "../victim\n"},
    {CURRENT: "gen-20240101000000-deadbeef\n", "gen-20240101000000-deadbeef/a.jpg": "x"},
    {LOCK: "", "gen-20240101000000-deadbeef.tmp/holiday.jpg": "x"},
])
def test_old_names_alone_do_not_make_a_folder_an_index(tmp_path, seed_corpus, layout):
    folder = tmp_path / "f"
    for name, text in layout.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    before = _snapshot(folder)
    with pytest.raises(IndexNotFoundError, match="not a clonus_index index"):
        open_index(folder)
    with pytest.raises(IndexDamagedError, match="not a clonus_index index"):
        write_index(seed_corpus, folder)
    assert _snapshot(folder) == before


def test_every_build_writes_the_marker(tmp_path, seed_corpus):
    path = tmp_path / "ix"
    write_index(seed_corpus, path)
    assert json.loads((path / MARKER).read_text()) == {
        "project": "clonus_index", "format_version": FORMAT_VERSION}
    empty = tmp_path / "empty"
    empty.mkdir()
    write_index(seed_corpus, empty)
    assert (empty / MARKER).is_file()


def test_a_build_removes_only_the_generations_it_wrote(tmp_path, seed_corpus):
    path = tmp_path / "ix"
    write_index(seed_corpus, path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    mine = {"gen-photos/a.jpg": "x", "notes.txt": "n", "gen-2024/b.txt": "y",
            ".CURRENT.backup": "z", "gen-20240101000000-deadbeef.old/c": "w"}
    for name, text in mine.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    (path / "gen-20240101000000-0badf00d").symlink_to(outside)
    for _ in range(3):
        write_index(seed_corpus, path)
    for name, text in mine.items():
        assert (path / name).read_text() == text
    assert (outside / "keep.txt").read_text() == "keep"
    assert len(open_index(path)) == len(seed_corpus.passages)


@pytest.mark.parametrize("pointer", ["../victim", "/tmp", "gen-photos", "..", ""])
def test_current_may_only_name_a_generation_of_its_own_folder(tmp_path, seed_corpus, pointer):
    path = tmp_path / "ix"
    write_index(seed_corpus, path)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "meta.json").write_text(json.dumps({"schema_version": 1}))
    (path / CURRENT).write_text(pointer + "\n")
    with pytest.raises(IndexDamagedError, match=r"CURRENT names no generation.*rebuild it with"):
        open_index(path)
    write_index(seed_corpus, path)  # the fix the message gives works
    assert len(open_index(path)) == len(seed_corpus.passages)
    assert _snapshot(victim) == {"meta.json": json.dumps({"schema_version": 1}).encode()}


def _unmarked(path: Path, seed_path) -> None:
    """An index as clonus_index wrote it before folders had the marker."""
    build_index([seed_path], path)
    (path / MARKER).unlink()


def test_an_index_from_before_the_marker_is_recognised_by_its_exact_layout(tmp_path, seed_path,
                                                                          seed_corpus):
    path = tmp_path / "old"
    _unmarked(path, seed_path)
    (path / "gen-20240101000000-deadbeef.tmp").mkdir()  # a build that died, back then
    assert len(open_index(path)) == len(seed_corpus.passages)
    assert not (path / MARKER).exists()  # reading writes nothing
    write_index(seed_corpus, path)
    assert (path / MARKER).is_file()
    assert not (path / "gen-20240101000000-deadbeef.tmp").exists()


@pytest.mark.parametrize("extra", ["notes.txt", "gen-extra/a.jpg", "GEN/x"])
def test_an_old_layout_with_anything_else_in_it_is_not_taken_for_an_index(tmp_path, seed_path,
                                                                         seed_corpus, extra):
    path = tmp_path / "old"
    _unmarked(path, seed_path)
    generation = (path / CURRENT).read_text().strip()
    (path / extra).parent.mkdir(parents=True, exist_ok=True)
    (path / extra).write_text("mine")
    before = _snapshot(path)
    with pytest.raises(IndexDamagedError, match="not a clonus_index index"):
        write_index(seed_corpus, path)
    assert _snapshot(path) == before
    (path / extra).unlink()
    (path / generation / "holiday.jpg").write_text("mine")  # inside a generation, too
    before = _snapshot(path)
    with pytest.raises(IndexDamagedError, match="not a clonus_index index"):
        write_index(seed_corpus, path)
    assert _snapshot(path) == before


def test_an_old_bundled_index_without_the_marker_is_rebuilt(tmp_path, monkeypatch, seed_path):
    path = tmp_path / "bundled"
    monkeypatch.setenv("CLONUS_INDEX_DIR", str(path))
    first = open_index()
    old_generation = first._stored.generation
    (path / MARKER).unlink()
    meta_file = old_generation / "meta.json"
    meta_file.write_text(json.dumps(dict(json.loads(meta_file.read_text()), code_hash="older")))
    second = open_index()
    assert second._stored.generation != old_generation and (path / MARKER).is_file()


def test_a_folder_of_a_newer_format_is_neither_read_nor_written(tmp_path, seed_corpus):
    path = tmp_path / "ix"
    write_index(seed_corpus, path)
    (path / MARKER).write_text(json.dumps({"project": "clonus_index",
                                           "format_version": FORMAT_VERSION + 1}))
    before = _snapshot(path)
    with pytest.raises(IndexVersionError, match="newer than this clonus_index reads"):
        open_index(path)
    with pytest.raises(IndexVersionError, match="upgrade clonus_index"):
        write_index(seed_corpus, path)
    assert _snapshot(path) == before


def test_a_dangling_symbolic_link_is_named_as_one(tmp_path, seed_path):
    link = tmp_path / "ix"
    link.symlink_to(tmp_path / "gone")
    for args in (["build", str(seed_path), "--index", str(link)],
                 ["search", "clonus", "--index", str(link)]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 1
        assert result.stderr.strip().startswith(
            f"Error: {link}: is a symbolic link to {tmp_path / 'gone'}, which does not exist; "
            "choose another --index path")
    assert link.is_symlink() and not (tmp_path / "gone").exists()


def test_a_failed_first_build_leaves_no_folder_and_no_lock(tmp_path, seed_corpus):
    """Disk full on a first build: "nothing was written" is true, the folder is as it was."""
    import errno

    def disk_full(tmp: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    new = tmp_path / "parent" / "new"
    with pytest.raises(OSError, match="nothing was written"):
        write_index(seed_corpus, new, storage_hook=disk_full)
    assert not new.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(OSError, match="nothing was written"):
        write_index(seed_corpus, empty, storage_hook=disk_full)
    assert empty.is_dir() and not any(empty.iterdir())
    write_index(seed_corpus, empty)
    assert len(open_index(empty)) == len(seed_corpus.passages)


def test_a_failed_first_build_gives_the_lock_to_the_next_builder(tmp_path, seed_corpus,
                                                               monkeypatch):
    """A builder that waited on a lock file a failed first build removed takes a fresh one."""
    import threading
    from clonus_index import index_folder

    path = tmp_path / "ix"
    released = threading.Event()
    errors = []

    def failing(tmp: Path) -> None:
        released.wait(5)
        raise OSError(28, "No space left on device")

    def first():
        try:
            write_index(seed_corpus, path, storage_hook=failing)
        except OSError as exc:
            errors.append(exc)

    thread = threading.Thread(target=first)
    thread.start()
    while not (path / LOCK).exists():
        pass
    real_acquire = index_folder._acquire
    calls = []

    def acquire(p, wait):
        calls.append(p)
        released.set()
        return real_acquire(p, wait)

    monkeypatch.setattr(index_folder, "_acquire", acquire)
    try:
        write_index(seed_corpus, path)
    finally:
        thread.join()
    assert errors and len(open_index(path)) == len(seed_corpus.passages)
    assert (path / MARKER).is_file() and (path / LOCK).is_file()


def test_a_marker_write_whose_temporary_file_another_builder_removed_still_builds(
        tmp_path, seed_corpus, monkeypatch):
    """Two first builds: the one holding the lock removes the other's marker swap file as debris."""
    from clonus_index import pipeline
    from clonus_index.index_folder import cleanup
    path = tmp_path / "ix"
    real = pipeline._write_beside

    def raced(target, lines):
        tmp = real(target, lines)
        if target.name == MARKER and not (target.parent / MARKER).exists():
            real_marker = real(target, lines)  # the other builder's marker lands first
            os.replace(real_marker, target)
            cleanup(target.parent, keep=set())  # and its cleanup takes our swap file
        return tmp

    monkeypatch.setattr(pipeline, "_write_beside", raced)
    write_index(seed_corpus, path)
    assert len(open_index(path)) == len(seed_corpus.passages)
