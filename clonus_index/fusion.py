"""Fusion: the lexical ranking and the passages' similarity to the question, combined.

After lexical search, in the semantic stage (``semantic`` holds the model and
the passage vectors). Lexical first: a question whose words its answer shares
keeps the lexical order; the model decides where the lexical ranker matched
only part of the question (a paraphrase). Pure Python: it needs no extra.
``GenerationVectors`` decides, per search, whether the stage runs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, Sequence

from . import semantic as stage
from .errors import QueryError
from .models import Hit, Passage

if TYPE_CHECKING:  # pragma: no cover - typing only
    from .semantic import Encoder, VectorStore

__all__ = ["FUSION_WEIGHT", "DENSE_DEPTH", "DENSE_REACH", "LEXICAL_DEPTH", "Fused", "fuse",
           "lexical_confidence", "semantic_rank", "fused_page", "fuse_hits", "GenerationVectors",
           "require_extra"]

#: What a cosine-similarity advantage is worth, against lexical scores scaled so the
#: best is 1, when the lexical ranker matched none of the question's concepts
#: (a paraphrase). It shrinks to 0 as the lexical top hit matches all of them.
FUSION_WEIGHT = 12.0
#: How many nearest passages by vector may join the lexical candidates.
DENSE_DEPTH = 20
#: With a filter, how many nearest passages are looked through for ``DENSE_DEPTH`` it lets through.
DENSE_REACH = 1000
#: How many lexical hits are fused (the rest keep their order below them).
LEXICAL_DEPTH = 50


@dataclass(frozen=True)
class Fused:
    """One passage of a fused ranking, with what each stage contributed (for ``--explain``)."""

    id: str
    score: float
    lexical_rank: Optional[int]
    similarity: Optional[float]
    contribution: dict[str, Any]


def fuse(lexical: Sequence[tuple[str, float]], dense: Mapping[str, float],
         confidence: float = 1.0, weight: float = FUSION_WEIGHT) -> list[Fused]:
    """Combine a lexical ranking with dense similarities, lexical first; best first.

    ``lexical`` is the lexical ranker's (passage id, score) list, best first.
    ``dense`` maps passage ids (the lexical candidates, and nearest neighbours
    that may join them) to cosine similarity with the question.
    ``confidence`` (0..1) is how completely the lexical top hit matched the
    question's concepts: at 1 the lexical order stands (a question whose
    words the answer shares is the lexical ranker's strength); below 1 the
    model's preference counts, in proportion to what is missing (a paraphrase
    shares few words with its answer, which only the model bridges).

    Each candidate scores ``lexical / best lexical + w * (similarity - best
    similarity)`` with ``w = weight * (1 - confidence)``: lexical scores are on
    the scale of the best hit, similarities stay raw cosines, whose differences
    mean the same for every question and any number of passages.
    """
    confidence = min(1.0, max(0.0, confidence))
    w = weight * (1.0 - confidence)
    lex = dict(lexical)
    lex_rank = {pid: n for n, (pid, _) in enumerate(lexical, 1)}
    best = max(lex.values(), default=0.0)
    candidates = list(dict.fromkeys([pid for pid, _ in lexical] + list(dense)))
    sims = [dense[pid] for pid in candidates if pid in dense]
    top_sim, low_sim = (max(sims), min(sims)) if sims else (0.0, 0.0)
    by_sim = {pid: n for n, pid in enumerate(sorted(dense, key=lambda p: -dense[p]), 1)}
    fused = []
    for pid in candidates:
        lexical_part = lex.get(pid, 0.0) / best if best > 0 else 0.0
        sim = dense.get(pid)
        dense_part = w * ((low_sim if sim is None else sim) - top_sim)
        score = lexical_part + dense_part
        fused.append(Fused(pid, score, lex_rank.get(pid), sim, {
            "lexical_rank": lex_rank.get(pid), "lexical": round(lexical_part, 4),
            "similarity": None if sim is None else round(sim, 4),
            "similarity_rank": by_sim.get(pid), "confidence": round(confidence, 4),
            "dense_weight": round(w, 4), "dense": round(dense_part, 4) + 0.0,  # never -0.0
            "fused": round(score, 4)}))
    fused.sort(key=lambda f: (-f.score, f.lexical_rank or len(candidates) + 1))
    return fused


def lexical_confidence(hit: Any) -> float:
    """How completely a lexical hit matched the question's concepts, 0..1.

    Read from the hit's explanation (search with ``explain=True``): the
    coverage factor is ``floor + (1 - floor) * coverage ** 2``. A hit of a
    query with no concepts (pure query syntax) counts as fully matched.
    """
    from .ranking import COVERAGE_FLOOR

    if hit.explanation is None:
        raise ValueError("lexical_confidence needs a hit searched with explain=True")
    factor = hit.explanation.get("factors", {}).get("coverage")
    if factor is None:
        return 1.0
    return max(0.0, (factor - COVERAGE_FLOOR) / (1 - COVERAGE_FLOOR)) ** 0.5


def semantic_rank(query: str, lexical: Sequence[tuple[str, float]], store: VectorStore,
                  encoder: Encoder, confidence: float = 1.0,
                  depth: int = DENSE_DEPTH,
                  keep: Optional[Callable[[str], bool]] = None) -> list[Fused]:
    """The semantic stage for one question: encode it, gather candidates, fuse.

    The candidates are the first ``LEXICAL_DEPTH`` lexical hits and the
    ``depth`` passages nearest to the question; lexical hits past
    ``LEXICAL_DEPTH`` follow in their own order. ``keep(passage_id)`` (a
    filter) says which nearest passages may join: they are looked for among
    the ``DENSE_REACH`` nearest, so a narrow filter still gets neighbours.
    """
    vector = encoder.encode_query(query)
    head, tail = list(lexical[:LEXICAL_DEPTH]), list(lexical[LEXICAL_DEPTH:])
    dense = store.scores(vector, [pid for pid, _ in head])
    if depth > 0:
        nearest = store.top(vector, depth if keep is None else max(depth, DENSE_REACH))
        if keep is not None:
            nearest = [(pid, sim) for pid, sim in nearest if keep(pid)][:depth]
        dense.update(nearest)
    fused = fuse(head, dense, confidence)
    seen = {f.id for f in fused}
    floor = min((f.score for f in fused), default=0.0)
    for n, (pid, _) in enumerate(tail, LEXICAL_DEPTH + 1):
        if pid not in seen:
            fused.append(Fused(pid, floor - n, n, None, {"lexical_rank": n}))
    return fused


def fused_page(fused: Sequence[Fused], lexical_hit: Callable[[int], Hit],
               passage: Callable[[str], Passage], start: int, stop: int,
               explain: bool = False) -> list[Hit]:
    """``fused[start:stop]`` as ``Hit`` objects ranked from ``start + 1``.

    ``lexical_hit(n)`` is the lexical ranking's ``n``-th hit (from 1), made
    only for the passages shown; ``passage(id)`` fetches one only the model
    found (shown whole, nothing highlighted). With ``explain``, each hit's
    explanation gains a ``semantic`` entry: what fusion made of it.
    """
    out: list[Hit] = []
    for rank, f in enumerate(fused[start:stop], start + 1):
        if f.lexical_rank is not None:
            hit = lexical_hit(f.lexical_rank)
        else:
            found = passage(f.id)
            hit = Hit(rank=rank, score=0.0, passage=found, highlights=found.text)
        explanation = {**(hit.explanation or {}), "semantic": f.contribution} if explain else None
        out.append(replace(hit, rank=rank, score=f.score, explanation=explanation))
    return out


def fuse_hits(query: str, hits: Sequence[Hit], store: VectorStore, encoder: Encoder,
              passage: Callable[[str], Passage], limit: int, explain: bool = False,
              keep: Optional[Callable[[str], bool]] = None) -> list[Hit]:
    """The semantic stage on a search's hits: fused ``Hit`` objects, best first, at most ``limit``.

    ``hits`` are the lexical hits searched with ``explain=True`` (their
    explanation gives the lexical confidence), as many as the lexical
    ranker gives (``LEXICAL_DEPTH`` are fused). ``passage(id)`` fetches a
    passage that only the model found, and ``keep(passage_id)`` (a section
    filter, say) says whether such a passage may be returned. With
    ``explain``, each hit's explanation gains a ``semantic`` entry.
    """
    confidence = lexical_confidence(hits[0]) if hits else 0.0
    fused = semantic_rank(query, [(h.passage.id, h.score) for h in hits], store, encoder,
                          confidence, keep=keep)
    return fused_page(fused, lambda n: hits[n - 1], passage, 0, limit, explain)


class GenerationVectors:
    """The passage vectors of the generation an ``Index`` serves, opened once per generation."""

    def __init__(self) -> None:
        self._opened: tuple[str, Optional[VectorStore]] = ("", None)

    def for_search(self, generation: Path, semantic: Optional[bool],
                   index_path: Path) -> Optional[VectorStore]:
        """The store when a search runs the semantic stage, else None.

        ``semantic`` None: when the generation has vectors and the extra is
        installed; True: always, or an error that says what is missing.
        """
        if semantic is not None and not isinstance(semantic, bool):
            raise QueryError(f"semantic must be True, False or None, not {semantic!r}")
        if semantic is False:
            return None
        name, store = self._opened
        if name != generation.name:
            if not stage.VectorStore.exists(generation):
                store = None
            elif semantic or stage.is_available():
                store = stage.VectorStore.open(generation)  # needs numpy: the extra's error
            else:  # vectors, but no extra to use them: lexical, unless asked for
                return None
            self._opened = (generation.name, store)
        if store is None and semantic:
            raise QueryError(f"{index_path}: this index has no passage vectors for the semantic "
                             f"stage; build it with: clonus-index build SOURCES... --index "
                             f"{index_path} --semantic")
        if store is not None and semantic and not stage.is_available():
            stage.check_available()  # raises, naming what is missing
        return store


def require_extra(path: str | Path, inherited: bool) -> None:
    """Fail early, with the fix, when a build must write vectors and the extra is missing."""
    try:
        stage.check_available()
    except stage.SemanticUnavailableError as exc:
        if not inherited:
            raise
        raise stage.SemanticUnavailableError(
            f"{path}: this index has passage vectors for the semantic stage, and {exc}; "
            "or rebuild it without them with --no-semantic") from None
