"""Reading: the first stage of ingestion, from a file on disk to a ``Document``.

It understands two forms of the same thing, flattened article text (``.txt``)
and article pages (``.html``/``.htm``), and tells apart the body, the
reference list and the "cite this article" block; cleaning happens per block.
"""

from __future__ import annotations

import itertools
import os
import re
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional

from .citation import parse_date
from .cleaning import clean_text, normalise_spaces, unescape
from .errors import IngestError, SkippedSourceWarning
from .resources import load

__all__ = ["Block", "Document", "read_document", "read_text", "read_html", "iter_sources",
           "SOURCE_SUFFIXES", "source_name"]

SOURCE_SUFFIXES = (".txt", ".html", ".htm")


@dataclass(frozen=True)
class Block:
    """One visual unit of the body: a heading, a paragraph or a list item.

    ``level`` is 2 for a section heading, 3 for a subsection heading, and None
    for a heading whose level was lost (flattened text); sections decide then.
    ``item`` is True for list items, so a list lead-in can stay with its items.
    """

    kind: str  # "heading" or "text"
    text: str
    level: Optional[int] = None
    item: bool = False


@dataclass(frozen=True)
class Document:
    """A read source: body blocks, reference strings, the cite block and page metadata."""

    source: str
    blocks: tuple[Block, ...]
    references: tuple[str, ...] = ()
    cite: Optional[str] = None
    meta: dict = field(default_factory=dict)


def source_name(path: str | Path) -> str:
    """A path as text that any file, terminal or JSON parser takes: bytes of a file name
    that are not UTF-8 are written as ``\\xNN`` ("latin\\xe9name.txt")."""
    return os.fsencode(Path(path).as_posix()).decode("utf-8", "backslashreplace")


def iter_sources(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Every source file named by ``paths``, folders expanded, in a stable order.

    Folders are walked recursively and sorted by relative path, so the same
    folder gives the same article order (and so the same ids) everywhere.
    What a walk cannot use (a file or subfolder it may not read, a FIFO or a
    dangling link with an article's suffix) is skipped with a
    ``SkippedSourceWarning`` naming it; a folder with nothing readable is an
    error. A file named directly must be readable: it is read or refused.
    """
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = _walk(path)
        else:
            _check_named_file(path)
            found = [path]
        for p in found:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                yield p


def _check_named_file(path: Path) -> None:
    """A path named directly must be a regular article file: say what it is otherwise."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            raise IngestError(f"{source_name(path)}: is a symbolic link to "
                              f"{source_name(os.readlink(path))}, which does not exist") from None
        raise IngestError(f"{source_name(path)}: no such file or folder") from None
    except OSError as exc:
        raise IngestError(f"{source_name(path)}: cannot read it ({exc.strerror})") from None
    if not stat.S_ISREG(mode):
        raise IngestError(f"{source_name(path)}: not a regular file (a FIFO, socket or device); "
                          "give .txt, .html or .htm files or folders of them")
    if path.suffix.lower() not in SOURCE_SUFFIXES:
        raise IngestError(f"{source_name(path)}: not an article file; give .txt, .html or .htm "
                          "files")


def _walk(folder: Path) -> list[Path]:
    """The article files under ``folder``, sorted; what cannot be read is skipped, and said."""
    found: list[Path] = []
    skipped = 0

    def skip(path: str | Path, reason: str) -> None:
        nonlocal skipped
        skipped += 1
        warnings.warn(f"{source_name(path)}: skipped, {reason}", SkippedSourceWarning,
                      stacklevel=2)

    def unreadable(exc: OSError) -> None:
        skip(exc.filename or folder, f"cannot read this folder ({exc.strerror or exc})")

    for top, _, names in os.walk(folder, onerror=unreadable):
        for name in names:
            path = Path(top) / name
            if path.suffix.lower() not in SOURCE_SUFFIXES:
                continue
            if path.is_file():
                try:
                    with open(path, "rb"):
                        found.append(path)
                except OSError as exc:
                    skip(path, f"cannot read it ({exc.strerror or exc})")
            elif path.is_symlink() and not path.exists():
                skip(path, "a symbolic link to nothing")
            else:
                skip(path, "not a regular file")
    if not found:
        if skipped:
            raise IngestError(f"{source_name(folder)}: no readable .txt or .html article files "
                              f"in this folder ({skipped} skipped)")
        raise IngestError(f"{source_name(folder)}: no .txt or .html article files in this folder")
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def read_document(path: str | Path) -> Document:
    """Read one source file; the suffix decides the form."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if not data.strip():
        raise IngestError(f"{path}: the file is empty; give a file with article text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{path}: not UTF-8 text (bad byte at offset {exc.start}); re-save it as UTF-8"
        ) from None
    try:
        if path.suffix.lower() in (".html", ".htm"):
            doc = read_html(text, source=source_name(path))
        else:
            doc = read_text(text, source=source_name(path))
    except RecursionError:
        raise IngestError(f"{path}: the page is nested too deeply to read; "
                          "simplify its HTML") from None
    if not any(b.kind == "text" for b in doc.blocks):
        raise IngestError(f"{path}: no article text found in it")
    return doc


# --------------------------------------------------------------------------
# Flattened text
# --------------------------------------------------------------------------

_RUN = re.compile(r" {2,}|\s*\n\s*")
_SENTENCE_END = re.compile(r"[.!?:][\"'\u201d\u2019)\]]*$")
_STARTS_SENTENCE = re.compile(r"^[\"'\u201c\u2018(]?[A-Z0-9]")
_REF_AUTHOR = re.compile(r"^[A-Z][\w'\u2019-]*(?: [A-Z][\w'\u2019-]*)*, (?:[A-Z]\.|[A-Z][a-z]+[.,])")
_REF_DATE = re.compile(r"\((?:\d{4}[a-z]?|n\.d\.)(?:,[^)]*)?\)")


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


def _split_cite(text: str) -> tuple[str, Optional[str]]:
    lowered = text.lower()
    found = [lowered.find(marker) for marker in load("boilerplate")["cite_markers"]]
    found = [i for i in found if i >= 0]
    if not found:
        return text, None
    at = min(found)
    return text[:at], text[at:]


def _split_references(pieces: list[_Piece]) -> tuple[list[_Piece], list[str]]:
    """Peel the reference list off the end of the body pieces.

    A reference starts with "Surname, I." right after a sentence end and holds a
    "(2015, ...)" or "(n.d.)" date; the list is the longest such tail.
    """
    starts = [i for i, p in enumerate(pieces)
              if _REF_AUTHOR.match(p.text)
              and (i == 0 or p.gap >= 99 or _SENTENCE_END.search(pieces[i - 1].text))]
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
    words = text.split()
    return (
        following is not None
        and 1 <= len(words) <= 8
        and len(text) <= 80
        and _STARTS_SENTENCE.match(text) is not None
        and not re.search(r"[.!?:,;]$", text)
        and _STARTS_SENTENCE.match(following.text) is not None
    )


def _drop(text: str) -> bool:
    return any(re.search(p, text, re.I) for p in load("boilerplate")["drop_blocks"])


def read_text(text: str, source: str = "<text>") -> Document:
    """Read flattened article text: blocks from the runs of spaces markup left behind.

    A run of two or more spaces after a sentence end is a paragraph break; a
    short unpunctuated fragment between breaks, followed by a sentence, is a
    heading whose level was lost; a paragraph that starts after a run of three
    or more spaces right after a list lead-in (or another item) is a list item,
    and so are short fragments in a row after a lead-in ("include:   Stress
    at work   Missing meals"), which would otherwise pass for headings.
    """
    text = normalise_spaces(unescape(text))
    body, cite = _split_cite(text)
    pieces, references = _split_references(_pieces(body))

    blocks: list[Block] = []
    current: list[_Piece] = []

    def flush() -> None:
        if current:
            joined = clean_text(" ".join(p.text for p in current))
            if joined and not _drop(joined):
                prev = blocks[-1] if blocks else None
                item = current[0].gap >= 3 and prev is not None and prev.kind == "text" and (
                    prev.item or prev.text.endswith(":"))
                blocks.append(Block("text", joined, item=item))
            current.clear()

    def is_fragment(i: int) -> bool:
        following = pieces[i + 1] if i + 1 < len(pieces) else None
        return _is_heading_fragment(pieces[i].text, following)

    for i, piece in enumerate(pieces):
        if current and not _SENTENCE_END.search(current[-1].text):
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
            if not _drop(heading):
                blocks.append(Block("heading", heading))
            continue
        current.append(piece)
    flush()
    cite_text = clean_text(cite) if cite else None
    return Document(source=source, blocks=tuple(blocks), references=tuple(references),
                    cite=cite_text)


# --------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------

_TEXT_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "dd", "dt", "pre")
#: Tags that sit inside a line of text; anything else starts a new block.
_INLINE = frozenset("a abbr b bdi bdo big br cite code data del dfn em font i ins kbd label mark "
                    "nobr q s samp small span strike strong sub sup time tt u var wbr".split())


def _meta(soup, *selectors: str) -> Optional[str]:
    for selector in selectors:
        el = soup.select_one(selector)
        if el is None:
            continue
        value = el.get("content") or el.get("href") or el.get("datetime") or el.get_text(" ")
        value = clean_text(str(value)) if value else ""
        if value:
            return value
    return None


def _names(el) -> list[str]:
    """An element's class tokens and id, lowercased: what pages name their furniture by."""
    attrs = getattr(el, "attrs", None) or {}
    classes = attrs.get("class") or []
    if isinstance(classes, str):
        classes = classes.split()
    names = [c.lower() for c in classes]
    el_id = attrs.get("id")
    if isinstance(el_id, str):
        names.append(el_id.lower())
    return names


def _named(el, tokens: Iterable[str]) -> bool:
    """True when a class or id is one of ``tokens``, whole or as one of its -/_ parts."""
    tokens = set(tokens)
    return any(name in tokens or any(part in tokens for part in re.split(r"[-_]", name))
               for name in _names(el))


def _is_boilerplate(el) -> bool:
    attrs = getattr(el, "attrs", None) or {}
    role = attrs.get("role")
    if role in ("navigation", "banner", "contentinfo", "complementary", "search"):
        return True
    return _named(el, load("boilerplate")["drop_class_tokens"])


# --------------------------------------------------------------------------
# HTML bylines: who wrote the article and when. They are metadata, never a
# passage, and they fill in the author and date that the head tags lack.
# --------------------------------------------------------------------------

#: A byline is a line, not a paragraph: a marked block longer than this is
#: something else (an author's biography, a wrapper round the whole article).
_BYLINE_MAX_WORDS = 40
#: Unmarked words a <time> or author link may sit among and still be a byline
#: ("By", "Published", "·"), so a sentence that mentions a date stays text.
_BYLINE_MAX_LEFTOVER = 8
#: What separates the parts of a byline: "By Sam Lee · May 17, 2022 | 5 min read".
_BYLINE_SEPARATORS = re.compile(r"\s*[\u00b7\u2022|\u2014\u2013/]\s*|\s+-\s+|\n")
#: A URL or site path is never a person's name (``href`` of an author link).
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|www\.|/|#|\.\.?/)|://", re.I)
#: Elements that furnish the page around the article; their bylines belong to
#: other articles (related links, comments) and never describe this one.
_FURNITURE_TAGS = frozenset({"nav", "aside", "footer", "form"})


def _is_byline_marked(el) -> bool:
    """True for an element the page marks as byline: class/id, itemprop or rel=author."""
    attrs = getattr(el, "attrs", None) or {}
    data = load("boilerplate")
    itemprop = attrs.get("itemprop")
    if isinstance(itemprop, str) and set(itemprop.split()) & set(data["byline_itemprops"]):
        return True
    rel = attrs.get("rel") or []
    if "author" in (rel.split() if isinstance(rel, str) else rel):
        return True
    return _named(el, data["byline_names"])


def _word_count_over(el, limit: int) -> bool:
    """True when ``el`` holds more than ``limit`` words; stops counting there."""
    count = 0
    for text in el.stripped_strings:
        count += len(text.split())
        if count > limit:
            return True
    return False


def _is_byline_block(el) -> bool:
    """A block the page marks as byline, short enough to be one."""
    return _is_byline_marked(el) and not _word_count_over(el, _BYLINE_MAX_WORDS)


def _reads_as_byline(nodes: list) -> bool:
    """True when these nodes hold a <time> or byline-marked element among few other words.

    "By <a rel=author>Sam Lee</a> · <time>May 17, 2022</time>" is a byline even
    without a class; "The outbreak began on <time>3 March</time> in ..." is not:
    the words outside the marked elements must be few and open like a byline.
    """
    from bs4 import NavigableString, Tag

    marked = False
    rest: list[str] = []
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        if isinstance(node, Tag):
            if (node.name == "time" and parse_date(_date_of(node))) or _is_byline_marked(node):
                marked = True  # a <time> that holds a date ("week six" is none)
            elif node.name not in ("ul", "ol"):
                stack.extend(reversed(list(node.children)))
        elif type(node) is NavigableString:
            rest.append(str(node))
    if not marked:
        return False
    leftover = clean_text(" ".join(rest))
    words = re.findall(r"\w+", leftover)
    return not words or (len(words) <= _BYLINE_MAX_LEFTOVER and any(
        re.search(p, leftover, re.I) for p in load("boilerplate")["byline_leads"]))


def _in_furniture(el) -> bool:
    return any(parent.name in _FURNITURE_TAGS or _is_boilerplate(parent) for parent in el.parents)


def _byline_name(text: str) -> Optional[str]:
    """The author's name in a byline's text: "By Sam Lee · May 17, 2022" -> "Sam Lee".

    The part that opens with "By" wins; otherwise the first part that is not a
    date, a reviewer, a reading time or a URL (a bare "Sam Lee" in an author box).
    """
    data = load("boilerplate")
    leads = [re.compile(p, re.I) for p in data["byline_author_leads"]]
    chunks = [c.strip(" ,;:") for c in _BYLINE_SEPARATORS.split(clean_text(text))]
    names: list[str] = []
    for chunk in chunks:
        lead = next((m for m in (p.match(chunk) for p in leads) if m), None)
        if lead:
            names.insert(0, chunk[lead.end():])
        elif not any(re.search(p, chunk, re.I) for p in data["byline_not_author"]):
            names.append(chunk)
    for name in names:
        name = _person_name(name)
        if name:
            return name
    return None


#: Degrees after a name ("Dana Whitfield, MPH", "A. Lee, MD, PhD"): the
#: citation names the person, as APA and MLA do.
_CREDENTIALS = re.compile(r"(?:,\s*(?:[A-Z]{2,5}|Ph\.?\s?D\.?|M\.?D\.?|MSc|BSc|MBBS|MBChB|DPhil))+$")


def _person_name(value: Optional[str]) -> Optional[str]:
    """``value`` as an author's name, or None when it cannot be one (a URL, a sentence)."""
    if not value:
        return None
    value = clean_text(str(value))
    for lead in load("boilerplate")["byline_author_leads"]:  # "By Sam Lee" -> "Sam Lee"
        value = re.sub(lead, "", value, count=1, flags=re.I)
    value = _CREDENTIALS.sub("", value.strip(" ,;:")).strip(" ,;:")
    if not value or _URL.search(value) or not re.search(r"[^\W\d_]", value) \
            or len(value.split()) > 12:
        return None
    return value


def _author_of(el) -> Optional[str]:
    """The author an author-marked element names: its content, its itemprop=name, its text.

    Never ``href``: an ``<a rel="author" href="/a/lee">Sam Lee</a>`` names Sam
    Lee, and a ``<link rel="author" href=...>`` names no one.
    """
    if el.name in ("meta", "link"):
        return _person_name(el.get("content"))
    inner = el.select_one('[itemprop~="name"]')
    if inner is not None:
        return _person_name(inner.get("content") or inner.get_text(" "))
    return _byline_name(el.get_text(" "))


def _date_of(el) -> Optional[str]:
    value = el.get("content") or el.get("datetime") or el.get_text(" ")
    return clean_text(str(value)) or None


def _is_update(time_el) -> bool:
    """True for the "Updated <time>" of a byline, which is not the publication date."""
    if (time_el.get("itemprop") or "") == "dateModified" or _named(time_el, ("updated", "modified")):
        return True
    before = time_el.previous_sibling
    return isinstance(before, str) and re.search(r"(updated|modified)\W*$", before, re.I) is not None


def _written_date(text: str) -> Optional[str]:
    """The publication date written out in a byline's words ("Published May 17, 2022")."""
    for chunk in _BYLINE_SEPARATORS.split(clean_text(text)):
        if re.search(r"\b(1[89]|20)\d\d\b", chunk) and not re.match(
                r"(last )?(updated|modified)\b", chunk, re.I):
            return re.sub(r"^(first )?(published|posted)( on)?\W*", "", chunk, flags=re.I) or None
    return None


def _byline_meta(soup, found: list[list]) -> dict:
    """Author and date from the byline, for when the head's meta tags lack them.

    ``found`` are the byline blocks the body walk set aside (as node lists).
    Marked elements are also looked up in the whole page outside its
    furniture, since a byline often sits in the article's ``<header>``.
    Explicit markup (rel=author, itemprop, <time datetime>) is trusted before
    the byline's words.
    """
    from bs4 import Tag

    def itemprops(el) -> set[str]:
        return set((el.get("itemprop") or "").split())

    def tags(nodes: list) -> list:
        return [n for n in nodes if isinstance(n, Tag)]

    marked = [el for el in soup.find_all(_is_byline_marked)
              if el.name not in ("meta", "link") and not _in_furniture(el)]
    texts = [el.get_text(" ") for el in marked if not itemprops(el)]
    texts += [" ".join(n.get_text(" ") if isinstance(n, Tag) else str(n) for n in nodes)
              for nodes in found]
    meta: dict = {}

    explicit = (el for el in marked
                if "author" in (el.get("rel") or []) or itemprops(el) & {"author", "creator"})
    authors = itertools.chain((_author_of(el) for el in explicit), map(_byline_name, texts))
    meta["author"] = next((a for a in authors if a), None)

    times = itertools.chain(
        (el for el in marked if "datePublished" in itemprops(el)),
        (t for el in marked for t in ([el] if el.name == "time" else el.find_all("time"))),
        (t for nodes in found for n in tags(nodes)
         for t in ([n] if n.name == "time" else n.find_all("time"))),
        (t for t in soup.find_all("time", datetime=True) if not _in_furniture(t)),
    )
    dates = itertools.chain((_date_of(t) for t in times if not _is_update(t)),
                            map(_written_date, texts))
    meta["published"] = next((d for d in dates if parse_date(d)), None)
    return {k: v for k, v in meta.items() if v}


def _text_of(el) -> str:
    """An element's text without nested lists and items, which are read as items of their own."""
    return clean_text("".join(_text_of_nodes(list(el.children))))


def _text_of_nodes(nodes: list) -> list[str]:
    """The text of these nodes and their descendants, lists and list items left out.

    Iterative, so a deeply nested page cannot exhaust the recursion limit.
    """
    from bs4 import NavigableString, Tag

    parts: list[str] = []
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        if isinstance(node, NavigableString):
            if type(node) is NavigableString:  # not comments or doctypes
                parts.append(str(node))
        elif isinstance(node, Tag):
            if node.name in ("ul", "ol", "li"):
                continue
            if node.name == "br":
                parts.append(" ")
                continue
            stack.extend(reversed(list(node.children)))
    return parts


def read_html(text: str, source: str = "<html>") -> Document:
    """Read an article page: ``h1`` title, ``h2``/``h3`` headings, ``p``/``li`` text.

    Page furniture (scripts, navigation, asides, forms, ads, related links) is
    dropped before reading; a "References" heading turns what follows it into
    reference strings; a "cite this article" block only supplies metadata.
    """
    from bs4 import BeautifulSoup, NavigableString, Tag

    soup = BeautifulSoup(text, "html.parser")
    # A URL is never an author's name (article:author is often a profile link).
    authors = (_person_name(el.get("content")) for el in soup.select(
        'meta[name="author"], meta[property="article:author"], meta[name="citation_author"], '
        'meta[name="dc.creator"], meta[name="DC.creator"]'))
    meta = {
        "title": _meta(soup, "h1", 'meta[property="og:title"]', "title"),
        "author": next((a for a in authors if a), None),
        "published": _meta(soup, 'meta[property="article:published_time"]',
                           'meta[name="citation_publication_date"]', 'meta[name="date"]',
                           'meta[itemprop="datePublished"]'),
        "url": _meta(soup, 'link[rel="canonical"]', 'meta[property="og:url"]'),
        "publisher": _meta(soup, 'meta[property="og:site_name"]', 'meta[name="publisher"]'),
    }

    boiler = load("boilerplate")
    cite_parts: list[str] = []
    for el in soup.find_all(string=True):
        lowered = str(el).lower()
        if any(marker in lowered for marker in boiler["cite_markers"]):
            block = el.parent
            while block is not None and block.name in ("span", "strong", "em", "b", "i", "a", "p"):
                if block.parent is None or block.parent.name in ("body", "article", "main", "[document]"):
                    break
                block = block.parent
            if block is not None and block.name not in ("body", "article", "main", "[document]"):
                cite_parts.append(block.get_text(" "))
                block.decompose()
    root = soup.find("article") or soup.find("main") or soup.body or soup
    ref_headings = {h.lower() for h in boiler["reference_headings"]}
    drop_tags = set(boiler["drop_tags"])
    blocks: list[Block] = []
    references: list[str] = []
    bylines: list[list] = []  # byline blocks set aside, as node lists, for _byline_meta
    in_references = False
    ref_level = 0
    # One iterative walk in document order: linear in the page's size and
    # safe for any nesting depth. ``inside`` is True below a p or li, whose
    # text was already taken whole. Text that sits in a container without a
    # p around it (``<div><b>Loose text</b></div>``) is read as a paragraph
    # per run of inline content.
    def children(node, inside: bool) -> list:
        items: list = []
        run: list = []
        for child in node.children:
            if isinstance(child, Tag) and child.name not in _INLINE:
                if run:
                    items.append(("run", run, inside))
                    run = []
                items.append((child, inside))
            elif type(child) is NavigableString or isinstance(child, Tag):
                run.append(child)
        if run:
            items.append(("run", run, inside))
        return items[::-1]

    stack: list = children(root, False)
    while stack:
        item = stack.pop()
        if item[0] == "run":
            _, nodes, inside = item
            if inside:
                continue
            loose = clean_text("".join(_text_of_nodes(nodes)))
            if not loose or _drop(loose):
                continue
            if not in_references and _reads_as_byline(nodes):
                bylines.append(nodes)
                continue
            if in_references:
                references.append(loose)
            else:
                blocks.append(Block("text", loose))
            continue
        el, inside = item
        if el.name in drop_tags or _is_boilerplate(el):
            continue
        is_heading = el.name in ("h1", "h2", "h3", "h4", "h5", "h6")
        if not in_references and not is_heading and (
                _is_byline_block(el)
                or (el.name in _TEXT_TAGS and not inside and _reads_as_byline(list(el.children)))):
            bylines.append([el])
            continue
        if el.name not in _TEXT_TAGS or (inside and el.name != "li"):
            stack.extend(children(el, inside))
            continue
        # Lists inside a paragraph or an item (html.parser nests an unclosed
        # <li> in the one before it) are items of their own.
        stack.extend(children(el, True))
        content = _text_of(el)
        if not content:
            continue
        if is_heading:
            level = int(el.name[1])
            if in_references and level > ref_level:
                continue
            in_references = content.strip(" :").lower() in ref_headings
            ref_level = level
            if in_references or level == 1:
                continue
            blocks.append(Block("heading", content, level=2 if level == 2 else 3))
            continue
        if _drop(content):  # "Last medically reviewed on ..." under the reference list too
            continue
        if in_references:
            references.append(content)
            continue
        blocks.append(Block("text", content, item=el.name == "li"))
    if not (meta["author"] and meta["published"]):
        for key, value in _byline_meta(soup, bylines).items():
            meta[key] = meta[key] or value
    cite = clean_text(" ".join(cite_parts)) if cite_parts else None
    return Document(source=source, blocks=tuple(blocks), references=tuple(references),
                    cite=cite, meta={k: v for k, v in meta.items() if v})
