"""Segmentation: cut the placed body blocks into sentence-aligned passages.

Runs after sections. A passage is a paragraph-sized run of whole sentences
(one to four, at most about 120 words) inside one section and subsection; a
list lead-in stays with what follows it; every sentence lands in exactly one
passage, in order.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from .resources import load
from .sections import Placement

__all__ = ["split_sentences", "Span", "Unit", "segment", "MAX_WORDS", "MAX_SENTENCES"]

MAX_WORDS = 120
MAX_SENTENCES = 4
#: A paragraph that opens by pointing back joins the one before it up to this
#: many sentences in all: a passage that begins "This may cause ..." tells a
#: reader nothing on its own.
CONTINUED_SENTENCES = 6
_BACK_REFERENCE = re.compile(r"(?:This|These|Such)\b(?! (?:article|page)\b)")
#: A one-sentence paragraph shorter than this joins a neighbour in its subsection.
SHORT_WORDS = 15

_BOUNDARY = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(\s+)(?=[\"'\u201c\u2018(\[]?[A-Z0-9])")
_INITIAL = re.compile(r"(?:^|[\s(])(?:[A-Z]\.(?:-?[A-Z]\.)*)$")
_DOTTED = re.compile(r"(?:[A-Za-z]\.-?){2,}$")


@lru_cache(maxsize=1)
def _abbreviations() -> frozenset[str]:
    return frozenset(a.lower() for a in load("sentences")["abbreviations"])


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` of ``text``, cut only at whitespace.

    A dot after a known abbreviation ("e.g.", "Dr.", "Intl.") or an initial
    ("H.-P.", "A. J.") does not end a sentence. The spans cover all of the
    text but the whitespace between sentences.
    """
    abbrevs = _abbreviations()
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        cut = m.start(1)
        before = text[start:m.start() + 1]
        word = re.search(r"([\w.\-]+)\.$", before)
        if text[m.start()] == ".":
            token = word.group(1).lower() if word else ""
            if token in abbrevs or _DOTTED.search(before):
                continue
            if _INITIAL.search(before) and re.match(r"[A-Z]\.|[A-Z][a-z]+,", text[m.end():]):
                continue  # "Smith, A. J. Jones" or "A. Smith": an initial, not an end
        if text[start:cut].strip():
            spans.append((start, cut))
        start = m.end(1)
    if text[start:].strip():
        end = len(text.rstrip())
        spans.append((start, end))
    return spans


@dataclass(frozen=True)
class Span:
    """A sentence: where it lies in the article text, and where it came from."""

    start: int
    end: int
    words: int
    block: int


@dataclass(frozen=True)
class Unit:
    """A passage before it has an id: its sentences and its place in the article."""

    sentences: tuple[Span, ...]
    placement: Placement

    @property
    def start(self) -> int:
        return self.sentences[0].start

    @property
    def end(self) -> int:
        return self.sentences[-1].end


def _chunk(sents: list[Span]) -> list[list[Span]]:
    """Split one paragraph's sentences into as few balanced chunks as the limits allow."""
    words = sum(s.words for s in sents)
    k = max(math.ceil(words / MAX_WORDS), math.ceil(len(sents) / MAX_SENTENCES), 1)
    if k == 1:
        return [sents]
    target = words / k
    chunks: list[list[Span]] = [[]]
    acc = 0.0
    for i, s in enumerate(sents):
        cur = chunks[-1]
        left_after = len(sents) - i
        if cur and len(chunks) < k and (
                len(cur) >= MAX_SENTENCES
                or acc + s.words / 2 > target * len(chunks)
                or sum(x.words for x in cur) + s.words > MAX_WORDS) and left_after >= 1:
            chunks.append([])
        chunks[-1].append(s)
        acc += s.words
    return [c for c in chunks if c]


def _fits(a: list[Span], b: list[Span]) -> bool:
    return (len(a) + len(b) <= MAX_SENTENCES
            and sum(s.words for s in a) + sum(s.words for s in b) <= MAX_WORDS)


def segment(paragraphs: Sequence[tuple[int, str, Placement, bool, bool]]) -> list[Unit]:
    """Group sentences of placed paragraphs into passages.

    ``paragraphs`` are ``(offset in article text, text, placement, is_list_item,
    follows_heading)`` in reading order. Passages never reach across a heading,
    so a passage's text is always a run of body sentences and nothing else.
    """
    groups: list[tuple[list[Span], Placement, bool]] = []  # sentences, placement, item
    for b, (offset, text, placement, item, _) in enumerate(paragraphs):
        sents = [Span(offset + s, offset + e, len(text[s:e].split()), b)
                 for s, e in split_sentences(text)]
        if not sents:
            continue
        for chunk in _chunk(sents):
            groups.append((chunk, placement, item))

    def text_of(span: Span) -> str:
        off, text = paragraphs[span.block][:2]
        return text[span.start - off:span.end - off]

    def joinable(a: list[Span], b: list[Span]) -> bool:
        """True when no heading stands between the end of ``a`` and the start of ``b``."""
        return b[0].block == a[-1].block or not paragraphs[b[0].block][4]

    def is_leadin(span: Span) -> bool:
        return text_of(span).rstrip().endswith(":")

    # Pass 0: a paragraph that opens by pointing back ("This may cause ...")
    # stays with the paragraph before it, which says what "this" is; the two
    # may then hold up to CONTINUED_SENTENCES sentences.
    continued: list[tuple[list[Span], Placement, bool]] = []
    for sents, placement, item in groups:
        prev = continued[-1] if continued else None
        if (prev is not None and sents[0].block != prev[0][-1].block
                and _BACK_REFERENCE.match(text_of(sents[0]))
                and prev[1] == placement and not prev[2] and not item
                and not is_leadin(prev[0][-1]) and joinable(prev[0], sents)
                and len(prev[0]) + len(sents) <= CONTINUED_SENTENCES
                and sum(s.words for s in prev[0] + sents) <= MAX_WORDS):
            continued[-1] = (prev[0] + sents, placement, False)
            continue
        continued.append((sents, placement, item))
    groups = continued

    # Pass 1: a list lead-in goes with the first item after it; a lead-in whose
    # items are missing stays with the sentences before it.
    merged: list[tuple[list[Span], Placement, bool]] = []
    i = 0
    while i < len(groups):
        sents, placement, item = groups[i]
        nxt = groups[i + 1] if i + 1 < len(groups) else None
        if is_leadin(sents[-1]):
            if nxt is not None and nxt[2] and nxt[1] == placement and joinable(sents, nxt[0]):
                # move the lead-in sentence forward onto the first item
                lead = [sents[-1]]
                rest = sents[:-1]
                if rest:
                    merged.append((rest, placement, item))
                groups[i + 1] = (lead + nxt[0], placement, True)
                i += 1
                continue
            if len(sents) == 1:
                prev = merged[-1] if merged else None
                if (prev is not None and prev[1].section == placement.section
                        and joinable(prev[0], sents)):
                    merged[-1] = (prev[0] + sents, prev[1], prev[2])
                    i += 1
                    continue
                if nxt is not None and joinable(sents, nxt[0]):
                    groups[i + 1] = (sents + nxt[0], nxt[1], nxt[2])
                    i += 1
                    continue
        merged.append((sents, placement, item))
        i += 1

    # Pass 2: a very short one-sentence paragraph joins its neighbour in the same
    # subsection (the next one first), and a short list item the items before
    # it, when the result stays within the limits.
    out: list[tuple[list[Span], Placement, bool]] = []
    i = 0
    while i < len(merged):
        sents, placement, item = merged[i]
        short = len(sents) == 1 and sents[0].words < SHORT_WORDS and not item
        nxt = merged[i + 1] if i + 1 < len(merged) else None
        if (short and nxt is not None and nxt[1] == placement and not nxt[2]
                and _fits(sents, nxt[0]) and joinable(sents, nxt[0])):
            merged[i + 1] = (sents + nxt[0], placement, False)
            i += 1
            continue
        if (short and out and out[-1][1] == placement and not out[-1][2]
                and _fits(out[-1][0], sents) and joinable(out[-1][0], sents)):
            out[-1] = (out[-1][0] + sents, placement, False)
            i += 1
            continue
        # A short list item joins the items before it: a list of short items
        # ("Stress at work", "Missing meals") reads as one passage.
        if (item and len(sents) == 1 and sents[0].words < SHORT_WORDS and out
                and out[-1][2] and out[-1][1] == placement
                and _fits(out[-1][0], sents) and joinable(out[-1][0], sents)):
            out[-1] = (out[-1][0] + sents, placement, True)
            i += 1
            continue
        out.append((sents, placement, item))
        i += 1
    return [Unit(tuple(s), p) for s, p, _ in out]
