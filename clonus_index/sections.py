"""Sections: give every body block a section and, where there is one, a subsection.

Runs after reading. HTML headings say it directly. Flattened text lost its
main headings, so sections are inferred from cue words (``data/sections.json``)
by choosing the best split of the blocks into contiguous sections, each used
once, in reading order; surviving short headings become subsections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

from .query import asked_part
from .reading import Block
from .resources import load

__all__ = ["Placement", "place_blocks", "classify_heading", "cue_scores", "section_names",
           "intent_kinds", "asks_definition"]

#: What a new section costs in the inference, in cue hits. Higher means fewer,
#: longer sections; one strong cue sentence is about two hits.
SEGMENT_COST = 1.5


@dataclass(frozen=True)
class Placement:
    """Where one text block sits: its section, the section's kind, its subsection."""

    section: str
    kind: str
    subsection: Optional[str]


def section_names() -> list[str]:
    """The canonical section kinds, in the usual reading order."""
    return [s["name"] for s in load("sections")["sections"]]


def _matches(text: str, cue: str) -> int:
    return len(re.findall(r"\b" + re.escape(cue), text))


def classify_heading(text: str) -> Optional[str]:
    """The section kind a heading names ("Causes of clonus" -> "Causes"), or None."""
    lowered = text.lower()
    for section in load("sections")["sections"]:
        if any(_matches(lowered, h) for h in section["heading"]):
            return section["name"]
    return None


def intent_kinds(question: str) -> set[str]:
    """The section kinds a question asks for ("how is it treated" -> {"Treatment"}).

    In a message of several sentences only the questions count: "I've just
    been diagnosed with MS. Why does it make my muscles spasm?" asks about
    causes, not diagnosis.
    """
    lowered = (asked_part(question) or question).lower()
    return {section["name"] for section in load("sections")["sections"]
            if any(_matches(lowered, word) for word in section.get("intent", ()))}


def asks_definition(question: str) -> bool:
    """True for "what is X", "define X", "meaning of X": questions after a definition."""
    lowered = " ".join(question.lower().split())
    return any(re.search(p, lowered) for p in load("sections")["definition_questions"])


def cue_scores(text: str) -> dict[str, float]:
    """How strongly a text speaks of each section kind: cue hits, phrases counting double.

    The first sentence counts twice: it usually says what the paragraph is
    about ("To diagnose shingles, ..."), where later sentences wander.
    """
    data = load("sections")
    sentences = re.split(r"(?<=[.!?:])\s", text.lower())
    # A roadmap sentence ("In this article, learn more about the causes and
    # treatment") names sections without being about them.
    roadmap = [any(m in s for m in data["roadmap"]) for s in sentences]
    scores = {}
    for section in data["sections"]:
        score = 0.0
        for cue in section["cues"]:
            weight = 2.0 if " " in cue else 1.0
            for i, sentence in enumerate(sentences):
                if roadmap[i] and section["name"] != data["default"]:
                    continue
                score += weight * _matches(sentence, cue) * (2 if i == 0 else 1)
        scores[section["name"]] = score
    return scores


def place_blocks(blocks: Sequence[Block]) -> list[Optional[Placement]]:
    """One ``Placement`` per block (None for headings), in order."""
    if any(b.kind == "heading" and b.level == 2 for b in blocks):
        return _from_headings(blocks)
    return _inferred(blocks)


def _from_headings(blocks: Sequence[Block]) -> list[Optional[Placement]]:
    default = load("sections")["default"]
    section, kind, sub = default, default, None
    out: list[Optional[Placement]] = []
    for block in blocks:
        if block.kind == "heading":
            if block.level == 2:
                section, sub = block.text, None
                kind = classify_heading(block.text) or _best_kind(cue_scores(block.text)) or section
            else:
                sub = block.text
            out.append(None)
        else:
            out.append(Placement(section, kind, sub))
    return out


def _best_kind(scores: dict[str, float]) -> Optional[str]:
    best = max(scores, key=lambda k: scores[k])
    return best if scores[best] > 0 else None


def _inferred(blocks: Sequence[Block]) -> list[Optional[Placement]]:
    names = section_names()
    default = load("sections")["default"]
    text_idx = [i for i, b in enumerate(blocks) if b.kind == "text"]
    # Evidence per text block: its own cues, plus those of a heading right above it.
    # A heading that names a section fixes the kind of the blocks under it.
    evidence: list[dict[str, float]] = []
    heading_scores: dict[str, float] = {}
    forced: Optional[str] = None
    for block in blocks:
        if block.kind == "heading":
            forced_kind = classify_heading(block.text) if _looks_like_section(block.text) else None
            # The section a heading names holds until the next heading; after
            # a subsection heading the cues decide again, since flattening may
            # have lost a section heading between the two.
            forced = forced_kind
            heading_scores = {} if forced_kind else cue_scores(block.text)
            continue
        scores = cue_scores(block.text)
        for k, v in heading_scores.items():
            scores[k] += v
        heading_scores = {}  # a heading speaks for the paragraph right under it
        if forced:
            scores = {k: (v + 1000.0 if k == forced else v) for k, v in scores.items()}
        evidence.append(scores)

    labels = _best_segmentation(evidence, names, default)
    out: list[Optional[Placement]] = []
    sub: Optional[str] = None
    sub_fresh = False
    prev_label: Optional[str] = None
    j = 0
    for block in blocks:
        if block.kind == "heading":
            if _looks_like_section(block.text) and classify_heading(block.text):
                sub = None
            else:
                sub, sub_fresh = block.text, True
            out.append(None)
            continue
        label = labels[j]
        j += 1
        if prev_label is not None and label != prev_label and not sub_fresh:
            sub = None  # a new section ends the old subsection
        sub_fresh = False
        prev_label = label
        out.append(Placement(label, label, sub))
    assert j == len(text_idx)
    return out


def _looks_like_section(text: str) -> bool:
    """A bare heading names a main section when it is short and mostly the section word."""
    return len(text.split()) <= 4 and classify_heading(text) is not None and not any(
        ch.isdigit() for ch in text)


def _best_segmentation(evidence: list[dict[str, float]], names: list[str],
                       default: str) -> list[str]:
    """Label blocks so each kind forms one contiguous run, maximising cue hits.

    Dynamic programming over (block, current kind, kinds already used): a run
    may not come back once left, the default (overview) kind may only open
    the article, and each new run costs ``SEGMENT_COST``.
    """
    if not evidence:
        return []
    index = {n: i for i, n in enumerate(names)}
    # state: (kind, used-mask) -> (score, back-pointer)
    states: dict[tuple[str, int], float] = {}
    back: list[dict[tuple[str, int], Optional[tuple[str, int]]]] = []
    first: dict[tuple[str, int], Optional[tuple[str, int]]] = {}
    for n in names:
        key = (n, 1 << index[n])
        states[key] = evidence[0][n] - SEGMENT_COST - _order_cost(n, names)
        first[key] = None
    back.append(first)
    for ev in evidence[1:]:
        nxt: dict[tuple[str, int], float] = {}
        ptr: dict[tuple[str, int], Optional[tuple[str, int]]] = {}
        for (kind, used), score in states.items():
            # stay in the same run
            cand = score + ev[kind]
            key = (kind, used)
            if cand > nxt.get(key, float("-inf")):
                nxt[key], ptr[key] = cand, (kind, used)
            # open a new run of an unused kind
            for n in names:
                bit = 1 << index[n]
                if used & bit or n == default:
                    continue
                cand = score + ev[n] - SEGMENT_COST - _order_cost(n, names, after=kind)
                key = (n, used | bit)
                if cand > nxt.get(key, float("-inf")):
                    nxt[key], ptr[key] = cand, (kind, used)
        states = nxt
        back.append(ptr)
    state: Optional[tuple[str, int]] = max(states, key=lambda k: states[k])
    labels: list[str] = []
    for step in range(len(evidence) - 1, -1, -1):
        assert state is not None
        labels.append(state[0])
        state = back[step][state]
    return labels[::-1]


def _order_cost(kind: str, names: list[str], after: Optional[str] = None) -> float:
    """A small tie-breaker for the usual order (overview, symptoms, ..., outlook)."""
    if after is None:
        return 0.01 * names.index(kind)
    return 0.0 if names.index(kind) > names.index(after) else 0.1
