#!/usr/bin/env python3
"""Ingestion speed and memory on generated inputs of growing size, one process per input.

    python benchmarks/ingest_speed.py                  # the default sizes
    python benchmarks/ingest_speed.py --sizes 0.1 1 4  # flattened text of these MB
    python benchmarks/ingest_speed.py --files 200      # a many-file build, 1 vs 2 workers

Each input is ingested in a fresh Python process so its peak memory
(``ru_maxrss``) is its own. The inputs are built from the bundled article's
paragraphs, renamed so no two copies read alike, and the two pathological
pages of the hardening review: an HTML page of 10,000 ``<li>`` with no
``<h2>``, and a text file of 20,000 short paragraphs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = ROOT / "source" / "mnt-what-is-clonus.txt"


def flattened(megabytes: float) -> str:
    """Flattened article text of about ``megabytes`` MB: the seed body, repeated with new words."""
    text = SEED.read_text("utf-8")
    body = text[:text.index("Boyraz, I.")]  # the body, without references and cite block
    out, i = [], 0
    size = 0
    while size < megabytes * 1_000_000:
        chunk = body.replace("clonus", f"clonus{i}").replace("Clonus", f"Clonus{i}")
        out.append(chunk)
        size += len(chunk) + 2
        i += 1
    return "  ".join(out)


def many_items_html(items: int = 10_000) -> str:
    lis = "".join(f"<li>Item {i} is one more thing a person with the condition may notice.</li>"
                  for i in range(items))
    return f"<html><body><article><h1>Many items</h1><p>Intro text here.</p><ul>{lis}</ul></article></body></html>"


def short_paragraphs(count: int = 20_000) -> str:
    return "  ".join(f"Paragraph {i} says the muscles may jerk a little." for i in range(count))


def _measure(path: Path) -> dict:
    code = (
        "import json, resource, sys, time\n"
        "from clonus_index import ingest\n"
        "t = time.perf_counter()\n"
        "c = ingest(sys.argv[1:])\n"
        "dt = time.perf_counter() - t\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps({'seconds': dt, 'passages': len(c.passages), 'peak_mb': rss}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    return json.loads(out.stdout)


def _many_files(n: int, folder: Path) -> None:
    text = flattened(0.02)
    for i in range(n):
        (folder / f"a{i:04d}.txt").write_text(text.replace("clonus0", f"zeta{i}"), "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=float, nargs="*", default=[0.25, 0.5, 1.0, 2.0])
    parser.add_argument("--files", type=int, default=0,
                        help="also build N files of 20 KB each with 1 and with 2 workers")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        inputs = [(f"flattened {mb:g} MB", "flat.txt", flattened(mb)) for mb in args.sizes]
        inputs += [("HTML, 10,000 <li>, no <h2>", "items.html", many_items_html()),
                   ("20,000 short paragraphs", "short.txt", short_paragraphs())]
        for name, filename, text in inputs:
            path = tmp_path / filename
            path.write_text(text, "utf-8")
            m = _measure(path)
            rows.append((name, len(text.encode()) / 1e6, m))
        print(f"{'input':32} {'MB':>6} {'seconds':>8} {'passages':>9} {'passages/s':>11} {'peak MB':>8}")
        for name, mb, m in rows:
            print(f"{name:32} {mb:6.2f} {m['seconds']:8.2f} {m['passages']:9d} "
                  f"{m['passages'] / m['seconds']:11.0f} {m['peak_mb']:8.0f}")
        if args.files:
            folder = tmp_path / "many"
            folder.mkdir()
            _many_files(args.files, folder)
            print(f"\n{args.files} files of 20 KB:")
            for workers in ("1", "2"):
                env_before = os.environ.get("CLONUS_INDEX_WORKERS")
                os.environ["CLONUS_INDEX_WORKERS"] = workers
                m = _measure(folder)
                if env_before is None:
                    del os.environ["CLONUS_INDEX_WORKERS"]
                else:
                    os.environ["CLONUS_INDEX_WORKERS"] = env_before
                print(f"  workers={workers}: {m['seconds']:.2f} s, {m['passages']} passages, "
                      f"{m['passages'] / m['seconds']:.0f} passages/s, peak {m['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
