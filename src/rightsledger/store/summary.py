"""The per-incident summary (`incident_summary`, `incident_facets`): kept in step with the facts.

Search filters, facet counts, the dashboard and the map read these plain, indexed columns; the
facts (JSON values) stay authoritative. `refresh` recomputes an incident's rows from its live
facts (a reviewer's version first, rejected facts left out), its dates, document, case and case
review status; `refresh_links` only the case-derived columns, after linking or a case review.
Every store-layer write path that changes one of those calls one of them in its own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, case, delete, func, or_, select, update

from rightsledger.store.session import serialize
from rightsledger.store.schema import (
    case_reviews,
    cases,
    documents,
    facts,
    incident_facets,
    incident_summary,
    incidents,
)

_CHUNK = 500
_KINDS = ("type", "place", "victims")


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _current(row: Any) -> dict[str, Any]:
    """A fact's value as it stands: the reviewer's version if any, else the proposal."""
    if row.current:
        return dict(row.current.get("value") or {})
    return dict(row.value or {})


def _number(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _text(v: Any) -> str | None:
    return None if v is None or v == "" else str(v)


def county_of(place: dict[str, Any]) -> str | None:
    """The county a place names: its `county`, or its own name when it is a county."""
    return _text(place.get("county")) or (_text(place.get("name")) if place.get("level") == "county" else None)


def compute(conn: Connection, incident_ids: Iterable[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The summary rows and facet rows of these incidents, recomputed from the facts."""
    ids = sorted(set(incident_ids))
    rows: list[dict[str, Any]] = []
    facet_rows: list[dict[str, Any]] = []
    for chunk in _chunks(ids):
        live: dict[str, dict[str, list[dict[str, Any]]]] = {i: {k: [] for k in _KINDS} for i in chunk}
        q = (select(facts.c.incident_id, facts.c.kind, facts.c.value, facts.c.current)
             .where(facts.c.incident_id.in_(chunk), facts.c.status != "rejected", facts.c.kind.in_(_KINDS))
             .order_by(facts.c.incident_id, facts.c.kind, facts.c.seq, facts.c.id))
        for r in conn.execute(q):
            live[r.incident_id][r.kind].append(_current(r))
        q = (select(incidents.c.id, incidents.c.document_id, incidents.c.case_id, incidents.c.modality,
                    incidents.c.date_start, incidents.c.date_end, incidents.c.date_precision,
                    documents.c.outlet, documents.c.published, cases.c.status.label("corroboration"),
                    func.coalesce(case_reviews.c.status, "proposed").label("review_status"))
             .join(documents, documents.c.id == incidents.c.document_id)
             .outerjoin(cases, cases.c.id == incidents.c.case_id)
             .outerjoin(case_reviews, case_reviews.c.case_id == incidents.c.case_id)
             .where(incidents.c.id.in_(chunk)).order_by(incidents.c.id))
        for r in conn.execute(q):
            row, keys = _summarise(r, live[r.id])
            rows.append(row)
            facet_rows += [{"incident_id": r.id, "facet": f, "value": v} for f, v in keys]
    return rows, facet_rows


def _summarise(inc: Any, live: dict[str, list[dict[str, Any]]]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    keys: dict[tuple[str, str], None] = {}
    codes = [c for c in (_text(t.get("code")) for t in live["type"]) if c]
    keys.update(dict.fromkeys(("type", c) for c in codes))
    located = []
    for p in live["place"]:
        province, county = _text(p.get("province")), county_of(p)
        if province:
            keys[("province", province)] = None
        if county:
            keys[("county", county)] = None
        lat, lon = _number(p.get("lat")), _number(p.get("lon"))
        if lat is not None and lon is not None:
            located.append((p, lat, lon))

    def first(role: str) -> tuple[dict[str, Any], float, float] | None:
        return next((x for x in located if x[0].get("role") == role), None)

    where = first("destination") or first("site") or (located[0] if located else None)
    origin, dest = first("origin"), first("destination")
    victims, unit = None, None
    for v in live["victims"]:
        n = _number(v.get("count"))
        if n is not None and n > 0 and n > (victims or 0):
            victims, unit = int(n), _text(v.get("unit"))
    place = where[0] if where else {}
    row = {
        "incident_id": inc.id, "document_id": inc.document_id, "case_id": inc.case_id,
        "marker": inc.case_id or inc.id, "marker_first": False, "marker_victims": None, "modality": inc.modality,
        "outlet": inc.outlet, "published": inc.published, "first_type": codes[0] if codes else None,
        "province": _text(place.get("province")), "county": county_of(place) if place else None,
        "place": _text(place.get("name")), "lat": where[1] if where else None, "lon": where[2] if where else None,
        "origin_lat": origin[1] if origin else None, "origin_lon": origin[2] if origin else None,
        "dest_lat": dest[1] if dest else None, "dest_lon": dest[2] if dest else None,
        "date_start": inc.date_start, "date_end": inc.date_end, "date_precision": inc.date_precision,
        "year": inc.date_start.year if inc.date_start else None, "victims": victims, "victims_unit": unit,
        "review_status": inc.review_status, "corroboration": inc.corroboration,
    }
    return row, list(keys)


def refresh(conn: Connection, incident_ids: Iterable[str]) -> None:
    """Rewrite the summary rows of these incidents from their facts (in the caller's transaction)."""
    serialize(conn, "incident summary")
    ids = sorted(set(incident_ids))
    for chunk in _chunks(ids):
        markers = _markers_of(conn, chunk)
        conn.execute(delete(incident_facets).where(incident_facets.c.incident_id.in_(chunk)))
        conn.execute(delete(incident_summary).where(incident_summary.c.incident_id.in_(chunk)))
        rows, facet_rows = compute(conn, chunk)
        if rows:
            conn.execute(incident_summary.insert(), rows)
        if facet_rows:
            conn.execute(incident_facets.insert(), facet_rows)
        refresh_markers(conn, markers | {r["marker"] for r in rows})


def refresh_all(conn: Connection, chunk: int = 5000) -> int:
    """Rebuild every incident's summary (the migration's backfill); how many incidents."""
    ids = list(conn.execute(select(incidents.c.id).order_by(incidents.c.id)).scalars())
    for part in _chunks(ids, chunk):
        refresh(conn, part)
    return len(ids)


def refresh_links(conn: Connection, incident_ids: Iterable[str] = (), case_ids: Iterable[str] = ()) -> None:
    """Re-read case id, corroboration and review status for these incidents and the members of
    these cases (after linking assigned case ids or a case's review status changed)."""
    serialize(conn, "incident summary")
    s = incident_summary
    case_id = (select(incidents.c.case_id).where(incidents.c.id == s.c.incident_id)
               .correlate(s).scalar_subquery())
    values = {
        "case_id": case_id,
        "marker": func.coalesce(case_id, s.c.incident_id),
        "corroboration": select(cases.c.status).where(cases.c.id == case_id).scalar_subquery(),
        "review_status": func.coalesce(select(case_reviews.c.status).where(case_reviews.c.case_id == case_id)
                                       .scalar_subquery(), "proposed"),
    }
    for chunk in _chunks(sorted(set(incident_ids))):
        markers = _markers_of(conn, chunk)
        conn.execute(update(s).where(s.c.incident_id.in_(chunk)).values(values))
        refresh_markers(conn, markers | _markers_of(conn, chunk))
    for chunk in _chunks(sorted(set(case_ids))):
        members = select(incidents.c.id).where(incidents.c.case_id.in_(chunk))
        where = or_(s.c.case_id.in_(chunk), s.c.incident_id.in_(members))
        markers = set(conn.execute(select(s.c.marker).where(where)).scalars())
        conn.execute(update(s).where(where).values(values))
        refresh_markers(conn, markers | set(conn.execute(select(s.c.marker).where(where)).scalars()))


def _markers_of(conn: Connection, incident_ids: Sequence[str]) -> set[str]:
    s = incident_summary
    return set(conn.execute(select(s.c.marker).where(s.c.incident_id.in_(incident_ids))).scalars())


def refresh_markers(conn: Connection, markers: Iterable[str]) -> None:
    """Recompute where these map markers sit and their largest victim count."""
    s, other = incident_summary, incident_summary.alias("other")
    first = (select(func.min(other.c.incident_id)).where(other.c.marker == s.c.marker, other.c.lat.is_not(None))
             .correlate(s).scalar_subquery())
    top = select(func.max(other.c.victims)).where(other.c.marker == s.c.marker).correlate(s).scalar_subquery()
    for chunk in _chunks(sorted(set(markers))):
        conn.execute(update(s).where(s.c.marker.in_(chunk)).values(
            marker_first=case((s.c.incident_id == first, True), else_=False), marker_victims=top))
