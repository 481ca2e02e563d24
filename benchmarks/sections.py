#!/usr/bin/env python3
"""Section accuracy per paragraph on articles written blind, for each form they come in.

    python benchmarks/sections.py /work/blind/set1          # a folder of blind articles
    python benchmarks/sections.py tests/data/blind/set1 tests/data/blind/set2 --misses

Each article SLUG comes as SLUG.html, SLUG.flat.txt (flattened text) and
SLUG.txt (a plain text article), with SLUG.truth.jsonl giving every
paragraph's true section ({"start": "first words...", "section": "Causes"})
and SLUG.meta.json its kind. A truth row is matched to the passage that holds
its start text (whitespace and case aside; its first 40 characters, else
its first 20, for a paragraph split after a short first sentence); its section is right when the
passage's section kind (``Passage.kind``, decided at ingestion; in a release
without it, the kind its section's name gives) is the true one. A row no passage holds counts as wrong.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clonus_index import ingest  # noqa: E402  (path set above)
try:
    from clonus_index.sections import kind_of  # noqa: E402
except ImportError:  # a release before article kinds: the heading's kind, or the name
    from clonus_index.sections import classify_heading  # noqa: E402

    def kind_of(section: str) -> str:
        return classify_heading(section) or section

FORMS = (("html", ".html"), ("flattened", ".flat.txt"), ("plain", ".txt"))


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w%]+", " ", text.lower()).split())


def score_article(truth_path: Path, source: Path) -> tuple[int, int, list[str]]:
    """(right, total, misses) for one article in one form."""
    rows = [json.loads(line) for line in truth_path.read_text("utf-8").splitlines() if line.strip()]
    passages = ingest([source]).passages
    texts = [_norm(p.text) for p in passages]
    right, misses = 0, []
    cursor = 0
    for row in rows:
        found = None
        # A paragraph split into two passages after a short first sentence
        # ("Ibuprofen is not safe for everyone.") is held by the first.
        for key in (_norm(row["start"])[:40], _norm(row["start"])[:20]):
            for i in list(range(cursor, len(texts))) + list(range(0, cursor)):
                if key and key in texts[i]:
                    found = i
                    break
            if found is not None:
                break
        if found is None:
            misses.append(f"  not found: {row['start'][:50]!r} (true {row['section']})")
            continue
        cursor = found
        got = getattr(passages[found], "kind", "") or kind_of(passages[found].section)
        if got == row["section"]:
            right += 1
        else:
            misses.append(f"  {row['start'][:50]!r}: true {row['section']}, got {got}"
                          f" ({passages[found].section})")
    return right, len(rows), misses


def measure(folders: list[Path], show_misses: bool = False) -> dict[str, tuple[int, int]]:
    totals = {form: [0, 0] for form, _ in FORMS}
    for folder in folders:
        for truth in sorted(folder.glob("*.truth.jsonl")):
            slug = truth.name[:-len(".truth.jsonl")]
            meta_path = folder / f"{slug}.meta.json"
            meta = json.loads(meta_path.read_text("utf-8")) if meta_path.exists() else {}
            cells = []
            for form, suffix in FORMS:
                source = folder / f"{slug}{suffix}"
                if not source.exists():
                    cells.append(f"{form} -")
                    continue
                right, total, misses = score_article(truth, source)
                totals[form][0] += right
                totals[form][1] += total
                cells.append(f"{form} {right}/{total}")
                if show_misses and misses:
                    print(f"{slug} [{form}]", *misses, sep="\n")
            print(f"{folder.name}/{slug} ({meta.get('kind', '?')}, {meta.get('style', '?')}): "
                  + ", ".join(cells))
    print()
    print(f"{'form':10} {'right':>6} {'total':>6} {'accuracy':>9}")
    for form, (right, total) in totals.items():
        print(f"{form:10} {right:6d} {total:6d} {right / total if total else 0:9.3f}")
    return {form: (r, t) for form, (r, t) in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--misses", action="store_true", help="list every paragraph labelled wrong")
    args = parser.parse_args()
    measure(args.folders, args.misses)


if __name__ == "__main__":
    main()
