#!/usr/bin/env python3
"""Load on the HTTP service: requests/s, p50/p99 latency and errors under concurrent clients.

    python benchmarks/serve_load.py                   # bundled index, 8 and 32 clients
    python benchmarks/serve_load.py --large 100000    # also an index of ~100k passages
    python benchmarks/serve_load.py --index PATH --seconds 5 --clients 8 32 64

For each index it starts ``clonus-index serve`` on a free loopback port
(with 1 and with 2 worker processes), runs each number of clients for a
bounded time, each client a keep-alive connection sending ``GET /search``
for questions in turn, and prints one table. The baseline row is the same
questions through ``Index.search`` in this process, one at a time: what the
HTTP layer adds shows beside it. The clients run in this process, on the
same machine, so they take CPU from the server: figures are a floor.
Needs the ``serve`` extra. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "data" / "questions.jsonl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index: Path | None, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    args = [sys.executable, "-c", "from clonus_index.cli import main; main()", "serve",
            "--port", str(port), "--workers", str(workers), "--no-access-log"]
    if index is not None:
        args += ["--index", str(index)]
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return server, port
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise SystemExit("clonus-index serve did not start (is the serve extra installed?)")
            time.sleep(0.2)


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


async def _request(reader, writer, target: bytes) -> int:
    writer.write(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def _client(port: int, targets: list[bytes], start: int, stop_at: float,
                  latencies: list[float], errors: list[int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = start
    try:
        while time.monotonic() < stop_at:
            target = targets[i % len(targets)]
            i += 1
            began = time.perf_counter()
            try:
                status = await _request(reader, writer, target)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                errors.append(1)
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            latencies.append(time.perf_counter() - began)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()


def load(port: int, queries: list[str], clients: int, seconds: float) -> dict:
    """``clients`` connections for ``seconds`` (after a one-second warm-up)."""
    targets = [f"/search?{urllib.parse.urlencode({'q': q, 'limit': 10})}".encode() for q in queries]

    async def run(duration: float) -> tuple[list[float], list[int], float]:
        latencies: list[float] = []
        errors: list[int] = []
        began = time.monotonic()
        stop_at = began + duration
        await asyncio.gather(*(_client(port, targets, c * 7, stop_at, latencies, errors)
                               for c in range(clients)))
        return latencies, errors, time.monotonic() - began

    asyncio.run(run(1.0))
    latencies, errors, elapsed = asyncio.run(run(seconds))
    return summary(latencies, len(errors), elapsed)


def summary(latencies: list[float], errors: int, elapsed: float) -> dict:
    ordered = sorted(latencies)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return {"requests": len(latencies) + errors, "rps": len(latencies) / elapsed,
            "p50": pick(0.50) if ordered else 0.0, "p99": pick(0.99) if ordered else 0.0,
            "errors": errors}


def in_process(index_path: Path | None, queries: list[str], seconds: float) -> dict:
    """The baseline: ``Index.search`` in this process, one question after another."""
    import clonus_index
    index = clonus_index.open_index(index_path)
    for q in queries[:20]:
        index.search(q, limit=10)
    latencies = []
    began = time.monotonic()
    i = 0
    while time.monotonic() - began < seconds:
        t = time.perf_counter()
        index.search(queries[i % len(queries)], limit=10)
        latencies.append(time.perf_counter() - t)
        i += 1
    return summary(latencies, 0, time.monotonic() - began)


def large_index(passages: int, work: Path) -> tuple[str, Path, list[str]]:
    """An index of about ``passages`` passages, its name, and questions for it.

    Generated health articles from ``benchmarks/make_corpora.py`` when it is
    there (ingested as any article is); otherwise the tests' synthetic
    corpus (``tests/corpora.py``: fixture words and made-up words written
    straight to an index), with three-word questions of fixture words.
    """
    import random

    import clonus_index
    sys.path[:0] = [str(Path(__file__).parent), str(ROOT / "tests")]
    began = time.monotonic()
    try:
        import make_corpora as generator
        generated = True
    except ImportError:
        generated = False
    if generated:
        articles = generator.articles_for(passages)
        path = work / f"generated-{articles}"
        log(f"building an index of {articles} generated articles ...")
        clonus_index.build_index(generator.generated_corpus(articles), path)
        queries = [q for kind in generator.generated_queries(articles).values() for q in kind]
        name = "generated articles"
    else:
        import corpora as synthetic  # tests/corpora.py
        per_article = 100
        path = work / "synthetic"
        log(f"building a synthetic index of {passages} passages ...")
        synthetic.build_synthetic(path, max(1, passages // per_article), per_article)
        rng = random.Random(3)
        words = synthetic.fixture_words()
        queries = [" ".join(rng.sample(words, 3)) for _ in range(500)]
        name = "synthetic"
    log(f"  built in {time.monotonic() - began:.0f} s")
    return name, path, queries


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def table(rows: list[dict]) -> str:
    head = ["index", "passages", "server", "clients", "requests/s", "p50 ms", "p99 ms", "errors"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in rows:
        lines.append(f"| {r['index']} | {r['passages']:,} | {r['server']} | {r['clients']} | "
                     f"{r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']} |")
    return "\n".join(lines)


def bench(name: str, index: Path | None, queries: list[str], args) -> list[dict]:
    import clonus_index
    passages = len(clonus_index.open_index(index))
    rows = []
    base = in_process(index, queries, args.seconds)
    rows.append(dict(base, index=name, passages=passages, server="Index.search, in process",
                     clients=1))
    for workers in args.workers:
        server, port = start_server(index, workers)
        try:
            for clients in args.clients:
                log(f"{name}: {workers} worker(s), {clients} clients, {args.seconds:g} s")
                result = load(port, queries, clients, args.seconds)
                rows.append(dict(result, index=name, passages=passages,
                                 server=f"serve --workers {workers}", clients=clients))
        finally:
            stop_server(server)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, help="an index to load (default: the bundled one)")
    parser.add_argument("--large", type=int, metavar="PASSAGES", default=0,
                        help="also build and load a generated index of about this many passages")
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = parser.parse_args()

    questions = [json.loads(line)["q"] for line in QUESTIONS.read_text("utf-8").splitlines()
                 if line.strip()]
    rows = bench(str(args.index) if args.index else "bundled", args.index, questions, args)
    if args.large:
        with tempfile.TemporaryDirectory() as work:
            name, path, queries = large_index(args.large, Path(work))
            rows += bench(name, path, queries, args)
    print(table(rows))
    if args.json:
        print(json.dumps(rows, indent=2))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{os.cpu_count()} CPUs, shared by clients and server; load average at the end: {load}")
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
