"""The clonus-index command with --index opensearch://HOST:PORT/NAME, against a real node."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from clonus_index.cli import cli

from conftest import DATA

pytestmark = pytest.mark.slow


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def os_index(opensearch_url):
    """Two fixture articles and the bundled one, built with the command into one index."""
    url = opensearch_url.replace("http://", "opensearch://") + "/cli"
    built = run("build", str(DATA / "gout.html"), str(DATA / "migraine.txt"), "--with-bundled",
                "--index", url)
    assert built.exit_code == 0, built.output
    assert built.stderr.startswith("Indexed ") and f"3 article(s) into {url}" in built.stderr
    return url


def test_search_prints_ranked_highlighted_cited_hits(os_index):
    result = run("search", "botox injections for ankle clonus", "--limit", "2", "--index", os_index)
    assert result.exit_code == 0
    first = result.stdout.splitlines()[0]
    assert first.startswith("1. Treatment > Botox injections  score ")
    assert "Source: Johnson, J. (2018, June 8). What is clonus?" in result.stdout
    assert "\n2. " in result.stdout and "\n3. " not in result.stdout


def test_search_json_section_and_explain(os_index):
    result = run("search", "gout attack", "--json", "--limit", "3", "--index", os_index)
    data = json.loads(result.stdout)
    assert data["corrected_query"] is None and len(data["hits"]) == 3
    assert {"rank", "score", "passage", "highlights", "article", "citation",
            "references"} <= set(data["hits"][0])
    assert "gout" in data["hits"][0]["article"]["title"].lower()
    treated = json.loads(run("search", "clonus", "--section", "Treatment", "--json",
                             "--index", os_index).stdout)
    assert {h["passage"]["section"] for h in treated["hits"]} == {"Treatment"}
    paged = json.loads(run("search", "symptoms", "--article", "what-is-clonus", "--offset", "1",
                           "--json", "--index", os_index).stdout)
    assert paged["offset"] == 1 and paged["hits"][0]["rank"] == 2
    assert {h["article"]["id"] for h in paged["hits"]} == {"what-is-clonus"}
    explained = run("search", "botox", "--explain", "--limit", "1", "--index", os_index)
    assert "Matched subsection: botox, text: botox; BM25F" in explained.stdout
    assert "x heading 1.5" in explained.stdout
    bad = run("search", "clonus", "--section", "Astrology", "--index", os_index)
    assert bad.exit_code == 2 and bad.stderr.startswith("Error: unknown section 'Astrology'")


def test_show_passages_info_and_eval_read_the_same_records(os_index, tmp_path):
    lines = run("passages", "--json", "--index", os_index).stdout.splitlines()
    records = [json.loads(line) for line in lines]
    pid = records[3]["id"]
    shown = json.loads(run("show", pid, "--json", "--index", os_index).stdout)
    assert shown["id"] == pid and shown["text"] == records[3]["text"]
    assert "APA" in run("show", pid, "--index", os_index).stdout
    missing = run("show", "nope", "--index", os_index)
    assert missing.exit_code == 1 and "no passage with id 'nope'" in missing.stderr
    info = json.loads(run("info", "--json", "--index", os_index).stdout)
    assert info["path"] == os_index and info["passages"] == len(records)
    assert len(info["articles"]) == 3 and sum(a["passages"] for a in info["articles"]) == len(records)
    assert info["articles"][-1]["id"] == "what-is-clonus"  # --with-bundled puts it last
    assert "Treatment" in info["sections"]
    assert run("info", "--index", os_index).stdout.startswith(f"Index:           {os_index}")
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"q": "botox injections", "keys": ["Botox"]}) + "\n")
    report = json.loads(run("eval", str(questions), "--json", "--index", os_index).stdout)
    assert report["overall"]["success@1"] == 1.0


def test_a_bad_or_unreachable_url_is_a_one_line_error(seed_path):
    bad = run("search", "clonus", "--index", "opensearch://127.0.0.1:9200/Bad")
    assert bad.exit_code == 1 and bad.stderr.count("\n") == 1
    assert "cannot name an OpenSearch index" in bad.stderr
    down = run("build", str(seed_path), "--index", "opensearch://127.0.0.1:1/x")
    assert down.exit_code == 1 and "cannot reach OpenSearch" in down.stderr


def test_add_and_remove_change_an_opensearch_index(opensearch_url):
    url = opensearch_url.replace("http://", "opensearch://") + "/cli-updates"
    assert run("build", str(DATA / "gout.html"), "--index", url).exit_code == 0
    added = run("add", str(DATA / "migraine.txt"), "--json", "--index", url)
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["added"] == ["migraine"]
    assert "migraine" in run("search", "migraine", "--limit", "1", "--index", url).stdout.lower()
    removed = json.loads(run("remove", "gout", "--json", "--index", url).stdout)
    assert removed["removed"] == ["gout"] and removed["generation"]
    info = json.loads(run("info", "--json", "--index", url).stdout)
    assert [a["id"] for a in info["articles"]] == ["migraine"]
    unknown = run("remove", "nope", "--index", url)
    assert unknown.exit_code != 0 and "no article with id 'nope'" in unknown.stderr
