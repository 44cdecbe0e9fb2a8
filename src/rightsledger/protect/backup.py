"""Backup and restore: a consistent logical snapshot of every ledger table, originals included.

One format for SQLite and PostgreSQL (a backup of either restores into either): gzip-compressed
JSON lines — a header, then one line per row (`{"t": table, "r": row}`, bytes in base64, dates in
ISO 8601), then a manifest with each table's row count and SHA-256 over its rows. The snapshot is
read in one transaction (PostgreSQL: REPEATABLE READ; SQLite in WAL mode: one read transaction),
so the server keeps running and writers are never blocked. `--encrypt` seals the whole file with
AES-256-GCM under a passphrase or key file (`crypto`). Restore checks everything — manifest, table
hashes, every original against its SHA-256, the audit chain — before it changes anything.
Web sessions are not backed up (a restore logs everyone out).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Date, DateTime, LargeBinary, Table, delete, func, select

from rightsledger import evidence
from rightsledger.errors import ConfigError, IntegrityError
from rightsledger.protect import audit, crypto
from rightsledger.store.schema import audit_log, documents, metadata, originals, sealed_values, web_sessions
from rightsledger.store.session import Database, head_revision

FORMAT = "rightsledger-backup"
VERSION = 1
ENCRYPTED_MAGIC = b"RLGBACKUP1\n"
SKIPPED = {web_sessions.name}
TABLES: list[Table] = [t for t in metadata.sorted_tables if t.name not in SKIPPED]


def _encode(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in row.items():
        col = table.c[name]
        if value is not None and isinstance(col.type, LargeBinary):
            value = base64.b64decode(value["$b64"])
        elif value is not None and isinstance(col.type, DateTime):
            value = datetime.fromisoformat(value)
        elif value is not None and isinstance(col.type, Date):
            value = date.fromisoformat(value)
        out[name] = value
    return out


def _line(obj: Any) -> bytes:
    return audit.canonical(obj) + b"\n"


def _rows(conn: Connection, table: Table) -> Iterator[dict[str, Any]]:
    q = select(table).order_by(*table.primary_key.columns)
    if table is documents:  # a document's `duplicate_of` names an earlier one: those first
        q = select(table).order_by(table.c.duplicate_of.is_not(None), table.c.id)
    for r in conn.execution_options(yield_per=500).execute(q):
        yield {k: _encode(v) for k, v in r._mapping.items()}


@dataclass(slots=True)
class BackupReport:
    path: str
    rows: dict[str, int] = field(default_factory=dict)
    originals: int = 0
    encrypted: bool = False
    revision: str | None = None
    audit_head: str = audit.GENESIS

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "rows": self.rows, "originals": self.originals, "encrypted": self.encrypted,
                "revision": self.revision, "audit_head": self.audit_head}


def _snapshot(db: Database, out: io.BufferedIOBase, report: BackupReport) -> None:
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            report.revision = _revision(conn)
            out.write(_line({"format": FORMAT, "version": VERSION, "revision": report.revision,
                             "created": evidence.utcnow().isoformat(), "tool": evidence.TOOL,
                             "tables": [t.name for t in TABLES]}))
            manifest: dict[str, Any] = {}
            for table in TABLES:
                h, n = hashlib.sha256(), 0
                for row in _rows(conn, table):
                    line = _line({"t": table.name, "r": row})
                    h.update(line)
                    out.write(line)
                    n += 1
                manifest[table.name] = {"rows": n, "sha256": h.hexdigest()}
                report.rows[table.name] = n
            head = audit.head(conn)
            report.audit_head = head["hash"] if head else audit.GENESIS
            report.originals = report.rows.get(originals.name, 0)
            out.write(_line({"manifest": manifest, "audit_head": report.audit_head}))


def _revision(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def backup(db: Database, path: str | os.PathLike[str], *, key: bytes | None = None,
           salt: bytes | None = None) -> BackupReport:
    """Write a snapshot of the ledger to `path` (sealed with `key` when given; `salt` is stored so a
    passphrase-derived key can be derived again). The file appears only once complete."""
    target = Path(path)
    report = BackupReport(str(target), encrypted=key is not None)
    tmp = target.with_name(target.name + ".partial")
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        _snapshot(db, gz, report)  # type: ignore[arg-type]
    data = buf.getvalue()
    if key is not None:
        s = salt or b""
        header = ENCRYPTED_MAGIC + bytes([len(s)]) + s
        data = header + crypto.seal(key, data, header)
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)
    return report


def is_encrypted(path: str | os.PathLike[str]) -> bool:
    with open(path, "rb") as f:
        return f.read(len(ENCRYPTED_MAGIC)) == ENCRYPTED_MAGIC


def salt_of(path: str | os.PathLike[str]) -> bytes:
    """The passphrase salt stored in an encrypted backup's header."""
    with open(path, "rb") as f:
        head = f.read(len(ENCRYPTED_MAGIC) + 1)
        return f.read(head[-1]) if head[:len(ENCRYPTED_MAGIC)] == ENCRYPTED_MAGIC else b""


@dataclass(slots=True)
class Snapshot:
    header: dict[str, Any]
    manifest: dict[str, Any]
    audit_head: str
    rows: dict[str, list[dict[str, Any]]]


def read(path: str | os.PathLike[str], key: bytes | None = None) -> Snapshot:
    """Read and check a backup completely (nothing is changed); IntegrityError names what is wrong."""
    data = Path(path).read_bytes()
    if data.startswith(ENCRYPTED_MAGIC):
        if key is None:
            raise crypto.KeyProblem(f"{path} is encrypted", hint=f"set {crypto.PASSPHRASE_ENV} or {crypto.KEY_FILE_ENV}")
        n = data[len(ENCRYPTED_MAGIC)]
        header_len = len(ENCRYPTED_MAGIC) + 1 + n
        data = crypto.open_sealed(key, data[header_len:], data[:header_len])
    try:
        lines = gzip.decompress(data).splitlines()
        objs = [json.loads(line) for line in lines]
    except (OSError, EOFError, ValueError) as e:
        raise IntegrityError(f"{path} is not a readable RightsLedger backup ({type(e).__name__})",
                             hint="the file is damaged or incomplete; use another backup") from None
    if not objs or objs[0].get("format") != FORMAT or "manifest" not in objs[-1]:
        raise IntegrityError(f"{path} is not a complete RightsLedger backup", hint="the file may be truncated")
    header, end = objs[0], objs[-1]
    if header.get("version") != VERSION:
        raise IntegrityError(f"backup format version {header.get('version')} is not supported",
                             hint="restore it with the RightsLedger version that made it")
    by_name = {t.name: t for t in TABLES}
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in header["tables"]}
    hashes = {name: hashlib.sha256() for name in header["tables"]}
    for line, obj in zip(lines[1:-1], objs[1:-1], strict=True):
        name = obj.get("t")
        if name not in rows or name not in by_name:
            raise IntegrityError(f"backup row for unknown table {name!r}", hint="the file was altered")
        hashes[name].update(line + b"\n")
        rows[name].append(obj["r"])
    for name, expected in end["manifest"].items():
        if name not in rows or len(rows[name]) != expected["rows"] or hashes[name].hexdigest() != expected["sha256"]:
            raise IntegrityError(f"backup table {name} does not match its manifest",
                                 hint="the file was altered or damaged; use another backup")
    decoded = {name: [_decode(by_name[name], r) for r in rs] for name, rs in rows.items()}
    sealed = {r["ref"] for r in decoded.get(sealed_values.name, [])}
    for r in decoded.get(originals.name, []):
        if f"originals:{r['sha256']}" in sealed:  # confidential: sealed (GCM-authenticated), checked by `verify`
            continue
        if evidence.digest(r["content"]) != r["sha256"]:
            raise IntegrityError(f"backup original {r['sha256']} no longer matches its SHA-256",
                                 hint="the file was altered; use another backup")
    chain = _check_chain(decoded.get(audit_log.name, []))
    if chain != end.get("audit_head"):
        raise IntegrityError("the backup's audit log does not match its manifest or its hash chain is broken",
                             hint="the file was altered; use another backup")
    return Snapshot(header, end["manifest"], end["audit_head"], decoded)


def _check_chain(rows: list[dict[str, Any]]) -> str:
    prev = audit.GENESIS
    for i, r in enumerate(sorted(rows, key=lambda r: r["seq"]), start=1):
        e = {"seq": r["seq"], "at": r["at"], "user": r["user_name"], "action": r["action"], "object": r["object"],
             "digest": r["digest"], "prev_hash": r["prev_hash"]}
        if r["seq"] != i or r["prev_hash"] != prev or audit.entry_hash(e) != r["hash"]:
            return f"broken at {i}"
        prev = r["hash"]
    return prev


def is_empty(conn: Connection) -> bool:
    return all(conn.execute(select(func.count()).select_from(t)).scalar() == 0
               for t in (documents, originals, audit_log))


@dataclass(slots=True)
class RestoreReport:
    rows: dict[str, int] = field(default_factory=dict)
    replaced: bool = False
    audit_head: str = audit.GENESIS

    def to_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "replaced": self.replaced, "audit_head": self.audit_head}


def restore(path: str | os.PathLike[str], db: Database, *, key: bytes | None = None,
            replace: bool = False) -> RestoreReport:
    """Check the backup completely, then load it into `db` in one transaction.

    `db` must be empty unless `replace` (then its rows are deleted in the same transaction, so a
    failure leaves the ledger as it was)."""
    snap = read(path, key)
    if snap.header["revision"] != head_revision():
        raise ConfigError(f"the backup is of schema {snap.header['revision']}, this RightsLedger uses {head_revision()}",
                          hint="restore with the RightsLedger version that made the backup, then upgrade")
    report = RestoreReport(audit_head=snap.audit_head)
    with db.write() as conn:
        if not is_empty(conn):
            if not replace:
                raise ConfigError("the target ledger is not empty; restoring would replace it",
                                  hint="restore into an empty database, or confirm replacing it (--yes)")
            report.replaced = True
            for table in reversed(metadata.sorted_tables):
                conn.execute(delete(table))
        for table in TABLES:
            rows = snap.rows.get(table.name, [])
            for i in range(0, len(rows), 500):
                conn.execute(table.insert(), rows[i:i + 500])
            report.rows[table.name] = len(rows)
        if conn.dialect.name == "postgresql":
            _reset_sequences(conn)
    return report


def _reset_sequences(conn: Connection) -> None:
    """Explicit ids were inserted: move each serial sequence past them."""
    for table in TABLES:
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and pk[0].autoincrement is True:
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                f"COALESCE(MAX({pk[0].name}), 1), MAX({pk[0].name}) IS NOT NULL) FROM {table.name}")
