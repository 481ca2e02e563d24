"""Citations: article metadata from the "cite this article" block, and references.

Between reading and segmentation: the cite block never becomes a passage but
tells us title, author, publisher and dates; reference strings become
structured ``Reference`` records, duplicates removed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Iterable, Optional

from .cleaning import clean_text
from .models import Reference
from .resources import load

__all__ = ["parse_cite_block", "parse_reference", "parse_references", "parse_date"]

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}


def parse_date(text: Optional[str]) -> Optional[dt.date]:
    """A date from "2018-06-08", "2018-06-08T10:00Z", "8 Jun. 2018", "June 8, 2018" or "(2018, June 8)"."""
    if not text:
        return None
    text = text.strip()
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if m:
        return _safe_date(int(m[1]), int(m[2]), int(m[3]))
    m = re.search(r"\b(\d{1,2}) ([A-Za-z]{3})[a-z]*\.? (\d{4})\b", text)
    if m and m[2].lower() in _MONTHS:
        return _safe_date(int(m[3]), _MONTHS[m[2].lower()], int(m[1]))
    m = re.search(r"\b([A-Za-z]{3})[a-z]*\.? (\d{1,2}),? (\d{4})\b", text)
    if m and m[1].lower() in _MONTHS:
        return _safe_date(int(m[3]), _MONTHS[m[1].lower()], int(m[2]))
    m = re.search(r"\b(\d{4}), ([A-Za-z]{3})[a-z]* (\d{1,2})\b", text)
    if m and m[2].lower() in _MONTHS:
        return _safe_date(int(m[1]), _MONTHS[m[2].lower()], int(m[3]))
    return None


def _safe_date(year: int, month: int, day: int) -> Optional[dt.date]:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _strip_notes(text: str) -> str:
    for pattern in load("boilerplate")["cite_notes"]:
        text = re.sub(pattern, "", text, flags=re.I)
    return text.strip()


def parse_cite_block(text: Optional[str]) -> dict:
    """Metadata from a cite block holding MLA and/or APA forms of the article's citation.

    MLA gives the most (author's full name, site, organisation, published and
    accessed dates, URL); APA fills in what MLA lacks. Missing parts stay out.
    """
    if not text:
        return {}
    text = _strip_notes(clean_text(text))
    meta: dict = {}
    # "MLA Johnson, Jon. ..." or "MLA: Johnson, Jon. ..." (any dash or colon after the name).
    mla = re.search(r"\bMLA\b[\s:\u2013\u2014-]*(.*?)(?=\bAPA\b|$)", text, re.S)
    apa = re.search(r"\bAPA\b[\s:\u2013\u2014-]*(.*)$", text, re.S)
    # MLA 8 leaves the scheme off ("www.example.org/a"); the URL is kept as written.
    url = re.search(r"<?((?:https?://|www\.)[^\s>]+)>?", text)
    if url:
        meta["url"] = url.group(1).rstrip(".,")
    if mla:
        part = mla.group(1)
        m = re.match(r"\s*([^.\"\u201c]+?),\s*([^.\"\u201c]+?)\.\s*[\"\u201c]", part)
        if m:
            meta["author"] = f"{m[2].strip()} {m[1].strip()}"
        m = re.search(r"[\"\u201c](.+?)[\"\u201d]", part)
        if m:
            meta["title"] = m.group(1).strip().rstrip(".").strip()
            meta.update(_mla_source(part[m.end():]))
    if apa:
        for key, value in _apa_parts(apa.group(1)).items():
            meta.setdefault(key, value)
    return {k: v for k, v in meta.items() if v}


#: Where the title and site of an APA entry end: the URL, or "Retrieved from".
_APA_END = re.compile(r"\b(?:Retrieved|Accessed)\b|<?(?:https?://|www\.)", re.I)


def _apa_parts(part: str) -> dict:
    """Author, date, title and site from an APA entry: ``Kim, R. (2022, November 4). Title. Site.``

    APA leaves the title unquoted; some sites quote it anyway, and then the
    quotes mark it. Otherwise the title is the sentence after the date, and
    the site the sentence after that.
    """
    found: dict = {}
    m = re.match(r"\s*([^,(]+),\s*([A-Z]\.(?:\s?[A-Z]\.)*)", part)
    if m:
        found["author"] = f"{m[2]} {m[1].strip()}"
    date = re.search(r"\((\d{4}[^)]*|n\.\s?d\.)\)\.?", part)
    if date is None:
        return found
    found["published"] = parse_date(date.group(1))
    rest = part[date.end():]
    end = _APA_END.search(rest)
    rest = (rest[:end.start()] if end else rest).strip()
    quoted = re.match(r"[\"\u201c](.+?)[\"\u201d]\s*(.*)$", rest, re.S)
    if quoted:
        title, site = quoted.group(1), quoted.group(2)
    else:
        title, site = _first_sentence(rest)
    found["title"] = title.strip().rstrip(".").strip()
    site = _first_sentence(site)[0].strip().rstrip(".").strip()
    if site:
        found["publisher"] = site
    return found


def _first_sentence(text: str) -> tuple[str, str]:
    """Split at the first full stop that ends a sentence (not "U.S." or "Dr.")."""
    abbreviations = {a.lower().rstrip(".") for a in load("sentences")["abbreviations"]}
    for m in re.finditer(r"\.(?:\s+|$)", text):
        word = re.search(r"([\w.]+)$", text[:m.start()])
        if word and ("." in word.group(1) or len(word.group(1)) == 1
                     or word.group(1).lower() in abbreviations):
            continue
        return text[:m.start()], text[m.end():]
    return text, ""


#: A day-month-year or month-day-year date as MLA writes it: "8 Jun. 2018",
#: "2 February 2020", "June 8, 2018". ``parse_date`` checks the month name.
_MLA_DATE = re.compile(r"\b\d{1,2} [A-Z][a-z]{2,8}\.? \d{4}\b|\b[A-Z][a-z]{2,8}\.? \d{1,2}, \d{4}\b")
#: Words that say the date after them is when the page was read, not published.
_ACCESS_CUE = re.compile(r"\b(?:web|accessed|retrieved)\b\.?\s*[:,]?\s*(?:on\s+)?$", re.I)
#: Where the container part of an MLA entry ends when no date is given.
_MLA_STOP = re.compile(r"\bn\.\s?d\.|\bWeb\.|\b(?:Accessed|Retrieved)\b|<?(?:https?://|www\.)", re.I)
#: The break between site and organisation: MLA 7 "Site. Org", MLA 8 "Container, Publisher".
#: A full stop after a capital ("U.S. News") is an abbreviation, not a break.
_MLA_PART = re.compile(r"(?<=[a-z0-9)\]])\s*\.\s+|\s*,\s+")


def _split_container(container: str) -> list[str]:
    """Site and organisation: split at the first break that is no abbreviation's dot ("Dr.")."""
    abbreviations = {a.lower().rstrip(".") for a in load("sentences")["abbreviations"]}
    for m in _MLA_PART.finditer(container):
        word = re.search(r"([\w.]+)$", container[:m.start()])
        if "." in m.group() and word and word.group(1).lower() in abbreviations:
            continue
        return [container[:m.start()], container[m.end():]]
    return [container]


def _mla_source(rest: str) -> dict:
    """Site, organisation and dates from what follows the title in an MLA entry.

    Two generations of MLA are in use, and cite blocks mix them:
    MLA 7 puts the site in a sentence of its own and marks the medium
    ("Medical News Today. MediLexicon, Intl., 8 Jun. 2018. Web. 6 Sep. 2019."),
    MLA 8 and later run container, publisher and date together with commas
    ("Health Facts Daily, 2 Feb. 2020, https://... Accessed 3 Mar. 2021.").
    So the site is read up to the first date, not the first full stop (which
    in MLA 8 falls inside the date, "2 Feb."), and a date after "Web." or
    "Accessed" is the access date, whatever its position.
    """
    found: dict = {}
    dates = [d for d in _MLA_DATE.finditer(rest) if parse_date(d.group())]
    for d in dates:
        key = "accessed" if _ACCESS_CUE.search(rest[:d.start()]) else "published"
        found.setdefault(key, parse_date(d.group()))
    # The container ends at the first date-shaped words, even an impossible date.
    first_date = _MLA_DATE.search(rest)
    ends = [first_date.start()] if first_date else []
    stop = _MLA_STOP.search(rest)
    if stop:
        ends.append(stop.start())
    container = rest[:min(ends)] if ends else rest
    container = container.strip().rstrip(",;: ").strip()  # "Intl." keeps its full stop
    parts = _split_container(container)
    site = parts[0].strip().rstrip(".").strip()
    if site:
        found["publisher"] = site
    if len(parts) > 1 and parts[1].strip(" ,"):
        found["organization"] = parts[1].strip(" ,")
    return found


# --------------------------------------------------------------------------
# References
# --------------------------------------------------------------------------

_AUTHOR = re.compile(
    r"(?P<name>[A-Z][\w'\u2019-]*(?: [A-Z][\w'\u2019-]*)*), (?P<initials>(?:[A-Z]\.(?:[ -]*[A-Z]\.)*))")
_DATE = re.compile(r"\((?P<date>\d{4}[a-z]?(?:,[^)]*)?|n\.d\.)\)\.?")
_TAIL = re.compile(
    r"^(?P<journal>[^,]+?),\s*(?P<volume>\d+[A-Za-z]?(?:\s*[\u2013\u2014-]\s*\d+[A-Za-z]?)?)\s*(?:\((?P<issue>[^)]+)\))?"
    r"\s*(?:,\s*(?P<pages>[A-Za-z]?\d+(?:\s*[\u2013\u2014-]\s*[A-Za-z]?\d+)?))?\s*\.?$")


def _reference_id(raw: str) -> str:
    key = re.sub(r"[^a-z0-9]+", " ", raw.lower()).strip()
    return "ref-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]


def parse_reference(raw: str) -> Reference:
    """One APA-style reference string as a ``Reference``; unknown shapes keep ``raw``.

    ``id`` is a hash of the normalised string, so the same paper cited by two
    articles is the same reference.
    """
    raw = clean_text(raw)
    date = _DATE.search(raw)
    if not date:
        return Reference(id=_reference_id(raw), authors=(), year=None, title=raw, raw=raw)
    authors = tuple(f"{m['name']}, {m['initials']}" for m in _AUTHOR.finditer(raw[:date.start()]))
    year = month = day = None
    when = date.group("date")
    if when != "n.d.":
        year = int(when[:4])
        rest = when[4:].lstrip("abcdefghijklmnopqrstuvwxyz").strip(", ")
        m = re.match(r"([A-Za-z]{3})[a-z]*\.?(?:\s+(\d{1,2}))?", rest)
        if m and m[1].lower() in _MONTHS:
            month = _MONTHS[m[1].lower()]
            day = int(m[2]) if m[2] else None
    after = raw[date.end():].strip()
    title, journal, volume, issue, pages = after, None, None, None, None
    # The title ends at the first sentence end after which a "Journal, 12 (3), 4-5." tail fits.
    for m in re.finditer(r"[.?!](?:\s|$)", after):
        tail = _TAIL.match(after[m.end():].strip())
        if tail:
            title = after[:m.start() + 1]
            journal, volume = tail["journal"].strip(), tail["volume"]
            issue, pages = tail["issue"], tail["pages"]
            if pages:
                pages = re.sub(r"\s+", "", pages)
            break
    title = title.strip().rstrip(".").strip()
    return Reference(id=_reference_id(raw), authors=authors, year=year, month=month, day=day,
                     title=title, journal=journal, volume=volume, issue=issue, pages=pages,
                     raw=raw)


def parse_references(raws: Iterable[str]) -> tuple[Reference, ...]:
    """Parse and de-duplicate, keeping first-seen order; duplicates compare normalised."""
    seen: dict[str, Reference] = {}
    for raw in raws:
        if raw.strip():
            ref = parse_reference(raw)
            seen.setdefault(ref.id, ref)
    return tuple(seen.values())
