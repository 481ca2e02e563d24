"""Ingestion: the whole pipeline from source files to articles and passages.

reading -> cleaning -> citation -> sections -> segment -> linking. This module
only wires the stages together, names things (article and passage ids) and
writes the JSON Lines output; each stage lives in its own module.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterable, Optional

from .citation import parse_cite_block, parse_date, parse_references
from .errors import IngestError, OutputError
from .linking import link_references
from .models import Article, Passage
from .reading import Document, iter_sources, read_document, source_name
from .sections import place_blocks
from .segment import segment

__all__ = ["Corpus", "ingest", "ingest_document", "article_id_for", "write_jsonl",
           "articles_path_for", "write_atomic", "worker_count", "POOL_MIN_FILES"]


@dataclass(frozen=True)
class Corpus:
    """Everything ingestion produced: articles in source order, passages in reading order."""

    articles: tuple[Article, ...]
    passages: tuple[Passage, ...]


def article_id_for(title: str) -> str:
    """A short, readable, stable id from a title's first clause.

    "What is clonus? Everything you need to know" -> "what-is-clonus".
    """
    clause = re.split(r"[?:|\u2013\u2014!]| - ", title, maxsplit=1)[0]
    words = re.findall(r"[a-z0-9]+", clause.lower())[:6]
    return "-".join(words) or "article"


def _metadata(doc: Document) -> dict:
    cited = parse_cite_block(doc.cite)
    meta = dict(cited)
    for key, value in doc.meta.items():  # the page's own tags win over the cite block
        meta[key] = value
    for key in ("published", "accessed"):
        if isinstance(meta.get(key), str):
            meta[key] = parse_date(meta[key]) or cited.get(key)
    if not meta.get("title"):
        heading = next((b.text for b in doc.blocks if b.kind == "heading"), None)
        meta["title"] = heading or Path(doc.source).stem.replace("-", " ").replace("_", " ")
    return meta


def ingest_document(doc: Document, article_id: Optional[str] = None) -> tuple[Article, list[Passage]]:
    """Turn one read ``Document`` into its ``Article`` and ``Passage`` records."""
    meta = _metadata(doc)
    references = parse_references(doc.references)
    placements = place_blocks(doc.blocks, title=meta["title"])

    # The article's cleaned text: blocks, headings included, one blank line apart.
    parts: list[str] = []
    paragraphs = []
    offset = 0
    after_heading = False
    for block, placement in zip(doc.blocks, placements):
        if parts:
            offset += 2
        if placement is not None:
            paragraphs.append((offset, block.text, placement, block.item, after_heading))
        after_heading = placement is None
        parts.append(block.text)
        offset += len(block.text)
    text = "\n\n".join(parts)

    units = segment(paragraphs)
    passage_texts = [text[u.start:u.end] for u in units]
    links = link_references(passage_texts, references)
    article = Article(
        id=article_id or article_id_for(meta["title"]), title=meta["title"], source=doc.source,
        text=text, author=meta.get("author"), publisher=meta.get("publisher"),
        organization=meta.get("organization"), published=meta.get("published"),
        accessed=meta.get("accessed"), url=meta.get("url"), references=references,
    )
    passages = [
        Passage(id=f"{article.id}-p{pos}", article=article, position=pos,
                section=u.placement.section, subsection=u.placement.subsection,
                text=passage_texts[pos], start=u.start, end=u.end, links=links[pos],
                kind=u.placement.kind)
        for pos, u in enumerate(units)
    ]
    return article, passages


#: Files below this many are always read in the calling process: a worker
#: pool costs more to start than it saves on a few articles.
POOL_MIN_FILES = 16


def worker_count(files: int) -> int:
    """How many processes read ``files`` sources: ``CLONUS_INDEX_WORKERS`` (default 1).

    A pool pays only on an idle machine: measured on a busy 2-core machine it
    was slower than one process, so it is asked for, never assumed. One for
    fewer than ``POOL_MIN_FILES`` files whatever the setting.
    """
    env = os.environ.get("CLONUS_INDEX_WORKERS", "").strip()
    if not env:
        return 1
    try:
        wanted = int(env)
    except ValueError:
        raise IngestError(f"CLONUS_INDEX_WORKERS={env!r} is not a number; "
                          "set it to how many processes should read sources, such as 2") from None
    return 1 if files < POOL_MIN_FILES else max(1, wanted)


def _read_one(path: Path, relative_to: Optional[Path]) -> tuple[Article, list[Passage]]:
    """Read and ingest one source; its article id is its title's, made unique later."""
    doc = read_document(path)
    if relative_to is not None and path.is_relative_to(relative_to):
        doc = replace(doc, source=source_name(path.relative_to(relative_to)))
    return ingest_document(doc)


def _renamed(article: Article, passages: list[Passage], aid: str) -> tuple[Article, list[Passage]]:
    if aid == article.id:
        return article, passages
    article = replace(article, id=aid)
    return article, [replace(p, id=f"{aid}-p{p.position}", article=article) for p in passages]


def ingest(paths: Iterable[str | Path],
           progress: Optional[Callable[[Path], None]] = None,
           relative_to: Optional[Path] = None) -> Corpus:
    """Ingest files and folders of ``.txt``/``.html`` articles, in a stable order.

    Raises ``IngestError`` naming the first file that cannot be read.
    ``progress`` is called once per file, in order, before it is read (with a
    pool of workers: as its turn comes). With ``relative_to``, articles from
    files inside that folder record their source relative to it (the bundled
    article's "clonus_index/corpus/..."). With ``CLONUS_INDEX_WORKERS``, many
    files are read by a pool of processes; the result is the same, in order.
    """
    articles: list[Article] = []
    passages: list[Passage] = []
    used: set[str] = set()
    sources = list(iter_sources(paths))
    if not sources:
        raise IngestError("no sources given; name .txt or .html files or folders of them")
    workers = worker_count(len(sources))
    if workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        results = pool.map(_read_one, sources, [relative_to] * len(sources),
                           chunksize=max(1, min(32, len(sources) // (8 * workers))))
    else:
        pool = None
        results = (_read_one(path, relative_to) for path in sources)
    try:
        for path in sources:
            if progress:
                progress(path)
            article, found = next(results)
            base = article.id
            aid, n = base, 2
            while aid in used:
                aid, n = f"{base}-{n}", n + 1
            used.add(aid)
            article, found = _renamed(article, found, aid)
            articles.append(article)
            passages.extend(found)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return Corpus(tuple(articles), tuple(passages))


def articles_path_for(passages_path: str | Path) -> Path:
    """Where the articles file goes beside a passages file: ``X.jsonl`` -> ``X.articles.jsonl``."""
    path = Path(passages_path)
    stem = path.name[:-len(".jsonl")] if path.name.endswith(".jsonl") else path.name
    return path.with_name(f"{stem}.articles.jsonl")


def write_atomic(path: Path, lines: Iterable[str]) -> None:
    """Write ``lines`` to ``path`` all at once: into a temporary file beside it, then renamed.

    The temporary file (``.<name>.`` and a random suffix) is created with
    mode 0666 less the umask, as ``open()`` would; ``tempfile.mkstemp`` would
    make it, and so ``path``, private (0600). Errors name ``path``, never the
    temporary file.
    """
    path = Path(path)
    tmp = _write_beside(path, lines)
    try:
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _naming(path, exc) from None


def _write_beside(path: Path, lines: Iterable[str]) -> Path:
    """Write ``lines`` into a new temporary file beside ``path``, synced; return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        tmp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise _naming(path, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for line in lines:
                fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _naming(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _naming(path: Path, exc: OSError) -> OSError:
    """The same error, about ``path`` instead of the temporary file the user never named."""
    return OSError(exc.errno, exc.strerror, str(path)) if exc.errno else exc


def _check_outputs(passages_path: Path, articles_path: Path) -> None:
    """Refuse a folder, or one file for both outputs, before anything is written."""
    for path, example in ((passages_path, "passages.jsonl"), (articles_path, "articles.jsonl")):
        if path.is_dir():
            raise OutputError(f"{path}: is a folder; name a file to write, "
                              f"such as {path / example}")
    same = (os.path.samefile(passages_path, articles_path)
            if passages_path.exists() and articles_path.exists()
            else passages_path.resolve() == articles_path.resolve())
    if same:
        raise OutputError(f"{passages_path}: passages and articles would go to the same file; "
                          "choose a different --articles path (or leave it out)")


def write_jsonl(corpus: Corpus, passages_path: str | Path,
                articles_path: Optional[str | Path] = None) -> tuple[Path, Path]:
    """Write one JSON object per passage, and one per article (with its text and references).

    Both files are written completely before either replaces what was there,
    so a failure leaves neither written (and an earlier pair as it was).
    """
    passages_path = Path(passages_path)
    articles_path = Path(articles_path) if articles_path else articles_path_for(passages_path)
    _check_outputs(passages_path, articles_path)
    done: list[tuple[Path, Path]] = []
    try:
        done.append((_write_beside(passages_path, (json.dumps(p.to_dict(), ensure_ascii=False)
                                                   for p in corpus.passages)), passages_path))
        done.append((_write_beside(articles_path, (json.dumps(a.to_dict(with_text=True),
                                                              ensure_ascii=False)
                                                   for a in corpus.articles)), articles_path))
        for tmp, path in done:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise _naming(path, exc) from None
    finally:
        for tmp, _ in done:
            tmp.unlink(missing_ok=True)
    return passages_path, articles_path
