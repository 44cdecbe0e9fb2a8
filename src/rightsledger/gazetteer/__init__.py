"""Gazetteer: `lookup(name, context) -> candidates` over GeoNames + the North Korea pack + user places.

`load_gazetteer()` returns a cached `Gazetteer`. A lookup folds the name (normalise.py), collects every
entry sharing its key, and scores them with reasons: name form, administrative level hint, the country
in focus, containment ("within" a named county or province), nearby places, and a population prior.
The geoparser (extract/places.py) passes the document's context; callers without one get the prior.
Entry numbers per name and the document-independent part of each score are memoised, so the
geoparser's repeated questions about the same few names cost a dictionary lookup.
"""

from __future__ import annotations

import csv
import logging
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from rightsledger.errors import DataFileError
from rightsledger.gazetteer import index as _ix
from rightsledger.gazetteer.normalise import fold, korean_key, split_suffix
from rightsledger.resources import load_toml

__all__ = ["Candidate", "Gazetteer", "load_gazetteer", "EXTRA_ENV", "distance_km"]

log = logging.getLogger(__name__)

EXTRA_ENV = "RIGHTSLEDGER_GAZETTEER_EXTRA"


@dataclass(frozen=True, slots=True)
class Candidate:
    gazetteer_id: str  # e.g. "kp:county:singye" or "geonames:1871859"
    name: str  # canonical English name ("Singye", "Pyongyang", "South Hwanghae")
    level: str  # country|province|county|city|village|facility
    lat: float | None
    lon: float | None
    country: str | None  # ISO 3166-1 alpha-2, e.g. "KP"
    province: str | None  # canonical English province name, e.g. "South Hwanghae"
    county: str | None = None  # containing county (for towns, villages, facilities)
    population: int = 0
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    parents: tuple[str, ...] = ()  # gazetteer ids of the containing county, province, country
    source: str = ""  # kp | geonames | country | region | user

    @property
    def country_name(self) -> str | None:
        return self.extra.get("country_name")


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    la1, lo1, la2, lo2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(h)))


def _nearest_km(lat: float, lon: float, points: Iterable[tuple[float, float]]) -> float:
    """Equirectangular distance to the nearest point: within 1% of great-circle at the few hundred km
    that matter here, and cheap, as it runs for every candidate of every ambiguous mention."""
    cos, rad, hypot = math.cos, math.radians, math.hypot
    return min(111.2 * hypot(lat - p0, ((lon - p1 + 180.0) % 360.0 - 180.0) * cos(rad((lat + p0) / 2))) for p0, p1 in points)


@lru_cache(maxsize=4096)
def _population_prior(population: int) -> float:
    return min(math.log10(population + 1) / 7, 1.0)


# Which level a bare name most likely means when nothing else says ("Hyesan" is the city, not Hyesan-si).
_BARE_LEVEL_PRIOR = {"country": 1.2, "city": 0.6, "province": 0.45, "county": 0.4, "village": 0.2, "facility": 0.0}
_MEMO_LIMIT = 50_000  # names and (entry, name) scores remembered; cleared when full
_SOURCE_PRIOR = {_ix.SRC_USER: 1.0, _ix.SRC_KP: 0.5, _ix.SRC_COUNTRY: 0.5, _ix.SRC_REGION: 0.3, _ix.SRC_GEONAMES: 0.0}


class Gazetteer:
    """Name index plus scoring. Build with `load_gazetteer()`; add places with `add_place()`."""

    def __init__(self, idx: _ix.Index) -> None:
        self._idx = idx
        self._cands: dict[int, Candidate] = {}
        self._numbers: dict[str, tuple[list[int], list[int]]] = {}  # name as written -> entry_numbers()
        self._static: dict[tuple[str, bool, str | None, str | None], tuple[float, list[str], Candidate]] = {}
        self._near: Any = None  # fuzzy.NearSpellings, built on the first unresolved name
        self._country_names = {e[_ix.COUNTRY]: e[_ix.NAME] for _, e in idx.entries() if e[_ix.LEVEL] == "country" and e[_ix.SOURCE] == _ix.SRC_COUNTRY}

    # -- raw access -------------------------------------------------------------------------
    @property
    def max_words(self) -> int:
        return self._idx.max_words

    def has_fold_key(self, key: str) -> bool:
        return key in self._idx.by_fold

    def candidate(self, n: int) -> Candidate:
        c = self._cands.get(n)
        if c is None:
            e = self._idx.entry(n)
            c = Candidate(
                gazetteer_id=e[_ix.ID], name=e[_ix.NAME], level=e[_ix.LEVEL], lat=e[_ix.LAT], lon=e[_ix.LON],
                country=e[_ix.COUNTRY], province=e[_ix.PROVINCE], county=e[_ix.COUNTY], population=e[_ix.POPULATION],
                extra={"country_name": self._country_names.get(e[_ix.COUNTRY])}, parents=tuple(e[_ix.PARENTS]), source=e[_ix.SOURCE],
            )
            self._cands[n] = c
        return c

    def get(self, gazetteer_id: str) -> Candidate | None:
        n = self._idx.number(gazetteer_id)
        return None if n is None else self.candidate(n)

    def entry_numbers(self, name: str) -> tuple[list[int], list[int]]:
        """Entries whose name folds to the same key, and those that only share the Korean spelling key.

        Memoised per name as written (the geoparser asks for the same few names over and over);
        callers must not modify the returned lists."""
        hit = self._numbers.get(name)
        if hit is None:
            if len(self._numbers) >= _MEMO_LIMIT:
                self._numbers.clear()
            hit = self._numbers[name] = self._entry_numbers(name)
        return hit

    def _entry_numbers(self, name: str) -> tuple[list[int], list[int]]:
        idx = self._idx
        if name.isascii() and name.isalpha():  # one plain word: no suffix to split off
            exact = list(idx.fold_postings(fold(name)))
            return exact, [n for n in idx.korean_postings(korean_key(name)) if n not in exact]
        base, hint = split_suffix(name)
        exact: list[int] = []
        for form in (name, base) if hint else (name,):
            for n in idx.fold_postings(fold(form)):
                if n not in exact:
                    exact.append(n)
        variant = [n for n in idx.korean_postings(korean_key(base)) if n not in exact]
        return exact, variant

    # -- lookup -----------------------------------------------------------------------------
    def lookup(self, name: str, context: dict[str, Any] | None = None) -> list[Candidate]:
        """Candidates for a name as written, best first. See `scored` for the context keys."""
        return [c for c, _, _ in self.scored(name, context)]

    def scored(self, name: str, context: dict[str, Any] | None = None) -> list[tuple[Candidate, float, list[str]]]:
        """(candidate, score, reasons), best first.

        context keys (all optional): "level" (hint from a suffix), "country" (ISO code in focus),
        "within" (gazetteer ids or canonical names of a containing place), "near" (list of (lat, lon)
        of places resolved nearby in the text), "provinces" (province names the text mentions).
        """
        ctx = context or {}
        exact, variant = self.entry_numbers(name)
        hint = ctx.get("level") or split_suffix(name)[1]
        out = []
        for n in exact + variant:
            c = self.candidate(n)
            s, why = self._score(c, n in exact, hint, ctx, name)
            out.append((c, s, why))
        out.sort(key=lambda t: -t[1])
        return out

    def _score(self, c: Candidate, exact: bool, hint: str | None, ctx: dict[str, Any], name: str | None = None) -> tuple[float, list[str]]:
        s, why = self._static_score(c, exact, hint, name)
        why = list(why)
        focus = ctx.get("country")
        if focus and c.country == focus:
            s += 1.5
            why.append(f"context: country in focus {focus}")
        within = ctx.get("within") or ()
        if within:
            hit = next((w for w in within if w in c.parents or w == c.province or w == c.county), None)
            if hit:
                s += 3.0
                why.append(f"containment: in {hit}")
            else:
                s -= 0.5
        provinces = ctx.get("provinces") or ()
        if c.province and c.province in provinces and c.level != "province":
            s += 0.8
            why.append(f"context: {c.province} named in the text")
        near = ctx.get("near") or ()
        if near and c.lat is not None and c.lon is not None:
            d = _nearest_km(c.lat, c.lon, near)
            if d < 300:
                s += 1.0 * (1 - d / 300)
                why.append(f"context: {d:.0f} km from a place named nearby")
        if c.population:
            s += _population_prior(c.population)
            why.append(f"prior: population {c.population}")
        return round(s, 3), why

    def _static_score(self, c: Candidate, exact: bool, hint: str | None, name: str | None) -> tuple[float, list[str]]:
        """The part of the score that does not depend on the document: name form, level, source.

        Added first, in the same order as ever, so memoising it does not change a single score."""
        key = (c.gazetteer_id, exact, hint, name)
        hit = self._static.get(key)
        if hit is not None and hit[2] is c:
            return hit[0], hit[1]
        why: list[str] = []
        s = 1.0 if exact else 0.7
        why.append("name: exact" if exact else "name: spelling variant")
        if name is not None:
            main = fold(c.name) == fold(split_suffix(name)[0])
            if c.source == _ix.SRC_GEONAMES:
                s += 0.8 if main else 0.0
                why.append("name: main GeoNames name" if main else "name: GeoNames alternate name")
            elif main:
                s += 0.8
                why.append("name: canonical form")
        if hint:
            if c.level == hint:
                s += 2.0
                why.append(f"level: {hint} as written")
            elif hint == "county" and c.level == "city" and c.source == _ix.SRC_KP and c.gazetteer_id.startswith("kp:county:"):
                s += 1.5  # "Hyesan county" for Hyesan-si: same unit
                why.append("level: county-level city")
            else:
                s -= 2.0
                why.append(f"level: {c.level}, text says {hint}")
        else:
            s += _BARE_LEVEL_PRIOR.get(c.level, 0.0)
        s += _SOURCE_PRIOR.get(c.source, 0.0)
        if len(self._static) >= _MEMO_LIMIT:
            self._static.clear()
        self._static[key] = (s, why, c)
        return s, why

    def near_spellings(self, name: str, countries: Iterable[str], levels: Iterable[str]) -> list[tuple[Candidate, int]]:
        """Entries of these levels in these countries whose name is one letter away from `name`
        (names of six letters or more; see gazetteer/fuzzy.py), fewest edits first. Only for names
        already known to be places that no entry matched."""
        if self._near is None:
            from rightsledger.gazetteer.fuzzy import NearSpellings

            self._near = NearSpellings(self._idx)
        want = set(levels)
        out = [(self.candidate(n), d) for n, d in self._near.find(name, list(dict.fromkeys(countries)))]
        return sorted([(c, d) for c, d in out if c.level in want], key=lambda t: t[1])

    # -- user additions ---------------------------------------------------------------------
    def add_place(self, name: str, *, level: str, lat: float | None = None, lon: float | None = None, country: str | None = None,
                  province: str | None = None, county: str | None = None, population: int = 0, aliases: Iterable[str] = (),
                  gazetteer_id: str | None = None) -> Candidate:
        """Add a place (or, with an existing `gazetteer_id` and no level change, aliases for it)."""
        idx = self._idx
        n = idx.number(gazetteer_id) if gazetteer_id else None
        if n is None:
            gid = gazetteer_id or f"user:{fold(name).replace(' ', '-')}"
            parents = tuple(p for p in (f"country:{country}" if country else None,) if p)
            n = idx.add((gid, name, level, lat, lon, country, province, county, int(population or 0), parents, _ix.SRC_USER))
        korean = idx.entry(n)[_ix.COUNTRY] in ("KP", "KR")
        for nm in [name, *aliases]:
            idx.add_name(n, nm, korean)
        self._cands.pop(n, None)
        self._numbers.clear()
        self._near = None
        return self.candidate(n)

    def load_extra(self, path: Path) -> int:
        """Load a user file of places and aliases (CSV or TOML, format in docs); returns rows added."""
        rows = _read_extra(path)
        for i, r in enumerate(rows, 1):
            try:
                self.add_place(
                    r.get("name") or "", level=r.get("level") or "village",
                    lat=_num(r.get("lat")), lon=_num(r.get("lon")), country=r.get("country") or None,
                    province=r.get("province") or None, county=r.get("county") or None,
                    population=int(_num(r.get("population")) or 0), aliases=_aliases(r.get("aliases")),
                    gazetteer_id=r.get("id") or r.get("alias_of") or None,
                )
            except (TypeError, ValueError) as exc:
                raise DataFileError(f"{path}: row {i}: {exc}", hint="fix the row (name, level, lat, lon, country, aliases)") from exc
        return len(rows)


def _num(v: Any) -> float | None:
    if v is None or v == "":
        return None
    return float(v)


def _aliases(v: Any) -> list[str]:
    if not v:
        return []
    if isinstance(v, str):
        return [a.strip() for a in v.split("|") if a.strip()]
    return [str(a) for a in v]


def _read_extra(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise DataFileError(f"gazetteer additions file not found: {path}", hint=f"check the path or unset {EXTRA_ENV}")
    if path.suffix.lower() == ".toml":
        data = load_toml(path)
        rows = data.get("place", [])
        if not isinstance(rows, list):
            raise DataFileError(f"{path}: expected [[place]] tables", hint="see the gazetteer additions format in the docs")
        return rows
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataFileError(f"cannot read {path}: {exc}", hint="save it as UTF-8 CSV with a header row") from exc
    if rows and "name" not in rows[0]:
        raise DataFileError(f"{path}: no 'name' column", hint="header: name,level,lat,lon,country,province,county,aliases,alias_of")
    return rows


@lru_cache(maxsize=4)
def load_gazetteer(extra: Path | str | None = None) -> Gazetteer:
    """The shared gazetteer; user additions from `extra` or $RIGHTSLEDGER_GAZETTEER_EXTRA on top."""
    gaz = Gazetteer(_ix.load_index())
    path = extra or os.environ.get(EXTRA_ENV)
    if path:
        n = gaz.load_extra(Path(path))
        log.info("loaded %d gazetteer additions from %s", n, path)
    return gaz
