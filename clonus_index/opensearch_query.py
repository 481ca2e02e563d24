"""Compiling a plan into OpenSearch's query DSL, scored as the Whoosh backend scores it.

Between planning and ``opensearch_backend``. Each clause mirrors the Whoosh
backend's query: a term per field and form with the library's field boosts,
forms of one concept as a disjunction (the best form counts, as Whoosh's
``DisjunctionMax`` scores), phrases as their terms' scores summed where the
terms stand in order (as Whoosh's ``Phrase`` scores), the whole question's
words as a proximity bonus. BM25's idf is Lucene's; each term's boost
carries the ratio to Whoosh's (``log(N / (df + 1)) + 1``), so the scores are
Whoosh's BM25F. Query-language input is parsed by the same parser the
Whoosh backend uses and translated clause by clause.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Optional

from whoosh import query as wq

from .index import FIELD_BOOSTS, make_schema
from .opensearch_store import WHOOSH_K1, similarity
from .planning import MAX_CORRECTIONS, PROXIMITY_BOOST, PROXIMITY_SLOP, Plan, searched_forms
from .whoosh_queries import clamped_boost as _clamped_boost, lift_nots
from .whoosh_backend import (MAX_EXPANSIONS, MAX_FUZZY_DISTANCE, MAX_TERMS, PUBLIC_FIELDS,
                             parse_query_language)

__all__ = ["Statistics", "compile_plan", "parse_syntax", "query_terms", "MATCH_NONE"]

#: The query that matches nothing (a plan whose words no passage holds).
MATCH_NONE: dict[str, Any] = {"match_none": {}}


class Statistics:
    """What scoring needs of the index: passage count, field counts, and term document counts."""

    def __init__(self, passages: int, field_docs: dict[str, int],
                 df: Callable[[str, str], int]):
        self.passages = passages
        self.field_docs = field_docs
        self.df = df

    def boost(self, field: str, term: str, boost: float) -> Optional[float]:
        """``boost`` times Whoosh's idf and (k1 + 1) over the field's BM25 ones; None when
        no passage has the term."""
        n = self.df(field, term)
        if not n:
            return None
        docs = max(self.field_docs.get(field, self.passages), n)
        whoosh = (math.log(self.passages / (n + 1)) + 1) * (WHOOSH_K1 + 1)
        k1 = similarity(docs, self.passages)["k1"]
        lucene = math.log(1 + (docs - n + 0.5) / (n + 0.5)) * (k1 + 1)
        return boost * whoosh / lucene


def compile_plan(plan: Plan, stats: Statistics) -> Optional[dict[str, Any]]:
    """The DSL query of a plan; None when query-language input yields nothing."""
    if plan.syntax is not None:
        parsed = parse_syntax(plan.syntax)
        return None if parsed is None else _translate(parsed, stats)
    if plan.fuzzy is not None:
        parts = [_named({"fuzzy": {"vocab": {
            "value": w, "fuzziness": 1 if len(w) < 7 else 2, "prefix_length": 1,
            "max_expansions": MAX_EXPANSIONS}}}, f"fuzzy:{w}") for w in plan.fuzzy[:MAX_CORRECTIONS]]
        return _any(parts) or MATCH_NONE
    parts = []
    boosts = {f: FIELD_BOOSTS[f] for f in PUBLIC_FIELDS}
    for concept in searched_forms(plan, boosts, MAX_TERMS):  # the Whoosh backend's bound
        forms = []
        for form in concept:
            fields = [c for c in (_phrase(field, stems, 1, boost, stats)
                                  for field, stems, boost in form) if c]
            if fields:
                forms.append(_any(fields))
        if len(forms) > 1:
            parts.append({"dis_max": {"queries": forms, "tie_breaker": 0.0}})
        elif forms:
            parts.append(forms[0])
    if not parts:
        return MATCH_NONE
    if plan.proximity:
        clause = _phrase("text", plan.proximity, PROXIMITY_SLOP, PROXIMITY_BOOST, stats)
        if clause:
            parts.append(clause)
    return _any(parts)


def _any(clauses: list[dict[str, Any]]) -> Optional[dict[str, Any]]:
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses}}


def _named(clause: dict[str, Any], name: str) -> dict[str, Any]:
    (kind, body), = clause.items()
    (field, params), = body.items()
    return {kind: {field: dict(params, _name=name)}}


def _term(field: str, term: str, boost: float, stats: Statistics) -> Optional[dict[str, Any]]:
    corrected = stats.boost(field, term, boost)
    if corrected is None:
        return None
    return {"term": {field: {"value": term, "boost": corrected}}}


def _phrase(field: str, terms, slop: int, boost: float,
            stats: Statistics) -> Optional[dict[str, Any]]:
    """A term, or a phrase: its terms' scores summed where each follows the one before
    within ``slop`` positions (Whoosh's ``Phrase``: slop 1 is adjacent). None when a
    term is in no passage's field (Whoosh's phrase then matches nothing either)."""
    clauses = [_term(field, t, boost, stats) for t in terms]
    if not clauses or None in clauses:
        return None
    if len(clauses) == 1:
        return clauses[0]
    near: dict[str, Any] = {"span_term": {field: terms[0]}}
    for t in terms[1:]:  # Whoosh measures each step from the span so far
        near = {"span_near": {"clauses": [near, {"span_term": {field: t}}],
                              "slop": max(slop - 1, 0), "in_order": True}}
    return {"bool": {"must": clauses, "filter": [near]}}


# -- query language -------------------------------------------------------------

def parse_syntax(query: str):
    """Query-language input parsed as the Whoosh backend parses it; None if it yields nothing."""
    parsed = parse_query_language(query, make_schema())
    if parsed is None:
        return None
    parsed = lift_nots(parsed).normalize()
    if parsed is wq.NullQuery or not any(True for _ in parsed.leaves()):
        return None
    return parsed


def query_terms(parsed) -> set[tuple[str, str]]:
    """The (field, term) pairs a parsed query names outright."""
    return {(f, t.decode("utf-8") if isinstance(t, bytes) else t)
            for f, t in parsed.iter_all_terms()}


def _pattern(kind: str, q, params: dict[str, Any]) -> Optional[dict[str, Any]]:
    """A wildcard, prefix, fuzzy or range clause, named so a hit says it matched."""
    text = getattr(q, "text", "")
    if kind in ("wildcard", "prefix") and not any(c.isalnum() for c in text):
        return None  # "*" alone says nothing and would match every passage
    body = dict(params, boost=_clamped_boost(q.boost), _name=f"{kind}:{q.fieldname}:{text}")
    return {kind: {q.fieldname: body}}


def _translate(q, stats: Statistics) -> Optional[dict[str, Any]]:
    """One parsed Whoosh query as DSL, with the Whoosh backend's bounds; None for nothing."""
    rewrite = f"top_terms_{MAX_EXPANSIONS}"
    if q is wq.NullQuery or isinstance(q, wq.Every):
        return None
    if isinstance(q, wq.FuzzyTerm):
        return _pattern("fuzzy", q, {"value": q.text, "max_expansions": MAX_EXPANSIONS,
                                     "fuzziness": min(q.maxdist, MAX_FUZZY_DISTANCE),
                                     "prefix_length": q.prefixlength})
    if isinstance(q, wq.Prefix):
        return _pattern("prefix", q, {"value": q.text, "rewrite": rewrite})
    if isinstance(q, wq.Wildcard):
        return _pattern("wildcard", q, {"value": q.text, "rewrite": rewrite})
    if isinstance(q, wq.TermRange):
        bounds = {("gt" if q.startexcl else "gte"): q.start, ("lt" if q.endexcl else "lte"): q.end}
        return _pattern("range", q, {k: v for k, v in bounds.items() if v is not None})
    if isinstance(q, wq.Term):
        return _term(q.fieldname, q.text, _clamped_boost(q.boost), stats)
    if isinstance(q, wq.Phrase):
        return _phrase(q.fieldname, list(q.words), q.slop, _clamped_boost(q.boost), stats)
    if isinstance(q, wq.AndNot):
        positive = _translate(q.a, stats)
        negative = _translate(q.b, stats)
        if positive is None or negative is None:
            return positive
        return {"bool": {"must": [positive], "must_not": [negative]}}
    if isinstance(q, wq.Not):
        negative = _translate(q.query, stats)
        return None if negative is None else {"bool": {"must_not": [negative]}}
    if isinstance(q, wq.AndMaybe):
        required, optional = _translate(q.a, stats), _translate(q.b, stats)
        if required is None:
            return None
        return {"bool": {"must": [required], "should": [optional] if optional else []}}
    subqueries = [] if q.is_leaf() else list(q.children())
    children = [c for c in (_translate(s, stats) for s in subqueries) if c is not None]
    if isinstance(q, wq.And):
        if len(children) < len(subqueries):
            return None  # a required part matches nothing
        return {"bool": {"must": children}}
    if isinstance(q, wq.DisjunctionMax):
        return {"dis_max": {"queries": children, "tie_breaker": 0.0}} if children else None
    if not q.is_leaf():  # Or and the other unions
        return _any(children)
    return None  # a kind of query this backend does not translate: it matches nothing
