"""The review workspace in a real browser: Playwright driving the system Chromium against a
uvicorn server on 127.0.0.1 (a free port), over a ledger seeded with the bundled examples.

No browser is ever downloaded: Chromium comes from the system (`apt-get install chromium`,
/usr/bin/chromium) or RIGHTSLEDGER_CHROMIUM. Without one these tests skip, unless
RIGHTSLEDGER_REQUIRE_BROWSER=1 (set by CI), which makes a missing browser a failure.
Screenshots go to RIGHTSLEDGER_SCREENSHOTS (default: the test's temporary folder).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from rightsledger.ledger import Ledger
from rightsledger.review import auth, create_app

PASSWORD = "an invented browser passphrase"
HOSTILE = (
    "Hostile browser report <script>window.__pwned = 1</script>\n\n"
    "Police detained 12 residents in Hyesan in June, a resident said. "
    '<img src=x onerror="window.__pwned = 2"> <a href="javascript:window.__pwned=3">click</a> '
    "<style>body { display: none }</style>\n"
)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _chromium() -> str | None:
    for candidate in (os.environ.get("RIGHTSLEDGER_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser",
                      shutil.which("chromium")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _require() -> str:
    path = _chromium()
    reason = "no Chromium found at /usr/bin/chromium (install it with `apt-get install chromium`, or set RIGHTSLEDGER_CHROMIUM)"
    if path is None:
        if os.environ.get("RIGHTSLEDGER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"RIGHTSLEDGER_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        if os.environ.get("RIGHTSLEDGER_REQUIRE_BROWSER") == "1":
            pytest.fail("RIGHTSLEDGER_REQUIRE_BROWSER=1 but the playwright package is not installed")
        pytest.skip("the playwright package is not installed (pip install -e '.[test]')")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A uvicorn server on a free loopback port over a freshly seeded ledger."""
    _require()
    import uvicorn

    folder = tmp_path_factory.mktemp("browser")
    (folder / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    ledger = Ledger(str(folder / "ledger.db"))
    assert ledger.ingest_examples().ok and ledger.ingest([folder / "hostile.txt"]).ok
    for role in ("viewer", "analyst"):
        auth.add_user(ledger, role, role, PASSWORD, created_by="test")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ledger), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the review server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        ledger.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    path = _require()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("RIGHTSLEDGER_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser: object, server: str) -> Iterator[object]:
    context = browser.new_context(base_url=server, viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    pg = context.new_page()
    pg.csp_errors = []  # type: ignore[attr-defined]
    pg.on("console", lambda m: pg.csp_errors.append(m.text) if "Content Security Policy" in m.text else None)  # type: ignore[attr-defined]
    pg.dialogs = []  # type: ignore[attr-defined]
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
    try:
        yield pg
    finally:
        context.close()


def login(page: object, name: str) -> None:
    page.goto("/login")  # type: ignore[attr-defined]
    page.fill("input[name=name]", name)  # type: ignore[attr-defined]
    page.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r".*/$"))  # type: ignore[attr-defined]


def _document_with(page: object, kind: str) -> None:
    """Open the first document whose page has a proposed fact of `kind`."""
    page.goto("/documents")  # type: ignore[attr-defined]
    links = [a.get_attribute("href") for a in page.locator("table.list a").all()]  # type: ignore[attr-defined]
    for href in links:
        page.goto(href)  # type: ignore[attr-defined]
        if page.locator(f".fact-card.k-{kind}.fs-proposed").count():  # type: ignore[attr-defined]
            return
    raise AssertionError(f"no document with a proposed {kind} fact")


def test_web_login_search_and_open_a_document(page: object, shots: Path) -> None:
    login(page, "analyst")
    page.fill("input[name=q]", "Ongjin county")  # type: ignore[attr-defined]
    page.press("input[name=q]", "Enter")  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r".*/search\?q=Ongjin"))  # type: ignore[attr-defined]
    total = int(page.inner_text("#total"))  # type: ignore[attr-defined]
    assert total > 0 and page.locator("tr.result").count() > 0  # type: ignore[attr-defined]
    page.screenshot(path=str(shots / "search.png"), full_page=True)  # type: ignore[attr-defined]
    page.locator("tr.result a").first.click()  # type: ignore[attr-defined]
    page.wait_for_selector("#doctext mark.fact")  # type: ignore[attr-defined]
    assert page.locator("#doctext mark.k-place").count() > 0  # type: ignore[attr-defined]
    page.screenshot(path=str(shots / "document.png"), full_page=True)  # type: ignore[attr-defined]
    assert page.csp_errors == []  # type: ignore[attr-defined]


def test_web_confirm_and_correct_facts_and_see_history(page: object, shots: Path) -> None:
    login(page, "analyst")
    _document_with(page, "victims")
    card = page.locator(".fact-card.k-victims.fs-proposed").first  # type: ignore[attr-defined]
    fact_id = card.get_attribute("data-fact")
    # Confirm a fact.
    other = page.locator(".fact-card.fs-proposed").first  # type: ignore[attr-defined]
    other_id = other.get_attribute("data-fact")
    other.locator("button.confirm").click()
    page.wait_for_load_state()  # type: ignore[attr-defined]
    assert "fs-confirmed" in page.locator(f"#fact-{other_id}").get_attribute("class")  # type: ignore[attr-defined]
    # Correct the count, re-selecting its evidence in the text.
    card = page.locator(f"#fact-{fact_id}")  # type: ignore[attr-defined]
    card.locator("details.correct summary").click()
    old = card.locator("input[name=v_count]").input_value()
    new = str(int(old or "0") + 5)
    card.locator("input[name=v_count]").fill(new)
    card.locator("button[type=submit]", has_text="Save correction").click()
    page.wait_for_load_state()  # type: ignore[attr-defined]
    card = page.locator(f"#fact-{fact_id}")  # type: ignore[attr-defined]
    assert "fs-corrected" in card.get_attribute("class")
    assert card.locator(".value").inner_text().startswith(new)
    assert f"proposed: {old}" in card.locator(".proposal").inner_text()
    history = page.locator("#history").inner_text()  # type: ignore[attr-defined]
    assert f"analyst correct fact {fact_id}" in history and f'"count": {new}' in history
    page.screenshot(path=str(shots / "document-reviewed.png"), full_page=True)  # type: ignore[attr-defined]


def test_web_select_text_and_add_a_fact(page: object) -> None:
    login(page, "analyst")
    _document_with(page, "type")
    # Select the first word of the text by script-free means: a mouse drag over a known element.
    text = page.locator("#doctext")  # type: ignore[attr-defined]
    box = text.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 22)  # type: ignore[attr-defined]
    page.mouse.down()  # type: ignore[attr-defined]
    page.mouse.move(box["x"] + 160, box["y"] + 22)  # type: ignore[attr-defined]
    page.mouse.up()  # type: ignore[attr-defined]
    selected = page.locator("#selection").inner_text()  # type: ignore[attr-defined]
    assert selected.startswith("“")
    form = page.locator("details.add-fact").first  # type: ignore[attr-defined]
    form.locator("summary").click()
    form.locator("select[name=kind]").select_option("place")
    form.locator("button.use-selection").click()
    start = int(form.locator("input.sel-start").input_value())
    end = int(form.locator("input.sel-end").input_value())
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()  # type: ignore[attr-defined]
    added = page.locator(".fact-card.k-place", has=page.locator(".why", has_text="review · added-by-reviewer"))  # type: ignore[attr-defined]
    assert added.count() == 1
    full = page.locator("#doctext").inner_text()  # type: ignore[attr-defined]
    assert added.locator("q.evidence").inner_text() == full[start:end]


def test_web_map_draws_markers(page: object, shots: Path) -> None:
    login(page, "viewer")
    page.goto("/map")  # type: ignore[attr-defined]
    page.wait_for_selector("#map[data-ready='1']", timeout=15000)  # type: ignore[attr-defined]
    assert int(page.get_attribute("#map", "data-markers")) > 0  # type: ignore[attr-defined]
    drawn = page.locator("path.case-marker").count() + page.locator(".cluster-marker").count()  # type: ignore[attr-defined]
    assert drawn > 0
    assert page.locator("path.county-point").count() > 100  # type: ignore[attr-defined]
    assert page.locator("path.leaflet-interactive").count() > 100  # type: ignore[attr-defined]
    page.screenshot(path=str(shots / "map.png"))  # type: ignore[attr-defined]
    # Zoomed in, every case is its own circle.
    for _ in range(3):
        page.locator(".leaflet-control-zoom-in").click()  # type: ignore[attr-defined]
        page.wait_for_timeout(350)  # type: ignore[attr-defined]
    assert page.locator("path.case-marker").count() > 0  # type: ignore[attr-defined]
    assert page.csp_errors == []  # type: ignore[attr-defined]


def test_web_dashboard_and_timeline_render(page: object, shots: Path) -> None:
    login(page, "viewer")
    assert page.locator("section.counts").count() == 3  # type: ignore[attr-defined]
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)  # type: ignore[attr-defined]
    page.goto("/timeline")  # type: ignore[attr-defined]
    assert page.locator("svg.timeline rect.bar").count() > 0  # type: ignore[attr-defined]
    page.screenshot(path=str(shots / "timeline.png"), full_page=True)  # type: ignore[attr-defined]
    page.locator("table.list a").first.click()  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    if "/cases/" in page.url:  # type: ignore[attr-defined]
        page.wait_for_selector("#map[data-ready='1']", timeout=15000)  # type: ignore[attr-defined]
        page.screenshot(path=str(shots / "case.png"), full_page=True)  # type: ignore[attr-defined]


def test_web_hostile_document_runs_no_script(page: object) -> None:
    login(page, "analyst")
    page.goto("/documents")  # type: ignore[attr-defined]
    page.locator("table.list tr", has_text="Hostile browser report").locator("a").first.click()  # type: ignore[attr-defined]
    page.wait_for_selector("#doctext")  # type: ignore[attr-defined]
    assert "<script>window.__pwned = 1</script>" in page.locator("#doctext").inner_text()  # type: ignore[attr-defined]
    assert page.evaluate("() => window.__pwned === undefined")  # type: ignore[attr-defined]
    assert page.locator("#doctext img, #doctext a, #doctext style, #doctext script").count() == 0  # type: ignore[attr-defined]
    assert page.is_visible("main")  # type: ignore[attr-defined]
    # The preserved original opens as plain text in a sandbox: still nothing runs.
    page.goto(page.get_attribute("#original-link", "href"))  # type: ignore[attr-defined]
    assert "<script>" in page.locator("body").inner_text()  # type: ignore[attr-defined]
    assert page.evaluate("() => window.__pwned === undefined")  # type: ignore[attr-defined]
    assert page.dialogs == []  # type: ignore[attr-defined]
