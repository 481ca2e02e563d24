"""The HTTP service: a real ``clonus-index serve`` process and a real HTTP client."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from click.testing import CliRunner

from clonus_index import build_index, open_index
from clonus_index.cli import cli
from clonus_index.query import MAX_QUERY_CHARS

from conftest import SEED, Server

pytestmark = pytest.mark.slow

TOKEN = "s3cret-token-for-tests-0123456789"


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory, data_dir):
    """An index of the seed and one more article, rebuilt by one test."""
    path = tmp_path_factory.mktemp("served") / "index"
    build_index([SEED, data_dir / "shingles.txt"], path)
    return path


@pytest.fixture(scope="module")
def server(index_dir):
    s = Server("--index", str(index_dir))
    yield s
    s.stop()


def get(server, endpoint, **params):
    return httpx.get(server.url + endpoint, params=params, timeout=30)


def test_search_returns_the_cli_json_document(server, index_dir):
    r = get(server, "/search", q="botox for ankle clonus", limit=2)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    cli_doc = json.loads(CliRunner().invoke(
        cli, ["search", "botox for ankle clonus", "--limit", "2", "--json", "--index",
              str(index_dir)]).stdout)
    assert r.json() == cli_doc
    hit = r.json()["hits"][0]
    assert hit["passage"]["id"] == "what-is-clonus-p20"
    assert hit["citation"]["apa"].startswith("Johnson, J. (2018, June 8).")
    assert hit["references"][0]["authors"]


def test_search_pages_and_filters(server):
    first = get(server, "/search", q="clonus", limit=3).json()["hits"]
    second = get(server, "/search", q="clonus", limit=2, offset=1).json()["hits"]
    assert [h["passage"]["id"] for h in second] == [h["passage"]["id"] for h in first[1:3]]
    assert [h["rank"] for h in second] == [2, 3]
    treatment = get(server, "/search", q="clonus", section="treatment").json()["hits"]
    assert treatment and {h["passage"]["section"] for h in treatment} == {"Treatment"}
    shingles = get(server, "/search", q="pain", article="shingles").json()["hits"]
    assert shingles and {h["passage"]["article_id"] for h in shingles} == {"shingles"}


@pytest.mark.parametrize("params, status, message", [
    ({"q": "   "}, 400, "query is empty; type some words to search for"),
    ({"q": "clonus", "limit": "0"}, 400, "limit must be a whole number of 1 or more, not 0"),
    ({"q": "clonus", "section": "Cures"}, 400, "unknown section 'Cures'; choose one of: {sections}"),
    ({"q": "clonus", "limit": "101"}, 400, "limit must be at most 100; page with offset for more"),
    ({"q": "clonus", "offset": "-1"}, 400, "offset must be a whole number of 0 or more, not -1"),
    ({"q": "clonus", "limit": "ten"}, 422,
     "limit: Input should be a valid integer, unable to parse string as an integer"),
    ({}, 422, "q: Field required"),
])
def test_bad_searches_get_the_cli_one_line_message(server, index_dir, params, status, message):
    sections = ", ".join(open_index(index_dir).sections())
    r = get(server, "/search", **params)
    assert (r.status_code, r.json()) == (status, {"detail": message.format(sections=sections)})


def test_the_cli_says_the_same_for_a_bad_search(index_dir):
    result = CliRunner().invoke(cli, ["search", "clonus", "--section", "Cures", "--index",
                                      str(index_dir)])
    assert result.exit_code == 2
    sections = ", ".join(open_index(index_dir).sections())
    assert result.stderr.strip() == f"Error: unknown section 'Cures'; choose one of: {sections}"
    assert "Prevention" in sections


def test_passages_and_articles(server):
    p = get(server, "/passages/what-is-clonus-p20").json()
    assert p["subsection"] == "Botox injections" and p["citation"]["mla"].startswith("Johnson, Jon.")
    assert p["references"][0]["score"] > 0 and p["article"]["id"] == "what-is-clonus"
    listing = get(server, "/articles").json()
    assert listing["total"] == 2 and [a["id"] for a in listing["articles"]] == [
        "what-is-clonus", "shingles"]
    assert get(server, "/articles", limit=1, offset=1).json()["articles"][0]["id"] == "shingles"
    article = get(server, "/articles/what-is-clonus").json()
    assert article["passages"] == len(article["passage_ids"]) == 28
    assert article["passage_ids"][20] == "what-is-clonus-p20" and len(article["references"]) == 5
    info = get(server, "/info").json()
    assert info["articles"] == 2 and "path" not in info and info["passages"] > 28
    assert str(server.port) not in json.dumps(info)


@pytest.mark.parametrize("path, message", [
    ("/passages/nope", "no passage with id 'nope'; list ids with: clonus-index passages"),
    ("/articles/nope", "no article with id 'nope'; list ids with: clonus-index info"),
    ("/passages/..%2F..%2Fetc%2Fpasswd",
     "no endpoint /passages/../../etc/passwd; the API is described at /docs"),
    ("/etc/passwd", "no endpoint /etc/passwd; the API is described at /docs"),
])
def test_unknown_ids_and_paths_are_404(server, path, message):
    r = httpx.get(server.url + path)
    assert (r.status_code, r.json()) == (404, {"detail": message})


def test_no_request_can_name_a_file_or_an_index(server, tmp_path):
    document = httpx.get(server.url + "/openapi.json").json()
    names = {p["name"] for op in document["paths"].values() for method in op.values()
             for p in method.get("parameters", [])}
    assert names == {"q", "limit", "offset", "section", "article", "passage_id", "article_id",
                     "semantic"}
    plain = get(server, "/search", q="clonus").json()
    assert get(server, "/search", q="clonus", index=str(tmp_path), path="/etc").json() == plain


def test_requests_are_bounded(server):
    too_long = get(server, "/search", q="a" * (MAX_QUERY_CHARS + 1))
    assert too_long.status_code == 400
    assert too_long.json()["detail"].startswith("query is too long (20001 characters)")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    widest = urllib.parse.urlencode({"q": "\U0001f600" * MAX_QUERY_CHARS})  # 240,002 bytes
    connection.request("GET", "/search?" + widest)
    answer = connection.getresponse()
    assert answer.status == 200 and json.loads(answer.read())["hits"] == []
    connection.request("GET", "/search?q=" + "a" * 300_000)  # beyond the request-line bound
    assert connection.getresponse().status == 400
    connection.close()
    with_body = httpx.request("GET", server.url + "/search?q=clonus", content=b"x" * 10)
    assert with_body.status_code == 413 and "bodies are not accepted" in with_body.json()["detail"]
    post = httpx.post(server.url + "/search", content=b"{}")
    assert post.status_code == 413
    assert httpx.delete(server.url + "/search").status_code == 405


def test_cors_is_off_unless_asked_for(server, index_dir):
    origin = {"Origin": "https://app.example.org"}
    r = httpx.get(server.url + "/search", params={"q": "clonus"}, headers=origin)
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    asked = Server("--index", str(index_dir), "--cors-origin", "https://app.example.org")
    try:
        r = httpx.get(asked.url + "/search", params={"q": "clonus"}, headers=origin)
        assert r.headers["access-control-allow-origin"] == "https://app.example.org"
        other = httpx.get(asked.url + "/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    finally:
        asked.stop()


def test_concurrent_requests_each_get_their_own_answer(server):
    queries = ["botox", "serotonin syndrome", "shingles rash", "ankle test", "stroke",
               "muscle relaxers", "outlook", "multiple sclerosis"] * 4
    expected = {q: get(server, "/search", q=q, limit=3).json() for q in set(queries)}
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda q: get(server, "/search", q=q, limit=3), queries))
    assert [a.status_code for a in answers] == [200] * len(queries)
    assert [a.json() for a in answers] == [expected[q] for q in queries]


def test_a_rebuilt_index_is_served_without_a_restart(tmp_path, data_dir):
    path = tmp_path / "index"
    build_index([SEED], path)
    s = Server("--index", str(path))
    try:
        assert get(s, "/search", q="shingles").json()["hits"] == []
        build_index([SEED, data_dir / "shingles.txt"], path)
        deadline = time.monotonic() + 120  # a hang guard: the server usually sees it at once
        while time.monotonic() < deadline and not get(s, "/search", q="shingles").json()["hits"]:
            time.sleep(0.2)
        assert get(s, "/search", q="shingles").json()["hits"][0]["article"]["id"] == "shingles"
        assert get(s, "/articles").json()["total"] == 2
    finally:
        s.stop()


def test_workers_serve_the_same_answers(index_dir, server):
    s = Server("--index", str(index_dir), "--workers", "2")
    try:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: get(s, "/search", q="botox", limit=1), range(16)))
        assert {json.dumps(a.json()) for a in answers} == {
            json.dumps(get(server, "/search", q="botox", limit=1).json())}
    finally:
        s.stop()


def test_a_token_is_required_when_set(index_dir):
    s = Server("--index", str(index_dir), env={"CLONUS_INDEX_TOKEN": TOKEN})
    try:
        bare = get(s, "/search", q="clonus")
        assert bare.status_code == 401 and bare.headers["www-authenticate"] == "Bearer"
        assert bare.json() == {"detail": "send the token as 'Authorization: Bearer "
                                         "$CLONUS_INDEX_TOKEN'"}
        wrong = httpx.get(s.url + "/search", params={"q": "clonus"},
                          headers={"Authorization": "Bearer " + "x" * len(TOKEN)})
        assert wrong.status_code == 401
        right = httpx.get(s.url + "/search", params={"q": "clonus"},
                          headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200 and right.json()["hits"]
        assert get(s, "/health").status_code == 200
    finally:
        err = s.stop()
    assert "requests must send 'Authorization: Bearer $CLONUS_INDEX_TOKEN'" in err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "example.org", "::"])
def test_other_addresses_need_a_token(host, monkeypatch):
    monkeypatch.delenv("CLONUS_INDEX_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["serve", "--host", host])
    assert result.exit_code == 2
    assert result.stderr == (f"Error: --host {host} would let other machines search this index; "
                             "set CLONUS_INDEX_TOKEN to a secret first (clients then send "
                             "'Authorization: Bearer <secret>'), or serve on 127.0.0.1\n")


def test_a_short_token_is_refused(monkeypatch):
    monkeypatch.setenv("CLONUS_INDEX_TOKEN", "hunter2")
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "CLONUS_INDEX_TOKEN is too short (7 characters); use at least 16" in result.stderr


def test_a_missing_index_fails_before_serving(tmp_path):
    result = CliRunner().invoke(cli, ["serve", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path / 'none'}: no index here; build one with")


def test_docs_page_and_openapi_document(server):
    docs = httpx.get(server.url + "/docs")
    assert docs.status_code == 200 and "openapi.json" in docs.text
    document = httpx.get(server.url + "/openapi.json").json()
    assert set(document["paths"]) == {"/search", "/passages/{passage_id}", "/articles",
                                      "/articles/{article_id}", "/info", "/health"}


def test_the_serve_command_says_which_extra_it_needs(tmp_path):
    # A Python that cannot import fastapi, as after a core-only install.
    shim = tmp_path / "fastapi"
    shim.mkdir()
    (shim / "__init__.py").write_text("raise ModuleNotFoundError('no fastapi', name='fastapi')")
    done = subprocess.run([sys.executable, "-c", "from clonus_index.cli import main; main()",
                           "serve"], env={**os.environ, "PYTHONPATH": str(tmp_path)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr == ('Error: this command needs the serve extra (fastapi is missing): '
                           'pip install "clonus-index[serve]"\n')
