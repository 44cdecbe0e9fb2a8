"""Bulk loading of batch results: many documents per transaction, COPY on PostgreSQL.

`load_rows` takes the rows of one batch partition (table name -> list of dicts in the ledger's
column names; JSON columns already serialised) and writes them in the caller's transaction.
It is idempotent: a document whose SHA-256 the ledger already holds is not stored again, and a
custody record is only added for a (SHA-256, source) pair the ledger has not seen, so loading
the same results twice adds nothing. PostgreSQL gets COPY (psycopg), SQLite one executemany
per table; both bypass the ORM-level JSON encoding because the batch wrote JSON text already.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Connection, Table, select

from rightsledger import evidence
from rightsledger.settings import current_user
from rightsledger.store import summary
from rightsledger.store.schema import (
    citations, custody, documents, facts, incident_facets, incident_summary, incidents, originals,
)

__all__ = ["LOAD_ORDER", "LoadStats", "insert_rows", "load_rows", "refresh_statistics"]

log = logging.getLogger(__name__)

_CHUNK = 1000  # keys per IN (...) lookup
# Tables in foreign-key order, with the columns a batch partition supplies.
LOAD_ORDER: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (originals, ("sha256", "size", "media_type", "content", "stored_at")),
    (documents, ("id", "sha256", "url", "outlet", "title", "published", "language", "source_text", "text",
                 "offsets", "removed", "duplicate_of", "extractor", "created_at")),
    (incidents, ("id", "document_id", "seq", "modality", "case_id", "date_start", "date_end", "date_precision",
                 "evidence")),
    (facts, ("incident_id", "seq", "kind", "value", "span_start", "span_end", "span_text", "component", "rule",
             "detail")),
    (citations, ("document_id", "seq", "outlet", "span_start", "span_end", "span_text", "component", "rule",
                 "detail")),
    (custody, ("sha256", "document_id", "event", "source", "retrieved_at", "recorded_at", "user_name", "tool",
               "details")),
)


@dataclass(slots=True)
class LoadStats:
    """What one `load_rows` call added."""

    documents: int = 0
    known: int = 0  # documents already in the ledger (not stored again)
    rows: dict[str, int] = field(default_factory=dict)  # rows added per table
    new_document_ids: list[str] = field(default_factory=list)

    def add(self, other: LoadStats) -> None:
        self.documents += other.documents
        self.known += other.known
        for k, v in other.rows.items():
            self.rows[k] = self.rows.get(k, 0) + v
        self.new_document_ids += other.new_document_ids

    def to_dict(self) -> dict[str, Any]:
        return {"documents": self.documents, "known": self.known, "rows": dict(self.rows)}


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i:i + _CHUNK]


def _existing(conn: Connection, column: Any, keys: Iterable[Any], *extra: Any) -> list[Any]:
    """Rows of (column, *extra) whose column is among `keys`."""
    wanted = sorted(set(keys))
    found: list[Any] = []
    for chunk in _chunks(wanted):
        found += conn.execute(select(column, *extra).where(column.in_(chunk))).all()
    return found


def _rename(doc_id: str, new_id: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Give a document (and its incidents) the full SHA-256 as id when the short id is taken."""
    prefix, new_prefix = f"{doc_id}-", f"{new_id}-"
    renamed: dict[str, str] = {}
    for r in rows.get("incidents", []):
        if r["document_id"] == doc_id:
            old = r["id"]
            r["id"] = new_prefix + old[len(prefix):] if old.startswith(prefix) else f"{new_id}-{old}"
            r["document_id"] = new_id
            renamed[old] = r["id"]
    for r in rows.get("facts", []):
        if r["incident_id"] in renamed:
            r["incident_id"] = renamed[r["incident_id"]]
    for table in ("citations", "custody"):
        for r in rows.get(table, []):
            if r.get("document_id") == doc_id:
                r["document_id"] = new_id
    for r in rows.get("documents", []):
        if r["id"] == doc_id:
            r["id"] = new_id


def load_rows(conn: Connection, rows: dict[str, list[dict[str, Any]]], *,
              details: dict[str, Any] | None = None) -> LoadStats:
    """Store one partition's new documents with their originals, facts and custody records.

    `details` is added to every custody record written (e.g. which results folder was loaded).
    Runs in the caller's transaction: the partition is stored whole or not at all.
    """
    stats = LoadStats()
    docs = rows.get("documents", [])
    known = {sha: doc_id for sha, doc_id in _existing(conn, documents.c.sha256, (d["sha256"] for d in docs),
                                                      documents.c.id)}
    new_docs: list[dict[str, Any]] = []
    seen_sha: set[str] = set()
    for d in docs:
        if d["sha256"] in known or d["sha256"] in seen_sha:
            stats.known += d["sha256"] in known
            continue
        seen_sha.add(d["sha256"])
        new_docs.append(d)
    taken = {r[0] for r in _existing(conn, documents.c.id, (d["id"] for d in new_docs))}
    ids_here: set[str] = set()
    for d in new_docs:
        if d["id"] in taken or d["id"] in ids_here:  # a short-id clash: the full digest is unique
            _rename(d["id"], d["sha256"], rows)
        ids_here.add(d["id"])
    new_ids = {d["id"] for d in new_docs}
    have_original = {r[0] for r in _existing(conn, originals.c.sha256, seen_sha)}
    now = evidence.utcnow()

    batch: dict[str, list[dict[str, Any]]] = {
        "originals": [{**o, "stored_at": now} for o in rows.get("originals", [])
                      if o["sha256"] in seen_sha and o["sha256"] not in have_original],
        "documents": [{**d, "created_at": now} for d in new_docs],
        "incidents": [r for r in rows.get("incidents", []) if r["document_id"] in new_ids],
        "citations": [r for r in rows.get("citations", []) if r["document_id"] in new_ids],
    }
    new_incidents = {r["id"] for r in batch["incidents"]}
    batch["facts"] = [r for r in rows.get("facts", []) if r["incident_id"] in new_incidents]
    batch["originals"] = list({o["sha256"]: o for o in batch["originals"]}.values())
    batch["custody"] = _custody_rows(conn, rows.get("custody", []), known, seen_sha, now, details or {})

    for table, columns in LOAD_ORDER:
        n = insert_rows(conn, table, columns, batch.get(table.name, []))
        stats.rows[table.name] = n
    summary.refresh(conn, new_incidents)  # what search, facets and the map read
    stats.documents = len(new_docs)
    stats.new_document_ids = [d["id"] for d in new_docs]
    return stats


def _custody_rows(conn: Connection, rows: list[dict[str, Any]], known: dict[str, str], new_sha: set[str],
                  now: Any, extra: dict[str, Any]) -> list[dict[str, Any]]:
    """Custody for items the ledger has not recorded from that source yet: ingested or repeat."""
    recorded = {(sha, source) for sha, source in _existing(conn, custody.c.sha256, (r["sha256"] for r in rows),
                                                             custody.c.source)}
    user = current_user()
    out: list[dict[str, Any]] = []
    first_seen: set[str] = set()
    for r in rows:
        sha = r["sha256"]
        if (sha, r["source"]) in recorded or (sha not in known and sha not in new_sha):
            continue  # already recorded, or the item's document was not stored (filtered, failed)
        recorded.add((sha, r["source"]))
        ingested = sha in new_sha and sha not in first_seen
        first_seen.add(sha)
        details = json.loads(r["details"]) if isinstance(r["details"], str) else dict(r["details"] or {})
        out.append({
            "sha256": sha, "document_id": known.get(sha, r["document_id"]),
            "event": evidence.INGESTED if ingested else evidence.REPEAT, "source": r["source"],
            "retrieved_at": r["retrieved_at"], "recorded_at": now, "user_name": user, "tool": r["tool"],
            "details": json.dumps({**details, **extra}, ensure_ascii=False),
        })
    return out


def insert_rows(conn: Connection, table: Table, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> int:
    """Insert many rows in the caller's transaction: COPY on PostgreSQL, one executemany on SQLite."""
    if not rows:
        return 0
    if conn.dialect.name == "postgresql":
        _copy(conn, table, columns, rows)
    else:
        _executemany(conn, table, columns, rows)
    return len(rows)


def _copy(conn: Connection, table: Table, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """COPY FROM STDIN on the transaction's own psycopg connection (JSON text goes in as is)."""
    raw = conn.connection.driver_connection
    sql = f'COPY {table.name} ({", ".join(columns)}) FROM STDIN'
    with raw.cursor() as cur, cur.copy(sql) as copy:
        for r in rows:
            copy.write_row(tuple(r[c] for c in columns))


def refresh_statistics(conn: Connection) -> None:
    """Let the query planner see the tables a bulk load filled.

    Loading asks, per partition, for rows of the incidents it adds ("facts of these incidents"):
    with statistics from when the tables were small, PostgreSQL reads the whole table to answer,
    and each partition takes longer than the one before. Autovacuum would refresh them in time,
    but a load should not depend on a server setting (it may be off, or lag behind a fast load).
    """
    if conn.dialect.name == "postgresql":
        tables = (documents, originals, custody, incidents, facts, citations, incident_summary, incident_facets)
        conn.exec_driver_sql("ANALYZE " + ", ".join(t.name for t in tables))
    else:
        conn.exec_driver_sql("PRAGMA optimize")


def _executemany(conn: Connection, table: Table, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """One executemany through the driver; each value converted as SQLAlchemy would, JSON as is."""
    dialect = conn.dialect
    convert = []
    for c in columns:
        col_type = table.c[c].type
        is_json = isinstance(col_type, JSON) or isinstance(col_type.dialect_impl(dialect), JSON)
        convert.append(None if is_json else col_type.dialect_impl(dialect).bind_processor(dialect))
    marks = ", ".join("?" for _ in columns) if dialect.paramstyle == "qmark" else ", ".join(f"%({c})s" for c in columns)
    sql = f'INSERT INTO {table.name} ({", ".join(columns)}) VALUES ({marks})'
    params = []
    for r in rows:
        values = [r[c] if fn is None or r[c] is None else fn(r[c]) for c, fn in zip(columns, convert)]
        params.append(tuple(values) if dialect.paramstyle == "qmark" else dict(zip(columns, values)))
    conn.exec_driver_sql(sql, params)
