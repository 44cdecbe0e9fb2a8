"""CSV: one row per incident, with its lists flattened into readable cells.

Cells that a spreadsheet would run as a formula (starting with = + - @) get a leading
apostrophe: reports are hostile input, and analysts open these files in spreadsheets.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import IO, Any

from rightsledger.model import Document, Incident, Place, Victims

COLUMNS = (
    "document_id", "url", "outlet", "published", "title",
    "incident_id", "case_id", "modality", "types",
    "date_start", "date_end", "date_precision", "date_text",
    "places", "victims", "victim_count", "perpetrators", "sources", "evidence",
)
SEP = "; "


def _coord(value: float | None) -> str:
    return "" if value is None else f"{value:.5f}"


def place_label(p: Place) -> str:
    """"name (role, level, lat, lon)"; without the coordinates when the place has none."""
    coords = f", {_coord(p.lat)}, {_coord(p.lon)}" if p.lat is not None and p.lon is not None else ""
    return f"{p.name} ({p.role}, {p.level}{coords})"


def victims_label(v: Victims) -> str:
    count = "unknown number of" if v.count is None else ("about " if v.approximate else "") + str(v.count)
    label = f"{count} {v.unit}"
    return f"{label}: {v.description}" if v.description else label


def incident_row(doc: Document, inc: Incident) -> dict[str, Any]:
    """An incident as flat fields (also the properties of each GeoJSON feature)."""
    counts = [v.count for v in inc.victims if v.count is not None and v.unit == "persons"]
    return {
        "document_id": doc.id,
        "url": doc.url,
        "outlet": doc.outlet,
        "published": doc.published.isoformat() if doc.published else None,
        "title": doc.title,
        "incident_id": inc.id,
        "case_id": inc.case_id,
        "modality": inc.modality,
        "types": ";".join(inc.types),
        "date_start": inc.date.start.isoformat() if inc.date.start else None,
        "date_end": inc.date.end.isoformat() if inc.date.end else None,
        "date_precision": inc.date.precision,
        "date_text": inc.date.text,
        "places": SEP.join(place_label(p) for p in inc.places),
        "victims": SEP.join(victims_label(v) for v in inc.victims),
        "victim_count": sum(counts) if counts else None,  # persons only; families are not summed
        "perpetrators": SEP.join(f"{a.name} ({a.kind})" for a in inc.perpetrators),
        "sources": SEP.join(f"{a.name} ({a.kind})" for a in inc.sources),
        "evidence": " … ".join(s.text for s in inc.evidence),
    }


def rows(docs: Iterable[Document]) -> Iterator[dict[str, Any]]:
    for doc in docs:
        for inc in doc.incidents:
            yield incident_row(doc, inc)


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write(docs: Iterable[Document], out: IO[str]) -> int:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in rows(docs):
        writer.writerow({k: safe_cell(v) for k, v in row.items()})
        n += 1
    return n
