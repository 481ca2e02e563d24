#!/usr/bin/env python3
"""Whoosh against OpenSearch in one run: build rate, query latency (1 and 32 clients), parity.

    pip install ".[bench,opensearch]"                 # and Java 17+ with Maven for the node
    python benchmarks/opensearch_compare.py            # all of MedQuAD (~86k passages)
    python benchmarks/opensearch_compare.py --limit-docs 1000 --questions 300
    python benchmarks/opensearch_compare.py --generated 100000   # generated passages instead
    python benchmarks/opensearch_compare.py --smoke    # 20 pages, a few queries: seconds
    python benchmarks/opensearch_compare.py --url http://127.0.0.1:9200   # a running cluster

Both backends get the same ingested corpus (ingestion is timed once, apart:
it is shared); the build columns time only writing the index (for OpenSearch:
analysis and signals in the client, the bulk requests, the refresh and the
alias swap). Queries are MedQuAD's own questions (or the generated corpus's
questions), a fixed random sample, asked through the same ``Index.search``
of each backend: once by one client in turn, then by 32 threads at once.
Latency is wall time per query (p50, p95); CPU seconds of this process are
printed beside them, and the load average, since the machine is shared.
Without ``--url`` a one-node cluster is started from the test launcher
(``tests/opensearch/``) with a 2 GB heap; without Java or Maven it says so
and exits successfully. Without MedQuAD likewise.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "tests"))

import make_corpora as corpora  # noqa: E402  (the paths must be set first)


def _corpus(args):
    """(sources, questions) for the run."""
    if args.generated:
        articles = corpora.articles_for(args.generated)
        queries = corpora.generated_queries(articles, short=args.questions, chat=0)["short"]
        return corpora.generated_corpus(articles), queries
    folder = corpora.medquad_corpus(args.limit_docs)
    if folder is None:
        return None, []
    import json
    truth = json.loads((folder / "truth.json").read_text())
    questions = [q["q"] for q in truth["questions"]]
    rng = random.Random(7)
    return [folder / "html"], rng.sample(questions, min(args.questions, len(questions)))


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _latencies(index, questions, clients: int) -> tuple[list[float], float, float]:
    """Per-query wall seconds, total wall and CPU seconds, with ``clients`` threads."""
    times: list[float] = []
    lock = threading.Lock()

    def ask(q):
        start = time.perf_counter()
        index.search(q, limit=10)
        with lock:
            times.append(time.perf_counter() - start)

    def run():
        if clients == 1:
            for q in questions:
                ask(q)
        else:
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(ask, questions * max(1, clients * 2 // len(questions) + 1)))

    _, wall, cpu = _timed(run)
    return times, wall, cpu


def _row(name, times, wall, cpu) -> str:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return (f"| {name} | {len(ms)} | {statistics.median(ms):,.1f} | {p95:,.1f} | "
            f"{len(ms) / wall:,.1f} | {cpu / len(ms) * 1000:,.1f} |")


def _sizes(folder: Path, index, passages: int) -> str:
    """Bytes on disk per passage for each backend, and the node's heap in use."""
    whoosh = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    backend = index._backend
    store = backend.client.indices.stats(index=backend.physical, metric="store")
    other = store["_all"]["primaries"]["store"]["size_in_bytes"]
    heap = [n["jvm"]["mem"]["heap_used_in_bytes"] for n in
            backend.client.nodes.stats(metric="jvm")["nodes"].values()]
    return (f"On disk: Whoosh {whoosh / 2**20:,.1f} MB ({whoosh / passages:,.0f} bytes a "
            f"passage), OpenSearch primaries {other / 2**20:,.1f} MB ({other / passages:,.0f} "
            f"bytes a passage); node heap in use {max(heap) / 2**20:,.0f} MB.\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit-docs", type=int, help="MedQuAD documents (default: all)")
    parser.add_argument("--generated", type=int, help="generated passages instead of MedQuAD")
    parser.add_argument("--questions", type=int, default=200, help="questions asked (default 200)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (default 32)")
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--url", help="a running cluster's HTTP URL (default: start one node)")
    parser.add_argument("--smoke", action="store_true", help="20 MedQuAD pages, 10 questions")
    args = parser.parse_args()
    if args.smoke:
        args.limit_docs, args.questions, args.clients = 20, 10, 4
    sources, questions = _corpus(args)
    if sources is None:
        print(corpora.no_medquad_message())
        return 0
    node = None
    url = args.url
    if url is None:
        import opensearch_node
        reason = opensearch_node.missing_tools()
        if reason:
            print(f"skipped: {reason}")
            return 0
        opensearch_node.HEAP = "512m" if args.smoke else "2g"
        classpath = opensearch_node.build_launcher()
        home = Path(tempfile.mkdtemp(prefix="clonus-os-bench-"))
        (node, start_s, _) = _timed(lambda: opensearch_node.single_node(classpath, home))
        url = node.url
        print(f"one node: JVM start to green in {start_s:,.1f} s", file=sys.stderr)
    try:
        return _compare(args, sources, questions, url, node.process.pid if node else None)
    finally:
        if node is not None:
            node.stop()
            shutil.rmtree(node.home, ignore_errors=True)


def _node_cpu(pid) -> float:
    """CPU seconds the node's JVM has used (user + system); 0 for a cluster not started here."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _compare(args, sources, questions, url, node_pid=None) -> int:
    import clonus_index
    from clonus_index import opensearch_backend, opensearch_store
    from clonus_index.bundled import read_sources
    from clonus_index.index import write_index

    (corpus, digest), ingest_s, _ = _timed(lambda: read_sources(sources))
    n = len(corpus.passages)
    target = url.replace("http://", "opensearch://") + "/bench"
    with tempfile.TemporaryDirectory(prefix="clonus-bench-whoosh-") as work:
        folder = Path(work) / "index"
        _, whoosh_s, whoosh_cpu = _timed(lambda: write_index(corpus, folder, digest))
        node_before = _node_cpu(node_pid)
        _, os_s, os_cpu = _timed(lambda: opensearch_store.write_index(
            corpus, target, digest, shards=args.shards))
        whoosh = clonus_index.open_index(folder)
        other = opensearch_backend.open_index(target)
        for index in (whoosh, other):  # warm: first-query loads (spelling dictionary, caches)
            for q in questions[:3]:
                index.search(q)
        load = os.getloadavg()
        print(f"## Whoosh against OpenSearch\n\n{len(corpus.articles):,} articles, {n:,} "
              f"passages ({'generated' if args.generated else 'MedQuAD'}); ingestion (shared, "
              f"not in the build columns) {ingest_s:,.1f} s; OpenSearch: one node, "
              f"{args.shards} shard(s); load average {load[0]:.1f} at the start "
              f"(2 cores shared).\n")
        node_build = _node_cpu(node_pid) - node_before
        print("| backend | build s (wall) | passages/s | client CPU s | node CPU s |\n"
              "| --- | ---: | ---: | ---: | ---: |")
        print(f"| Whoosh | {whoosh_s:,.1f} | {n / whoosh_s:,.0f} | {whoosh_cpu:,.1f} | |")
        print(f"| OpenSearch | {os_s:,.1f} | {n / os_s:,.0f} | {os_cpu:,.1f} | "
              f"{node_build:,.1f} |\n")
        print(_sizes(folder, other, n))
        print("| backend, clients | queries | p50 ms | p95 ms | queries/s | client CPU ms/query "
              "| node CPU ms/query |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for name, index in (("Whoosh", whoosh), ("OpenSearch", other)):
            for clients in (1, args.clients):
                before = _node_cpu(node_pid)
                times, wall, cpu = _latencies(index, questions, clients)
                used = (_node_cpu(node_pid) - before) * 1000 / len(times)
                print(_row(f"{name}, {clients}", times, wall, cpu)
                      + (f" {used:,.1f} |" if name == "OpenSearch" and node_pid else " |"))
        # Parity without the search deadline: a loaded machine must not cut either
        # backend's collection short (each search's own time is recorded).
        import clonus_index.searching as searching
        searching.SEARCH_SECONDS, deadline = 3600.0, searching.SEARCH_SECONDS
        same, late = 0, 0
        for q in questions:
            started = time.perf_counter()
            first = [h.passage.id for h in whoosh.search(q, limit=1)]
            late += time.perf_counter() - started > deadline
            same += first == [h.passage.id for h in other.search(q, limit=1)]
        searching.SEARCH_SECONDS = deadline
        print(f"\nSame first passage on both backends: {same} of {len(questions)} questions "
              f"(without the {deadline:g} s search deadline, which {late} Whoosh searches "
              f"would have reached); load average {os.getloadavg()[0]:.1f} at the end.")
        whoosh.close()
        other.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
