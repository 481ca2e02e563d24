#!/usr/bin/env python3
"""How long a real OpenSearch test cluster takes to start, from nothing and warm.

Times, in one run, with the launcher the test suite uses (tests/opensearch/):

    python benchmarks/opensearch_start.py            # needs Java 17+ and Maven
    python benchmarks/opensearch_start.py --runs 3

- Maven, empty cache: resolving and downloading every artifact into a fresh
  local repository (as on a new machine, ~/.m2 untouched) and compiling;
- Maven, warm cache: the same build with ~/.m2 already filled;
- one node: JVM start to a green cluster;
- two nodes (two JVMs): first JVM start to a green two-node cluster.

The machine's load average is printed beside the table: the times are wall
clock, and a busy machine stretches them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import opensearch_node  # noqa: E402  (path set above)


def maven(repository: str | None) -> float:
    shutil.rmtree(opensearch_node.LAUNCHER / "target", ignore_errors=True)
    command = ["mvn", "-q", "-B", "-f", str(opensearch_node.LAUNCHER / "pom.xml"), "compile"]
    if repository:
        command.insert(1, f"-Dmaven.repo.local={repository}")
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"Maven failed:\n{done.stdout}{done.stderr}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2, help="times to repeat each step")
    args = parser.parse_args()
    reason = opensearch_node.missing_tools()
    if reason:
        sys.exit(reason)
    rows: dict[str, list[float]] = {}
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as empty:
            rows.setdefault("Maven, empty cache (download + compile)", []).append(maven(empty))
        rows.setdefault("Maven, warm ~/.m2 (compile)", []).append(maven(None))
        classpath = opensearch_node.build_launcher()
        with tempfile.TemporaryDirectory() as home:
            started = time.monotonic()
            node = opensearch_node.single_node(classpath, Path(home))
            rows.setdefault("one node: JVM start to green", []).append(time.monotonic() - started)
            node.stop()
        with tempfile.TemporaryDirectory() as home:
            started = time.monotonic()
            nodes = opensearch_node.two_nodes(classpath, Path(home))
            rows.setdefault("two nodes: JVM start to green", []).append(time.monotonic() - started)
            for node in nodes:
                node.stop()
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    print(f"{java.splitlines()[0]}; {os.cpu_count()} cores; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print("| step | median s | runs (s) |\n| --- | --- | --- |")
    for step, times in rows.items():
        print(f"| {step} | {statistics.median(times):.1f} | "
              f"{', '.join(f'{t:.1f}' for t in times)} |")


if __name__ == "__main__":
    main()
