"""Topics: what each article is about, and the other names it gives its subject.

Part of the build, beside the re-ranking signals (``ranking.passage_signals``
stores an article's topic with each of its passages). The topic is the
title's subject ("Migraine: symptoms, triggers and treatment" -> migraine;
the words that name sections, stop words and title filler are not the
subject) plus the aliases the article itself gives it: an abbreviation it
defines for it ("polycystic kidney disease (PKD)") and names introduced by
"also called", "also known as" and the like (``data/topics.json``). Search
uses it so that a question's condition, drug or test chooses the article
before its other words choose the passage.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Iterable

from .query import mine_abbreviations, words_of
from .resources import load

__all__ = ["subject_words", "aliases", "article_topic", "MAX_ALIAS_WORDS"]

#: An alias is at most this many words ("herpes zoster", "chronic fatigue syndrome").
MAX_ALIAS_WORDS = 5
#: How many words before an alias cue may name the subject ("Shingles, also called ...").
ALIAS_REACH = 4
_SPLIT = re.compile(r"[.,;:!?()\[\]\"\u201c\u201d]|\s[-\u2013\u2014|]\s")
_SEGMENTS = re.compile(r"[:?!|]|\s[-\u2013\u2014]\s")


@lru_cache(maxsize=1)
def _not_subject() -> tuple[frozenset[str], re.Pattern]:
    """Words that are never a title's subject, and one pattern for the phrases that name a section."""
    words = set(load("topics")["filler"])
    data = load("stopwords")
    words.update(data["stopwords"], data["question_words"])
    phrases = {phrase.strip().lower() for section in load("sections")["sections"]
               for phrase in list(section["heading"]) + list(section.get("intent", ()))}
    alternation = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True) if p)
    return frozenset(words), re.compile(rf"\b(?:{alternation})[\w'-]*")


def _subject_of(segment: str) -> list[str]:
    stop, sections = _not_subject()
    return [w for w in words_of(sections.sub(" ", segment.lower())) if w not in stop and not w.isdigit()]


def subject_words(title: str) -> list[str]:
    """The words of a title that name its subject: "What is clonus? Everything you need to know" -> clonus.

    The subject is in the first part of the title that has one ("Gout:
    symptoms and treatment", "What is clonus? ..."), leaving out stop words,
    title filler ("guide", "everything you need to know") and the words that
    name a section ("symptoms", "causes", "what triggers"); words in
    brackets there are another name for it ("Tennis elbow (lateral
    epicondylitis)"). A title made only of such words is its own subject.
    """
    for segment in _SEGMENTS.split(title):
        kept = _subject_of(segment)
        if kept:
            return kept
    words = words_of(title)
    stop, _ = _not_subject()
    return [w for w in words if w not in stop] or words


def aliases(text: str, subject: Iterable[str]) -> list[str]:
    """Other names ``text`` gives its subject: "Shingles, also called herpes zoster, ..." -> herpes zoster.

    An alias counts only when the few words before the cue name the subject
    or open the sentence with a pronoun ("It is sometimes called a spinal
    tap"), so "a substance called urate, also known as uric acid" in an
    article on gout is no alias of gout; a list of brand names counts when
    its sentence names the subject. Abbreviations the text defines for a name made
    of the subject's words count too.
    """
    subject = set(subject)
    if not subject:
        return []
    stop, _ = _not_subject()
    pronouns = set(load("topics")["pronouns"])
    found: list[str] = []
    for m in _alias_cues().finditer(text):
        start = max(text.rfind(". ", 0, m.start()) + 1, text.rfind("\n", 0, m.start()) + 1, 0)
        before = words_of(text[max(start, m.start() - 160):m.start()])
        listed = m.group(1).lower() in _list_cues()  # "ibuprofen ... under brand names such as"
        if not (subject & set(before if listed else before[-ALIAS_REACH:])
                or (before and before[0] in pronouns and len(before) <= ALIAS_REACH)):
            continue
        rest = text[m.end():m.end() + 160]
        if listed:
            found.extend(_names(rest))
            continue
        words = words_of(_SPLIT.split(rest, maxsplit=1)[0])
        while words and words[0] in stop:
            words = words[1:]
        if words and len(words) <= MAX_ALIAS_WORDS:
            found.append(" ".join(words))
    for abbr, long_form in mine_abbreviations([text]).items():
        long_words = set(long_form.split())
        if long_words <= subject or subject <= long_words:
            found.append(abbr)
    return list(dict.fromkeys(found))


@lru_cache(maxsize=1)
def _alias_cues() -> re.Pattern:
    data = load("topics")
    cues = sorted(data["aliases"] + data["alias_lists"], key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(c) for c in cues) + r")\b[\s:]*", re.IGNORECASE)


@lru_cache(maxsize=1)
def _list_cues() -> frozenset[str]:
    return frozenset(c.lower() for c in load("topics")["alias_lists"])


_LEAD_IN = re.compile(r"^(?:(?:such as|like|include|includes|including|are|is)\s+)+", re.IGNORECASE)
_NAME = re.compile(r"[A-Z][\w-]*(?: [A-Z][\w-]*){0,2}$")


def _names(rest: str) -> list[str]:
    """The capitalised names listed after a cue: "such as Advil, Motrin, and Nurofen." -> three."""
    sentence = re.split(r"[.;:()]", rest, maxsplit=1)[0]
    out = []
    for piece in re.split(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+", _LEAD_IN.sub("", sentence.strip())):
        piece = piece.strip()
        if not _NAME.match(piece):
            break
        out.append(" ".join(words_of(piece)))
    return out


def article_topic(title: str, text: str, analyse: Callable[[str], list[str]]) -> frozenset[str]:
    """The stems of an article's subject and of its aliases, for the index."""
    subject = subject_words(title)
    stems = set(analyse(" ".join(subject)))
    for alias in aliases(text, subject) + _bracketed(title):
        stems.update(analyse(alias))
    return frozenset(stems)


def _bracketed(title: str) -> list[str]:
    """Names in brackets in the title's subject part: "Tennis elbow (lateral epicondylitis)"."""
    for segment in _SEGMENTS.split(title):
        if _subject_of(segment):
            return [" ".join(_subject_of(b)) for b in re.findall(r"\(([^()]+)\)", segment)]
    return []
