"""Output: hits, passages and index summaries as terminal text or JSON.

The CLI's last step; the library's objects already know their JSON shape
(``to_dict()``), so this module only lays them out for people. Text from
articles, file names and queries is made ``printable`` before it is shown:
a file name or a heading must not be able to drive the reader's terminal.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from typing import Any, Iterable

import click

from .models import Hit, Passage

__all__ = ["dumps", "format_hit", "format_passage", "format_info", "style_marks", "place_of",
           "printable"]

_MARK = re.compile(r"\*\*(.+?)\*\*")

#: What a terminal acts on instead of showing: CSI sequences ("ESC [ 31 m"),
#: terminated string commands (OSC "ESC ] 0 ; title BEL", DCS, APC, ...),
#: other escape sequences ("ESC ( B"), and their one-byte C1 forms.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]")
#: Characters never shown: C0 controls but tab and newline, DEL, C1 controls,
#: and the bidirectional embeddings, overrides and isolates that can make
#: text read in another order than it is written (U+202A-202E, U+2066-2069).
_NEVER_SHOWN = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_NEVER_SHOWN}]")
#: What JSON output escapes beyond what ``json`` does (C0): raw C1 controls,
#: bidi controls, line separators and lone surrogates become ``\\uXXXX``.
_JSON_RAW = re.compile(f"[{_NEVER_SHOWN}\u2028\u2029\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: Any, lines: bool = False) -> str:
    """``text`` safe to print on a terminal: escape sequences and control characters removed.

    With ``lines``, newlines and tabs stay; otherwise they become spaces, so a
    one-line field stays one line. Undecodable bytes of a file name or of a
    command-line argument (lone surrogates) are shown as ``\\xNN``.
    """
    text = _ESCAPE_SEQUENCE.sub("", str(text))
    if not lines:
        text = text.replace("\n", " ").replace("\t", " ")
    text = _CONTROL.sub("", text)
    return _SURROGATE.sub(_undecodable, text)


def _undecodable(m: re.Match) -> str:
    code = ord(m.group())
    return f"\\x{code - 0xdc00:02x}" if 0xdc80 <= code <= 0xdcff else "\ufffd"


def dumps(data: Any, pretty: bool = True) -> str:
    """JSON as the CLI prints it: UTF-8 text, indented unless a JSON Lines record.

    The data stays exact, but no raw control character is ever printed: what
    ``json`` leaves raw (C1 and bidi controls, lone surrogates) is escaped too.
    """
    text = json.dumps(data, ensure_ascii=False, indent=2 if pretty else None)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def style_marks(text: str) -> str:
    """Turn ``**term**`` marks into colour; click drops the colour when not on a terminal."""
    return _MARK.sub(lambda m: click.style(m.group(1), fg="yellow", bold=True), text)


def _wrap(text: str, indent: str = "   ") -> str:
    width = max(40, min(100, shutil.get_terminal_size((88, 20)).columns) - len(indent))
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return "\n".join(textwrap.fill(p, width=width, initial_indent=indent,
                                   subsequent_indent=indent, break_long_words=False,
                                   break_on_hyphens=False)
                     for p in paragraphs)


def place_of(passage: Passage) -> str:
    """"Treatment > Botox injections": where a passage sits in its article."""
    return printable(passage.section + (f" > {passage.subsection}" if passage.subsection else ""))


def _sources_line(passage: Passage) -> str:
    article = passage.article
    line = f"   Source: {printable(article.citation('apa'))}"
    refs = passage.references
    if refs:
        line += "\n   Supported by: " + "; ".join(printable(r.short()) for r in refs)
    return line


def format_hit(hit: Hit) -> str:
    """One hit for a person: rank, score, place, highlighted text, short citation."""
    p = hit.passage
    head = click.style(f"{hit.rank}. {place_of(p)}", bold=True)
    meta = click.style(f"  score {hit.score:.2f}  {printable(p.id)}", dim=True)
    lines = [head + meta, style_marks(_wrap(printable(hit.highlights, lines=True))),
             _sources_line(p)]
    if hit.explanation:
        ex = hit.explanation
        if "factors" in ex:  # a lexical match (a passage only the model found has none)
            matched = ", ".join(f"{f}: {' '.join(ts)}" for f, ts in ex["matched"].items()) or "nothing"
            factors = "".join(f" x {name} {value}" for name, value in ex["factors"].items())
            lines.append(click.style(printable(f"   Matched {matched}; BM25F {ex['bm25f']}{factors} "
                                               f"= {ex['score']}"), dim=True))
        if "semantic" in ex:
            lines.append(click.style(printable(semantic_line(ex["semantic"])), dim=True))
    return "\n".join(lines)


def semantic_line(part: dict) -> str:
    """What fusion made of a hit, for ``--explain``: the lexical share plus the model's."""
    if part.get("similarity") is None:
        return f"   Semantic: lexical rank {part['lexical_rank']}, after the fused candidates"
    lexical = (f"lexical {part['lexical']} (rank {part['lexical_rank']})"
               if part.get("lexical_rank") else "lexical 0 (found by the model only)")
    return (f"   Semantic: {lexical} + model {part['dense']} (similarity {part['similarity']}, "
            f"rank {part['similarity_rank']}; weight {part['dense_weight']} at lexical "
            f"confidence {part['confidence']}) = {part['fused']}")


def format_passage(passage: Passage) -> str:
    """A whole passage with its provenance, for ``show``."""
    article = passage.article
    lines = [
        click.style(f"{printable(passage.id)}  {place_of(passage)}", bold=True),
        f"   Article: {printable(article.title)} (passage {passage.position}, "
        f"characters {passage.start}-{passage.end})",
        _wrap(printable(passage.text, lines=True)),
        f"   APA: {printable(article.citation('apa'))}",
        f"   MLA: {printable(article.citation('mla'))}",
    ]
    for link in passage.links:
        ref = article.reference(link.reference_id)
        if ref is not None:
            lines.append(printable(f"   Reference ({link.score:.2f}, on {', '.join(link.terms)}): "
                                   f"{ref.raw}"))
    return "\n".join(lines)


def format_info(info: dict) -> str:
    """The ``info`` summary as aligned "key: value" lines."""
    lines = [f"Index:           {info['path']}",
             f"Schema version:  {info['schema_version']}",
             f"Built:           {info['built']}",
             f"Articles:        {len(info['articles'])}",
             f"Passages:        {info['passages']}",
             f"References:      {info['references']}",
             f"Sections:        {', '.join(info['sections'])}"]
    vectors = info.get("semantic")
    if vectors:
        state = "" if vectors["available"] else (
            '; searches are lexical until the extra is installed: '
            'pip install "clonus-index[semantic]"')
        lines.append(f"Semantic:        vectors of {vectors['passages']} passages "
                     f"({vectors['model']}){state}")
    for a in info["articles"]:
        lines.append(f"  {a['id']}: {a['title']} ({a['passages']} passages, "
                     f"{a['references']} references) from {a['source']}")
    return "\n".join(printable(line) for line in lines)


def format_report(report) -> str:
    """An evaluation report: a table per kind, then the misses with their rank."""
    rows = [("kind", "n", "s@1", "s@3", "MRR@10")]
    # One kind only (often the "all" that questions without a kind get) would
    # repeat the total; beside real kinds, those questions are "(no kind)".
    kinds = list(report.by_kind.items()) if len(report.by_kind) > 1 else []
    kinds = [("(no kind)" if kind == "all" else kind, m) for kind, m in kinds]
    for kind, m in kinds + [("all", report.overall)]:
        rows.append((kind, str(m["questions"]), f"{m['success@1']:.3f}",
                     f"{m['success@3']:.3f}", f"{m['mrr@10']:.3f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                       enumerate(zip(row, widths))) for row in rows]
    misses = report.misses
    if misses:
        lines.append("")
        lines.append(f"Misses ({len(misses)}):")
        for o in misses:
            where = f"rank {o.rank}" if o.rank else "not in top 10"
            lines.append(printable(f"  {where:>13}  [{o.question.kind}] {o.question.q}"))
    return "\n".join(lines)


def passage_lines(passages: Iterable[Passage]) -> Iterable[str]:
    """One line per passage: id, place, opening words."""
    for p in passages:
        opening = " ".join(printable(p.text).split())
        if len(opening) > 70:
            opening = opening[:69].rsplit(" ", 1)[0] + "\u2026"
        yield f"{printable(p.id)}\t{place_of(p)}\t{opening}"
