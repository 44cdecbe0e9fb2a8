"""Backup and restore: a consistent snapshot with originals and a manifest, optionally encrypted;
restore checks everything before it changes anything (SQLite and PostgreSQL, across both)."""

from __future__ import annotations

import gzip
import json
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import report_text
from rightsledger.cli import app
from rightsledger.errors import ConfigError, IntegrityError
from rightsledger.ledger import Ledger
from rightsledger.protect import backup as backups
from rightsledger.protect import crypto


def _fill(ledger: Ledger, write_reports) -> None:
    ledger.ingest([write_reports(4)])
    doc_id = ledger.documents()[0]["id"]
    ledger.confirm_fact(ledger.review_facts(doc_id)[0]["id"], "ana")
    ledger.add_user("rin", "analyst", "$argon2id$invented", created_by="ana")
    ledger.add_note("document", doc_id, "ana", "a confidential note about the source")
    ledger.mark("document", doc_id, "confidential", user="ana")


def _state(ledger: Ledger) -> dict:
    with ledger.db.read() as conn:
        counts = {t.name: len(conn.execute(t.select()).all()) for t in backups.TABLES}
    return {"docs": ledger.documents(), "users": [u["name"] for u in ledger.users()], "marks": ledger.marks(),
            "notes": [n["body"] for d in ledger.documents() for n in ledger.notes("document", d["id"])],
            "counts": counts}


def test_backup_then_restore_into_an_empty_ledger(ledger, write_reports, key_file, tmp_path: Path) -> None:
    _fill(ledger, write_reports)
    before = _state(ledger)
    report = ledger.backup(tmp_path / "b.rlbak")
    assert report.originals == 4 and report.rows["documents"] == 4
    with Ledger(f"sqlite:///{tmp_path / 'restored.db'}") as other:
        restored = other.restore(tmp_path / "b.rlbak")
        assert not restored.replaced
        after = _state(other)
        assert after["docs"] == before["docs"] and after["users"] == before["users"]
        assert after["notes"] == before["notes"] and after["marks"] == before["marks"]
        assert {k: v for k, v in after["counts"].items() if k != "audit_log"} == \
               {k: v for k, v in before["counts"].items() if k != "audit_log"}
        assert other.verify().ok
        for d in before["docs"]:
            assert other.original(d["id"]) == ledger.original(d["id"])
        # the restored ledger keeps working: new ids do not collide with restored ones
        other.add_note("document", before["docs"][1]["id"], "ana", "after restore")
        other.add_user("new", "viewer", "h", created_by="ana")
        assert other.verify().ok


@pytest.mark.postgres
def test_restore_across_databases(sqlite_url: str, write_reports, key_file, tmp_path: Path, pg_url: str) -> None:
    """A SQLite backup restores into PostgreSQL (and the ids keep counting from there)."""
    ledger = Ledger(sqlite_url)
    _fill(ledger, write_reports)
    ledger.backup(tmp_path / "b.rlbak")
    with ledger, Ledger(pg_url) as other:
        other.restore(tmp_path / "b.rlbak")
        assert other.documents() == ledger.documents() and other.verify().ok
        fact = other.review_facts(other.documents()[1]["id"])[0]
        other.reject_fact(fact["id"], "ana")
        other.add_user("after", "viewer", "h", created_by="ana")
        assert other.verify().ok


def test_restore_refuses_a_non_empty_ledger_unless_replacing(ledger, write_reports, key_file, tmp_path: Path) -> None:
    _fill(ledger, write_reports)
    ledger.backup(tmp_path / "b.rlbak")
    ledger.ingest([write_reports(2, folder="more", start=50)])
    with pytest.raises(ConfigError, match="not empty"):
        ledger.restore(tmp_path / "b.rlbak")
    assert len(ledger.documents()) == 6
    report = ledger.restore(tmp_path / "b.rlbak", replace=True)
    assert report.replaced and len(ledger.documents()) == 4 and ledger.verify().ok


def _rewrite(path: Path, change) -> None:
    lines = gzip.decompress(path.read_bytes()).splitlines()
    path.write_bytes(gzip.compress(b"\n".join(change(lines)) + b"\n"))


@pytest.mark.parametrize("damage", ["row", "original", "truncate", "garbage", "audit"])
def test_a_damaged_backup_changes_nothing(ledger, write_reports, key_file, tmp_path: Path, damage: str) -> None:
    _fill(ledger, write_reports)
    path = tmp_path / "b.rlbak"
    ledger.backup(path)
    if damage == "row":
        _rewrite(path, lambda ls: [line.replace(b'"role":"analyst"', b'"role":"admin"') for line in ls])
    elif damage == "original":
        def swap(ls):
            out = []
            for line in ls:
                obj = json.loads(line)
                if obj.get("t") == "originals":
                    obj["r"]["content"]["$b64"] = "QUJD"
                out.append(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())
            return out
        _rewrite(path, swap)
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a backup at all")
    else:
        _rewrite(path, lambda ls: [line for line in ls if b'"seq":2,' not in line])
    target = tmp_path / "target.db"
    with Ledger(f"sqlite:///{target}") as other:
        other.ingest([write_reports(1, folder="keep", start=90)])
        with pytest.raises(IntegrityError):
            other.restore(path, replace=True)
        assert len(other.documents()) == 1  # untouched


def test_encrypted_backup(ledger, write_reports, key_file, tmp_path: Path) -> None:
    _fill(ledger, write_reports)
    salt = crypto.new_salt()
    key = crypto.derive_key("a long invented passphrase", salt)
    path = tmp_path / "b.rlbak"
    ledger.backup(path, key=key, salt=salt)
    raw = path.read_bytes()
    assert backups.is_encrypted(path) and b"confidential note" not in raw
    with pytest.raises(OSError):
        gzip.decompress(raw)
    assert backups.salt_of(path) == salt
    with Ledger(f"sqlite:///{tmp_path / 'r.db'}") as other:
        with pytest.raises(crypto.KeyProblem):
            other.restore(path)
        with pytest.raises(crypto.KeyProblem):
            other.restore(path, key=crypto.derive_key("wrong", salt))
        other.restore(path, key=crypto.derive_key("a long invented passphrase", backups.salt_of(path)))
        assert len(other.documents()) == 4


def test_backup_while_writing_is_consistent(ledger, write_reports, tmp_path: Path) -> None:
    """Backups taken during a burst of ingests each verify and restore completely."""
    folders = [write_reports(1, folder=f"w{i}", start=100 + i) for i in range(8)]
    done = threading.Event()

    def writer() -> None:
        with Ledger(ledger.url) as w:
            for f in folders:
                w.ingest([f], link=False)
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    paths = []
    while not done.is_set() and len(paths) < 20:
        paths.append(tmp_path / f"b{len(paths)}.rlbak")
        ledger.backup(paths[-1])
    t.join()
    assert paths
    for p in paths:
        snap = backups.read(p)
        docs, custody = len(snap.rows["documents"]), len(snap.rows["custody"])
        assert docs == custody == len(snap.rows["originals"])


def test_cli_backup_and_restore(ledger_url: str, tmp_path: Path, monkeypatch) -> None:
    runner = CliRunner(env={"COLUMNS": "200"})
    (tmp_path / "in").mkdir()
    for n in range(2):
        (tmp_path / "in" / f"{n}.txt").write_text(report_text(n))
    assert runner.invoke(app, ["--db", ledger_url, "ingest", str(tmp_path / "in")]).exit_code == 0
    monkeypatch.setenv(crypto.PASSPHRASE_ENV, "invented passphrase for tests")
    r = runner.invoke(app, ["--db", ledger_url, "backup", str(tmp_path / "b.rlbak"), "--encrypt"])
    assert r.exit_code == 0, r.output
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    r = runner.invoke(app, ["restore", str(tmp_path / "b.rlbak"), "--db", target])
    assert r.exit_code == 0, r.output
    assert runner.invoke(app, ["--db", target, "verify"]).exit_code == 0
    r = runner.invoke(app, ["restore", str(tmp_path / "b.rlbak"), "--db", target], input="n\n")
    assert r.exit_code != 0
    r = runner.invoke(app, ["restore", str(tmp_path / "b.rlbak"), "--db", target, "--yes"])
    assert r.exit_code == 0, r.output
    monkeypatch.setenv(crypto.PASSPHRASE_ENV, "wrong")
    r = runner.invoke(app, ["restore", str(tmp_path / "b.rlbak"), "--db", target, "--yes"])
    assert r.exit_code == 2 and "wrong key" in r.output
