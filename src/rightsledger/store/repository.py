"""The only domain SQL: model objects in, model objects out.

A `Repository` works on one connection inside one transaction (handed out by
`Database.read()` / `Database.write()`); whoever opened the transaction decides when it commits.
Facts are stored one row each, keeping the proposal (value, span, component, rule, detail) and a
review `status`; documents are rebuilt from those rows with the model's `from_dict` helpers.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import hashlib

from sqlalchemy import Connection, Float, String, cast, delete, func, literal, literal_column, or_, select, union_all, update
from sqlalchemy import case as case_
from sqlalchemy import column as column_
from sqlalchemy import table as table_
from sqlalchemy import text as text_

from rightsledger import evidence
from rightsledger.protect import audit
from rightsledger.protect import sealed as sealing
from rightsledger.errors import NotFoundError
from rightsledger.settings import current_user
from rightsledger.model import (
    Actor,
    Citation,
    DateValue,
    Document,
    Incident,
    Place,
    Span,
    TypeFact,
    Victims,
    Why,
)
from rightsledger.store import bulk
from rightsledger.store import summary
from rightsledger.store.schema import (
    api_tokens,
    fact_text,
    case_reviews,
    incident_facets,
    incident_summary,
    cases,
    citations,
    custody,
    document_links,
    documents,
    facts,
    incidents,
    link_keys,
    link_overrides,
    link_state,
    login_throttle,
    notes,
    originals,
    review_log,
    users,
    web_sessions,
)

MIN_PREFIX = 4  # shortest document id prefix accepted by `resolve`
_BATCH = 200


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def span_cols(span: Span | None) -> dict[str, Any]:
    if span is None:
        return {"span_start": None, "span_end": None, "span_text": None}
    return {"span_start": span.start, "span_end": span.end, "span_text": span.text}


def why_cols(why: Why | None) -> dict[str, Any]:
    if why is None:
        return {"component": None, "rule": None, "detail": None}
    return {"component": why.component, "rule": why.rule, "detail": why.detail}


def _fact_value(explained: dict[str, Any]) -> dict[str, Any]:
    """The proposal without the span and the why, which have columns of their own."""
    return {k: v for k, v in explained.items() if k not in ("evidence", "why")}


def _date_is_known(d: DateValue) -> bool:
    return bool(d.start or d.end or d.text or d.evidence or d.precision != "unknown")


def fact_rows(incident: Incident) -> list[dict[str, Any]]:
    """One row per proposed fact of `incident`, in a stable order."""
    rows: list[dict[str, Any]] = []

    def add(kind: str, seq: int, explained: dict[str, Any], span: Span | None, why: Why | None) -> None:
        rows.append({"incident_id": incident.id, "kind": kind, "seq": seq, "value": _fact_value(explained),
                     **span_cols(span), **why_cols(why)})

    for i, t in enumerate(incident.type_facts):
        add("type", i, t.explain(), t.evidence, t.why)
    if _date_is_known(incident.date):
        add("date", 0, incident.date.explain(), incident.date.evidence, incident.date.why)
    for i, p in enumerate(incident.places):
        add("place", i, p.explain(), p.evidence, p.why)
    for i, v in enumerate(incident.victims):
        add("victims", i, v.explain(), v.evidence, v.why)
    for i, a in enumerate(incident.perpetrators):
        add("perpetrator", i, a.explain(), a.evidence, a.why)
    for i, a in enumerate(incident.sources):
        add("source", i, a.explain("description"), a.evidence, a.why)
    return rows


def _row_span(row: Any) -> dict[str, Any] | None:
    if row.span_start is None:
        return None
    return {"start": row.span_start, "end": row.span_end, "text": row.span_text or ""}


def _row_why(row: Any) -> dict[str, Any] | None:
    if row.component is None:
        return None
    return {"component": row.component, "rule": row.rule or "", "detail": row.detail or ""}


def _apply_fact(incident: Incident, row: Any) -> None:
    if getattr(row, "current", None):  # a reviewer's correction replaces the proposal's value and span
        d = {**row.current.get("value", {}), "evidence": row.current.get("evidence"), "why": _row_why(row)}
    else:
        d = {**row.value, "evidence": _row_span(row), "why": _row_why(row)}
    kind = row.kind
    if kind == "type":
        incident.type_facts.append(TypeFact.from_dict(d))
    elif kind == "date":
        incident.date = DateValue.from_dict(d)
    elif kind == "place":
        incident.places.append(Place.from_dict(d))
    elif kind == "victims":
        incident.victims.append(Victims.from_dict(d))
    elif kind == "perpetrator":
        incident.perpetrators.append(Actor.from_dict(d))
    elif kind == "source":
        incident.sources.append(Actor.from_dict(d))


class Repository:
    def __init__(self, conn: Connection, keyring: sealing.Keyring | None = None) -> None:
        self.conn = conn
        self.keyring = keyring  # opens sealed (confidential) values; without it they read as stand-ins

    # -- evidence -----------------------------------------------------------------------------
    def document_id_for(self, sha256: str) -> str | None:
        return self.conn.execute(select(documents.c.id).where(documents.c.sha256 == sha256)).scalar()

    def has_original(self, sha256: str) -> bool:
        return self.conn.execute(select(originals.c.sha256).where(originals.c.sha256 == sha256)).first() is not None

    def add_original(self, data: bytes, media_type: str) -> str:
        sha = evidence.digest(data)
        self.conn.execute(originals.insert().values(
            sha256=sha, size=len(data), media_type=media_type, content=data, stored_at=evidence.utcnow()))
        return sha

    def original(self, sha256: str) -> bytes:
        """The original bytes, re-hashed before they are returned (IntegrityError on mismatch)."""
        row = self.conn.execute(select(originals).where(originals.c.sha256 == sha256)).first()
        if row is None:
            raise NotFoundError(f"no original with SHA-256 {sha256}", hint="see `rightsledger list`")
        opened = sealing.Opener(self.conn, self.keyring).refs([f"originals:{sha256}"]).row("originals", row)
        if opened.locked:
            raise sealing.KeyProblem(f"the original of document {self.document_id_for(sha256)} is confidential and "
                                     "locked (encrypted at rest)", hint=sealing.UNLOCK_HINT)
        return evidence.check(sha256, bytes(opened.content))

    def iter_originals(self) -> Iterator[tuple[str, bytes]]:
        """Every stored original, one at a time (never the whole table in memory)."""
        shas = self.conn.execute(select(originals.c.sha256).order_by(originals.c.sha256)).scalars().all()
        for sha in shas:
            data = self.conn.execute(select(originals.c.content).where(originals.c.sha256 == sha)).scalar()
            yield sha, bytes(data or b"")

    def add_custody(self, rec: evidence.CustodyRecord) -> None:
        self.conn.execute(custody.insert().values(
            sha256=rec.sha256, document_id=rec.document_id, event=rec.event, source=rec.source,
            retrieved_at=_utc(rec.retrieved_at), recorded_at=_utc(rec.recorded_at),
            user_name=rec.user, tool=rec.tool, details=rec.details))
        audit.append(self.conn, rec.user, f"custody_{rec.event}", f"document:{rec.document_id or rec.sha256}",
                     {"sha256": rec.sha256, "source": rec.source, "details": rec.details})

    def custody(self, document_id: str) -> list[evidence.CustodyRecord]:
        rows = self.conn.execute(
            select(custody).where(custody.c.document_id == document_id).order_by(custody.c.id)).all()
        return [evidence.CustodyRecord(
            sha256=r.sha256, event=r.event, source=r.source, retrieved_at=_utc(r.retrieved_at),
            document_id=r.document_id, recorded_at=_utc(r.recorded_at), user=r.user_name, tool=r.tool,
            details=dict(r.details or {})) for r in rows]

    def incomplete(self) -> list[evidence.Mismatch]:
        """Documents whose original or ingest custody record is missing (should never happen)."""
        problems: list[evidence.Mismatch] = []
        q = (select(documents.c.id, documents.c.sha256)
             .outerjoin(originals, originals.c.sha256 == documents.c.sha256)
             .where(originals.c.sha256.is_(None)))
        problems += [evidence.Mismatch(r.sha256, r.id, "original missing") for r in self.conn.execute(q)]
        ingested = (select(custody.c.document_id)
                    .where(custody.c.event == evidence.INGESTED, custody.c.document_id.is_not(None)))
        q = select(documents.c.id, documents.c.sha256).where(documents.c.id.not_in(ingested))
        problems += [evidence.Mismatch(r.sha256, r.id, "custody record missing") for r in self.conn.execute(q)]
        return problems

    # -- documents ----------------------------------------------------------------------------
    def id_taken(self, doc_id: str) -> bool:
        return self.conn.execute(select(documents.c.id).where(documents.c.id == doc_id)).first() is not None

    def add_document(self, doc: Document, *, source_text: str, offsets: Any, removed: list[dict[str, Any]],
                     extractor: str) -> None:
        """The document, its incidents, their facts and its citations (the original must exist)."""
        self.conn.execute(documents.insert().values(
            id=doc.id, sha256=doc.sha256, url=doc.url, outlet=doc.outlet, title=doc.title,
            published=doc.published, language=doc.language, source_text=source_text, text=doc.text,
            offsets=offsets, removed=removed, duplicate_of=doc.duplicate_of, extractor=extractor,
            created_at=evidence.utcnow()))
        if doc.incidents:
            self.conn.execute(incidents.insert(), [{
                "id": inc.id, "document_id": doc.id, "seq": n, "modality": inc.modality, "case_id": inc.case_id,
                "date_start": inc.date.start, "date_end": inc.date.end, "date_precision": inc.date.precision,
                "evidence": [s.to_dict() for s in inc.evidence],
            } for n, inc in enumerate(doc.incidents)])
            rows = [row for inc in doc.incidents for row in fact_rows(inc)]
            if rows:
                self.conn.execute(facts.insert(), rows)
            summary.refresh(self.conn, [inc.id for inc in doc.incidents])
        if doc.cites:
            self.conn.execute(citations.insert(), [{
                "document_id": doc.id, "seq": n, "outlet": c.outlet,
                **span_cols(c.evidence), **why_cols(c.why)} for n, c in enumerate(doc.cites)])

    def resolve(self, ref: str) -> str:
        """A document id from its id, a unique id prefix, or its SHA-256."""
        ref = ref.strip().lower()
        if self.id_taken(ref):
            return ref
        by_sha = self.document_id_for(ref) if len(ref) == 64 else None
        if by_sha:
            return by_sha
        if len(ref) >= MIN_PREFIX:
            pattern = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            ids = self.conn.execute(
                select(documents.c.id).where(documents.c.id.like(pattern, escape="\\")).limit(11)).scalars().all()
            if len(ids) == 1:
                return ids[0]
            if len(ids) > 1:
                shown = ", ".join(ids[:10])
                raise NotFoundError(f"{ref!r} matches several documents: {shown}", hint="give more characters of the id")
        raise NotFoundError(f"no document {ref!r} in the ledger", hint="see `rightsledger list` for document ids")

    def summaries(self, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        """One row per document for listings: id, outlet, published, title, url and incident counts
        (all of them, or the page `limit`/`offset` in the order they were stored)."""
        q = (select(documents.c.id, documents.c.outlet, documents.c.published, documents.c.title,
                    documents.c.url, documents.c.language, documents.c.created_at, documents.c.duplicate_of)
             .order_by(documents.c.created_at, documents.c.id))
        counts = (select(incidents.c.document_id, incidents.c.modality, func.count().label("n"))
                  .group_by(incidents.c.document_id, incidents.c.modality))
        if limit is not None:
            q = q.limit(limit).offset(offset)
            counts = counts.where(incidents.c.document_id.in_(select(q.subquery().c.id)))
        per_doc: dict[str, Counter[str]] = defaultdict(Counter)
        for r in self.conn.execute(counts):
            per_doc[r.document_id][r.modality] += r.n
        out = []
        for r in self.conn.execute(q):
            c = per_doc.get(r.id, Counter())
            out.append({"id": r.id, "outlet": r.outlet, "published": r.published.isoformat() if r.published else None,
                        "title": r.title, "url": r.url, "language": r.language,
                        "duplicate_of": r.duplicate_of, "incidents": c.get("asserted", 0),
                        "unconfirmed": sum(c.values()) - c.get("asserted", 0)})
        return out

    def document_count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(documents)).scalar() or 0)

    def document_ids(self) -> list[str]:
        return list(self.conn.execute(select(documents.c.id).order_by(documents.c.created_at, documents.c.id)).scalars())

    def load(self, ids: Sequence[str]) -> list[Document]:
        """Rebuild documents (with incidents, facts and citations) in the order of `ids`.

        Facts a reviewer rejected are left out; every other fact is returned as proposed.
        """
        if not ids:
            return []
        docs: dict[str, Document] = {}
        opener = sealing.Opener(self.conn, self.keyring).owners(sealing.document_owner(i) for i in ids)
        for r in self.conn.execute(select(documents).where(documents.c.id.in_(ids))):
            r = opener.row("documents", r)
            docs[r.id] = Document(id=r.id, text=r.text, sha256=r.sha256, url=r.url, outlet=r.outlet, title=r.title,
                                  published=r.published, language=r.language, duplicate_of=r.duplicate_of,
                                  locked=r.locked)
        by_id: dict[str, Incident] = {}
        q = select(incidents).where(incidents.c.document_id.in_(ids)).order_by(incidents.c.document_id, incidents.c.seq)
        for r in self.conn.execute(q):
            r = opener.row("incidents", r)
            inc = Incident(id=r.id, modality=r.modality, case_id=r.case_id,
                           evidence=[Span.from_dict(s) for s in (r.evidence or [])])  # type: ignore[misc]
            by_id[r.id] = inc
            docs[r.document_id].incidents.append(inc)
        if by_id:
            q = (select(facts).join(incidents, incidents.c.id == facts.c.incident_id)
                 .where(incidents.c.document_id.in_(ids), facts.c.status != "rejected")
                 .order_by(facts.c.incident_id, facts.c.kind, facts.c.seq))
            for r in self.conn.execute(q):
                _apply_fact(by_id[r.incident_id], opener.row("facts", r))
        q = select(citations).where(citations.c.document_id.in_(ids)).order_by(citations.c.document_id, citations.c.seq)
        for r in self.conn.execute(q):
            r = opener.row("citations", r)
            docs[r.document_id].cites.append(Citation.from_dict(
                {"outlet": r.outlet, "evidence": _row_span(r), "why": _row_why(r)}))
        return [docs[i] for i in ids if i in docs]

    def iter_documents(self, ids: Iterable[str] | None = None) -> Iterator[Document]:
        """Every document (or those in `ids`), rebuilt in batches to bound memory."""
        all_ids = list(ids) if ids is not None else self.document_ids()
        for i in range(0, len(all_ids), _BATCH):
            yield from self.load(all_ids[i:i + _BATCH])

    def document_record(self, doc_id: str) -> dict[str, Any]:
        """What the ledger stores beside the model: source text, offset map, removals, provenance."""
        r = self.conn.execute(select(documents).where(documents.c.id == doc_id)).first()
        if r is None:
            raise NotFoundError(f"no document {doc_id!r} in the ledger", hint="see `rightsledger list`")
        r = sealing.Opener(self.conn, self.keyring).refs([f"documents:{doc_id}"]).row("documents", r)
        media_type, size = self.conn.execute(
            select(originals.c.media_type, originals.c.size).where(originals.c.sha256 == r.sha256)).one()
        return {"source_text": r.source_text, "offsets": r.offsets, "removed": r.removed, "extractor": r.extractor,
                "created_at": _utc(r.created_at).isoformat(), "media_type": media_type, "size": size,
                "locked": r.locked}

    # -- numbers ------------------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        c = self.conn
        docs = c.execute(select(func.count(), func.min(documents.c.published), func.max(documents.c.published))
                         .select_from(documents)).one()
        n_orig, n_bytes = c.execute(select(func.count(), func.coalesce(func.sum(originals.c.size), 0))
                                    .select_from(originals)).one()
        events = dict(c.execute(select(custody.c.event, func.count()).group_by(custody.c.event)).all())
        modality = dict(c.execute(select(incidents.c.modality, func.count()).group_by(incidents.c.modality)).all())
        fact_kinds = dict(c.execute(select(facts.c.kind, func.count()).group_by(facts.c.kind)).all())
        typed: set[tuple[str, str]] = set()  # (incident, type): an incident counts once per type
        q = (select(facts.c.incident_id, facts.c.value).join(incidents, incidents.c.id == facts.c.incident_id)
             .where(facts.c.kind == "type", incidents.c.modality == "asserted", facts.c.status != "rejected"))
        for incident_id, value in c.execute(q):
            typed.add((incident_id, value.get("code", "?")))
        types = Counter(code for _, code in typed)
        outlets = c.execute(select(documents.c.outlet, func.count().label("n")).group_by(documents.c.outlet)
                            .order_by(func.count().desc(), documents.c.outlet)).all()
        cases = c.execute(select(func.count(func.distinct(incidents.c.case_id)))).scalar() or 0

        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "documents": docs[0],
            "published_first": iso(docs[1]),
            "published_last": iso(docs[2]),
            "originals": n_orig,
            "original_bytes": int(n_bytes),
            "custody_events": events,
            "incidents": modality,
            "cases": cases,
            "facts": fact_kinds,
            "types": dict(types.most_common()),
            "outlets": {(o or "(unknown)"): n for o, n in outlets},
        }

    # -- linking ------------------------------------------------------------------------------
    def linked_ids(self) -> set[str]:
        return set(self.conn.execute(select(link_state.c.document_id)).scalars())

    def unlinked_ids(self) -> list[str]:
        """Documents the linker has not seen (ingested by an interrupted run, or before linking existed)."""
        q = (select(documents.c.id).where(documents.c.id.not_in(select(link_state.c.document_id)))
             .order_by(documents.c.id))
        return list(self.conn.execute(q).scalars())

    def mark_linked(self, ids: Iterable[str], version: str) -> None:
        ids = sorted(set(ids))
        now = evidence.utcnow()
        for chunk in _chunks(ids):
            self.conn.execute(delete(link_state).where(link_state.c.document_id.in_(chunk)))
            self.conn.execute(link_state.insert(), [{"document_id": i, "version": version, "linked_at": now} for i in chunk])

    def clear_linking(self) -> None:
        """Forget every linking decision (a full re-link starts from here); overrides are kept,
        and so are the incidents' case ids, which the linker reuses to name the cases it rebuilds."""
        for table in (link_keys, link_state, document_links, cases):
            self.conn.execute(delete(table))
        self.conn.execute(update(documents).where(documents.c.duplicate_of.is_not(None)).values(duplicate_of=None))
        self.conn.execute(update(incident_summary).values(corroboration=None))

    def save_links(self, duplicate_of: dict[str, str | None], case_of: dict[str, str | None],
                   case_rows: Sequence[dict[str, Any]], retired: Iterable[str],
                   links: Sequence[dict[str, Any]]) -> None:
        """Store what one linking run decided. `case_rows` are {id, status, types, origin_count,
        summary}; `links` are {kind, from_id, to_id, score, detail} between the run's documents."""
        # a copy group is re-decided whole whenever a copy joins it: write only what changed
        stored: dict[str, str | None] = {}
        for chunk in _chunks(sorted(duplicate_of)):
            q = select(documents.c.id, documents.c.duplicate_of).where(documents.c.id.in_(chunk))
            stored.update((r.id, r.duplicate_of) for r in self.conn.execute(q))
        for doc_id, orig in sorted(duplicate_of.items()):
            if doc_id not in stored or stored[doc_id] != orig:
                self.conn.execute(update(documents).where(documents.c.id == doc_id).values(duplicate_of=orig))
        # a run re-decides every incident and case it touched, most of them as they were: the
        # incidents whose case changed and the cases whose status changed are what the
        # workspace summary must re-read (a large case's members are not rewritten every run)
        before: dict[str, str | None] = {}
        for chunk in _chunks(sorted(case_of)):
            q = select(incidents.c.id, incidents.c.case_id).where(incidents.c.id.in_(chunk))
            before.update((r.id, r.case_id) for r in self.conn.execute(q))
        moved = sorted(i for i, cid in case_of.items() if i in before and before[i] != cid)
        by_case: dict[str | None, list[str]] = defaultdict(list)
        for inc_id in moved:
            by_case[case_of[inc_id]].append(inc_id)
        for cid, inc_ids in sorted(by_case.items(), key=lambda kv: kv[0] or ""):
            for chunk in _chunks(inc_ids):
                self.conn.execute(update(incidents).where(incidents.c.id.in_(chunk)).values(case_id=cid))
        gone = sorted(set(retired) | {r["id"] for r in case_rows})
        status: dict[str, str] = {}
        for chunk in _chunks(gone):
            status.update((r.id, r.status) for r in self.conn.execute(select(cases.c.id, cases.c.status).where(cases.c.id.in_(chunk))))
            self.conn.execute(delete(cases).where(cases.c.id.in_(chunk)))
        now = evidence.utcnow()
        if case_rows:
            self.conn.execute(cases.insert(), [{**r, "updated_at": now} for r in case_rows])
        changed = set(retired) | {r["id"] for r in case_rows if status.get(r["id"]) != r["status"]}
        summary.refresh_links(self.conn, moved, sorted(changed))
        touched = sorted({x for lk in links for x in (lk["from_id"], lk["to_id"])} | set(duplicate_of))
        for chunk in _chunks(touched):
            self.conn.execute(delete(document_links).where(
                or_(document_links.c.from_id.in_(chunk), document_links.c.to_id.in_(chunk))))
        rows = {(lk["kind"], lk["from_id"], lk["to_id"]): lk for lk in links}
        if rows:
            self.conn.execute(document_links.insert(), [rows[k] for k in sorted(rows)])

    def cases(self, status: str | None = None) -> list[dict[str, Any]]:
        """Stored case summaries (optionally of one status), by id."""
        q = select(cases.c.summary).order_by(cases.c.id)
        if status:
            q = q.where(cases.c.status == status)
        return [dict(s) for s in self.conn.execute(q).scalars()]

    def case(self, case_id: str) -> dict[str, Any] | None:
        s = self.conn.execute(select(cases.c.summary).where(cases.c.id == case_id)).scalar()
        if s is None:
            ids = self.conn.execute(select(cases.c.id).where(cases.c.id.like(f"{case_id}%")).limit(2)).scalars().all()
            if len(ids) == 1:
                s = self.conn.execute(select(cases.c.summary).where(cases.c.id == ids[0])).scalar()
        return dict(s) if s is not None else None

    def case_members(self, case_id: str) -> list[tuple[str, str]]:
        """(document id, incident id) of every incident in the case."""
        q = (select(incidents.c.document_id, incidents.c.id).where(incidents.c.case_id == case_id)
             .order_by(incidents.c.document_id, incidents.c.id))
        return [(r.document_id, r.id) for r in self.conn.execute(q)]

    def document_links(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        out = []
        for chunk in _chunks(sorted(set(ids))):
            q = select(document_links).where(or_(document_links.c.from_id.in_(chunk), document_links.c.to_id.in_(chunk)))
            out += [dict(r._mapping) for r in self.conn.execute(q)]
        return sorted({(r["kind"], r["from_id"], r["to_id"]): r for r in out}.values(),
                      key=lambda r: (r["kind"], r["from_id"], r["to_id"]))

    def add_override(self, action: str, a: tuple[str, str], b: tuple[str, str], note: str,
                     user: str | None = None) -> None:
        """Record a merge/split decision by `user` (the web user; the OS user for the CLI)."""
        user = user or current_user()
        self.conn.execute(link_overrides.insert().values(
            action=action, a_document_id=a[0], a_incident_id=a[1], b_document_id=b[0], b_incident_id=b[1],
            note=note, user_name=user, tool=evidence.TOOL, recorded_at=evidence.utcnow()))
        audit.append(self.conn, user, action, f"incidents:{a[1]}|{b[1]}", {"a": a, "b": b, "note": note})

    def overrides(self) -> list[dict[str, Any]]:
        """Every analyst override, oldest first (the audit trail of merges and splits)."""
        rows = self.conn.execute(select(link_overrides).order_by(link_overrides.c.id))
        return [{**dict(r._mapping), "recorded_at": _utc(r.recorded_at).isoformat()} for r in rows]


def _box(m: Any, bbox: tuple[float, float, float, float] | None) -> list[Any]:
    """Conditions keeping the markers (a CTE with lat, lon) inside `bbox` (south, west, north, east)."""
    if bbox is None:
        return []
    south, west, north, east = bbox
    return [m.c.lat >= south, m.c.lat <= north, m.c.lon >= west, m.c.lon <= east]


def _chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


_KEY_MAX = 128


def _key(k: str) -> str:
    """Keys longer than the column are stored as a digest (the same on every lookup)."""
    return k if len(k) <= _KEY_MAX else "#" + hashlib.blake2b(k.encode("utf-8"), digest_size=24).hexdigest()


class CandidateKeys:
    """The linker's `CandidateIndex` on the ledger: keys in `link_keys`, documents rebuilt by `load`.

    Keys are written behind: `add_keys` collects them and the next `lookup` (or `flush`, which
    the caller runs before committing) writes them all with one delete and one insert per kind
    and few thousand rows, instead of two statements per document and kind.
    """

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self._pending: dict[tuple[str, str], set[str]] = {}

    def add_keys(self, kind: str, document_id: str, keys: Iterable[str]) -> None:
        self._pending[(kind, document_id)] = {_key(k) for k in keys}

    def flush(self) -> None:
        """Write the keys collected since the last flush."""
        pending, self._pending = self._pending, {}
        by_kind: dict[str, list[str]] = defaultdict(list)
        for kind, doc_id in sorted(pending):
            by_kind[kind].append(doc_id)
        conn = self.repo.conn
        for kind, ids in by_kind.items():
            for chunk in _chunks(ids):
                conn.execute(delete(link_keys).where(link_keys.c.kind == kind, link_keys.c.document_id.in_(chunk)))
                rows = [{"kind": kind, "key": k, "document_id": d} for d in chunk for k in sorted(pending[(kind, d)])]
                bulk.insert_rows(conn, link_keys, ("kind", "key", "document_id"), rows)

    def lookup(self, kind: str, keys: Iterable[str], common: int | None = None, per_key: int | None = None) -> dict[str, int]:
        if self._pending:
            self.flush()
        counts: Counter[str] = Counter()
        wanted = sorted({_key(k) for k in keys})
        conn = self.repo.conn
        if common is None and per_key is None:
            for chunk in _chunks(wanted):
                q = (select(link_keys.c.document_id, func.count()).where(link_keys.c.kind == kind, link_keys.c.key.in_(chunk))
                     .group_by(link_keys.c.document_id))
                counts.update(dict(conn.execute(q).all()))
            return dict(counts)
        # A bounded key is read as its own range of the primary key (kind, key, document_id): a key
        # that a million reports carry costs what `per_key` (or `common` + 1) rows cost.
        mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        cap = max(n for n in (per_key, None if common is None else common + 1) if n is not None)
        one = (f"SELECT * FROM (SELECT key, document_id FROM link_keys WHERE kind = {mark} AND key = {mark} "
               f"ORDER BY document_id LIMIT {int(cap)}) AS k")
        for chunk in _chunks(wanted, 100):
            rows = " UNION ALL ".join([one] * len(chunk))
            params = tuple(x for k in chunk for x in (kind, k))
            if common is None:  # counted by the database
                sql = f"SELECT document_id, count(*) FROM ({rows}) AS u GROUP BY document_id"
                counts.update(dict(conn.exec_driver_sql(sql, params).all()))
                continue
            found: dict[str, list[str]] = defaultdict(list)
            for key, doc_id in conn.exec_driver_sql(rows, params):
                found[key].append(doc_id)
            for ids in found.values():
                if len(ids) <= common:  # else too common to tell documents apart
                    counts.update(sorted(ids)[:per_key])
        return dict(counts)

    def nearest(self, queries: Sequence[tuple[str, Iterable[str]]], exclude: str, limit: int,
                per_key: int | None = None) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter()
        for kind, keys in queries:
            counts.update(self.lookup(kind, keys, per_key=per_key))
        counts.pop(exclude, None)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

    def stored_cases(self, case_ids: Iterable[str]) -> list[Any]:
        from rightsledger.link import Case  # the stored summary is `Case.explain()`

        return [Case.from_json(dict(summary)) for chunk in _chunks(sorted(set(case_ids)))
                for summary in self.repo.conn.execute(select(cases.c.summary).where(cases.c.id.in_(chunk))).scalars()]

    def documents(self, ids: Iterable[str]) -> list[Document]:
        return [d for chunk in _chunks(list(ids)) for d in self.repo.load(chunk)]


# -- review workspace ---------------------------------------------------------------------------
def _fact_value_of(row: Any) -> dict[str, Any]:
    """A fact as it stands now: the reviewer's version if any, else the proposal; with its span."""
    if row.current:
        return {"value": dict(row.current.get("value") or {}), "evidence": row.current.get("evidence")}
    return {"value": dict(row.value or {}), "evidence": _row_span(row)}


def _match_words(query: str) -> str:
    """An FTS5 MATCH expression from free text: every word must appear; "quoted phrases" kept.

    User text never reaches FTS5's query syntax (NEAR, column filters, operators) unquoted.
    """
    parts: list[str] = []
    for phrase, word in re.findall(r'"([^"]*)"|(\w+)', query):
        words = re.findall(r"\w+", phrase or word)
        if words:
            parts.append('"' + " ".join(words) + '"')
    return " ".join(parts)



class ReviewRepository:
    """Accounts, sessions, the review log, notes, case review status, search and summaries.

    Works on the caller's connection and transaction, like `Repository`.
    """

    def __init__(self, conn: Connection, keyring: sealing.Keyring | None = None) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name
        self.keyring = keyring

    # -- users --------------------------------------------------------------------------------
    def add_user(self, name: str, role: str, password_hash: str, created_by: str) -> int:
        return int(self.conn.execute(users.insert().values(
            name=name, role=role, password_hash=password_hash, disabled=False, created_at=evidence.utcnow(),
            created_by=created_by)).inserted_primary_key[0])

    def user(self, name: str | None = None, user_id: int | None = None) -> dict[str, Any] | None:
        q = select(users).where(users.c.name == name) if name is not None else select(users).where(users.c.id == user_id)
        r = self.conn.execute(q).first()
        return dict(r._mapping) if r else None

    def users(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(select(users.c.id, users.c.name, users.c.role, users.c.disabled, users.c.created_at,
                                        users.c.created_by).order_by(users.c.name))
        return [dict(r._mapping) for r in rows]

    def update_user(self, name: str, **values: Any) -> None:
        self.conn.execute(update(users).where(users.c.name == name).values(**values))

    # -- login throttle -----------------------------------------------------------------------
    def throttle(self, name: str) -> dict[str, Any] | None:
        r = self.conn.execute(select(login_throttle).where(login_throttle.c.name == name)).first()
        return dict(r._mapping) if r else None

    def record_failure(self, name: str, failures: int, at: datetime, locked_until: datetime | None) -> None:
        self.conn.execute(delete(login_throttle).where(login_throttle.c.name == name))
        self.conn.execute(login_throttle.insert().values(name=name, failures=failures, last_failure=at,
                                                         locked_until=locked_until))

    def clear_throttle(self, name: str) -> None:
        self.conn.execute(delete(login_throttle).where(login_throttle.c.name == name))

    # -- web sessions -------------------------------------------------------------------------
    def add_session(self, token_hash: str, user_id: int, csrf: str, created: datetime, expires: datetime) -> None:
        self.conn.execute(web_sessions.insert().values(token_hash=token_hash, user_id=user_id, csrf=csrf,
                                                       created_at=created, expires_at=expires))

    def session(self, token_hash: str, now: datetime) -> tuple[dict[str, Any], str] | None:
        """The live session's user and CSRF token (expired sessions and disabled users: None)."""
        q = (select(web_sessions.c.csrf, web_sessions.c.expires_at, users.c.id, users.c.name, users.c.role,
                    users.c.disabled)
             .join(users, users.c.id == web_sessions.c.user_id).where(web_sessions.c.token_hash == token_hash))
        r = self.conn.execute(q).first()
        if r is None or r.disabled or _utc(r.expires_at) <= now:
            return None
        return {"id": r.id, "name": r.name, "role": r.role}, r.csrf

    def end_sessions(self, token_hash: str | None = None, user_id: int | None = None,
                     expired_before: datetime | None = None) -> None:
        q = delete(web_sessions)
        if token_hash is not None:
            q = q.where(web_sessions.c.token_hash == token_hash)
        if user_id is not None:
            q = q.where(web_sessions.c.user_id == user_id)
        if expired_before is not None:
            q = q.where(web_sessions.c.expires_at <= expired_before)
        self.conn.execute(q)

    # -- API tokens ---------------------------------------------------------------------------
    def add_token(self, token_hash: str, user_id: int, name: str, created_by: str,
                  expires_at: datetime | None) -> int:
        return int(self.conn.execute(api_tokens.insert().values(
            token_hash=token_hash, user_id=user_id, name=name, created_at=evidence.utcnow(), created_by=created_by,
            expires_at=expires_at)).inserted_primary_key[0])

    def tokens(self, user_id: int | None = None) -> list[dict[str, Any]]:
        """Every token (never its hash) with its user's name, oldest first."""
        q = (select(api_tokens.c.id, api_tokens.c.name, api_tokens.c.created_at, api_tokens.c.created_by,
                    api_tokens.c.expires_at, api_tokens.c.revoked_at, api_tokens.c.revoked_by,
                    users.c.name.label("user"), users.c.role)
             .join(users, users.c.id == api_tokens.c.user_id).order_by(api_tokens.c.id))
        if user_id is not None:
            q = q.where(api_tokens.c.user_id == user_id)
        stamps = ("created_at", "expires_at", "revoked_at")
        return [{k: (_utc(v).isoformat() if k in stamps and v is not None else v) for k, v in r._mapping.items()}
                for r in self.conn.execute(q)]

    def token(self, token_id: int) -> dict[str, Any] | None:
        r = self.conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
        return dict(r._mapping) if r else None

    def revoke_token(self, token_id: int, by: str) -> None:
        self.conn.execute(update(api_tokens).where(api_tokens.c.id == token_id)
                          .values(revoked_at=evidence.utcnow(), revoked_by=by))

    def token_user(self, token_hash: str, now: datetime) -> tuple[dict[str, Any], int] | None:
        """The user a live token acts for, and the token's id (revoked, expired, disabled: None)."""
        q = (select(api_tokens.c.id.label("token_id"), api_tokens.c.expires_at, api_tokens.c.revoked_at,
                    users.c.id, users.c.name, users.c.role, users.c.disabled)
             .join(users, users.c.id == api_tokens.c.user_id).where(api_tokens.c.token_hash == token_hash))
        r = self.conn.execute(q).first()
        if r is None or r.disabled or r.revoked_at is not None or (r.expires_at and _utc(r.expires_at) <= now):
            return None
        return {"id": r.id, "name": r.name, "role": r.role}, int(r.token_id)

    # -- facts under review -------------------------------------------------------------------
    def fact(self, fact_id: int) -> dict[str, Any]:
        q = (select(facts, incidents.c.document_id, incidents.c.case_id)
             .join(incidents, incidents.c.id == facts.c.incident_id).where(facts.c.id == fact_id))
        r = self.conn.execute(q).first()
        if r is None:
            raise NotFoundError(f"no fact {fact_id} in the ledger", hint="reload the document page")
        return self._fact_dict(sealing.Opener(self.conn, self.keyring).refs([f"facts:{fact_id}"]).row("facts", r))

    def incident_facts_all(self, incident_id: str) -> list[dict[str, Any]]:
        """Every fact of one incident (rejected ones too), NotFoundError if there is no such incident."""
        self.incident_document(incident_id)
        q = (select(facts, incidents.c.document_id, incidents.c.case_id)
             .join(incidents, incidents.c.id == facts.c.incident_id).where(facts.c.incident_id == incident_id)
             .order_by(facts.c.kind, facts.c.seq, facts.c.id))
        return [self._fact_dict(r) for r in self.conn.execute(q)]

    def document_facts(self, doc_id: str) -> list[dict[str, Any]]:
        """Every fact of a document (rejected ones too), in incident order, for the review page."""
        q = (select(facts, incidents.c.document_id, incidents.c.case_id)
             .join(incidents, incidents.c.id == facts.c.incident_id).where(incidents.c.document_id == doc_id)
             .order_by(incidents.c.seq, facts.c.kind, facts.c.seq, facts.c.id))
        opener = sealing.Opener(self.conn, self.keyring).owners([sealing.document_owner(doc_id)])
        return [self._fact_dict(opener.row("facts", r)) for r in self.conn.execute(q)]

    @staticmethod
    def _fact_dict(r: Any) -> dict[str, Any]:
        now = _fact_value_of(r)
        return {"id": r.id, "incident_id": r.incident_id, "document_id": r.document_id, "case_id": r.case_id,
                "kind": r.kind, "seq": r.seq, "status": r.status, "value": now["value"], "evidence": now["evidence"],
                "proposal": {"value": dict(r.value or {}), "evidence": _row_span(r)}, "why": _row_why(r),
                "reviewed": r.current is not None}

    def set_fact(self, fact_id: int, status: str, current: dict[str, Any] | None = None) -> None:
        values: dict[str, Any] = {"status": status}
        if current is not None:
            values["current"] = current
        self.conn.execute(update(facts).where(facts.c.id == fact_id).values(**values))
        summary.refresh(self.conn, self.conn.execute(select(facts.c.incident_id).where(facts.c.id == fact_id)).scalars())

    def add_fact(self, incident_id: str, kind: str, value: dict[str, Any], span: Span, user: str) -> int:
        seq = self.conn.execute(select(func.coalesce(func.max(facts.c.seq), -1) + 1)
                                .where(facts.c.incident_id == incident_id, facts.c.kind == kind)).scalar()
        fact_id = int(self.conn.execute(facts.insert().values(
            incident_id=incident_id, kind=kind, seq=seq, value=value, **span_cols(span),
            component="review", rule="added-by-reviewer", detail=user, status="confirmed")).inserted_primary_key[0])
        summary.refresh(self.conn, [incident_id])
        return fact_id

    def set_incident_date(self, incident_id: str, value: dict[str, Any]) -> None:
        """Keep the incident's copy of its date (for sorting and filtering) in step with the fact."""
        def day(v: Any) -> date | None:
            return date.fromisoformat(v) if v else None
        self.conn.execute(update(incidents).where(incidents.c.id == incident_id).values(
            date_start=day(value.get("start")), date_end=day(value.get("end")),
            date_precision=value.get("precision") or "unknown"))
        summary.refresh(self.conn, [incident_id])

    def incident_document(self, incident_id: str) -> str:
        doc = self.conn.execute(select(incidents.c.document_id).where(incidents.c.id == incident_id)).scalar()
        if doc is None:
            raise NotFoundError(f"no incident {incident_id!r} in the ledger", hint="reload the document page")
        return str(doc)

    # -- review log, notes, case status -------------------------------------------------------
    def log(self, user: str, action: str, target_kind: str, target_id: str, *, document_id: str | None = None,
            old: Any = None, new: Any = None, at: datetime | None = None) -> None:
        self.conn.execute(review_log.insert().values(
            at=at or evidence.utcnow(), user_name=user, action=action, target_kind=target_kind,
            target_id=str(target_id), document_id=document_id, old=old, new=new))
        audit.append(self.conn, user, action, f"{target_kind}:{target_id}",
                     {"document_id": document_id, "old": old, "new": new}, at=at)

    def history(self, target_kind: str | None = None, target_id: str | None = None,
                document_id: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        q = select(review_log).order_by(review_log.c.id.desc()).limit(limit)
        if target_kind is not None:
            q = q.where(review_log.c.target_kind == target_kind)
        if target_id is not None:
            q = q.where(review_log.c.target_id == str(target_id))
        if document_id is not None:
            q = q.where(review_log.c.document_id == document_id)
        rows = self.conn.execute(q).all()
        opener = sealing.Opener(self.conn, self.keyring).refs(f"review_log:{r.id}" for r in rows if r.document_id)
        return [{**opener.row("review_log", r), "at": _utc(r.at).isoformat()} for r in rows]

    def add_note(self, target_kind: str, target_id: str, user: str, body: str) -> int:
        return int(self.conn.execute(notes.insert().values(
            target_kind=target_kind, target_id=target_id, user_name=user, at=evidence.utcnow(),
            body=body)).inserted_primary_key[0])

    def notes(self, target_kind: str, target_id: str) -> list[dict[str, Any]]:
        q = select(notes).where(notes.c.target_kind == target_kind, notes.c.target_id == target_id).order_by(notes.c.id)
        rows = self.conn.execute(q).all()
        opener = sealing.Opener(self.conn, self.keyring).refs(f"notes:{r.id}" for r in rows)
        out = []
        for r in rows:
            n = opener.row("notes", r)
            out.append({**n, "at": _utc(r.at).isoformat(), "confidential": f"notes:{r.id}" in opener.found,
                        "locked": n.locked, "body": sealing.LOCKED_NOTE if n.locked else n.body})
        return out

    def case_status(self, case_ids: Iterable[str]) -> dict[str, str]:
        """Review status per case id; cases nobody reviewed yet are "proposed"."""
        ids = sorted(set(case_ids))
        out = dict.fromkeys(ids, "proposed")
        for chunk in _chunks(ids):
            for r in self.conn.execute(select(case_reviews.c.case_id, case_reviews.c.status)
                                       .where(case_reviews.c.case_id.in_(chunk))):
                out[r.case_id] = r.status
        return out

    def set_case_status(self, case_id: str, status: str, user: str) -> None:
        self.conn.execute(delete(case_reviews).where(case_reviews.c.case_id == case_id))
        self.conn.execute(case_reviews.insert().values(case_id=case_id, status=status, user_name=user,
                                                       at=evidence.utcnow()))
        summary.refresh_links(self.conn, case_ids=[case_id])

    # -- search -------------------------------------------------------------------------------
    def _text_match(self, text: str) -> Any:
        """Document ids whose title, outlet or text match `text` (a subquery)."""
        if self.dialect == "postgresql":
            return select(documents.c.id).where(
                text_("documents.search_vector @@ websearch_to_tsquery('english', :q)").bindparams(q=text))
        fts = table_("documents_fts", column_("rowid"))
        return (select(documents.c.id).select_from(documents)
                .join(fts, fts.c.rowid == literal_column("documents.rowid"))
                .where(text_("documents_fts MATCH :q").bindparams(q=_match_words(text) or '""')))

    def refresh_case_types(self, case_id: str) -> None:
        """The case's violation types from its incidents' type facts as reviewed (rejected ones
        left out), in its row and its summary: the case list and page follow the review at once,
        while what linking decided (members, origins, status) stays until the next linking run."""
        code = self._fact_text("code")
        q = (select(code).select_from(facts.join(incidents, facts.c.incident_id == incidents.c.id))
             .where(incidents.c.case_id == case_id, facts.c.kind == "type", facts.c.status != "rejected").distinct())
        types = sorted({r[0] for r in self.conn.execute(q) if r[0]})
        row = self.conn.execute(select(cases.c.summary).where(cases.c.id == case_id)).first()
        if row is not None:
            summary = {**(row.summary or {}), "types": types}
            self.conn.execute(update(cases).where(cases.c.id == case_id).values(types=types, summary=summary))

    def _fact_text(self, key: str) -> Any:
        """A fact's current value[key] as text (the reviewer's version first)."""
        return fact_text(key, self.dialect)

    def _filtered(self, f: SearchFilters) -> Any:
        """Incident ids matching the filters (a subquery), read from the incident summary."""
        s = incident_summary
        # The columns facets count by come along, so counting never looks the rows up again.
        q = select(s.c.incident_id.label("id"), s.c.year, s.c.review_status, s.c.outlet, s.c.corroboration,
                   s.c.modality)
        if f.text:
            q = q.where(s.c.document_id.in_(self._text_match(f.text)))
        keyed = None  # the multi-valued filters narrow each other in the facet rows before any summary row is read
        for facet, wanted in (("type", f.types), ("province", f.provinces), ("county", f.counties)):
            if wanted:
                fs = incident_facets.alias(f"by_{facet}")
                sub = select(fs.c.incident_id).where(fs.c.facet == facet, fs.c.value.in_(wanted))
                keyed = sub if keyed is None else sub.where(fs.c.incident_id.in_(keyed))
        if keyed is not None:
            q = q.where(s.c.incident_id.in_(keyed))
        if f.date_from:
            q = q.where(func.coalesce(s.c.date_end, s.c.date_start) >= f.date_from)
        if f.date_to:
            q = q.where(s.c.date_start <= f.date_to)
        for col, wanted in ((s.c.review_status, f.statuses), (s.c.outlet, f.outlets),
                            (s.c.corroboration, f.corroboration), (s.c.modality, f.modalities),
                            (s.c.incident_id, f.incident_ids), (s.c.case_id, f.case_ids)):
            if wanted:
                q = q.where(col.in_(wanted))
        return q

    def search(self, f: SearchFilters, limit: int = 50, offset: int = 0, facets: bool = True) -> dict[str, Any]:
        """Matching incidents (a page, newest first) with facet counts over all matches (unless not
        asked for: then "facets" is empty).

        The matches are computed once per statement (a MATERIALIZED common table expression): the
        total and every facet come from one UNION ALL over it, the page from one more query.
        """
        s = incident_summary
        ids = self._filtered(f).cte("matched").prefix_with("MATERIALIZED")
        page_q = (select(s.c.incident_id.label("id"), s.c.document_id, s.c.case_id, s.c.modality,
                         s.c.date_start, s.c.date_end, s.c.date_precision,
                         documents.c.title, s.c.outlet, s.c.published, s.c.review_status, s.c.corroboration,
                         func.count().over().label("_total"))
                  .join(documents, documents.c.id == s.c.document_id)
                  .where(s.c.incident_id.in_(select(ids.c.id)))
                  .order_by(s.c.date_start.desc().nulls_last(), s.c.incident_id).limit(limit).offset(offset))
        rows = [dict(r._mapping) for r in self.conn.execute(page_q)] if limit else []
        counted = rows[0].pop("_total") if rows else None  # the window count: no second pass for the total
        for r in rows[1:]:
            del r["_total"]
        details = self.incident_facts([r["id"] for r in rows])
        for r in rows:
            r.update(details.get(r["id"], {"types": [], "places": [], "victims": []}))
        if facets:
            total, counts = self.facets(ids)
        elif counted is not None:
            total, counts = int(counted), {}
        else:
            total, counts = int(self.conn.execute(select(func.count()).select_from(ids)).scalar() or 0), {}
        return {"total": total, "rows": rows, "facets": counts}

    def incident_facts(self, incident_ids: Sequence[str]) -> dict[str, dict[str, list[Any]]]:
        """Types, places and victims (current values, rejected left out) of these incidents."""
        out: dict[str, dict[str, list[Any]]] = {i: {"types": [], "places": [], "victims": []} for i in incident_ids}
        for chunk in _chunks(list(incident_ids)):
            q = (select(facts).where(facts.c.incident_id.in_(chunk), facts.c.status != "rejected",
                                     facts.c.kind.in_(("type", "place", "victims")))
                 .order_by(facts.c.incident_id, facts.c.kind, facts.c.seq))
            for r in self.conn.execute(q):
                v = _fact_value_of(r)["value"]
                slot = out[r.incident_id]
                if r.kind == "type":
                    if v.get("code") not in slot["types"]:
                        slot["types"].append(v.get("code"))
                elif r.kind == "place":
                    slot["places"].append(v)
                else:
                    slot["victims"].append(v)
        return out

    def facets(self, ids: Any) -> tuple[int, dict[str, list[tuple[str, int]]]]:
        """How many incidents `ids` (a CTE of incident ids) holds, and counts of them per type,
        province, county, year, review status, outlet, corroboration and modality — one statement
        over the incident summary (its facet rows for the multi-valued three)."""
        fs = incident_facets
        # From the matches to their facet rows by primary key: `facet || ''` keeps SQLite from walking
        # the (facet, value) index over every incident instead when the matches are few.
        keyed = select().select_from(ids).join(fs, fs.c.incident_id == ids.c.id)
        branches = [select(literal("total").label("facet"), cast(None, String).label("k"),
                           func.count().label("n")).select_from(ids)]
        for name in ("type", "province", "county"):
            branches.append(keyed.add_columns(literal(name).label("facet"), fs.c.value.label("k"), func.count().label("n"))
                            .where(fs.c.facet.concat("") == name).group_by(fs.c.value))
        for name, col in (("year", ids.c.year), ("status", ids.c.review_status), ("outlet", ids.c.outlet),
                          ("corroboration", ids.c.corroboration), ("modality", ids.c.modality)):
            branches.append(select().select_from(ids).add_columns(literal(name).label("facet"), cast(col, String).label("k"),
                                                func.count().label("n")).group_by(col))
        out: dict[str, list[tuple[str, int]]] = {name: [] for name in
                                                 ("type", "province", "county", "year", "status", "outlet",
                                                  "corroboration", "modality")}
        total = 0
        for r in self.conn.execute(union_all(*branches)):
            if r.facet == "total":
                total = int(r.n)
            elif r.k is not None:
                out[r.facet].append((f"{int(r.k):04d}" if r.facet == "year" else str(r.k), int(r.n)))
        for name, pairs in out.items():
            pairs.sort(key=(lambda p: p[0]) if name == "year" else (lambda p: (-p[1], p[0])), reverse=name == "year")
        return total, out

    # -- map and timeline ---------------------------------------------------------------------
    def _fact_float(self, key: str) -> Any:
        """A fact's current value[key] as a number (the reviewer's version first)."""
        return cast(fact_text(key, self.dialect), Float)

    def map_points(self, f: SearchFilters, keys: Sequence[str]) -> list[tuple[Any, ...]]:
        """(incident, case, document, role, lat, lon, name) of every live place fact with
        coordinates of the matching incidents of these markers (case or incident ids), by incident
        and seq: a few markers' details (counting and clustering read the summary)."""
        ids = self._filtered(f).where(incident_summary.c.marker.in_(keys)).subquery()
        lat, lon = self._fact_float("lat"), self._fact_float("lon")
        q = (select(facts.c.incident_id, incidents.c.case_id, incidents.c.document_id, fact_text("role", self.dialect),
                    lat, lon, fact_text("name", self.dialect))
             .join(incidents, incidents.c.id == facts.c.incident_id)
             .where(facts.c.kind == "place", facts.c.incident_id.in_(select(ids.c.id)), facts.c.status != "rejected",
                    lat.is_not(None), lon.is_not(None))
             .order_by(facts.c.incident_id, facts.c.seq))
        return [tuple(r) for r in self.conn.execute(q)]

    def victim_counts(self, f: SearchFilters, keys: Sequence[str]) -> list[tuple[Any, ...]]:
        """(marker key, largest count, unit) of the matching incidents of these markers (case or
        incident ids) with a victim count."""
        s = incident_summary
        q = self._filtered(f).with_only_columns(s.c.marker, s.c.victims, s.c.victims_unit).where(
            s.c.marker.in_(keys), s.c.victims > 0)
        return [tuple(r) for r in self.conn.execute(q)]

    def map_summary(self, f: SearchFilters, bbox: tuple[float, float, float, float] | None,
                    size: float) -> tuple[int, list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The map's markers (one per case, or per incident outside any case, placed at its first
        located incident, with the largest victim count of its incidents), grouped in SQL into grid
        cells `size` degrees wide — one statement over the incident summary. Returns how many
        markers match in all; per cell inside `bbox` (south, west, north, east) the sums of lat and
        lon, the markers and their victims; per pair of distinct cells the origin→destination lines
        of those markers' incidents (sums of origin and destination lat/lon, count)."""
        s = incident_summary
        if f == SearchFilters():  # the whole map: where each marker sits is kept in the summary
            markers = (select(s.c.marker.label("key"), s.c.lat, s.c.lon,
                              func.coalesce(s.c.marker_victims, 0).label("victims"))
                       .where(s.c.marker_first).cte("markers").prefix_with("MATERIALIZED"))
        else:
            markers = self._markers(f)
        return self._map_groups(f, markers, bbox, size)

    def _markers(self, f: SearchFilters) -> Any:
        """The matches' markers (key, lat, lon, victims) grouped from their incidents (a CTE)."""
        s = incident_summary
        firsts = (self._filtered(f).with_only_columns(
            s.c.marker.label("key"), func.min(case_((s.c.lat.is_not(None), s.c.incident_id))).label("first_id"),
            func.max(s.c.victims).label("victims")).group_by(s.c.marker).subquery())
        markers = (select(firsts.c.key, s.c.lat, s.c.lon, func.coalesce(firsts.c.victims, 0).label("victims"))
                   .join(s, (s.c.marker == firsts.c.key) & (s.c.incident_id == firsts.c.first_id))
                   .cte("markers").prefix_with("MATERIALIZED"))
        return markers

    def _map_groups(self, f: SearchFilters, markers: Any, bbox: tuple[float, float, float, float] | None,
                    size: float) -> tuple[int, list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        s = incident_summary
        inside = select(markers).where(*_box(markers, bbox)).subquery()
        cy, cx = func.floor(inside.c.lat / size), func.floor(inside.c.lon / size)
        # `marker || ''`: a plain scan and one sort beat walking the marker index for every row.
        lines = self._filtered(f).with_only_columns(s.c.marker.concat("").label("key"), s.c.origin_lat, s.c.origin_lon, s.c.dest_lat,
                                                    s.c.dest_lon).where(s.c.origin_lat.is_not(None),
                                                                        s.c.dest_lat.is_not(None))
        if bbox is not None:
            lines = lines.where(s.c.marker.in_(select(inside.c.key)))
        ln = lines.distinct().subquery()
        a1, a2 = func.floor(ln.c.origin_lat / size), func.floor(ln.c.origin_lon / size)
        b1, b2 = func.floor(ln.c.dest_lat / size), func.floor(ln.c.dest_lon / size)
        none = cast(None, Float)
        parts = union_all(
            select(literal("total").label("part"), none, none, none, none, func.count().label("n"), none)
            .select_from(markers),
            select(literal("cell"), func.sum(inside.c.lat), func.sum(inside.c.lon), none, none, func.count(),
                   cast(func.sum(inside.c.victims), Float)).group_by(cy, cx),
            select(literal("line"), func.sum(ln.c.origin_lat), func.sum(ln.c.origin_lon), func.sum(ln.c.dest_lat),
                   func.sum(ln.c.dest_lon), func.count(), none).where(or_(a1 != b1, a2 != b2)).group_by(a1, a2, b1, b2))
        total, cells, flows = 0, [], []
        for r in self.conn.execute(parts):
            if r[0] == "total":
                total = int(r[5])
            elif r[0] == "cell":
                cells.append((r[1], r[2], r[5], r[6]))
            else:
                flows.append((r[1], r[2], r[3], r[4], r[5]))
        return total, cells, flows

    def map_keys(self, f: SearchFilters, bbox: tuple[float, float, float, float] | None) -> list[str]:
        """The markers (case or incident ids) inside `bbox`, when there are few enough to show."""
        s = incident_summary
        located = self._filtered(f).with_only_columns(s.c.marker).where(s.c.lat.is_not(None), *_box(s, bbox))
        return sorted(set(self.conn.execute(located).scalars()))

    def dated(self, f: SearchFilters) -> list[dict[str, Any]]:
        ids = self._filtered(f).subquery()
        q = (select(incidents.c.id, incidents.c.document_id, incidents.c.case_id, incidents.c.date_start,
                    incidents.c.date_end, incidents.c.date_precision)
             .where(incidents.c.id.in_(select(ids.c.id)), incidents.c.date_start.is_not(None))
             .order_by(incidents.c.date_start, incidents.c.id))
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def case_list(self, f: SearchFilters, limit: int, offset: int) -> dict[str, Any]:
        """Cases with an incident matching the filters (a page, newest event first) and their total."""
        ids = self._filtered(f).where(incident_summary.c.case_id.is_not(None)).subquery()
        case_ids = select(incidents.c.case_id).where(incidents.c.id.in_(select(ids.c.id))).distinct()
        total = self.conn.execute(select(func.count()).select_from(case_ids.subquery())).scalar() or 0
        rows = self._cases_by_date(cases.c.id.in_(case_ids), limit, offset)
        return {"total": int(total), "rows": rows}

    def _cases_by_date(self, where: Any, limit: int, offset: int = 0) -> list[dict[str, Any]]:
        q = (select(cases.c.id, cases.c.status, cases.c.types, cases.c.origin_count, cases.c.updated_at,
                    func.coalesce(case_reviews.c.status, "proposed").label("review_status"),
                    func.min(incidents.c.date_start).label("date_start"),
                    func.count(incidents.c.id).label("incidents"))
             .outerjoin(case_reviews, case_reviews.c.case_id == cases.c.id)
             .outerjoin(incidents, incidents.c.case_id == cases.c.id)
             .where(where)
             .group_by(cases.c.id, cases.c.status, cases.c.types, cases.c.origin_count, cases.c.updated_at,
                       case_reviews.c.status)
             .order_by(func.min(incidents.c.date_start).desc().nulls_last(), cases.c.id).limit(limit).offset(offset))
        return [dict(r._mapping) for r in self.conn.execute(q)]

    def case_count(self) -> int:
        """Incidents' distinct case ids (what `stats()["cases"]` counts, without its other work)."""
        return int(self.conn.execute(select(func.count(func.distinct(incidents.c.case_id)))).scalar() or 0)

    def recent_cases(self, limit: int = 10) -> list[dict[str, Any]]:
        s = incident_summary
        newest = (select(s.c.case_id).where(s.c.corroboration.is_not(None)).group_by(s.c.case_id)
                  .order_by(func.min(s.c.date_start).desc().nulls_last(), s.c.case_id).limit(limit))
        return self._cases_by_date(cases.c.id.in_(list(self.conn.execute(newest).scalars())), limit)


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """What a search or a map/timeline view is narrowed to; empty means everything."""

    text: str = ""
    types: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    counties: tuple[str, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    statuses: tuple[str, ...] = ()
    outlets: tuple[str, ...] = ()
    corroboration: tuple[str, ...] = ()
    modalities: tuple[str, ...] = ()
    incident_ids: tuple[str, ...] = ()  # only these incidents (the API's one-incident view)
    case_ids: tuple[str, ...] = ()  # only incidents of these cases (a case's own map)
