"""HTML bylines: who wrote an article page and when.

Part of HTML reading (``pages.read_html``). Bylines are metadata, never a
passage, and they fill in the author and date that the head tags lack.
"""

from __future__ import annotations

import itertools
import re
from typing import Iterable, Optional

from .citation import parse_date
from .cleaning import clean_text
from .resources import load

__all__ = ["byline_meta", "is_byline_block", "reads_as_byline", "person_name", "named", "byline_name", "written_date",
           "is_boilerplate"]


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


def named(el, tokens: Iterable[str]) -> bool:
    """True when a class or id is one of ``tokens``, whole or as one of its -/_ parts."""
    tokens = set(tokens)
    return any(name in tokens or any(part in tokens for part in re.split(r"[-_]", name))
               for name in _names(el))


def is_boilerplate(el) -> bool:
    attrs = getattr(el, "attrs", None) or {}
    role = attrs.get("role")
    if role in ("navigation", "banner", "contentinfo", "search"):
        return True
    if role == "complementary" and el.find_parent(("article", "main")) is None:
        # Outside the article a complementary part is a sidebar; inside it, a
        # callout of the article's own ("See a GP if: ...") is text.
        return True
    return named(el, load("boilerplate")["drop_class_tokens"])


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
    return named(el, data["byline_names"])


def _word_count_over(el, limit: int) -> bool:
    """True when ``el`` holds more than ``limit`` words; stops counting there."""
    count = 0
    for text in el.stripped_strings:
        count += len(text.split())
        if count > limit:
            return True
    return False


def is_byline_block(el) -> bool:
    """A block the page marks as byline, short enough to be one."""
    return _is_byline_marked(el) and not _word_count_over(el, _BYLINE_MAX_WORDS)


def reads_as_byline(nodes: list) -> bool:
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
    return any(parent.name in _FURNITURE_TAGS or is_boilerplate(parent) for parent in el.parents)


def byline_name(text: str) -> Optional[str]:
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
        name = person_name(name)
        if name:
            return name
    return None


#: Degrees after a name ("Dana Whitfield, MPH", "A. Lee, MD, PhD"): the
#: citation names the person, as APA and MLA do.
_CREDENTIALS = re.compile(r"(?:,\s*(?:[A-Z]{2,5}|Ph\.?\s?D\.?|M\.?D\.?|MSc|BSc|MBBS|MBChB|DPhil|PharmD"
                          r"|MPharm|BPharm|PA-C))+$")


def person_name(value: Optional[str]) -> Optional[str]:
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
        return person_name(el.get("content"))
    inner = el.select_one('[itemprop~="name"]')
    if inner is not None:
        return person_name(inner.get("content") or inner.get_text(" "))
    return byline_name(el.get_text(" "))


def _date_of(el) -> Optional[str]:
    value = el.get("content") or el.get("datetime") or el.get_text(" ")
    return clean_text(str(value)) or None


def _is_update(time_el) -> bool:
    """True for the "Updated <time>" of a byline, which is not the publication date."""
    if (time_el.get("itemprop") or "") == "dateModified" or named(time_el, ("updated", "modified")):
        return True
    before = time_el.previous_sibling
    return isinstance(before, str) and re.search(r"(updated|modified)\W*$", before, re.I) is not None


def written_date(text: str) -> Optional[str]:
    """The publication date written out in a byline's words ("Published May 17, 2022")."""
    for chunk in _BYLINE_SEPARATORS.split(clean_text(text)):
        if re.search(r"\b(1[89]|20)\d\d\b", chunk) and not re.match(
                r"(last )?(updated|modified)\b", chunk, re.I):
            return re.sub(r"^(first )?(published|posted)( on)?\W*", "", chunk, flags=re.I) or None
    return None


def byline_meta(soup, found: list[list]) -> dict:
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
    authors = itertools.chain((_author_of(el) for el in explicit), map(byline_name, texts))
    meta["author"] = next((a for a in authors if a), None)

    times = itertools.chain(
        (el for el in marked if "datePublished" in itemprops(el)),
        (t for el in marked for t in ([el] if el.name == "time" else el.find_all("time"))),
        (t for nodes in found for n in tags(nodes)
         for t in ([n] if n.name == "time" else n.find_all("time"))),
        (t for t in soup.find_all("time", datetime=True) if not _in_furniture(t)),
    )
    dates = itertools.chain((_date_of(t) for t in times if not _is_update(t)),
                            map(written_date, texts))
    meta["published"] = next((d for d in dates if parse_date(d)), None)
    return {k: v for k, v in meta.items() if v}

