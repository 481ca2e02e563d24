"""Source files on disk: odd names, odd kinds of file, and what cannot be read."""

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from clonus_index import IngestError, SkippedSourceWarning, build_index, ingest
from clonus_index.cli import cli
from clonus_index.index import sources_hash
from clonus_index.reading import iter_sources

from conftest import cli_held_to_permissions

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ("Gout is a form of arthritis that causes sudden pain in a joint.  Doctors diagnose "
           "gout with a blood test.  Treatment for gout includes rest and medication.")
LATIN1 = os.fsdecode(b"latin\xe9name.txt")  # a name whose bytes are not UTF-8


@pytest.fixture
def latin1_folder(tmp_path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / LATIN1).write_text(ARTICLE)
    return folder


def test_a_file_name_that_is_not_utf8_is_read_and_named_with_escapes(latin1_folder, tmp_path):
    assert len(sources_hash([latin1_folder])) == 64
    corpus = ingest([latin1_folder])
    assert corpus.articles[0].source.endswith("src/latin\\xe9name.txt")
    index = build_index([latin1_folder], tmp_path / "ix")
    assert index.search("gout")[0].passage.article.title == "latin\\xe9name"


def test_ingest_of_a_file_name_that_is_not_utf8_writes_both_files(latin1_folder, tmp_path):
    out = tmp_path / "out" / "p.jsonl"
    result = CliRunner().invoke(cli, ["ingest", str(latin1_folder), "--out", str(out)])
    assert result.exit_code == 0, result.output
    (article,) = [json.loads(line) for line in out.with_name("p.articles.jsonl").open()]
    assert article["source"].endswith("latin\\xe9name.txt")
    assert len(out.read_text().splitlines()) == 3


def _held(args):
    """The CLI in a process that permission bits really stop, even as root."""
    return cli_held_to_permissions(args, dict(os.environ, PYTHONPATH=str(ROOT)))


@pytest.fixture
def partly_unreadable(tmp_path):
    folder = tmp_path / "src"
    (folder / "locked").mkdir(parents=True)
    (folder / "locked" / "inside.txt").write_text(ARTICLE)
    (folder / "ok.txt").write_text(ARTICLE)
    (folder / "secret.txt").write_text(ARTICLE)
    (folder / "secret.txt").chmod(0)
    (folder / "locked").chmod(0)
    yield folder
    (folder / "locked").chmod(0o755)


def test_unreadable_subfolders_and_files_are_named_on_stderr(partly_unreadable, tmp_path):
    out = tmp_path / "o.jsonl"
    result = _held(["ingest", str(partly_unreadable), "--out", str(out)])
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert sorted(lines[:2]) == [
        f"Warning: {partly_unreadable / 'locked'}: skipped, cannot read this folder "
        "(Permission denied)",
        f"Warning: {partly_unreadable / 'secret.txt'}: skipped, cannot read it "
        "(Permission denied)"]
    assert lines[2].startswith("1 article(s)")


def test_a_folder_with_nothing_readable_fails(partly_unreadable, tmp_path):
    (partly_unreadable / "ok.txt").unlink()
    result = _held(["build", str(partly_unreadable), "--index", str(tmp_path / "ix")])
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {partly_unreadable}: no readable .txt or .html article files in this folder "
        "(2 skipped)")
    assert not (tmp_path / "ix").exists()


def test_an_unreadable_file_named_directly_exits_1_naming_it(partly_unreadable, tmp_path):
    secret = partly_unreadable / "secret.txt"
    result = _held(["ingest", str(secret), "--out", str(tmp_path / "o.jsonl")])
    assert (result.returncode, result.stderr.strip()) == (
        1, f"Error: {secret}: cannot read it (Permission denied)")


def test_the_library_warns_about_what_it_skips(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "ok.txt").write_text(ARTICLE)
    os.mkfifo(folder / "pipe.txt")
    (folder / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [p.name for p in iter_sources([folder])] == ["ok.txt"]
    assert sorted(str(w.message) for w in caught if w.category is SkippedSourceWarning) == [
        f"{folder / 'gone.txt'}: skipped, a symbolic link to nothing",
        f"{folder / 'pipe.txt'}: skipped, not a regular file"]


def test_symbolic_link_loops_are_named_and_linked_folders_are_read(tmp_path):
    folder = tmp_path / "src"
    (folder / "sub").mkdir(parents=True)
    (folder / "ok.txt").write_text(ARTICLE)
    (folder / "sub" / "inner.txt").write_text(ARTICLE.replace("Gout", "Lupus"))
    (folder / "sub" / "back").symlink_to(folder)              # a loop through a folder
    (folder / "self").symlink_to(folder / "self")             # a link to itself
    (folder / "a.txt").symlink_to(folder / "b.txt")           # two files linked in a ring
    (folder / "b.txt").symlink_to(folder / "a.txt")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "linked.txt").write_text(ARTICLE.replace("Gout", "Asthma"))
    (folder / "more").symlink_to(elsewhere)                   # a linked folder: read
    (folder / "same").symlink_to(elsewhere)                   # once
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [p.relative_to(folder).as_posix() for p in iter_sources([folder])] == [
            "more/linked.txt", "ok.txt", "sub/inner.txt"]
    assert sorted(str(w.message) for w in caught if w.category is SkippedSourceWarning) == [
        f"{folder / 'a.txt'}: skipped, a symbolic link loop",
        f"{folder / 'b.txt'}: skipped, a symbolic link loop",
        f"{folder / 'same'}: skipped, a symbolic link (to {elsewhere}, read already)",
        f"{folder / 'sub' / 'back'}: skipped, a symbolic link loop (back to {folder}, read already)"]
    result = CliRunner().invoke(cli, ["ingest", str(folder), "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 0, result.stderr
    assert f"Warning: {folder / 'sub' / 'back'}: skipped, a symbolic link loop" in result.stderr


def test_a_fifo_named_directly_says_what_it_is(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(IngestError, match=r"pipe\.txt: not a regular file \(a FIFO"):
        list(iter_sources([fifo]))
    result = CliRunner().invoke(cli, ["build", str(fifo), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 1 and "not a regular file" in result.stderr
    assert "no such file" not in result.stderr


def test_a_dangling_link_named_directly_says_what_it_is(tmp_path):
    link = tmp_path / "a.txt"
    link.symlink_to(tmp_path / "gone.txt")
    with pytest.raises(IngestError, match=r"a\.txt: is a symbolic link to .*gone\.txt, which "
                                          r"does not exist"):
        list(iter_sources([link]))


@pytest.mark.slow
def test_the_reported_command_with_a_latin1_name_runs_clean(tmp_path):
    """printf x > $'latin\\xe9name.txt' as a user would, through the real command."""
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / LATIN1).write_text(ARTICLE)
    code = "import sys; from clonus_index.cli import main; sys.argv[0] = 'clonus-index'; main()"
    env = dict(os.environ, PYTHONPATH=str(ROOT), LC_ALL="C.UTF-8")
    for args in (["ingest", str(folder), "--out", str(tmp_path / "o.jsonl")],
                 ["build", str(folder), "--index", str(tmp_path / "ix")],
                 ["build", str(folder), "--index", str(tmp_path / "ix")],  # nothing changed
                 ["add", str(tmp_path / "src" / LATIN1), "--index", str(tmp_path / "ix")],
                 ["info", "--index", str(tmp_path / "ix")]):
        run = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                             text=True)
        assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
