"""GeoJSON: a FeatureCollection with one Point per incident place that has coordinates.

Properties are the incident's flat fields (as in the CSV) plus the place's own; places the
gazetteer could not locate have no geometry and are left out (they are in the JSONL and CSV).
Features are written as they are produced, so large ledgers export in constant memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO, Any

from rightsledger.export.tabular import incident_row
from rightsledger.model import Document


def features(docs: Iterable[Document]) -> Iterator[dict[str, Any]]:
    for doc in docs:
        for inc in doc.incidents:
            props = incident_row(doc, inc)
            for n, p in enumerate(inc.places, 1):
                if p.lat is None or p.lon is None:
                    continue
                yield {
                    "type": "Feature",
                    "id": f"{inc.id}-p{n}",
                    "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                    "properties": {
                        **props,
                        "place_name": p.name,
                        "place_role": p.role,
                        "place_level": p.level,
                        "gazetteer_id": p.gazetteer_id,
                        "county": p.county,
                        "province": p.province,
                        "country": p.country,
                        "place_evidence": p.evidence.text if p.evidence else None,
                        "place_start": p.evidence.start if p.evidence else None,
                        "place_end": p.evidence.end if p.evidence else None,
                    },
                }


def write(docs: Iterable[Document], out: IO[str]) -> int:
    out.write('{"type": "FeatureCollection", "features": [')
    n = 0
    for feature in features(docs):
        out.write(("\n" if n == 0 else ",\n") + json.dumps(feature, ensure_ascii=False))
        n += 1
    out.write("\n]}\n")
    return n
