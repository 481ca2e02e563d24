"""The LangChain and LlamaIndex retrievers, with the real langchain-core and llama-index-core."""

from __future__ import annotations

import asyncio
import time

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever as LangChainRetriever
from llama_index.core.retrievers import BaseRetriever as LlamaIndexRetriever
from llama_index.core.schema import MetadataMode, NodeWithScore, TextNode

from clonus_index import QueryError, build_index
from clonus_index.integrations import langchain, llamaindex

from conftest import SEED

QUESTION = "botox for ankle clonus"
APA = ("Johnson, J. (2018, June 8). What is clonus? Everything you need to know. "
       "Medical News Today. https://www.medicalnewstoday.com/articles/322067.php")


def expected_metadata(hit):
    return {"id": hit.passage.id, "article_id": "what-is-clonus", "section": hit.passage.section,
            "subsection": hit.passage.subsection, "score": round(hit.score, 4), "rank": hit.rank,
            "title": "What is clonus? Everything you need to know",
            "url": "https://www.medicalnewstoday.com/articles/322067.php",
            "citation": {"apa": APA, "mla": hit.passage.article.citation("mla")},
            "references": [r.to_dict() for r in hit.passage.references]}


def test_langchain_retriever_returns_cited_documents(seed_index):
    retriever = langchain.ClonusRetriever(index=seed_index, k=3)
    assert isinstance(retriever, LangChainRetriever)
    docs = retriever.invoke(QUESTION)
    hits = seed_index.search(QUESTION, limit=3)
    assert [type(d) for d in docs] == [Document] * 3
    assert [d.page_content for d in docs] == [h.passage.text for h in hits]
    assert [d.id for d in docs] == [h.passage.id for h in hits]
    assert [d.metadata for d in docs] == [expected_metadata(h) for h in hits]
    assert docs[0].metadata["subsection"] == "Botox injections"
    assert docs[0].metadata["references"][0]["authors"][0].startswith("Mcguinness")


def test_langchain_retriever_async_batch_and_section(seed_index):
    retriever = langchain.ClonusRetriever(index=str(seed_index.path), section="Diagnosis")
    docs = asyncio.run(retriever.ainvoke("clonus test"))
    expected = seed_index.search("clonus test", limit=4, section="Diagnosis")
    assert [d.id for d in docs] == [h.passage.id for h in expected] and docs
    assert {d.metadata["section"] for d in docs} == {"Diagnosis"}
    batch = retriever.batch(["ankle test", "imaging"])
    assert all(1 <= len(b) <= 4 for b in batch)
    assert [d.page_content for d in asyncio.run(retriever.ainvoke("ankle test"))] == [
        d.page_content for d in batch[0]]


def test_langchain_retriever_errors(seed_index):
    with pytest.raises(QueryError, match="unknown section 'Cures'"):
        langchain.ClonusRetriever(index=seed_index, section="Cures").invoke("clonus")
    with pytest.raises(ValueError):
        langchain.ClonusRetriever(index=seed_index, k=0)


def test_llamaindex_retriever_returns_cited_nodes(seed_index):
    retriever = llamaindex.ClonusRetriever(index=seed_index, similarity_top_k=3)
    assert isinstance(retriever, LlamaIndexRetriever)
    nodes = retriever.retrieve(QUESTION)
    hits = seed_index.search(QUESTION, limit=3)
    assert [type(n) for n in nodes] == [NodeWithScore] * 3
    assert all(isinstance(n.node, TextNode) for n in nodes)
    assert [n.node.id_ for n in nodes] == [h.passage.id for h in hits]
    assert [n.score for n in nodes] == [h.score for h in hits]
    assert [n.node.get_content() for n in nodes] == [h.passage.text for h in hits]
    assert [n.node.metadata for n in nodes] == [expected_metadata(h) for h in hits]
    shown = nodes[0].node.get_content(metadata_mode=MetadataMode.LLM)
    assert "Botox injections" in shown and APA in shown and "Some people with clonus" in shown
    assert "article_id" not in shown


def test_llamaindex_retriever_async_and_section(seed_index):
    retriever = llamaindex.ClonusRetriever(index=str(seed_index.path), section="treatment")
    nodes = asyncio.run(retriever.aretrieve("muscle relaxers"))
    assert len(nodes) == 4 and {n.node.metadata["section"] for n in nodes} == {"Treatment"}
    assert [n.node.id_ for n in nodes] == [n.node.id_ for n in retriever.retrieve("muscle relaxers")]


def test_llamaindex_retriever_errors(seed_index):
    with pytest.raises(QueryError, match="query is empty"):
        llamaindex.ClonusRetriever(index=seed_index).retrieve("  ")
    with pytest.raises(ValueError, match="similarity_top_k must be a whole number of 1 or more"):
        llamaindex.ClonusRetriever(index=seed_index, similarity_top_k=0)


@pytest.mark.parametrize("make", [
    lambda path: (langchain.ClonusRetriever(index=path, k=1),
                  lambda r, q: [d.metadata["article_id"] for d in r.invoke(q)]),
    lambda path: (llamaindex.ClonusRetriever(index=path, similarity_top_k=1),
                  lambda r, q: [n.node.metadata["article_id"] for n in r.retrieve(q)]),
], ids=["langchain", "llamaindex"])
def test_retrievers_follow_a_rebuilt_index(tmp_path, data_dir, make):
    path = tmp_path / "index"
    build_index([SEED], path)
    retriever, articles = make(path)
    assert articles(retriever, "shingles rash") != ["shingles"]
    build_index([SEED, data_dir / "shingles.txt"], path)
    deadline = time.monotonic() + 120  # a hang guard: the rebuilt index is usually seen at once
    while articles(retriever, "shingles rash") != ["shingles"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert articles(retriever, "shingles rash") == ["shingles"]
