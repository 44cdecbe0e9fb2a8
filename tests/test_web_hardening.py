"""Web hardening of the review workspace: security headers on every response (errors included),
uniform error pages without internals, session fixation, CSRF on every state-changing route and
rate limits on signing in and on the API. In-process (TestClient) over a real SQLite ledger."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import execute
from rightsledger.ledger import Ledger
from rightsledger.review import ReviewSettings, create_app, ratelimit
from test_review_web import PASSWORD, _login, csrf_of, first_fact, ledger, seeded  # noqa: F401 (fixtures)

ATTACKER = "203.0.113.7"  # documentation address range (RFC 5737)


def _client(ledger: Ledger, role: str | None = None, settings: ReviewSettings | None = None,
            address: str = "192.0.2.10", app: object | None = None) -> TestClient:
    client = TestClient(app or create_app(ledger, settings), base_url="http://127.0.0.1", client=(address, 50000),
                        raise_server_exceptions=False)
    if role:
        assert _login(client, role).status_code == 303
    return client


def _limits(**rates: tuple[int, int]) -> ReviewSettings:
    big = ratelimit.Rate(10_000, 10_000)
    fields = {k: ratelimit.Rate(*v) for k, v in rates.items()}
    return ReviewSettings(limits=ratelimit.Limits(**{"login_per_name": big, "login_per_client": big,
                                                     "api_per_user": big, "api_per_client": big, **fields}))


def _boom_app(ledger: Ledger) -> object:
    """The real app plus one page and one API route that fail with an unexpected exception."""
    app = create_app(ledger)

    def boom() -> None:
        raise RuntimeError("secret-internal-detail /srv/ledger.db")

    app.add_api_route("/boom", boom)
    app.add_api_route("/api/boom", boom)
    return app


# -- security headers ---------------------------------------------------------------------------------
def _check_headers(response: object, what: str) -> None:
    h = response.headers  # type: ignore[attr-defined]
    csp = h.get("content-security-policy", "")
    assert "script-src 'self'" in csp or "default-src 'none'" in csp, what
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, what
    assert "frame-ancestors 'none'" in csp, what
    assert h.get("x-content-type-options") == "nosniff", what
    assert h.get("referrer-policy") == "no-referrer", what
    assert h.get("x-frame-options") == "DENY", what
    assert h.get("cache-control") == "no-store", what


def test_hardening_headers_on_every_kind_of_response(ledger: Ledger) -> None:  # noqa: F811
    app = _boom_app(ledger)
    anonymous = _client(ledger, app=app)
    viewer = _client(ledger, "viewer", app=app)
    doc = next(d["id"] for d in ledger.documents() if d["incidents"])
    limited = _client(ledger, "viewer", _limits(api_per_user=(1, 1)))
    limited.get("/api/timeline")
    responses = {
        "login page": anonymous.get("/login"),
        "redirect to login": anonymous.get("/", follow_redirects=False),
        "401 api": anonymous.get("/api/map"),
        "page": viewer.get("/"),
        "document": viewer.get(f"/documents/{doc}"),
        "original": viewer.get(f"/documents/{doc}/original"),
        "api json": viewer.get("/api/search?q=county"),
        "403": viewer.get("/users"),
        "404": viewer.get("/no-such-page"),
        "404 document": viewer.get("/documents/ffffffffffff"),
        "405": viewer.delete("/login"),
        "422": viewer.get("/search?page=many"),
        "429": limited.get("/api/timeline"),
        "500 page": viewer.get("/boom"),
        "500 api": viewer.get("/api/boom"),
    }
    assert responses["429"].status_code == 429
    assert responses["500 page"].status_code == 500
    for what, response in responses.items():
        _check_headers(response, what)
    # Static files may be cached (they hold nothing confidential) but are never sniffed.
    static = viewer.get("/static/app.css")
    assert static.status_code == 200 and static.headers["x-content-type-options"] == "nosniff"
    assert "no-store" not in static.headers.get("cache-control", "")


def test_hardening_rendered_pages_have_nothing_the_csp_would_block(ledger: Ledger) -> None:  # noqa: F811
    """Not just the template sources: every page as served, hostile document included."""
    admin = _client(ledger, "admin")
    docs = [d["id"] for d in ledger.documents()]
    pages = ["/", "/search?q=county", "/documents", "/map", "/timeline", "/exports", "/users", "/no-such-page",
             f"/cases/{ledger.cases()[0].id}", *[f"/documents/{d}" for d in docs]]
    for path in pages:
        body = admin.get(path).text
        assert "<html" in body, path
        assert not re.search(r"<script(?![^>]*\bsrc=\"/static/)", body), path
        assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", body, re.I), path
        assert not re.search(r"<[a-z][^>]*\sstyle\s*=", body, re.I) and "<style" not in body, path
        for src in re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', body):
            assert src.startswith("/static/"), (path, src)


# -- uniform error pages ----------------------------------------------------------------------------------
INTERNALS = ("Traceback", "secret-internal-detail", "/srv/ledger.db", 'File "', "RuntimeError", "sqlalchemy",
             "pydantic", "<class ")


def test_hardening_error_pages_are_uniform_and_hide_internals(ledger: Ledger) -> None:  # noqa: F811
    viewer = _client(ledger, "viewer", app=_boom_app(ledger))
    pages = {404: viewer.get("/no-such-page"), 403: viewer.get("/users"), 405: viewer.delete("/login"),
             422: viewer.get("/search?page=%3Cscript%3Eprobe"), 500: viewer.get("/boom")}
    for status, response in pages.items():
        assert response.status_code == status
        assert response.headers["content-type"].startswith("text/html")
        assert f"<title>Error {status} · RightsLedger review</title>" in response.text, status
        for leak in INTERNALS:
            assert leak not in response.text, (status, leak)
    assert "probe" not in pages[422].text  # the rejected input is not echoed back
    assert "page" in pages[422].text  # but the parameter is named
    api = {404: viewer.get("/api/no-such"), 422: viewer.get("/api/search?page=x"), 500: viewer.get("/api/boom")}
    for status, response in api.items():
        assert response.status_code == status
        assert set(response.json()) == {"error", "hint"}, status
        for leak in INTERNALS:
            assert leak not in response.text, (status, leak)


def test_hardening_broken_database_gives_an_error_page_not_a_trace(ledger: Ledger) -> None:  # noqa: F811
    viewer = _client(ledger, "viewer")
    execute(ledger.url, "DROP TABLE review_log")
    execute(ledger.url, "DROP TABLE case_reviews")
    execute(ledger.url, "DROP TABLE incident_facets")
    execute(ledger.url, "DROP TABLE incident_summary")  # what search reads
    doc = next(d["id"] for d in ledger.documents() if d["incidents"])
    for response in (viewer.get(f"/documents/{doc}"), viewer.get("/api/search?q=county")):
        assert response.status_code == 503 and response.headers["retry-after"]
        assert "not available" in response.text
        for leak in (*INTERNALS, "no such table", "review_log", str(Path(ledger.url.split("///")[1]).parent)):
            assert leak not in response.text, leak
        _check_headers(response, "broken database")


# -- session fixation -----------------------------------------------------------------------------------
def test_hardening_login_replaces_a_planted_session_token(ledger: Ledger) -> None:  # noqa: F811
    # An attacker plants a token of their own choosing, and a real session of their own.
    attacker = _client(ledger, "viewer")
    planted_real = attacker.cookies.get("rl_session")
    for planted in ("attacker-chosen-token-0123456789", planted_real):
        victim = _client(ledger)
        victim.cookies.set("rl_session", planted)
        response = _login(victim, "analyst")
        issued = re.search(r"rl_session=([^;]+)", response.headers["set-cookie"]).group(1)  # type: ignore[union-attr]
        assert issued != planted
        # The planted token does not carry the victim's login.
        replay = _client(ledger)
        replay.cookies.set("rl_session", planted)
        reached = replay.get("/exports", follow_redirects=False)
        assert reached.status_code in (303, 403)  # the attacker's own viewer session, never the analyst's
        owner = _client(ledger)
        owner.cookies.set("rl_session", issued)
        assert owner.get("/exports").status_code == 200


def test_hardening_logout_invalidates_the_session_on_the_server(ledger: Ledger) -> None:  # noqa: F811
    client = _client(ledger, "analyst")
    token = client.cookies.get("rl_session")
    csrf = csrf_of(client)
    digest = hashlib.sha256(token.encode()).hexdigest()  # type: ignore[union-attr]
    assert execute(ledger.url, "SELECT count(*) FROM web_sessions WHERE token_hash = :h", h=digest)[0][0] == 1
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert execute(ledger.url, "SELECT count(*) FROM web_sessions WHERE token_hash = :h", h=digest)[0][0] == 0
    replay = _client(ledger)
    replay.cookies.set("rl_session", token)
    assert replay.get("/", follow_redirects=False).status_code == 303
    assert replay.get("/api/timeline").status_code == 401
    fact = first_fact(ledger, "place")
    assert replay.post(f"/facts/{fact['id']}/confirm", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert ledger.fact(fact["id"])["status"] == "proposed"


# -- CSRF on every state-changing route -------------------------------------------------------------------
STATE_TABLES = ("review_log", "notes", "audit_log", "users", "web_sessions", "case_reviews", "facts",
                "cases", "link_overrides", "login_throttle")


def _state(url: str) -> str:
    """A digest of everything a POST could change."""
    h = hashlib.sha256()
    for table in STATE_TABLES:
        rows = execute(url, f"SELECT * FROM {table}")
        h.update(repr(sorted(map(repr, rows))).encode())
    return h.hexdigest()


def _posts(ledger: Ledger) -> list[tuple[str, dict[str, str]]]:
    fact = first_fact(ledger, "victims")
    cases = ledger.cases()
    multi = max(cases, key=lambda c: len(c.members))
    doc = next(d["id"] for d in ledger.documents() if d["incidents"])
    return [
        ("/logout", {}),
        (f"/facts/{fact['id']}/confirm", {}),
        (f"/facts/{fact['id']}/reject", {}),
        (f"/facts/{fact['id']}/correct", {"v_count": "99"}),
        (f"/incidents/{fact['incident_id']}/facts", {"kind": "place", "span_start": "0", "span_end": "5"}),
        (f"/cases/{cases[0].id}/status", {"status": "reviewed"}),
        (f"/cases/{cases[0].id}/merge", {"other": cases[1].id, "note": "invented"}),
        (f"/cases/{multi.id}/split", {"document": multi.members[0].document_id, "note": "invented"}),
        ("/notes", {"target_kind": "document", "target_id": doc, "body": "invented note"}),
        ("/users", {"name": "newcomer", "role": "viewer", "password": "another passphrase"}),
        ("/users/viewer", {"role": "admin", "disabled": "0"}),
    ]


def test_hardening_every_post_route_is_in_the_csrf_list(ledger: Ledger) -> None:  # noqa: F811
    """A new state-changing route must be added to `_posts` (and so be tested for CSRF)."""
    app = create_app(ledger)
    routes = {r.path for r in app.routes if "POST" in getattr(r, "methods", ())}  # type: ignore[attr-defined]
    covered = {"/login", "/logout", "/facts/{fact_id}/{action}", "/incidents/{incident_id}/facts",
               "/cases/{case_id}/status", "/cases/{case_id}/merge", "/cases/{case_id}/split", "/notes", "/users",
               "/users/{name}"}
    assert routes <= covered, routes - covered
    assert {m for r in app.routes for m in getattr(r, "methods", ()) or ()} <= {"GET", "HEAD", "POST"}


@pytest.mark.parametrize("token", ["missing", "forged", "other-session"])
def test_hardening_every_post_without_its_csrf_token_is_refused_and_changes_nothing(
        token: str, ledger: Ledger) -> None:  # noqa: F811
    admin = _client(ledger, "admin")
    other = csrf_of(_client(ledger, "analyst"))
    posts = _posts(ledger)
    before = _state(ledger.url)
    for path, form in posts:
        data = form | ({} if token == "missing" else {"csrf": "forged-token" if token == "forged" else other})
        response = admin.post(path, data=data, follow_redirects=False)
        assert response.status_code == 403, (path, response.status_code)
        assert "security token" in response.text
        assert _state(ledger.url) == before, path
    # The same requests with the right token do go through (so the list above tests real routes).
    good = csrf_of(admin)
    for path, form in posts[1:2] + posts[8:9]:
        assert admin.post(path, data=form | {"csrf": good}, follow_redirects=False).status_code == 303, path
    assert _state(ledger.url) != before


# -- rate limits ----------------------------------------------------------------------------------------
def test_hardening_limiter_refills_and_says_when() -> None:
    now = [1000.0]
    limiter = ratelimit.Limiter(ratelimit.Rate(per_minute=60, burst=3), clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(1.0)
    assert limiter.take("b") == 0.0  # keys are separate
    now[0] += 2.0
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, pytest.approx(1.0)]
    assert ratelimit.Limiter(ratelimit.Rate(0, 1)).take("x") == 0.0  # 0 = off


def test_hardening_limiter_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "MAX_KEYS", 100)
    limiter = ratelimit.Limiter(ratelimit.Rate(per_minute=60, burst=5))
    for n in range(1000):
        limiter.take(f"address-{n}")
    assert len(limiter._buckets) <= 100


def test_hardening_login_is_rate_limited_per_name_across_addresses(ledger: Ledger) -> None:  # noqa: F811
    app = create_app(ledger, _limits(login_per_name=(3, 3)))
    codes = [_login(_client(ledger, app=app, address=f"198.51.100.{n}"), "analyst").status_code for n in range(4)]
    assert codes == [303, 303, 303, 429]  # even the right password: attempts, not failures, are counted
    refused = _login(_client(ledger, app=app, address="198.51.100.99"), "analyst")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 20
    assert "rl_session" not in refused.headers.get("set-cookie", "")
    assert _login(_client(ledger, app=app), "admin").status_code == 303  # other names are unaffected
    assert ledger.login_throttle("analyst") is None  # not the lockout: no failure was recorded


def test_hardening_login_is_rate_limited_per_address_across_names(ledger: Ledger) -> None:  # noqa: F811
    app = create_app(ledger, _limits(login_per_client=(5, 5)))
    attacker = _client(ledger, app=app, address=ATTACKER)
    codes = [_login(attacker, f"guess-{n}", "x" * 12).status_code for n in range(6)]
    assert codes == [401] * 5 + [429] and "Retry-After" in _login(attacker, "admin").headers
    assert _login(_client(ledger, app=app, address="192.0.2.44"), "admin").status_code == 303


def test_hardening_api_is_rate_limited_per_user_and_per_address(ledger: Ledger) -> None:  # noqa: F811
    app = create_app(ledger, _limits(api_per_user=(5, 5), api_per_client=(10, 10)))
    first = _client(ledger, "viewer", app=app, address="192.0.2.1")
    assert [first.get("/api/timeline").status_code for _ in range(6)] == [200] * 5 + [429]
    limited = first.get("/api/map")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["error"].startswith("Too many API requests")
    assert first.get("/timeline").status_code == 200  # pages are not limited by the API limit
    # A second session from the same address has its own user bucket but shares the address's.
    second = _client(ledger, "analyst", app=app, address="192.0.2.1")
    assert [second.get("/api/timeline").status_code for _ in range(4)] == [200, 200, 200, 429]
    # Another address with another session is unaffected.
    assert _client(ledger, "admin", app=app, address="192.0.2.2").get("/api/timeline").status_code == 200


def test_hardening_rate_limits_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIGHTSLEDGER_API_RATE", "42")
    monkeypatch.setenv("RIGHTSLEDGER_LOGIN_RATE", "0")
    limits = ratelimit.Limits()
    assert limits.api_per_user == ratelimit.Rate(42, 42) and limits.login_per_name.off
    assert ReviewSettings().limits.api_per_user.per_minute == 42
    monkeypatch.setenv("RIGHTSLEDGER_API_CLIENT_RATE", "lots")
    with pytest.raises(Exception, match="requests per minute"):
        ratelimit.Limits()
