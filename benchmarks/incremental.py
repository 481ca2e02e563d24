#!/usr/bin/env python3
"""What an incremental update costs in a built index, beside the full build's time.

    python benchmarks/scale.py            # runs this on every size it builds
    python benchmarks/incremental.py INDEX SOURCES_LIST NEW_ARTICLE   # one index, as a worker

On a hard-linked copy of a built clonus_index index (the original is not
touched), in a fresh process: add one new article and remove it again
through the API (``Index.add`` / ``Index.remove`` on an opened index) and
through the ``clonus-index add`` / ``remove`` commands (process start to
exit, the index opened by the command), then ``build_index`` over the same
sources with nothing changed and with one source changed. Each figure is
wall time with the CPU time of this process beside it (subprocess figures
are wall time only). Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _timed(func) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _command() -> list[str]:
    exe = Path(sys.executable).parent / "clonus-index"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "clonus_index.cli"]


def _cli(*args: str) -> float:
    start = time.perf_counter()
    proc = subprocess.run([*_command(), *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"clonus-index {args[0]} failed: {proc.stderr.strip()}")
    return time.perf_counter() - start


def measure(index: Path, sources: list[Path], new_article: Path) -> dict:
    import clonus_index

    work = Path(tempfile.mkdtemp(prefix="incremental-"))
    try:
        copy = work / "index"
        shutil.copytree(index, copy, copy_function=os.link)  # generations are never changed
        opened = clonus_index.open_index(copy)
        out: dict = {"passages": len(opened)}
        wall, cpu, update = _timed(lambda: opened.add([new_article]))
        (article,) = update.added
        out.update(add_s=wall, add_cpu_s=cpu, added_passages=len(opened) - out["passages"])
        wall, cpu, _ = _timed(lambda: opened.remove([article]))
        out.update(remove_s=wall, remove_cpu_s=cpu)
        out["cli_add_s"] = _cli("add", str(new_article), "--index", str(copy))
        out["cli_remove_s"] = _cli("remove", article, "--index", str(copy))
        wall, cpu, _ = _timed(lambda: clonus_index.build_index(sources, copy))
        out.update(build_unchanged_s=wall, build_unchanged_cpu_s=cpu)
        changed = work / sources[0].name
        changed.write_text(sources[0].read_text("utf-8") + "\nIt was reviewed again.\n", "utf-8")
        read: list[Path] = []
        wall, cpu, _ = _timed(lambda: clonus_index.build_index([changed, *sources[1:]], copy,
                                                               progress=read.append))
        out.update(build_one_changed_s=wall, build_one_changed_cpu_s=cpu, build_one_changed_read=len(read))
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def table(runs: list[dict]) -> str:
    """Markdown: per size, each update's wall s (CPU s) beside the full build."""
    out = ["| passages | full build s | add one article s (CPU) | remove it s (CPU) "
           "| CLI add / remove s | build, nothing changed s (CPU) | build, one source changed s (CPU) |",
           "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for run in runs:
        full = run["systems"]["clonus_index"]
        r = full.get("incremental")
        if not r:
            continue
        out.append(f"| {run['passages']:,} | {full['build_s']:,.1f} | {r['add_s']:.2f} ({r['add_cpu_s']:.2f}) "
                   f"| {r['remove_s']:.2f} ({r['remove_cpu_s']:.2f}) "
                   f"| {r['cli_add_s']:.2f} / {r['cli_remove_s']:.2f} "
                   f"| {r['build_unchanged_s']:.2f} ({r['build_unchanged_cpu_s']:.2f}) "
                   f"| {r['build_one_changed_s']:.2f} ({r['build_one_changed_cpu_s']:.2f}) |")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        sys.exit(__doc__)
    index, sources_list, new_article = map(Path, argv)
    sources = [Path(line) for line in sources_list.read_text().splitlines() if line]
    print(json.dumps(measure(index, sources, new_article)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
