"""Linking: which references support which passage, by topic, with a score.

Runs after segmentation. The articles carry no in-text citation markers, so
a passage is linked to a reference when it covers enough of the reference
title's topic words, each weighted by how rare it is in the article (IDF).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache
from typing import Iterable, Sequence

from .models import Reference, ReferenceLink
from .resources import load, stopwords

__all__ = ["topic_terms", "link_references", "LINK_THRESHOLD", "s_stem"]

#: The share of a reference title's (IDF-weighted) topic that a passage must cover.
LINK_THRESHOLD = 0.4
#: A link also needs one shared term this specific: found in at most this many
#: passages, and in at most SPECIFIC_SHARE of them (so in a six-passage
#: article a word in three passages is no evidence).
SPECIFIC_DF = 3
SPECIFIC_SHARE = 0.1
#: Terms that appear in more than this share of an article's passages say
#: nothing about any one passage (the article's own subject, "clonus" here).
COMMON_SHARE = 0.5


@lru_cache(maxsize=65536)
def s_stem(word: str) -> str:
    """Harman's S-stemmer: fold plurals only ("toxins" -> "toxin", "therapies" -> "therapy").

    Plural folding is all topical matching needs, and it never mangles a
    medical term the way a full stemmer can.
    """
    if len(word) > 3 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("us", "ss", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=1)
def _synonym_map() -> dict[str, list[str]]:
    """One-word synonym -> the words of its group ("botox" -> botulinum, toxin).

    Only one-word members stand for the group: a word of a phrase does not
    ("brain" of "brain attack" is no "stroke"). Built once per process.
    """
    mapping: dict[str, list[str]] = {}
    for group in load("synonyms")["groups"]:
        words = [s_stem(w) for phrase in group for w in phrase.lower().split()]
        for phrase in group:
            if " " in phrase.strip():
                continue
            w = s_stem(phrase.lower())
            mapping.setdefault(w, [])
            mapping[w].extend(x for x in words if x != w and x not in mapping[w])
    return mapping


def topic_terms(text: str) -> list[str]:
    """Content words of ``text``: lowercased, plural-folded, stopwords and bracketed notes out."""
    stop = stopwords()
    text = re.sub(r"\[[^\]]*\]", " ", text.lower())
    return [s_stem(w) for w in re.findall(r"[a-z][a-z0-9']*[a-z0-9]|[a-z]", text)
            if w not in stop and len(w) > 2]


def _expanded(terms: Iterable[str]) -> Counter:
    synonyms = _synonym_map()
    counts: Counter = Counter()
    for t in terms:
        counts[t] += 1
        for s in synonyms.get(t, ()):
            counts[s] += 1
    return counts


def link_references(passage_texts: Sequence[str], references: Sequence[Reference],
                    threshold: float = LINK_THRESHOLD) -> list[tuple[ReferenceLink, ...]]:
    """For each passage, the references whose title it covers, strongest first.

    score = (sum of IDF of title terms the passage contains) / (sum of IDF of
    the title terms the article mentions at all), where IDF is computed over
    the article's passages and terms common to most passages count for
    nothing. A link needs ``score >= threshold`` and one shared term specific
    to at most ``SPECIFIC_DF`` passages (and ``SPECIFIC_SHARE`` of them), so a
    reference sharing only a generic word ("treatment") links nowhere.
    Synonyms from ``data/synonyms.json`` count as the word ("Botox" covers
    "botulinum toxin").
    """
    bags = [_expanded(topic_terms(t)) for t in passage_texts]
    n = len(bags)
    df: Counter = Counter()
    for bag in bags:
        df.update(bag.keys())

    def idf(term: str) -> float:
        if n and df[term] / n > COMMON_SHARE:
            return 0.0
        return math.log((n + 1) / (df[term] + 0.5))

    specific = max(1, min(SPECIFIC_DF, round(n * SPECIFIC_SHARE)))
    result: list[list[ReferenceLink]] = [[] for _ in bags]
    for ref in references:
        terms = sorted({t for t in topic_terms(ref.title) if df[t]})  # sums in one order
        total = sum(idf(t) for t in terms)
        if total <= 0:
            continue
        for i, bag in enumerate(bags):
            shared = sorted(t for t in terms if t in bag and idf(t) > 0)
            score = sum(idf(t) for t in shared) / total
            if score >= threshold and any(df[t] <= specific for t in shared):
                result[i].append(ReferenceLink(ref.id, score, tuple(shared)))
    return [tuple(sorted(links, key=lambda l: -l.score)) for links in result]
