"""Plain text articles: text written as text, read into a ``Document``.

Part of reading (``reading.read_text`` dispatches here when blank lines part
the paragraphs). The accepted forms, each on lines of their own: a title
line, a byline ("By Sam Lee · May 17, 2022"), heading lines (short, no full
stop, "## Markdown" too), paragraphs (wrapped lines join up), list items
("- ", "* ", "• ", "1. ", "1) "), a "References" heading over the reference
list, and a "cite this article" block.
"""

from __future__ import annotations

import re
from typing import Optional

from .bylines import byline_name, written_date
from .citation import parse_date
from .cleaning import clean_text, is_dropped, normalise_spaces, unescape
from .flattened import split_cite
from .models import Block, Document
from .resources import load
from .sections import classify_heading

__all__ = ["is_plain_text", "read_plain", "HEADING_MAX_WORDS"]

#: A heading line is at most this many words (and 100 characters).
HEADING_MAX_WORDS = 12
#: A text is a plain text article when at least this many blank lines part it.
PLAIN_MIN_BREAKS = 2

_BREAK = re.compile(r"\n[ \t]*\n")
_ITEM = re.compile(r"^\s*(?:[-*\u2022\u2013]|\d{1,3}[.)])\s+(?=\S)")
_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"[.!;,][\"'\u201d\u2019)\]]*$")
_BYLINE_LEAD = re.compile(
    r"^(?:(?:written |words |story |reporting )?by\s|authors?:|(?:first )?(?:published|posted|updated)\b"
    r"|(?:page )?last (?:updated|modified|reviewed)\b|(?:medically )?reviewed by\b|fact[- ]checked by\b)", re.I)


def is_plain_text(text: str) -> bool:
    """True when blank lines part the text's paragraphs (flattened text has none)."""
    return len(_BREAK.findall(text.replace("\r\n", "\n").replace("\r", "\n"))) >= PLAIN_MIN_BREAKS


def _is_heading_line(line: str) -> bool:
    words = line.split()
    return (0 < len(words) <= HEADING_MAX_WORDS and len(line) <= 100
            and line[0].isupper() and not _SENTENCE_END.search(line)
            and not line.endswith(":"))


def _is_byline(line: str) -> bool:
    """A byline, a review note or a bare date line ("September 18, 2024 (updated ...)")."""
    if len(line.split()) > 30:
        return False
    return _BYLINE_LEAD.match(line) is not None or _any_date(re.sub(r"\s*\(.*\)$", "", line)) == (
        re.sub(r"\s*\(.*\)$", "", line).strip())


def read_plain(text: str, source: str = "<text>") -> Document:
    """Read a plain text article: title, byline, headings, paragraphs, lists, references.

    Section headings (those that name a section, "Causes of gout", or ask a
    question) are level 2; other headings are subsections (level 3) once a
    section heading was seen, and sections of their own before that.
    """
    text = normalise_spaces(unescape(text.replace("\r\n", "\n").replace("\r", "\n")))
    body, cite = split_cite(text)
    ref_headings = {h.lower() for h in load("boilerplate")["reference_headings"]}
    meta: dict = {}
    blocks: list[Block] = []
    references: list[str] = []
    in_references = False
    seen_section = False
    paragraph: list[str] = []
    item: Optional[list[str]] = None
    bylines: list[str] = []

    def add_text(parts: list[str], is_item: bool) -> None:
        joined = clean_text(" ".join(parts))
        if not joined or is_dropped(joined):
            return
        if in_references:
            references.append(joined)
        else:
            blocks.append(Block("text", joined, item=is_item))

    def flush() -> None:
        nonlocal item
        if paragraph:
            add_text(paragraph, False)
            paragraph.clear()
        if item is not None:
            add_text(item, True)
            item = None

    def heading(line: str, level: Optional[int]) -> None:
        nonlocal in_references, seen_section
        flush()
        if line.strip(" :").lower() in ref_headings:
            in_references = True
            return
        if in_references or is_dropped(line):
            return
        if level is None:
            # A question is a topic of its own ("Why might a doctor order the
            # test?"); another short line under a section may be a subsection
            # ("Surgery") or a section its words do not name ("How to get rid
            # of warts"): its level is left for sections to decide, by its text.
            if classify_heading(line) or not seen_section or line.rstrip().endswith("?"):
                level = 2
        seen_section = seen_section or level == 2
        blocks.append(Block("heading", line, level=None if level is None else min(3, max(2, level))))

    for chunk in _BREAK.split(body.strip()):
        lines = [clean_text(line) for line in chunk.split("\n")]
        raw = [line for line in chunk.split("\n") if line.strip()]
        lines = [line for line in lines if line]
        if not lines:
            continue
        for i, line in enumerate(lines):
            md = _MARKDOWN_HEADING.match(line)
            if md and md.group(2):
                if len(md.group(1)) == 1 and "title" not in meta and not blocks:
                    flush()
                    meta["title"] = md.group(2)
                else:
                    heading(md.group(2), len(md.group(1)))
                continue
            if not blocks and not paragraph and item is None and not in_references:
                # The head of the article: its title line, then byline lines.
                if "title" not in meta and not bylines and i == 0 and _is_heading_line(
                        line.rstrip("?")):
                    meta["title"] = line
                    continue
                if _is_byline(line):
                    bylines.append(line)
                    continue
            if _ITEM.match(raw[i] if i < len(raw) else line):
                flush()
                item = [_ITEM.sub("", line, count=1)]
                continue
            if item is not None and raw[i:i + 1] and raw[i][:1] in " \t":
                item.append(line)  # an item's wrapped line, indented under it
                continue
            alone = len(lines) == 1 or (i == 0 and not _ITEM.match(raw[1] if len(raw) > 1 else ""))
            if (alone and i == 0 and not paragraph and item is None
                    and _is_heading_line(line.rstrip("?")) and (len(lines) == 1 or
                                                                 _is_heading_line(line))):
                heading(line, None)
                continue
            if item is not None:
                flush()
            paragraph.append(line)
        flush()
    for line in bylines:
        meta.setdefault("author", byline_name(line))
        date = written_date(line) or _any_date(line)
        if date and parse_date(date):
            meta.setdefault("published", date)
    cite_text = clean_text(cite) if cite else None
    return Document(source=source, blocks=tuple(blocks), references=tuple(references),
                    cite=cite_text, meta={k: v for k, v in meta.items() if v})


def _any_date(line: str) -> Optional[str]:
    """A date in a byline that only says when the article was updated, for want of another."""
    for chunk in re.split(r"\s*[\u00b7\u2022|\u2014\u2013]\s*", line):
        chunk = re.sub(r"^(?:last )?(?:updated|modified|reviewed)(?: on)?\W*", "", chunk.strip(), flags=re.I)
        if parse_date(chunk):
            return chunk
    return None
