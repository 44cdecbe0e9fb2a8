"""Pages and review actions of the review workspace (the JSON API is `review.api`).

Every handler gets the signed-in user from `signed_in` / `allowed(action)`: the role check is
made here, on the server, for every request (templates only hide the buttons). Every POST checks
the session's CSRF token before it changes anything. Handlers call one ledger method and render.
"""

from __future__ import annotations

import secrets
from typing import Any, NamedTuple
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from rightsledger.errors import ConfigError
from rightsledger.ledger import CASE_STEPS, FORMATS, ROLES, Ledger, SearchFilters
from rightsledger.model import (
    DATE_PRECISIONS,
    PERPETRATOR_KINDS,
    PLACE_LEVELS,
    PLACE_ROLES,
    SOURCE_KINDS,
    VICTIM_UNITS,
    VIOLATION_TYPES,
)
from rightsledger.review import auth, present, ratelimit
from rightsledger.review.api import export_response
from rightsledger.review.app import ORIGINAL_CSP, ReviewSettings, client_address, html, role_check
from rightsledger.review.search import FACET_PARAMS, filters_from

router = APIRouter()

LOGIN_COOKIE = "rl_login"  # double-submit CSRF token for the login form (there is no session yet)
CHOICES = {"type": VIOLATION_TYPES, "precision": DATE_PRECISIONS, "level": PLACE_LEVELS, "role": PLACE_ROLES,
           "unit": VICTIM_UNITS, "perpetrator_kind": PERPETRATOR_KINDS, "source_kind": SOURCE_KINDS}


def _ledger(request: Request) -> Ledger:
    return request.app.state.ledger  # type: ignore[no-any-return]


def _settings(request: Request) -> ReviewSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def signed_in(request: Request) -> auth.User:
    user = auth.current_user(_ledger(request), request.cookies.get(auth.SESSION_COOKIE))
    if user is None:
        if _is_api(request):
            raise HTTPException(401, "Sign in first.")
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise HTTPException(303, headers={"Location": "/login?" + urlencode({"next": target})})
    request.state.user = user
    return user


def allowed(action: str) -> Any:
    """A dependency: the signed-in user, if their role may do `action` (403 otherwise)."""
    return role_check(action, signed_in)


class Posted(NamedTuple):
    user: auth.User
    form: FormData


def posted(action: str) -> Any:
    """A dependency: the signed-in user allowed to do `action` and their form, once its CSRF token
    matches the session's. Reading the form is the only async part of a form post: the handlers
    themselves are plain functions, run in the server's thread pool, so a write waiting for the
    database never stalls other requests."""

    async def read(request: Request, user: auth.User = Depends(allowed(action))) -> Posted:
        form = await request.form()
        if not auth.check_csrf(user.csrf, form.get("csrf")):  # type: ignore[arg-type]
            raise HTTPException(403, "The form's security token is missing or stale. Reload the page and try again.")
        return Posted(user, form)

    return read


async def _login_form(request: Request) -> FormData:
    return await request.form()


def _back(path: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(path + (f"#{anchor}" if anchor else ""), status_code=303)


def _local(target: str | None) -> str:
    """Only same-site paths as login redirect targets (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# -- signing in and out ------------------------------------------------------------------------
@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    response = html(request, "login.html", {"csrf": token, "next": _local(next), "error": None})
    _set_cookie(request, response, LOGIN_COOKIE, token, max_age=3600)
    return response


@router.post("/login")
def login_submit(request: Request, form: FormData = Depends(_login_form)) -> Response:
    if not auth.check_csrf(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):  # type: ignore[arg-type]
        raise HTTPException(403, "The login form's security token is missing or stale. Reload the page.")
    name, password = str(form.get("name") or ""), str(form.get("password") or "")
    target = _local(str(form.get("next") or "/"))
    settings = _settings(request)
    try:
        request.app.state.guard.login(client_address(request), name)
        user = auth.login(_ledger(request), name, password, settings.policy)
    except (auth.LoginRefused, ratelimit.RateLimited) as refused:
        token = secrets.token_urlsafe(24)
        status = 429 if refused.retry_after else 401
        response = html(request, "login.html", {"csrf": token, "next": target, "error": str(refused)}, status)
        _set_cookie(request, response, LOGIN_COOKIE, token, max_age=3600)
        if refused.retry_after:
            response.headers["Retry-After"] = str(refused.retry_after)
        return response
    token, _csrf = auth.new_session(_ledger(request), user["id"], settings.policy)
    response = RedirectResponse(target, status_code=303)
    _set_cookie(request, response, auth.SESSION_COOKIE, token, max_age=int(settings.policy.session_length.total_seconds()))
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")


@router.post("/logout")
def logout(request: Request, post: Posted = Depends(posted("read"))) -> Response:
    _ledger(request).end_session(auth.token_hash(request.cookies.get(auth.SESSION_COOKIE, "")))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


# -- reading -----------------------------------------------------------------------------------
@router.get("/")
def dashboard(request: Request, user: auth.User = Depends(allowed("read"))) -> Response:
    data = _ledger(request).dashboard()
    return html(request, "dashboard.html", {"data": data})


def _query_params(request: Request) -> dict[str, list[str]]:
    return {k: request.query_params.getlist(k) for k in request.query_params.keys()}


@router.get("/search")
def search_page(request: Request, page: int = 1, user: auth.User = Depends(allowed("read"))) -> Response:
    params = _query_params(request)
    filters, parsed = filters_from(params)
    size = _settings(request).page_size
    page = max(1, min(page, 10_000))
    result = _ledger(request).search(filters, limit=size, offset=(page - 1) * size)
    base = [(k, v) for k, vs in params.items() if k != "page" for v in vs]
    return html(request, "search.html", {
        "params": params, "filters": filters, "parsed": parsed, "result": result, "page": page, "size": size,
        "pages": max(1, -(-result["total"] // size)), "facet_params": FACET_PARAMS,
        "base_query": urlencode(base), "map_query": urlencode(base),
    })


@router.get("/documents")
def documents_page(request: Request, user: auth.User = Depends(allowed("read"))) -> Response:
    return html(request, "documents.html", {"documents": _ledger(request).documents()})


@router.get("/documents/{ref}")
def document_page(request: Request, ref: str, user: auth.User = Depends(allowed("read"))) -> Response:
    ledger = _ledger(request)
    doc = ledger.document(ref, allow_locked=True)  # a locked confidential one: metadata and a notice
    facts = ledger.review_facts(doc.id)
    record = ledger.record(doc.id)
    incidents: dict[str, list[dict[str, Any]]] = {inc.id: [] for inc in doc.incidents}
    for f in facts:
        incidents.setdefault(f["incident_id"], []).append(f)
    modality = {inc.id: inc.modality for inc in doc.incidents}
    case_of = {inc.id: inc.case_id for inc in doc.incidents}
    status = ledger.case_review_status([c for c in case_of.values() if c])
    url = doc.url or ""
    return html(request, "document.html", {
        "doc": doc, "record": record, "segments": [] if doc.locked else present.segments(doc.text, facts), "incidents": incidents,
        "modality": modality, "case_of": case_of, "case_status": status, "choices": CHOICES,
        "history": ledger.history(document_id=doc.id), "notes": ledger.notes("document", doc.id),
        "safe_url": url if url.lower().startswith(("http://", "https://")) else None,
    })


@router.get("/documents/{ref}/original")
def original(request: Request, ref: str, user: auth.User = Depends(allowed("read"))) -> Response:
    """The preserved bytes, verified, as plain text: never rendered as a page."""
    ledger = _ledger(request)
    doc_id = ledger.resolve(ref)
    data = ledger.original(doc_id)
    return Response(data, media_type="text/plain; charset=utf-8", headers={
        "Content-Disposition": f'inline; filename="{doc_id}.txt"',
        "Content-Security-Policy": ORIGINAL_CSP, "X-Content-Type-Options": "nosniff"})


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str, user: auth.User = Depends(allowed("read"))) -> Response:
    ledger = _ledger(request)
    case = ledger.case(case_id)
    status = ledger.case_review_status([case.id])[case.id]
    return html(request, "case.html", {
        "case": case, "data": case.explain(), "status": status, "steps": CASE_STEPS.get(status, ()),
        "notes": ledger.notes("case", case.id), "history": ledger.history(target_kind="case", target_id=case.id),
    })


@router.get("/map")
def map_page(request: Request, user: auth.User = Depends(allowed("read"))) -> Response:
    params = _query_params(request)
    filters, parsed = filters_from(params)
    facets = _ledger(request).search(filters, limit=0)["facets"]
    return html(request, "map.html", {"params": params, "parsed": parsed, "facets": facets,
                                      "facet_params": FACET_PARAMS, "query": urlencode(
                                          [(k, v) for k, vs in params.items() for v in vs]),
                                      "tile_url": _settings(request).tile_url or ""})


@router.get("/timeline")
def timeline_page(request: Request, user: auth.User = Depends(allowed("read"))) -> Response:
    params = _query_params(request)
    filters, parsed = filters_from(params)
    items = _ledger(request).timeline(filters)
    return html(request, "timeline.html", {"params": params, "parsed": parsed, "items": items,
                                           "chart": present.timeline(items)})


# -- reviewing ---------------------------------------------------------------------------------
@router.post("/facts/{fact_id}/{action}")
def review_fact(request: Request, fact_id: int, action: str, post: Posted = Depends(posted("review"))) -> Response:
    user, form = post
    ledger = _ledger(request)
    if action == "confirm":
        fact = ledger.confirm_fact(fact_id, user.name)
    elif action == "reject":
        fact = ledger.reject_fact(fact_id, user.name)
    elif action == "correct":
        before = ledger.fact(fact_id)
        changes = {k[2:]: v for k, v in form.items() if k.startswith("v_")}
        if before["kind"] == "victims" and "approximate" not in changes:
            changes["approximate"] = False  # an unticked checkbox sends nothing
        fact = ledger.correct_fact(fact_id, user.name, changes, _span(form))
    else:
        raise HTTPException(404, f"no review action {action!r}")
    return _back(f"/documents/{fact['document_id']}", f"fact-{fact_id}")


def _span(form: FormData) -> tuple[int, int] | None:
    start, end = form.get("span_start"), form.get("span_end")
    if not start or not end:
        return None
    try:
        return int(str(start)), int(str(end))
    except ValueError:
        raise ConfigError("the selection is not a pair of offsets", hint="select the words again") from None


@router.post("/incidents/{incident_id}/facts")
def add_fact(request: Request, incident_id: str, post: Posted = Depends(posted("review"))) -> Response:
    user, form = post
    span = _span(form)
    if span is None:
        raise ConfigError("no text selected", hint="select the words in the document that state the fact, then add it")
    kind = str(form.get("kind") or "")
    changes = {"code": form.get("type_code")} if kind == "type" else {}
    fact_id = _ledger(request).add_fact(incident_id, kind, span[0], span[1], changes, user.name)
    doc_id = _ledger(request).fact(fact_id)["document_id"]
    return _back(f"/documents/{doc_id}", f"fact-{fact_id}")


@router.post("/cases/{case_id}/status")
def case_status(request: Request, case_id: str, post: Posted = Depends(posted("review"))) -> Response:
    user, form = post
    _ledger(request).set_case_status(case_id, str(form.get("status") or ""), user.name)
    return _back(f"/cases/{case_id}")


@router.post("/cases/{case_id}/merge")
def case_merge(request: Request, case_id: str, post: Posted = Depends(posted("review"))) -> Response:
    user, form = post
    merged = _ledger(request).review_merge(case_id, str(form.get("other") or "").strip(), user.name,
                                           str(form.get("note") or ""))
    return _back(f"/cases/{merged.id}")


@router.post("/cases/{case_id}/split")
def case_split(request: Request, case_id: str, post: Posted = Depends(posted("review"))) -> Response:
    user, form = post
    rest = _ledger(request).review_split(case_id, str(form.get("document") or ""), user.name,
                                         str(form.get("note") or ""))
    return _back(f"/cases/{rest.id}")


@router.post("/notes")
def add_note(request: Request, post: Posted = Depends(posted("review"))) -> Response:
    user, form = post
    kind, target = str(form.get("target_kind") or ""), str(form.get("target_id") or "")
    _ledger(request).add_note(kind, target, user.name, str(form.get("body") or ""))
    return _back(f"/{'cases' if kind == 'case' else 'documents'}/{target}", "notes")


# -- exports -----------------------------------------------------------------------------------
@router.get("/export")
def export(request: Request, format: str = "csv", confidential: bool = False, unconfirmed: bool = False,
           user: auth.User = Depends(allowed("export"))) -> Response:
    """The CLI's exports. Analysts get them without informant details; admins may ask for those."""
    return export_response(_ledger(request), user, format, confidential, unconfirmed)


@router.get("/exports")
def exports_page(request: Request, user: auth.User = Depends(allowed("export"))) -> Response:
    return html(request, "exports.html", {"formats": FORMATS})


# -- users -------------------------------------------------------------------------------------
@router.get("/users")
def users_page(request: Request, user: auth.User = Depends(allowed("users"))) -> Response:
    ledger = _ledger(request)
    return html(request, "users.html", {"users": ledger.users(), "roles": ROLES,
                                        "history": ledger.history(target_kind="user", limit=50)})


@router.post("/users")
def users_add(request: Request, post: Posted = Depends(posted("users"))) -> Response:
    user, form = post
    auth.add_user(_ledger(request), str(form.get("name") or ""), str(form.get("role") or ""),
                  str(form.get("password") or ""), created_by=user.name)
    return _back("/users")


@router.post("/users/{name}")
def users_update(request: Request, name: str, post: Posted = Depends(posted("users"))) -> Response:
    user, form = post
    role = str(form.get("role") or "") or None
    disabled = {"1": True, "0": False}.get(str(form.get("disabled") or ""))
    password = str(form.get("password") or "")
    _ledger(request).update_user(name, by=user.name, role=role, disabled=disabled,
                                 password_hash=auth.hash_password(password) if password else None)
    return _back("/users")
