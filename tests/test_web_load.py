"""The review server under load and under faults, over HTTP on loopback, on SQLite and PostgreSQL.

- load: concurrent reviewers (confirm / correct / reject on distinct facts, notes, page views)
  and API readers against `rightsledger serve` in a subprocess; zero errors, and afterwards every
  acknowledged review is in the database exactly once and `rightsledger verify` passes;
- fault: the server is killed (SIGKILL) during a burst of writes and restarted; every write a
  client was told succeeded is there, nothing is doubled or half-done, the audit chain verifies;
- ingest and review at once: `rightsledger ingest` of a few hundred reports in another process
  while reviewers write; no lock or serialisation error reaches anyone, every write is present.

Bounded so they run in the normal suite (~2,500 requests for the load test). Figures are printed
(run with -s to see them). The per-address rate limits are off for these runs, since every client
comes from 127.0.0.1 (see tests/webload.py).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from conftest import report_text
from rightsledger.cli import app as cli_app
from webload import Client, Server, Tally, action_for, check_ledger, facts_by_document, query, seed

REVIEWERS = 6
READERS = 4
WRITES_PER_REVIEWER = 120  # plus a note every NOTE_EVERY reviews and a page view every VIEW_EVERY
NOTE_EVERY, VIEW_EVERY = 5, 20
READS_PER_READER = 300
API_PATHS = ("/api/search?q=Hyesan", "/api/timeline", "/api/map", "/api/search?type=arbitrary_detention&page=2")


def _write(folder: Path, start: int, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(start, start + count):
        (folder / f"report-{n:05d}.txt").write_text(report_text(n), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory.mktemp("load") / "reports", 0, 90)


@pytest.fixture
def served(ledger_url: str, tmp_path: Path) -> Iterator[Callable[[], Server]]:
    """Start (and at the end stop) review servers over `ledger_url`."""
    started: list[Server] = []

    def start() -> Server:
        server = Server(ledger_url, tmp_path / "server.log").start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _verify(url: str) -> None:
    result = CliRunner().invoke(cli_app, ["--db", url, "verify"])
    assert result.exit_code == 0, result.output


def _clean_log(server: Server) -> None:
    log = server.log()
    for bad in ("Traceback", "database error", "locked", "deadlock", "could not serialize"):
        assert bad not in log, log[-3000:]


def _reviewers(server: Server, url: str, tally: Tally, count: int) -> tuple[list[Client], list[list[tuple[int, str, str]]]]:
    names = [f"reviewer{n}" for n in range(count)]
    clients = [Client(server.base, name, tally) for name in names]
    facts = facts_by_document(url)
    return clients, [facts[n::count] for n in range(count)]


def _review_all(client: Client, mine: list[tuple[int, str, str]], limit: int,
                keep_going: Callable[[], bool] = lambda: True) -> None:
    for i, (fact_id, kind, doc) in enumerate(mine[:limit]):
        if not keep_going():
            return
        client.review(fact_id, kind, action_for(fact_id, kind), doc)
        if i % NOTE_EVERY == 0:
            client.note(doc, f"invented load note by {client.name}, number {i}")
        if i % VIEW_EVERY == 0:
            client.read(f"/documents/{doc}")


def _read_api(client: Client, count: int) -> None:
    for i in range(count):
        client.read(API_PATHS[i % len(API_PATHS)])


def _guarded(tally: Tally, work: Callable[..., None]) -> Callable[..., None]:
    """A client thread whose crash (a timeout, a dropped connection) counts as an error."""

    def run(*args: object) -> None:
        try:
            work(*args)
        except Exception as exc:  # noqa: BLE001 - every failure is reported through the tally
            tally.count(f"client crashed: {type(exc).__name__}: {exc}")

    return run


def _run(threads: list[threading.Thread]) -> float:
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.monotonic() - t0


def _backend(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


# -- load -------------------------------------------------------------------------------------------
def test_web_load_concurrent_reviewers_and_api_readers(ledger_url: str, reports: Path,
                                                       served: Callable[[], Server]) -> None:
    names = [f"reviewer{n}" for n in range(REVIEWERS)] + [f"reader{n}" for n in range(READERS)]
    seed(ledger_url, [reports], names)
    server = served()
    tally = Tally()
    clients, shares = _reviewers(server, ledger_url, tally, REVIEWERS)
    assert min(map(len, shares)) >= WRITES_PER_REVIEWER, "seed more reports"
    readers = [Client(server.base, f"reader{n}", tally) for n in range(READERS)]
    threads = [threading.Thread(target=_guarded(tally, _review_all), args=(c, s, WRITES_PER_REVIEWER))
               for c, s in zip(clients, shares)]
    threads += [threading.Thread(target=_guarded(tally, _read_api), args=(r, READS_PER_READER)) for r in readers]
    seconds = _run(threads)

    print(f"\nweb load [{_backend(ledger_url)}]: {tally.requests} requests, {len(threads)} concurrent clients "
          f"({REVIEWERS} reviewers, {READERS} API readers), {len(tally.errors)} errors, {seconds:.1f} s, "
          f"{tally.requests / seconds:.0f} requests/s; {len(tally.acked_facts)} reviews and "
          f"{len(tally.acked_notes)} notes acknowledged")
    assert tally.errors == [], tally.errors[:5]
    assert tally.requests >= 2000
    assert len(tally.acked_facts) == REVIEWERS * WRITES_PER_REVIEWER
    found = check_ledger(ledger_url, tally)
    print(f"  in the database: {found['reviews']} reviews, {found['notes']} notes, lost 0, duplicated 0")
    _verify(ledger_url)
    _clean_log(server)


# -- a crash during a burst of writes ------------------------------------------------------------------
def test_web_fault_sigkill_during_writes_loses_no_acknowledged_change(ledger_url: str, reports: Path,
                                                                      served: Callable[[], Server]) -> None:
    seed(ledger_url, [reports], [f"reviewer{n}" for n in range(4)])
    server = served()
    tally = Tally()
    clients, shares = _reviewers(server, ledger_url, tally, 4)
    dropped: list[str] = []

    def burst(client: Client, mine: list[tuple[int, str, str]]) -> None:
        try:
            _review_all(client, mine, len(mine))
        except httpx.TransportError as exc:  # the server died under this request: not acknowledged
            dropped.append(type(exc).__name__)

    threads = [threading.Thread(target=burst, args=(c, s)) for c, s in zip(clients, shares)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while len(tally.acked_facts) < 120 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()
    for t in threads:
        t.join()
    acked = len(tally.acked_facts) + len(tally.acked_notes)
    attempted = len(tally.tried_facts) + len(tally.tried_notes)
    print(f"\nweb fault [{_backend(ledger_url)}]: SIGKILL after {acked} acknowledged writes "
          f"({attempted} attempted, {len(dropped)} cut off by the kill), {len(tally.errors)} error answers")
    assert tally.errors == [] and len(dropped) == len(threads), (tally.errors[:5], dropped)
    assert len(tally.acked_facts) >= 120 and attempted > acked  # killed mid-burst, writes in flight

    restarted = served()
    found = check_ledger(ledger_url, tally, exact=False)
    print(f"  after restart: {found['reviews']} reviews in the database, every acknowledged one present, "
          "lost 0, duplicated 0")
    _verify(ledger_url)
    # The restarted server takes the same sessions and new writes.
    after = Tally()
    client = Client(restarted.base, "reviewer0", after)
    left = [f for f in facts_by_document(ledger_url)][:3]
    for fact_id, kind, doc in left:
        assert client.review(fact_id, kind, "confirm", doc)
    assert after.errors == []
    _verify(ledger_url)


# -- ingest in another process while reviewers write ---------------------------------------------------
INGESTED = 300


@pytest.mark.slow
def test_web_ingest_and_review_at_once(ledger_url: str, reports: Path, served: Callable[[], Server],
                                       tmp_path: Path) -> None:
    seed(ledger_url, [reports], [f"reviewer{n}" for n in range(4)])
    before = query(ledger_url, "SELECT count(*) FROM documents")[0][0]
    incoming = _write(tmp_path / "incoming", 10_000, INGESTED)
    server = served()
    tally = Tally()
    clients, shares = _reviewers(server, ledger_url, tally, 4)
    ingest = subprocess.Popen([sys.executable, "-m", "rightsledger", "--quiet", "--db", ledger_url, "ingest",
                               str(incoming)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    during: list[int] = []

    def running() -> bool:
        alive = ingest.poll() is None
        if alive:
            during.append(1)
        return True

    threads = [threading.Thread(target=_guarded(tally, _review_all), args=(c, s, len(s), running))
               for c, s in zip(clients, shares)]
    seconds = _run(threads)
    out, err = ingest.communicate(timeout=600)
    reviews_during = len(during)
    print(f"\nweb ingest+review [{_backend(ledger_url)}]: {INGESTED} reports ingested in another process while "
          f"4 reviewers sent {tally.requests} requests in {seconds:.1f} s ({reviews_during} reviews started while "
          f"the ingest ran); {len(tally.errors)} errors; ingest exit {ingest.returncode}")
    (tmp_path / "ingest.err").write_text(err)
    assert ingest.returncode == 0, err[:1500] + " … " + err[-500:]
    assert "locked" not in err and "serializ" not in err and "deadlock" not in err, err[-3000:]
    assert tally.errors == [], tally.errors[:5]
    assert reviews_during >= 50, "the reviews hardly overlapped the ingest"
    assert query(ledger_url, "SELECT count(*) FROM documents")[0][0] == before + INGESTED
    check_ledger(ledger_url, tally)
    _verify(ledger_url)
    _clean_log(server)
