"""Text cleaning: the second stage of ingestion, between reading and segmentation.

Raw article text carries HTML entities, odd spaces and the "word ," artefacts
that flattening markup leaves behind; everything downstream wants plain prose.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

from .resources import load

__all__ = ["clean_text", "unescape", "normalise_spaces", "is_dropped", "opens_as_furniture"]

# Every Unicode space separator, plus tab and form feed, is a plain space for us.
_SPACES = re.compile(r"[\t\f\v\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
# Invisible characters that only split words apart (zero-width space, BOM,
# soft hyphen, word joiner) and C0/C1 control characters other than newline.
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200d\u2060\ufeff\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\r]")
_RUNS = re.compile(r"\s+")
# "Infections , such" -> "Infections, such"; a lone dot too, but not "... ".
_SPACE_BEFORE = re.compile(r" +(?=[,;:!?)\]}%]|\.(?!\.))")
_SPACE_AFTER_OPEN = re.compile(r"(?<=[(\[{]) +")


def unescape(text: str) -> str:
    """Decode HTML entities until none are left, so "&amp;amp;" and "&amp;" agree.

    Decoding to a fixed point is what makes cleaning idempotent.
    """
    for _ in range(8):
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    return text


def normalise_spaces(text: str) -> str:
    """Map exotic spaces to " " and drop invisible characters, keeping newlines."""
    return _SPACES.sub(" ", _INVISIBLE.sub("", text))


def clean_text(text: str) -> str:
    """Clean one block of prose: entities, whitespace, space-before-punctuation.

    Idempotent: ``clean_text(clean_text(x)) == clean_text(x)`` for any string.
    """
    previous = None
    # Each rule can only shorten the text, so a few passes reach a fixed point.
    while text != previous:
        previous = text
        text = normalise_spaces(unescape(text))
        text = _RUNS.sub(" ", text).strip()
        text = _SPACE_BEFORE.sub("", text)
        text = _SPACE_AFTER_OPEN.sub("", text)
    return text


#: The longest block searched for furniture inside it (a review date run into
#: a line, a contact box's telephone number): never a paragraph.
SHORT_BLOCK = 300


def opens_as_furniture(text: str) -> bool:
    """True for a text that opens as page furniture ("Leaflet code: ...", "Print this page")."""
    # Every drop_blocks pattern is anchored at the start: trying it there
    # alone keeps this one step per text, whatever the text's length.
    return _dropped().match(text) is not None


def is_dropped(text: str) -> bool:
    """True for a block that is page furniture, never article text ("Print this page")."""
    if opens_as_furniture(text):
        return True
    if len(text) > SHORT_BLOCK:
        return False
    lines, telephone, reader = _short_furniture()
    return lines.search(text) is not None or (
        telephone.search(text) is not None and reader.search(text) is None)


@lru_cache(maxsize=1)
def _dropped() -> re.Pattern:
    return re.compile("|".join(f"(?:{p})" for p in load("boilerplate")["drop_blocks"]), re.I)


@lru_cache(maxsize=1)
def _short_furniture() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    data = load("boilerplate")
    return (re.compile("|".join(f"(?:{p})" for p in data["furniture_lines"])),
            re.compile(data["telephone"]), re.compile(data["words_to_the_reader"]))
