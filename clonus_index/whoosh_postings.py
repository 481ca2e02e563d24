"""First-stage postings: per-field term postings written at build time, scored exactly with numpy.

Part of the Whoosh backend, between planning and re-ranking. A build writes,
beside the Whoosh segment, each searched field's postings as flat arrays
(documents, term frequencies, positions) and every document's field length
in Whoosh's one-byte code. A plain question's plan is then scored over
these arrays, vectorised: the same BM25F (per-field BM25, Whoosh's IDF and
length coding), the same sum over fields and concepts, the same maximum over
a concept's forms and the same phrase rules as the Whoosh query the backend
compiles, so the top N is Whoosh's top N with no matcher walking every
posting. The work is bounded by the plan (at most ``MAX_TERMS`` field terms,
each at most the corpus's passages), never by the clock.
"""

from __future__ import annotations

import json
import math
import os
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Optional, Sequence

from whoosh.util.numeric import byte_to_length, length_to_byte

if TYPE_CHECKING:  # imported on first use (see ``_np``)
    import numpy as np

__all__ = ["POSTINGS_META", "POSTINGS_DATA", "write_postings", "Postings", "Clause",
           "top_documents", "sample_documents"]

POSTINGS_META = "postings.json"
POSTINGS_DATA = "postings.bin"
#: Bump when the layout changes; an index with another version is searched through Whoosh.
POSTINGS_VERSION = 2
#: Whoosh's BM25F defaults, which the backend's searcher uses.
B, K1 = 0.75, 1.2
_ARRAYS = ("term_starts", "term_pos_starts", "docs", "tfs", "positions", "lengths")
_lengths: list = []  # Whoosh's byte codes decoded, as a numpy array (made on first use)


def _np():
    """numpy, imported on first use: importing the library does not load it."""
    import numpy

    if not _lengths:
        _lengths.append(numpy.array([byte_to_length(i) for i in range(256)], dtype=numpy.float64))
    return numpy


def write_postings(folder: Path, ids: Sequence[str], doc_fields: Sequence[dict[str, str]],
                   fields: Sequence[str], analyse: Callable[[str], Iterable[tuple[str, int]]]
                   ) -> None:
    """Write the postings of ``fields`` for documents numbered in order into ``folder``.

    ``ids`` are the documents' ids and ``doc_fields`` their field values,
    exactly as indexed, in document-number order; ``analyse`` yields (stem,
    position) pairs as the fields' analyzer does in index mode. Values
    repeated across documents (titles, section names) are analysed once.
    Some documents' ids are kept, so that opening can check the numbering.
    """
    np = _np()
    meta: dict = {"version": POSTINGS_VERSION, "doc_count": len(doc_fields), "fields": {},
                  "sample_ids": {str(d): ids[d] for d in sample_documents(len(ids))}}
    with open(folder / POSTINGS_DATA, "wb") as out:
        for field in fields:
            arrays, terms, total = _field_postings([d[field] for d in doc_fields], analyse,
                                                   cache=field != "text")
            layout = {}
            for name in _ARRAYS:
                a = np.ascontiguousarray(arrays[name])
                pad = -out.tell() % 8
                out.write(b"\0" * pad)
                layout[name] = [out.tell(), a.dtype.str, len(a)]
                out.write(a.tobytes())
            meta["fields"][field] = {"terms": terms, "total_length": total, "arrays": layout}
        out.flush()
        os.fsync(out.fileno())
    with open(folder / POSTINGS_META, "w", encoding="utf-8") as fh:
        json.dump(meta, fh, ensure_ascii=False, separators=(",", ":"))
        fh.flush()
        os.fsync(fh.fileno())


def sample_documents(count: int, samples: int = 17) -> list[int]:
    """Evenly spread document numbers (first and last included) whose ids are checked."""
    if count <= 0:
        return []
    return sorted({round(i * (count - 1) / (samples - 1)) for i in range(samples)})


def _field_postings(values: Sequence[str], analyse, cache: bool):
    """One field's postings arrays, its terms in id order and its total length."""
    np = _np()
    ids: dict[str, int] = {}
    tids, docs, poss = array("I"), array("I"), array("I")
    lengths = np.zeros(len(values), dtype=np.uint8)
    seen: dict[str, tuple[array, array]] = {}
    total = 0
    for d, value in enumerate(values):
        known = seen.get(value) if cache else None
        if known is None:
            t_here, p_here = array("I"), array("I")
            for stem, pos in analyse(value):
                t = ids.get(stem)
                if t is None:
                    t = ids[stem] = len(ids)
                t_here.append(t)
                p_here.append(pos)
            known = (t_here, p_here)
            if cache:
                seen[value] = known
        t_here, p_here = known
        tids.extend(t_here)
        poss.extend(p_here)
        docs.extend([d] * len(t_here))
        lengths[d] = length_to_byte(len(t_here))
        total += len(t_here)
    t = np.frombuffer(tids, dtype=np.uint32) if len(tids) else np.zeros(0, np.uint32)
    d = np.frombuffer(docs, dtype=np.uint32) if len(docs) else np.zeros(0, np.uint32)
    p = np.frombuffer(poss, dtype=np.uint32) if len(poss) else np.zeros(0, np.uint32)
    order = np.argsort(t, kind="stable")  # by term, then document, then position
    t, d, p = t[order], d[order], p[order]
    new_posting = np.ones(len(t), dtype=bool)
    new_posting[1:] = (t[1:] != t[:-1]) | (d[1:] != d[:-1])
    starts = np.flatnonzero(new_posting)
    posting_terms = t[starts]
    tfs = np.diff(np.append(starts, len(t)))
    term_starts = np.searchsorted(posting_terms, np.arange(len(ids) + 1))
    term_pos_starts = np.searchsorted(t, np.arange(len(ids) + 1))
    pos_type = np.uint16 if not len(p) or p.max() < 2**16 else np.uint32
    tf_type = np.uint16 if not len(tfs) or tfs.max() < 2**16 else np.uint32
    arrays = {"term_starts": term_starts.astype(np.int64),
              "term_pos_starts": term_pos_starts.astype(np.int64),
              "docs": d[starts].astype(np.int32), "tfs": tfs.astype(tf_type),
              "positions": p.astype(pos_type), "lengths": lengths}
    return arrays, sorted(ids, key=ids.__getitem__), total


@dataclass(frozen=True)
class Clause:
    """One scored piece of a query: a term (one stem) or a phrase in one field, boosted."""

    field: str
    stems: tuple[str, ...]
    boost: float
    slop: int = 1


class _Field:
    def __init__(self, meta: dict, data: np.ndarray, doc_count: int):
        np = _np()
        self.terms_list = meta["terms"]
        self._terms: Optional[dict[str, int]] = None
        for name, (offset, dtype, count) in meta["arrays"].items():
            setattr(self, name, np.ndarray((count,), dtype=np.dtype(dtype), buffer=data,
                                           offset=offset))
        self.avg_length = (meta["total_length"] / doc_count) if doc_count else 0.0
        if not self.avg_length:
            self.avg_length = 1.0

    def term_id(self, stem: str) -> Optional[int]:
        if self._terms is None:
            self._terms = {t: i for i, t in enumerate(self.terms_list)}
        return self._terms.get(stem)


class Postings:
    """The postings arrays of one generation, opened read-only (memory-mapped)."""

    def __init__(self, meta: dict, data: np.ndarray):
        self.doc_count: int = meta["doc_count"]
        self.fields = {name: _Field(m, data, self.doc_count) for name, m in meta["fields"].items()}
        self.total_lengths = {name: m["total_length"] for name, m in meta["fields"].items()}
        self.sample_ids = {int(d): i for d, i in meta["sample_ids"].items()}

    @classmethod
    def open(cls, folder: Path) -> Optional["Postings"]:
        """The postings of ``folder``, or None when it has none of this layout."""
        np = _np()
        try:
            meta = json.loads((folder / POSTINGS_META).read_text("utf-8"))
            if meta.get("version") != POSTINGS_VERSION:
                return None
            size = (folder / POSTINGS_DATA).stat().st_size
            data = np.memmap(folder / POSTINGS_DATA, dtype=np.uint8, mode="r") if size else \
                np.zeros(0, np.uint8)
            return cls(meta, data)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    # -- one query -------------------------------------------------------------------

    def scorer(self) -> "_Query":
        return _Query(self)


class _Query:
    """Scores of one query's clauses; each field term is read and scored once."""

    def __init__(self, postings: Postings):
        self.p = postings
        self._terms: dict[tuple[str, str], Optional[tuple[np.ndarray, np.ndarray, int]]] = {}

    def term(self, field: str, stem: str):
        """(documents, BM25 scores, term id) of one field term, or None when no document has it."""
        key = (field, stem)
        if key not in self._terms:
            self._terms[key] = self._score_term(field, stem)
        return self._terms[key]

    def _score_term(self, field: str, stem: str):
        np = _np()
        f = self.p.fields.get(field)
        tid = f.term_id(stem) if f is not None else None
        if tid is None:
            return None
        a, b = int(f.term_starts[tid]), int(f.term_starts[tid + 1])
        docs = f.docs[a:b]
        tf = f.tfs[a:b].astype(np.float64)
        fl = _lengths[0][f.lengths[docs]]
        # Whoosh: idf = log(N / (df + 1)) + 1, then bm25 in the same order of operations.
        idf = math.log(self.p.doc_count / (len(docs) + 1)) + 1
        scores = idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / f.avg_length)))
        return docs, scores, tid

    def clause(self, clause: Clause) -> Optional[tuple[np.ndarray, np.ndarray]]:
        """(documents, boosted scores) where the clause matches; a phrase scores as its terms summed."""
        np = _np()
        found = [self.term(clause.field, s) for s in clause.stems]
        if any(t is None for t in found):
            return None
        if len(found) == 1:
            docs, scores, _ = found[0]
            return docs, scores * clause.boost if clause.boost != 1.0 else scores
        docs = self._phrase_docs(clause, found)
        if not len(docs):
            return None
        total = np.zeros(len(docs))
        for tdocs, tscores, _ in found:
            total += tscores[np.searchsorted(tdocs, docs)]
        return docs, total * clause.boost if clause.boost != 1.0 else total

    def _phrase_docs(self, clause: Clause, found) -> np.ndarray:
        """Documents where the stems occur in order, each within ``slop`` of the one before.

        Whoosh's rule for a phrase (``SpanNear2``, ordered, ``mindist=1``): a
        chain of positions p1 < p2 < ... with every step between 1 and slop.
        """
        np = _np()
        docs = found[0][0]
        for tdocs, _, _ in found[1:]:
            docs = np.intersect1d(docs, tdocs, assume_unique=True)
            if not len(docs):
                return docs
        f = self.p.fields[clause.field]
        ends = None
        for stem_docs, _, tid in found:
            keys = self._position_keys(f, tid, stem_docs, docs)
            if ends is None:
                ends = keys
            else:
                ok = np.zeros(len(keys), dtype=bool)
                for step in range(1, clause.slop + 1):
                    ok |= np.isin(keys - step, ends)
                ends = keys[ok]
            if not len(ends):
                return ends
        return np.unique(ends >> 32).astype(np.int32)

    @staticmethod
    def _position_keys(f: _Field, tid: int, stem_docs: np.ndarray, docs: np.ndarray) -> np.ndarray:
        """``document << 32 | position`` for every position of term ``tid`` in ``docs``."""
        np = _np()
        a = int(f.term_starts[tid])
        tf = f.tfs[a:int(f.term_starts[tid + 1])].astype(np.int64)
        ends = np.cumsum(tf)
        which = np.searchsorted(stem_docs, docs)
        counts = tf[which]
        starts = int(f.term_pos_starts[tid]) + ends[which] - counts
        n = int(counts.sum())
        index = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(n)
        return (np.repeat(docs.astype(np.int64), counts) << 32) | f.positions[index].astype(np.int64)


def top_documents(p: Postings, concepts: Sequence[Sequence[Sequence[Clause]]],
                  extra: Sequence[Clause], allow: Optional[set[int]], wanted: int
                  ) -> list[tuple[float, int]]:
    """The ``wanted`` best (score, document) pairs, in document order.

    The score of a document is the sum over ``concepts`` of the best of the
    concept's forms (each form the sum of its clauses), plus ``extra``
    clauses; only documents some clause matches count. Equal scores prefer
    the earlier document, as Whoosh's top-N collector does.
    """
    np = _np()
    q = p.scorer()
    total = np.zeros(p.doc_count)
    matched = np.zeros(p.doc_count, dtype=bool)
    for forms in concepts:
        best = None
        for clauses in forms:
            form = None
            for clause in clauses:
                found = q.clause(clause)
                if found is None:
                    continue
                docs, scores = found
                if len(forms) == 1:
                    total[docs] += scores
                    matched[docs] = True
                    continue
                if form is None:
                    form = np.zeros(p.doc_count)
                form[docs] += scores
                matched[docs] = True
            if form is not None:
                best = form if best is None else np.maximum(best, form, out=best)
        if best is not None:
            total += best
    for clause in extra:
        found = q.clause(clause)
        if found is not None:
            total[found[0]] += found[1]
            matched[found[0]] = True
    if allow is not None:
        mask = np.zeros(p.doc_count, dtype=bool)
        mask[np.fromiter(allow, dtype=np.int64, count=len(allow))] = True
        matched &= mask
    nz = np.flatnonzero(matched)
    scores = total[nz]
    if len(nz) > wanted:
        kth = np.partition(scores, len(scores) - wanted)[len(scores) - wanted]
        above = scores > kth
        tied = np.flatnonzero(scores == kth)[:wanted - int(above.sum())]
        keep = np.sort(np.concatenate([np.flatnonzero(above), tied]))
        nz, scores = nz[keep], scores[keep]
    return [(float(s), int(d)) for s, d in zip(scores, nz)]
