"""The test cluster itself: a real node answers, two nodes form one cluster."""

from __future__ import annotations

import json
import urllib.request

import pytest

import opensearch_node


def test_without_java_or_maven_the_reason_names_what_is_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    assert opensearch_node.missing_tools() == (
        "OpenSearch tests need Java 17+ and Maven; java and mvn not found on PATH "
        "(install a JDK and Maven to run them)")


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read())


@pytest.mark.slow
def test_single_node_is_green_on_loopback(opensearch_url):
    assert opensearch_url.startswith("http://127.0.0.1:")
    health = _get(f"{opensearch_url}/_cluster/health")
    assert health["status"] == "green" and health["number_of_nodes"] == 1
    # The analysis plugin is loaded: its snowball filter stems the English way.
    request = urllib.request.Request(
        f"{opensearch_url}/_analyze", method="POST",
        headers={"Content-Type": "application/json"},
        data=json.dumps({"tokenizer": "standard", "text": "running spasms",
                         "filter": ["lowercase", {"type": "snowball", "language": "English"}]}
                        ).encode())
    with urllib.request.urlopen(request, timeout=30) as r:
        tokens = [t["token"] for t in json.loads(r.read())["tokens"]]
    assert tokens == ["run", "spasm"]
