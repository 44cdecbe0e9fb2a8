"""The JSON API (`/api/…`): the pages' data and review actions for scripts.

Same ledger calls and role checks as the pages (`auth.PERMISSIONS`). Two ways in:
`Authorization: Bearer TOKEN` (a token from `rightsledger token create`, acting with its user's
current role; no cookie, so no CSRF token needed), or the browser's session cookie, in which case
every state-changing call must also send the session's CSRF token in `X-CSRF-Token` (`GET /api/me`
returns it). Lists are paginated the same way everywhere: `page` (from 1) and `per_page` (at most
MAX_PER_PAGE); answers carry `total`, `pages` and the `next`/`prev` URLs. The OpenAPI schema and a
plain docs page are served only to signed-in users, like everything else here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from rightsledger.errors import ConfigError
from rightsledger.ledger import CASE_STEPS, FORMATS, Ledger, jsonable
from rightsledger.review import auth
from rightsledger.review.app import _csp, html, role_check
from rightsledger.review.search import filters_from

__all__ = ["router", "MAX_PER_PAGE", "CSRF_HEADER"]

router = APIRouter(prefix="/api")

CSRF_HEADER = "X-CSRF-Token"
DEFAULT_PER_PAGE = 50
MAX_PER_PAGE = 200


def _ledger(request: Request) -> Ledger:
    return request.app.state.ledger  # type: ignore[no-any-return]


def api_user(request: Request) -> auth.User:
    """The caller: by bearer token when an Authorization header is sent, else by session cookie."""
    ledger = _ledger(request)
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        user = auth.token_user(ledger, token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise HTTPException(401, "The API token is unknown, revoked or expired.",
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    else:
        user = auth.current_user(ledger, request.cookies.get(auth.SESSION_COOKIE))
        if user is None:
            raise HTTPException(401, "Sign in first, or send an API token as `Authorization: Bearer TOKEN`.",
                                headers={"WWW-Authenticate": "Bearer"})
    request.state.user = user
    return user


def may(action: str) -> Any:
    """A dependency: the caller, if their role may do `action` (403 otherwise)."""
    return role_check(action, api_user)


def may_change(action: str) -> Any:
    """`may`, plus the CSRF header for callers signed in by cookie (a token needs none)."""

    def check(request: Request, user: auth.User = Depends(may(action))) -> auth.User:
        if user.token_id is None and not auth.check_csrf(user.csrf, request.headers.get(CSRF_HEADER)):
            raise HTTPException(403, f"Send the session's CSRF token in the {CSRF_HEADER} header (see GET /api/me), "
                                     "or use an API token.")
        return user

    return check


@dataclass(frozen=True, slots=True)
class Page:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


def paging(page: int = Query(1, description="Page number, from 1."),
           per_page: int = Query(DEFAULT_PER_PAGE, description=f"Items per page, at most {MAX_PER_PAGE}.")) -> Page:
    if page < 1 or page > 1_000_000:
        raise ConfigError(f"page {page} does not exist", hint="pages are numbered from 1")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise ConfigError(f"per_page {per_page} is out of range", hint=f"ask for 1 to {MAX_PER_PAGE} items per page")
    return Page(page, per_page)


def paged(request: Request, page: Page, total: int, items: list[Any], **extra: Any) -> JSONResponse:
    """The one list envelope: items, page, per_page, total, pages, next and prev (URLs or null)."""
    pages = max(1, -(-total // page.per_page))

    def link(n: int) -> str | None:
        if not 1 <= n <= pages or (n == page.page + 1 and page.page * page.per_page >= total):
            return None
        url = request.url.include_query_params(page=n, per_page=page.per_page)
        return f"{url.path}?{url.query}"

    return JSONResponse(jsonable({"items": items, "page": page.page, "per_page": page.per_page, "total": total,
                                  "pages": pages, "next": link(page.page + 1), "prev": link(page.page - 1), **extra}))


def _filters(request: Request) -> Any:
    return filters_from({k: request.query_params.getlist(k) for k in request.query_params.keys()})[0]


def _json(value: Any) -> JSONResponse:
    return JSONResponse(jsonable(value))


# -- who am I, and the docs ----------------------------------------------------------------------
@router.get("/me", summary="The caller: name, role, what the role may do, and (cookie sessions) the CSRF token")
def me(user: auth.User = Depends(api_user)) -> Response:
    return _json({"name": user.name, "role": user.role, "via": "token" if user.token_id else "session",
                  "may": sorted(a for a in auth.PERMISSIONS if user.may(a)), "csrf": user.csrf or None})


def _api_schema(request: Request) -> dict[str, Any]:
    schema = dict(request.app.openapi())
    schema["paths"] = {p: v for p, v in schema.get("paths", {}).items() if p.startswith("/api/")}
    schema["components"] = {**schema.get("components", {}), "securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer", "description": "a token from `rightsledger token create`"},
        "session": {"type": "apiKey", "in": "cookie", "name": auth.SESSION_COOKIE,
                    "description": f"the browser session; state-changing calls also need {CSRF_HEADER}"}}}
    schema["security"] = [{"bearer": []}, {"session": []}]
    return schema


@router.get("/openapi.json", summary="The OpenAPI schema of this API (signed-in users only)")
def openapi(request: Request, user: auth.User = Depends(may("read"))) -> Response:
    return JSONResponse(_api_schema(request))


@router.get("/docs", summary="This API's endpoints as a page (signed-in users only)")
def docs(request: Request, user: auth.User = Depends(may("read"))) -> Response:
    schema = _api_schema(request)
    endpoints = [{"method": m.upper(), "path": p, "summary": op.get("summary", ""),
                  "params": [q["name"] for q in op.get("parameters", []) if q.get("in") == "query"],
                  "body": "requestBody" in op}
                 for p, ops in schema["paths"].items() for m, op in ops.items()]
    response = html(request, "api_docs.html", {"endpoints": endpoints, "max_per_page": MAX_PER_PAGE,
                                                "csrf_header": CSRF_HEADER})
    # A server-rendered page with the workspace's own strict policy (the app's default for
    # /api/docs is written for FastAPI's CDN-based page, which is not served).
    response.headers["Content-Security-Policy"] = _csp(None)
    return response


# -- reading ---------------------------------------------------------------------------------------
@router.get("/search", summary="Incidents matching full text and facets (same parameters as /search), with facet counts")
def search(request: Request, page: Page = Depends(paging), facets: bool = True,
           user: auth.User = Depends(may("read"))) -> Response:
    found = _ledger(request).search(_filters(request), limit=page.per_page, offset=page.offset, facets=facets)
    return paged(request, page, found["total"], found["rows"], facets=found["facets"])


@router.get("/incidents", summary="Incidents matching the search filters, newest first (no facet counts)")
def incidents(request: Request, page: Page = Depends(paging), user: auth.User = Depends(may("read"))) -> Response:
    found = _ledger(request).search(_filters(request), limit=page.per_page, offset=page.offset, facets=False)
    return paged(request, page, found["total"], found["rows"])


@router.get("/incidents/{incident_id}", summary="One incident with every fact (status, current value, proposal, evidence)")
def incident(request: Request, incident_id: str, user: auth.User = Depends(may("read"))) -> Response:
    return _json(_ledger(request).incident(incident_id))


@router.get("/facts/{fact_id}", summary="One fact: status, current value, the extraction's proposal, evidence span")
def fact(request: Request, fact_id: int, user: auth.User = Depends(may("read"))) -> Response:
    return _json(_ledger(request).fact(fact_id))


@router.get("/cases", summary="Cases with an incident matching the search filters, newest event first")
def cases(request: Request, page: Page = Depends(paging), user: auth.User = Depends(may("read"))) -> Response:
    found = _ledger(request).case_list(_filters(request), limit=page.per_page, offset=page.offset)
    return paged(request, page, found["total"], found["rows"])


@router.get("/cases/{case_id}", summary="One case: members, origins, conflicts, facts, review status, notes, history")
def case(request: Request, case_id: str, user: auth.User = Depends(may("read"))) -> Response:
    ledger = _ledger(request)
    c = ledger.case(case_id)
    status = ledger.case_review_status([c.id])[c.id]
    return _json({**c.explain(), "review_status": status, "next_statuses": list(CASE_STEPS.get(status, ())),
                  "notes": ledger.notes("case", c.id), "history": ledger.history(target_kind="case", target_id=c.id)})


@router.get("/documents", summary="Documents in the order they were stored, with incident counts")
def documents(request: Request, page: Page = Depends(paging), user: auth.User = Depends(may("read"))) -> Response:
    found = _ledger(request).document_page(limit=page.per_page, offset=page.offset)
    return paged(request, page, found["total"], found["rows"])


@router.get("/documents/{ref}", summary="One document: clean text, every fact with its status, custody and SHA-256")
def document(request: Request, ref: str, user: auth.User = Depends(may("read"))) -> Response:
    ledger = _ledger(request)
    doc = ledger.document(ref)
    record = ledger.record(doc.id)
    return _json({"id": doc.id, "sha256": doc.sha256, "url": doc.url, "outlet": doc.outlet, "title": doc.title,
                  "published": doc.published, "language": doc.language, "text": doc.text,
                  "duplicate_of": doc.duplicate_of,
                  "incidents": [{"id": i.id, "modality": i.modality, "case_id": i.case_id} for i in doc.incidents],
                  "facts": ledger.review_facts(doc.id), "custody": record["custody"],
                  "media_type": record["media_type"], "size": record["size"], "extractor": record["extractor"],
                  "notes": ledger.notes("document", doc.id), "original": f"/documents/{doc.id}/original"})


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if not value:
        return None
    try:
        south, west, north, east = (float(v) for v in value.split(","))
    except ValueError:
        raise ConfigError(f"{value!r} is not a bounding box", hint="send bbox=SOUTH,WEST,NORTH,EAST in degrees") from None
    return south, west, north, east


@router.get("/map", summary="Map markers (or server-side clusters when many) for the search filters")
def map_data(request: Request, bbox: str | None = Query(None, description="SOUTH,WEST,NORTH,EAST: only what is inside"),
             zoom: float | None = Query(None, description="the map's zoom, for cluster cell size"),
             user: auth.User = Depends(may("read"))) -> Response:
    return _json(_ledger(request).map_data(_filters(request), bbox=_bbox(bbox), zoom=zoom))


@router.get("/map-base", summary="The offline base map: province polygons and county points")
def map_base(request: Request, user: auth.User = Depends(may("read"))) -> Response:
    return JSONResponse(_ledger(request).map_base())


@router.get("/timeline", summary="One entry per case (or lone incident) with date range and precision, oldest first")
def timeline(request: Request, page: Page = Depends(paging), user: auth.User = Depends(may("read"))) -> Response:
    items = _ledger(request).timeline(_filters(request))
    return paged(request, page, len(items), items[page.offset:page.offset + page.per_page])


# -- reviewing --------------------------------------------------------------------------------------
class Correction(BaseModel):
    changes: dict[str, Any] = Field(default_factory=dict, description="fields of the fact's value to change")
    span: tuple[int, int] | None = Field(None, description="[start, end) of new evidence in the clean text")


class NewFact(BaseModel):
    kind: str
    span: tuple[int, int]
    value: dict[str, Any] = Field(default_factory=dict)


class StatusChange(BaseModel):
    status: str


class Merge(BaseModel):
    other: str
    note: str = ""


class Split(BaseModel):
    document: str
    note: str = ""


class Note(BaseModel):
    target_kind: str
    target_id: str
    body: str


@router.post("/facts/{fact_id}/confirm", summary="Confirm a fact as proposed")
def confirm(request: Request, fact_id: int, user: auth.User = Depends(may_change("review"))) -> Response:
    return _json(_ledger(request).confirm_fact(fact_id, user.name))


@router.post("/facts/{fact_id}/reject", summary="Reject a fact (it leaves documents and exports; the proposal is kept)")
def reject(request: Request, fact_id: int, user: auth.User = Depends(may_change("review"))) -> Response:
    return _json(_ledger(request).reject_fact(fact_id, user.name))


@router.post("/facts/{fact_id}/correct", summary="Correct a fact's value and/or re-select its evidence span")
def correct(request: Request, fact_id: int, body: Correction, user: auth.User = Depends(may_change("review"))) -> Response:
    return _json(_ledger(request).correct_fact(fact_id, user.name, body.changes, body.span))


@router.post("/incidents/{incident_id}/facts", summary="Add a fact the extraction missed, from a span of the text")
def add_fact(request: Request, incident_id: str, body: NewFact,
             user: auth.User = Depends(may_change("review"))) -> Response:
    ledger = _ledger(request)
    return _json(ledger.fact(ledger.add_fact(incident_id, body.kind, body.span[0], body.span[1], body.value, user.name)))


@router.post("/cases/{case_id}/status", summary="Move a case along proposed → reviewed → verified (or rejected)")
def case_status(request: Request, case_id: str, body: StatusChange,
                user: auth.User = Depends(may_change("review"))) -> Response:
    ledger = _ledger(request)
    status = ledger.set_case_status(case_id, body.status, user.name)
    return _json({"id": ledger.case(case_id).id, "review_status": status})


@router.post("/cases/{case_id}/merge", summary="Merge another case into this one (an override kept across re-links)")
def merge(request: Request, case_id: str, body: Merge, user: auth.User = Depends(may_change("review"))) -> Response:
    return _json(_ledger(request).review_merge(case_id, body.other.strip(), user.name, body.note).to_json())


@router.post("/cases/{case_id}/split", summary="Take a report out of a case (an override kept across re-links)")
def split(request: Request, case_id: str, body: Split, user: auth.User = Depends(may_change("review"))) -> Response:
    return _json(_ledger(request).review_split(case_id, body.document, user.name, body.note).to_json())


@router.post("/notes", summary="Add a note to a case, document or fact")
def add_note(request: Request, body: Note, user: auth.User = Depends(may_change("review"))) -> Response:
    note_id = _ledger(request).add_note(body.target_kind, body.target_id, user.name, body.body)
    return _json({"id": note_id})


# -- exports and users ------------------------------------------------------------------------------
@router.get("/export", summary="The CLI's exports; informant details only for admins who ask (and logged)")
def export(request: Request, format: str = "jsonl", confidential: bool = False, unconfirmed: bool = False,
           user: auth.User = Depends(may("export"))) -> Response:
    return export_response(_ledger(request), user, format, confidential, unconfirmed)


def export_response(ledger: Ledger, user: auth.User, format: str, confidential: bool, unconfirmed: bool) -> Response:
    """One export for the exports page and the API: the role decides about informant details."""
    if format not in FORMATS:
        raise ConfigError(f"{format!r} is not an export format", hint="use one of: " + ", ".join(FORMATS))
    if confidential and not user.may("export_confidential"):
        raise HTTPException(403, "Only admins may export informant details.")
    out = io.StringIO()
    ledger.export_for_review(format, out, include_unconfirmed=unconfirmed, informants=confidential, user=user.name)
    media = {"csv": "text/csv", "geojson": "application/geo+json"}.get(format, "application/x-ndjson")
    suffix = "-confidential" if confidential else ""
    return Response(out.getvalue(), media_type=f"{media}; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="rightsledger{suffix}.{format}"'})


@router.get("/users", summary="Accounts with their roles (admins only)")
def users(request: Request, user: auth.User = Depends(may("users"))) -> Response:
    return _json([{k: u[k] for k in ("name", "role", "disabled", "created_at", "created_by")}
                  for u in _ledger(request).users()])
