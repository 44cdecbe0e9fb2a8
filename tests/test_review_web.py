"""The review workspace in-process: FastAPI's TestClient over a real SQLite ledger seeded with
the bundled examples (and, for search, a real PostgreSQL ledger)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rightsledger.cli import app as cli_app
from rightsledger.ledger import Ledger, SearchFilters
from rightsledger.review import ReviewSettings, auth, create_app, present
from rightsledger.review.search import filters_from, parse_query

PASSWORD = "a long invented passphrase"
ROLES = ("viewer", "analyst", "admin")
HOSTILE = (
    "Hostile test report <script>window.__pwned = 1</script>\n\n"
    "Police detained 12 residents in Hyesan in June, a resident said. "
    '<img src=x onerror="window.__pwned = 2"> <a href="javascript:window.__pwned=3">click</a> '
    "</textarea><style>body { display: none }</style> <div style=\"background:url(javascript:alert(1))\">x</div>\n"
)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger with the bundled examples, a hostile report and one user per role (built once)."""
    folder = tmp_path_factory.mktemp("seeded")
    (folder / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    path = folder / "ledger.db"
    with Ledger(str(path)) as ledger:
        assert ledger.ingest_examples().ok
        assert ledger.ingest([folder / "hostile.txt"]).ok
        for role in ROLES:
            auth.add_user(ledger, role, role, PASSWORD, created_by="test")
    return path


@pytest.fixture
def ledger(seeded: Path, tmp_path: Path) -> Iterator[Ledger]:
    """A private copy of the seeded ledger for one test."""
    target = tmp_path / "ledger.db"
    shutil.copy(seeded, target)
    with Ledger(str(target)) as opened:
        yield opened


def _login(client: TestClient, name: str, password: str = PASSWORD) -> Response:  # type: ignore[name-defined]
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    return client.post("/login", data={"name": name, "password": password, "csrf": token, "next": "/"},
                       follow_redirects=False)


@pytest.fixture
def client_for(ledger: Ledger) -> Callable[..., TestClient]:
    """A TestClient signed in as the user of that role (or anonymous with None)."""

    def make(role: str | None, settings: ReviewSettings | None = None, https: bool = False) -> TestClient:
        client = TestClient(create_app(ledger, settings), base_url="https://127.0.0.1" if https else "http://127.0.0.1")
        if role:
            assert _login(client, role).status_code == 303
        return client

    return make


def csrf_of(client: TestClient, path: str = "/") -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)  # type: ignore[union-attr]


def first_fact(ledger: Ledger, kind: str) -> dict:
    for d in ledger.documents():
        for f in ledger.review_facts(d["id"]):
            if f["kind"] == kind and f["status"] == "proposed":
                return f
    raise AssertionError(f"no {kind} fact in the examples")


# -- signing in ----------------------------------------------------------------------------------
def test_review_login_sets_strict_httponly_cookie(client_for: Callable[..., TestClient]) -> None:
    client = client_for(None)
    response = _login(client, "analyst")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "rl_session=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "secure" not in cookie.split("rl_login")[0]  # plain http on loopback
    assert client.get("/").status_code == 200


def test_review_cookie_is_secure_over_https(client_for: Callable[..., TestClient]) -> None:
    response = _login(client_for(None, https=True), "viewer")
    assert "; secure" in response.headers["set-cookie"].lower()


def test_review_login_needs_its_csrf_token(client_for: Callable[..., TestClient]) -> None:
    client = client_for(None)
    client.get("/login")
    response = client.post("/login", data={"name": "admin", "password": PASSWORD, "csrf": "forged"},
                           follow_redirects=False)
    assert response.status_code == 403
    assert "rl_session" not in response.headers.get("set-cookie", "")


def test_review_wrong_password_then_lockout_with_backoff(client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    client = client_for(None, ReviewSettings(policy=auth.Policy(free_failures=3)))
    assert [_login(client, "admin", "wrong password!").status_code for _ in range(2)] == [401, 401]
    locked = _login(client, "admin", "wrong password!")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) >= 29
    # Even the right password is refused while the name is locked.
    assert _login(client, "admin").status_code == 429
    # Unknown names are throttled the same way (nothing tells which names exist).
    assert [_login(client, "nobody-here", "x" * 12).status_code for _ in range(3)] == [401, 401, 429]


def test_review_lock_doubles_and_expires() -> None:
    policy = auth.Policy(free_failures=5, base_lock=timedelta(seconds=30), max_lock=timedelta(minutes=15))
    assert policy.lock_for(4) is None
    assert [policy.lock_for(n).total_seconds() for n in (5, 6, 7)] == [30, 60, 120]  # type: ignore[union-attr]
    assert policy.lock_for(40) == timedelta(minutes=15)


def test_review_lock_expires_and_success_clears_it(ledger: Ledger) -> None:
    policy = auth.Policy(free_failures=1, base_lock=timedelta(seconds=30))
    t0 = datetime(2030, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(auth.LoginRefused):
        auth.login(ledger, "analyst", "not the password", policy, now=t0)
    with pytest.raises(auth.LoginRefused) as refused:
        auth.login(ledger, "analyst", PASSWORD, policy, now=t0 + timedelta(seconds=10))
    assert refused.value.retry_after and refused.value.retry_after <= 21
    assert auth.login(ledger, "analyst", PASSWORD, policy, now=t0 + timedelta(seconds=31))["name"] == "analyst"
    assert ledger.login_throttle("analyst") is None


def test_review_passwords_are_argon2_hashes(ledger: Ledger) -> None:
    stored = ledger.user("admin")["password_hash"]  # type: ignore[index]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with pytest.raises(Exception, match="too short"):
        auth.add_user(ledger, "shorty", "viewer", "short")


def test_review_logout_ends_the_session(client_for: Callable[..., TestClient]) -> None:
    client = client_for("viewer")
    cookie = client.cookies.get("rl_session")
    assert client.post("/logout", data={"csrf": csrf_of(client)}, follow_redirects=False).status_code == 303
    fresh = client_for(None)
    fresh.cookies.set("rl_session", cookie)
    assert fresh.get("/", follow_redirects=False).status_code == 303


def test_review_anonymous_is_sent_to_login(client_for: Callable[..., TestClient]) -> None:
    client = client_for(None)
    page = client.get("/search?q=x", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=%2Fsearch")
    assert client.get("/api/map").status_code == 401
    assert client.get("/login?next=//evil.example/").text.count('value="/"') >= 1  # no open redirect


# -- the authorisation matrix ------------------------------------------------------------------------
READ, REVIEW, EXPORT, ADMIN = "read", "review", "export", "admin"
ALLOWED = {"viewer": {READ}, "analyst": {READ, REVIEW, EXPORT}, "admin": {READ, REVIEW, EXPORT, ADMIN}}


def _matrix(ledger: Ledger) -> list[tuple[str, str, str, dict | None]]:
    doc = next(d["id"] for d in ledger.documents() if d["incidents"])
    fact = ledger.review_facts(doc)[0]
    case = ledger.cases()[0].id
    return [
        ("GET", "/", READ, None), ("GET", "/search?q=county", READ, None), ("GET", "/documents", READ, None),
        ("GET", f"/documents/{doc}", READ, None), ("GET", f"/documents/{doc}/original", READ, None),
        ("GET", f"/cases/{case}", READ, None), ("GET", "/map", READ, None), ("GET", "/api/map", READ, None),
        ("GET", "/api/map-base", READ, None), ("GET", "/timeline", READ, None), ("GET", "/api/search?q=x", READ, None),
        ("GET", "/api/timeline", READ, None),
        ("GET", "/exports", EXPORT, None), ("GET", "/export?format=csv", EXPORT, None),
        ("GET", "/export?format=jsonl&confidential=true", ADMIN, None), ("GET", "/users", ADMIN, None),
        ("POST", f"/facts/{fact['id']}/confirm", REVIEW, {}),
        ("POST", f"/facts/{fact['id']}/correct", REVIEW, {}),
        ("POST", f"/incidents/{fact['incident_id']}/facts", REVIEW, {"kind": "place", "span_start": "0", "span_end": "5"}),
        ("POST", f"/cases/{case}/status", REVIEW, {"status": "reviewed"}),
        ("POST", "/notes", REVIEW, {"target_kind": "document", "target_id": doc, "body": "invented note"}),
        ("POST", "/users", ADMIN, {"name": "newcomer", "role": "viewer", "password": "another passphrase"}),
        ("POST", "/users/viewer", ADMIN, {"role": "viewer", "disabled": "0"}),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_review_authorisation_matrix(role: str, client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    client = client_for(role)
    token = csrf_of(client)
    got = {}
    for method, path, need, form in _matrix(ledger):
        if method == "GET":
            status = client.get(path, follow_redirects=False).status_code
        else:
            status = client.post(path, data={**(form or {}), "csrf": token}, follow_redirects=False).status_code
        got[(method, path)] = status
        expected = (200 if method == "GET" else 303) if need in ALLOWED[role] else 403
        assert status == expected, f"{role} {method} {path}: {status}, expected {expected}"


# -- CSRF on every state-changing form ---------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "forged-token", "other-session"])
def test_review_posts_without_the_session_token_change_nothing(token: str | None, client_for: Callable[..., TestClient],
                                                              ledger: Ledger) -> None:
    fact = first_fact(ledger, "victims")
    client = client_for("analyst")
    if token == "other-session":
        token = csrf_of(client_for("admin"))
    data = {"v_count": "99"} | ({"csrf": token} if token else {})
    response = client.post(f"/facts/{fact['id']}/correct", data=data, follow_redirects=False)
    assert response.status_code == 403
    assert ledger.fact(fact["id"])["status"] == "proposed" and ledger.history(target_kind="fact") == []


# -- review actions and their audit trail ----------------------------------------------------------------
def test_review_correct_keeps_proposal_and_records_old_and_new(client_for: Callable[..., TestClient],
                                                               ledger: Ledger) -> None:
    fact = first_fact(ledger, "victims")
    proposed = fact["value"]["count"]
    client = client_for("analyst")
    response = client.post(f"/facts/{fact['id']}/correct",
                           data={"csrf": csrf_of(client), "v_count": str(proposed + 7), "v_unit": "persons"},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].endswith(f"#fact-{fact['id']}")
    after = ledger.fact(fact["id"])
    assert after["status"] == "corrected" and after["value"]["count"] == proposed + 7 and after["value"]["unit"] == "persons"
    assert after["proposal"]["value"]["count"] == proposed  # the extraction's proposal is kept
    entry = ledger.history(target_kind="fact", target_id=str(fact["id"]))[0]
    assert entry["user_name"] == "analyst" and entry["action"] == "correct"
    assert entry["old"]["value"]["count"] == proposed and entry["new"]["value"]["count"] == proposed + 7
    datetime.fromisoformat(entry["at"])
    # The ledger's documents (and so its exports) carry the reviewed value.
    doc = ledger.document(fact["document_id"])
    counts = [v.count for inc in doc.incidents if inc.id == fact["incident_id"] for v in inc.victims]
    assert proposed + 7 in counts
    page = client.get(f"/documents/{fact['document_id']}").text
    assert "Review history" in page and f"fact {fact['id']}" in page


def test_review_reject_hides_fact_from_documents_and_exports(client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    fact = first_fact(ledger, "place")
    client = client_for("analyst")
    client.post(f"/facts/{fact['id']}/reject", data={"csrf": csrf_of(client)})
    doc = ledger.document(fact["document_id"])
    names = [p.name for inc in doc.incidents if inc.id == fact["incident_id"] for p in inc.places
             if p.evidence.start == fact["evidence"]["start"]]
    assert names == []
    assert ledger.fact(fact["id"])["status"] == "rejected"
    assert ledger.history()[0]["new"]["status"] == "rejected"


def test_review_correct_reselects_evidence_span(ledger: Ledger) -> None:
    fact = first_fact(ledger, "place")
    text = ledger.document(fact["document_id"]).text
    start = text.index(" ", 10) + 1
    after = ledger.correct_fact(fact["id"], "analyst", {}, (start, start + 6))
    assert after["evidence"] == {"start": start, "end": start + 6, "text": text[start:start + 6]}
    with pytest.raises(Exception, match="outside the text"):
        ledger.correct_fact(fact["id"], "analyst", {}, (0, len(text) + 5))
    with pytest.raises(Exception, match="no field"):
        ledger.correct_fact(fact["id"], "analyst", {"colour": "red"})


def test_review_add_fact_from_selection(client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    fact = first_fact(ledger, "type")
    text = ledger.document(fact["document_id"]).text
    m = re.search(r"\d+ (families|people|residents)", text)
    assert m, "an example with a count"
    client = client_for("analyst")
    response = client.post(f"/incidents/{fact['incident_id']}/facts", follow_redirects=False, data={
        "csrf": csrf_of(client), "kind": "victims", "span_start": str(m.start()), "span_end": str(m.end())})
    assert response.status_code == 303
    added = ledger.fact(int(response.headers["location"].rsplit("fact-", 1)[1]))
    assert added["evidence"]["text"] == m.group(0) and added["value"]["count"] == int(m.group(0).split()[0])
    assert added["why"]["component"] == "review" and added["status"] == "confirmed"
    assert ledger.history()[0]["action"] == "add"


def test_review_case_status_workflow(client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    case = ledger.cases()[0].id
    client = client_for("analyst")
    token = csrf_of(client)
    assert client.post(f"/cases/{case}/status", data={"csrf": token, "status": "verified"}).status_code == 400
    for step in ("reviewed", "verified"):
        assert client.post(f"/cases/{case}/status", data={"csrf": token, "status": step},
                           follow_redirects=False).status_code == 303
    assert ledger.case_review_status([case])[case] == "verified"
    assert [h["new"]["status"] for h in ledger.history(target_kind="case", target_id=case)] == ["verified", "reviewed"]
    assert "st-verified" in client.get(f"/cases/{case}").text
    assert ledger.search(SearchFilters(statuses=("verified",)))["total"] >= 1


def test_review_notes_are_escaped_and_logged(client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    doc = ledger.documents()[0]["id"]
    client = client_for("analyst")
    client.post("/notes", data={"csrf": csrf_of(client), "target_kind": "document", "target_id": doc,
                                "body": "<b>check</b> the count"})
    page = client.get(f"/documents/{doc}").text
    assert "&lt;b&gt;check&lt;/b&gt; the count" in page and "<b>check</b>" not in page


# -- documents, originals, hostile content -------------------------------------------------------------
def _hostile_id(ledger: Ledger) -> str:
    return next(d["id"] for d in ledger.documents() if (d["title"] or "").startswith("Hostile"))


def test_review_original_is_served_as_inert_text(client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    doc = _hostile_id(ledger)
    response = client_for("viewer").get(f"/documents/{doc}/original")
    assert response.content == ledger.original(doc)
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-disposition"].startswith("inline; filename=")
    assert "sandbox" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_review_hostile_text_is_escaped(client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    page = client_for("analyst").get(f"/documents/{_hostile_id(ledger)}").text
    assert "<script>window.__pwned" not in page and "&lt;script&gt;window.__pwned" in page
    assert 'onerror="window' not in page and "<style>body" not in page
    assert 'href="javascript:' not in page


def test_review_pages_have_strict_csp(client_for: Callable[..., TestClient]) -> None:
    response = client_for("viewer").get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["x-frame-options"] == "DENY"


def test_review_templates_have_no_inline_script_or_style() -> None:
    folder = Path(__file__).parents[1] / "src/rightsledger/review/templates"
    for template in folder.glob("*.html"):
        source = template.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", source), template.name
        assert not re.search(r"\sstyle=", source) and "<style" not in source, template.name
        assert not re.search(r"\son[a-z]+=", source), template.name
        assert "|safe" not in source, template.name


def test_review_document_page_highlights_every_live_fact(client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    doc = next(d["id"] for d in ledger.documents() if d["incidents"])
    page = client_for("viewer").get(f"/documents/{doc}").text
    facts = [f for f in ledger.review_facts(doc) if f["evidence"]]
    for f in facts:
        assert re.search(rf'data-facts="[^"]*\b{f["id"]}\b', page), f
    assert "Confirm" not in page  # viewers get no review buttons
    assert ledger.document(doc).sha256 in page


# -- exports ----------------------------------------------------------------------------------------------
def test_review_exports_leave_informants_out_unless_admin_asks(client_for: Callable[..., TestClient],
                                                               ledger: Ledger) -> None:
    plain = client_for("analyst").get("/export?format=jsonl").text
    full = client_for("admin").get("/export?format=jsonl&confidential=true").text
    assert '"sources": []' in plain and '"description"' not in plain.split('"sources"')[1][:40]
    assert '"kind": "official"' in full or '"kind": "resident"' in full
    assert ledger.history()[0]["action"] == "export"


# -- search -------------------------------------------------------------------------------------------------
def test_review_parse_query_turns_types_and_years_into_facets() -> None:
    parsed = parse_query("forced repatriation in 2023")
    assert parsed.types == ("forced_repatriation",) and parsed.years == (2023,) and parsed.text == ""
    assert parse_query('Ongjin county "secret police"').text == 'Ongjin county "secret police"'
    filters, _ = filters_from({"q": ["killing 2021 2022 Hyesan"], "province": ["Ryanggang"]})
    assert filters.types == ("killing",) and filters.text == "Hyesan" and filters.provinces == ("Ryanggang",)
    assert (filters.date_from, filters.date_to) == (date(2021, 1, 1), date(2022, 12, 31))


def _check_search(ledger: Ledger) -> None:
    hits = ledger.search(SearchFilters(text="Ongjin county"))
    assert hits["total"] > 0
    docs = {r["document_id"] for r in hits["rows"]}
    assert all("ongjin" in ledger.document(d).text.lower() for d in docs)
    nothing = ledger.search(SearchFilters(text="zzqxnotaword"))
    assert nothing["total"] == 0
    # Hostile FTS syntax is just words.
    assert ledger.search(SearchFilters(text='NEAR( " ) OR * title:x'))["total"] >= 0
    by_type = ledger.search(SearchFilters(types=("forced_relocation",)))
    assert by_type["total"] > 0 and all("forced_relocation" in r["types"] for r in by_type["rows"])
    facet = dict(by_type["facets"]["type"])
    assert facet["forced_relocation"] == by_type["total"]
    province = by_type["facets"]["province"][0][0]
    narrowed = ledger.search(SearchFilters(types=("forced_relocation",), provinces=(province,)))
    assert 0 < narrowed["total"] <= by_type["total"]
    year = ledger.search(SearchFilters(date_from=date(2023, 1, 1), date_to=date(2023, 12, 31)))
    assert all(r["date_start"] is None or r["date_start"].year <= 2023 for r in year["rows"])


def test_review_search_sqlite(ledger: Ledger) -> None:
    _check_search(ledger)


@pytest.mark.postgres
def test_review_search_postgresql(pg_url: str) -> None:
    with Ledger(pg_url) as ledger:
        assert ledger.ingest_examples().ok
        _check_search(ledger)
        fact = first_fact(ledger, "victims")
        ledger.correct_fact(fact["id"], "analyst", {"count": 5})
        assert ledger.history()[0]["new"]["value"]["count"] == 5


def test_review_search_page_shows_results_and_facets(client_for: Callable[..., TestClient]) -> None:
    page = client_for("viewer").get("/search", params={"q": "Ongjin county"}).text
    total = int(re.search(r'<strong id="total">(\d+)</strong>', page).group(1))  # type: ignore[union-attr]
    assert total > 0 and 'name="province"' in page and 'name="type"' in page


# -- map, timeline, presentation ---------------------------------------------------------------------------
def test_review_map_data_has_sized_markers_and_lines(client_for: Callable[..., TestClient]) -> None:
    client = client_for("viewer")
    data = client.get("/api/map").json()
    markers = data["markers"]
    assert not data["clustered"] and data["total"] == data["shown"] == len(markers)
    assert markers and all(-90 <= m["lat"] <= 90 and -180 <= m["lon"] <= 180 for m in markers)
    assert any(m["victims"] > 0 for m in markers)
    assert any(m["lines"] for m in markers)  # a relocation or repatriation: origin -> destination
    base = client.get("/api/map-base").json()
    assert len(base["provinces"]["features"]) >= 9 and len(base["counties"]) > 100
    page = client.get("/map").text
    assert "/static/vendor/leaflet/leaflet.js" in page and "unpkg" not in page and "cdn" not in page.lower()


def test_review_timeline_draws_month_precision_as_a_month() -> None:
    items = [{"id": "C-1", "case": True, "document_id": "d1", "start": "2023-06-01", "end": "2023-06-30",
              "precision": "month", "types": ["forced_relocation"]},
             {"id": "C-2", "case": True, "document_id": "d2", "start": "2023-08-14", "end": "2023-08-14",
              "precision": "day", "types": ["killing"]}]
    chart = present.timeline(items)
    month, day = chart.bars
    assert month.label == "June 2023" and day.label == "2023-08-14"
    assert month.width > 10 * day.width and month.width == pytest.approx(30 * day.width, rel=0.25)


def test_review_segments_rebuild_the_text() -> None:
    text = "In June, 30 families were sent away."
    facts = [{"id": 1, "kind": "date", "status": "proposed", "evidence": {"start": 3, "end": 7}},
             {"id": 2, "kind": "victims", "status": "proposed", "evidence": {"start": 9, "end": 20}},
             {"id": 3, "kind": "type", "status": "rejected", "evidence": {"start": 26, "end": 30}}]
    segs = present.segments(text, facts)
    assert "".join(s.text for s in segs) == text
    assert [(s.text, s.facts) for s in segs if s.facts] == [("June", [1]), ("30 families", [2])]


def test_review_timeline_page_renders(client_for: Callable[..., TestClient]) -> None:
    page = client_for("viewer").get("/timeline").text
    assert "<svg" in page and "p-month" in page


# -- users and the CLI ---------------------------------------------------------------------------------------
def test_review_admin_disables_a_user_and_their_session_ends(client_for: Callable[..., TestClient]) -> None:
    viewer = client_for("viewer")
    admin = client_for("admin")
    admin.post("/users/viewer", data={"csrf": csrf_of(admin), "role": "viewer", "disabled": "1"})
    assert viewer.get("/", follow_redirects=False).status_code == 303
    assert _login(client_for(None), "viewer").status_code == 401


def test_review_cli_user_add_reads_password_from_stdin(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    result = CliRunner().invoke(cli_app, ["--db", db, "user", "add", "nadia", "--role", "analyst", "--password-stdin"],
                                input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    with Ledger(db) as ledger:
        assert auth.login(ledger, "nadia", PASSWORD, auth.Policy())["role"] == "analyst"
    bad = CliRunner().invoke(cli_app, ["--db", db, "user", "add", "x", "--role", "boss", "--password-stdin"], input="y" * 12)
    assert bad.exit_code != 0


# -- the JSON API: tokens, authorisation matrix, CSRF, pagination --------------------------------------------
def _token(ledger: Ledger, role: str, **kw: object) -> str:
    return auth.new_token(ledger, role, f"{role} script", by="test", **kw)[1]  # type: ignore[arg-type]


def _two_report_case(ledger: Ledger) -> tuple[str, str]:
    case = next(c for c in ledger.cases() if len(c.members) >= 2)
    return case.id, case.members[-1].document_id


def _api_matrix(ledger: Ledger) -> list[tuple[str, str, str, dict | None]]:
    doc = next(d["id"] for d in ledger.documents() if d["incidents"])
    fact = ledger.review_facts(doc)[0]
    split_case, split_doc = _two_report_case(ledger)
    singles = [c.id for c in ledger.cases() if len(c.members) == 1 and c.id != split_case]
    return [
        ("GET", "/api/me", READ, None), ("GET", "/api/openapi.json", READ, None), ("GET", "/api/docs", READ, None),
        ("GET", "/api/search?q=county", READ, None), ("GET", "/api/incidents?type=forced_relocation", READ, None),
        ("GET", f"/api/incidents/{fact['incident_id']}", READ, None), ("GET", f"/api/facts/{fact['id']}", READ, None),
        ("GET", "/api/cases?province=Ryanggang", READ, None), ("GET", f"/api/cases/{split_case}", READ, None),
        ("GET", "/api/documents?per_page=5", READ, None), ("GET", f"/api/documents/{doc}", READ, None),
        ("GET", "/api/map", READ, None), ("GET", "/api/map-base", READ, None), ("GET", "/api/timeline", READ, None),
        ("GET", "/api/export?format=csv", EXPORT, None), ("GET", "/api/export?format=jsonl&confidential=true", ADMIN, None),
        ("GET", "/api/users", ADMIN, None),
        ("POST", f"/api/facts/{fact['id']}/confirm", REVIEW, {}),
        ("POST", f"/api/facts/{fact['id']}/correct", REVIEW, {"changes": {}}),
        ("POST", f"/api/facts/{fact['id']}/reject", REVIEW, {}),
        ("POST", f"/api/incidents/{fact['incident_id']}/facts", REVIEW, {"kind": "place", "span": [0, 5]}),
        ("POST", f"/api/cases/{split_case}/status", REVIEW, {"status": "reviewed"}),
        ("POST", "/api/notes", REVIEW, {"target_kind": "document", "target_id": doc, "body": "invented note"}),
        ("POST", f"/api/cases/{split_case}/split", REVIEW, {"document": split_doc}),
        ("POST", f"/api/cases/{singles[0]}/merge", REVIEW, {"other": singles[1]}),
    ]


PRINCIPALS = [*(f"cookie-{r}" for r in ROLES), *(f"token-{r}" for r in ROLES), "anonymous", "revoked-token",
              "expired-token", "malformed-header"]


@pytest.mark.parametrize("who", PRINCIPALS)
def test_api_authorisation_matrix(who: str, client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    """Every API endpoint for every kind of caller: each gets exactly what its role may, no more."""
    kind, _, role = who.partition("-")
    headers: dict[str, str] = {}
    if kind == "cookie":
        client = client_for(role)
        headers["X-CSRF-Token"] = client.get("/api/me").json()["csrf"]
    else:
        client = client_for(None)
        if kind == "token":
            headers["Authorization"] = f"Bearer {_token(ledger, role)}"
        elif who == "revoked-token":
            token_id, token = auth.new_token(ledger, "admin", "soon revoked", by="test")
            ledger.revoke_token(token_id, by="test")
            headers["Authorization"] = f"Bearer {token}"
        elif who == "expired-token":
            past = datetime.now(timezone.utc) - timedelta(days=3)
            headers["Authorization"] = f"Bearer {_token(ledger, 'admin', expires_days=2, now=past)}"
        elif who == "malformed-header":
            headers["Authorization"] = f"Basic {_token(ledger, 'admin')}"
    for method, path, need, body in _api_matrix(ledger):
        if method == "GET":
            response = client.get(path, headers=headers)
        else:
            response = client.post(path, json=body, headers=headers)
        if role in ALLOWED:
            expected = 200 if need in ALLOWED[role] else 403
        else:
            expected = 401
        assert response.status_code == expected, f"{who} {method} {path}: {response.status_code} {response.text[:200]}"
        if expected == 401:
            assert response.headers["www-authenticate"].startswith("Bearer") and response.json()["error"]


def test_api_token_acts_with_its_users_current_role(client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    token = _token(ledger, "viewer")
    client = client_for(None)
    bearer = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/me", headers=bearer).json()
    assert me == {"name": "viewer", "role": "viewer", "via": "token", "may": ["read"], "csrf": None}
    fact = first_fact(ledger, "type")
    assert client.post(f"/api/facts/{fact['id']}/confirm", headers=bearer).status_code == 403
    ledger.update_user("viewer", by="test", role="analyst")
    assert client.post(f"/api/facts/{fact['id']}/confirm", headers=bearer).status_code == 200
    entry = ledger.history(target_kind="fact", target_id=str(fact["id"]))[0]
    assert entry["user_name"] == "viewer" and entry["action"] == "confirm"
    ledger.update_user("viewer", by="test", disabled=True)
    assert client.get("/api/me", headers=bearer).status_code == 401


def test_api_cookie_posts_need_the_csrf_header_tokens_do_not(client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    fact = first_fact(ledger, "victims")
    client = client_for("analyst")
    for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": client_for("admin").get("/api/me").json()["csrf"]}):
        response = client.post(f"/api/facts/{fact['id']}/correct", json={"changes": {"count": 99}}, headers=headers)
        assert response.status_code == 403
    assert ledger.fact(fact["id"])["status"] == "proposed" and ledger.history(target_kind="fact") == []
    token_client = client_for(None)  # no cookie at all: the token alone
    response = token_client.post(f"/api/facts/{fact['id']}/correct", json={"changes": {"count": 99}, "span": None},
                                 headers={"Authorization": f"Bearer {_token(ledger, 'analyst')}"})
    assert response.status_code == 200 and response.json()["value"]["count"] == 99
    assert response.json()["proposal"]["value"]["count"] == fact["value"]["count"]


def test_api_review_errors_are_json_with_a_hint(client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    client = client_for(None)
    bearer = {"Authorization": f"Bearer {_token(ledger, 'analyst')}"}
    missing = client.post("/api/facts/999999/confirm", headers=bearer)
    assert missing.status_code == 404 and missing.json()["hint"]
    fact = first_fact(ledger, "victims")
    bad = client.post(f"/api/facts/{fact['id']}/correct", json={"changes": {"count": "many"}}, headers=bearer)
    assert bad.status_code == 400 and "whole number" in bad.json()["error"]
    case = ledger.cases()[0].id
    jump = client.post(f"/api/cases/{case}/status", json={"status": "verified"}, headers=bearer)
    assert jump.status_code == 400 and "reviewed" in jump.json()["hint"]


def _walk(client: TestClient, path: str, headers: dict[str, str]) -> tuple[list[dict], list[dict]]:
    pages, items = [], []
    url: str | None = path
    while url:
        page = client.get(url, headers=headers).json()
        pages.append(page)
        items += page["items"]
        url = page["next"]
        assert len(pages) < 100
    return pages, items


def test_api_pagination_walks_every_item_once(client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    client = client_for(None)
    bearer = {"Authorization": f"Bearer {_token(ledger, 'viewer')}"}
    pages, items = _walk(client, "/api/documents?per_page=4", bearer)
    ids = [d["id"] for d in ledger.documents()]
    assert [d["id"] for d in items] == ids
    assert all(p["total"] == len(ids) and p["per_page"] == 4 and p["pages"] == -(-len(ids) // 4) for p in pages)
    assert [len(p["items"]) for p in pages[:-1]] == [4] * (len(pages) - 1) and pages[-1]["next"] is None
    assert pages[0]["prev"] is None and pages[1]["prev"].endswith("page=1&per_page=4")
    # Filters survive in the next links; every incident of the search comes exactly once.
    pages, items = _walk(client, "/api/incidents?type=forced_relocation&per_page=2", bearer)
    total = ledger.search(SearchFilters(types=("forced_relocation",)))["total"]
    assert len(items) == len({i["id"] for i in items}) == total == pages[0]["total"] > 2
    assert all("forced_relocation" in i["types"] for i in items)
    cases_total = client.get("/api/cases", headers=bearer).json()["total"]
    _, cases = _walk(client, "/api/cases?per_page=3", bearer)
    assert len({c["id"] for c in cases}) == cases_total == len(ledger.cases())


@pytest.mark.parametrize("query", ["per_page=201", "per_page=0", "page=0", "per_page=x"])
def test_api_pagination_has_a_hard_maximum(query: str, client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    response = client_for("viewer").get(f"/api/documents?{query}")
    assert response.status_code in (400, 422)
    if response.status_code == 400:
        assert response.json()["hint"]


def test_api_docs_are_for_signed_in_users_only(client_for: Callable[..., TestClient]) -> None:
    anonymous = client_for(None)
    assert anonymous.get("/api/openapi.json").status_code == 401
    assert anonymous.get("/api/docs").status_code == 401
    assert anonymous.get("/docs").status_code in (303, 404) and anonymous.get("/openapi.json").status_code in (303, 404)
    viewer = client_for("viewer")
    schema = viewer.get("/api/openapi.json").json()
    assert "/api/cases" in schema["paths"] and "/api/facts/{fact_id}/correct" in schema["paths"]
    assert all(p.startswith("/api/") for p in schema["paths"])
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    page = viewer.get("/api/docs")
    assert "/api/facts/{fact_id}/confirm" in page.text and "Authorization: Bearer" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


# -- bugs: derived case fields follow review; overrides name the web user ------------------------------------
def _case_of(ledger: Ledger, incident_id: str):  # noqa: ANN202
    return next(c for c in ledger.cases() if incident_id in c.incident_ids)


def test_case_types_follow_reviewed_type_facts(client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    case = next(c for c in ledger.cases() if c.types and "torture" not in c.types)
    incidents = set(case.incident_ids)
    type_facts = [f for m in case.members for f in ledger.review_facts(m.document_id)
                  if f["kind"] == "type" and f["incident_id"] in incidents]
    assert type_facts
    client = client_for("analyst")
    token = csrf_of(client)
    for f in type_facts:
        client.post(f"/facts/{f['id']}/correct", data={"csrf": token, "v_code": "torture"})
    after = _case_of(ledger, type_facts[0]["incident_id"])
    assert after.types == ["torture"]
    listed = client.get("/api/cases", params={"type": "torture", "per_page": 200}).json()["items"]
    assert next(c for c in listed if c["id"] == after.id)["types"] == ["torture"]
    assert all(t not in client.get(f"/cases/{after.id}").text.split("<h2")[0] for t in
               [f">{t.replace('_', ' ')}<" for t in case.types])
    # Rejecting the reviewed types leaves the case with none.
    for f in type_facts:
        client.post(f"/facts/{f['id']}/reject", data={"csrf": token})
    assert _case_of(ledger, type_facts[0]["incident_id"]).types == []


def test_merge_and_split_record_the_signed_in_user(client_for: Callable[..., TestClient], ledger: Ledger) -> None:
    split_case, split_doc = _two_report_case(ledger)
    singles = [c.id for c in ledger.cases() if len(c.members) == 1 and c.id != split_case]
    client = client_for("analyst")
    token = csrf_of(client)
    assert client.post(f"/cases/{split_case}/split", data={"csrf": token, "document": split_doc},
                       follow_redirects=False).status_code == 303
    assert client.post(f"/cases/{singles[0]}/merge", data={"csrf": token, "other": singles[1]},
                       follow_redirects=False).status_code == 303
    overrides = ledger.overrides()
    assert {o["action"] for o in overrides} == {"merge", "split"}
    assert {o["user_name"] for o in overrides} == {"analyst"}
    with ledger.db.read() as conn:
        users = {r.user_name for r in conn.exec_driver_sql(
            "SELECT user_name FROM audit_log WHERE action IN ('merge', 'split')")}
    assert users == {"analyst"}
    assert ledger.verify().chain.ok


# -- the map at volume: clusters from the server ----------------------------------------------------------
def test_map_data_clusters_on_the_server_beyond_the_marker_limit(ledger: Ledger) -> None:
    full = ledger.map_data(SearchFilters())
    assert not full["clustered"] and full["total"] == len(full["markers"]) > 3
    grouped = ledger.map_data(SearchFilters(), zoom=5, max_markers=2)
    assert grouped["clustered"] and grouped["markers"] == []
    assert sum(c["count"] for c in grouped["clusters"]) == full["total"]
    assert sum(c["victims"] for c in grouped["clusters"]) == sum(m["victims"] for m in full["markers"])
    assert 1 <= len(grouped["clusters"]) <= full["total"]
    # Zoomed far in, clusters are finer; a box holds only what is inside it.
    fine = ledger.map_data(SearchFilters(), zoom=14, max_markers=2)
    assert len(fine["clusters"]) >= len(grouped["clusters"])
    m = next(x for x in full["markers"] if x["case"])
    box = ledger.map_data(SearchFilters(), bbox=(m["lat"] - 0.01, m["lon"] - 0.01, m["lat"] + 0.01, m["lon"] + 0.01))
    assert 1 <= box["shown"] < full["total"] and m["id"] in [x["id"] for x in box["markers"]]
    assert all(abs(x["lat"] - m["lat"]) <= 0.01 and abs(x["lon"] - m["lon"]) <= 0.01 for x in box["markers"])
    one = ledger.map_data(SearchFilters(case_ids=(m["id"],)))  # a case page's map asks for its case only
    assert [x["id"] for x in one["markers"]] == [m["id"]]


# -- the token CLI ------------------------------------------------------------------------------------------
def test_cli_token_create_list_revoke(ledger: Ledger) -> None:
    db = ledger.url
    runner = CliRunner()
    made = runner.invoke(cli_app, ["--db", db, "token", "create", "analyst", "--name", "nightly sync", "--expires", "30"])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[0]
    assert token.startswith(auth.TOKEN_PREFIX) and len(token) > 40
    user = auth.token_user(ledger, token)
    assert user is not None and (user.name, user.role) == ("analyst", "analyst")
    listed = runner.invoke(cli_app, ["--db", db, "token", "list", "--json"])
    assert listed.exit_code == 0 and token not in listed.stdout and auth.token_hash(token) not in listed.stdout
    row = next(r for r in __import__("json").loads(listed.stdout) if r["name"] == "nightly sync")
    assert row["user"] == "analyst" and row["revoked_at"] is None
    expires = datetime.fromisoformat(row["expires_at"]) - datetime.fromisoformat(row["created_at"])
    assert timedelta(days=29, hours=23) < expires <= timedelta(days=30)
    with ledger.db.read() as conn:  # only the hash is stored
        stored = conn.exec_driver_sql("SELECT token_hash FROM api_tokens WHERE id = ?", (row["id"],)).scalar()
    assert stored == auth.token_hash(token) != token
    revoked = runner.invoke(cli_app, ["--db", db, "token", "revoke", str(row["id"])])
    assert revoked.exit_code == 0, revoked.output
    assert auth.token_user(ledger, token) is None
    again = runner.invoke(cli_app, ["--db", db, "token", "revoke", str(row["id"])])
    assert again.exit_code != 0 and "already revoked" in again.output
    assert runner.invoke(cli_app, ["--db", db, "token", "create", "nobody"]).exit_code != 0
    actions = [h["action"] for h in ledger.history(target_kind="token", target_id=str(row["id"]))]
    assert actions == ["token_revoke", "token_create"]
    with ledger.db.read() as conn:
        audited = [r.action for r in conn.exec_driver_sql("SELECT action FROM audit_log WHERE object = ?",
                                                          (f"token:{row['id']}",))]
    assert audited == ["token_create", "token_revoke"] and ledger.verify().chain.ok
