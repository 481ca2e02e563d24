"""Faults, concurrency and damage, with real processes and real files."""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import clonus_index
from clonus_index import (CacheError, IndexDamagedError, IndexWriteError, build_index,
                          open_index)
from clonus_index.cli import cli
from clonus_index.index import CURRENT, write_index

from conftest import cli_held_to_permissions

ROOT = Path(__file__).resolve().parent.parent
QUERY = "botox stroke ankle"

GOUT = ("Gout is a form of arthritis that causes sudden pain in a joint.  Doctors diagnose gout "
        "with a blood test and by examining fluid from the joint.  Treatment for gout includes "
        "rest, ice packs and medications that lower uric acid.  Most people with gout do well.")


def _answer(path):
    index = open_index(path)
    return len(index), [h.passage.id for h in index.search(QUERY)]


def _env():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return env


@pytest.fixture
def two_corpora(tmp_path, seed_path):
    """Two different source folders, so each complete index gives its own answer."""
    a = tmp_path / "a"
    a.mkdir()
    shutil.copy(seed_path, a / "clonus.txt")
    b = tmp_path / "b"
    b.mkdir()
    shutil.copy(seed_path, b / "clonus.txt")
    (b / "gout.txt").write_text(GOUT)
    return a, b


# ---------------------------------------------------------------------------
# 1. kill -9 during a build
# ---------------------------------------------------------------------------

_KILLED_BUILD = textwrap.dedent("""
    import os, sys, time
    import clonus_index.index as I
    import clonus_index.pipeline as G
    stage, source, target, action = sys.argv[1:]

    def pause():
        print("READY", flush=True)
        time.sleep(120)

    if stage == "reading":
        G.read_document = lambda path: pause()
    elif stage == "writing":
        real_document, seen = I._document, []
        def slow(p, *rest):
            seen.append(p)
            if len(seen) == (1 if action == "add" else 10):
                pause()
            return real_document(p, *rest)
        I._document = slow
    elif stage == "renamed":          # new generation in place, CURRENT not yet replaced
        I._fsync_dir = lambda path: pause()
    elif stage == "swap":             # right before CURRENT is replaced
        real_replace = I.os.replace
        def replace(src, dst):
            if str(dst).endswith("CURRENT"):
                pause()
            return real_replace(src, dst)
        I.os.replace = replace
    from clonus_index import build_index, open_index
    if action == "add":
        open_index(target).add([source])
    else:
        build_index([source], target)
""")


def _kill_build_at(tmp_path, stage: str, source, path, action: str = "build") -> int:
    """Start a build of ``source`` into ``path`` (or, with ``action="add"``, an add of it
    to ``path``), kill -9 it at ``stage``; its return code."""
    script = tmp_path / "killed_build.py"
    script.write_text(_KILLED_BUILD)
    proc = subprocess.Popen([sys.executable, str(script), stage, str(source), str(path), action],
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "READY", proc.stderr.read()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    return proc.returncode


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["reading", "writing", "renamed", "swap"])
def test_kill_9_during_a_build_keeps_the_previous_index(tmp_path, two_corpora, stage):
    a, b = two_corpora
    path = tmp_path / "ix"
    build_index([a], path)
    before = _answer(path)
    assert _kill_build_at(tmp_path, stage, b, path) == -signal.SIGKILL
    assert _answer(path) == before  # the previous index answers, unchanged
    build_index([b], path)  # the next build succeeds and clears the debris
    assert _answer(path)[0] == len(clonus_index.ingest([b]).passages) > before[0]
    assert not [p for p in path.iterdir() if p.name.endswith(".tmp")]
    assert len([p for p in path.iterdir() if p.name.startswith("gen-")]) <= 2


@pytest.mark.slow
def test_a_first_build_killed_mid_way_leaves_nothing_after_the_next_build(tmp_path, two_corpora):
    """The half-written generation of a killed build lives no longer than the next build."""
    a, b = two_corpora
    path = tmp_path / "ix"
    _kill_build_at(tmp_path, "writing", b, path)
    (unfinished,) = [p for p in path.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(clonus_index.IndexNotFoundError, match="holds no finished index; rebuild"):
        open_index(path)
    build_index([a], path)
    assert not unfinished.exists()
    assert [p.name for p in path.iterdir() if p.name.startswith("gen-")] == [
        (path / CURRENT).read_text().strip()]


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["reading", "writing", "renamed", "swap"])
def test_kill_9_during_an_add_keeps_the_previous_index(tmp_path, two_corpora, stage):
    a, b = two_corpora
    path = tmp_path / "ix"
    build_index([a], path)
    before, generation = _answer(path), _generation(path)
    assert _kill_build_at(tmp_path, stage, b / "gout.txt", path, action="add") == -signal.SIGKILL
    assert _generation(path) == generation and _answer(path) == before
    update = open_index(path).add([b / "gout.txt"])  # the next add succeeds, clears the debris
    assert update.added == ("gout",) and _answer(path)[0] > before[0]
    assert not [p for p in path.iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------------------
# 2. readers during rebuilds, 3. two builders
# ---------------------------------------------------------------------------

_READER = textwrap.dedent("""
    import json, os, sys, time
    from clonus_index import open_index
    path, stop, query, *progress = sys.argv[1:]
    seen, errors, count = set(), [], 0
    deadline = time.time() + 600  # a hang guard only: the test stops the readers
    while not os.path.exists(stop) and time.time() < deadline:
        try:
            index = open_index(path)
            seen.add(json.dumps([len(index), [h.passage.id for h in index.search(query)]]))
            index.close()
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        count += 1
        if count == 2:
            open(f"{stop}.{os.getpid()}", "w").close()  # searching: the writer may go on
        for name in progress:  # how many reads so far, for a test that counts them
            with open(name + ".tmp", "w") as fh:
                fh.write(str(count))
            os.replace(name + ".tmp", name)
    print(json.dumps({"seen": sorted(seen), "errors": errors, "count": count}))
""")


def _wait_for_reads(readers: list, progress: list[Path], at_least: int) -> None:
    """Wait until every reader has read the index ``at_least`` times (however slow the machine)."""
    deadline = time.monotonic() + 600  # a hang guard only
    while time.monotonic() < deadline:
        if all(p.exists() and int(p.read_text() or 0) >= at_least for p in progress):
            return
        assert all(r.poll() is None for r in readers), [r.communicate() for r in readers]
        time.sleep(0.05)
    raise AssertionError(f"the readers did not read {at_least} times in 10 minutes")


@pytest.mark.slow
def test_four_readers_never_fail_while_the_index_is_rebuilt(tmp_path, two_corpora):
    a, b = two_corpora
    path = tmp_path / "ix"
    build_index([b], path)
    answer_b = _answer(path)
    build_index([a], path)
    answer_a = _answer(path)
    script, stop = tmp_path / "reader.py", tmp_path / "stop"
    script.write_text(_READER)
    progress = [tmp_path / f"reads-{i}" for i in range(4)]
    readers = [subprocess.Popen([sys.executable, str(script), str(path), str(stop), QUERY, str(p)],
                                env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for p in progress]
    # Reads counted, not timed: each reader reads before the first build and
    # again between builds, however slow the machine.
    _wait_for_reads(readers, progress, 1)
    for n, source in enumerate((b, a, b, a, b), 2):
        build_index([source], path)
        _wait_for_reads(readers, progress, n)
    stop.touch()
    reports = [json.loads(r.communicate(timeout=600)[0]) for r in readers]
    allowed = {json.dumps([n, ids]) for n, ids in (answer_a, answer_b)}
    for report in reports:
        assert report["errors"] == []
        assert report["count"] > 5
        assert set(report["seen"]) <= allowed  # every answer came from one complete index


@pytest.mark.slow
def test_readers_see_the_index_before_or_after_an_add_never_between(tmp_path, two_corpora):
    a, b = two_corpora
    path = tmp_path / "ix"
    build_index([a], path)
    without = len(open_index(path))
    index = open_index(path)
    index.add([b / "gout.txt"])
    with_gout = len(index)
    assert with_gout > without
    script, stop = tmp_path / "reader.py", tmp_path / "stop"
    script.write_text(_READER)
    readers = [subprocess.Popen([sys.executable, str(script), str(path), str(stop), "gout joint"],
                                env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(3)]
    rounds, until = 0, None
    while rounds < 4 or until is None or time.monotonic() < until:
        index.remove(["gout"])
        time.sleep(0.1)
        index.add([b / "gout.txt"])
        time.sleep(0.1)
        rounds += 1
        if until is None and all(Path(f"{stop}.{r.pid}").exists() for r in readers):
            until = time.monotonic() + 3  # every reader is searching: a few more rounds
        assert rounds < 500, "the readers never started searching"
    stop.touch()
    reports = [json.loads(r.communicate(timeout=120)[0]) for r in readers]
    for report in reports:
        assert report["errors"] == []
        assert report["count"] >= 2
        for n, ids in map(json.loads, report["seen"]):
            # The whole article or none of it: its passages and the count move together.
            found = any(i.startswith("gout-") for i in ids)
            assert (n, found) in ((without, False), (with_gout, True)), (n, ids)


_BUILDER = "import sys; from clonus_index import build_index; build_index([sys.argv[1]], sys.argv[2])"


@pytest.mark.slow
def test_two_builders_at_once_both_end_well(tmp_path, two_corpora):
    a, b = two_corpora
    path = tmp_path / "ix"
    procs = [subprocess.Popen([sys.executable, "-c", _BUILDER, str(src), str(path)], env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for src in (a, b)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    n, ids = _answer(path)
    assert n in (len(clonus_index.ingest([a]).passages), len(clonus_index.ingest([b]).passages))
    assert not [p for p in path.iterdir() if p.name.endswith(".tmp")]


# ---------------------------------------------------------------------------
# 4. damage
# ---------------------------------------------------------------------------

def _generation(path):
    return path / (path / CURRENT).read_text().strip()


def _damage(path, how):
    gen = _generation(path)
    if how == "deleted segment":
        next(gen.glob("*.seg")).unlink()
    elif how == "truncated toc":
        toc = next(gen.glob("*.toc"))
        toc.write_bytes(toc.read_bytes()[:20])
    elif how == "deleted generation":
        shutil.rmtree(gen)
    elif how == "garbled meta":
        (gen / "meta.json").write_text("{not json")


@pytest.mark.parametrize("how", ["deleted segment", "truncated toc", "deleted generation",
                                 "garbled meta"])
def test_a_damaged_index_names_the_fix(tmp_path, seed_path, how):
    path = tmp_path / "ix"
    build_index([seed_path], path)
    _damage(path, how)
    with pytest.raises(IndexDamagedError, match=r"rebuild it with: clonus-index build SOURCES"):
        open_index(path)
    result = CliRunner().invoke(cli, ["search", "clonus", "--index", str(path)])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {path}: ") and "clonus-index build" in line


@pytest.mark.parametrize("how", ["deleted segment", "truncated toc", "garbled meta"])
def test_the_bundled_index_rebuilds_itself_after_damage(tmp_path, monkeypatch, how):
    monkeypatch.setenv("CLONUS_INDEX_DIR", str(tmp_path / "bundled"))
    expected = [h.passage.id for h in open_index().search(QUERY)]
    _damage(tmp_path / "bundled", how)
    assert [h.passage.id for h in open_index().search(QUERY)] == expected


# ---------------------------------------------------------------------------
# 7. a failed write, 8. the environment
# ---------------------------------------------------------------------------

def test_disk_full_during_the_whoosh_commit(tmp_path, seed_path, seed_corpus, monkeypatch):
    """A storage wrapper fails writes the way a full disk does, inside Whoosh's own commit."""
    from whoosh.filedb import filestore

    path = tmp_path / "ix"
    build_index([seed_path], path)
    before = _answer(path)
    real_create = filestore.FileStorage.create_file

    def full_disk(self, name, *args, **kwargs):
        if name.endswith(".seg") or name.endswith(".toc"):
            raise OSError(errno.ENOSPC, "No space left on device", name)
        return real_create(self, name, *args, **kwargs)

    monkeypatch.setattr(filestore.FileStorage, "create_file", full_disk)
    with pytest.raises(IndexWriteError) as info:
        write_index(seed_corpus, path)
    assert str(info.value) == (
        f"{path}: could not write the index (No space left on device); the previous index is "
        "unchanged. Free some space, or choose another folder with --index PATH")
    monkeypatch.setattr(filestore.FileStorage, "create_file", real_create)
    assert _answer(path) == before
    assert not [p for p in path.iterdir() if p.name.endswith(".tmp")]
    write_index(seed_corpus, path, lock_wait=0)  # no lock was left behind


def test_disk_full_during_an_add(tmp_path, two_corpora, monkeypatch):
    from whoosh.filedb import filestore

    a, b = two_corpora
    path = tmp_path / "ix"
    build_index([a], path)
    index = open_index(path)
    before, generation = _answer(path), _generation(path)
    real_create = filestore.FileStorage.create_file

    def full_disk(self, name, *args, **kwargs):
        if ".toc" in name:  # the new table of contents, after the new segment
            raise OSError(errno.ENOSPC, "No space left on device", name)
        return real_create(self, name, *args, **kwargs)

    monkeypatch.setattr(filestore.FileStorage, "create_file", full_disk)
    with pytest.raises(IndexWriteError, match="No space left on device.*the previous index is "
                                              "unchanged"):
        index.add([b / "gout.txt"])
    monkeypatch.setattr(filestore.FileStorage, "create_file", real_create)
    assert _generation(path) == generation and _answer(path) == before and len(index) == before[0]
    assert not [p for p in path.iterdir() if p.name.endswith(".tmp")]
    assert index.add([b / "gout.txt"]).added == ("gout",)  # no lock was left behind


def test_cli_reports_a_failed_build_in_one_line(tmp_path, seed_path, monkeypatch):
    from whoosh.filedb import filestore

    def full_disk(self, name, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", name)

    monkeypatch.setattr(filestore.FileStorage, "create_file", full_disk)
    result = CliRunner().invoke(cli, ["build", str(seed_path), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"Error: {tmp_path / 'ix'}: could not write the index (No space left on device); nothing "
        "was written. Free some space, or choose another folder with --index PATH")
    assert not (tmp_path / "ix").exists()  # "nothing was written": no folder, no lock left


def test_unusable_cache_folder_says_how_to_choose_another(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("CLONUS_INDEX_DIR", str(blocker / "index"))
    with pytest.raises(CacheError, match="choose another folder with CLONUS_INDEX_DIR=PATH"):
        open_index()
    result = CliRunner().invoke(cli, ["search", "clonus"])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert "CLONUS_INDEX_DIR=PATH, or use --index PATH" in line


def test_full_cache_folder_says_how_to_choose_another(tmp_path, monkeypatch):
    from whoosh.filedb import filestore

    def full_disk(self, name, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", name)

    monkeypatch.setenv("CLONUS_INDEX_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(filestore.FileStorage, "create_file", full_disk)
    with pytest.raises(CacheError, match=r"\(No space left on device\); choose another folder"):
        open_index()


def test_read_only_cache_folder(tmp_path):
    cache = tmp_path / "ro"
    cache.mkdir()
    cache.chmod(0o555)
    env = dict(_env(), CLONUS_INDEX_DIR=str(cache / "index"))
    result = cli_held_to_permissions(["search", "clonus"], env)
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "choose another folder" in line and "CLONUS_INDEX_DIR" in line
    assert not any(cache.iterdir())


def test_an_existing_index_in_a_read_only_folder_still_answers(tmp_path, seed_path):
    path = tmp_path / "ix"
    build_index([seed_path], path)
    before = _answer(path)
    modes = {}
    for p in [path, *path.rglob("*")]:
        modes[p] = p.stat().st_mode
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        assert _answer(path) == before
        result = cli_held_to_permissions(["search", QUERY, "--index", str(path), "--json"],
                                          _env())
        assert result.returncode == 0, result.stderr
        assert [h["passage"]["id"] for h in json.loads(result.stdout)["hits"]] == before[1]
    finally:
        for p, mode in modes.items():
            p.chmod(mode)


def test_a_build_into_a_read_only_folder_says_what_to_do(tmp_path, seed_path):
    """An index, an empty folder or a missing one under a read-only folder: one line with a fix."""
    index, empty, parent = tmp_path / "ix", tmp_path / "empty", tmp_path / "ro"
    build_index([seed_path], index)
    empty.mkdir()
    parent.mkdir()
    before = _answer(index)
    targets = [index, empty, parent / "new"]
    folders = [index, *index.rglob("*"), empty, parent]
    modes = {p: p.stat().st_mode for p in folders}
    for p in folders:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        for target in targets:
            result = cli_held_to_permissions(["build", str(seed_path), "--index", str(target)],
                                              _env())
            assert result.returncode == 1, result.stderr
            (line,) = result.stderr.strip().splitlines()
            assert line.startswith(f"Error: {target}: could not write the index (Permission "
                                   "denied)"), line
            assert line.endswith("Choose another folder with --index PATH"), line
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    assert _answer(index) == before
    assert not any(empty.iterdir()) and not any(parent.iterdir())


def test_a_cache_folder_holding_something_else_says_how_to_choose_another(foreign_paths,
                                                                          monkeypatch):
    for path in foreign_paths:
        monkeypatch.setenv("CLONUS_INDEX_DIR", str(path))
        with pytest.raises(CacheError, match=r"holds something other than an index; choose "
                                             r"another folder with CLONUS_INDEX_DIR=PATH"):
            open_index()
    folder, a_file = foreign_paths
    assert [p.name for p in folder.iterdir()] == ["cat.jpg"] and a_file.read_text() == "not an index"
