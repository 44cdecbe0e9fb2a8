"""Gazetteer: lookup(name, context) -> candidates, over GeoNames + the North Korea pack + user places.

STUB (to be replaced by the gazetteer work). Interface other stages rely on:
`load_gazetteer()` returns a cached `Gazetteer`; `Gazetteer.lookup(name, context=None)` returns
`list[Candidate]`, best first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any


@dataclass(frozen=True, slots=True)
class Candidate:
    gazetteer_id: str  # e.g. "kp:county:singye" or "geonames:1871859"
    name: str  # canonical English name ("Sinkye"/"Singye" as chosen by the pack; "Pyongyang")
    level: str  # country|province|county|city|village|facility
    lat: float | None
    lon: float | None
    country: str | None  # ISO 3166-1 alpha-2, e.g. "KP"
    province: str | None  # canonical English province name, e.g. "South Hwanghae"
    county: str | None = None  # containing county (for towns, villages, facilities)
    population: int = 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


class Gazetteer:
    def lookup(self, name: str, context: dict[str, Any] | None = None) -> list[Candidate]:
        return []


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    return Gazetteer()
