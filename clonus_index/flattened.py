"""Flattened text: article text whose markup was stripped, read into a ``Document``.

Part of reading (``reading.read_document`` dispatches here). Paragraphs,
headings and list items are told apart by the runs of spaces the markup left
behind; the reference list and the "cite this article" block are peeled off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from .cleaning import clean_text, is_dropped, normalise_spaces, opens_as_furniture, unescape
from .models import Block, Document
from .resources import load

__all__ = ["read_flattened", "split_cite", "split_references"]

_RUN = re.compile(r" {2,}|\s*\n\s*")
_SENTENCE_END = re.compile(r"[.!?:][\"'\u201d\u2019)\]]*$")
_STARTS_SENTENCE = re.compile(r"^[\"'\u201c\u2018(]?[A-Z0-9]")
#: A list item after a run of three or more spaces starts with a word, not
#: with the punctuation that follows a link inside a sentence ("  , such as").
_STARTS_ITEM = re.compile(r"^[\"'\u201c\u2018(]?\w")
_REF_AUTHOR = re.compile(r"^[A-Z][\w'\u2019-]*(?: [A-Z][\w'\u2019-]*)*, (?:[A-Z]\.|[A-Z][a-z]+[.,])")
_REF_DATE = re.compile(r"\((?:\d{4}[a-z]?|n\.d\.)(?:,[^)]*)?\)")
#: An organisation as a reference's author: "Centers for Disease Control and
#: Prevention. (2024)." (a name, a full stop, the date in brackets).
_REF_ORGANISATION = re.compile(r"^[A-Z][^.()]{2,150}\. \((?:\d{4}[a-z]?|n\.d\.)(?:,[^)]*)?\)")
#: A reference may end with its URL, not with a full stop.
_ENDS_URL = re.compile(r"https?://\S+$")


@dataclass
class _Piece:
    text: str
    gap: int  # length of the whitespace run before it; a newline counts as 99


def _pieces(text: str) -> list[_Piece]:
    pieces: list[_Piece] = []
    pos, gap = 0, 99
    for m in _RUN.finditer(text):
        chunk = text[pos:m.start()]
        if chunk.strip():
            pieces.append(_Piece(chunk.strip(), gap))
            gap = 0
        run = m.group()
        gap = max(gap, 99 if "\n" in run else len(run))
        pos = m.end()
    if text[pos:].strip():
        pieces.append(_Piece(text[pos:].strip(), gap))
    return pieces


def split_cite(text: str) -> tuple[str, Optional[str]]:
    lowered = text.lower()
    found = [lowered.find(marker) for marker in load("boilerplate")["cite_markers"]]
    found = [i for i in found if i >= 0]
    if not found:
        return text, None
    at = min(found)
    return text[:at], text[at:]


def split_references(pieces: list[_Piece]) -> tuple[list[_Piece], list[str]]:
    """Peel the reference list off the end of the body pieces.

    A reference starts with "Surname, I." (or an organisation's name and
    "(2024).") right after a sentence end or a URL and holds a "(2015, ...)"
    or "(n.d.)" date; the list is the longest such tail.
    """
    starts = [i for i, p in enumerate(pieces)
              if (_REF_AUTHOR.match(p.text) or _REF_ORGANISATION.match(p.text))
              and (i == 0 or p.gap >= 99 or _SENTENCE_END.search(pieces[i - 1].text)
                   or _ENDS_URL.search(pieces[i - 1].text))]
    refs: list[str] = []
    cut = len(pieces)
    for start in reversed(starts):
        chunk = " ".join(p.text for p in pieces[start:cut])
        if not _REF_DATE.search(chunk[:400]):
            break
        refs.insert(0, clean_text(chunk))
        cut = start
    # A lone "References" heading just before the list belongs to it.
    headings = {h.lower() for h in load("boilerplate")["reference_headings"]}
    while cut and refs and pieces[cut - 1].text.strip(" :").lower() in headings:
        cut -= 1
    return pieces[:cut], refs


def _is_heading_fragment(text: str, following: Optional[_Piece]) -> bool:
    return (following is not None and _heading_shaped(text)
            and _STARTS_SENTENCE.match(following.text) is not None)


def _heading_shaped(text: str) -> bool:
    """A short capitalised fragment with no closing punctuation: a heading's shape."""
    words = text.split()
    return (1 <= len(words) <= 8 and len(text) <= 80 and _STARTS_SENTENCE.match(text) is not None
            and not re.search(r"[.!?:,;]$", text))


def _run_in_heading(text: str) -> Optional[tuple[str, str]]:
    """(heading, rest) when ``text`` opens with a section's name run into a sentence.

    "Treatment Treatment aims to ..." and "Outlook Most people ..." lost the
    break after their heading: a section name (``data/sections.json``) of up
    to five words, then a capitalised word, is taken for a heading.
    """
    words = text.split(" ")
    for k in range(1, min(5, len(words) - 1) + 1):
        head = " ".join(words[:k])
        if head.lower() in _section_names() and words[k][:1].isupper():
            return head, " ".join(words[k:])
    return None


@lru_cache(maxsize=1)
def _section_names() -> frozenset[str]:
    return frozenset(s["name"].lower() for s in load("sections")["sections"])


def read_flattened(text: str, source: str = "<text>") -> Document:
    """Read flattened article text: blocks from the runs of spaces markup left behind.

    A run of two or more spaces after a sentence end is a paragraph break; a
    short unpunctuated fragment between breaks, followed by a sentence, is a
    heading whose level was lost; a paragraph that starts after a run of three
    or more spaces right after a list lead-in (or another item) is a list item,
    and so are short fragments in a row after a lead-in ("include:   Stress
    at work   Missing meals"), which would otherwise pass for headings.
    """
    text = normalise_spaces(unescape(text))
    body, cite = split_cite(text)
    pieces, references = split_references(_pieces(body))

    blocks: list[Block] = []
    current: list[_Piece] = []

    list_heading = False  # the last heading tops a list ("Do   use sunscreen   wear a hat")

    def opens_list(prev: Optional[Block]) -> bool:
        """True when the block before starts or continues a list: a lead-in, an item, a list's heading."""
        if prev is None:
            return False
        if prev.kind == "heading":
            return list_heading
        return prev.item or prev.text.endswith(":")

    def flush() -> None:
        if current:
            joined = clean_text(" ".join(p.text for p in current))
            if joined and not is_dropped(joined):
                prev = blocks[-1] if blocks else None
                item = current[0].gap >= 3 and opens_list(prev)
                blocks.append(Block("text", joined, item=item))
            current.clear()

    def tops_list(i: int) -> bool:
        """A short fragment over list items: lower-case pieces after runs of three spaces."""
        after = pieces[i + 1:i + 3]
        return len(after) == 2 and all(p.gap >= 3 for p in after) and after[0].text[:1].islower()

    def is_fragment(i: int) -> bool:
        following = pieces[i + 1] if i + 1 < len(pieces) else None
        return _is_heading_fragment(pieces[i].text, following) or (
            _heading_shaped(pieces[i].text) and tops_list(i))

    def in_list() -> bool:
        """True while ``current`` is a list item: after a lead-in or another item."""
        prev = blocks[-1] if blocks else None
        return bool(current) and current[0].gap >= 3 and opens_list(prev)

    for i, piece in enumerate(pieces):
        if opens_as_furniture(piece.text):
            # Leaflet furniture ("Leaflet code: ...", "Page last reviewed: ...")
            # after a line with no full stop is not part of it.
            flush()
            continue
        if current and not _SENTENCE_END.search(current[-1].text) and not (in_list() and (
                (piece.gap >= 3 and _STARTS_ITEM.match(piece.text))
                or (piece.gap >= 2 and _STARTS_SENTENCE.match(piece.text)))):
            # (After a list item, a paragraph break before a capital ends the list.)
            current.append(piece)  # a link or bold word inside a sentence
            continue
        flush()
        if is_fragment(i):
            prev = blocks[-1] if blocks else None
            # Short fragments in a row after a lead-in ("Common triggers
            # include:") are the list's items, not headings.
            # Items sit after a run of three or more spaces, as in the seed's lists.
            after_lead_in = (piece.gap >= 3 and prev is not None and prev.kind == "text"
                             and prev.text.endswith(":") and i + 1 < len(pieces)
                             and is_fragment(i + 1) and pieces[i + 1].gap >= 3)
            after_fragment_item = (piece.gap >= 3 and prev is not None and prev.item
                                   and not _SENTENCE_END.search(prev.text))
            if after_lead_in or after_fragment_item:
                current.append(piece)
                flush()
                continue
            heading = clean_text(piece.text)
            if not is_dropped(heading):
                blocks.append(Block("heading", heading))
                list_heading = tops_list(i)
            continue
        run_in = _run_in_heading(piece.text)
        if run_in:  # "Outlook Most people recover": the heading ran into its text
            blocks.append(Block("heading", run_in[0]))
            piece = _Piece(run_in[1], piece.gap)
        current.append(piece)
    flush()
    cite_text = clean_text(cite) if cite else None
    return Document(source=source, blocks=tuple(blocks), references=tuple(references),
                    cite=cite_text)

