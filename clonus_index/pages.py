"""Article pages: HTML read into a ``Document``.

Part of reading (``reading.read_document`` dispatches here). Headings give
sections directly; page furniture is dropped; bylines (``bylines.py``) give
the author and date; a "References" heading turns what follows into references.
"""

from __future__ import annotations

from typing import Optional

from .bylines import byline_meta, is_boilerplate, is_byline_block, person_name, reads_as_byline
from .cleaning import clean_text, is_dropped
from .models import Block, Document
from .resources import load

__all__ = ["read_html"]

_TEXT_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "dd", "dt", "pre")
#: Tags that sit inside a line of text; anything else starts a new block.
_INLINE = frozenset("a abbr b bdi bdo big br cite code data del dfn em font i ins kbd label mark "
                    "nobr q s samp small span strike strong sub sup time tt u var wbr".split())


def _meta(tags: list, *selectors: str) -> Optional[str]:
    """The first value the selectors find among ``tags`` (the page's meta, link, title, h1).

    Matching a short list of candidates, not the whole page, keeps a page of
    ten thousand elements as quick as a small one.
    """
    import soupsieve

    for selector in selectors:
        el = next((t for t in tags if soupsieve.match(selector, t)), None)
        if el is None:
            continue
        value = el.get("content") or el.get("href") or el.get("datetime") or el.get_text(" ")
        value = clean_text(str(value)) if value else ""
        if value:
            return value
    return None



def _is_contents(el) -> bool:
    """True for a list of the page's own sections: every item one in-page link ("#causes").

    A table of contents names sections without being any of them.
    """
    if el.name not in ("ul", "ol"):
        return False
    items = el.find_all("li", recursive=False)
    if len(items) < 2:
        return False
    for li in items:
        links = li.find_all("a")
        if len(links) != 1 or not str(links[0].get("href") or "").startswith("#") \
                or clean_text(li.get_text(" ")) != clean_text(links[0].get_text(" ")):
            return False
    return True


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

    import soupsieve

    soup = BeautifulSoup(text, "html.parser")
    heads = soup.find_all(("meta", "link", "title", "h1"))
    # A URL is never an author's name (article:author is often a profile link).
    authors = (person_name(el.get("content")) for el in heads if soupsieve.match(
        'meta[name="author"], meta[property="article:author"], meta[name="citation_author"], '
        'meta[name="dc.creator"], meta[name="DC.creator"]', el))
    meta = {
        "title": _meta(heads, "h1", 'meta[property="og:title"]', "title"),
        "author": next((a for a in authors if a), None),
        "published": _meta(heads, 'meta[property="article:published_time"]',
                           'meta[name="citation_publication_date"]', 'meta[name="date"]',
                           'meta[itemprop="datePublished"]'),
        "url": _meta(heads, 'link[rel="canonical"]', 'meta[property="og:url"]'),
        "publisher": _meta(heads, 'meta[property="og:site_name"]', 'meta[name="publisher"]'),
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
    bylines: list[list] = []  # byline blocks set aside, as node lists, for byline_meta
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
            if not loose or is_dropped(loose):
                continue
            if not in_references and reads_as_byline(nodes):
                bylines.append(nodes)
                continue
            if in_references:
                references.append(loose)
            else:
                blocks.append(Block("text", loose))
            continue
        el, inside = item
        if el.name in drop_tags or is_boilerplate(el) or _is_contents(el):
            continue
        is_heading = el.name in ("h1", "h2", "h3", "h4", "h5", "h6")
        if not in_references and not is_heading and (
                is_byline_block(el)
                or (el.name in _TEXT_TAGS and not inside and reads_as_byline(list(el.children)))):
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
        if is_dropped(content):  # "Last medically reviewed on ..." under the reference list too
            continue
        if in_references:
            references.append(content)
            continue
        blocks.append(Block("text", content, item=el.name == "li"))
    if not (meta["author"] and meta["published"]):
        for key, value in byline_meta(soup, bylines).items():
            meta[key] = meta[key] or value
    cite = clean_text(" ".join(cite_parts)) if cite_parts else None
    return Document(source=source, blocks=tuple(blocks), references=tuple(references),
                    cite=cite, meta={k: v for k, v in meta.items() if v})
