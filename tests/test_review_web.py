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
    markers = client.get("/api/map").json()
    assert markers and all(-90 <= m["lat"] <= 90 and -180 <= m["lon"] <= 180 for m in markers)
    assert any(m["victims"] > 0 for m in markers)
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
