"""Evaluation: how often the first passage answers real questions.

Beside search, not in its path. A question file is JSON Lines of
``{"q": ..., "keys": [...], "kind": ...}``; a passage answers when its
normalised text contains a normalised key. Any ranker that maps a query to
passage texts can be scored, so benchmarks reuse these metrics for baselines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

from .errors import ClonusIndexError
from .query import normalise_for_match

__all__ = ["Question", "QuestionFileError", "load_questions", "answers", "Outcome", "Report",
           "evaluate", "DEPTH"]

#: Ranks beyond this count as not found (MRR@10, and "rank" in the misses).
DEPTH = 10


class QuestionFileError(ClonusIndexError, ValueError):
    """A question file is not JSON Lines of {"q": str, "keys": [str, ...]}."""


@dataclass(frozen=True)
class Question:
    q: str
    keys: tuple[str, ...]
    kind: str = "all"


def load_questions(path: str | Path) -> list[Question]:
    """Read a question file, naming the line of any malformed record."""
    path = Path(path)
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionFileError(f"{path}: cannot read it ({exc})") from None
    questions = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise QuestionFileError(f"{path}:{n}: not a JSON object") from None
        if (not isinstance(record, dict) or not isinstance(record.get("q"), str)
                or not record["q"].strip() or not isinstance(record.get("keys"), list)
                or not record["keys"] or not all(isinstance(k, str) and k.strip()
                                                 for k in record["keys"])):
            raise QuestionFileError(
                f'{path}:{n}: expected {{"q": "question", "keys": ["phrase", ...]}}')
        questions.append(Question(record["q"], tuple(record["keys"]),
                                  str(record.get("kind") or "all")))
    if not questions:
        raise QuestionFileError(f"{path}: no questions in it")
    return questions


def answers(text: str, keys: Sequence[str]) -> bool:
    """True when the normalised ``text`` contains one of the normalised ``keys``."""
    haystack = f" {normalise_for_match(text)} "
    return any(f" {normalise_for_match(k)} " in haystack for k in keys)


@dataclass(frozen=True)
class Outcome:
    """One question's result: the rank of the first answering passage (None: not in top 10)."""

    question: Question
    rank: Optional[int]
    top: Optional[str] = None  # text of the first passage returned


def _metrics(outcomes: Sequence[Outcome]) -> dict[str, float]:
    n = len(outcomes) or 1
    return {
        "questions": len(outcomes),
        "success@1": sum(1 for o in outcomes if o.rank == 1) / n,
        "success@3": sum(1 for o in outcomes if o.rank is not None and o.rank <= 3) / n,
        "mrr@10": sum(1 / o.rank for o in outcomes if o.rank is not None) / n,
    }


@dataclass(frozen=True)
class Report:
    """Metrics over all questions, per kind, and the questions the first hit missed."""

    outcomes: tuple[Outcome, ...]
    overall: dict[str, float] = field(init=False)
    by_kind: dict[str, dict[str, float]] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "overall", _metrics(self.outcomes))
        kinds: dict[str, list[Outcome]] = {}
        for o in self.outcomes:
            kinds.setdefault(o.question.kind, []).append(o)
        object.__setattr__(self, "by_kind", {k: _metrics(v) for k, v in sorted(kinds.items())})

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.rank != 1]

    def to_dict(self) -> dict:
        return {
            "overall": self.overall,
            "by_kind": self.by_kind,
            "misses": [{"q": o.question.q, "kind": o.question.kind, "rank": o.rank,
                        "keys": list(o.question.keys), "top": o.top} for o in self.misses],
        }


def evaluate(rank: Callable[[str], Sequence[str]], questions: Sequence[Question],
             depth: int = DEPTH) -> Report:
    """Score a ranker: ``rank(query)`` returns passage texts, best first."""
    outcomes = []
    for question in questions:
        texts = list(rank(question.q))[:depth]
        found = next((i for i, t in enumerate(texts, 1) if answers(t, question.keys)), None)
        outcomes.append(Outcome(question, found, texts[0] if texts else None))
    return Report(tuple(outcomes))
