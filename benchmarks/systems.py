#!/usr/bin/env python3
"""The systems the benchmarks compare: clonus_index and three plain baselines, one API.

Shared by ``scale.py`` and ``medquad.py``. Every baseline indexes the same
passages clonus_index made (its title, section and text) and is queried with
the question's words only (no query syntax), returning passage ids:

- ``whoosh``: plain Whoosh, ``LanguageAnalyzer("en")`` on text, title and
  section, BM25F, an OR group over the three fields;
- ``fts5``: SQLite FTS5 with the ``porter`` tokenizer, ``bm25()``, words OR-ed;
- ``bm25s``: bm25s with the PyStemmer English stemmer and English stop words.

Run as a script it is the worker ``scale.py`` starts in a fresh process per
measurement, so that memory and open times are those of a new process:

    python benchmarks/systems.py build SYSTEM SOURCES_OR_PASSAGES INDEX_DIR
    python benchmarks/systems.py query SYSTEM INDEX_DIR QUERIES.json

Each prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import os
import re
import resource
import sqlite3
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
SYSTEMS = ("clonus_index", "whoosh", "fts5", "bm25s")
DEPTH = 10
Searcher = Callable[[str, int], list[str]]


def words(query: str) -> list[str]:
    return re.findall(r"\w+", query.lower())


def load_passages(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def dump_passages(index, path: Path) -> None:
    """Write what the baselines index: each passage's id, article, title, section, text."""
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for p in index.passages():
            f.write(json.dumps({"id": p.id, "source": p.article.source, "title": p.article.title,
                                "section": p.section, "subsection": p.subsection, "text": p.text}) + "\n")
    tmp.replace(path)


# -- building -----------------------------------------------------------------

def build(system: str, inputs: list[Path] | list[dict], path: Path) -> None:
    """Build ``system``'s index at ``path`` from sources (clonus_index) or passages."""
    if system == "clonus_index":
        import clonus_index
        clonus_index.build_index(inputs, path)
    elif system == "whoosh":
        from whoosh.analysis import LanguageAnalyzer
        from whoosh.fields import ID, TEXT, Schema
        from whoosh.index import create_in
        analyzer = LanguageAnalyzer("en")
        schema = Schema(id=ID(stored=True), title=TEXT(analyzer=analyzer),
                        section=TEXT(analyzer=analyzer), text=TEXT(analyzer=analyzer))
        path.mkdir(parents=True)
        ix = create_in(str(path), schema)
        with ix.writer() as writer:
            for p in inputs:
                writer.add_document(id=p["id"], title=p["title"], section=p["section"], text=p["text"])
    elif system == "fts5":
        path.mkdir(parents=True)
        db = sqlite3.connect(path / "fts.db")
        db.execute("CREATE VIRTUAL TABLE p USING fts5(id UNINDEXED, title, section, text, tokenize='porter')")
        db.executemany("INSERT INTO p VALUES (?, ?, ?, ?)",
                       ((p["id"], p["title"], p["section"], p["text"]) for p in inputs))
        db.commit()
        db.close()
    elif system == "bm25s":
        import bm25s
        import Stemmer
        texts = [f"{p['title']}. {p['section']}. {p['text']}" for p in inputs]
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(texts, stopwords="en", stemmer=Stemmer.Stemmer("english"),
                                       show_progress=False), show_progress=False)
        retriever.save(str(path))
        (path / "ids.json").write_text(json.dumps([p["id"] for p in inputs]))
    else:
        raise ValueError(f"unknown system {system!r}; choose one of {', '.join(SYSTEMS)}")


# -- searching ------------------------------------------------------------------

def open_searcher(system: str, path: Path) -> tuple[Searcher, object]:
    """Open ``system``'s index: a function ``(query, k) -> passage ids``, and the index object."""
    if system == "clonus_index":
        import clonus_index
        index = clonus_index.open_index(path)
        return (lambda q, k: [h.passage.id for h in index.search(q, limit=k)]), index
    if system == "whoosh":
        from whoosh.index import open_dir
        from whoosh.qparser import MultifieldParser, OrGroup
        ix = open_dir(str(path))
        local = threading.local()
        parser = MultifieldParser(["title", "section", "text"], ix.schema, group=OrGroup)

        def search_whoosh(q: str, k: int) -> list[str]:
            if not hasattr(local, "searcher"):
                local.searcher = ix.searcher()
            terms = words(q)
            if not terms:
                return []
            return [h["id"] for h in local.searcher.search(parser.parse(" ".join(terms)), limit=k)]
        return search_whoosh, ix
    if system == "fts5":
        local = threading.local()

        def search_fts5(q: str, k: int) -> list[str]:
            if not hasattr(local, "db"):
                local.db = sqlite3.connect(path / "fts.db", check_same_thread=False)
            terms = words(q)
            if not terms:
                return []
            match = " OR ".join(f'"{w}"' for w in terms)
            rows = local.db.execute("SELECT id FROM p WHERE p MATCH ? ORDER BY bm25(p) LIMIT ?", (match, k))
            return [r[0] for r in rows]
        search_fts5(".", 1)
        return search_fts5, None
    if system == "bm25s":
        import bm25s
        import Stemmer
        retriever = bm25s.BM25.load(str(path))
        ids = json.loads((path / "ids.json").read_text())
        stemmer = Stemmer.Stemmer("english")

        def search_bm25s(q: str, k: int) -> list[str]:
            tokens = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False)
            if not tokens.vocab or not any(t in retriever.vocab_dict for t in tokens.vocab):
                return []
            docs, _ = retriever.retrieve(tokens, k=min(k, len(ids)), show_progress=False)
            return [ids[i] for i in docs[0]]
        return search_bm25s, retriever
    raise ValueError(f"unknown system {system!r}; choose one of {', '.join(SYSTEMS)}")


# -- the worker ---------------------------------------------------------------------

def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time of this process and its finished children: what wall time is on an idle machine."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def disk_mb(*folders: Path) -> float:
    total = 0
    for folder in folders:
        for dirpath, _, files in os.walk(folder):
            for name in files:
                try:
                    total += os.stat(os.path.join(dirpath, name)).st_size
                except OSError:
                    pass  # a temporary file removed while we looked
    return total / 2**20


def worker_build(system: str, inputs: Path, path: Path) -> dict:
    """Build in this process, watching the disk used by the index and TMPDIR."""
    sources = inputs.read_text().split("\n") if inputs.suffix == ".list" else None
    items = [Path(s) for s in sources if s] if sources else load_passages(inputs)
    tmpdir = Path(os.environ.get("TMPDIR", "/tmp"))
    peak = [0.0]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.25):
            peak[0] = max(peak[0], disk_mb(path, tmpdir))
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start, cpu = time.perf_counter(), cpu_seconds()
    build(system, items, path)
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    done.set()
    watcher.join()
    final = disk_mb(path)
    result = {"build_s": seconds, "build_cpu_s": cpu, "peak_mb": peak_rss_mb(), "disk_peak_mb": max(peak[0], final),
              "index_mb": final}
    if system == "clonus_index":
        import clonus_index
        index = clonus_index.open_index(path)
        result["passages"] = len(index)
        dump_passages(index, path.parent / "passages.jsonl")
    return result


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _throughput(search: Searcher, batch: list[str]) -> tuple[float, float]:
    """Queries per second answering ``batch`` on one thread, then on two at once."""
    t = time.perf_counter()
    for q in batch:
        search(q, DEPTH)
    one = len(batch) / (time.perf_counter() - t)
    with ThreadPoolExecutor(2) as pool:
        t = time.perf_counter()
        list(pool.map(lambda q: search(q, DEPTH), batch))
        two = len(batch) / (time.perf_counter() - t)
    return one, two


def _process_cpu(pid: int) -> float:
    """CPU seconds a live process has used (Linux ``/proc``)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_per_search(search: Searcher, search_pooled: Searcher, pooled, batch: list[str]) -> dict:
    """CPU ms per search in-process, and with workers in the caller and in the workers.

    Machine load changes wall-clock throughput (more processes get more of a
    busy machine); CPU time does not: on N idle cores, N threads with
    workers answer about N * in-process / (caller + worker) times as many
    searches as one thread without them.
    """
    try:
        pids = list(pooled._pool._executor._processes)
        workers = sum(_process_cpu(p) for p in pids)
    except (OSError, AttributeError):
        return {}
    t = time.process_time()
    for q in batch:
        search_pooled(q, DEPTH)
    caller = time.process_time() - t
    worker = sum(_process_cpu(p) for p in pids) - workers
    t = time.process_time()
    for q in batch:
        search(q, DEPTH)
    alone = time.process_time() - t
    n = len(batch)
    return {"cpu_ms_in_process": alone / n * 1000, "cpu_ms_workers_caller": caller / n * 1000,
            "cpu_ms_workers_worker": worker / n * 1000}


def worker_query(system: str, path: Path, queries_file: Path) -> dict:
    """Open, answer every query once after a short warm-up, then one thread against two."""
    queries = json.loads(queries_file.read_text())
    start = time.perf_counter()
    search, _ = open_searcher(system, path)
    result = {"open_s": time.perf_counter() - start, "rss_open_mb": rss_mb()}
    for q in queries["short"][:3] + queries["chat"][:2]:
        search(q, DEPTH)
    for kind in ("short", "chat"):
        times, cpu = [], []
        for q in queries[kind]:
            t, c = time.perf_counter(), time.thread_time()
            search(q, DEPTH)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.thread_time() - c) * 1000)
        result[f"{kind}_median_ms"] = statistics.median(times)
        result[f"{kind}_cpu_median_ms"] = statistics.median(cpu)
        result[f"{kind}_cpu_p95_ms"] = _percentile(cpu, 0.95)
        result[f"{kind}_p95_ms"] = _percentile(times, 0.95)
    result["rss_mb"] = rss_mb()
    if queries.get("threads"):
        batch = queries["short"]
        one, two = _throughput(search, batch)
        result.update(qps_1_thread=one, qps_2_threads=two)
        if system == "clonus_index":  # the same, with searches in two worker processes
            import clonus_index
            with clonus_index.open_index(path, workers=2) as pooled:
                def search_pooled(q, k):
                    return [h.passage.id for h in pooled.search(q, limit=k)]
                for q in batch[:4]:
                    search_pooled(q, DEPTH)
                one, two = _throughput(search_pooled, batch)
                result.update(qps_workers_1_thread=one, qps_workers_2_threads=two)
                result.update(_cpu_per_search(search, search_pooled, pooled, batch))
    result["peak_mb"] = peak_rss_mb()
    return result


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] not in ("build", "query") or argv[1] not in SYSTEMS:
        print(__doc__, file=sys.stderr)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    action, system, a, b = argv
    result = (worker_build(system, Path(a), Path(b)) if action == "build"
              else worker_query(system, Path(a), Path(b)))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
