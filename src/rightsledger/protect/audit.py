"""The tamper-evident audit log: an append-only chain of entries, each hashed with the one before.

Every change to the ledger appends one entry in the same transaction as the change itself:
{seq, at, user, action, object, digest, prev_hash, hash}. `digest` is the SHA-256 of the change's
details (canonical JSON), so the log commits to what changed without repeating it (no confidential
value is ever copied here); `hash` is the SHA-256 of the canonical JSON of the other fields, which
include `prev_hash`. Editing, deleting or re-ordering any row breaks the chain at that row, and
`verify` names the first broken link. Truncating the newest entries is only detectable against an
earlier `head()` kept elsewhere (a backup manifest, a printed receipt): see docs/threat-model.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, select

from rightsledger.store.schema import audit_log

GENESIS = "0" * 64
# One PostgreSQL advisory lock key for "appending to the audit chain" (SQLite writers are already
# serialised by BEGIN IMMEDIATE); a fork is impossible either way because `seq` is the primary key.
_PG_LOCK = 0x524C_4155  # "RLAU"


def canonical(value: Any) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8; non-JSON values (dates) as their str()."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def digest(details: Any) -> str:
    return hashlib.sha256(canonical(details)).hexdigest()


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the entry's fields (prev_hash included, hash excluded)."""
    body = {k: entry[k] for k in ("seq", "at", "user", "action", "object", "digest", "prev_hash")}
    return hashlib.sha256(canonical(body)).hexdigest()


def _row(r: Any) -> dict[str, Any]:
    return {"seq": r.seq, "at": r.at, "user": r.user_name, "action": r.action, "object": r.object,
            "digest": r.digest, "prev_hash": r.prev_hash, "hash": r.hash}


def head(conn: Connection) -> dict[str, Any] | None:
    """The newest entry, or None for an empty log."""
    r = conn.execute(select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)).first()
    return _row(r) if r else None


def append(conn: Connection, user: str, action: str, obj: str, details: Any = None,
           at: datetime | None = None) -> dict[str, Any]:
    """Append one entry on the caller's connection: it commits or rolls back with the change."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
    last = head(conn)
    entry = {"seq": (last["seq"] + 1) if last else 1,
             "at": (at or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(timespec="microseconds"),
             "user": str(user), "action": str(action), "object": str(obj)[:300], "digest": digest(details),
             "prev_hash": last["hash"] if last else GENESIS}
    entry["hash"] = entry_hash(entry)
    conn.execute(audit_log.insert().values(
        seq=entry["seq"], at=entry["at"], user_name=entry["user"], action=entry["action"], object=entry["object"],
        digest=entry["digest"], prev_hash=entry["prev_hash"], hash=entry["hash"]))
    return entry


def entries(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    """The newest entries, newest first."""
    q = select(audit_log).order_by(audit_log.c.seq.desc()).limit(limit)
    return [_row(r) for r in conn.execute(q)]


@dataclass(slots=True)
class ChainReport:
    checked: int = 0
    head: str = GENESIS
    broken_at: int | None = None  # seq of the first entry that does not follow from the one before
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "entries_checked": self.checked, "head": self.head,
                "first_broken_seq": self.broken_at, "problem": self.problem}


def verify(conn: Connection, batch: int = 5000) -> ChainReport:
    """Walk the chain from the first entry; stop at the first broken link."""
    report = ChainReport()
    prev_hash, expected_seq, after = GENESIS, 1, 0
    while True:
        rows = conn.execute(select(audit_log).where(audit_log.c.seq > after)
                            .order_by(audit_log.c.seq).limit(batch)).all()
        if not rows:
            return report
        for r in rows:
            e = _row(r)
            problem = ""
            if e["seq"] != expected_seq:
                problem = f"entry {expected_seq} is missing (next entry is {e['seq']})"
            elif e["prev_hash"] != prev_hash:
                problem = f"entry {e['seq']} does not follow entry {e['seq'] - 1} (prev_hash differs)"
            elif entry_hash(e) != e["hash"]:
                problem = f"entry {e['seq']} was altered (its hash no longer matches its contents)"
            if problem:
                report.broken_at, report.problem = min(e["seq"], expected_seq), problem
                return report
            report.checked += 1
            report.head = prev_hash = e["hash"]
            expected_seq += 1
            after = e["seq"]
