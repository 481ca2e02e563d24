#!/usr/bin/env python3
"""Many articles: retrieval and section inference on MedQuAD, beside plain baselines in one run.

    pip install ".[bench]"
    python benchmarks/medquad.py                     # all ~5,500 documents (~86k passages)
    python benchmarks/medquad.py --limit-docs 300    # a quick run
    python benchmarks/medquad.py --questions 0       # every question (slow), default a sample
    python benchmarks/medquad.py --index /tmp/mq     # keep the built index there, reuse it next time

MedQuAD (CC BY 4.0; ``../shared/medquad/`` beside the repository, see
``make_corpora.py``) becomes one HTML page per document: the focus as ``h1``, each
question type an ``h2`` section ("Symptoms", "Exams and tests"). Its own
questions are real question templates, each answered by its own QA pair:

1. **Retrieval.** clonus_index is built on the HTML pages; plain Whoosh,
   SQLite FTS5 and bm25s (``systems.py``) index the passages clonus_index
   made. A hit is right when it comes from the right page and its section is
   the question's type. Prints success@1, success@3 and MRR@10 overall and
   per question type, on a fixed random sample of the questions.
   The same questions are then put to the baselines over whole answers: one
   record per answer (a page's section), its title, section and all its text,
   so that a baseline sees the condition's name in every record, as the
   passages' title field gives clonus_index. The systems are named
   ``whoosh-answers``, ``fts5-answers`` and ``bm25s-answers``.
2. **Consumer messages** (``medquad_messages.jsonl``): 160 messages written
   blind from the corpus as people write to a health service (misspellings,
   context about themselves, several questions in one), each labelled with
   the document and question type that answers it and key phrases copied
   from that answer. Two columns: *right section* (the hit comes from the
   labelled page and section, as for MedQuAD's questions) and *right answer*
   (the hit comes from the labelled page or a page with the same title, and
   holds a key phrase): MedQuAD repeats articles across its collections
   (shingles in three), and a same-titled sibling that says the same thing
   answers the message as well. Needs the whole corpus (no ``--limit-docs``).
3. **Sections of flattened text.** The same pages flattened (headings
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

MESSAGES = Path(__file__).resolve().parent / "medquad_messages.jsonl"
#: Baselines also run over whole answers, named ``SYSTEM-answers``.
ANSWER_LEVEL = "-answers"


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


def per_group(results: dict[str, list[int | None]], items: list[dict], key: str, title: str,
              group: str, noun: str) -> None:
    """A success@1 table per value of ``key`` (question type, kind of message), most frequent first."""
    groups = collections.Counter(item[key] for item in items)
    print(f"\n{title}:\n")
    print(f"| {group} | {noun} | " + " | ".join(results) + " |")
    print("| --- | ---: |" + " ---: |" * len(results))
    for value, n in groups.most_common():
        cells = [metrics([r for r, item in zip(ranks, items) if item[key] == value])["s@1"]
                 for ranks in results.values()]
        print(f"| {value} | {n} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    print()


def metrics(ranks: list[int | None]) -> dict[str, float]:
    n = max(len(ranks), 1)
    return {"s@1": sum(r == 1 for r in ranks) / n,
            "s@3": sum(r is not None and r <= 3 for r in ranks) / n,
            "mrr@10": sum(1 / r for r in ranks if r is not None and r <= 10) / n}


def answer_records(passages: list[dict]) -> list[dict]:
    """Whole answers: each run of a page's passages in one section, joined, with its title."""
    out: list[dict] = []
    for p in passages:
        last = out[-1] if out else None
        if last and last["source"] == p["source"] and last["section"] == p["section"]:
            last["text"] += "\n\n" + p["text"]
        else:
            out.append({"id": f"answer-{len(out)}", "source": p["source"], "title": p["title"],
                        "section": p["section"], "text": p["text"]})
    return out


def build_clonus(folder: Path, keep: Path | None, work: Path):
    """The clonus_index of the HTML pages: reused from ``keep`` when it is there, else built."""
    import clonus_index
    path = keep or work / "clonus_index"
    start = time.perf_counter()
    if keep is not None and keep.exists():
        index = clonus_index.open_index(keep)
        note = f"reused from {keep}"
    else:
        index = clonus_index.build_index([folder / "html"], path)
        note = f"built in {time.perf_counter() - start:,.0f} s"
    return index, path, note


def run_systems(systems: list[str], questions: list[dict], passages: list[dict], answers: list[dict],
                clonus_path: Path, work: Path) -> dict[str, list[list[str]]]:
    """Each system's top ``DEPTH`` ids for each question (baselines built once, in ``work``)."""
    out: dict[str, list[list[str]]] = {}
    for system in systems:
        base = system.removesuffix(ANSWER_LEVEL)
        path = clonus_path if system == "clonus_index" else work / system
        if system != "clonus_index" and not path.exists():
            build(base, answers if system.endswith(ANSWER_LEVEL) else passages, path)
        search, _ = open_searcher(base, path)
        start = time.perf_counter()
        out[system] = [search(q["q"], DEPTH) for q in questions]
        print(f"{system}: {len(questions)} questions in {time.perf_counter() - start:,.1f} s",
              file=sys.stderr)
    return out


def print_table(results: dict[str, list[int | None]], title: str = "") -> None:
    print(f"| system{title} | success@1 | success@3 | MRR@10 |\n| --- | ---: | ---: | ---: |")
    for system, ranks in results.items():
        m = metrics(ranks)
        print(f"| {system} | {m['s@1']:.3f} | {m['s@3']:.3f} | {m['mrr@10']:.3f} |")


def retrieval(folder: Path, truth: dict, systems: list[str], sample: int, work: Path,
              keep: Path | None, messages: Path | None) -> None:
    questions = truth["questions"]
    if sample and sample < len(questions):
        questions = random.Random(7).sample(questions, sample)
    index, clonus_path, note = build_clonus(folder, keep, work)
    dump_passages(index, work / "passages.jsonl")
    passages = load_passages(work / "passages.jsonl")
    answers = answer_records(passages)
    place = {p["id"]: (Path(p["source"]).stem, p["section"].lower()) for p in passages + answers}
    print(f"## Retrieval on MedQuAD\n\n{len(truth['paragraphs']):,} pages, {len(passages):,} passages "
          f"({len(answers):,} whole answers; clonus_index {note}); {len(questions):,} of "
          f"{len(truth['questions']):,} questions (a fixed random sample). A hit is right when "
          f"it comes from the question's page and section.\n")
    found = run_systems(systems, questions, passages, answers, clonus_path, work)
    results: dict[str, list[int | None]] = {}
    for system, lists in found.items():
        results[system] = [next((i + 1 for i, pid in enumerate(ids)
                                 if place.get(pid) == (q["doc"], q["section"].lower())), None)
                           for q, ids in zip(questions, lists)]
    print_table(results)
    per_group(results, questions, "qtype", "success@1 per question type", "question type",
              "questions")
    if messages is not None:
        consumer_messages(messages, systems, passages, answers, clonus_path, work)
    index.close()


def consumer_messages(path: Path, systems: list[str], passages: list[dict], answers: list[dict],
                      clonus_path: Path, work: Path) -> None:
    """Score the consumer messages: right section, and right answer (page or sibling, with a key)."""
    from clonus_index.query import normalise_for_match
    messages = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = {p["id"]: p for p in passages + answers}
    stems = {Path(p["source"]).stem for p in passages}
    missing = sorted({m["doc"] for m in messages} - stems)
    if missing:
        print(f"Consumer messages: {len(missing)} of their pages are not in this corpus "
              f"(run without --limit-docs); skipped.\n")
        return
    titles: dict[str, str] = {}
    for p in passages:
        titles.setdefault(Path(p["source"]).stem, " ".join(p["title"].lower().split()))
    same_title: dict[str, set[str]] = collections.defaultdict(set)
    for stem, title in titles.items():
        same_title[title].add(stem)

    def strict(m: dict, pid: str) -> bool:
        r = records.get(pid)
        return r is not None and (Path(r["source"]).stem, r["section"].lower()) == (
            m["doc"], corpora.heading_for(m["qtype"]).lower())

    def soft(m: dict, pid: str) -> bool:
        r = records.get(pid)
        if r is None or Path(r["source"]).stem not in same_title[titles[m["doc"]]]:
            return False
        text = normalise_for_match(r["text"])
        return any(f" {normalise_for_match(k)} " in f" {text} " for k in m["keys"])

    found = run_systems(systems, messages, passages, answers, clonus_path, work)
    print(f"## Consumer messages over MedQuAD\n\n{len(messages)} messages written blind from the "
          f"corpus ({path.name}). Right section: the hit comes from the labelled page and "
          f"section. Right answer: from that page or one with the same title, and it holds "
          f"one of the message's key phrases.\n")
    print("| system | right section s@1 | s@3 | MRR@10 | right answer s@1 | s@3 | MRR@10 |\n"
          "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    per_kind: dict[str, list] = {}
    for system, lists in found.items():
        a = [next((i + 1 for i, pid in enumerate(ids) if strict(m, pid)), None)
             for m, ids in zip(messages, lists)]
        b = [next((i + 1 for i, pid in enumerate(ids) if soft(m, pid)), None)
             for m, ids in zip(messages, lists)]
        ma, mb = metrics(a), metrics(b)
        print(f"| {system} | {ma['s@1']:.3f} | {ma['s@3']:.3f} | {ma['mrr@10']:.3f} "
              f"| {mb['s@1']:.3f} | {mb['s@3']:.3f} | {mb['mrr@10']:.3f} |")
        per_kind[system] = a
    per_group(per_kind, messages, "kind", "Right section, success@1 per kind of message", "kind",
              "messages")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit-docs", type=int, help="only this many documents, spread over the collections")
    parser.add_argument("--questions", type=int, default=1000,
                        help="questions to ask, a fixed random sample (0: all); default 1000")
    every = list(SYSTEMS) + [s + ANSWER_LEVEL for s in SYSTEMS if s != "clonus_index"]
    parser.add_argument("--systems", nargs="+", choices=every, default=every,
                        help="systems to compare (clonus_index always: the baselines index its passages)")
    parser.add_argument("--skip", choices=("retrieval", "messages", "sections"), action="append",
                        default=[], help="leave a part out (repeat for more)")
    parser.add_argument("--index", type=Path, help="keep clonus_index's index here and reuse it if "
                        "it exists (delete it after changing the library)")
    parser.add_argument("--messages", type=Path, default=MESSAGES, help="consumer messages (JSON Lines)")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds a clonus_index search may take before it returns what it has "
                        "(default 60, so that ranking, not machine load, decides; the library's is "
                        "clonus_index.searching.SEARCH_SECONDS)")
    args = parser.parse_args()
    import clonus_index.searching
    clonus_index.searching.SEARCH_SECONDS = args.budget
    folder = corpora.medquad_corpus(args.limit_docs)
    if folder is None:
        print(corpora.no_medquad_message(), file=sys.stderr)
        return 0
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    systems = [s for s in every if s in args.systems or s == "clonus_index"]
    if not all(importlib.util.find_spec(m) for m in ("bm25s", "Stemmer")):
        print("bm25s or PyStemmer not installed (pip install '.[bench]'): leaving bm25s out", file=sys.stderr)
        systems = [s for s in systems if not s.startswith("bm25s")]
    if "retrieval" not in args.skip:
        with tempfile.TemporaryDirectory(dir=corpora.cache_dir()) as work:
            retrieval(folder, truth, systems, args.questions, Path(work), args.index,
                      None if "messages" in args.skip or args.limit_docs else args.messages)
    if "sections" not in args.skip:
        section_accuracy(folder, truth)
    return 0


if __name__ == "__main__":
    sys.exit(main())
