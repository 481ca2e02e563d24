"""A LangChain retriever over a clonus_index index (the ``langchain`` extra).

    >>> from clonus_index.integrations.langchain import ClonusRetriever
    >>> docs = ClonusRetriever(k=2).invoke("botox for ankle clonus")
    >>> docs[0].metadata["citation"]["apa"]
    'Johnson, J. (2018, June 8). What is clonus? ...'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional, Union

from langchain_core.callbacks import (AsyncCallbackManagerForRetrieverRun,
                                      CallbackManagerForRetrieverRun)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables.config import run_in_executor
from pydantic import Field, PrivateAttr, field_validator

from ..searching import Index
from ..serving import Catalog, as_index, hit_metadata

__all__ = ["ClonusRetriever"]


class ClonusRetriever(BaseRetriever):
    """Passages of a clonus_index index as LangChain ``Document``s, best first.

    ``index`` is an opened ``Index``, an index folder, or None for the
    bundled article; ``k`` is how many passages to return; ``section``
    keeps only one section's passages; ``semantic`` as in ``Index.search``. A rebuilt index is searched within a
    second of its build finishing. Each document's ``page_content`` is
    the passage text and its ``metadata`` says where it came from: ``id``,
    ``article_id``, ``section``, ``subsection``, ``score``, ``rank``,
    ``title``, ``url``, ``citation`` (``apa`` and ``mla``) and ``references``.
    """

    index: Any = Field(default=None, validate_default=True,
                       description="an Index, an index folder, or None for the bundled article")
    k: int = Field(default=4, ge=1)
    section: Optional[str] = None
    semantic: Optional[bool] = None

    _catalog: Catalog = PrivateAttr()

    @field_validator("index", mode="before")
    @classmethod
    def _open(cls, value: Union[Index, str, Path, None]) -> Index:
        return as_index(value)

    def model_post_init(self, context: Any) -> None:
        self._catalog = Catalog(self.index)  # follows rebuilds of the index

    def _search(self, query: str) -> list[Document]:
        hits = self._catalog.fresh().search(query, limit=self.k, section=self.section,
                                            semantic=self.semantic)
        return [Document(page_content=h.passage.text, metadata=hit_metadata(h), id=h.passage.id)
                for h in hits]

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return self._search(query)

    async def _aget_relevant_documents(
            self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun) -> list[Document]:
        # A search is CPU work: run it off the event loop.
        return await run_in_executor(None, self._search, query)
