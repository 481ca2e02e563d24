"""The catalog every interface serves from, and the core install staying small."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from clonus_index import QueryError, build_index
from clonus_index.serving import MAX_LIMIT, Catalog, cited_passage

from conftest import SEED

EXTRAS = ["fastapi", "starlette", "uvicorn", "pydantic", "mcp", "langchain_core", "llama_index"]


def test_importing_the_library_imports_no_extra():
    code = ("import sys, clonus_index, clonus_index.cli, clonus_index.serving, "
            "clonus_index.integrations; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:])))")
    done = subprocess.run([sys.executable, "-c", code, *EXTRAS], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[]"


def test_cited_passage_is_the_show_command_document(seed_index):
    from click.testing import CliRunner
    from clonus_index.cli import cli
    shown = CliRunner().invoke(cli, ["show", "what-is-clonus-p10", "--json", "--index",
                                     str(seed_index.path)]).stdout
    assert cited_passage(seed_index.get("what-is-clonus-p10")) == json.loads(shown)


def test_catalog_pages_articles_and_bounds_requests(tmp_path, data_dir):
    catalog = Catalog(build_index([SEED, data_dir / "shingles.txt", data_dir / "gout.html"],
                                  tmp_path / "index"))
    every = catalog.articles()
    assert every["total"] == 3 and len(every["articles"]) == 3
    assert catalog.articles(limit=1, offset=2)["articles"] == every["articles"][2:]
    assert catalog.articles(offset=5)["articles"] == []
    gout = catalog.article(every["articles"][2]["id"])
    assert gout["passage_ids"] and all(catalog.passage(i)["article_id"] == gout["id"]
                                       for i in gout["passage_ids"])
    with pytest.raises(QueryError, match="limit must be at most 100"):
        catalog.search("clonus", limit=MAX_LIMIT + 1)
    with pytest.raises(QueryError, match="limit must be a whole number from 1 to 1000"):
        catalog.articles(limit=0)
    with pytest.raises(KeyError, match="no article with id 'nope'"):
        catalog.article("nope")


def test_catalog_follows_a_rebuilt_index(tmp_path, data_dir):
    path = tmp_path / "index"
    catalog = Catalog(build_index([SEED], path), refresh_seconds=0.0)
    assert catalog.articles()["total"] == 1 and not catalog.search("shingles")
    build_index([SEED, data_dir / "shingles.txt"], path)
    time.sleep(0.01)
    assert catalog.articles()["total"] == 2
    assert catalog.search("shingles")[0].passage.article.id == "shingles"
    assert catalog.article("shingles")["passages"] > 0
