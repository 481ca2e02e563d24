"""Planning: a query analysed into an engine-neutral plan, ready for any backend.

Between query analysis (``query.py``) and a backend. A plain question becomes
concepts, each with its forms (the word typed, its correction, synonyms,
expansions) as stems with weights, plus the intent, the filters and the
words for the fuzzy last resort. Query-language input is kept as text for
the backend to parse. What the index holds is asked through a ``Lexicon``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterator, Optional, Protocol

from .query import Concept, concepts, inflection_key, is_english_word, uses_syntax
from .resources import load
from .sections import asks_definition, intent_kinds

__all__ = ["Lexicon", "Form", "PlannedConcept", "Plan", "make_plan", "fuzzy_words", "searched_forms",
           "MAX_DERIVED_SUFFIX", "MAX_CORRECTED_LENGTH", "MAX_CORRECTIONS", "MAX_CONCEPT_COUNT",
           "ALTERNATIVE_WEIGHT", "PROXIMITY_BOOST", "PROXIMITY_SLOP", "MIN_LENGTH_FOR_THREE_EDITS",
           "spelling_distance"]

#: A word the index lacks also searches index words that extend it by at most
#: this many letters ("rhythm" -> "rhythmic").
MAX_DERIVED_SUFFIX = 3
#: Longer words are never spell-corrected: no word is that long, and the
#: correctors' cost grows with the length (a pasted 5,000-letter "word").
MAX_CORRECTED_LENGTH = 48
#: At most this many unknown words of one query are spell-corrected.
MAX_CORRECTIONS = 8
#: Words this long or longer may be corrected across three edits, shorter ones
#: across two (six letters and more) or one.
MIN_LENGTH_FOR_THREE_EDITS = 9
#: A concept said several times weighs up to this many times as much in coverage.
MAX_CONCEPT_COUNT = 2
#: Weight of a synonym or expansion relative to the word typed.
ALTERNATIVE_WEIGHT = 0.7
#: Bonus weight of the whole question's words appearing close together.
PROXIMITY_BOOST = 0.5
PROXIMITY_SLOP = 2


class Lexicon(Protocol):
    """What planning asks of an index; each backend answers from its own terms."""

    def analyse(self, text: str) -> list[str]:
        """The stems the index's text analyzer makes of ``text``."""

    def has_word(self, word: str) -> bool:
        """True when some passage holds this surface word."""

    def has_stem(self, stem: str) -> bool:
        """True when some passage's text holds this stem."""

    def derived_words(self, word: str, max_extra: int) -> tuple[str, ...]:
        """Index words that extend ``word`` by at most ``max_extra`` letters."""

    def suggest(self, word: str, maxdist: int) -> Optional[str]:
        """The index word within ``maxdist`` edits of ``word`` (same first letter), or None."""

    def idf(self, stem: str) -> float:
        """The inverse document frequency of a text stem."""


@dataclass(frozen=True)
class Form:
    """One way of saying a concept, as stems; one stem is a term, several a phrase."""

    stems: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class PlannedConcept:
    """A concept with its distinct forms and its weight in coverage."""

    concept: Concept
    forms: tuple[Form, ...]
    weight: float


@dataclass(frozen=True)
class Plan:
    """A query ready for a backend: what to search, how to weigh it, where to look.

    ``syntax`` holds query-language text for the backend to parse (then
    there are no concepts); otherwise the concepts are searched, with the
    ``proximity`` stems as a bonus phrase. ``fuzzy`` (not None) marks the
    last-resort plan: those words within one or two edits.
    """

    query: str
    concepts: tuple[PlannedConcept, ...] = ()
    proximity: tuple[str, ...] = ()
    intents: frozenset[str] = frozenset()
    definition: bool = False
    corrected: Optional[str] = None
    syntax: Optional[str] = None
    fuzzy: Optional[tuple[str, ...]] = None
    section: Optional[str] = None
    article: Optional[str] = None
    #: Which concepts (by position) name the topic of some candidate's article;
    #: set by the re-ranking once the candidates are known (``ranking.with_topics``).
    topics: frozenset[int] = frozenset()


def make_plan(query: str, lexicon: Lexicon, abbreviations: dict[str, str],
              synonyms: dict[str, tuple[str, ...]], section: Optional[str] = None,
              article: Optional[str] = None, syntax: bool = True) -> Plan:
    """The plan of a validated query: query language as text, or concepts with forms.

    ``syntax=False`` plans the words of a query whose syntax yielded nothing.
    """
    if syntax and uses_syntax(query):
        return Plan(query, syntax=query, section=section, article=article)
    found = _correct(concepts(query, abbreviations, synonyms), lexicon, synonyms)
    planned = tuple(_planned(c, lexicon) for c in found)
    corrected = None
    if any(c.corrected for c in found):
        corrected = query
        for c in found:
            if c.corrected:
                corrected = re.sub(rf"(?i)\b{re.escape(c.word)}\b", c.corrected, corrected)
    proximity = tuple(s for c in planned for s in _indexed_form(c, lexicon))
    return Plan(query, planned, proximity if len(proximity) > 1 else (),
                frozenset(intent_kinds(corrected or query)), asks_definition(corrected or query),
                corrected, section=section, article=article)


def searched_forms(plan: Plan, boosts: dict[str, float],
                   max_terms: int) -> Iterator[list[list[tuple[str, tuple[str, ...], float]]]]:
    """What each backend searches for a plain plan: per concept, per form, its
    ``(field, stems, boost)`` in each field of ``boosts`` (the field's boost times the
    form's weight). Concepts stop once ``max_terms`` terms would be searched in all."""
    budget = max_terms
    for c in plan.concepts:
        budget -= len(boosts) * sum(len(form.stems) for form in c.forms)
        if budget < 0:
            return
        yield [[(field, form.stems, round(boost * form.weight, 3)) for field, boost in boosts.items()]
               for form in c.forms]


def fuzzy_words(plan: Plan) -> Plan:
    """The last-resort plan when nothing matched: each misspelt word within one or two edits.

    An ordinary English word is no misspelling: "beat" is not searched as
    "best" or "heat", as ``_correct`` keeps it too. Only the first
    ``MAX_CORRECTIONS`` words are tried.
    """
    words = [w for c in plan.concepts for w in c.concept.word.split()
             if MAX_CORRECTED_LENGTH >= len(w) >= 4 and not is_english_word(w)]
    return replace(plan, fuzzy=tuple(words[:MAX_CORRECTIONS]))


def _planned(concept: Concept, lexicon: Lexicon) -> PlannedConcept:
    """A concept's distinct forms as stems, and its weight.

    A concept weighs as much as its rarest indexed form is rare (IDF), so
    matching the rare "imaging" counts for more than matching the
    everywhere "brain", and a word no passage contains ("happen") neither
    helps nor hurts any passage.
    """
    forms: list[Form] = []
    for i, text in enumerate(concept.all_forms):
        stems = tuple(lexicon.analyse(text))
        if stems and all(f.stems != stems for f in forms):  # "relaxer", "relaxers": one form
            forms.append(Form(stems, 1.0 if i == 0 else ALTERNATIVE_WEIGHT))
    weight = 0.0
    for form in forms:
        if all(lexicon.has_stem(s) for s in form.stems):
            weight = max(weight, max(lexicon.idf(s) for s in form.stems))
    return PlannedConcept(concept, tuple(forms), weight * min(concept.count, MAX_CONCEPT_COUNT))


def _indexed_form(concept: PlannedConcept, lexicon: Lexicon) -> tuple[str, ...]:
    """The stems of the concept's first form the index holds, for the proximity phrase.

    A phrase of a stem no passage holds matches nothing: "specialised
    treatment" looks for "specialized treatment" when only that spelling is
    indexed. The word as typed (or corrected) comes first, then its
    one-word alternatives; with none indexed, the word as typed.
    """
    if not concept.forms:
        return ()
    typed, *alternatives = concept.forms
    for form in (typed, *(f for f in alternatives if len(f.stems) == 1)):
        if all(lexicon.has_stem(s) for s in form.stems):
            return form.stems
    return typed.stems


def _correct(found: list[Concept], lexicon: Lexicon,
             synonyms: dict[str, tuple[str, ...]]) -> list[Concept]:
    """Swap in a spelling correction for misspelt words the index has never seen.

    A word the index lacks but English has ("beat", "worn") is kept as
    typed: it is what the user meant, even if no passage says it. Only the
    first ``MAX_CORRECTIONS`` misspellings are looked up, which bounds the
    cost of a pasted page of gibberish.
    """
    out = []
    tries = 0
    for c in found:
        if _nothing_to_correct(c, lexicon):
            out.append(c)
            continue
        derived = lexicon.derived_words(c.word, MAX_DERIVED_SUFFIX) if len(c.word) >= 4 else ()
        if derived:
            out.append(replace(c, alternatives=c.alternatives + derived))
            continue
        if is_english_word(c.word) or tries >= MAX_CORRECTIONS:
            out.append(c)
            continue
        tries += 1
        corrected = _spelling(c.word, lexicon)
        if corrected is None:
            out.append(c)
            continue
        more = tuple(a for a in synonyms.get(inflection_key(corrected), ())
                     if a not in c.alternatives)
        out.append(replace(c, corrected=corrected, alternatives=c.alternatives + more))
    return out


def _nothing_to_correct(c: Concept, lexicon: Lexicon) -> bool:
    """A phrase, a word the index has (or a synonym of it), a number, too short or long."""
    return (" " in c.word or c.word.isdigit()
            or not 4 <= len(c.word) <= MAX_CORRECTED_LENGTH
            or lexicon.has_word(c.word)
            or all(lexicon.has_stem(s) for s in lexicon.analyse(c.word))
            or any(lexicon.has_word(a) for a in c.alternatives))


def spelling_distance(word: str) -> int:
    """How many edits a misspelling of ``word``'s length may be from what was meant.

    Long names take more slips ("ciprofaxin" for "ciprofloxacin" is three).
    """
    return 1 if len(word) < 6 else 2 if len(word) < MIN_LENGTH_FOR_THREE_EDITS else 3


def _spelling(word: str, lexicon: Lexicon) -> Optional[str]:
    """The index word, else the question word, fewest edits from ``word``.

    Nearest first: a word one edit away beats any word two away, however
    common ("citrobactor" -> "citrobacter"), and among words equally near
    the index's most frequent wins. A word the dictionary knows, however
    rare, is corrected more than one edit away only to a word ordinary
    English does not use (a drug, a disease, a test): two edits turn one
    real word into another ("uprate" -> "updated") more often than they
    undo a slip ("thiner" -> "thinners" is a slip). All candidates keep the
    first letter, which typos rarely change, and which keeps the walk of a
    large vocabulary short.
    """
    for distance in range(1, spelling_distance(word) + 1):
        found = lexicon.suggest(word, distance)
        if found and (_edits(word, found, 1) <= 1 or not is_english_word(found)
                      or not is_english_word(word, 1)):
            return found
        if distance <= 2:
            close = _closest(word, _question_words(), distance)
            if close:
                return close
    return None


@lru_cache(maxsize=1)
def _question_words() -> tuple[str, ...]:
    """Words a question may use that no passage needs to: synonyms and intent words.

    The second place a misspelt word is looked up, after the index: the
    corrected "permanent" finds no passage, but it still asks for the outlook,
    and a corrected "physiotherapy" brings its synonyms.
    """
    words: set[str] = set()
    for group in load("synonyms")["groups"]:
        words.update(w for phrase in group for w in phrase.lower().split())
    for section in load("sections")["sections"]:
        words.update(w for phrase in section.get("intent", ()) for w in phrase.split())
    return tuple(sorted(w for w in words if len(w) >= 4 and is_english_word(w, 1)))


def _closest(word: str, words: tuple[str, ...], maxdist: int) -> Optional[str]:
    """The word of ``words`` fewest edits from ``word`` (then the first in order), same first letter."""
    best: Optional[tuple[int, str]] = None
    for w in words:
        if w == word or w[:1] != word[:1] or abs(len(w) - len(word)) > maxdist:
            continue
        d = _edits(word, w, maxdist)
        if d <= maxdist and (best is None or (d, w) < best):
            best = (d, w)
    return best[1] if best else None


def _edits(a: str, b: str, cap: int) -> int:
    """Edits from ``a`` to ``b`` (a swap of two neighbours is one), or ``cap + 1`` past ``cap``."""
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        new = [i]
        for j, cb in enumerate(b, 1):
            cost = min(row[j] + 1, new[j - 1] + 1, row[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, before[j - 2] + 1)  # "mutliple" -> "multiple"
            new.append(cost)
        if min(new) > cap:
            return cap + 1
        before, row = row, new
    return row[-1]
