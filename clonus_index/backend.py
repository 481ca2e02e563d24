"""The backend protocol: what ``searching.Index`` asks of an engine, and nothing more.

Between planning and re-ranking. ``whoosh_backend`` (the embedded default)
and ``opensearch_backend`` implement it: each holds one build of an index,
answers planning's ``Lexicon`` questions from its own terms, compiles a plan
into its own query, and returns first-stage ``Candidate`` records carrying
the per-passage signals stored at build time, which ``ranking`` re-ranks the
same way whatever the engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Iterator, Optional, Protocol

from .models import Article, Passage
from .planning import Lexicon, Plan
from .ranking import Candidate

__all__ = ["Backend"]


class Backend(Lexicon, Protocol):
    """One opened build of an index in some engine (a Whoosh generation, an OpenSearch index)."""

    #: Where the index lives: its folder, or its ``opensearch://`` URL.
    location: Any
    #: Build metadata: schema and library versions, counts, ``sections`` in
    #: reading order, ``article_passages``, ``abbreviations``.
    meta: dict
    #: The articles by id, read one at a time.
    articles: Mapping[str, Article]
    #: The build's own folder, where the semantic stage keeps passage vectors;
    #: None for an engine that keeps none (the semantic stage is then off).
    folder: Optional[Path]

    @property
    def generation(self) -> str:
        """The name of the build this backend serves."""

    def newest(self) -> Optional[str]:
        """The name of the index's newest build now (None when it cannot tell)."""

    def reopen(self) -> "Backend":
        """The newest build, opened."""

    def close(self) -> None:
        """Release files or connections; the index refuses searches afterwards."""

    def __len__(self) -> int:
        """How many passages the build holds."""

    def section_keys(self) -> frozenset[str]:
        """The lower-cased section names and kinds a ``section=`` filter may use."""

    def restrict(self, field: str, value: str, allow: Any) -> Any:
        """``allow`` narrowed to passages whose ``field`` (``section_key``, ``article_id``)
        holds ``value``; ``allow`` None means no filter yet. Handed back to ``candidates``."""

    def passages(self) -> Iterator[Passage]:
        """Every passage, articles in source order, passages in reading order."""

    def passage_id(self, key: Any) -> str:
        """The id of the passage behind a handle."""

    def find(self, passage_id: str) -> Any:
        """The handle of the passage with this id, or None."""

    def passage(self, key: Any) -> Passage:
        """The passage behind a handle (from ``find`` or a ``Candidate``)."""

    def lexicon(self, query: str) -> Lexicon:
        """What planning asks about ``query``'s words (the backend itself, or a
        view that fetched their statistics in one round trip)."""

    def compile(self, plan: Plan) -> Any:
        """The engine's query for a plan; None when query-language input yields nothing."""

    def searchable(self, q: Any) -> bool:
        """True when a compiled query has something left to search."""

    def describe(self, q: Any) -> str:
        """A compiled query as text (``--explain``'s parsed query)."""

    def candidates(self, q: Any, plan: Plan, allow: Any, wanted: int,
                   deadline: float) -> list[Candidate]:
        """The ``wanted`` best first-stage matches of ``q`` within ``allow``, in reading order."""

    def add(self, sources: Any, progress: Any = None) -> Any:
        """Add (or replace) the articles of ``sources`` as a new build; what changed (an ``Update``)."""

    def remove(self, article_ids: Any) -> Any:
        """Remove these articles as a new build; what changed (an ``Update``)."""

    def highlights(self, text: str, stems: set[str]) -> str:
        """``text`` with the words whose stems are in ``stems`` marked ``**so**``."""
