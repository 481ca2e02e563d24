"""A LlamaIndex retriever over a clonus_index index (the ``llamaindex`` extra).

    >>> from clonus_index.integrations.llamaindex import ClonusRetriever
    >>> nodes = ClonusRetriever(similarity_top_k=2).retrieve("botox for ankle clonus")
    >>> nodes[0].node.metadata["citation"]["apa"]
    'Johnson, J. (2018, June 8). What is clonus? ...'
"""

from __future__ import annotations

import asyncio
from typing import Optional

from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from ..serving import Catalog, IndexLike, hit_metadata

__all__ = ["ClonusRetriever"]

#: Metadata a language model does not need beside the passage when a node is
#: rendered into a prompt (the citation, title and section stay).
_HIDDEN_FROM_LLM = ["id", "article_id", "score", "rank", "references"]


class ClonusRetriever(BaseRetriever):
    """Passages of a clonus_index index as LlamaIndex ``NodeWithScore``, best first.

    ``index`` is an opened ``Index``, an index folder, or None for the
    bundled article; ``similarity_top_k`` is how many passages to return;
    ``section`` keeps only one section's passages; ``semantic`` as in
    ``Index.search``. A rebuilt index is searched
    within a second of its build finishing. Each node's text is the
    passage and its metadata the same as the LangChain retriever's: ``id``,
    ``article_id``, ``section``, ``subsection``, ``score``, ``rank``,
    ``title``, ``url``, ``citation`` (``apa`` and ``mla``) and ``references``.
    """

    def __init__(self, index: IndexLike = None, similarity_top_k: int = 4,
                 section: Optional[str] = None, semantic: Optional[bool] = None, **kwargs):
        if isinstance(similarity_top_k, bool) or not isinstance(similarity_top_k, int) \
                or similarity_top_k < 1:
            raise ValueError(f"similarity_top_k must be a whole number of 1 or more, "
                             f"not {similarity_top_k!r}")
        self._catalog = Catalog(index)  # follows rebuilds of the index
        self.index = self._catalog.index
        self.similarity_top_k = similarity_top_k
        self.section = section
        self.semantic = semantic
        super().__init__(**kwargs)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self._catalog.fresh().search(query_bundle.query_str, limit=self.similarity_top_k,
                                            section=self.section, semantic=self.semantic)
        return [NodeWithScore(node=TextNode(id_=h.passage.id, text=h.passage.text,
                                            metadata=hit_metadata(h),
                                            excluded_llm_metadata_keys=list(_HIDDEN_FROM_LLM),
                                            excluded_embed_metadata_keys=list(_HIDDEN_FROM_LLM)),
                              score=h.score)
                for h in hits]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        # A search is CPU work: run it off the event loop.
        return await asyncio.to_thread(self._retrieve, query_bundle)
