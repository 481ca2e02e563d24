"""Sections: give every body block a section and, where there is one, a subsection.

Runs after reading. HTML headings say it directly. Flattened text lost its
main headings, so sections are inferred from cue words (``data/sections.json``):
first the kind of article (a condition, a drug, a procedure or test), which
fixes the sections to choose from, then the best split of the blocks into
contiguous runs of those sections, in one pass over the blocks; surviving
short headings become subsections, and a subsection ends with its section.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

from .models import Block
from .query import asked_part
from .resources import load

__all__ = ["Placement", "place_blocks", "classify_heading", "cue_scores", "section_names",
           "intent_kinds", "asks_definition", "article_kind", "kind_of", "SEGMENT_COST"]

#: What a new section costs in the inference, in cue hits. Higher means fewer,
#: longer sections; one strong cue sentence is about two hits.
SEGMENT_COST = 2.5
#: How much more a cue counts in a paragraph's first sentence, which
#: usually says what the paragraph is about.
FIRST_SENTENCE = 2.0
#: Sections marked "late" (outlook, prevention, recovery ...) rarely come in
#: an article's first EARLY_SHARE of paragraphs: there they lose LATE_PENALTY.
EARLY_SHARE = 0.25
LATE_PENALTY = 4.0
#: The weight of the cues of another kind's section that speaks for one of
#: this kind's ("fold" in data/sections.json: Dosage talk is a condition's Treatment).
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
#: What a new run costs on top inside a subsection (after its first block).
SUBSECTION_COST = 0.0


@dataclass(frozen=True)
class Placement:
    """Where one text block sits: its section, the section's kind, its subsection."""

    section: str
    kind: str
    subsection: Optional[str]


class _Tables:
    """``data/sections.json`` compiled once: one pattern for every cue, one per heading list."""

    def __init__(self) -> None:
        data = load("sections")
        self.default: str = data["default"]
        self.sections = data["sections"]
        self.names = [s["name"] for s in self.sections]
        self.kinds: dict[str, list[str]] = {k: v["sections"] for k, v in data["article_kinds"].items()}
        self.kind_cues = {k: _alternation(v["cues"]) for k, v in data["article_kinds"].items()}
        self.fold = {k: v.get("fold", {}) for k, v in data["article_kinds"].items()}
        # Every cue of every section in one alternation, longest first, so each
        # place in a text counts once, for its longest cue.
        self.cue_owner: dict[str, list[tuple[str, float]]] = {}
        for s in self.sections:
            for cue in s["cues"]:
                self.cue_owner.setdefault(cue, []).append((s["name"], 2.0 if " " in cue.strip() else 1.0))
        self.cues = _alternation(self.cue_owner)
        self.headings = [(s["name"], _alternation(s["heading"])) for s in self.sections]
        self.intents = [(s["name"], _alternation(s.get("intent", ()))) for s in self.sections
                        if s.get("intent")]
        self.roadmap = _alternation(data["roadmap"], prefix=False)
        self.late = {s["name"] for s in self.sections if s.get("late")}
        self.definitions = [re.compile(p) for p in data["definition_openings"]]
        self.definition_questions = [re.compile(p) for p in data["definition_questions"]]


def _alternation(words, prefix: bool = True) -> re.Pattern:
    """One pattern matching any of ``words`` at a word start (as a prefix when ``prefix``).

    The words are folded into a trie, so the pattern tries each character
    once at a place, whatever the number of words; a longer word wins.
    """
    words = {w.lower() for w in words if w}
    if not words:
        return re.compile(r"(?!x)x")
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return re.compile((r"\b" if prefix else "") + _trie_regex(trie))


def _trie_regex(node: dict) -> str:
    branches = [re.escape(ch) + _trie_regex(child) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


@lru_cache(maxsize=1)
def _tables() -> _Tables:
    return _Tables()


def section_names(kind: Optional[str] = None) -> list[str]:
    """The section kinds of one article kind (or all of them), in the usual reading order."""
    t = _tables()
    return list(t.kinds[kind]) if kind else list(t.names)


def classify_heading(text: str) -> Optional[str]:
    """The section kind a heading names ("Causes of clonus" -> "Causes"), or None.

    When a heading names several ("Symptoms and causes"), the first named
    wins; Overview's words ("What is ...") count only when no other matches.
    """
    lowered = text.lower()
    t = _tables()
    best: Optional[tuple[int, int, str]] = None
    overview = None
    for name, pattern in t.headings:
        m = pattern.search(lowered)
        if not m:
            continue
        if name == t.default:
            overview = name
            continue
        key = (m.start(), -len(m.group()), name)
        if best is None or key[:2] < best[:2]:
            best = key
    return best[2] if best else overview


def kind_of(section: str) -> str:
    """The section kind of a passage's section: its heading's kind, or the name itself."""
    return classify_heading(section) or section


def intent_kinds(question: str) -> set[str]:
    """The section kinds a question asks for ("how is it treated" -> {"Treatment"}).

    In a message of several sentences only the questions count: "I've just
    been diagnosed with MS. Why does it make my muscles spasm?" asks about
    causes, not diagnosis.
    """
    lowered = (asked_part(question) or question).lower()
    return {name for name, pattern in _tables().intents if pattern.search(lowered)}


def asks_definition(question: str) -> bool:
    """True for "what is X", "define X", "meaning of X": questions after a definition."""
    lowered = " ".join(question.lower().split())
    return any(p.search(lowered) for p in _tables().definition_questions)


_SENTENCES = re.compile(r"(?<=[.!?:])\s")


def cue_scores(text: str) -> dict[str, float]:
    """How strongly a text speaks of each section kind: cue hits, phrases counting double.

    The first sentence counts twice: it usually says what the paragraph is
    about ("To diagnose shingles, ..."), where later sentences wander. One
    scan of the text per sentence, whatever the number of cues.
    """
    t = _tables()
    scores = dict.fromkeys(t.names, 0.0)
    for i, sentence in enumerate(_SENTENCES.split(text.lower())):
        # A roadmap sentence ("In this article, learn more about the causes and
        # treatment") names sections without being about them.
        roadmap = t.roadmap.search(sentence) is not None
        factor = FIRST_SENTENCE if i == 0 else 1.0
        for m in t.cues.finditer(sentence):
            for name, weight in t.cue_owner[m.group()]:
                if roadmap and name != t.default:
                    continue
                scores[name] += weight * factor
    return scores


def _is_definition(text: str) -> bool:
    first = _SENTENCES.split(text.lower(), maxsplit=1)[0]
    return any(p.search(first) for p in _tables().definitions)


def article_kind(blocks: Sequence[Block], title: Optional[str] = None,
                 scores: Optional[Sequence[dict[str, float]]] = None) -> str:
    """What kind of article the blocks make: "condition", "drug" or "procedure".

    Each paragraph votes for the kind whose own sections its cues speak of
    most (sections shared by kinds do not vote), a heading naming a section
    of one kind votes three times, and each kind's cue words in the title
    count five times; conditions win ties, being the most common kind.
    ``scores`` are the blocks' ``cue_scores``, when the caller has them.
    """
    t = _tables()
    kinds = list(t.kinds)
    score = dict.fromkeys(kinds, 0.0)
    only = {name: [k for k in kinds if name in t.kinds[k]] for name in t.names}
    own = {name: ks[0] for name, ks in only.items() if len(ks) == 1}
    for i, block in enumerate(blocks):
        if block.kind == "heading":
            named = classify_heading(block.text)
            if named in own:
                score[own[named]] += 3.0
            continue
        cues = scores[i] if scores is not None else cue_scores(block.text)
        best = max(own, key=lambda n: cues[n])
        if cues[best] > 0:
            score[own[best]] += 1.0
    if title:
        for k in kinds:
            score[k] += 5.0 * len(t.kind_cues[k].findall(title.lower()))
    return max(kinds, key=lambda k: (score[k], k == "condition"))


def place_blocks(blocks: Sequence[Block], title: Optional[str] = None) -> list[Optional[Placement]]:
    """One ``Placement`` per block (None for headings), in order."""
    scores = [cue_scores(b.text) for b in blocks]  # once per block, for both steps
    kind = article_kind(blocks, title, scores)
    if any(b.kind == "heading" and b.level == 2 for b in blocks):
        return _from_headings(blocks, kind)
    return _inferred(blocks, kind, scores)


def _from_headings(blocks: Sequence[Block], article: str) -> list[Optional[Placement]]:
    t = _tables()
    allowed = t.kinds[article]
    default = t.default
    section, kind, sub = default, default, None
    out: list[Optional[Placement]] = []
    for block in blocks:
        if block.kind == "heading":
            if block.level == 2:
                section, sub = block.text, None
                kind = classify_heading(block.text) or _best_kind(cue_scores(block.text), allowed) \
                    or section
            else:
                sub = block.text
            out.append(None)
        else:
            out.append(Placement(section, kind, sub))
    return out


def _best_kind(scores: dict[str, float], allowed: Sequence[str]) -> Optional[str]:
    best = max(allowed, key=lambda k: scores[k])
    return best if scores[best] > 0 else None


def _looks_like_section(text: str) -> bool:
    """A bare heading names a main section when it is short and mostly the section word."""
    return len(text.split()) <= 6 and classify_heading(text) is not None and not any(
        ch.isdigit() for ch in text)


def _inferred(blocks: Sequence[Block], article: str,
              block_scores: Sequence[dict[str, float]]) -> list[Optional[Placement]]:
    t = _tables()
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
    # What a new run costs at each block: more inside a subsection, whose
    # paragraphs usually share one section, than after a heading or in plain text.
    costs: list[float] = []
    under_sub = False
    group: list[int] = []  # for each text block, its unit in ``evidence``
    opening: list[int] = []  # the units that may get OPENING_BONUS
    last_text: Optional[Block] = None
    for block, own_scores in zip(blocks, block_scores):
        if block.kind == "heading":
            named = classify_heading(block.text) if _looks_like_section(block.text) else None
            # The section a heading names holds until the next heading; after
            # a subsection heading the cues decide again, since flattening may
            # have lost a section heading between the two.
            forced = named if named in names else None
            if forced == t.default and evidence:
                forced = None  # Overview only opens an article: a later "Key points" is a summary
            under_sub = forced is None
            last_text = None
            heading_scores = {} if forced else own_scores
            fresh = True
            since_heading = 0
            continue
        scores = dict(own_scores)
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
        if seen_text < DEFINITION_PARAGRAPHS and not forced and _is_definition(block.text):
            scores[t.default] += DEFINITION_BONUS
        if seen_text < len(OPENING_BONUS) and not forced:
            opening.append(len(evidence))
        seen_text += 1
        if forced and since_heading <= FORCED_SPAN:
            scores[forced] += FORCED if fresh else FORCED_AFTER
        since_heading += 1
        costs.append(SEGMENT_COST + (SUBSECTION_COST if under_sub else 0.0))
        fresh = False
        for other, into in fold.items():
            scores[into] += FOLD_WEIGHT * scores[other]
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
    unit_labels = _best_runs(evidence, len(names), costs)
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


def _best_runs(evidence: list[list[float]], k: int, costs: Sequence[float]) -> list[int]:
    """Label blocks with section indexes, maximising cue hits less the cost of each new run.

    Viterbi over one state per section: staying is free, a new run costs
    ``costs[i]`` at block i (plus ``BACK_COST`` when it goes back in the usual
    order, plus ``RETURN_COST`` when it returns to a section its path left:
    each state carries the sections its best path used), and the default
    section (index 0) may only open the article. Linear in the number of
    blocks: each step sorts the k states once and, for each section, reads
    them best first until no later one can win.
    """
    if not evidence:
        return []
    score = [evidence[0][0]] + [evidence[0][j] - costs[0] - 0.01 * j for j in range(1, k)]
    used = [1 << j for j in range(k)]
    back: list[list[int]] = []
    for i, ev in enumerate(evidence[1:], start=1):
        order = sorted(range(k), key=lambda j: -score[j])
        cost = costs[i]
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
