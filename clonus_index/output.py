"""Output: hits, passages and index summaries as terminal text or JSON.

The CLI's last step; the library's objects already know their JSON shape
(``to_dict()``), so this module only lays them out for people.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from typing import Any, Iterable

import click

from .models import Hit, Passage

__all__ = ["dumps", "format_hit", "format_passage", "format_info", "style_marks", "place_of"]

_MARK = re.compile(r"\*\*(.+?)\*\*")


def dumps(data: Any, pretty: bool = True) -> str:
    """JSON as the CLI prints it: UTF-8 text, indented unless a JSON Lines record."""
    return json.dumps(data, ensure_ascii=False, indent=2 if pretty else None)


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
    return passage.section + (f" > {passage.subsection}" if passage.subsection else "")


def _sources_line(passage: Passage) -> str:
    article = passage.article
    line = f"   Source: {article.citation('apa')}"
    refs = passage.references
    if refs:
        line += "\n   Supported by: " + "; ".join(r.short() for r in refs)
    return line


def format_hit(hit: Hit) -> str:
    """One hit for a person: rank, score, place, highlighted text, short citation."""
    p = hit.passage
    head = click.style(f"{hit.rank}. {place_of(p)}", bold=True)
    meta = click.style(f"  score {hit.score:.2f}  {p.id}", dim=True)
    lines = [head + meta, style_marks(_wrap(hit.highlights)), _sources_line(p)]
    if hit.explanation:
        ex = hit.explanation
        matched = ", ".join(f"{f}: {' '.join(ts)}" for f, ts in ex["matched"].items()) or "nothing"
        factors = "".join(f" x {name} {value}" for name, value in ex["factors"].items())
        lines.append(click.style(f"   Matched {matched}; BM25F {ex['bm25f']}{factors} "
                                 f"= {ex['score']}", dim=True))
    return "\n".join(lines)


def format_passage(passage: Passage) -> str:
    """A whole passage with its provenance, for ``show``."""
    article = passage.article
    lines = [
        click.style(f"{passage.id}  {place_of(passage)}", bold=True),
        f"   Article: {article.title} (passage {passage.position}, "
        f"characters {passage.start}-{passage.end})",
        _wrap(passage.text),
        f"   APA: {article.citation('apa')}",
        f"   MLA: {article.citation('mla')}",
    ]
    for link in passage.links:
        ref = article.reference(link.reference_id)
        if ref is not None:
            lines.append(f"   Reference ({link.score:.2f}, on {', '.join(link.terms)}): {ref.raw}")
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
    for a in info["articles"]:
        lines.append(f"  {a['id']}: {a['title']} ({a['passages']} passages, "
                     f"{a['references']} references) from {a['source']}")
    return "\n".join(lines)


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
            lines.append(f"  {where:>13}  [{o.question.kind}] {o.question.q}")
    return "\n".join(lines)


def passage_lines(passages: Iterable[Passage]) -> Iterable[str]:
    """One line per passage: id, place, opening words."""
    for p in passages:
        opening = " ".join(p.text.split())
        if len(opening) > 70:
            opening = opening[:69].rsplit(" ", 1)[0] + "\u2026"
        yield f"{p.id}\t{place_of(p)}\t{opening}"
