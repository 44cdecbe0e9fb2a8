"""The only domain SQL: model objects in, model objects out.

A `Repository` works on one connection inside one transaction (handed out by
`Database.read()` / `Database.write()`); whoever opened the transaction decides when it commits.
Facts are stored one row each, keeping the proposal (value, span, component, rule, detail) and a
review `status`; documents are rebuilt from those rows with the model's `from_dict` helpers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import Connection, func, select

from rightsledger import evidence
from rightsledger.errors import NotFoundError
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
from rightsledger.store.schema import citations, custody, documents, facts, incidents, originals

MIN_PREFIX = 4  # shortest document id prefix accepted by `resolve`
_BATCH = 200


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _span_cols(span: Span | None) -> dict[str, Any]:
    if span is None:
        return {"span_start": None, "span_end": None, "span_text": None}
    return {"span_start": span.start, "span_end": span.end, "span_text": span.text}


def _why_cols(why: Why | None) -> dict[str, Any]:
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
                     **_span_cols(span), **_why_cols(why)})

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
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

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
        data = self.conn.execute(select(originals.c.content).where(originals.c.sha256 == sha256)).scalar()
        if data is None:
            raise NotFoundError(f"no original with SHA-256 {sha256}", hint="see `rightsledger list`")
        return evidence.check(sha256, bytes(data))

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
        if doc.cites:
            self.conn.execute(citations.insert(), [{
                "document_id": doc.id, "seq": n, "outlet": c.outlet,
                **_span_cols(c.evidence), **_why_cols(c.why)} for n, c in enumerate(doc.cites)])

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

    def summaries(self) -> list[dict[str, Any]]:
        """One row per document for listings: id, outlet, published, title, url and incident counts."""
        counts = (select(incidents.c.document_id, incidents.c.modality, func.count().label("n"))
                  .group_by(incidents.c.document_id, incidents.c.modality))
        per_doc: dict[str, Counter[str]] = defaultdict(Counter)
        for r in self.conn.execute(counts):
            per_doc[r.document_id][r.modality] += r.n
        q = (select(documents.c.id, documents.c.outlet, documents.c.published, documents.c.title,
                    documents.c.url, documents.c.language, documents.c.created_at, documents.c.duplicate_of)
             .order_by(documents.c.created_at, documents.c.id))
        out = []
        for r in self.conn.execute(q):
            c = per_doc.get(r.id, Counter())
            out.append({"id": r.id, "outlet": r.outlet, "published": r.published.isoformat() if r.published else None,
                        "title": r.title, "url": r.url, "language": r.language,
                        "duplicate_of": r.duplicate_of, "incidents": c.get("asserted", 0),
                        "unconfirmed": sum(c.values()) - c.get("asserted", 0)})
        return out

    def document_ids(self) -> list[str]:
        return list(self.conn.execute(select(documents.c.id).order_by(documents.c.created_at, documents.c.id)).scalars())

    def load(self, ids: Sequence[str]) -> list[Document]:
        """Rebuild documents (with incidents, facts and citations) in the order of `ids`.

        Facts a reviewer rejected are left out; every other fact is returned as proposed.
        """
        if not ids:
            return []
        docs: dict[str, Document] = {}
        for r in self.conn.execute(select(documents).where(documents.c.id.in_(ids))):
            docs[r.id] = Document(id=r.id, text=r.text, sha256=r.sha256, url=r.url, outlet=r.outlet, title=r.title,
                                  published=r.published, language=r.language, duplicate_of=r.duplicate_of)
        by_id: dict[str, Incident] = {}
        q = select(incidents).where(incidents.c.document_id.in_(ids)).order_by(incidents.c.document_id, incidents.c.seq)
        for r in self.conn.execute(q):
            inc = Incident(id=r.id, modality=r.modality, case_id=r.case_id,
                           evidence=[Span.from_dict(s) for s in (r.evidence or [])])  # type: ignore[misc]
            by_id[r.id] = inc
            docs[r.document_id].incidents.append(inc)
        if by_id:
            q = (select(facts).join(incidents, incidents.c.id == facts.c.incident_id)
                 .where(incidents.c.document_id.in_(ids), facts.c.status != "rejected")
                 .order_by(facts.c.incident_id, facts.c.kind, facts.c.seq))
            for r in self.conn.execute(q):
                _apply_fact(by_id[r.incident_id], r)
        q = select(citations).where(citations.c.document_id.in_(ids)).order_by(citations.c.document_id, citations.c.seq)
        for r in self.conn.execute(q):
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
        media_type, size = self.conn.execute(
            select(originals.c.media_type, originals.c.size).where(originals.c.sha256 == r.sha256)).one()
        return {"source_text": r.source_text, "offsets": r.offsets, "removed": r.removed, "extractor": r.extractor,
                "created_at": _utc(r.created_at).isoformat(), "media_type": media_type, "size": size}

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
