#!/usr/bin/env python3
"""Section accuracy on MedQuAD articles flattened as the library reads them (headings dropped).

    python benchmarks/medquad_sections.py                 # 40 documents per collection
    python benchmarks/medquad_sections.py --per 100 --misses

Reads ``../shared/medquad/MedQuAD-answers.tar.gz`` (or ``--archive``). Each
document becomes one flattened article: its answers in order, paragraphs
two spaces apart, list items three, inner headings kept as short lines, the
questions (the section headings) dropped. A QAPair's question type gives
its paragraphs' true section: information and frequency are Overview,
symptoms Symptoms, causes, inheritance and genetic changes Causes,
susceptibility Risk factors, exams and tests Diagnosis, treatment Treatment,
prevention Prevention, complications Complications, outlook Outlook; pairs
of other types (research, considerations, stages, support) are left out.
Scored as ``benchmarks/sections.py`` scores the blind articles.

``medquad.py`` measures sections of flattened MedQuAD too, on its own
conversion (``make_corpora.py``: every document, headings inside answers not
kept, each paragraph's section by the passages holding its text); this one
keeps its sample (``--per`` documents of each collection but GARD) and its
scorer, so that its figures in the README can be measured again.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import make_corpora as corpora  # noqa: E402  (the path must be set first)
import sections as bench  # noqa: E402  (benchmarks/sections.py: the blind articles' scorer)

#: GARD's symptom answers are tables of phenotype terms, not prose.
SKIP_COLLECTIONS = ("2_GARD_QA",)


def _units(answer: str) -> list[tuple[str, bool]]:
    """(text, is_item) for each paragraph and list item of an answer."""
    out = []
    for para in re.split(r"\n\s*\n", answer):
        para = " ".join(para.split())
        if not para:
            continue
        if para.startswith("- "):
            out += [(item.strip(), True) for item in re.split(r"(?:^|\s)- ", para) if item.strip()]
        else:
            head, *items = re.split(r"\s+- (?=\S)", para)
            out.append((head, False))
            out += [(item.strip(), True) for item in items if item.strip()]
    return out


def convert(xml: bytes) -> tuple[str, str, list[dict]] | None:
    """(title, flattened text, truth rows) of one MedQuAD document, or None when it has no prose."""
    root = ET.fromstring(xml)
    title = (root.findtext("Focus") or "").strip()
    parts: list[str] = []
    truth: list[dict] = []
    seen: set[str] = set()
    for qa in root.iter("QAPair"):
        section = corpora.QTYPE_SECTIONS.get(qa.find("Question").get("qtype", ""))
        answer = qa.findtext("Answer") or ""
        if section is None or not answer.strip() or answer in seen:
            continue
        seen.add(answer)
        for text, item in _units(answer):
            words = text.split()
            heading = not item and len(words) <= 6 and not re.search(r"[.:!?]$", text)
            parts.append(("   " if item else "  ") + text + ("   " if heading else ""))
            if not heading and len(words) >= 3:
                truth.append({"start": text[:60], "section": section})
    if len(truth) < 3:
        return None
    return title, " " + "".join(parts).strip() + " ", truth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--archive", type=Path, default=corpora.medquad_archive())
    parser.add_argument("--per", type=int, default=40, help="documents per collection")
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args()
    archive = args.archive or Path("../shared/medquad/MedQuAD-answers.tar.gz")
    if not archive.exists():
        sys.exit(f"{archive}: no MedQuAD archive; give its path with --archive")
    by_collection: dict[str, list] = defaultdict(list)
    with tarfile.open(archive) as tf:
        for m in corpora.medquad_members(tf):
            collection = m.name.split("/")[0]
            if collection in SKIP_COLLECTIONS or len(by_collection[collection]) >= args.per:
                continue
            converted = convert(tf.extractfile(m).read())
            if converted:
                by_collection[collection].append((Path(m.name).stem, converted))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "medquad"
        folder.mkdir()
        for collection, docs in sorted(by_collection.items()):
            for slug, (title, flat, truth) in docs:
                name = f"{collection}-{slug}"
                (folder / f"{name}.flat.txt").write_text(flat, "utf-8")
                (folder / f"{name}.truth.jsonl").write_text(
                    "".join(json.dumps(r) + "\n" for r in truth), "utf-8")
                (folder / f"{name}.meta.json").write_text(json.dumps({"title": title, "kind": "condition",
                                                                      "style": collection}), "utf-8")
        bench.measure([folder], args.misses)


if __name__ == "__main__":
    main()
