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
from typing import Any, Callable
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from rightsledger.errors import DatabaseError, NotFoundError, RightsLedgerError
from rightsledger.ledger import Ledger
from rightsledger.review import present, ratelimit
from rightsledger.review.auth import SESSION_COOKIE, Policy

__all__ = ["ReviewSettings", "create_app"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReviewSettings:
    """How the workspace runs. `tile_url` (e.g. https://tile.example/{z}/{x}/{y}.png) adds an
    online base layer and lets the CSP load images from that host; without it nothing is fetched
    from anywhere but this server."""

    policy: Policy = field(default_factory=Policy)
    limits: ratelimit.Limits = field(default_factory=ratelimit.Limits)
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
    app.state.csp = _csp(settings.tile_url)
    app.state.guard = ratelimit.Guard(settings.limits)

    @app.middleware("http")
    async def api_rate_limit(request: Request, call_next: Any) -> Response:
        if request.url.path.startswith("/api/"):
            try:
                request.app.state.guard.api(client_address(request), _credential(request))
            except ratelimit.RateLimited as limited:
                return error_page(request, 429, str(limited), None, {"Retry-After": str(limited.retry_after)})
        return await call_next(request)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        return harden(request, await call_next(request))

    @app.exception_handler(RightsLedgerError)
    async def library_error(request: Request, exc: RightsLedgerError) -> Response:
        if isinstance(exc, DatabaseError):  # its text names the database and the driver's reason: log only
            log.error("database error on %s: %s", request.url.path, exc)
            return error_page(request, 503, "The ledger database is not available right now.",
                              "try again in a moment; if it persists, ask the administrator to check the server log",
                              {"Retry-After": "5"})
        status = 404 if isinstance(exc, NotFoundError) else 400
        message = exc.args[0] if exc.args else type(exc).__name__
        return error_page(request, status, str(message), exc.hint)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (301, 302, 303, 307) and exc.headers:
            return Response(status_code=exc.status_code, headers=exc.headers)
        return error_page(request, exc.status_code, str(exc.detail), None, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        fields = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
        return error_page(request, 422, "The request's parameters are not valid: " + ", ".join(fields),
                          "check the address or reload the page")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # Runs outside the middleware stack (Starlette's outermost layer), so it hardens itself.
        log.exception("unexpected error on %s", request.url.path)
        return harden(request, error_page(request, 500, "Something went wrong on the server.",
                                          "the error was logged; try again"))

    static = str(resources.files("rightsledger.review").joinpath("static"))
    app.mount("/static", StaticFiles(directory=static), name="static")
    app.include_router(routes.router)
    app.include_router(api.router)
    return app


def role_check(action: str, caller: Callable[..., Any]) -> Any:
    """A dependency: the user `caller` resolves, if their role may do `action` (403 otherwise)."""

    def check(user: Any = Depends(caller)) -> Any:
        if not user.may(action):
            raise HTTPException(403, f"Your role ({user.role}) may not do this.")
        return user

    return check


def harden(request: Request, response: Response) -> Response:
    """The security headers every response carries, error pages included."""
    path = request.url.path
    response.headers.setdefault("Content-Security-Policy",
                                request.app.state.csp if not path.startswith("/api/docs") else _DOCS_CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if not path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def client_address(request: Request) -> str:
    """The TCP peer's address (no proxy headers are trusted)."""
    return request.client.host if request.client else "unknown"


def _credential(request: Request) -> str | None:
    """What identifies the caller for the per-user API limit: a bearer token or the session cookie."""
    bearer = request.headers.get("authorization", "")
    if bearer.lower().startswith("bearer "):
        return bearer
    return request.cookies.get(SESSION_COOKIE)


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
