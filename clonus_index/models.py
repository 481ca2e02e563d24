"""The records that flow through the pipeline: Article, Reference, Passage, Hit.

Ingestion produces them, the index stores them, search returns them, and the
CLI prints exactly what ``to_dict()`` gives, so every layer speaks one shape.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any, Optional

__all__ = ["Block", "Document", "Reference", "ReferenceLink", "Article", "Passage", "Hit"]

_MONTHS_SHORT = ["Jan.", "Feb.", "Mar.", "Apr.", "May", "Jun.", "Jul.", "Aug.",
                 "Sep.", "Oct.", "Nov.", "Dec."]
_MONTHS_LONG = ["January", "February", "March", "April", "May", "June", "July",
                "August", "September", "October", "November", "December"]


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


@dataclass(frozen=True)
class Reference:
    """One entry of an article's reference list, parsed from its APA-style string.

    ``raw`` is always the cleaned original, so nothing is lost when a field
    could not be recognised (``title`` then holds the whole string).
    """

    id: str
    authors: tuple[str, ...]
    year: Optional[int]
    title: str
    raw: str
    month: Optional[int] = None
    day: Optional[int] = None
    journal: Optional[str] = None
    volume: Optional[str] = None
    issue: Optional[str] = None
    pages: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "authors": list(self.authors), "year": self.year,
            "month": self.month, "day": self.day, "title": self.title,
            "journal": self.journal, "volume": self.volume, "issue": self.issue,
            "pages": self.pages, "raw": self.raw,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Reference":
        return cls(**{**data, "authors": tuple(data.get("authors", ()))})

    def short(self) -> str:
        """"Volpi-Abadie et al. 2013": how a reader names a reference in passing."""
        surnames = [a.split(",")[0].strip() for a in self.authors]
        if not surnames:
            who = self.title
        elif len(surnames) == 1:
            who = surnames[0]
        elif len(surnames) == 2:
            who = f"{surnames[0]} and {surnames[1]}"
        else:
            who = f"{surnames[0]} et al."
        return f"{who} {self.year if self.year else 'n.d.'}"


@dataclass(frozen=True)
class ReferenceLink:
    """A reference that supports a passage, with the topical similarity that linked it."""

    reference_id: str
    score: float
    terms: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.reference_id, "score": round(self.score, 4),
                "terms": list(self.terms)}


@dataclass(frozen=True)
class Article:
    """Where passages come from: the metadata a citation needs, plus the cleaned text.

    ``text`` is the article's cleaned body; every passage's ``start``/``end``
    offsets index into it.
    """

    id: str
    title: str
    source: str
    text: str = field(repr=False)
    author: Optional[str] = None
    publisher: Optional[str] = None
    organization: Optional[str] = None
    published: Optional[_dt.date] = None
    accessed: Optional[_dt.date] = None
    url: Optional[str] = None
    references: tuple[Reference, ...] = ()

    def reference(self, reference_id: str) -> Optional[Reference]:
        for ref in self.references:
            if ref.id == reference_id:
                return ref
        return None

    def citation(self, style: str = "apa") -> str:
        """The article cited in ``"apa"`` or ``"mla"`` style, built from its fields."""
        style = style.lower()
        if style == "apa":
            return _apa(self)
        if style == "mla":
            return _mla(self)
        raise ValueError(f"unknown citation style {style!r}: use 'apa' or 'mla'")

    def to_dict(self, with_text: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id, "title": self.title, "author": self.author,
            "publisher": self.publisher, "organization": self.organization,
            "published": self.published.isoformat() if self.published else None,
            "accessed": self.accessed.isoformat() if self.accessed else None,
            "url": self.url, "source": self.source,
            "references": [r.to_dict() for r in self.references],
        }
        if with_text:
            data["text"] = self.text
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Article":
        def day(value: Optional[str]) -> Optional[_dt.date]:
            return _dt.date.fromisoformat(value) if value else None
        return cls(
            id=data["id"], title=data["title"], source=data.get("source", ""),
            text=data.get("text", ""), author=data.get("author"),
            publisher=data.get("publisher"), organization=data.get("organization"),
            published=day(data.get("published")), accessed=day(data.get("accessed")),
            url=data.get("url"),
            references=tuple(Reference.from_dict(r) for r in data.get("references", ())),
        )


def _apa(article: Article) -> str:
    """APA from what is known: a part that is not known is left out, never "(n.d.)"."""
    parts = []
    if article.author:
        names = article.author.split()
        initials = " ".join(f"{n[0]}." for n in names[:-1])
        parts.append(f"{names[-1]}, {initials}".strip(", ") + " ")
    if article.published:
        d = article.published
        parts.append(f"({d.year}, {_MONTHS_LONG[d.month - 1]} {d.day}). ")
    title = article.title.rstrip(".")
    parts.append(title if title.endswith(("?", "!")) else f"{title}.")
    if article.publisher:
        parts.append(f" {article.publisher}.")
    if article.url:
        parts.append(f" {article.url}")
    return "".join(parts)


def _mla(article: Article) -> str:
    parts = []
    if article.author:
        names = article.author.split()
        name = f"{names[-1]}, {' '.join(names[:-1])}" if len(names) > 1 else article.author
        parts.append(f"{name.rstrip('.')}. ")  # "Kim, R." ends with its initial's dot
    title = article.title
    if not title.endswith(("?", "!", ".")):
        title += "."
    parts.append(f"\u201c{title}\u201d")
    after = [x for x in (article.publisher, article.organization) if x]
    if article.published:
        d = article.published
        after.append(f"{d.day} {_MONTHS_SHORT[d.month - 1]} {d.year}")
    if article.url:
        after.append(article.url)
    if after:  # what follows the title, when anything is known
        parts.append(f" {', '.join(after)}.")
    return "".join(parts)


@dataclass(frozen=True)
class Passage:
    """A paragraph-sized unit of an article: what search ranks and returns.

    ``text == article.text[start:end]``; ``position`` counts from 0 in reading
    order; ``links`` says which references support the passage and how strongly.
    ``section`` is the section as the article names it (its heading, or the
    inferred kind when flattening lost the heading); ``kind`` is the canonical
    section kind it belongs to ("Causes", "Dosage", "Recovery" ...), decided
    at ingestion from the heading or, when the heading names none, from the
    text under it. Empty only for passages built by hand without one.
    """

    id: str
    article: Article = field(repr=False)
    position: int
    section: str
    subsection: Optional[str]
    text: str
    start: int
    end: int
    links: tuple[ReferenceLink, ...] = ()
    kind: str = ""

    @property
    def article_id(self) -> str:
        """The id of the passage's article (``article_id`` in its JSON)."""
        return self.article.id

    @property
    def references(self) -> tuple[Reference, ...]:
        """The supporting references themselves, strongest link first."""
        refs = (self.article.reference(link.reference_id) for link in self.links)
        return tuple(r for r in refs if r is not None)

    def to_dict(self) -> dict[str, Any]:
        """The passage record of ``passages.jsonl`` and of search results."""
        return {
            "id": self.id, "article_id": self.article.id, "position": self.position,
            "section": self.section, "kind": self.kind, "subsection": self.subsection,
            "text": self.text, "start": self.start, "end": self.end,
            "references": [link.to_dict() for link in self.links],
        }


@dataclass(frozen=True)
class Hit:
    """One ranked search result: the passage, its score and the matched terms marked."""

    rank: int
    score: float
    passage: Passage
    highlights: str
    matched_terms: tuple[str, ...] = ()
    explanation: Optional[dict[str, Any]] = None

    def to_dict(self) -> dict[str, Any]:
        article = self.passage.article
        data = {
            "rank": self.rank,
            "score": round(self.score, 4),
            "passage": self.passage.to_dict(),
            "highlights": self.highlights,
            "article": article.to_dict(),
            "citation": {"apa": article.citation("apa"), "mla": article.citation("mla")},
            "references": [r.to_dict() for r in self.passage.references],
        }
        data["article"].pop("references")
        if self.explanation is not None:
            data["explanation"] = self.explanation
        return data
