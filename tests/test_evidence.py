"""Evidence: content addressing, verification on read, custody records."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pytest

from rightsledger import evidence
from rightsledger.errors import IntegrityError
from rightsledger.store.repository import Repository
from conftest import execute


def test_evidence_digest_is_sha256_of_exact_bytes() -> None:
    data = "Ryongwol village\r\n".encode("utf-8")
    assert evidence.digest(data) == hashlib.sha256(data).hexdigest()
    assert evidence.digest(data) != evidence.digest(data.replace(b"\r\n", b"\n"))


def test_evidence_check_returns_matching_bytes_and_rejects_altered_ones() -> None:
    data = b"original report"
    sha = evidence.digest(data)
    assert evidence.check(sha, data) is data
    with pytest.raises(IntegrityError) as info:
        evidence.check(sha, b"original rep0rt")
    assert sha[:16] in str(info.value) and info.value.hint


def test_evidence_custody_record_names_user_tool_and_event(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIGHTSLEDGER_USER", "analyst-7")
    when = datetime(2024, 5, 1, 8, 30, tzinfo=timezone.utc)
    rec = evidence.custody(evidence.INGESTED, "ab" * 32, "/data/report.txt", when, details={"size": 3})
    d = rec.to_dict()
    assert d["user"] == "analyst-7"
    assert d["tool"].startswith("rightsledger ")
    assert d["event"] == "ingested" and d["source"] == "/data/report.txt"
    assert d["retrieved_at"] == "2024-05-01T08:30:00+00:00"
    assert d["details"] == {"size": 3}
    assert rec.recorded_at.tzinfo is not None


def test_evidence_custody_rejects_unknown_event() -> None:
    with pytest.raises(ValueError):
        evidence.custody("misplaced", "ab" * 32, "x")


def test_evidence_original_is_verified_on_read(ledger_url: str, ledger) -> None:
    data = b"An invented report about Musan."
    with ledger.db.write() as conn:
        sha = Repository(conn).add_original(data, "text/plain")
    with ledger.db.read() as conn:
        assert Repository(conn).original(sha) == data
    execute(ledger_url, "UPDATE originals SET content = :c WHERE sha256 = :s", c=b"An invented report about Musun.", s=sha)
    with ledger.db.read() as conn, pytest.raises(IntegrityError):
        Repository(conn).original(sha)


def test_evidence_custody_record_is_stored(ledger) -> None:
    data = b"custody roundtrip"
    when = datetime(2023, 12, 31, 23, 59, 58, tzinfo=timezone.utc)
    with ledger.db.write() as conn:
        repo = Repository(conn)
        sha = repo.add_original(data, "text/plain")
        repo.add_custody(evidence.custody(evidence.REPEAT, sha, "https://example.org/x", when,
                                          details={"status": 200, "final_url": "https://example.org/x"}))
    rows = execute(ledger.url, "SELECT event, source, user_name FROM custody")
    assert rows == [("repeat", "https://example.org/x", rows[0][2])] and rows[0][2]
