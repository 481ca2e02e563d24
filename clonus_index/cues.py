"""Section cues: the words that name and signal each kind of section, compiled once.

Used by sections (inference) and by search (a question's intent). Reads
``data/sections.json``: the section kinds per kind of article, the heading
words that name a section, the cue words that signal one in text, and the
words of a question that ask for one. Every list is one compiled pattern.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional, Sequence

from .models import Block
from .query import asked_part
from .resources import load, stopwords

__all__ = ["classify_heading", "named_sections", "cue_matches", "scores_of", "common_cues", "cue_scores", "section_names", "intent_kinds", "asks_definition",
           "article_kind", "kind_of", "is_definition", "subject_stems", "title_cues", "tables", "FIRST_SENTENCE"]

#: How much more a cue counts in a paragraph's first sentence, which
#: usually says what the paragraph is about.
FIRST_SENTENCE = 2.0
#: A cue found in more than COMMON_SHARE of an article's paragraphs (of at
#: least COMMON_MIN paragraphs) names its subject: it counts COMMON_WEIGHT.
COMMON_SHARE = 0.25
#: A kind's cue word in the title counts at least this share of the paragraphs' votes.
TITLE_SHARE = 0.25
COMMON_MIN = 8
COMMON_WEIGHT = 0.25


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
        self.weak_headings = [(s["name"], _alternation(s["weak_heading"])) for s in self.sections
                              if s.get("weak_heading")]
        self.intents = [(s["name"], _alternation(s.get("intent", ()))) for s in self.sections
                        if s.get("intent")]
        self.roadmap = _alternation(data["roadmap"], prefix=False)
        self.late = {s["name"] for s in self.sections if s.get("late")}
        # Sections any kind of article may have ("When to see a doctor"), even
        # when a kind's set folds them into another: they tell no kind apart.
        self.any_kind = {s["name"] for s in self.sections if s.get("any_kind")}
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
def tables() -> _Tables:
    """The compiled tables, built on first use."""
    return _Tables()


def section_names(kind: Optional[str] = None) -> list[str]:
    """The section kinds of one article kind (or all of them), in the usual reading order."""
    t = tables()
    return list(t.kinds[kind]) if kind else list(t.names)


def classify_heading(text: str) -> Optional[str]:
    """The section kind a heading names ("Causes of clonus" -> "Causes"), or None.

    When a heading names several ("Symptoms and causes"), the first named
    wins; Overview's words ("What is ...") count only when no other matches.
    """
    names = named_sections(text)
    return names[0] if names else None


def named_sections(text: str) -> list[str]:
    """Every section kind a heading names, in the order it names them.

    "Things you can do to prevent kidney stones" -> ["Living with",
    "Prevention"]; a name inside a longer one's words is not named ("after
    the procedure" is Recovery only); Overview's words count only when no
    other matches.
    """
    lowered = text.lower()
    t = tables()
    found = []
    overview = False
    for name, pattern in t.headings:
        m = pattern.search(lowered)
        if not m:
            continue
        if name == t.default:
            overview = True
            continue
        found.append((m.start(), m.end(), name))
    # A name inside a longer one is part of it: "after the procedure" is
    # Recovery, not also "the procedure".
    names = [name for start, end, name in sorted(found, key=lambda f: (f[0], f[0] - f[1]))
             if not any(s <= start and end <= e and e - s > end - start for s, e, _ in found)]
    if not names:
        # Words that frame a heading ("Things you can do to ...") name their
        # section only when the heading names no other.
        names = [name for name, pattern in t.weak_headings if pattern.search(lowered)]
    return names or ([t.default] if overview else [])


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
    return {name for name, pattern in tables().intents if pattern.search(lowered)}


_WHAT_IS = re.compile(r"^(?:what|who) (?:is|are|s)\b")
#: "What is X?" names X in at most this many words ("medium-chain acyl-CoA
#: dehydrogenase deficiency"); a question that goes on is about something else.
MAX_DEFINED_WORDS = 8


def asks_definition(question: str) -> bool:
    """True for "what is X", "define X", "meaning of X": questions after a definition.

    Bracketed asides do not count ("What is (are) Alagille syndrome?"), and
    "what is" followed by a long name (no stop word in it) is a definition
    question too, unless it asks for a section ("what is the best treatment
    for ...").
    """
    lowered = " ".join(re.sub(r"\([^()]*\)", " ", question.lower()).split())
    if any(p.search(lowered) for p in tables().definition_questions):
        return True
    opening = _WHAT_IS.match(lowered)
    if opening is None or intent_kinds(lowered):
        return False
    name = [w for w in re.findall(r"[\w'-]+", lowered[opening.end():]) if w not in ("a", "an", "the")]
    stop = load("stopwords")
    return 0 < len(name) <= MAX_DEFINED_WORDS and not set(name) & (
        set(stop["stopwords"]) | set(stop["question_words"]))


_SENTENCES = re.compile(r"(?<=[.!?:])\s")


def cue_matches(text: str) -> list[tuple[str, float]]:
    """The cues a text holds, each with the factor its place gives (first sentence: 2).

    One scan of the text per sentence, whatever the number of cues. A
    roadmap sentence ("In this article, learn more about the causes and
    treatment") names sections without being about them: only Overview's
    cues count there (marked with a negative factor).
    """
    t = tables()
    found: list[tuple[str, float]] = []
    for i, sentence in enumerate(_SENTENCES.split(text.lower())):
        roadmap = t.roadmap.search(sentence) is not None
        factor = FIRST_SENTENCE if i == 0 else 1.0
        for m in t.cues.finditer(sentence):
            found.append((m.group(), -factor if roadmap else factor))
    return found


def scores_of(matches: Sequence[tuple[str, float]],
              common: frozenset[str] = frozenset()) -> dict[str, float]:
    """Section scores from ``cue_matches``; a cue in ``common`` counts COMMON_WEIGHT."""
    t = tables()
    scores = dict.fromkeys(t.names, 0.0)
    for cue, factor in matches:
        scale = COMMON_WEIGHT if cue in common else 1.0
        for name, weight in t.cue_owner[cue]:
            if factor < 0 and name != t.default:
                continue
            scores[name] += weight * abs(factor) * scale
    return scores


def cue_scores(text: str) -> dict[str, float]:
    """How strongly a text speaks of each section kind: cue hits, phrases counting double.

    The first sentence counts twice: it usually says what the paragraph is
    about ("To diagnose shingles, ..."), where later sentences wander.
    """
    return scores_of(cue_matches(text))


def title_cues(title: Optional[str]) -> frozenset[str]:
    """The cues in a title that name its subject, not a section: "fever" in "Hay fever".

    A cue that is also a word naming a section in headings ("symptoms" in
    "Gout: symptoms and causes") is left out.
    """
    if not title:
        return frozenset()
    return frozenset(m.group() for m in tables().cues.finditer(title.lower())
                     if not named_sections(m.group()))


def common_cues(matches: Sequence[Sequence[tuple[str, float]]]) -> frozenset[str]:
    """The cues found in more than COMMON_SHARE of an article's paragraphs (at least COMMON_MIN).

    They speak of the article's subject, not of a section: "pregnancy" in
    an article on gestational diabetes, "tablet" in one on a medicine.
    """
    if len(matches) < COMMON_MIN:
        return frozenset()
    df: dict[str, int] = {}
    for found in matches:
        for cue in {c for c, _ in found}:
            df[cue] = df.get(cue, 0) + 1
    limit = COMMON_SHARE * len(matches)
    return frozenset(c for c, n in df.items() if n > limit)


_WORD = re.compile(r"[a-z][a-z'\u2019-]+")


def subject_stems(title: Optional[str]) -> frozenset[str]:
    """The first five letters of each content word of a title ("Plantar warts" -> plant, warts).

    Function words (``data/stopwords.json``) and words that name a section
    ("symptoms", "causes") are left out: they say nothing of the subject.
    """
    if not title:
        return frozenset()
    stop = stopwords()
    return frozenset(w[:5] for w in _WORD.findall(title.lower())
                     if len(w) > 3 and w not in stop and not named_sections(w))


def is_definition(text: str) -> bool:
    first = _SENTENCES.split(text.lower(), maxsplit=1)[0]
    return any(p.search(first) for p in tables().definitions)


def article_kind(blocks: Sequence[Block], title: Optional[str] = None,
                 scores: Optional[Sequence[dict[str, float]]] = None) -> str:
    """What kind of article the blocks make: "condition", "drug" or "procedure".

    Each paragraph votes for the kind whose own sections its cues speak of
    most (sections shared by kinds, or that any kind may have, do not vote), a heading naming a section
    of one kind votes three times, and each kind's cue words in the title
    count five times, or a quarter of the paragraphs' votes if more; conditions win ties, being the most common kind.
    ``scores`` are the blocks' ``cue_scores``, when the caller has them.
    """
    t = tables()
    kinds = list(t.kinds)
    score = dict.fromkeys(kinds, 0.0)
    only = {name: [k for k in kinds if name in t.kinds[k]] for name in t.names
            if name not in t.any_kind}
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
        # The title says what the article is about: its word counts five
        # votes, or a quarter of the paragraphs' in a long article, whose
        # paragraphs may dwell on the condition a procedure treats.
        title_weight = max(5.0, TITLE_SHARE * sum(1 for b in blocks if b.kind == "text"))
        for k in kinds:
            score[k] += title_weight * len(t.kind_cues[k].findall(title.lower()))
    return max(kinds, key=lambda k: (score[k], k == "condition"))


