"""The ``clonus-index`` command: a thin Click layer over the library.

Each command parses its options, calls one library function and prints the
result: results on stdout, progress and messages on stderr, every failure a
one-line ``Error: ...`` with a non-zero exit code. Everything printed as text
goes through ``output.printable``: no file name, heading or query can send
the terminal an escape sequence.
"""

from __future__ import annotations

import functools
import os
import sys
import warnings
from pathlib import Path
from typing import Callable, Optional

import click

from . import __version__
from . import opensearch_connection
from .errors import ClonusIndexError, QueryError, SkippedSourceWarning
from .evaluate import DEPTH, evaluate, load_questions
from .pipeline import ingest, write_jsonl
from .output import (dumps, format_hit, format_info, format_passage, format_report,
                     passage_lines, printable)
from .reading import iter_sources
from .searching import DEFAULT_LIMIT, Index, build_index, open_index
from .serving import cited_passage

__all__ = ["cli", "main"]

#: Show a progress bar when a build reads at least this many files.
PROGRESS_MIN_FILES = 5
#: The exit status of a writer whose reader went away (128 + SIGPIPE), as a
#: shell reports it for ``yes | head -1``.
EXIT_BROKEN_PIPE = 141


class UserError(click.ClickException):
    """A one-line error; ``exit_code`` 2 for bad requests, 1 for everything else."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(printable(message))
        self.exit_code = exit_code


def _errors(func: Callable) -> Callable:
    """Turn the library's documented errors into one-line CLI errors."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", SkippedSourceWarning)
                warnings.showwarning = _skipped_on_stderr(warnings.showwarning)
                return func(*args, **kwargs)
        except BrokenPipeError:
            _stop_writing()
            raise click.exceptions.Exit(EXIT_BROKEN_PIPE) from None
        except QueryError as exc:
            raise UserError(str(exc), exit_code=2) from None
        except ClonusIndexError as exc:
            raise UserError(str(exc)) from None
        except KeyError as exc:
            raise UserError(str(exc.args[0]) if exc.args else str(exc)) from None
        except OSError as exc:
            raise UserError(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")) from None

    return wrapper


def _skipped_on_stderr(show: Callable) -> Callable:
    """A ``showwarning`` that prints each skipped source once, as ``Warning: ...`` on stderr."""
    said: set[str] = set()

    def showwarning(message, category, *args, **kwargs):
        if not issubclass(category, SkippedSourceWarning):
            return show(message, category, *args, **kwargs)
        if str(message) not in said:
            said.add(str(message))
            click.echo(f"Warning: {printable(message)}", err=True)

    return showwarning


def _stop_writing() -> None:
    """The reader of stdout left (``| head -1``): end quietly, as ``cat`` would.

    Output still buffered would fail again when Python flushes it at exit and
    print a warning, so stdout is pointed at the null device first.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real stdout (CliRunner): nothing will be flushed
        pass


def _index_location(ctx, param, value: Optional[str]):
    """A folder as a ``Path``; an ``opensearch://host:port/NAME`` URL as it was typed."""
    if value is None or opensearch_connection.is_opensearch_url(value):
        return value
    return Path(value)


def index_option(func: Callable) -> Callable:
    return click.option(
        "--index", "index_path", type=str, default=None, callback=_index_location,
        metavar="PATH", envvar=None,
        help="Index folder to use (default: the bundled clonus article, "
             "indexed in the user cache or in $CLONUS_INDEX_DIR), or an OpenSearch "
             "index as opensearch://HOST:PORT/NAME.")(func)


#: Paths the library checks itself: click's own check would end in a usage
#: error (status 2) for an unreadable file, where the library names the file.
SOURCE_PATHS = click.Path(path_type=Path, readable=False)


def semantic_option(meaning: str) -> Callable:
    return click.option("--semantic/--no-semantic", default=None, help=meaning)


#: What ``--semantic/--no-semantic`` means for the commands that search.
SEARCH_SEMANTIC = ("Fuse the lexical ranking with the model's similarity (the semantic "
                   "extra; default: on when the index was built with --semantic).")


def json_option(func: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(func)


def _open(index_path: Optional[Path | str]) -> Index:
    return open_index(index_path)  # a folder, the bundled index, or opensearch://...


@click.group(context_settings={"help_option_names": ["-h", "--help"]},
             invoke_without_command=True)
@click.version_option(__version__, "--version", prog_name="clonus-index")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Search medical articles and get ranked passages with their citations.

    \b
    Example:
        clonus-index search "botox for ankle clonus"
    """
    if ctx.invoked_subcommand is None:  # no command: say what there is, and succeed
        click.echo(ctx.get_help())


@cli.command()
@click.argument("query")
@click.option("--limit", "-n", type=int, default=DEFAULT_LIMIT, show_default=True,
              help="How many passages to return.")
@click.option("--offset", type=int, default=0, show_default=True,
              help="Skip this many passages first (the next page: --offset 10).")
@click.option("--section", "-s", metavar="NAME",
              help="Only passages of this section (e.g. Treatment).")
@click.option("--article", "-a", metavar="ID",
              help="Only passages of this article (ids: clonus-index info).")
@click.option("--explain", is_flag=True, help="Show the parsed query and what each hit matched.")
@semantic_option(SEARCH_SEMANTIC)
@json_option
@index_option
@_errors
def search(query: str, limit: int, offset: int, section: Optional[str], article: Optional[str],
           explain: bool, semantic: Optional[bool], as_json: bool,
           index_path: Optional[Path]) -> None:
    """Rank passages for QUERY: a plain question or Whoosh query syntax.

    \b
    Examples:
        clonus-index search "what causes clonus"
        clonus-index search "ankle test" --section diagnosis --json
        clonus-index search '"muscle relaxers" OR sedatives' --explain
        clonus-index search "treatment" --limit 10 --offset 10
        clonus-index search "can I drive on these pills" --semantic --index ./my-index
    """
    index = _open(index_path)
    results = index.search(query, limit=limit, section=section, explain=explain,
                           offset=offset, article=article, semantic=semantic)
    if as_json:
        data = results.to_dict()
        if explain:
            data["parsed_query"] = results.parsed
        click.echo(dumps(data))
        return
    if results.corrected_query:
        click.echo(f"Did you mean: {printable(results.corrected_query)}", err=True)
    if explain:
        click.echo(f"Parsed query: {printable(results.parsed)}", err=True)
    if not results:
        click.echo(f"No passages match {printable(repr(query))}.", err=True)
        return
    click.echo("\n\n".join(format_hit(h) for h in results))


@cli.command()
@click.argument("sources", nargs=-1, type=SOURCE_PATHS)
@click.option("--with-bundled", is_flag=True,
              help="Index the bundled clonus article too, after SOURCES.")
@click.option("--index", "index_path", type=str, callback=_index_location, metavar="PATH",
              help="Index folder to write (required): a new or empty folder, or an index "
                   "to replace; or an OpenSearch index as opensearch://HOST:PORT/NAME.")
@semantic_option("Also store each passage's vector for the semantic stage (the semantic "
                 "extra); default: as the index being replaced had it.")
@_errors
def build(sources: tuple[Path, ...], with_bundled: bool, index_path: Optional[Path],
          semantic: Optional[bool]) -> None:
    """Build an index from SOURCES: .txt/.html article files or folders of them.

    The old index stays searchable until the new one is complete.

    \b
    Examples:
        clonus-index build source/ --index ./my-index
        clonus-index build my-articles/ --with-bundled --index ./my-index
        clonus-index build source/ --index opensearch://127.0.0.1:9200/articles
        clonus-index build my-articles/ --semantic --index ./my-index
    """
    if index_path is None:
        raise UserError("say where to build the index with --index PATH", exit_code=2)
    if not sources and not with_bundled:
        raise UserError("name the articles to index: clonus-index build SOURCES... --index PATH "
                        "(add --with-bundled to index the bundled article too)", exit_code=2)
    count = len(list(iter_sources(sources))) if sources else 0
    count += 1 if with_bundled else 0  # the bundled corpus is one article
    read: list[Path] = []
    if count >= PROGRESS_MIN_FILES:
        with click.progressbar(length=count, label="Reading articles", file=sys.stderr,
                               item_show_func=lambda p: printable(p.name) if p else None) as bar:
            def progress(path: Path) -> None:
                read.append(path)
                bar.update(1, path)
            index = build_index(sources, index_path, progress=progress, with_bundled=with_bundled,
                                semantic=semantic)
    else:
        index = build_index(sources, index_path, progress=read.append, with_bundled=with_bundled,
                            semantic=semantic)
    info = index.info()
    vectors = " (with passage vectors)" if info.get("semantic") else ""
    kept = len(info["articles"]) - len(read)  # sources an earlier build read, unchanged since
    click.echo(printable(f"Indexed {info['passages']} passages from {len(info['articles'])} "
                         f"article(s) into {info['path']}{vectors}"
                         + (f" ({kept} unchanged source{'s' if kept > 1 else ''} kept as "
                            f"{'they were' if kept > 1 else 'it was'})" if kept > 0 else "")),
               err=True)


def _writable_index(index_path, command: str) -> Path:
    """The index an ``add`` or ``remove`` changes: given, and not the bundled one."""
    if index_path is None:
        raise UserError(f"say which index to change with --index PATH (the bundled article's "
                        f"index cannot be changed: {BUNDLED_HINT})", exit_code=2)
    return index_path


#: How to make an index of one's own, for the bundled index that cannot be changed.
BUNDLED_HINT = "make your own with: clonus-index build SOURCES... --with-bundled --index PATH"


def _change(index_path, command: str, as_json: bool, change: Callable[[Index], object]) -> None:
    """Open the index an ``add`` or ``remove`` changes, change it, and say what changed."""
    index = open_index(_writable_index(index_path, command))
    update = change(index)
    if as_json:
        click.echo(dumps(update.to_dict()))
    _say_update(update, index)


def _say_update(update, index: Index) -> None:
    """One line on stderr: what changed, and what the index now holds."""
    parts = [f"{len(ids)} {what}" for what, ids in (("added", update.added),
                                                    ("replaced", update.replaced),
                                                    ("removed", update.removed)) if ids]
    info = index.info()
    change = ", ".join(parts) if update.changed else "nothing changed"
    click.echo(printable(f"{change}: {info['passages']} passages from {len(info['articles'])} "
                         f"article(s) in {info['path']}"), err=True)


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=SOURCE_PATHS)
@click.option("--index", "index_path", type=str, callback=_index_location, metavar="PATH",
              help="Index folder to change (required).")
@json_option
@_errors
def add(sources: tuple[Path, ...], index_path: Optional[Path], as_json: bool) -> None:
    """Add the articles of SOURCES to an index, replacing those already in it.

    A source already indexed (named by the same path) replaces its article,
    which keeps its id when its title is the same; an unchanged source is
    skipped. Searchers see the index before or after, never in between.

    \b
    Example:
        clonus-index add new-articles/ updated.html --index ./my-index
    """
    _change(index_path, "add", as_json, lambda index: index.add(sources))


@cli.command()
@click.argument("article_ids", nargs=-1, required=True, metavar="ARTICLE_ID...")
@click.option("--index", "index_path", type=str, callback=_index_location, metavar="PATH",
              help="Index folder to change (required).")
@json_option
@_errors
def remove(article_ids: tuple[str, ...], index_path: Optional[Path], as_json: bool) -> None:
    """Remove articles from an index by id (the ids are listed by clonus-index info).

    \b
    Example:
        clonus-index remove what-is-clonus --index ./my-index
    """
    _change(index_path, "remove", as_json, lambda index: index.remove(article_ids))


@cli.command()
@click.argument("passage_id")
@json_option
@index_option
@_errors
def show(passage_id: str, as_json: bool, index_path: Optional[Path]) -> None:
    """Show one passage with its article, citation and references.

    \b
    Example:
        clonus-index show what-is-clonus-p21
    """
    passage = _open(index_path).get(passage_id)
    if as_json:
        click.echo(dumps(cited_passage(passage)))
    else:
        click.echo(format_passage(passage))


@cli.command()
@json_option
@index_option
@_errors
def passages(as_json: bool, index_path: Optional[Path]) -> None:
    """List every passage: id, section and opening words (JSON Lines with --json).

    \b
    Example:
        clonus-index passages --json > passages.jsonl
    """
    found = _open(index_path).passages()
    if as_json:
        for p in found:
            click.echo(dumps(p.to_dict(), pretty=False))
    else:
        for line in passage_lines(found):
            click.echo(line)


@cli.command()
@json_option
@index_option
@_errors
def info(as_json: bool, index_path: Optional[Path]) -> None:
    """Say what an index holds and where it lives.

    \b
    Example:
        clonus-index info
    """
    data = _open(index_path).info()
    click.echo(dumps(data) if as_json else format_info(data))


@cli.command(name="ingest")
@click.argument("sources", nargs=-1, required=True, type=SOURCE_PATHS)
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, metavar="FILE",
              help="Passages file to write (JSON Lines).")
@click.option("--articles", "articles_out", type=click.Path(path_type=Path), metavar="FILE",
              help="Articles file to write (default: FILE with .articles.jsonl).")
@_errors
def ingest_command(sources: tuple[Path, ...], out: Path, articles_out: Optional[Path]) -> None:
    """Clean SOURCES into passages (JSON Lines) without building an index.

    \b
    Example:
        clonus-index ingest source/ --out passages.jsonl
    """
    corpus = ingest(sources)
    passages_path, articles_path = write_jsonl(corpus, out, articles_out)
    linked = sum(1 for p in corpus.passages if p.links)
    references = sum(len(a.references) for a in corpus.articles)
    click.echo(printable(f"{len(corpus.articles)} article(s), {len(corpus.passages)} passages "
                         f"({linked} linked to {references} references) -> {passages_path}, "
                         f"{articles_path}"), err=True)


@cli.command(name="eval")
@click.argument("questions", type=SOURCE_PATHS)
@semantic_option(SEARCH_SEMANTIC)
@json_option
@index_option
@_errors
def eval_command(questions: Path, semantic: Optional[bool], as_json: bool,
                 index_path: Optional[Path]) -> None:
    """Measure retrieval quality on QUESTIONS (JSON Lines of {"q", "keys", "kind"}).

    Reports success@1, success@3 and MRR@10, overall and per kind, and lists
    the questions whose first passage did not answer them.

    \b
    Example:
        clonus-index eval tests/data/questions.jsonl
    """
    index = _open(index_path)
    report = evaluate(lambda q: [h.passage.text for h in index.search(q, limit=DEPTH,
                                                                      semantic=semantic)],
                      load_questions(questions))
    click.echo(dumps(report.to_dict()) if as_json else format_report(report))


def _extra(module: str, extra: str):
    """Import the module of an optional interface, or say which extra installs it."""
    import importlib
    try:
        return importlib.import_module(f"clonus_index.{module}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("clonus_index"):
            raise
        raise UserError(f"this command needs the {extra} extra ({exc.name} is missing): "
                        f'pip install "clonus-index[{extra}]"') from None


@cli.command()
@index_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any but loopback needs $CLONUS_INDEX_TOKEN.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes, each with the index open.")
@click.option("--cors-origin", "cors_origins", multiple=True, metavar="ORIGIN",
              help="Let web pages from ORIGIN call the API (repeatable; default: none).")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="Log each request on stdout.")
@_errors
def serve(index_path: Optional[Path], host: str, port: int, workers: int,
          cors_origins: tuple[str, ...], access_log: bool) -> None:
    """Serve the index over HTTP as JSON (needs the serve extra).

    Endpoints: /search?q=, /passages/ID, /articles, /articles/ID, /info,
    /health; the OpenAPI document is at /openapi.json and its docs at /docs.
    Listening on an address other than loopback requires a bearer token in
    $CLONUS_INDEX_TOKEN.

    \b
    Example:
        clonus-index serve --port 8000
        curl 'http://127.0.0.1:8000/search?q=what+causes+clonus&limit=3'
    """
    web = _extra("web", "serve")
    try:
        web.serve(str(index_path) if index_path else None, host=host, port=port, workers=workers,
                  cors_origins=cors_origins, access_log=access_log)
    except ValueError as exc:
        if isinstance(exc, ClonusIndexError):
            raise
        raise UserError(str(exc), exit_code=2) from None


@cli.command()
@index_option
@_errors
def mcp(index_path: Optional[Path]) -> None:
    """Serve the index to an assistant over the Model Context Protocol on stdio (needs the mcp extra).

    Tools: search (query, limit, section, semantic), get_passage (passage_id) and
    list_articles. Register the command in an MCP-capable assistant; it
    speaks on stdin/stdout and logs on stderr.

    \b
    Example:
        clonus-index mcp --index ./my-index
    """
    _extra("mcp_server", "mcp").run_stdio(index_path)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="clonus-index")
