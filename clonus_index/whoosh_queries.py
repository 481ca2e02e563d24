"""Whoosh query pieces the Whoosh backend builds on: collector, matcher, clause queries, marks.

Part of the Whoosh backend (``whoosh_backend.py``), between planning and
re-ranking: the top-N collector with its filter and deadline, the
best-form matcher (Whoosh's own disjunction-max scores a passage with
another passage's score), a plan clause as a Whoosh query, how query
language's NOTs and boosts are read, and the ``**mark**`` of highlights.
"""

from __future__ import annotations

import math
import time
from typing import Optional

from whoosh import highlight, query as wq
from whoosh.collectors import TopCollector
from whoosh.matching import DisjunctionMaxMatcher

from .whoosh_postings import Clause

__all__ = ["Mark", "Candidates", "BestForm", "clause_query", "clamped_boost", "lift_nots",
           "MAX_BOOST"]

#: A boost (``clonus^3``) is clamped to 0 .. this.
MAX_BOOST = 100.0


class Mark(highlight.Formatter):
    """Marks matched terms as ``**term**``: readable as is, easy to colour."""

    between = ""

    def format_token(self, text, token, replace=False):
        return f"**{highlight.get_text(text, token, replace)}**"


class Candidates(TopCollector):
    """The top ``limit`` matches among the allowed documents, collected until a deadline.

    Filtering here rather than in the query keeps Whoosh's block-quality
    skipping (which ``Require`` with a top-N collector trips over) out of it;
    at the deadline collection stops and keeps what it has. Nothing counts
    every match. Block-quality skipping and matcher replacement are off: with
    BM25F and DisMax they drop real top matches (the best of 20,000 passages
    missing from the top 50 but not from the top 100), and the top N must be
    exact for pages to follow each other. The plan's caps bound what is scored.
    """

    def __init__(self, limit: int, allow: Optional[set[int]], deadline: float):
        super().__init__(limit=limit, usequality=False, replace=0)
        self._allow = allow
        self._deadline = deadline

    def matches(self):
        allow = self._allow
        for n, sub_docnum in enumerate(super().matches()):
            if not n % 64 and time.monotonic() > self._deadline:
                return
            if allow is None or self.offset + sub_docnum in allow:
                yield sub_docnum


class _BestFormMatcher(DisjunctionMaxMatcher):
    """A document's score is its best sub-matcher's score *for that document*.

    Whoosh's ``DisjunctionMaxMatcher.score`` takes the maximum of both
    sides' current scores even when one side sits on another document, so
    a passage could score a synonym it does not contain.
    """

    def score(self):
        a, b = self.a, self.b
        if not a.is_active() or (b.is_active() and b.id() < a.id()):
            return b.score()
        if not b.is_active() or a.id() < b.id():
            return a.score()
        return max(a.score(), b.score())


class BestForm(wq.DisjunctionMax):
    """The maximum of the forms' scores, matched by ``_BestFormMatcher``."""

    def _matcher(self, subs, searcher, context):
        return self._tree_matcher(subs, _BestFormMatcher, searcher, context, None)


def clause_query(c: Clause):
    if len(c.stems) == 1:
        return wq.Term(c.field, c.stems[0], boost=c.boost)
    return wq.Phrase(c.field, list(c.stems), slop=c.slop, boost=c.boost)


def clamped_boost(boost) -> float:
    """A boost as a finite number in 0 .. ``MAX_BOOST`` (``clonus^1e400`` is inf)."""
    if not isinstance(boost, (int, float)) or math.isnan(boost):
        return 1.0
    return min(max(float(boost), 0.0), MAX_BOOST)


def lift_nots(q):
    """Make "a b NOT c" mean (a OR b) AND NOT c, as people read it.

    With an OR default group Whoosh would otherwise read it as a OR b OR
    (NOT c), which matches nearly every passage.
    """
    if isinstance(q, wq.Or):
        nots = [c for c in q.subqueries if isinstance(c, wq.Not)]
        rest = [lift_nots(c) for c in q.subqueries if not isinstance(c, wq.Not)]
        if nots and rest:
            kept = rest[0] if len(rest) == 1 else wq.Or(rest)
            dropped = nots[0].query if len(nots) == 1 else wq.Or([n.query for n in nots])
            return wq.AndNot(kept, dropped)
    if not q.is_leaf():
        return q.apply(lift_nots)
    return q
