"""The HTTP JSON service: ``clonus-index serve``, a FastAPI app on uvicorn.

An interface over ``serving.Catalog``, like the CLI. FastAPI because its
OpenAPI document and docs page come from the same declarations that parse
each request, so the published API cannot drift from the served one.
Needs the ``serve`` extra: ``pip install "clonus-index[serve]"``.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import os
import sys
from typing import Any, Optional, Sequence

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import __version__
from . import web_schema as schema
from .errors import IndexStateError, QueryError
from .query import MAX_QUERY_CHARS
from .searching import MAX_RESULTS
from .semantic import SemanticUnavailableError
from .serving import MAX_ARTICLES, MAX_LIMIT, Catalog, IndexLike

__all__ = ["create_app", "serve", "binding_problem", "TOKEN_ENV", "MAX_REQUEST_LINE",
           "MIN_TOKEN_CHARS"]

#: The bearer token every request must carry, when set (required off loopback).
TOKEN_ENV = "CLONUS_INDEX_TOKEN"
MIN_TOKEN_CHARS = 16
#: The request line and headers together are refused beyond this many bytes:
#: room for any query the library takes (20,000 characters, up to 12 bytes
#: each once UTF-8 and percent-encoded), and no more.
MAX_REQUEST_LINE = 256 * 1024
#: How ``serve --workers N`` hands its settings to each worker process.
_SETTINGS_ENV = "CLONUS_INDEX_SERVE_SETTINGS"

_ERRORS = {400: {"model": schema.Error, "description": "bad request: the message says what to change"},
           401: {"model": schema.Error, "description": "the bearer token is missing or wrong"},
           422: {"model": schema.Error, "description": "a parameter has the wrong type"},
           503: {"model": schema.Error, "description": "the index cannot be read; rebuild it"}}
_NOT_FOUND = {404: {"model": schema.Error, "description": "no such id"}}


def _error(status: int, message: str, headers: Optional[dict] = None) -> JSONResponse:
    return JSONResponse({"detail": message}, status_code=status, headers=headers)


class _Guard:
    """Refuses request bodies (every endpoint is a GET) and, with a token, unauthorised requests."""

    def __init__(self, app, token: Optional[str]):
        self.app = app
        self.token = token.encode("utf-8") if token else None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        if headers.get(b"content-length", b"0").strip() not in (b"0", b"") or \
                b"transfer-encoding" in headers:
            response = _error(413, "request bodies are not accepted; every endpoint is a GET "
                                   "with its parameters in the query string")
            return await response(scope, receive, send)
        if self.token is not None and scope["path"] != "/health":
            scheme, _, given = headers.get(b"authorization", b"").partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), self.token):
                response = _error(401, f"send the token as 'Authorization: Bearer ${TOKEN_ENV}'",
                                  headers={"WWW-Authenticate": "Bearer"})
                return await response(scope, receive, send)
        return await self.app(scope, receive, send)


def create_app(index: IndexLike = None, token: Optional[str] = None,
               cors_origins: Sequence[str] = ()) -> FastAPI:
    """The service's ASGI app over ``index`` (an ``Index``, a folder, or None: the bundled one)."""
    catalog = Catalog(index)
    app = FastAPI(
        title="clonus_index", version=__version__,
        description="Ranked, cited passages from medical articles. Every response is the "
                    "same JSON as the `clonus-index` command's `--json`; every error is "
                    "`{\"detail\": \"one line that says what to change\"}`.")

    @app.exception_handler(QueryError)
    async def _bad_request(request: Request, exc: QueryError):
        return _error(400, str(exc))

    @app.exception_handler(SemanticUnavailableError)
    async def _no_semantic_stage(request: Request, exc: SemanticUnavailableError):
        return _error(400, f"semantic search is not installed on this server ({exc}); "
                           "ask without semantic=true")

    @app.exception_handler(KeyError)
    async def _unknown_id(request: Request, exc: KeyError):
        return _error(404, str(exc.args[0]) if exc.args else "not found")

    @app.exception_handler(IndexStateError)
    async def _index_trouble(request: Request, exc: IndexStateError):
        return _error(503, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        problems = []
        for e in exc.errors():
            where = ".".join(str(x) for x in e.get("loc", ()) if x not in ("query", "path"))
            problems.append(f"{where}: {e.get('msg', 'invalid')}".lstrip(": "))
        return _error(422, "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        message = {404: f"no endpoint {request.url.path}; the API is described at /docs",
                   405: f"{request.method} is not allowed here; every endpoint is a GET"}
        return _error(exc.status_code, message.get(exc.status_code, str(exc.detail)),
                      headers=getattr(exc, "headers", None))

    @app.get("/search", response_model=schema.SearchResponse, responses=_ERRORS,
             summary="Ranked passages for a question or a query")
    def search(q: str = Query(description="a plain question, or Whoosh query syntax",
                              json_schema_extra={"minLength": 1, "maxLength": MAX_QUERY_CHARS}),
               limit: int = Query(10, description="how many passages",
                                  json_schema_extra={"minimum": 1, "maximum": MAX_LIMIT}),
               offset: int = Query(0, description="skip this many ranked passages; "
                                   f"offset + limit is at most {MAX_RESULTS}",
                                   json_schema_extra={"minimum": 0, "maximum": MAX_RESULTS - 1}),
               section: Optional[str] = Query(None, description="only this section (name or kind)"),
               article: Optional[str] = Query(None, description="only this article (its id)"),
               semantic: Optional[bool] = Query(
                   None, description="fuse the model's similarity into the ranking; default: "
                                     "on when the index was built with passage vectors")):
        results = catalog.search(q, limit=limit, offset=offset, section=section, article=article,
                                 semantic=semantic)
        return JSONResponse(results.to_dict())

    @app.get("/passages/{passage_id}", response_model=schema.CitedPassage,
             responses={**_ERRORS, **_NOT_FOUND}, summary="One passage with its citation")
    def passage(passage_id: str):
        return JSONResponse(catalog.passage(passage_id))

    @app.get("/articles", response_model=schema.ArticleList, responses=_ERRORS,
             summary="The indexed articles, a page at a time")
    def articles(limit: int = Query(100, json_schema_extra={"minimum": 1, "maximum": MAX_ARTICLES}),
                 offset: int = Query(0, json_schema_extra={"minimum": 0})):
        return JSONResponse(catalog.articles(limit=limit, offset=offset))

    @app.get("/articles/{article_id}", response_model=schema.ArticleDetail,
             responses={**_ERRORS, **_NOT_FOUND}, summary="One article with its references")
    def article(article_id: str):
        return JSONResponse(catalog.article(article_id))

    @app.get("/info", response_model=schema.Info, responses=_ERRORS,
             summary="What the index holds")
    def info():
        return JSONResponse(catalog.info())

    @app.get("/health", response_model=schema.Health, summary="Liveness (needs no token)")
    def health():
        return {"status": "ok"}

    app.add_middleware(_Guard, token=token)
    if cors_origins:  # outermost, so that preflight requests need no token
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins),
                           allow_methods=["GET"], allow_headers=["Authorization"])
    return app


def binding_problem(host: str, token: Optional[str]) -> Optional[str]:
    """Why not to listen on ``host`` with ``token``: beyond this machine without a
    token, or with a guessable one. None when all is well."""
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        return (f"{TOKEN_ENV} is too short ({len(token)} characters); use at least "
                f"{MIN_TOKEN_CHARS} random ones, e.g. from: "
                "python3 -c 'import secrets; print(secrets.token_urlsafe())'")
    if token is None and not _is_loopback(host):
        return (f"--host {host} would let other machines search this index; set "
                f"{TOKEN_ENV} to a secret first (clients then send 'Authorization: "
                f"Bearer <secret>'), or serve on 127.0.0.1")
    return None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


def _app_from_environment() -> FastAPI:
    """The app of one ``--workers`` process, from the settings ``serve`` left in the environment."""
    settings = json.loads(os.environ[_SETTINGS_ENV])
    return create_app(settings["index"], token=os.environ.get(TOKEN_ENV) or None,
                      cors_origins=settings["cors"])


def serve(index_path: Optional[str], host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          cors_origins: Sequence[str] = (), access_log: bool = True) -> None:
    """Run the service until interrupted (``clonus-index serve``)."""
    import uvicorn

    token = os.environ.get(TOKEN_ENV) or None
    problem = binding_problem(host, token)
    if problem:
        raise ValueError(problem)
    options: dict[str, Any] = dict(host=host, port=port, http="h11", access_log=access_log,
                                   h11_max_incomplete_event_size=MAX_REQUEST_LINE,
                                   log_level="info", server_header=False)
    shown = f"[{host}]" if ":" in host else host
    note = f"; requests must send 'Authorization: Bearer ${TOKEN_ENV}'" if token else ""
    if workers > 1:
        # Each worker process opens the index itself; open it here first so a
        # missing index fails once, with its message, before any worker starts.
        Catalog(index_path)
        os.environ[_SETTINGS_ENV] = json.dumps({"index": index_path, "cors": list(cors_origins)})
        app: Any = "clonus_index.web:_app_from_environment"
        options.update(factory=True, workers=workers)
    else:
        app = create_app(index_path, token=token, cors_origins=cors_origins)
    print(f"Serving {index_path or 'the bundled article'} on http://{shown}:{port} "
          f"(API docs at /docs){note}", file=sys.stderr, flush=True)
    uvicorn.run(app, **options)
