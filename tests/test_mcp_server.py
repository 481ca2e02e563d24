"""The MCP server: a real ``clonus-index mcp`` process driven by the SDK's own stdio client."""

from __future__ import annotations

import os
import sys

import anyio
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

pytestmark = pytest.mark.slow


def server_parameters(*args: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-c", "from clonus_index.cli import main; main()", "mcp", *args],
        env={k: v for k, v in os.environ.items() if k in ("XDG_CACHE_HOME", "CLONUS_INDEX_DIR")})


async def session(seed_path, calls):
    async with Client(server_parameters("--index", str(seed_path)),
                      read_timeout_seconds=60) as client:
        return [await call(client) for call in calls]


@pytest.fixture(scope="module")
def answers(seed_index):
    """One server process answers every call of this module."""
    calls = {
        "tools": lambda c: c.list_tools(),
        "search": lambda c: c.call_tool("search", {"query": "botox for ankle clonus", "limit": 2}),
        "section": lambda c: c.call_tool("search", {"query": "clonus", "section": "Diagnosis"}),
        "typo": lambda c: c.call_tool("search", {"query": "clonis symptons"}),
        "bad section": lambda c: c.call_tool("search", {"query": "clonus", "section": "Cures"}),
        "blank": lambda c: c.call_tool("search", {"query": "  "}),
        "limit 0": lambda c: c.call_tool("search", {"query": "clonus", "limit": 0}),
        "limit 101": lambda c: c.call_tool("search", {"query": "clonus", "limit": 101}),
        "offset -1": lambda c: c.call_tool("list_articles", {"offset": -1}),
        "passage": lambda c: c.call_tool("get_passage", {"passage_id": "what-is-clonus-p10"}),
        "no passage": lambda c: c.call_tool("get_passage", {"passage_id": "nope"}),
        "articles": lambda c: c.call_tool("list_articles", {}),
    }
    results = anyio.run(session, seed_index.path, list(calls.values()))
    return dict(zip(calls, results))


def text_of(result) -> str:
    return "\n".join(block.text for block in result.content)


def test_three_read_only_tools(answers):
    tools = {t.name: t for t in answers["tools"].tools}
    assert set(tools) == {"search", "get_passage", "list_articles"}
    assert set(tools["search"].input_schema["properties"]) == {"query", "limit", "section",
                                                                  "semantic"}
    assert tools["search"].input_schema["required"] == ["query"]
    assert all(t.annotations.read_only_hint for t in tools.values())


def test_search_gives_quotable_passages_with_their_sources(answers, seed_index):
    result = answers["search"]
    assert not result.is_error
    text = text_of(result)
    assert text.startswith("[1] what-is-clonus-p20 (What is clonus? Everything you need to "
                           "know; Treatment > Botox injections)\nSome people with clonus")
    assert ("Source: Johnson, J. (2018, June 8). What is clonus? Everything you need to know. "
            "Medical News Today. https://www.medicalnewstoday.com/articles/322067.php") in text
    assert "Reference: Mcguinness" in text and "\n\n[2] " in text
    expected = seed_index.search("botox for ankle clonus", limit=2).to_dict()
    assert result.structured_content == expected


def test_search_filters_and_corrects(answers):
    hits = answers["section"].structured_content["hits"]
    assert hits and {h["passage"]["section"] for h in hits} == {"Diagnosis"}
    assert text_of(answers["typo"]).startswith("Searched for: clonus symptoms\n\n[1] ")


@pytest.mark.parametrize("call, message", [
    ("bad section", "unknown section 'Cures'; choose one of: Symptoms, Causes, Diagnosis, "
                    "Treatment, Outlook"),
    ("blank", "query is empty; type some words to search for"),
    ("no passage", "no passage with id 'nope'; list ids with: clonus-index passages"),
])
def test_bad_calls_are_tool_errors_with_the_library_message(answers, call, message):
    result = answers[call]  # the library's one line, as the CLI and HTTP service say it
    assert result.is_error and text_of(result) == message
    assert result.structured_content is None


def test_arguments_outside_the_schema_are_refused_with_the_library_message(answers):
    result = answers["limit 0"]
    assert result.is_error and text_of(result) == "limit must be a whole number of 1 or more, not 0"
    assert text_of(answers["limit 101"]) == "limit must be at most 100; page with offset for more"
    assert text_of(answers["offset -1"]) == "offset must be 0 or more, not -1"
    tools = {t.name: t for t in answers["tools"].tools}
    assert tools["search"].input_schema["properties"]["limit"] | {"minimum": 1, "maximum": 100} == (
        tools["search"].input_schema["properties"]["limit"])
    assert tools["list_articles"].input_schema["properties"]["offset"]["minimum"] == 0


def test_get_passage_and_list_articles(answers):
    passage = answers["passage"]
    assert passage.structured_content["id"] == "what-is-clonus-p10"
    assert passage.structured_content["references"][0]["title"] == "Serotonin syndrome"
    assert "Reference: Volpi-Abadie, J., Kaye, A. M., & Kaye, A. D. (2013" in text_of(passage)
    assert "MLA: Johnson, Jon." in text_of(passage)
    articles = answers["articles"]
    assert articles.structured_content["total"] == 1
    assert text_of(articles).startswith("1 of 1 articles:\n- what-is-clonus: Johnson, J. (2018")


def test_a_missing_index_fails_with_one_line(tmp_path):
    import subprocess
    done = subprocess.run([sys.executable, "-c", "from clonus_index.cli import main; main()",
                           "mcp", "--index", str(tmp_path / "none")],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith(f"Error: {tmp_path / 'none'}: no index here")
    assert len(done.stderr.splitlines()) == 1
