"""Re-ranking: from a backend's first-stage candidates to the final order, with explanations.

After the backend, before output. Works on what any backend returns (a
passage's first-stage score) and on per-passage signals computed once, at
build time (``passage_signals``), and stored with the index: the stems of
each field, the sentence openings, the heading, the section kinds and the
passage's place in its article, and its article's topic (``topics``). Nothing
here re-analyses text at query time.

Topic first: the concepts of a question that name the topic of some
candidate's article (its condition, drug or test) choose the article, and a
passage inherits its article's topic; the question's other words, its intent
and the passage's headings then choose among that article's passages. A title
word that is not the subject ("triggers" in "Migraine: symptoms, triggers and
treatment") covers nothing, so it does not lift every passage of the article.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Optional, Sequence

from .models import Passage
from .planning import Plan
from .segment import split_sentences
from .topics import article_topic

__all__ = ["Signals", "Candidate", "passage_signals", "factors", "rerank", "explanation",
           "with_topics", "COVERAGE_FLOOR", "TOPIC_FLOOR", "CONTEXT_WEIGHT", "SECTION_HEADING_BOOST", "SUBJECT_BOOST", "HEADING_BOOST", "INTENT_BOOST", "LEAD_BOOST",
           "SECTION_LEAD_BOOST", "OPENING_STEMS"]

#: Re-ranking: score * (COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * coverage ** 2).
COVERAGE_FLOOR = 0.3
#: A passage whose article is about none of the topics the question names
#: keeps this share of its score; about some of them, in proportion to their weight.
TOPIC_FLOOR = 0.35
#: A concept said only in a message's context sentences ("My wife has been
#: diagnosed with X. She ... What is the outlook?") weighs this much in
#: coverage, unless it names a topic.
CONTEXT_WEIGHT = 0.6
#: Re-ranking factors, each explainable on its own:
#: a sentence of the passage opens with something the question asks about;
SUBJECT_BOOST = 0.3
#: the passage's subsection heading names something the question asks about;
HEADING_BOOST = 0.5
#: the passage's section heading names something the question asks about, other
#: than its topic, when no intent chose sections ("Is X inherited?" and "Inheritance");
SECTION_HEADING_BOOST = 0.25
#: the passage is in a section the question asks for ("how is it treated");
INTENT_BOOST = 0.4
#: for "what is X" questions, earlier passages (up to this much for the first);
LEAD_BOOST = 0.3
#: the first passage of the section the question asks for, which usually
#: sums the section up ("what causes clonus" -> the opening of Causes).
SECTION_LEAD_BOOST = 0.25
#: How many stems of a sentence's opening say what it is about.
OPENING_STEMS = 4
#: The fields plain questions search (the first stage's postings hold these).
SEARCHED_FIELDS = ("text", "subsection", "section", "title")
#: The fields whose stems a passage's signals keep: the searched ones, and
#: ``topic``: the stems of its article's subject and aliases.
SIGNAL_FIELDS = SEARCHED_FIELDS + ("topic",)
#: The fields that cover a concept: the passage's own words, and its article's topic.
COVERING_FIELDS = ("text", "subsection", "section", "topic")


@dataclass(frozen=True)
class Signals:
    """What the ranker knows of one passage, computed at build time."""

    stems: dict[str, frozenset[str]]  # field -> the stems it holds
    openings: tuple[tuple[str, ...], ...]  # first stems of each sentence
    heading: tuple[str, ...]  # the subsection heading's stems
    kinds: frozenset[str]  # the section's name and kind, lower-cased
    section_lead: bool  # first passage of its section
    position: int
    article_size: int  # passages in its article

    def to_dict(self) -> dict[str, Any]:
        return {"v": {f: " ".join(sorted(s)) for f, s in self.stems.items()},
                "o": [list(o) for o in self.openings], "h": list(self.heading),
                "k": sorted(self.kinds), "l": self.section_lead, "p": self.position,
                "n": self.article_size}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Signals":
        return cls(stems={f: frozenset(s.split()) for f, s in data["v"].items()},
                   openings=tuple(tuple(o) for o in data["o"]), heading=tuple(data["h"]),
                   kinds=frozenset(data["k"]), section_lead=bool(data["l"]),
                   position=data["p"], article_size=data["n"])


@dataclass
class Candidate:
    """One first-stage match: the backend's score and the passage's stored signals."""

    key: Any  # the backend's handle on the passage (a document number)
    score: float
    signals: Signals
    matched: Optional[set[tuple[str, str]]] = None  # (field, term), when the backend knows


def passage_signals(passages: Sequence[Passage], kinds: Callable[[Passage], Iterable[str]],
                    analyse: Callable[[str], list[str]]) -> list[Signals]:
    """The signals of passages in reading order (articles in turn), ``analyse`` the text analyzer.

    List lead-ins ("Other causes of clonus include:") open no sentence:
    what they are about is in the list that follows, not in them.
    """
    sizes: dict[str, int] = {}
    for p in passages:
        sizes[p.article.id] = sizes.get(p.article.id, 0) + 1
    titles: dict[str, frozenset[str]] = {}
    topics: dict[str, frozenset[str]] = {}
    out = []
    previous: Optional[Passage] = None
    for p in passages:
        if p.article.id not in titles:
            titles[p.article.id] = frozenset(analyse(p.article.title))
            topics[p.article.id] = article_topic(p.article.title, p.article.text, analyse)
        openings = tuple(tuple(analyse(block[a:b])[:OPENING_STEMS])
                         for block in p.text.split("\n\n") for a, b in split_sentences(block)
                         if not block[a:b].rstrip().endswith(":"))
        heading = tuple(analyse(p.subsection or ""))
        lead = (previous is None or previous.article.id != p.article.id
                or previous.section != p.section)
        out.append(Signals(
            stems={"text": frozenset(analyse(p.text)), "subsection": frozenset(heading),
                   "section": frozenset(analyse(p.section)), "title": titles[p.article.id],
                   "topic": topics[p.article.id]},
            openings=openings, heading=heading, kinds=frozenset(kinds(p)), section_lead=lead,
            position=p.position, article_size=sizes[p.article.id]))
        previous = p
    return out


def _plan_forms(plan: Plan) -> tuple[tuple[tuple[str, ...], ...], frozenset[str]]:
    """The distinct non-empty forms of a plan's concepts as stems, and the one-stem ones' stems.

    Kept for the last plan seen: every candidate of a search asks for them.
    """
    global _last_forms
    cached = _last_forms
    if cached[0] is plan:
        return cached[1]
    forms = tuple(dict.fromkeys(f.stems for c in plan.concepts for f in c.forms if f.stems))
    found = (forms, frozenset(f[0] for f in forms if len(f) == 1))
    _last_forms = (plan, found)
    return found


_last_forms: tuple[Any, Any] = (None, None)


def matched_terms(candidate: Candidate, plan: Plan) -> set[tuple[str, str]]:
    """The (field, stem) pairs of the plan's concepts that the passage holds.

    A form of several words counts only where a field holds all of them.
    """
    if candidate.matched is not None:
        return candidate.matched
    stems = candidate.signals.stems
    found = set()
    forms, singles = _plan_forms(plan)
    for field in SIGNAL_FIELDS:
        held = stems.get(field)
        if not held:
            continue
        found.update((field, s) for s in held & singles)
        for form in forms:
            if len(form) > 1 and all(s in held for s in form):
                found.update((field, s) for s in form)
    return found


def _holds(stems: dict[str, frozenset[str]], form, fields: Sequence[str]) -> bool:
    return bool(form.stems) and any(all(s in stems.get(f, ()) for s in form.stems) for f in fields)


def with_topics(candidates: Iterable[Candidate], plan: Plan) -> Plan:
    """The plan with its topic concepts: those that name some candidate's article topic."""
    if not plan.concepts:
        return plan
    found = set()
    for candidate in candidates:
        stems = candidate.signals.stems
        if not stems.get("topic"):
            continue
        for i, c in enumerate(plan.concepts):
            if i not in found and any(_holds(stems, form, ("topic",)) for form in c.forms):
                found.add(i)
    return replace(plan, topics=frozenset(found))


def factors(candidate: Candidate, plan: Plan) -> dict[str, float]:
    """The re-ranking multipliers for one candidate, by name (shown by ``explain``)."""
    result: dict[str, float] = {}
    if not plan.concepts:
        return result
    signals = candidate.signals
    weights = [c.weight * (CONTEXT_WEIGHT if c.concept.context and i not in plan.topics else 1.0)
               for i, c in enumerate(plan.concepts)]
    total = sum(weights)
    if total > 0:
        if candidate.matched is not None:  # query language and fuzzy: what the backend matched
            held = {s for f, s in candidate.matched if f in SIGNAL_FIELDS}
            covers = [any(form.stems and all(s in held for s in form.stems) for form in c.forms)
                      for c in plan.concepts]
        else:
            covers = [any(_holds(signals.stems, form, COVERING_FIELDS) for form in c.forms)
                      for c in plan.concepts]
        covered = sum(w for w, hit in zip(weights, covers) if hit)
        result["coverage"] = COVERAGE_FLOOR + (1 - COVERAGE_FLOOR) * (covered / total) ** 2
    topic_weight = sum(plan.concepts[i].weight for i in plan.topics)
    if topic_weight > 0:
        about = sum(plan.concepts[i].weight for i in plan.topics
                    if any(_holds(signals.stems, form, ("topic",)) for form in plan.concepts[i].forms))
        result["topic"] = TOPIC_FLOOR + (1 - TOPIC_FLOOR) * about / topic_weight

    forms = set(_plan_forms(plan)[0])
    lengths = {len(f) for f in forms}

    def opens_with_concept(heads: Iterable[tuple[str, ...]]) -> bool:
        return any(head[:n] in forms for head in heads for n in lengths)

    if opens_with_concept([signals.heading]):
        result["heading"] = 1 + HEADING_BOOST
    elif not plan.intents and any(  # an intent already speaks for the section
            _holds(signals.stems, form, ("section",))
            for i, c in enumerate(plan.concepts) if i not in plan.topics for form in c.forms):
        result["section_heading"] = 1 + SECTION_HEADING_BOOST
    if opens_with_concept(signals.openings):
        result["subject"] = 1 + SUBJECT_BOOST
    if {k.lower() for k in plan.intents} & signals.kinds:
        result["intent"] = 1 + INTENT_BOOST
        if signals.section_lead:
            result["section_lead"] = 1 + SECTION_LEAD_BOOST
    if plan.definition:
        size = max(signals.article_size, 1)
        result["lead"] = 1 + LEAD_BOOST * (1 - signals.position / size)
    return result


def rerank(candidates: Iterable[Candidate], plan: Plan) -> list[tuple[float, Candidate]]:
    """Candidates by final score, best first; ties in the backend's order (reading order)."""
    scored = []
    for i, candidate in enumerate(candidates):
        score = candidate.score or 0.0
        for value in factors(candidate, plan).values():
            score *= value
        if not math.isfinite(score):  # boosts are clamped; this is a last guard
            score = 0.0
        scored.append((score, i, candidate))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [(score, candidate) for score, _, candidate in scored]


def explanation(candidate: Candidate, plan: Plan, score: float,
                parsed: str) -> dict[str, Any]:
    """What ``--explain`` shows for one hit: the query, the concepts, the matches, the factors."""
    by_field: dict[str, list[str]] = {}
    for f, t in sorted(matched_terms(candidate, plan)):
        by_field.setdefault(f, []).append(t)
    return {
        "parsed_query": parsed,
        "concepts": [{"word": c.concept.word, "corrected": c.concept.corrected,
                      "alternatives": list(c.concept.alternatives)} for c in plan.concepts],
        "matched": by_field,
        "bm25f": round(candidate.score or 0.0, 4),
        "factors": {k: round(v, 4) for k, v in factors(candidate, plan).items()},
        "intents": sorted(plan.intents),
        "score": round(score, 4),
    }
