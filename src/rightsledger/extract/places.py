"""Geoparser component: toponyms in clean text, resolved against the gazetteer.

STUB (to be replaced by the gazetteer work). Interface the incident assembler and the CLI rely on:
`find_toponyms(text, gazetteer=None) -> list[Toponym]`, in text order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rightsledger.gazetteer import Candidate, Gazetteer
from rightsledger.model import Place, Span, Why


@dataclass(slots=True)
class Toponym:
    span: Span  # the name as written, e.g. "Ryongwol village"
    level: str  # from the gazetteer entry, or from the suffix when unresolved
    chosen: Candidate | None
    candidates: list[tuple[Candidate, float]] = field(default_factory=list)  # scored, best first
    cue_role: str = "site"  # "origin" after "from", "destination" after "to/into/moved down to", else "site"
    why: Why | None = None

    def to_json(self) -> dict[str, Any]:
        c = self.chosen
        return {
            "start": self.span.start,
            "end": self.span.end,
            "name": self.span.text,
            "resolved": c.name if c else None,
            "level": self.level,
            "lat": c.lat if c else None,
            "lon": c.lon if c else None,
            "gazetteer_id": c.gazetteer_id if c else None,
            "country": c.country if c else None,
        }

    def to_place(self, role: str = "site") -> Place:
        c = self.chosen
        return Place(
            name=c.name if c else self.span.text,
            level=self.level,
            evidence=self.span,
            role=role,
            lat=c.lat if c else None,
            lon=c.lon if c else None,
            gazetteer_id=c.gazetteer_id if c else None,
            province=c.province if c else None,
            country=c.country if c else None,
            county=c.county if c else None,
            why=self.why,
        )


def find_toponyms(text: str, gazetteer: Gazetteer | None = None) -> list[Toponym]:
    return []
