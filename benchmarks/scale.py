#!/usr/bin/env python3
"""How clonus_index's costs grow with the corpus, beside plain baselines measured in the same run.

    pip install ".[bench]"
    python benchmarks/scale.py                          # 3k, 10k, 30k and 100k passages
    python benchmarks/scale.py --sizes 3000 10000       # chosen sizes
    python benchmarks/scale.py --smoke                  # a few hundred passages, seconds

For each size it generates the corpus (``make_corpora.py``: articles in the
flattened form, cached outside the repository), builds clonus_index from the
files (ingestion included), then builds plain Whoosh, SQLite FTS5 and bm25s on
the passages clonus_index made, and prints, per system: build time and
passages/s, peak memory of the building process, disk at its peak during the
build and at the end, time to open the index, query median / p95 over short
questions and over chat-length messages, and the memory (RSS) of the
searching process; then ratios to each baseline, the CLI ``search`` end to end,
one thread against two on one opened Index, and what adding and removing one
article costs in the built index beside its full build (``incremental.py``). Every build and every
search session runs in a fresh process (``systems.py``), one after another.
Only the library's public API and the ``clonus-index`` command are used.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import incremental  # noqa: E402  (the path must be set first)
import make_corpora as corpora  # noqa: E402
from systems import SYSTEMS  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = (3_000, 10_000, 30_000, 100_000)


def run_worker(args: list[str], tmpdir: Path, script: str = "systems.py") -> dict:
    """One measurement in a fresh process; its JSON result."""
    tmpdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    proc = subprocess.run([sys.executable, str(HERE / script), *args], env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"benchmark worker failed ({' '.join(args[:2])}):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def cli_seconds(index: Path, queries: list[str]) -> float:
    """Median wall time of ``clonus-index search QUERY --index PATH``, process start to exit."""
    exe = Path(sys.executable).parent / "clonus-index"
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "clonus_index.cli"]
    times = []
    for q in queries:
        start = time.perf_counter()
        proc = subprocess.run([*command, "search", q, "--index", str(index)], capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            sys.exit(f"clonus-index search failed: {proc.stderr.strip()}")
    return statistics.median(times)


def measure(size: int, args: argparse.Namespace, work: Path) -> dict:
    """Build and query every system on the generated corpus of about ``size`` passages."""
    articles = corpora.articles_for(size)
    log(f"[{size:,}] generating {articles:,} articles")
    paths = corpora.generated_corpus(articles)
    sources = work / "sources.list"
    sources.write_text("\n".join(str(p) for p in paths))
    queries = corpora.generated_queries(articles, args.short, args.chat)
    results: dict[str, dict] = {}
    load = os.getloadavg()[0]
    for system in args.systems:
        index = work / system
        log(f"[{size:,}] building {system}")
        inputs = sources if system == "clonus_index" else work / "passages.jsonl"
        results[system] = run_worker(["build", system, str(inputs), str(index)], work / f"tmp-{system}")
        if system == "clonus_index":
            passages = results[system]["passages"]
        qfile = work / f"queries-{system}.json"
        qfile.write_text(json.dumps({**queries, "threads": system == "clonus_index"}))
        log(f"[{size:,}] searching {system}")
        results[system].update(run_worker(["query", system, str(index), str(qfile)], work / f"tmp-{system}"))
        if system == "clonus_index":
            log(f"[{size:,}] clonus-index search from the command line")
            results[system]["cli_s"] = cli_seconds(index, queries["short"][:args.cli_runs])
            log(f"[{size:,}] adding and removing one article (incremental.py)")
            new_article = corpora.generated_corpus(articles + 1)[-1]
            results[system]["incremental"] = run_worker(
                [str(index), str(sources), str(new_article)], work / "tmp-incremental", "incremental.py")
    for r in results.values():
        r["passages_per_s"] = passages / r["build_s"]
    return {"size": size, "articles": articles, "passages": passages, "systems": results,
            "load": [load, os.getloadavg()[0]]}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _ms(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _cpu(r: dict) -> str:
    if "short_cpu_median_ms" not in r:
        return "–"
    p95 = {k: _ms(r[f"{k}_cpu_p95_ms"]) if f"{k}_cpu_p95_ms" in r else "–" for k in ("short", "chat")}
    return (f"{_ms(r['short_cpu_median_ms'])} / {p95['short']} ; "
            f"{_ms(r['chat_cpu_median_ms'])} / {p95['chat']}")


def size_table(run: dict) -> str:
    """The markdown tables for one size."""
    s = run["systems"]
    out = [f"### {run['passages']:,} passages ({run['articles']:,} generated articles)", "",
           "| system | build s (CPU s) | passages/s | build peak MB | disk peak / final MB | open s "
           "| short median / p95 ms | chat median / p95 ms | CPU ms short median / p95 ; chat median / p95 | searching RSS MB |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in s.items():
        cpu = f" ({r['build_cpu_s']:,.1f})" if "build_cpu_s" in r else ""
        out.append(f"| {name} | {r['build_s']:,.1f}{cpu} | {r['passages_per_s']:,.0f} | {r['peak_mb']:,.0f} "
                   f"| {r['disk_peak_mb']:,.0f} / {r['index_mb']:,.0f} | {r['open_s']:.2f} "
                   f"| {_ms(r['short_median_ms'])} / {_ms(r['short_p95_ms'])} "
                   f"| {_ms(r['chat_median_ms'])} / {_ms(r['chat_p95_ms'])} | {_cpu(r)} | {r['rss_mb']:,.0f} |")
    ours = s.get("clonus_index")
    if ours and len(s) > 1:
        out += ["", "| clonus_index ÷ | build s | open s | short median | short p95 | chat median | chat p95 | RSS |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        keys = ("build_s", "open_s", "short_median_ms", "short_p95_ms", "chat_median_ms", "chat_p95_ms", "rss_mb")
        for name, r in s.items():
            if name != "clonus_index":
                out.append(f"| {name} | " + " | ".join(f"{ours[k] / max(r[k], 1e-6):,.1f}×" for k in keys) + " |")
    if ours:
        out += ["", f"clonus_index: CLI `search` end to end {ours['cli_s']:.2f} s (median of "
                    f"{ours.get('cli_runs', 3)}); one opened Index answers {ours['qps_1_thread']:.1f} "
                    f"queries/s on one thread and {ours['qps_2_threads']:.1f} on two "
                    f"({ours['qps_2_threads'] / ours['qps_1_thread']:.2f}×)."]
        if "qps_workers_2_threads" in ours:
            out.append(f"Opened with `workers=2` (searches in two worker processes): "
                       f"{ours['qps_workers_1_thread']:.1f} queries/s on one thread, "
                       f"{ours['qps_workers_2_threads']:.1f} on two "
                       f"({ours['qps_workers_2_threads'] / ours['qps_workers_1_thread']:.2f}×; "
                       f"{ours['qps_workers_2_threads'] / ours['qps_1_thread']:.2f}× one thread "
                       f"without workers).")
        if "cpu_ms_in_process" in ours:
            pooled = ours["cpu_ms_workers_caller"] + ours["cpu_ms_workers_worker"]
            out.append(f"CPU per short question: {ours['cpu_ms_in_process']:.1f} ms in-process; "
                       f"with workers {ours['cpu_ms_workers_caller']:.1f} ms in the caller + "
                       f"{ours['cpu_ms_workers_worker']:.1f} ms in a worker, so on two idle cores "
                       f"two threads answer about {2 * ours['cpu_ms_in_process'] / pooled:.2f}× "
                       f"as many searches as one thread without workers (load-independent).")
    if "load" in run:
        out.append(f"Load average (1 minute) when this size started / ended: "
                   f"{run['load'][0]:.1f} / {run['load'][1]:.1f} (on {os.cpu_count()} CPUs).")
    return "\n".join(out)


def curve_table(runs: list[dict]) -> str:
    """One row per size: how each cost grows, the baselines' short-query median beside."""
    systems = [n for n in runs[0]["systems"] if n != "clonus_index"]
    out = ["| passages | build passages/s | open s | short median / p95 ms | chat median / p95 ms "
           "| searching RSS MB | " + " | ".join(f"{n} short median ms" for n in systems) + " |",
           "| ---: " * (6 + len(systems)) + "|"]
    for run in runs:
        r = run["systems"].get("clonus_index")
        if not r:
            continue
        out.append(f"| {run['passages']:,} | {r['passages_per_s']:,.0f} | {r['open_s']:.2f} "
                   f"| {_ms(r['short_median_ms'])} / {_ms(r['short_p95_ms'])} "
                   f"| {_ms(r['chat_median_ms'])} / {_ms(r['chat_p95_ms'])} | {r['rss_mb']:,.0f} | "
                   + " | ".join(_ms(run["systems"][n]["short_median_ms"]) for n in systems) + " |")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES),
                        help="corpus sizes in passages (default: 3000 10000 30000 100000)")
    parser.add_argument("--smoke", action="store_true",
                        help="a seconds-long run: 300 passages, few queries (for CI)")
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS),
                        help="systems to measure (clonus_index always: the baselines index its passages)")
    parser.add_argument("--short", type=int, default=60, help="short questions per size")
    parser.add_argument("--chat", type=int, default=30, help="chat-length messages per size")
    parser.add_argument("--cli-runs", type=int, default=3, help="timed CLI searches per size")
    parser.add_argument("--json", type=Path, help="also write the raw figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the built indexes (their folder is printed)")
    parser.add_argument("--from-json", type=Path, metavar="FILE", help="print the tables of a saved --json run")
    args = parser.parse_args()
    if args.from_json:
        runs = json.loads(args.from_json.read_text())
        print("\n\n".join(size_table(run) for run in runs))
        print("\n### Incremental updates\n\n" + incremental.table(runs))
        if len(runs) > 1:
            print("\n### Scale curve\n\n" + curve_table(runs))
        return 0
    if args.smoke:
        args.sizes, args.short, args.chat, args.cli_runs = [300], 8, 4, 1
    args.systems = [s for s in SYSTEMS if s in args.systems or s == "clonus_index"]
    missing = [m for m in ("bm25s", "Stemmer") if "bm25s" in args.systems and not _importable(m)]
    if missing:
        parser.error(f"{', '.join(missing)} not installed; pip install '.[bench]' or leave bm25s out of --systems")
    runs = []
    print(f"Scale benchmark: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; every system "
          f"measured in this run, each build and search session in a fresh process.\n", flush=True)
    for size in args.sizes:
        work = Path(tempfile.mkdtemp(dir=corpora.cache_dir(), prefix=f"scale-{size}-"))
        try:
            run = measure(size, args, work)
        finally:
            if args.keep:
                log(f"indexes kept in {work}")
            else:
                shutil.rmtree(work, ignore_errors=True)
        run["systems"]["clonus_index"]["cli_runs"] = args.cli_runs
        runs.append(run)
        print(size_table(run) + "\n", flush=True)
        print("Incremental updates (a copy of the clonus_index index; wall s, CPU s of the "
              "updating process in brackets):\n\n" + incremental.table([run]) + "\n", flush=True)
        if args.json:
            args.json.write_text(json.dumps(runs, indent=1))
    if len(runs) > 1:
        print("### Scale curve (clonus_index, with the baselines' short-query median)\n")
        print(curve_table(runs))
    return 0


def _importable(module: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    sys.exit(main())
