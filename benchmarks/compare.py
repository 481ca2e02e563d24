#!/usr/bin/env python3
"""Retrieval quality and speed of clonus_index beside plain baselines, in one run.

Every system ranks the same passages (clonus_index's own ingestion of the
sources) for the same questions, scored by the same metrics:

    pip install ".[bench]"
    python benchmarks/compare.py                       # bundled article, all question sets
    python benchmarks/compare.py --questions Q.jsonl --sources source/

The question sets: tests/data/questions.jsonl and chat_questions.jsonl (the
project's, which the test suite's quality floors pin) and
benchmarks/blind_questions.jsonl,
written from the passages alone by someone who had not seen the ranker and
never used to tune it: it estimates quality on questions nobody tuned for.

Baselines: bm25s (PyStemmer English stemmer, English stopwords), SQLite FTS5
(porter tokenizer, bm25()), and Whoosh with default settings
(StemmingAnalyzer, OR-grouped QueryParser). Times are the median of warm
queries (each system answers every question once before timing).
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clonus_index import build_index, ingest  # noqa: E402  (path set above)
from clonus_index.evaluate import DEPTH, evaluate, load_questions  # noqa: E402

Ranker = Callable[[str], Sequence[str]]


def clonus_ranker(sources: list[Path], workdir: Path) -> Ranker:
    index = build_index(sources, workdir / "index")
    return lambda q: [h.passage.text for h in index.search(q, limit=DEPTH)]


def bm25s_ranker(texts: list[str]) -> Ranker:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False),
                    show_progress=False)

    def rank(q: str) -> list[str]:
        tokens = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False)
        if not tokens.vocab:
            return []
        docs, _ = retriever.retrieve(tokens, k=min(DEPTH, len(texts)), show_progress=False)
        return [texts[i] for i in docs[0]]

    return rank


def fts5_ranker(texts: list[str]) -> Ranker:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE p USING fts5(text, tokenize='porter')")
    db.executemany("INSERT INTO p(rowid, text) VALUES (?, ?)", enumerate(texts))

    def rank(q: str) -> list[str]:
        words = re.findall(r"\w+", q.lower())
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        rows = db.execute("SELECT rowid FROM p WHERE p MATCH ? ORDER BY bm25(p) LIMIT ?",
                          (match, DEPTH)).fetchall()
        return [texts[r[0]] for r in rows]

    return rank


def whoosh_default_ranker(texts: list[str]) -> Ranker:
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.filedb.filestore import RamStorage
    from whoosh.qparser import OrGroup, QueryParser

    schema = Schema(id=ID(stored=True), text=TEXT(analyzer=StemmingAnalyzer()))
    ix = RamStorage().create_index(schema)
    with ix.writer() as writer:
        for i, t in enumerate(texts):
            writer.add_document(id=str(i), text=t)
    searcher = ix.searcher()
    parser = QueryParser("text", schema, group=OrGroup)

    def rank(q: str) -> list[str]:
        return [texts[int(h["id"])] for h in searcher.search(parser.parse(q), limit=DEPTH)]

    return rank


def median_ms(rank: Ranker, queries: list[str], rounds: int) -> float:
    for q in queries:  # warm up
        rank(q)
    times = []
    for _ in range(rounds):
        for q in queries:
            start = time.perf_counter()
            rank(q)
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def table(systems: dict[str, Ranker], path: Path, rounds: int) -> None:
    """Print one table: every system's quality and median warm query time on ``path``."""
    questions = load_questions(path)
    queries = [q.q for q in questions]
    rows = [(name, evaluate(rank, questions).overall, median_ms(rank, queries, rounds))
            for name, rank in systems.items()]
    base_ms = next((ms for name, _, ms in rows if name == "Whoosh defaults"), None)
    print(f"{len(questions)} questions ({path.name}), median of {rounds} warm passes\n")
    header = f"{'system':<22} {'s@1':>6} {'s@3':>6} {'MRR@10':>7} {'median ms':>10} {'x Whoosh':>9}"
    print(header)
    print("-" * len(header))
    for name, m, ms in rows:
        ratio = f"{ms / base_ms:.2f}" if base_ms else "-"
        print(f"{name:<22} {m['success@1']:>6.3f} {m['success@3']:>6.3f} {m['mrr@10']:>7.3f} "
              f"{ms:>10.2f} {ratio:>9}")
    ours = rows[0][1]
    best = max((r for r in rows[1:]), key=lambda r: r[1]["success@1"], default=None)
    if best:
        print(f"clonus_index success@1 is {ours['success@1'] / max(best[1]['success@1'], 1e-9):.2f}x "
              f"the best baseline's ({best[0]}).")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", nargs="+", type=Path, default=[ROOT / "source"])
    parser.add_argument("--questions", nargs="+", type=Path,
                        default=[ROOT / "tests" / "data" / "questions.jsonl",
                                 ROOT / "tests" / "data" / "chat_questions.jsonl",
                                 ROOT / "benchmarks" / "blind_questions.jsonl"])
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the questions")
    args = parser.parse_args()

    texts = [p.text for p in ingest(args.sources).passages]
    with tempfile.TemporaryDirectory() as tmp:
        systems: dict[str, Ranker] = {"clonus_index": clonus_ranker(args.sources, Path(tmp))}
        long_query = " ".join(texts)[:10_000]
        systems["clonus_index"](long_query)
        start = time.perf_counter()
        systems["clonus_index"](long_query)
        long_ms = (time.perf_counter() - start) * 1000
        for name, make in (("bm25s + PyStemmer", bm25s_ranker), ("SQLite FTS5 (porter)", fts5_ranker),
                           ("Whoosh defaults", whoosh_default_ranker)):
            try:
                systems[name] = make(texts)
            except ImportError as exc:
                print(f"skipping {name}: {exc} (pip install '.[bench]')", file=sys.stderr)
        print(f"{len(texts)} passages\n")
        for path in args.questions:
            table(systems, path, args.rounds)
    print(f"clonus_index answers a 10,000-character query in {long_ms:.1f} ms.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
