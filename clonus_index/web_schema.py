"""The HTTP service's response shapes, as pydantic models for its OpenAPI document.

Beside ``web``. The service returns the dicts the library's ``to_dict()``
methods build (the CLI's ``--json``); these models only describe them, and
the property test of the API checks every response against them.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, Field

__all__ = ["Error", "Health", "SearchResponse", "CitedPassage", "ArticleList", "ArticleDetail",
           "Info"]


class Error(BaseModel):
    """Every error: one line that says what to change."""

    detail: str = Field(examples=["unknown section 'Cures'; choose one of: Symptoms, Causes"])


class Health(BaseModel):
    status: str = Field(examples=["ok"])


class Citation(BaseModel):
    apa: str
    mla: str


class ReferenceLink(BaseModel):
    """A reference that supports a passage: its id, the link's score and the shared terms."""

    id: str
    score: float
    terms: list[str]


class Reference(BaseModel):
    """An entry of an article's reference list."""

    id: str
    authors: list[str]
    year: Optional[int]
    month: Optional[int]
    day: Optional[int]
    title: str
    journal: Optional[str]
    volume: Optional[str]
    issue: Optional[str]
    pages: Optional[str]
    raw: str


class ScoredReference(Reference):
    score: float


class ArticleFields(BaseModel):
    id: str
    title: str
    author: Optional[str]
    publisher: Optional[str]
    organization: Optional[str]
    published: Optional[str] = Field(description="ISO date")
    accessed: Optional[str] = Field(description="ISO date")
    url: Optional[str]
    source: str = Field(description="the source file the article was read from, as given to build")


class Article(ArticleFields):
    references: list[Reference]


class PassageFields(BaseModel):
    id: str
    article_id: str
    position: int
    section: str
    subsection: Optional[str]
    text: str
    start: int = Field(description="offset of the passage in the article's cleaned text")
    end: int


class Passage(PassageFields):
    references: list[ReferenceLink]


class Hit(BaseModel):
    rank: int
    score: float
    passage: Passage
    highlights: str = Field(description="the passage text with matched words as **word**")
    article: ArticleFields
    citation: Citation
    references: list[Reference]
    explanation: Optional[dict[str, Any]] = None


class SearchResponse(BaseModel):
    """The document ``clonus-index search QUERY --json`` prints."""

    query: str
    corrected_query: Optional[str]
    section: Optional[str] = Field(None, description="the section filter, when given")
    article: Optional[str] = Field(None, description="the article filter, when given")
    offset: Optional[int] = Field(None, description="the offset, when not 0")
    semantic: Optional[bool] = Field(None, description="true when the semantic stage ranked the hits")
    hits: list[Hit]


class CitedPassage(PassageFields):
    """The document ``clonus-index show PASSAGE_ID --json`` prints."""

    article: Article
    citation: Citation
    references: list[ScoredReference]


class ArticleSummary(ArticleFields):
    references: int = Field(description="how many references the article lists")
    passages: int
    citation: Citation


class ArticleList(BaseModel):
    total: int
    offset: int
    articles: list[ArticleSummary]


class ArticleDetail(ArticleFields):
    references: list[Reference]
    passages: int
    citation: Citation
    passage_ids: list[str] = Field(description="the article's passages in reading order")


class SemanticInfo(BaseModel):
    """The passage vectors an index stores for the semantic stage."""

    model: str
    passages: int
    available: bool = Field(description="whether searches can use them (the semantic extra "
                                        "is installed)")


class Info(BaseModel):
    """``clonus-index info --json``, with article and passage counts instead of the path."""

    generation: str
    schema_version: int
    library_version: Optional[str]
    built: Optional[str]
    sources_hash: Optional[str]
    passages: int
    references: int
    sections: list[str]
    semantic: Optional[SemanticInfo] = Field(None, description="null when built without vectors")
    articles: int
