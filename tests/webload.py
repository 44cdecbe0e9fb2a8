"""Driving a real review server under load: the server as a subprocess, reviewers and API readers
as threads with their own HTTP sessions, and a check of the database against what the clients
were told. Used by tests/test_web_load.py and bench/web_load.py.

Every write a client gets a success answer for (a 303 to the page it came from) is recorded as
acknowledged; `check_ledger` then proves each is in the database exactly once. All clients come
from 127.0.0.1, so the per-address rate limits are switched off for these runs (`LOAD_ENV`); the
per-user API limit stays on at a level no reader reaches.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from rightsledger.ledger import Ledger
from rightsledger.review import auth

PASSWORD = "an invented load passphrase"
LOAD_ENV = {"RIGHTSLEDGER_API_CLIENT_RATE": "0", "RIGHTSLEDGER_LOGIN_CLIENT_RATE": "0",
            "RIGHTSLEDGER_API_RATE": "100000", "RIGHTSLEDGER_LOGIN_RATE": "1000"}
STATUS = {"confirm": "confirmed", "reject": "rejected", "correct": "corrected"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def query(url: str, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def seed(url: str, folders: Iterable[Path], users: Iterable[str]) -> None:
    """Ingest the reports in `folders` and create one analyst per name."""
    with Ledger(url) as ledger:
        for folder in folders:
            assert ledger.ingest([folder]).ok
        for name in users:
            auth.add_user(ledger, name, "analyst", PASSWORD, created_by="load-test")


def facts_by_document(url: str) -> list[tuple[int, str, str]]:
    """(fact id, kind, document id) of every proposed fact, in a stable order."""
    return [(int(r[0]), str(r[1]), str(r[2])) for r in query(
        url, "SELECT f.id, f.kind, i.document_id FROM facts f JOIN incidents i ON i.id = f.incident_id "
             "WHERE f.status = 'proposed' ORDER BY f.id")]


class Server:
    """`rightsledger serve` in a subprocess on a free loopback port."""

    def __init__(self, url: str, log: Path) -> None:
        self.url, self.log_path = url, log
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> Server:
        env = {**os.environ, **LOAD_ENV}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "rightsledger", "--db", self.url, "serve",
                                          "--port", str(self.port)], env=env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.base + "/login", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server did not start in {timeout} s: {self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class Tally:
    """What the clients saw, shared by all client threads."""

    requests: int = 0
    errors: list[str] = field(default_factory=list)
    acked_facts: list[tuple[int, str, str]] = field(default_factory=list)  # (fact id, action, user)
    acked_notes: list[tuple[str, str]] = field(default_factory=list)  # (body, user)
    tried_facts: set[int] = field(default_factory=set)
    tried_notes: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, error: str | None = None) -> None:
        with self.lock:
            self.requests += 1
            if error:
                self.errors.append(error)


class Client:
    """One signed-in user with an HTTP session of their own."""

    def __init__(self, base: str, name: str, tally: Tally) -> None:
        self.name, self.tally = name, tally
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
        page = self._get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        r = self.http.post("/login", data={"name": name, "password": PASSWORD, "csrf": token, "next": "/"})
        self._expect(r, 303, "login")
        self.csrf = re.search(r'name="csrf" value="([^"]+)"',  # type: ignore[union-attr]
                              self._get("/").text).group(1)

    def _expect(self, r: httpx.Response, status: int, what: str) -> bool:
        ok = r.status_code == status and not r.headers.get("location", "").startswith("/login")
        self.tally.count(None if ok else f"{what}: {r.status_code} {r.text[:300]!r}")
        return ok

    def _get(self, path: str) -> httpx.Response:
        r = self.http.get(path)
        self._expect(r, 200, f"GET {path}")
        return r

    def read(self, path: str) -> httpx.Response:
        return self._get(path)

    def review(self, fact_id: int, kind: str, action: str, document_id: str) -> bool:
        data = {"csrf": self.csrf}
        if action == "correct":
            data["v_count"] = str(1000 + fact_id)
        with self.tally.lock:
            self.tally.tried_facts.add(fact_id)
        r = self.http.post(f"/facts/{fact_id}/{action}", data=data)
        ok = self._expect(r, 303, f"{action} fact {fact_id}") and \
            r.headers["location"] == f"/documents/{document_id}#fact-{fact_id}"
        if ok:
            with self.tally.lock:
                self.tally.acked_facts.append((fact_id, action, self.name))
        return ok

    def note(self, document_id: str, body: str) -> bool:
        with self.tally.lock:
            self.tally.tried_notes.add(body)
        r = self.http.post("/notes", data={"csrf": self.csrf, "target_kind": "document", "target_id": document_id,
                                           "body": body})
        ok = self._expect(r, 303, "note")
        if ok:
            with self.tally.lock:
                self.tally.acked_notes.append((body, self.name))
        return ok

    def close(self) -> None:
        self.http.close()


def action_for(fact_id: int, kind: str) -> str:
    """A mix of the three review actions; corrections on victim counts (a field every one has)."""
    action = ("confirm", "reject", "correct")[fact_id % 3]
    return "confirm" if action == "correct" and kind != "victims" else action


def check_ledger(url: str, tally: Tally, *, exact: bool = True) -> dict[str, int]:
    """Every acknowledged review and note is in the database exactly once, with its effect.

    `exact`: nothing beyond what was acknowledged was written (no fault happened); after a crash
    a write that was in flight may or may not be there, but never twice and never half."""
    logged = query(url, "SELECT target_id, action, user_name FROM review_log WHERE target_kind = 'fact' "
                        "AND action IN ('confirm', 'reject', 'correct')")
    per_fact = Counter(int(r[0]) for r in logged)
    duplicated = {f: n for f, n in per_fact.items() if n > 1}
    assert not duplicated, f"reviews logged more than once: {duplicated}"
    by_fact = {int(r[0]): (r[1], r[2]) for r in logged}
    status = dict(query(url, "SELECT id, status FROM facts WHERE status <> 'proposed'"))
    lost = [a for a in tally.acked_facts if by_fact.get(a[0]) != (a[1], a[2])]
    assert not lost, f"{len(lost)} acknowledged reviews are missing: {lost[:10]}"
    wrong = [a for a in tally.acked_facts if status.get(a[0]) != STATUS[a[1]]]
    assert not wrong, f"{len(wrong)} acknowledged reviews did not change the fact: {wrong[:10]}"
    # A fact's status changes only together with its log entry (one transaction).
    assert set(status) == set(by_fact), set(status) ^ set(by_fact)
    notes = Counter(r[0] for r in query(url, "SELECT body FROM notes"))
    assert all(notes[b] == 1 for b, _ in tally.acked_notes), "an acknowledged note is missing or doubled"
    assert all(n == 1 for n in notes.values()), "a note was stored twice"
    if exact:
        assert set(by_fact) == {a[0] for a in tally.acked_facts}, "a review was stored that nobody was told about"
        assert set(notes) == {b for b, _ in tally.acked_notes}
    else:
        assert set(by_fact) <= tally.tried_facts and set(notes) <= tally.tried_notes
    # The audit chain holds exactly one entry per logged review (plus custody, merges, users…).
    audited = query(url, "SELECT count(*) FROM audit_log WHERE action IN ('confirm', 'reject', 'correct') "
                         "AND object LIKE 'fact:%'")[0][0]
    assert audited == len(logged), (audited, len(logged))
    return {"reviews": len(logged), "notes": sum(notes.values()), "lost": 0, "duplicated": 0}
