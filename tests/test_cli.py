import json
import re
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from clonus_index import __version__
from clonus_index.index import SCHEMA_VERSION
from clonus_index.cli import cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(cli, list(args), catch_exceptions=False)


def test_search_prints_readable_hits(runner):
    result = run(runner, "search", "botox for ankle clonus", "--limit", "2")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("1. Treatment > Botox injections  score ")
    assert lines[0].endswith("what-is-clonus-p20")
    assert "Some people with clonus respond well to Botox injections." in result.stdout
    assert "**" not in result.stdout and "\x1b[" not in result.stdout  # no colour off a terminal
    assert "Source: Johnson, J. (2018, June 8). What is clonus?" in result.stdout
    assert "Supported by: Mcguinness et al. 2013" in result.stdout
    assert "\n2. " in result.stdout and "\n3. " not in result.stdout
    assert result.stderr == ""


def test_search_colours_matches_on_a_terminal(runner):
    result = runner.invoke(cli, ["search", "botox", "--limit", "1"], color=True)
    assert "\x1b[" in result.stdout and "Botox" in result.stdout


def test_search_json_document(runner):
    result = run(runner, "search", "clonsu symptoms", "--json", "--limit", "3")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) == {"query", "corrected_query", "hits"}
    assert data["query"] == "clonsu symptoms" and data["corrected_query"] == "clonus symptoms"
    assert len(data["hits"]) == 3
    hit = data["hits"][0]
    assert set(hit) == {"rank", "score", "passage", "highlights", "article", "citation", "references"}
    assert hit["rank"] == 1 and hit["passage"]["id"].startswith("what-is-clonus-p")


def test_search_did_you_mean_goes_to_stderr(runner):
    result = run(runner, "search", "clonsu")
    assert result.stderr.splitlines()[0] == "Did you mean: clonus"
    assert "Did you mean" not in result.stdout


def test_search_explain(runner):
    result = run(runner, "search", "prognosis", "--explain", "--limit", "1")
    assert "Parsed query:" in result.stderr and "outlook" in result.stderr
    assert "Matched section: outlook, text: outlook; BM25F" in result.stdout
    data = json.loads(run(runner, "search", "prognosis", "--explain", "--json").stdout)
    assert "outlook" in data["parsed_query"] and "explanation" in data["hits"][0]


@pytest.mark.parametrize("query", ["the and of", "*", "((("])
def test_search_explain_says_when_nothing_was_left_to_search(runner, query):
    # Stop words only, a pattern without a letter, syntax that yields nothing.
    result = run(runner, "search", query, "--explain")
    assert result.stderr.splitlines()[0] == ("Parsed query: nothing to search (stop words and "
                                             "patterns without a letter match nothing)")
    data = json.loads(run(runner, "search", query, "--explain", "--json").stdout)
    assert data["parsed_query"].startswith("nothing to search") and data["hits"] == []


@pytest.mark.parametrize("query, stem", [("qwxzzy", "qwxzzi"), ("title:*", "titl")])
def test_search_explain_shows_the_words_searched_when_no_near_spelling_exists(runner, query, stem):
    # An unknown word, or syntax that yields nothing and is searched as words:
    # the words' stems were searched, and no index word is near them.
    result = run(runner, "search", query, "--explain")
    assert f"Parsed query: ((text:{stem} OR " in result.stderr and "NullQuery" not in result.stderr


@pytest.mark.parametrize("args, message", [
    (["search", ""], "Error: query is empty; type some words to search for"),
    (["search", "  "], "Error: query is empty; type some words to search for"),
    (["search", "clonus", "--limit", "0"], "Error: limit must be a whole number of 1 or more, not 0"),
    (["search", "clonus", "--section", "nope"], "Error: unknown section 'nope'; choose one of: "
                                                "Symptoms, Causes, Diagnosis, Treatment, Outlook"),
])
def test_bad_requests_exit_2_with_one_line(runner, args, message):
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [message]
    assert result.stdout == ""


def test_missing_index_is_a_one_line_error(runner, tmp_path):
    result = runner.invoke(cli, ["search", "clonus", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: ") and "build one with: clonus-index build SOURCES" in line


def test_a_foreign_index_path_does_not_suggest_a_refused_build(runner, seed_path, foreign_paths):
    """What `search` suggests for a folder or file that is not an index, `build` must not refuse."""
    foreign, a_file = foreign_paths
    for path in (foreign, a_file):
        result = runner.invoke(cli, ["search", "clonus", "--index", str(path)])
        assert result.exit_code == 1 and result.stdout == ""
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith(f"Error: {path}: ") and "choose another --index path" in line
        assert "clonus-index build" not in line
        built = runner.invoke(cli, ["build", str(seed_path), "--index", str(path)])
        assert built.exit_code == 1 and "choose another --index path" in built.stderr


def test_build_show_passages_info(runner, tmp_path, seed_path):
    index = tmp_path / "ix"
    result = run(runner, "build", str(seed_path), "--index", str(index))
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr.strip() == f"Indexed 28 passages from 1 article(s) into {index}"

    shown = run(runner, "show", "what-is-clonus-p10", "--index", str(index))
    assert shown.stdout.startswith("what-is-clonus-p10  Causes")
    assert "Serotonin syndrome is a potentially dangerous reaction" in shown.stdout
    assert "Volpi-Abadie, J., Kaye, A. M., & Kaye, A. D. (2013, winter)." in shown.stdout
    data = json.loads(run(runner, "show", "what-is-clonus-p10", "--json", "--index", str(index)).stdout)
    assert data["references"][0]["title"] == "Serotonin syndrome" and data["references"][0]["score"] > 0
    missing = runner.invoke(cli, ["show", "nope", "--index", str(index)])
    assert missing.exit_code == 1 and "no passage with id 'nope'" in missing.stderr

    lines = run(runner, "passages", "--json", "--index", str(index)).stdout.splitlines()
    assert len(lines) == 28 and json.loads(lines[0])["id"] == "what-is-clonus-p0"
    plain = run(runner, "passages", "--index", str(index)).stdout.splitlines()
    assert plain[0].startswith("what-is-clonus-p0\tSymptoms\tClonus spasms often occur")

    info = json.loads(run(runner, "info", "--json", "--index", str(index)).stdout)
    assert info["passages"] == 28 and info["references"] == 5 and info["schema_version"] == SCHEMA_VERSION
    assert info["sections"] == ["Symptoms", "Causes", "Diagnosis", "Treatment", "Outlook"]
    assert info["path"] == str(index)
    text = run(runner, "info", "--index", str(index)).stdout
    assert f"Index:           {index}" in text and "Passages:        28" in text


def test_build_shows_progress_for_many_files(runner, tmp_path, seed_path):
    sources = tmp_path / "src"
    sources.mkdir()
    for i in range(6):
        shutil.copy(seed_path, sources / f"article-{i}.txt")
    result = run(runner, "build", str(sources), "--index", str(tmp_path / "ix"))
    assert result.exit_code == 0
    assert "Reading articles" in result.stderr and result.stdout == ""
    assert "Indexed 168 passages from 6 article(s)" in result.stderr


def test_build_errors(runner, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe broken")
    result = runner.invoke(cli, ["build", str(bad), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {bad}: not UTF-8 text (bad byte at offset 0); re-save it as UTF-8"
    assert not (tmp_path / "ix").exists() or not any((tmp_path / "ix").glob("gen-*"))
    result = runner.invoke(cli, ["build", str(bad)])
    assert result.exit_code == 2 and "--index PATH" in result.stderr


@pytest.mark.parametrize("copies, workers", [(3, "1"), (17, "2")], ids=["serial", "pool"])
def test_one_bad_file_in_a_folder_stops_the_build_and_leaves_the_index_as_it_was(
        runner, tmp_path, seed_path, monkeypatch, copies, workers):
    index = tmp_path / "ix"
    assert runner.invoke(cli, ["build", str(seed_path), "--index", str(index)]).exit_code == 0
    before = sorted(p.name for p in index.iterdir()), (index / "CURRENT").read_text()
    answer = run(runner, "search", "botox", "--index", str(index), "--json").stdout
    sources = tmp_path / "src"
    sources.mkdir()
    for i in range(copies):
        shutil.copy(seed_path, sources / f"article-{i:02d}.txt")
    bad = sources / "article-01b.txt"
    bad.write_bytes("Café au lait.".encode("latin-1"))
    monkeypatch.setenv("CLONUS_INDEX_WORKERS", workers)
    result = runner.invoke(cli, ["build", str(sources), "--index", str(index)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {bad}: not UTF-8 text (bad byte at offset 3); re-save it as UTF-8")
    assert "Traceback" not in result.stderr
    assert (sorted(p.name for p in index.iterdir()), (index / "CURRENT").read_text()) == before
    assert run(runner, "search", "botox", "--index", str(index), "--json").stdout == answer


def test_ingest_refuses_one_file_for_passages_and_articles(runner, tmp_path, seed_path):
    out = tmp_path / "out.jsonl"
    result = runner.invoke(cli, ["ingest", str(seed_path), "--out", str(out), "--articles", str(out)])
    assert result.exit_code == 1 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {out}: ") and "--articles" in line
    assert not out.exists()


def test_ingest_into_a_folder_names_the_folder(runner, tmp_path, seed_path):
    folder = tmp_path / "out"
    folder.mkdir()
    result = runner.invoke(cli, ["ingest", str(seed_path), "--out", str(folder)])
    assert result.exit_code == 1 and result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {folder}: is a folder") and f".{folder.name}." not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_version_and_help(runner):
    assert run(runner, "--version").stdout.strip() == f"clonus-index, version {__version__}"
    help_text = run(runner, "-h").stdout
    for command in ("search", "build", "show", "passages", "info", "ingest"):
        assert command in help_text
        sub = run(runner, command, "-h").stdout
        assert "Example" in sub, command


def test_no_arguments_prints_help_and_succeeds(runner):
    result = run(runner)
    assert result.exit_code == 0 and result.stdout == run(runner, "-h").stdout
    assert "Commands:" in result.stdout


def test_build_help_does_not_claim_a_default_index(runner):
    text = " ".join(run(runner, "build", "-h").stdout.split())
    assert "--index PATH Index folder to write (required)" in text
    assert "bundled clonus article, indexed in the user cache" not in text
    assert "--with-bundled" in text


def test_build_with_the_bundled_article_beside_your_own(runner, tmp_path, data_dir):
    index = tmp_path / "ix"
    mine = tmp_path / "mine" / "shingles.txt"
    mine.parent.mkdir()
    shutil.copy(data_dir / "shingles.txt", mine)
    result = run(runner, "build", str(mine), "--with-bundled", "--index", str(index))
    assert result.stderr.strip().endswith(f"from 2 article(s) into {index}")
    info = json.loads(run(runner, "info", "--json", "--index", str(index)).stdout)
    assert [(a["id"], a["source"]) for a in info["articles"]] == [
        ("shingles", str(mine)),
        ("what-is-clonus", "clonus_index/corpus/mnt-what-is-clonus.txt")]
    hits = json.loads(run(runner, "search", "botox ankle", "--json", "--index", str(index)).stdout)
    assert hits["hits"][0]["passage"]["id"] == "what-is-clonus-p20"
    alone = run(runner, "build", "--with-bundled", "--index", str(tmp_path / "only"))
    assert alone.exit_code == 0 and "28 passages from 1 article(s)" in alone.stderr
    nothing = runner.invoke(cli, ["build", "--index", str(tmp_path / "none")])
    assert nothing.exit_code == 2 and "name the articles to index" in nothing.stderr


def _installed_command():
    command = Path(sys.executable).parent / "clonus-index"
    assert command.exists(), "install the project first: pip install '.[test]'"
    return str(command)


@pytest.mark.slow
def test_installed_command_works_from_any_directory(tmp_path):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    result = subprocess.run([_installed_command(), "search", "what causes clonus", "--json"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["hits"][0]["passage"]["section"] == "Causes"
    bad = subprocess.run([_installed_command(), "search", " "], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "Error: query is empty; type some words to search for"


@pytest.mark.slow
@pytest.mark.parametrize("args", [["passages"], ["passages", "--json"],
                                  ["search", "clonus", "--json"], ["search", "clonus"],
                                  ["show", "what-is-clonus-p10", "--json"]])
def test_a_closed_pipe_ends_quietly(seed_index, args):
    """`clonus-index passages | head -1`: no "Error: Broken pipe", the shell's 141 exit."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    proc = subprocess.Popen([_installed_command(), *args, "--index", str(seed_index.path)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the first write, as after `head -1`
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and stderr == ""


def test_explain_in_text_shows_each_factor_of_the_score():
    result = CliRunner().invoke(cli, ["search", "physiotherapy for clonus", "--explain",
                                      "--limit", "1"])
    assert result.exit_code == 0
    line = next(l for l in result.stdout.splitlines() if l.strip().startswith("Matched"))
    assert re.search(r"BM25F [0-9.]+ x coverage [0-9.]+ .*x heading 1\.5 .*= [0-9.]+$", line)
    assert "^1.04999" not in result.stderr  # boosts are rounded


def test_search_returns_ten_hits_by_default_as_the_api_does(runner):
    data = json.loads(run(runner, "search", "clonus", "--json").stdout)
    assert len(data["hits"]) == 10
    assert "[default: 10]" in run(runner, "search", "-h").stdout


def test_search_pages_and_filters_by_article(runner):
    first = json.loads(run(runner, "search", "clonus", "--json", "--limit", "6").stdout)
    page = json.loads(run(runner, "search", "clonus", "--json", "--limit", "3", "--offset", "3",
                          "--article", "what-is-clonus").stdout)
    assert [h["passage"]["id"] for h in page["hits"]] == \
        [h["passage"]["id"] for h in first["hits"][3:6]]
    assert [h["rank"] for h in page["hits"]] == [4, 5, 6]
    assert page["offset"] == 3 and page["article"] == "what-is-clonus"
    bad = run(runner, "search", "clonus", "--article", "nope")
    assert bad.exit_code == 2
    assert bad.stderr.strip() == ("Error: unknown article 'nope'; list article ids with: "
                                  "clonus-index info")


@pytest.mark.slow
def test_json_of_a_query_with_undecodable_bytes_under_strict_utf8(tmp_path):
    env = dict(os.environ, PYTHONIOENCODING="utf-8:strict", LC_ALL="C.UTF-8")
    env.pop("PYTHONPATH", None)
    for query in (b"clonus \xff\xfe", b"\xe9t\xe9 clonus"):
        result = subprocess.run([_installed_command(), "search", query, "--json", "--limit", "1"],
                                cwd=tmp_path, env=env, capture_output=True, timeout=120)
        assert result.returncode == 0, result.stderr
        assert b"Traceback" not in result.stderr
        data = json.loads(result.stdout.decode("utf-8"))
        assert "\ufffd" in data["query"] and data["hits"]


def test_add_and_remove(runner, tmp_path, seed_path, data_dir):
    index = tmp_path / "ix"
    run(runner, "build", str(seed_path), "--index", str(index))
    added = run(runner, "add", str(data_dir / "gout.html"), str(data_dir / "eczema.txt"),
                "--index", str(index))
    assert added.exit_code == 0 and added.stdout == ""
    assert added.stderr.strip() == f"2 added: 67 passages from 3 article(s) in {index}"
    hits = run(runner, "search", "uric acid", "--limit", "1", "--index", str(index)).stdout
    assert hits.splitlines()[0].endswith(tuple(f"gout-p{n}" for n in range(30)))
    again = run(runner, "add", str(data_dir / "gout.html"), "--json", "--index", str(index))
    assert json.loads(again.stdout) == {"added": [], "replaced": [], "removed": [], "unchanged": 1,
                                        "read": 0, "generation": None}
    assert again.stderr.strip() == f"nothing changed: 67 passages from 3 article(s) in {index}"
    removed = run(runner, "remove", "gout", "eczema", "--index", str(index))
    assert removed.exit_code == 0
    assert removed.stderr.strip() == f"2 removed: 28 passages from 1 article(s) in {index}"
    info = json.loads(run(runner, "info", "--json", "--index", str(index)).stdout)
    assert [a["id"] for a in info["articles"]] == ["what-is-clonus"] and info["passages"] == 28


def test_add_and_remove_errors(runner, tmp_path, seed_path):
    index = tmp_path / "ix"
    run(runner, "build", str(seed_path), "--index", str(index))
    unknown = runner.invoke(cli, ["remove", "nope", "--index", str(index)])
    assert unknown.exit_code == 1
    assert unknown.stderr == (f"Error: {index}: no article with id 'nope'; nothing was removed. "
                              f"List the article ids with: clonus-index info --index {index}\n")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe broken")
    failed = runner.invoke(cli, ["add", str(bad), "--index", str(index)])
    assert failed.exit_code == 1 and failed.stderr == (
        f"Error: {bad}: not UTF-8 text (bad byte at offset 0); re-save it as UTF-8; "
        "nothing was added\n")
    for command in (["add", str(seed_path)], ["remove", "what-is-clonus"]):
        bundled = runner.invoke(cli, command)
        assert bundled.exit_code == 2 and bundled.stderr.count("\n") == 1
        assert "make your own with: clonus-index build SOURCES... --with-bundled --index PATH" \
            in bundled.stderr
    missing = runner.invoke(cli, ["add", str(seed_path), "--index", str(tmp_path / "none")])
    assert missing.exit_code == 1 and "build one with: clonus-index build" in missing.stderr


def test_build_says_how_many_unchanged_sources_it_kept(runner, tmp_path, seed_path, data_dir):
    sources = tmp_path / "src"
    sources.mkdir()
    shutil.copy(seed_path, sources / "clonus.txt")
    run(runner, "build", str(sources), "--index", str(tmp_path / "ix"))
    shutil.copy(data_dir / "gout.html", sources / "gout.html")
    result = run(runner, "build", str(sources), "--index", str(tmp_path / "ix"))
    assert result.stderr.strip().endswith("(1 unchanged source kept as it was)")
