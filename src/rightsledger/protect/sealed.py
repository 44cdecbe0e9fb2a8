"""Confidential values encrypted at rest: the one helper that seals, opens and re-seals them.

What is sealed: everything read from a document marked confidential — its original bytes, clean
and source text, cut boilerplate, the evidence text of its incidents, facts and citations, its
informant (source) facts, its review-log entries and notes — plus analyst notes marked
confidential and informant details (always). A sealed row keeps stand-ins in its own columns
(empty text, spans without their text, an informant's kind only) so the ledger still opens, counts
and searches without the key; the values themselves live in `sealed_values` as
`crypto.seal(key, plaintext, ref)`, where `ref` ("<table>:<row key>") is the associated data:
a sealed value copied to another row does not open. Each keeps its plaintext SHA-256, so
`verify` can check it (and a sealed original against the SHA-256 it was ingested under).

The key is never stored: `protect_key` holds its check value (an HMAC of a constant) and, for a
passphrase, the scrypt salt. `Keyring` finds the key (given, RIGHTSLEDGER_KEY_FILE or
RIGHTSLEDGER_PASSPHRASE) and refuses a wrong one with `KeyProblem` before anything is opened.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Integer, Select, delete, func, select, update

from rightsledger import evidence
from rightsledger.errors import IntegrityError
from rightsledger.protect import audit, crypto
from rightsledger.protect.crypto import KeyProblem
from rightsledger.store.schema import (
    cases,
    citations,
    documents,
    facts,
    incidents,
    notes,
    originals,
    protect_key,
    review_log,
    sealed_values,
)

UNLOCK_HINT = (f"set {crypto.KEY_FILE_ENV} to the ledger's key file, or {crypto.PASSPHRASE_ENV} to its passphrase, "
               "and run the command again")
NEW_KEY_HINT = (f"create a key with `rightsledger key new FILE` and set {crypto.KEY_FILE_ENV}=FILE "
                f"(keep FILE off this machine's disk when not in use), or set {crypto.PASSPHRASE_ENV}")
LOCKED_NOTE = "(confidential note: locked)"
_CHUNK = 500


# -- what is sealed, row by row -------------------------------------------------------------
def _span(s: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if s is None else {**s, "text": ""}


def _fact_value(kind: str, v: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A fact's stand-in value: an informant keeps only its kind; other facts keep their value
    (search, map and timeline use them) without the text of their quotations."""
    if v is None:
        return None
    if kind == "source":
        return {"kind": v.get("kind")}
    return {**v, "quotes": [_span(q) for q in v["quotes"]]} if "quotes" in v else dict(v)


def _blank_fact(r: Mapping[str, Any]) -> dict[str, Any]:
    cur = r["current"]
    if cur:
        cur = {**cur, "value": _fact_value(r["kind"], cur.get("value")), "evidence": _span(cur.get("evidence"))}
    return {"value": _fact_value(r["kind"], r["value"]), "span_text": None if r["span_text"] is None else "",
            "current": cur}


@dataclass(frozen=True, slots=True)
class Sealable:
    """The columns of one table that are sealed, and their stand-ins."""

    table: Any
    key: str  # the row key column
    columns: tuple[str, ...]
    blank: Callable[[Mapping[str, Any]], dict[str, Any]]
    raw: bool = False  # one bytes column sealed as it is (an original)

    def ref(self, row: Mapping[str, Any]) -> str:
        return f"{self.table.name}:{row[self.key]}"

    def pack(self, row: Mapping[str, Any]) -> bytes:
        if self.raw:
            return bytes(row[self.columns[0]])
        return audit.canonical({c: row[c] for c in self.columns})

    def unpack(self, plain: bytes) -> dict[str, Any]:
        return {self.columns[0]: plain} if self.raw else json.loads(plain)


SEALABLE: dict[str, Sealable] = {s.table.name: s for s in (
    Sealable(originals, "sha256", ("content",), lambda r: {"content": b""}, raw=True),
    Sealable(documents, "id", ("text", "source_text", "removed"),
             lambda r: {"text": "", "source_text": "", "removed": []}),
    Sealable(incidents, "id", ("evidence",), lambda r: {"evidence": [_span(s) for s in r["evidence"] or []]}),
    Sealable(facts, "id", ("value", "span_text", "current"), _blank_fact),
    Sealable(citations, "id", ("span_text",), lambda r: {"span_text": ""}),
    Sealable(review_log, "id", ("old", "new"), lambda r: {"old": None, "new": None}),
    Sealable(notes, "id", ("body",), lambda r: {"body": ""}),
)}


def document_owner(doc_id: str) -> str:
    return f"document:{doc_id}"


def note_owner(note_id: int) -> str:
    return f"note:{note_id}"


# -- the key ---------------------------------------------------------------------------------
def key_id(key: bytes) -> str:
    return crypto.check_value(key)[:16]


def key_record(conn: Connection) -> Any:
    return conn.execute(select(protect_key).where(protect_key.c.id == 1)).first()


def store_key(conn: Connection, key: bytes, kind: str, salt: bytes) -> None:
    """Record which key seals the ledger (its check value and salt; never the key)."""
    conn.execute(delete(protect_key).where(protect_key.c.id == 1))
    conn.execute(protect_key.insert().values(id=1, key_id=key_id(key), check_value=crypto.check_value(key), kind=kind,
                                             salt=salt, created_at=evidence.utcnow()))


class Keyring:
    """The key to this ledger's sealed values: the one given, else the environment's; always
    checked against the ledger's check value before use."""

    def __init__(self, key: bytes | None = None) -> None:
        self._given = key
        self._derived: dict[tuple[str, bytes], bytes] = {}  # scrypt once per passphrase and salt

    def _candidate(self, rec: Any) -> tuple[bytes, str, bytes] | None:
        """(key, kind, salt) from what is set, or None."""
        if self._given is not None:
            return self._given, "file", b""
        path = os.environ.get(crypto.KEY_FILE_ENV)
        if path:
            return crypto.read_key_file(path), "file", b""
        passphrase = os.environ.get(crypto.PASSPHRASE_ENV)
        if passphrase:
            salt = bytes(rec.salt) if rec is not None and rec.kind == "passphrase" else crypto.new_salt()
            if (passphrase, salt) not in self._derived:
                self._derived[(passphrase, salt)] = crypto.derive_key(passphrase, salt)
            return self._derived[(passphrase, salt)], "passphrase", salt
        return None

    def get(self, conn: Connection) -> bytes | None:
        """The ledger's key if one is set (None if none is); KeyProblem if the one set is wrong."""
        rec = key_record(conn)
        found = self._candidate(rec)
        if found is None:
            return None
        if rec is not None and not crypto.matches(found[0], rec.check_value):
            raise KeyProblem(f"the key set does not open this ledger's confidential values "
                             f"(they are sealed with {'a key file' if rec.kind == 'file' else 'a passphrase'}, "
                             f"key id {rec.key_id})", hint=UNLOCK_HINT)
        return found[0]

    def need(self, conn: Connection, what: str) -> bytes:
        """The key, or KeyProblem naming what is locked and how to unlock it."""
        key = self.get(conn)
        if key is None:
            raise KeyProblem(f"{what} is confidential and locked (encrypted at rest)", hint=UNLOCK_HINT)
        return key

    def enroll(self, conn: Connection) -> bytes:
        """The key for sealing: the ledger's, or — the first time anything is sealed — the one set
        now, whose check value (and salt) are recorded in the same transaction."""
        rec = key_record(conn)
        if rec is not None:
            return self.need(conn, "sealing")
        found = self._candidate(None)
        if found is None:
            raise KeyProblem("confidential values are encrypted at rest, and no key is set", hint=NEW_KEY_HINT)
        store_key(conn, *found)
        return found[0]


# -- sealing and unsealing rows --------------------------------------------------------------
def _open(key: bytes, ref: str, sha256: str, data: bytes) -> bytes:
    plain = crypto.open_sealed(key, bytes(data), ref)
    if hashlib.sha256(plain).hexdigest() != sha256:
        raise IntegrityError(f"sealed value {ref} no longer matches its SHA-256",
                             hint="the ledger was altered outside RightsLedger: restore it from a backup")
    return plain


def is_sealed(conn: Connection, ref: str) -> bool:
    return conn.execute(select(sealed_values.c.ref).where(sealed_values.c.ref == ref)).first() is not None


def seal_rows(conn: Connection, key: bytes, spec: Sealable, query: Select[Any], owner: str) -> int:
    """Seal the rows `query` selects from `spec.table` (rows already sealed are left as they are)."""
    n = 0
    for row in conn.execute(query).all():
        m = row._mapping
        ref = spec.ref(m)
        if is_sealed(conn, ref):
            continue
        plain = spec.pack(m)
        conn.execute(sealed_values.insert().values(ref=ref, owner=owner, sha256=hashlib.sha256(plain).hexdigest(),
                                                   data=crypto.seal(key, plain, ref)))
        conn.execute(update(spec.table).where(spec.table.c[spec.key] == m[spec.key]).values(**spec.blank(m)))
        n += 1
    return n


def _document_rows(conn: Connection, doc_id: str) -> Iterator[tuple[Sealable, Select[Any]]]:
    sha = conn.execute(select(documents.c.sha256).where(documents.c.id == doc_id)).scalar()
    of_doc = select(incidents.c.id).where(incidents.c.document_id == doc_id)
    yield SEALABLE["originals"], select(originals).where(originals.c.sha256 == sha)
    yield SEALABLE["documents"], select(documents).where(documents.c.id == doc_id)
    yield SEALABLE["incidents"], select(incidents).where(incidents.c.document_id == doc_id)
    yield SEALABLE["facts"], select(facts).where(facts.c.incident_id.in_(of_doc))
    yield SEALABLE["citations"], select(citations).where(citations.c.document_id == doc_id)
    yield SEALABLE["review_log"], select(review_log).where(review_log.c.document_id == doc_id)
    yield SEALABLE["notes"], select(notes).where(notes.c.target_kind == "document", notes.c.target_id == doc_id)


def seal_document(conn: Connection, key: bytes, doc_id: str) -> int:
    """Seal everything read from a document; returns how many rows were sealed."""
    n = sum(seal_rows(conn, key, spec, q, document_owner(doc_id)) for spec, q in _document_rows(conn, doc_id))
    _reindex(conn)
    return n


def seal_note(conn: Connection, key: bytes, note_id: int) -> int:
    return seal_rows(conn, key, SEALABLE["notes"], select(notes).where(notes.c.id == note_id), note_owner(note_id))


def unseal_owner(conn: Connection, key: bytes, owner: str) -> int:
    """Put an owner's sealed values back in their rows, in clear (inside the caller's transaction)."""
    rows = conn.execute(select(sealed_values).where(sealed_values.c.owner == owner)).all()
    for r in rows:
        table, row_key = r.ref.split(":", 1)
        spec = SEALABLE[table]
        values = spec.unpack(_open(key, r.ref, r.sha256, r.data))
        conn.execute(update(spec.table).where(spec.table.c[spec.key] == _key_of(spec, row_key)).values(**values))
        conn.execute(delete(sealed_values).where(sealed_values.c.ref == r.ref))
    return len(rows)


def _key_of(spec: Sealable, row_key: str) -> Any:
    return int(row_key) if isinstance(spec.table.c[spec.key].type, Integer) else row_key


def _reindex(conn: Connection) -> None:
    """SQLite's full-text index keeps words of replaced text in older segments until they are
    merged: merge them, so no sealed word stays indexed (PostgreSQL recomputes its column)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO documents_fts(documents_fts) VALUES ('optimize')")


def sealed_documents(conn: Connection) -> set[str]:
    q = select(sealed_values.c.ref).where(sealed_values.c.ref.like("documents:%"))
    return {ref.split(":", 1)[1] for ref in conn.execute(q).scalars()}


def sealed_originals(conn: Connection) -> dict[str, Any]:
    """sha256 → (ref, plaintext SHA-256, data) of every sealed original."""
    q = select(sealed_values).where(sealed_values.c.ref.like("originals:%"))
    return {r.ref.split(":", 1)[1]: r for r in conn.execute(q)}


# -- reading: rows with their sealed values opened -------------------------------------------
class OpenRow(dict):  # type: ignore[type-arg]
    """A row as a dict with attribute access, like a SQLAlchemy Row; `locked` when its sealed
    values could not be opened (no key) and it holds stand-ins."""

    locked = False

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _mapping(self) -> OpenRow:
        return self


class Opener:
    """Opens the sealed values of the rows a reader builds from (prefetched by owner or ref)."""

    def __init__(self, conn: Connection, keyring: Keyring | None) -> None:
        self.conn, self.keyring = conn, keyring
        self.found: dict[str, Any] = {}
        self.any = conn.execute(select(sealed_values.c.ref).limit(1)).first() is not None
        self._key: bytes | None = None
        self._looked = False

    def _fetch(self, column: Any, values: Iterable[str]) -> Opener:
        if self.any:
            vals = sorted(set(values))
            for i in range(0, len(vals), _CHUNK):
                for r in self.conn.execute(select(sealed_values).where(column.in_(vals[i:i + _CHUNK]))):
                    self.found[r.ref] = r
        return self

    def owners(self, owners: Iterable[str]) -> Opener:
        return self._fetch(sealed_values.c.owner, owners)

    def refs(self, refs: Iterable[str]) -> Opener:
        return self._fetch(sealed_values.c.ref, refs)

    def key(self) -> bytes | None:
        if not self._looked:
            self._key = self.keyring.get(self.conn) if self.keyring else None
            self._looked = True
        return self._key

    def row(self, table: str, row: Any) -> OpenRow:
        spec = SEALABLE[table]
        out = OpenRow(row._mapping)
        hit = self.found.get(spec.ref(out))
        if hit is None:
            return out
        key = self.key()
        if key is None:
            out.locked = True
            return out
        out.update(spec.unpack(_open(key, hit.ref, hit.sha256, hit.data)))
        return out


# -- checking, counting, rotating ------------------------------------------------------------
def check_all(conn: Connection, key: bytes) -> list[tuple[str, str]]:
    """(ref, problem) for every sealed value that does not open or match its SHA-256."""
    problems = []
    for r in _all(conn):
        try:
            _open(key, r.ref, r.sha256, r.data)
        except (KeyProblem, IntegrityError) as exc:
            problems.append((r.ref, str(exc.args[0])))
    return problems


def _all(conn: Connection) -> Iterator[Any]:
    after = ""
    while True:
        rows = conn.execute(select(sealed_values).where(sealed_values.c.ref > after)
                            .order_by(sealed_values.c.ref).limit(_CHUNK)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].ref


def counts(conn: Connection) -> dict[str, int]:
    """How many values are sealed: in all, confidential documents, confidential notes."""
    total = conn.execute(select(func.count()).select_from(sealed_values)).scalar() or 0
    return {"values": int(total), "documents": len(sealed_documents(conn)),
            "notes": int(conn.execute(select(func.count()).select_from(sealed_values)
                                      .where(sealed_values.c.owner.like("note:%"))).scalar() or 0)}


def rotate(conn: Connection, old: bytes | None, new: bytes, kind: str, salt: bytes) -> int:
    """Re-seal every sealed value under `new` and record it as the ledger's key, inside the
    caller's transaction: a failure half-way rolls back to everything under `old`."""
    n = 0
    for r in list(_all(conn)):
        if old is None:
            raise KeyProblem("sealed values exist but no key is set", hint=UNLOCK_HINT)
        plain = _open(old, r.ref, r.sha256, r.data)
        conn.execute(update(sealed_values).where(sealed_values.c.ref == r.ref)
                     .values(data=crypto.seal(new, plain, r.ref)))
        n += 1
    store_key(conn, new, kind, salt)
    return n


def scrub_case_summary(summary: dict[str, Any], sealed_ids: set[str]) -> dict[str, Any]:
    """A case summary without the informant descriptions its confidential members gave."""
    sources = (summary.get("facts") or {}).get("sources")
    if not sealed_ids or not isinstance(sources, dict):
        return summary
    kept: dict[str, list[str]] = {}
    for value, ids in sources.items():
        hidden = [d for d in ids if d in sealed_ids]
        shown = [d for d in ids if d not in sealed_ids]
        if shown:
            kept.setdefault(value, []).extend(shown)
        if hidden:
            kept.setdefault(f"{value.split(':', 1)[0]}: (confidential)", []).extend(hidden)
    summary["facts"]["sources"] = {k: sorted(set(v)) for k, v in sorted(kept.items())}
    return summary


def scrub_cases_of(conn: Connection, doc_id: str) -> None:
    """Scrub the stored summaries of the cases a newly sealed document belongs to."""
    ids = select(incidents.c.case_id).where(incidents.c.document_id == doc_id, incidents.c.case_id.is_not(None))
    sealed = sealed_documents(conn)
    for r in conn.execute(select(cases.c.id, cases.c.summary).where(cases.c.id.in_(ids))).all():
        conn.execute(update(cases).where(cases.c.id == r.id).values(
            summary=scrub_case_summary(dict(r.summary), sealed)))
