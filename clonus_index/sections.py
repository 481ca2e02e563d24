"""Sections: give every body block a section and, where there is one, a subsection.

Runs after reading. HTML headings say it directly. Flattened text lost its
main headings, so sections are inferred from cue words (``cues.py``): first
the kind of article (a condition, a drug, a procedure or test), which fixes
the sections to choose from, then the best split of the blocks into
contiguous runs of those sections, in one pass over the blocks; surviving
short headings become subsections, and a subsection ends with its section.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Optional, Sequence

from .cues import (article_kind, asks_definition, classify_heading, common_cues, cue_matches,
                   cue_scores, intent_kinds, is_definition, kind_of, named_sections, scores_of,
                   section_names, subject_stems, tables, title_cues)
from .models import Block
from .resources import stopwords

_SENTENCES = re.compile(r"(?<=[.!?])\s")
_WORD = re.compile(r"[a-z][a-z'\u2019-]*")

__all__ = ["Placement", "place_blocks", "classify_heading", "cue_scores", "section_names",
           "intent_kinds", "asks_definition", "article_kind", "kind_of", "SEGMENT_COST"]

#: What a new section costs in the inference, in cue hits. Higher means fewer,
#: longer sections; one strong cue sentence is about two hits.
SEGMENT_COST = 2.5
#: Sections marked "late" (outlook, prevention, recovery ...) rarely come in
#: an article's first EARLY_SHARE of paragraphs: there they lose LATE_PENALTY.
EARLY_SHARE = 0.25
LATE_PENALTY = 4.0
#: The weight of the cues of another kind's section that speaks for one of
#: this kind's ("fold" in data/sections.json: Dosage talk is a condition's Treatment).
#: A section any kind may have ("When to see a doctor") folds in full: after
#: a procedure, when to get help is part of Recovery.
FOLD_WEIGHT = 0.5
#: What returning to a section left earlier costs on top of a new run.
RETURN_COST = 8.0
#: What going back to an earlier section in the usual order costs on top.
BACK_COST = 1.0
#: What a definition-style sentence opening one of the first paragraphs adds
#: to Overview ("Vertigo is a sensation that ...").
DEFINITION_BONUS = 4.0
#: How many opening paragraphs may be read as the definition.
DEFINITION_PARAGRAPHS = 2
#: What the first paragraphs add to Overview: an article opens by saying
#: what its subject is, how common it is, how it goes, before any section.
OPENING_BONUS = (4.0, 3.0, 2.0)
#: ... but only in the first OPENING_SHARE of an article's paragraphs (at least one).
OPENING_SHARE = 0.1
#: The weight of a list item's cues in the unit of its lead-in.
ITEM_WEIGHT = 0.5
#: Evidence a heading that names a section gives the block right under it,
#: and each of the FORCED_SPAN blocks after it (which a change of topic may
#: outweigh: flattening may have lost the heading that ended it).
FORCED = 1000.0
FORCED_AFTER = 3.0
FORCED_SPAN = 3
#: What a list lead-in that names one of the kind's sections in a heading's
#: words ("Symptoms of hay fever include:") adds to it: as much as a phrase
#: cue in a first sentence.
LEAD_IN_BONUS = 4.0


@dataclass(frozen=True)
class Placement:
    """Where one text block sits: its section, the section's kind, its subsection."""

    section: str
    kind: str
    subsection: Optional[str]


def place_blocks(blocks: Sequence[Block], title: Optional[str] = None) -> list[Optional[Placement]]:
    """One ``Placement`` per block (None for headings), in order."""
    matches = [cue_matches(b.text) for b in blocks]  # once per block, for every step
    # Cues that name the article's subject (in most paragraphs, or in its title) count less.
    common = common_cues([m for m, b in zip(matches, blocks) if b.kind == "text"]) | title_cues(title)
    scores = [scores_of(m, common) for m in matches]
    kind = article_kind(blocks, title, scores)
    if any(b.kind == "heading" and b.level == 2 for b in blocks):
        return _from_headings(blocks, kind, scores, subject_stems(title))
    return _inferred(blocks, kind, scores)


def _from_headings(blocks: Sequence[Block], article: str, block_scores: Sequence[dict[str, float]],
                   subject: frozenset[str] = frozenset()) -> list[Optional[Placement]]:
    """Sections from the headings; each heading's kind from its words, else from its text.

    A heading that names one of this kind of article's sections gives that
    kind (a section of another kind folds into this one's: "Dosage" in a
    condition's article is Treatment); one that names several lets the text
    under it choose among them ("Things you can do to prevent ..."); one
    that names none lets the text under it choose among all of them, so
    every heading maps to a canonical kind. A subsection shares its
    section's kind, unless it asks a question of its own ("Can I drink
    alcohol with it?" in a list of common questions).
    """
    t = tables()
    allowed = t.kinds[article]
    fold = t.fold[article]
    # Runs of text blocks under one deciding heading: (heading block, block indexes).
    runs: list[tuple[Optional[int], list[int]]] = [(None, [])]
    for i, block in enumerate(blocks):
        if block.kind == "heading":
            if block.level != 3 or block.text.rstrip().endswith("?"):
                runs.append((i, []))
        else:
            runs[-1][1].append(i)
    kinds: dict[int, str] = {}
    starts: set[int] = set()  # the headings that open a section
    previous = t.default
    for heading, members in runs:
        texts = [block_scores[i] for i in members]
        if heading is None:
            kind = t.default  # the untitled opening
        else:
            text = blocks[heading].text
            kind = _heading_kind(text, texts, allowed, fold,
                                 opening=previous == t.default) or previous
            if blocks[heading].level is None and not _opens_section(text, subject):
                kind = previous  # a subsection: its text speaks for the section it is in
            else:
                starts.add(heading)
        for i in members:
            kinds[i] = kind
        previous = kind
    section, sub = t.default, None
    out: list[Optional[Placement]] = []
    for i, block in enumerate(blocks):
        if block.kind == "heading":
            if block.level == 2 or (block.level is None and i in starts):
                section, sub = block.text, None
            else:
                sub = block.text
            out.append(None)
        else:
            out.append(Placement(section, kinds[i], sub))
    return out


def _opens_section(heading: str, subject: frozenset[str]) -> bool:
    """Whether a heading whose level was lost opens a section, or is a subsection.

    It opens one when it names a section ("Symptoms"), asks a question
    ("Who needs cataract surgery?") or says something of the article's
    subject ("How to get rid of plantar warts", "A pharmacist can help with
    hay fever"), as section headings do; a name ("Salicylic acid"), even
    one of a kind of the subject ("Paroxysmal AFib"), is a subsection.
    """
    if named_sections(heading) or heading.rstrip().endswith("?"):
        return True
    words = _WORD.findall(heading.lower())
    return bool(subject & subject_stems(heading)) and any(
        w in stopwords() and w not in ("and", "or") for w in words)


def _heading_kind(heading: str, texts: Sequence[dict[str, float]], allowed: Sequence[str],
                  fold: dict[str, str], opening: bool) -> Optional[str]:
    """The kind of the section a heading opens: named by the heading, or voted by its text.

    ``texts`` are the cue scores of the text blocks under the heading.
    """
    names = named_sections(heading)
    # The heading's words for this kind's own sections first; only when it
    # names none of them, those of other kinds folded in ("Dosage" -> Treatment).
    named = [n for n in names if n in allowed] or list(dict.fromkeys(
        fold[n] for n in names if fold.get(n) in allowed))
    if len(named) == 1:
        return named[0]
    choices = named or [n for n in allowed if opening or n != tables().default]
    votes = dict.fromkeys(choices, 0.0)
    hits = dict.fromkeys(choices, 0.0)
    # The heading votes too, unless it named the choices (all of them alike).
    own = [] if named else [cue_scores(heading)]
    for i, found in enumerate([*own, *texts], start=1 if named else 0):
        scores = dict(found)
        for other, into in fold.items():
            scores[into] += _fold_weight(other) * scores[other]
        best = max(choices, key=lambda n: scores[n])
        if scores[best] > 0:
            votes[best] += 1.0 if i else 2.0  # the heading's own words count twice
        for n in choices:
            hits[n] += scores[n]
    best = max(choices, key=lambda n: (votes[n], hits[n], -choices.index(n)))
    return best if named or hits[best] > 0 else None


def _fold_weight(section: str) -> float:
    """How much a folded section's cues count: in full for one any kind may have."""
    return 1.0 if section in tables().any_kind else FOLD_WEIGHT


def _looks_like_section(text: str) -> bool:
    """A bare heading names a main section when it is short and mostly the section word."""
    return len(text.split()) <= 6 and classify_heading(text) is not None and not any(
        ch.isdigit() for ch in text)


def _inferred(blocks: Sequence[Block], article: str,
              block_scores: Sequence[dict[str, float]]) -> list[Optional[Placement]]:
    t = tables()
    names = t.kinds[article]
    fold = t.fold[article]
    # Evidence per text block: its own cues, plus those of a heading right above it.
    # A heading that names a section fixes the kind of the blocks under it.
    evidence: list[list[float]] = []
    heading_scores: dict[str, float] = {}
    forced: Optional[str] = None
    fresh = False
    since_heading = 0
    seen_text = 0
    group: list[int] = []  # for each text block, its unit in ``evidence``
    opening: list[int] = []  # the units that may get OPENING_BONUS
    last_text: Optional[Block] = None
    for block, own_scores in zip(blocks, block_scores):
        if block.kind == "heading":
            named = classify_heading(block.text) if _looks_like_section(block.text) else None
            # The section a heading names holds until the next heading; after
            # a subsection heading the cues decide again, since flattening may
            # have lost a section heading between the two.
            forced = named if named in names else fold.get(named or "")
            if forced == t.default and evidence:
                forced = None  # Overview only opens an article: a later "Key points" is a summary
            last_text = None
            heading_scores = {} if forced else own_scores
            fresh = True
            since_heading = 0
            continue
        scores = dict(own_scores)
        if block.text.endswith(":") and not block.item:
            # A list's lead-in names its topic as a heading would ("Symptoms
            # of hay fever include:", "See a GP if:").
            for named in named_sections(_SENTENCES.split(block.text)[-1]):
                if named in names and named != t.default:
                    scores[named] += LEAD_IN_BONUS
        if block.item and evidence and not fresh and (
                last_text is not None and (last_text.item or last_text.text.endswith(":"))):
            # A list's items share the section of their lead-in: one unit,
            # whose items speak at half weight ("Common causes include:").
            for n_i, n in enumerate(names):
                evidence[-1][n_i] += ITEM_WEIGHT * scores[n]
            group.append(len(evidence) - 1)
            last_text = block
            continue
        last_text = block
        group.append(len(evidence))
        for k, v in heading_scores.items():
            scores[k] += 2 * v
        heading_scores = {}  # a heading speaks for the paragraph right under it
        if seen_text < DEFINITION_PARAGRAPHS and not forced and is_definition(block.text):
            scores[t.default] += DEFINITION_BONUS
        if seen_text < len(OPENING_BONUS) and not forced:
            opening.append(len(evidence))
        seen_text += 1
        if forced and since_heading <= FORCED_SPAN:
            scores[forced] += FORCED if fresh else FORCED_AFTER
        since_heading += 1
        fresh = False
        for other, into in fold.items():
            scores[into] += _fold_weight(other) * scores[other]
        evidence.append([scores[n] for n in names])

    # The opening leans to Overview, in a long article: in a short one the
    # first paragraphs are already the sections.
    for rank, u in enumerate(opening[:max(1, math.ceil(OPENING_SHARE * len(evidence)))]):
        evidence[u][0] += OPENING_BONUS[rank]
    late = [j for j, n in enumerate(names) if n in t.late]
    early = EARLY_SHARE * len(evidence)
    for u, ev in enumerate(evidence):
        if u >= early:
            break
        for j in late:
            ev[j] -= LATE_PENALTY
    unit_labels = _best_runs(evidence, len(names))
    labels = [names[unit_labels[g]] for g in group]
    out: list[Optional[Placement]] = []
    sub: Optional[str] = None
    sub_section: Optional[str] = None
    j = 0
    for block in blocks:
        if block.kind == "heading":
            if _looks_like_section(block.text) and classify_heading(block.text) in names:
                sub = None
            else:
                sub, sub_section = block.text, None
            out.append(None)
            continue
        label = labels[j]
        j += 1
        if sub is not None:
            if sub_section is None:
                sub_section = label  # the section the subsection sits in
            elif label != sub_section:
                sub = None  # a new section ends the old subsection
        out.append(Placement(label, label, sub))
    return out


def _best_runs(evidence: list[list[float]], k: int) -> list[int]:
    """Label blocks with section indexes, maximising cue hits less the cost of each new run.

    Viterbi over one state per section: staying is free, a new run costs
    ``SEGMENT_COST`` (plus ``BACK_COST`` when it goes back in the usual
    order, plus ``RETURN_COST`` when it returns to a section its path left:
    each state carries the sections its best path used), and the default
    section (index 0) may only open the article. Linear in the number of
    blocks: each step sorts the k states once and, for each section, reads
    them best first until no later one can win.
    """
    if not evidence:
        return []
    score = [evidence[0][0]] + [evidence[0][j] - SEGMENT_COST - 0.01 * j for j in range(1, k)]
    used = [1 << j for j in range(k)]
    back: list[list[int]] = []
    for ev in evidence[1:]:
        order = sorted(range(k), key=lambda j: -score[j])
        cost = SEGMENT_COST
        nxt, ptr, nused = [], [], []
        for j in range(k):
            cand, arg = score[j], j
            if j:
                bit = 1 << j
                for a in order:
                    c = score[a] - cost
                    if c <= cand:
                        break  # sorted: no later state can win
                    if a == j:
                        continue
                    if a > j:
                        c -= BACK_COST
                    if used[a] & bit:
                        c -= RETURN_COST
                    if c > cand:
                        cand, arg = c, a
            nxt.append(cand + ev[j])
            ptr.append(arg)
            nused.append(used[arg] | (1 << j))
        score, used = nxt, nused
        back.append(ptr)
    state = max(range(k), key=lambda j: score[j])
    labels = [state]
    for ptr in reversed(back):
        state = ptr[state]
        labels.append(state)
    return labels[::-1]
