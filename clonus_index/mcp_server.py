"""The MCP server: ``clonus-index mcp``, the index as tools for an assistant, over stdio.

An interface over ``serving.Catalog``, like the CLI and the HTTP service,
built with the official ``mcp`` SDK. Each tool answers with text a model can
quote (passage, place, APA citation, references) and, for programs, the same
JSON as the CLI's ``--json`` as structured content. Needs the ``mcp`` extra.
"""

from __future__ import annotations

import functools
from typing import Annotated, Optional

from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from . import __version__
from .errors import ClonusIndexError
from .serving import MAX_ARTICLES, MAX_LIMIT, Catalog, IndexLike, quotable

__all__ = ["create_server", "run_stdio"]

INSTRUCTIONS = (
    "Search medical articles for passages that answer a question. Each passage comes with "
    "its article's citation and the references that support it: quote the passage and cite "
    "its source (the 'Source:' line) in your answer. Use get_passage to re-read a passage by "
    "id, and list_articles to see what the index covers.")

_READ_ONLY = ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False)


def _result(text: str, data: dict) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=data)


def _range(minimum: int, maximum: Optional[int] = None) -> dict:
    """A number's bounds for the tool's schema, checked by the library with its own message.

    (``Field(ge=..., le=...)`` would have the SDK refuse the call first, with
    a pydantic report in place of the library's one line.)
    """
    return {"minimum": minimum} | ({"maximum": maximum} if maximum is not None else {})


def _tool_errors(func):
    """The library's one-line errors become tool errors the model can read and act on.

    The error result carries the library's message as it is: raised as a
    ``ToolError``, the SDK would put "Error executing tool NAME: " before it.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (ClonusIndexError, ValueError) as exc:
            message = str(exc)
        except KeyError as exc:
            message = str(exc.args[0]) if exc.args else str(exc)
        return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)

    return wrapper


def create_server(index: IndexLike = None) -> MCPServer:
    """An MCP server over ``index`` (an ``Index``, a folder, or None: the bundled article)."""
    catalog = Catalog(index)
    server = MCPServer(name="clonus-index", version=__version__, instructions=INSTRUCTIONS)

    @server.tool(annotations=_READ_ONLY)
    @_tool_errors
    def search(query: Annotated[str, Field(description="a question or keywords")],
               limit: Annotated[int, Field(description="how many passages",
                                           json_schema_extra=_range(1, MAX_LIMIT))] = 5,
               section: Annotated[Optional[str], Field(
                   description="only passages of this section, e.g. Treatment")] = None,
               semantic: Annotated[Optional[bool], Field(
                   description="fuse the model's similarity into the ranking (default: on "
                               "when the index has passage vectors)")] = None,
               ) -> CallToolResult:
        """Ranked passages that answer a question, each with its citation and references."""
        results = catalog.search(query, limit=limit, section=section, semantic=semantic)
        if results:
            text = "\n\n".join(quotable(h.passage, h.rank) for h in results)
        else:
            text = f"No passages match {query!r}."
        if results.corrected_query:
            text = f"Searched for: {results.corrected_query}\n\n{text}"
        return _result(text, results.to_dict())

    @server.tool(annotations=_READ_ONLY)
    @_tool_errors
    def get_passage(passage_id: Annotated[str, Field(
            description="a passage id from search, e.g. what-is-clonus-p20")]) -> CallToolResult:
        """One passage by id, with its article's citation (APA and MLA) and its references."""
        data = catalog.passage(passage_id)
        passage = catalog.index.get(passage_id)
        text = quotable(passage) + f"\nMLA: {data['citation']['mla']}"
        return _result(text, data)

    @server.tool(annotations=_READ_ONLY)
    @_tool_errors
    def list_articles(limit: Annotated[int, Field(json_schema_extra=_range(1, MAX_ARTICLES))] = 100,
                      offset: Annotated[int, Field(json_schema_extra=_range(0))] = 0
                      ) -> CallToolResult:
        """The articles the index holds: id, title, citation and passage count."""
        data = catalog.articles(limit=limit, offset=offset)
        lines = [f"{len(data['articles'])} of {data['total']} articles:"]
        lines += [f"- {a['id']}: {a['citation']['apa']} ({a['passages']} passages)"
                  for a in data["articles"]]
        return _result("\n".join(lines), data)

    return server


def run_stdio(index: IndexLike = None) -> None:
    """Serve over stdin/stdout until the client closes them (``clonus-index mcp``)."""
    server = create_server(index)
    server.run("stdio")

