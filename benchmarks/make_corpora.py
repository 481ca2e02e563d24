#!/usr/bin/env python3
"""Benchmark corpora: synthetic health articles at any size, and MedQuAD as article pages.

    python benchmarks/make_corpora.py generate --articles 100     # prints the folder
    python benchmarks/make_corpora.py medquad [--limit-docs 200]  # HTML + flattened text + truth

Generated articles are written in the bundled article's flattened form (no
section headings, subsection headings kept, lists after a lead-in, a
reference list and a cite block) from the templates and word pools in
``generator_data.json``: each article is about its own condition (made-up
names from medical roots, eponyms, genes and drug names), drawn from one of
several specialties, so vocabulary and postings grow with the corpus as on a
real site. Article ``i`` is always the same text, so the corpus for N
articles is the first N files of the corpus for more.

MedQuAD (``../shared/medquad/MedQuAD-answers.tar.gz`` beside the repository, read
with ``tarfile``, never unpacked) becomes one HTML page per document (the
focus as ``h1``, one ``h2`` section per question type) and the same page as
flattened text with the headings dropped, plus truth: which page and section
answers each question, and each flattened paragraph's section.

Everything is cached in ``$CLONUS_BENCH_CACHE`` (default: a ``clonus-bench``
folder in the system temporary folder), never in the repository.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import shutil
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = json.loads((Path(__file__).parent / "generator_data.json").read_text(encoding="utf-8"))
GENERATOR_VERSION = 1
MEDQUAD_VERSION = 2
#: Passages the library makes of one generated article, measured on the first
#: 200 articles; used only to choose how many articles give N passages.
PASSAGES_PER_ARTICLE = 26.0

#: MedQuAD question types -> the section a reader expects them under, for
#: checking inferred sections of flattened text. None: no section of an
#: article's own set fits (clinical-trial notices, "considerations",
#: stages of a cancer, support groups); those paragraphs are not scored.
QTYPE_SECTIONS = {
    "information": "Overview", "frequency": "Overview",
    "symptoms": "Symptoms",
    "causes": "Causes", "genetic changes": "Causes", "inheritance": "Causes",
    "susceptibility": "Risk factors",
    "exams and tests": "Diagnosis",
    "treatment": "Treatment",
    "prevention": "Prevention",
    "complications": "Complications",
    "outlook": "Outlook",
    "research": None, "considerations": None, "stages": None, "support groups": None,
}


def cache_dir() -> Path:
    """Where corpora are kept: ``$CLONUS_BENCH_CACHE`` or a folder in the temp dir."""
    path = Path(os.environ.get("CLONUS_BENCH_CACHE") or Path(tempfile.gettempdir()) / "clonus-bench")
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- generated articles -------------------------------------------------------

def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(DATA["syllables"]) for _ in range(parts))


def _profile(i: int) -> dict:
    """What article ``i`` is about: its condition, specialty pools and made-up names."""
    rng = random.Random(f"article-{i}")
    name, spec = rng.choice(sorted(DATA["specialties"].items()))
    style = rng.random()
    root = rng.choice(spec["roots"])
    if style < 0.4:
        condition = root + rng.choice(DATA["suffixes"])
        if rng.random() < 0.5:
            condition = f"{rng.choice(DATA['qualifiers'])} {condition}"
    elif style < 0.75:
        condition = f"{_word(rng, 2).capitalize()}-{_word(rng, 2).capitalize()} {rng.choice(DATA['syndromes'])}"
    else:
        condition = f"{_word(rng, 3).capitalize()} {root}{rng.choice(DATA['suffixes'])}"
    drugs = [_word(rng, 2) + rng.choice(DATA["drug_stems"]) for _ in range(3)]
    first, pub = rng.choice(DATA["first_names"]), rng.choice(DATA["publishers"])
    return {
        "i": i, "specialty": name, "c": condition, "drug": drugs,
        "gene": [rng.choice("ABCDEFGHKLMNPRST") + rng.choice("ABCDEFGHKLMNPRST") + str(rng.randint(1, 99))],
        "eponym": [_word(rng, 2).capitalize()], "family": DATA["families"],
        "risk": DATA["risks"], "comp": DATA["complications"],
        "author": (first, _word(rng, 2).capitalize() + rng.choice(["son", "er", "ez", "ova", "i", ""])),
        "publisher": pub, "year": 2012 + i % 10, "month": 1 + i % 12, "day": 1 + i % 28,
        **{k: spec[k] for k in ("part", "sym", "cause", "test", "therapy", "dclass")},
    }


def _fill(template: str, prof: dict, rng: random.Random) -> str:
    used: dict[str, list[str]] = {}

    def value(match: re.Match) -> str:
        slot = match.group(1)
        base = re.sub(r"\d+$", "", slot.lower())
        if base == "c":
            text = prof["c"]
        elif base in ("n", "age"):
            text = str(rng.randint(2, 9) if base == "n" else rng.choice([20, 30, 40, 50, 60, 65]))
        else:
            pool = [v for v in prof[base] if v not in used.setdefault(base, [])] or prof[base]
            text = rng.choice(pool)
            used[base].append(text)
        if slot[0].isupper():
            return text[0].upper() + text[1:]
        if rng.random() < 0.12 and base not in ("n", "age"):
            return f" {text} "  # a link, as flattened pages keep it: "muscle  fatigue ,"
        return text

    return re.sub(r"\{(\w+)\}", value, template)


def _paragraphs(kind: str, prof: dict, rng: random.Random, count: int) -> list[str]:
    deck = rng.sample(DATA["sections"][kind], k=len(DATA["sections"][kind]))
    out = []
    for _ in range(count):
        k = rng.choice([1, 2, 2])
        picked, deck = deck[:k], deck[k:]
        if picked:
            out.append(" ".join(_fill(t, prof, rng) for t in picked))
    return out


def _list(kind: str, prof: dict, rng: random.Random) -> str:
    pool = {"Symptoms": "sym", "Causes": "cause", "Risk factors": "risk", "Prevention": "risk"}.get(kind, "part")
    items = rng.sample(prof[pool], k=rng.randint(3, 6))
    if kind == "Types":
        items = [f"{rng.choice(DATA['qualifiers'])} {prof['c']}" for _ in range(rng.randint(2, 4))]
    if kind == "Prevention":
        items = [f"avoiding {x}" for x in items]
    lead = _fill(DATA["lead_ins"][kind], prof, rng)
    return lead + "   " + "   ".join(x[0].upper() + x[1:] for x in items)


def generated_article(i: int) -> str:
    """The flattened text of generated article ``i`` (always the same for the same ``i``)."""
    prof = _profile(i)
    rng = random.Random(f"text-{i}")
    title = _fill(rng.choice(DATA["titles"]), prof, rng).replace("  ", " ").strip()
    blocks = _paragraphs("Overview", prof, rng, rng.randint(2, 3))
    blocks.append(_fill(rng.choice(DATA["sections"]["Roadmap"]), prof, rng))
    optional = {"Types": 0.5, "Risk factors": 0.5, "Prevention": 0.6, "Complications": 0.5}
    for kind in ("Types", "Symptoms", "Causes", "Risk factors", "Diagnosis", "Treatment",
                 "Prevention", "Complications", "Outlook"):
        if rng.random() > optional.get(kind, 1.0):
            continue
        blocks += _paragraphs(kind, prof, rng, rng.randint(1, 3) if kind in optional else rng.randint(2, 4))
        if kind in DATA["lead_ins"] and rng.random() < 0.7:
            blocks.append(_list(kind, prof, rng))
        if kind == "Treatment":
            subs = rng.sample(["Medication", "Therapy", "Surgery", "Home remedies"], k=rng.randint(2, 4))
            for sub in subs:
                heading = {"Medication": rng.choice(prof["dclass"]),
                           "Therapy": rng.choice(prof["therapy"])}.get(sub, sub)
                blocks.append(heading[0].upper() + heading[1:])
                blocks += _paragraphs(sub, prof, rng, rng.randint(1, 2))
    refs = []
    for _ in range(rng.randint(2, 5)):
        who = f"{_word(rng, 2).capitalize()}, {rng.choice('ABCDEFGHJKLMNPRST')}."
        ref_title = _fill(rng.choice(["{C}: A review of {therapy}", "{Test} in the diagnosis of {c}",
                                      "Long-term outcomes of {c} [Review]", "{Drug} for {sym}"]),
                          prof, rng).replace("  ", " ").strip()
        refs.append(f"{who}, &amp; {_word(rng, 2).capitalize()}, {rng.choice('ABCDEFGH')}. "
                    f"({rng.randint(1995, 2019)}). {ref_title}.  {rng.choice(DATA['journals'])} ,  "
                    f"{rng.randint(1, 60)} ({rng.randint(1, 12)}), {rng.randint(1, 400)}–{rng.randint(401, 900)}.")
    first, last = prof["author"]
    site, org = prof["publisher"]
    months = ["January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December"]
    y, m, d = prof["year"], prof["month"], prof["day"]
    url = f"https://www.example-health.org/articles/{100000 + i}.php"
    cite = (f"Please use one of the following formats to cite this article in your essay, paper or report:"
            f"   MLA  {last}, {first}. \"{title}.\"  {site} . {org}, {d} {months[m - 1][:3]}. {y}. Web. "
            f"6 Sep. 2019. &lt;{url}&gt;    APA  {last}, {first[0]}. ({y}, {months[m - 1]} {d}). "
            f"\"{title}.\"  {site} .  Please note: If no author information is provided, the source is cited instead.  ")
    return " " + "  ".join(blocks) + "    \n " + "  ".join(refs) + "  " + cite


def generated_corpus(articles: int) -> list[Path]:
    """The first ``articles`` generated article files (written once, then cached)."""
    folder = cache_dir() / f"generated-v{GENERATOR_VERSION}"
    folder.mkdir(exist_ok=True)
    paths = [folder / f"article-{i:06d}.txt" for i in range(articles)]
    for i, path in enumerate(paths):
        if not path.exists():
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(generated_article(i), encoding="utf-8")
            tmp.replace(path)
    return paths


def articles_for(passages: int) -> int:
    """How many generated articles give about ``passages`` passages."""
    return max(1, round(passages / PASSAGES_PER_ARTICLE))


def generated_queries(articles: int, short: int = 60, chat: int = 30) -> dict[str, list[str]]:
    """Short questions and chat-length messages about articles of a corpus of ``articles``."""
    rng = random.Random(f"queries-{articles}")

    def make(templates: list[str], n: int) -> list[str]:
        out = []
        for _ in range(n):
            prof = _profile(rng.randrange(articles))
            rel, pro, pos = rng.choice(DATA["relatives"])
            prof = {**prof, "rel": [rel], "pro": [pro], "pos": [pos]}
            out.append(" ".join(_fill(rng.choice(templates), prof, rng).split()))
        return out

    return {"short": make(DATA["short_questions"], short), "chat": make(DATA["chat_messages"], chat)}


# -- MedQuAD --------------------------------------------------------------------

def medquad_archive() -> Path | None:
    """The MedQuAD archive beside the repository (``../shared/medquad/``), or None."""
    for base in (ROOT.parent / "shared" / "medquad", ROOT.parent.parent / "shared" / "medquad"):
        if (base / "MedQuAD-answers.tar.gz").is_file():
            return base / "MedQuAD-answers.tar.gz"
    return None


def _pieces(answer: str) -> list[tuple[str, str]]:
    """An answer's paragraphs and list items, in order: ("p"|"li", text)."""
    out = []
    item = False  # a dash alone on its line marks the next piece as a list item
    for raw in re.split(r"\s*\n\s*|\s{3,}", answer):
        text = " ".join(raw.split())
        if text == "-":
            item = True
        elif text.startswith("- "):
            out.append(("li", text[2:].strip()))
        elif text:
            out.append(("li" if item else "p", text))
            item = False
    return [(k, t) for k, t in out if t]


def heading_for(qtype: str) -> str:
    """The ``h2`` a question type becomes: "exams and tests" -> "Exams and tests"."""
    return qtype[0].upper() + qtype[1:]


def medquad_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The archive's documents (``COLLECTION/NAME.xml``), in name order."""
    return sorted((m for m in tar.getmembers() if m.isfile() and m.name.endswith(".xml")),
                  key=lambda m: m.name)


def _medquad_docs(archive: Path, limit: int | None):
    with tarfile.open(archive) as tar:
        members = medquad_members(tar)
        if limit:
            members = members[:: max(1, len(members) // limit)][:limit]  # spread over collections
        for m in members:
            root = ET.fromstring(tar.extractfile(m).read())
            collection = m.name.split("/")[0].split("_")[1]
            doc_id = f"{collection}-{Path(m.name).stem}"
            pairs = [(qa.find("Question").get("qtype"), (qa.findtext("Question") or "").strip(),
                      _pieces(qa.findtext("Answer") or "")) for qa in root.iter("QAPair")]
            yield doc_id, (root.findtext("Focus") or doc_id).strip(), root.get("url", ""), \
                [p for p in pairs if p[2]]


def _html_page(focus: str, url: str, pairs) -> str:
    out = [f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(focus)}</title>",
           f"<link rel=\"canonical\" href=\"{html.escape(url)}\"></head><body><article>",
           f"<h1>{html.escape(focus)}</h1>"]
    for qtype, _, pieces in pairs:
        out.append(f"<h2>{html.escape(heading_for(qtype))}</h2>")
        in_list = False
        for kind, text in pieces:
            if (kind == "li") != in_list:
                out.append("<ul>" if kind == "li" else "</ul>")
                in_list = kind == "li"
            out.append(f"<{kind}>{html.escape(text)}</{kind}>")
        if in_list:
            out.append("</ul>")
    return "\n".join(out + ["</article></body></html>"])


def _flat_text(pairs) -> str:
    """The page flattened: headings gone, paragraphs two spaces apart, items three."""
    parts = []
    for _, _, pieces in pairs:
        for kind, text in pieces:
            parts.append(("   " if kind == "li" and parts else "  ") + text)
    return " " + "".join(parts).lstrip() + "  "


def medquad_corpus(limit: int | None = None) -> Path | None:
    """Convert MedQuAD once; returns the folder (``html/``, ``flat/``, ``truth.json``) or None."""
    archive = medquad_archive()
    if archive is None:
        return None
    folder = cache_dir() / f"medquad-v{MEDQUAD_VERSION}-{limit or 'all'}"
    if (folder / "truth.json").exists():
        return folder
    tmp = Path(tempfile.mkdtemp(dir=cache_dir(), prefix=".medquad-"))
    (tmp / "html").mkdir()
    (tmp / "flat").mkdir()
    truth = {"questions": [], "paragraphs": {}}
    for doc_id, focus, url, pairs in _medquad_docs(archive, limit):
        if not pairs:
            continue
        (tmp / "html" / f"{doc_id}.html").write_text(_html_page(focus, url, pairs), encoding="utf-8")
        (tmp / "flat" / f"{doc_id}.txt").write_text(_flat_text(pairs), encoding="utf-8")
        for qtype, question, _ in pairs:
            truth["questions"].append({"q": question, "doc": doc_id, "qtype": qtype,
                                       "section": heading_for(qtype)})
        truth["paragraphs"][doc_id] = [[text, QTYPE_SECTIONS.get(qtype, None), qtype]
                                       for qtype, _, pieces in pairs for _, text in pieces]
    (tmp / "truth.json").write_text(json.dumps(truth), encoding="utf-8")
    try:
        tmp.rename(folder)
    except OSError:  # another run converted it first: use theirs
        shutil.rmtree(tmp)
    return folder


def no_medquad_message() -> str:
    return ("MedQuAD not found (expected ../shared/medquad/MedQuAD-answers.tar.gz beside the "
            "repository); skipping the MedQuAD parts")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write N generated articles and print their folder")
    gen.add_argument("--articles", type=int, default=100)
    gen.add_argument("--show", type=int, metavar="I", help="print article I instead")
    med = sub.add_parser("medquad", help="convert MedQuAD and print the folder")
    med.add_argument("--limit-docs", type=int, help="only this many documents, spread over collections")
    args = parser.parse_args()
    if args.command == "generate":
        if args.show is not None:
            print(generated_article(args.show))
        else:
            print(generated_corpus(args.articles)[0].parent)
        return 0
    folder = medquad_corpus(args.limit_docs)
    if folder is None:
        print(no_medquad_message(), file=sys.stderr)
        return 0
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
