"""The tamper-evident audit log: every change appends a hash-chained entry; `verify` finds the first
broken link after the database is edited behind RightsLedger's back (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import execute, report_text
from rightsledger.cli import app
from rightsledger.errors import ConfigError
from rightsledger.protect import audit


def _busy_ledger(ledger, write_reports) -> None:
    """Ingest, review a fact, add and change a user, merge two cases, add a note."""
    ledger.ingest([write_reports(3)])
    doc_id = ledger.documents()[0]["id"]
    fact = ledger.review_facts(doc_id)[0]
    ledger.confirm_fact(fact["id"], "ana")
    ledger.add_user("rin", "viewer", "$argon2id$invented", created_by="ana")
    ledger.update_user("rin", by="ana", role="analyst")
    cases = ledger.cases()
    if len(cases) >= 2:
        ledger.review_merge(cases[0].id, cases[1].id, "ana", "same event")
    ledger.add_note("document", doc_id, "ana", "checked against a second report")


def _entries(ledger) -> list[dict]:
    with ledger.db.read() as conn:
        return list(reversed(audit.entries(conn, limit=10_000)))


def test_every_kind_of_change_appends_a_chained_entry(ledger, write_reports) -> None:
    _busy_ledger(ledger, write_reports)
    entries = _entries(ledger)
    actions = [e["action"] for e in entries]
    assert actions.count("custody_ingested") == 3
    for action in ("confirm", "user_add", "user_update", "note"):
        assert action in actions
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
    assert entries[0]["prev_hash"] == audit.GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(entries, entries[1:], strict=False))
    report = ledger.verify()
    assert report.ok and report.chain.checked == len(entries) and report.chain.head == entries[-1]["hash"]


def test_the_log_holds_digests_not_values(ledger, write_reports) -> None:
    ledger.ingest([write_reports(1)])
    doc_id = ledger.documents()[0]["id"]
    ledger.add_note("document", doc_id, "ana", "the informant's cousin lives in Musan")
    with ledger.db.read() as conn:
        rows = conn.exec_driver_sql("SELECT * FROM audit_log").all()
    assert "cousin" not in json.dumps([list(map(str, r)) for r in rows])


def test_a_failed_change_appends_nothing(ledger, write_reports) -> None:
    ledger.ingest([write_reports(1)])
    before = len(_entries(ledger))
    with pytest.raises(ConfigError):
        ledger.add_note("case", "c-1", "ana", "   ")
    with pytest.raises(ConfigError):
        ledger.add_user("dup", "viewer", "h")
        ledger.add_user("dup", "viewer", "h")
    assert len(_entries(ledger)) == before + 1  # only the first add_user


@pytest.mark.parametrize("column, value", [("user_name", "mallory"), ("action", "reject"),
                                           ("digest", "0" * 64), ("at", "2020-01-01T00:00:00+00:00")])
def test_editing_an_entry_is_found(ledger, ledger_url: str, write_reports, column: str, value: str) -> None:
    _busy_ledger(ledger, write_reports)
    n = len(_entries(ledger))
    target = n // 2
    execute(ledger_url, f"UPDATE audit_log SET {column} = :v WHERE seq = :s", v=value, s=target)
    report = ledger.verify()
    assert not report.ok and report.chain.broken_at == target and report.chain.checked == target - 1


def test_rehashing_an_edited_entry_breaks_the_next_link(ledger, ledger_url: str, write_reports) -> None:
    _busy_ledger(ledger, write_reports)
    target = 2
    e = _entries(ledger)[target - 1]
    forged = {**e, "user": "mallory"}
    execute(ledger_url, "UPDATE audit_log SET user_name = 'mallory', hash = :h WHERE seq = :s",
            h=audit.entry_hash(forged), s=target)
    report = ledger.verify()
    assert report.chain.broken_at == target + 1 and "does not follow" in report.chain.problem


def test_deleting_an_entry_is_found(ledger, ledger_url: str, write_reports) -> None:
    _busy_ledger(ledger, write_reports)
    execute(ledger_url, "DELETE FROM audit_log WHERE seq = 3")
    report = ledger.verify()
    assert report.chain.broken_at == 3 and "missing" in report.chain.problem


def test_deleting_the_first_entry_is_found(ledger, ledger_url: str, write_reports) -> None:
    _busy_ledger(ledger, write_reports)
    execute(ledger_url, "DELETE FROM audit_log WHERE seq = 1")
    assert ledger.verify().chain.broken_at == 1


def test_cli_verify_reports_the_first_broken_link_and_fails(ledger_url: str, tmp_path: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "200"})

    def run(*args: str):
        return runner.invoke(app, ["--db", ledger_url, *map(str, args)])

    for n in range(3):
        (tmp_path / f"{n}.txt").write_text(report_text(n))
    assert run("ingest", tmp_path).exit_code == 0
    ok = run("verify")
    assert ok.exit_code == 0 and "audit log of 3 entries intact" in ok.stdout
    execute(ledger_url, "UPDATE audit_log SET object = 'document:someone-else' WHERE seq = 2")
    bad = run("verify")
    assert bad.exit_code == 1 and "first broken link at entry 2" in bad.stderr
    report = json.loads(run("verify", "--json").stdout)
    assert report["audit"]["first_broken_seq"] == 2 and not report["ok"]


def test_full_export_is_recorded(ledger, write_reports) -> None:
    import io

    ledger.ingest([write_reports(1)])
    ledger.export("jsonl", io.StringIO())
    assert _entries(ledger)[-1]["action"] == "export"


def test_entry_hash_covers_every_field() -> None:
    e = {"seq": 1, "at": "2026-01-01T00:00:00+00:00", "user": "a", "action": "x", "object": "o",
         "digest": audit.digest({"k": 1}), "prev_hash": audit.GENESIS}
    h = audit.entry_hash(e)
    for k in e:
        changed = {**e, k: (e[k] + 1) if isinstance(e[k], int) else e[k] + "!"}
        assert audit.entry_hash(changed) != h
    assert audit.digest({"a": 1, "b": 2}) == audit.digest({"b": 2, "a": 1})
