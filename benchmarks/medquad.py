#!/usr/bin/env python3
"""Many articles: retrieval and section inference on MedQuAD, beside plain baselines in one run.

    pip install ".[bench]"
    python benchmarks/medquad.py                     # all ~5,500 documents (~86k passages)
    python benchmarks/medquad.py --limit-docs 300    # a quick run
    python benchmarks/medquad.py --questions 0       # every question (slow), default a sample

MedQuAD (CC BY 4.0; ``../shared/medquad/`` beside the repository, see
``make_corpora.py``) becomes one HTML page per document: the focus as ``h1``, each
question type an ``h2`` section ("Symptoms", "Exams and tests"). Its own
questions are real question templates, each answered by its own QA pair:

1. **Retrieval.** clonus_index is built on the HTML pages; plain Whoosh,
   SQLite FTS5 and bm25s (``systems.py``) index the passages clonus_index
   made. A hit is right when it comes from the right page and its section is
   the question's type. Prints success@1, success@3 and MRR@10 overall and
   per question type, on a fixed random sample of the questions.
2. **Sections of flattened text.** The same pages flattened (headings
   dropped, paragraphs two spaces apart, list items three) are ingested, and
   each paragraph's inferred section (the section of the passages holding its
   text) is compared with the section its question type maps to
   (``make_corpora.QTYPE_SECTIONS``: information and frequency -> Overview;
   causes, genetic changes and inheritance -> Causes; susceptibility -> Risk
   factors; exams and tests -> Diagnosis; symptoms, treatment, prevention,
   complications, outlook -> themselves; research, considerations, stages
   and support groups fit no section and are not scored).

Without MedQuAD it says so and exits successfully.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_corpora as corpora  # noqa: E402  (the path must be set first)
from systems import DEPTH, SYSTEMS, build, load_passages, dump_passages, open_searcher  # noqa: E402


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def inferred_sections(truth: list[list], passages: list) -> list[str | None]:
    """Each truth paragraph's inferred section: the section of most of its text, or None."""
    stream, owner = [], []
    for i, (text, _, _) in enumerate(truth):
        norm = _norm(text)
        stream.append(norm)
        owner += [i] * len(norm)
    joined = "".join(stream)
    votes = [collections.Counter() for _ in truth]
    cursor = 0
    for p in passages:
        norm = _norm(p.text)
        at = joined.find(norm, cursor)
        if at < 0 or not norm:
            continue  # text the flattened page does not hold verbatim (e.g. a heading inside)
        for j in range(at, at + len(norm)):
            votes[owner[j]][p.section] += 1
        cursor = at + len(norm)
    return [v.most_common(1)[0][0] if v else None for v in votes]


def section_accuracy(folder: Path, truth: dict) -> None:
    import clonus_index
    start = time.perf_counter()
    corpus = clonus_index.ingest([folder / "flat"])
    seconds = time.perf_counter() - start
    by_doc: dict[str, list] = collections.defaultdict(list)
    for p in corpus.passages:
        by_doc[Path(p.article.source).stem].append(p)
    per = collections.defaultdict(lambda: [0, 0])
    confusion: collections.Counter = collections.Counter()
    unscored = lost = 0
    for doc, paragraphs in truth["paragraphs"].items():
        got = inferred_sections(paragraphs, sorted(by_doc.get(doc, []), key=lambda p: p.position))
        for (_, expected, _), section in zip(paragraphs, got):
            if expected is None:
                unscored += 1
            elif section is None:
                lost += 1
            else:
                per[expected][0] += section == expected
                per[expected][1] += 1
                if section != expected:
                    confusion[(expected, section)] += 1
    right, total = sum(r for r, _ in per.values()), sum(n for _, n in per.values())
    print(f"## Sections inferred in flattened MedQuAD\n\n{len(truth['paragraphs']):,} pages, "
          f"{len(corpus.passages):,} passages, ingested in {seconds:,.0f} s "
          f"({len(corpus.passages) / seconds:,.0f} passages/s).\n")
    print(f"**{right / max(total, 1):.3f}** of {total:,} paragraphs in the right section "
          f"({unscored:,} paragraphs of types that fit no section not scored; "
          f"{lost:,} paragraphs found in no passage, e.g. read as headings, not scored).\n")
    print("| true section | paragraphs | right |\n| --- | ---: | ---: |")
    for name, (r, n) in sorted(per.items(), key=lambda kv: -kv[1][1]):
        print(f"| {name} | {n:,} | {r / n:.3f} |")
    print("\nMost frequent confusions: " + "; ".join(
        f"{a} read as {b} ({n:,})" for (a, b), n in confusion.most_common(6)) + "\n")


def metrics(ranks: list[int | None]) -> dict[str, float]:
    n = max(len(ranks), 1)
    return {"s@1": sum(r == 1 for r in ranks) / n,
            "s@3": sum(r is not None and r <= 3 for r in ranks) / n,
            "mrr@10": sum(1 / r for r in ranks if r is not None and r <= 10) / n}


def retrieval(folder: Path, truth: dict, systems: list[str], sample: int, work: Path) -> None:
    questions = truth["questions"]
    if sample and sample < len(questions):
        questions = random.Random(7).sample(questions, sample)
    import clonus_index
    start = time.perf_counter()
    index = clonus_index.build_index([folder / "html"], work / "clonus_index")
    build_s = time.perf_counter() - start
    dump_passages(index, work / "passages.jsonl")
    passages = load_passages(work / "passages.jsonl")
    place = {p["id"]: (Path(p["source"]).stem, p["section"].lower()) for p in passages}
    print(f"## Retrieval on MedQuAD\n\n{len(truth['paragraphs']):,} pages, {len(passages):,} passages "
          f"(clonus_index built in {build_s:,.0f} s); {len(questions):,} of "
          f"{len(truth['questions']):,} questions (a fixed random sample). A hit is right when "
          f"it comes from the question's page and section.\n")
    results: dict[str, list[int | None]] = {}
    for system in systems:
        path = work / system
        if system != "clonus_index":
            build(system, passages, path)
        search, _ = open_searcher(system, path)
        ranks = []
        start = time.perf_counter()
        for q in questions:
            ids = search(q["q"], DEPTH)
            want = (q["doc"], q["section"].lower())
            ranks.append(next((i + 1 for i, pid in enumerate(ids) if place.get(pid) == want), None))
        results[system] = ranks
        print(f"{system}: {len(questions)} questions in {time.perf_counter() - start:,.1f} s", file=sys.stderr)
    print("| system | success@1 | success@3 | MRR@10 |\n| --- | ---: | ---: | ---: |")
    for system, ranks in results.items():
        m = metrics(ranks)
        print(f"| {system} | {m['s@1']:.3f} | {m['s@3']:.3f} | {m['mrr@10']:.3f} |")
    kinds = collections.Counter(q["qtype"] for q in questions)
    print("\nsuccess@1 per question type:\n")
    print("| question type | questions | " + " | ".join(results) + " |")
    print("| --- | ---: |" + " ---: |" * len(results))
    for kind, n in kinds.most_common():
        cells = [metrics([r for r, q in zip(ranks, questions) if q["qtype"] == kind])["s@1"]
                 for ranks in results.values()]
        print(f"| {kind} | {n} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit-docs", type=int, help="only this many documents, spread over the collections")
    parser.add_argument("--questions", type=int, default=1000,
                        help="questions to ask, a fixed random sample (0: all); default 1000")
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS),
                        help="systems to compare (clonus_index always: the baselines index its passages)")
    parser.add_argument("--skip", choices=("retrieval", "sections"), help="leave one part out")
    args = parser.parse_args()
    folder = corpora.medquad_corpus(args.limit_docs)
    if folder is None:
        print(corpora.no_medquad_message(), file=sys.stderr)
        return 0
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    systems = [s for s in SYSTEMS if s in args.systems or s == "clonus_index"]
    if "bm25s" in systems and not all(importlib.util.find_spec(m) for m in ("bm25s", "Stemmer")):
        print("bm25s or PyStemmer not installed (pip install '.[bench]'): leaving bm25s out", file=sys.stderr)
        systems.remove("bm25s")
    if args.skip != "retrieval":
        with tempfile.TemporaryDirectory(dir=corpora.cache_dir()) as work:
            retrieval(folder, truth, systems, args.questions, Path(work))
    if args.skip != "sections":
        section_accuracy(folder, truth)
    return 0


if __name__ == "__main__":
    sys.exit(main())
