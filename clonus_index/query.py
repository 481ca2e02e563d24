"""Query analysis: from what a person typed to the concepts worth searching for.

Between the user and search. Pure text work, no index access: validate,
tell plain questions from query-language syntax, drop question words, and
expand each remaining word with its synonyms (``data/synonyms.json``) and
with abbreviation pairs mined from the articles themselves.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Optional

from .errors import QueryError
from .resources import load, stopwords

__all__ = ["MAX_QUERY_CHARS", "MAX_QUERY_WORDS", "Concept", "validate", "uses_syntax",
           "words_of", "concepts", "synonym_table", "inflection_key", "mine_abbreviations",
           "normalise_for_match", "is_english_word", "ENGLISH_MIN_COUNT", "asked_part"]

#: Longer queries are refused with a message (pasting a whole page is a mistake).
MAX_QUERY_CHARS = 20_000
#: Only the first words of a long plain query are searched: enough for any
#: question, and it keeps the cost of a search bounded.
MAX_QUERY_WORDS = 64

_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*", re.UNICODE)
#: Query-language markers. A "?" is a one-letter wildcard only inside a word
#: ("cl?nus"); closing a word ("what causes clonus?") it is a question mark.
#: Brackets group only what operators join: without one ("What is (are) gout?",
#: "my son (6) has a rash") they are punctuation.
_SYNTAX = re.compile(r"[\"*~^]|\?(?=\w)|\b(?:AND|OR|NOT|ANDNOT|ANDMAYBE|TO)\b|\w:\S")


#: At most this many hits are ranked for one search: ``offset + limit``.
MAX_RESULTS = 1000


def validate(query: object, limit: object = 10, offset: object = 0) -> str:
    """The query as a clean string, or ``QueryError`` saying what to change."""
    if not isinstance(query, str):
        raise QueryError("query must be text")
    if not query.strip():
        raise QueryError("query is empty; type some words to search for")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"query is too long ({len(query)} characters); "
                         f"keep it to at most {MAX_QUERY_CHARS} characters")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise QueryError(f"limit must be a whole number of 1 or more, not {limit!r}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise QueryError(f"offset must be a whole number of 0 or more, not {offset!r}")
    if offset + limit > MAX_RESULTS:
        raise QueryError(f"offset + limit is {offset + limit}; at most {MAX_RESULTS} hits "
                         "can be ranked: narrow the query, or use --section or --article")
    return _without_surrogates(query)


def _without_surrogates(text: str) -> str:
    """``text`` with undecodable bytes and lone surrogates as U+FFFD.

    A command-line argument that is not UTF-8 reaches Python as surrogate
    escapes ("\udcff"), which no UTF-8 output can print; the query is
    echoed back in results, so it is made printable once, here.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:  # a surrogate that is no escaped byte
        return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)


def uses_syntax(query: str) -> bool:
    """True when the query uses the query language (quotes, operators, fields, wildcards).

    Brackets alone are not the query language: they group nothing without an
    operator, and people put asides in them.
    """
    return _SYNTAX.search(query) is not None


def words_of(text: str) -> list[str]:
    """Lower-cased words, apostrophes kept inside words ("doctor's")."""
    return [w.lower().replace("\u2019", "'") for w in _WORD.findall(text)]


def asked_part(message: str) -> Optional[str]:
    """The questions of a message of several sentences, or None for a single one.

    "I've just been put on a muscle relaxant. Am I ok to drive?" asks about
    driving; the first sentence is context. The questions decide what is
    asked for, and the context only helps.
    """
    sentences = re.split(r"(?<=[.!?])\s+", message.strip())
    asked = [s for s in sentences if s.endswith("?")]
    return " ".join(asked) if len(sentences) > 1 and asked else None


def normalise_for_match(text: str) -> str:
    """Lowercase, every run of non-alphanumerics one space: how eval keys are compared."""
    return re.sub(r"[^0-9a-z]+", " ", text.lower()).strip()


@dataclass(frozen=True)
class Concept:
    """One thing the user asked about: the word typed and what may stand for it."""

    word: str
    alternatives: tuple[str, ...] = ()  # synonyms and expansions, phrases allowed
    corrected: Optional[str] = None  # a spelling correction, when the word is unknown
    count: int = 1  # how often the query says it: a word said twice matters more
    context: bool = False  # said only in the context sentences of a message, not in its questions

    @property
    def all_forms(self) -> tuple[str, ...]:
        forms = [self.corrected or self.word]
        forms.extend(a for a in self.alternatives if a not in forms)
        return tuple(forms)


_english_lock = threading.Lock()
_english: Any = None


def _english_checker():
    """pyspellchecker's English dictionary (160,000 words), loaded on first use (~0.3 s)."""
    global _english
    if _english is None:
        with _english_lock:
            if _english is None:
                from spellchecker import SpellChecker

                _english = SpellChecker(distance=1)
    return _english


#: How often (in pyspellchecker's counts) a word must occur in English to be
#: taken as meant: "worn" (22,823) and "jerking" (5,760) are; "stoke" (828),
#: more often a slip for "stroke", is not.
ENGLISH_MIN_COUNT = 1000


def is_english_word(word: str, min_count: int = ENGLISH_MIN_COUNT) -> bool:
    """True when ``word`` is an ordinary English word, not a rare one.

    Spelling correction asks this before it corrects a word the index has
    never seen: "beat" or "worn" is what the user meant, even if no passage
    says it, and turning it into "heat" or "work" would search for something
    else. A rare word ("stoke") is more likely a slip and may be corrected.
    ``min_count=1`` asks whether the dictionary has the word at all.
    """
    return _english_checker().word_frequency[word.lower()] >= max(min_count, 1)


_VOWELS = set("aeiouy")


def _undouble(stem: str) -> str:
    """"stopp" -> "stop": the consonant an -ing or -ed ending doubled."""
    if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in _VOWELS | set("lsz"):
        return stem[:-1]
    return stem


def _inflection_stem(word: str) -> str:
    """``word`` without its inflection: plural, possessive, -ed, -ing, final e."""
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) <= 3:
        return word
    if word.endswith(("ies", "ied")) and len(word) > 4:
        word = word[:-3] + "y"  # "therapies", "identified"
    elif word.endswith("ing") and len(word) > 5:
        word = _undouble(word[:-3])  # "stopping" -> "stop"
    elif word.endswith("ed") and len(word) > 4:
        word = _undouble(word[:-2])  # "scanned" -> "scan"
    elif word.endswith("es") and len(word) > 4:
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def inflection_key(phrase: str) -> str:
    """A phrase's synonym lookup key: its words lower-cased and without inflections.

    Word forms share a key ("treated", "treats", "treating" -> "treat"), so
    they find the same synonym group; derived words do not ("operating"
    heavy machinery is no "operation"), which a full stemmer would merge.
    """
    return " ".join(_inflection_stem(w) for w in words_of(phrase))


def synonym_table(key: Callable[[str], str] = inflection_key) -> dict[str, tuple[str, ...]]:
    """Phrase -> its synonyms, from ``data/synonyms.json``, looked up by ``key(phrase)``."""
    table: dict[str, list[str]] = {}
    for group in load("synonyms")["groups"]:
        for phrase in group:
            k = key(phrase.lower())
            if not k:
                continue
            table.setdefault(k, [])
            table[k].extend(p.lower() for p in group
                            if p.lower() != phrase.lower() and p.lower() not in table[k])
    return {k: tuple(v) for k, v in table.items()}


def _stopwords() -> frozenset[str]:
    return stopwords() | frozenset(load("stopwords")["question_words"])


def mine_abbreviations(texts: Iterable[str]) -> dict[str, str]:
    """Abbreviation -> long form, from "long form (ABBR)" in the articles' own text.

    The long form is the run of words right before the parenthesis whose
    initials spell the abbreviation: "magnetic resonance imaging (MRI)".
    """
    found: dict[str, str] = {}
    for text in texts:
        for m in re.finditer(r"\(\s*([A-Z][A-Za-z]{1,7})\s*\)", text):
            abbr = m.group(1)
            letters = [c.lower() for c in abbr if c.isupper()]
            if len(letters) < 2:
                continue
            before = re.findall(r"[A-Za-z][\w-]*", text[max(0, m.start() - 120):m.start()])
            words = before[-len(letters):]
            if len(words) == len(letters) and all(w[0].lower() == c for w, c in zip(words, letters)):
                found.setdefault(abbr.lower(), " ".join(w.lower() for w in words))
    return found


def concepts(query: str, abbreviations: Optional[dict[str, str]] = None,
             synonyms: Optional[dict[str, tuple[str, ...]]] = None,
             key: Callable[[str], str] = inflection_key) -> list[Concept]:
    """The concepts of a plain query: content words with their expansions.

    Question and stop words ("what", "is", "the", "can I") are dropped unless
    nothing else is left; a long form written out ("multiple sclerosis") gains
    its abbreviation and vice versa; multi-word synonym phrases typed in full
    ("botulinum toxin") become one concept. ``synonyms`` is a table from
    :func:`synonym_table` built with the same ``key``.
    """
    abbreviations = abbreviations or {}
    long_forms = {v: k for k, v in abbreviations.items()}
    if synonyms is None:
        synonyms = synonym_table(key)
    words = words_of(query)[:MAX_QUERY_WORDS]
    stop = _stopwords()
    if all(w in stop for w in words):
        stop = frozenset()  # nothing but stop words: search them after all
    result: list[Concept] = []
    i = 0
    while i < len(words):
        # Longest multi-word phrase first: synonyms ("day to day", "operate
        # on") and written-out long forms, stop words in them included.
        for n in (4, 3, 2):
            span = words[i:i + n]
            phrase = " ".join(span)
            if len(span) == n and (key(phrase) in synonyms or phrase in long_forms):
                alts = list(synonyms.get(key(phrase), ()))
                if phrase in long_forms:
                    alts.append(long_forms[phrase])
                result.append(Concept(phrase, tuple(alts)))
                i += n
                break
        else:
            word = words[i]
            i += 1
            if word in stop:
                continue
            alts = list(synonyms.get(key(word), ()))
            if word in abbreviations:
                alts.append(abbreviations[word])
            result.append(Concept(word, tuple(a for a in alts if a != word)))
    # The same concept twice ("clonus clonus") is one concept, said twice.
    counts = Counter(c.word for c in result)
    asked = asked_part(query)
    asked_words = set(words_of(asked)) if asked else None
    unique: dict[str, Concept] = {}
    for c in result:
        context = asked_words is not None and not set(c.word.split()) & asked_words
        unique.setdefault(c.word, replace(c, count=counts[c.word], context=context))
    return list(unique.values())
