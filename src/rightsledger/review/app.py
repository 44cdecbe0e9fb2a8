"""The review workspace: `create_app(ledger, settings)` builds the FastAPI application.

Everything the app needs (ledger, settings, templates) hangs off `app.state`; nothing lives at
module level, so tests can build as many apps as they like. Pages are rendered on the server
(Jinja2, autoescaped); the little JavaScript there is lives in static files, so the
Content-Security-Policy can forbid inline script entirely.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from rightsledger.errors import NotFoundError, RightsLedgerError
from rightsledger.ledger import Ledger
from rightsledger.review import present
from rightsledger.review.auth import Policy

__all__ = ["ReviewSettings", "create_app"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReviewSettings:
    """How the workspace runs. `tile_url` (e.g. https://tile.example/{z}/{x}/{y}.png) adds an
    online base layer and lets the CSP load images from that host; without it nothing is fetched
    from anywhere but this server."""

    policy: Policy = field(default_factory=Policy)
    tile_url: str | None = None
    page_size: int = 50


def _csp(tile_url: str | None) -> str:
    img = "'self' data:"
    if tile_url:
        parts = urlsplit(tile_url)
        if parts.scheme in ("http", "https") and parts.netloc:
            img += f" {parts.scheme}://{parts.netloc.split('@')[-1].replace('{s}', '*')}"
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src " + img + "; "
            "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'; "
            "object-src 'none'")


# The preserved original is shown as text only: no script, no styles, no plugins, sandboxed.
ORIGINAL_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"


def _templates() -> Jinja2Templates:
    folder = str(resources.files("rightsledger.review").joinpath("templates"))
    env = Environment(loader=FileSystemLoader(folder), autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(date_label=present.date_label, fact_label=present.fact_label, FACT_KINDS=present.FACT_KINDS)
    env.filters["label"] = lambda s: str(s or "").replace("_", " ")
    return Jinja2Templates(env=env)


def create_app(ledger: Ledger, settings: ReviewSettings | None = None) -> FastAPI:
    """The review workspace over `ledger` (which the caller opens and closes)."""
    from rightsledger.review import api, routes  # they import this module's helpers

    settings = settings or ReviewSettings()
    # The OpenAPI schema and docs are served by `api` to signed-in users only.
    app = FastAPI(title="RightsLedger review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ledger = ledger
    app.state.settings = settings
    app.state.templates = _templates()
    csp = _csp(settings.tile_url)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy",
                                    csp if not request.url.path.startswith("/api/docs") else _DOCS_CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(RightsLedgerError)
    async def library_error(request: Request, exc: RightsLedgerError) -> Response:
        status = 404 if isinstance(exc, NotFoundError) else 400
        message = exc.args[0] if exc.args else type(exc).__name__
        return error_page(request, status, str(message), exc.hint)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (301, 302, 303, 307) and exc.headers:
            return Response(status_code=exc.status_code, headers=exc.headers)
        return error_page(request, exc.status_code, str(exc.detail), None, exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error_page(request, 500, "Something went wrong on the server.", "the error was logged; try again")

    static = str(resources.files("rightsledger.review").joinpath("static"))
    app.mount("/static", StaticFiles(directory=static), name="static")
    app.include_router(routes.router)
    app.include_router(api.router)
    return app


# The strictest policy for anything under /api/docs that does not set its own (the docs page
# itself, served by `review.api`, sets the workspace's normal policy).
_DOCS_CSP = "default-src 'none'; frame-ancestors 'none'"


def error_page(request: Request, status: int, message: str, hint: str | None,
               headers: dict[str, str] | None = None) -> Response:
    """One error page for everything: the message and hint, never a stack trace."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message, "hint": hint}, status_code=status, headers=headers)
    templates: Jinja2Templates = request.app.state.templates
    user = getattr(request.state, "user", None)
    return templates.TemplateResponse(request, "error.html", {"status": status, "message": message, "hint": hint,
                                                              "user": user},
                                      status_code=status, headers=headers)


def html(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, {"user": getattr(request.state, "user", None), **context},
                                      status_code=status)
