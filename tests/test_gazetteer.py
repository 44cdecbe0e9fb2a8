"""Gazetteer index, lookup, user additions and the packaged North Korea pack."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from rightsledger.gazetteer import Gazetteer, load_gazetteer
from rightsledger.gazetteer import build as gbuild
from rightsledger.gazetteer import index as gindex
from rightsledger.resources import data_file


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return load_gazetteer()


def test_gazetteer_pack_is_up_to_date() -> None:
    assert gbuild.main(["--check"]) == 0


def test_gazetteer_pack_has_every_unit() -> None:
    pack = json.loads(data_file("gazetteer", "kp_pack.json").read_text(encoding="utf-8"))
    levels = [e["level"] for e in pack["entries"]]
    assert levels.count("province") == 13
    ids = [e["id"] for e in pack["entries"]]
    assert len(ids) == len(set(ids))
    counties = [e for e in pack["entries"] if e["id"].startswith("kp:county:")]
    assert len(counties) == 202
    assert all(e["parents"] and e["province"] for e in counties)


def test_gazetteer_lookup_spellings_of_one_county(gaz: Gazetteer) -> None:
    for name in ("Sinkye", "Sin'gye", "Singye", "Sin-gye-gun", "신계군", "Sinkye county"):
        assert gaz.lookup(name, {"country": "KP"})[0].gazetteer_id == "kp:county:singye", name


def test_gazetteer_lookup_level_hint_picks_county_or_town(gaz: Gazetteer) -> None:
    assert gaz.lookup("Musan")[0].gazetteer_id == "kp:town:musan"
    assert gaz.lookup("Musan county")[0].gazetteer_id == "kp:county:musan"
    assert gaz.lookup("Musan", {"level": "county"})[0].gazetteer_id == "kp:county:musan"


def test_gazetteer_lookup_containment_and_focus(gaz: Gazetteer) -> None:
    # Unsan is a county in both South and North Pyongan
    south = gaz.lookup("Unsan county", {"within": ["South Pyongan"]})[0]
    north = gaz.lookup("Unsan county", {"within": ["North Pyongan"]})[0]
    assert (south.province, north.province) == ("South Pyongan", "North Pyongan")
    assert gaz.lookup("Kangwon", {"country": "KP"})[0].country == "KP"
    assert gaz.lookup("Gangwon Province", {"country": "KR"})[0].country == "KR"


def test_gazetteer_global_places(gaz: Gazetteer) -> None:
    for name, cc in (("Dandong", "CN"), ("Yanji", "CN"), ("Shenyang", "CN"), ("Vladivostok", "RU"), ("Seoul", "KR"), ("China", "CN")):
        assert gaz.lookup(name)[0].country == cc, name
    assert gaz.lookup("Liaoning Province")[0].level == "province"
    assert gaz.lookup("DPRK")[0].name == "North Korea"


def test_gazetteer_candidate_chain(gaz: Gazetteer) -> None:
    c = gaz.lookup("Hyesan")[0]
    assert (c.level, c.province, c.county, c.country) == ("city", "Ryanggang", "Hyesan", "KP")
    assert "kp:province:ryanggang" in c.parents


def test_gazetteer_lookup_is_fast(gaz: Gazetteer) -> None:
    gaz.lookup("Chaeryong")
    t0 = time.perf_counter()
    for _ in range(1000):
        gaz.lookup("Chaeryong")
    assert (time.perf_counter() - t0) / 1000 < 0.002  # ~6 µs when the machine is idle


def test_gazetteer_near_spellings(gaz: Gazetteer) -> None:
    # Korean names compare by spelling key, so a romanisation variant plus one slip still meets.
    found = gaz.near_spellings("Hyeisan", ["KP"], ["city"])
    assert found and all(d == 1 for _, d in found) and {c.name for c, _ in found} == {"Hyesan"}
    assert [c.name for c, _ in gaz.near_spellings("Shenyangg", ["CN"], ["city"])] == ["Shenyang"]
    assert gaz.near_spellings("Shenyangg", ["CN"], ["province"]) == []  # levels filter
    assert gaz.near_spellings("Shenyangg", ["KP"], ["city"]) == []  # only the countries asked about
    assert gaz.near_spellings("Musal", ["KP"], ["city", "county"]) == []  # under six letters: never guessed


def test_gazetteer_near_spellings_see_user_additions(tmp_path: Path) -> None:
    f = tmp_path / "extra.toml"
    f.write_text('[[place]]\nname = "Qorvelmist"\nlevel = "city"\nlat = 41.0\nlon = 129.0\ncountry = "KP"\n', encoding="utf-8")
    g = load_gazetteer(f)
    assert g.near_spellings("Qorvelmistt", ["KP"], ["city"])[0][0].name == "Qorvelmist"
    g.add_place("Brenvalcourt", level="city", lat=41.1, lon=129.1, country="KP")
    assert g.near_spellings("Brenvalcoart", ["KP"], ["city"])[0][0].name == "Brenvalcourt"


def test_gazetteer_user_additions_csv(tmp_path: Path) -> None:
    f = tmp_path / "extra.csv"
    f.write_text(
        "name,level,lat,lon,country,province,county,aliases,alias_of\n"
        "Tokdong-ri,village,38.21,125.72,KP,South Hwanghae,Sinwon,Tokdong|Toktong,\n"
        "Sinkye Town,,,,,,,,kp:county:singye\n",
        encoding="utf-8",
    )
    g = load_gazetteer(f)
    c = g.lookup("Toktong village")[0]
    assert (c.name, c.level, c.county, c.source) == ("Tokdong-ri", "village", "Sinwon", "user")
    assert g.lookup("Sinkye Town")[0].gazetteer_id == "kp:county:singye"


def test_gazetteer_user_additions_toml_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "extra.toml"
    f.write_text('[[place]]\nname = "Camp Hillside"\nlevel = "facility"\nlat = 41.0\nlon = 129.0\ncountry = "KP"\n', encoding="utf-8")
    monkeypatch.setenv("RIGHTSLEDGER_GAZETTEER_EXTRA", str(f))
    load_gazetteer.cache_clear()
    try:
        assert load_gazetteer().lookup("Camp Hillside")[0].level == "facility"
    finally:
        load_gazetteer.cache_clear()


def test_gazetteer_user_additions_bad_file(tmp_path: Path) -> None:
    from rightsledger.errors import DataFileError

    with pytest.raises(DataFileError):
        load_gazetteer(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("place,lat\nX,1\n", encoding="utf-8")
    with pytest.raises(DataFileError):
        load_gazetteer(bad)


@pytest.fixture()
def small_index(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """build_index replaced by a tiny real index (no GeoNames), counting builds."""
    calls: list[int] = []
    towns = gindex._Towns(base=1)
    towns.append(1871859, "Testtown", 38.5, 125.5, 1200, "KR")
    towns.freeze()
    rich = {0: ("country:KP", "North Korea", "country", 40.3, 127.5, "KP", None, None, 0, (), gindex.SRC_COUNTRY)}

    def build() -> gindex.Index:
        calls.append(1)
        return gindex.Index(dict(rich), towns, {"north korea": 0, "testtown": 1}, {}, 2)

    monkeypatch.setattr(gindex, "build_index", build)
    return calls


def test_gazetteer_cache_location_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(gindex.CACHE_ENV, raising=False)
    assert gindex.cache_dir() == tmp_path / "xdg" / "rightsledger"
    monkeypatch.setenv(gindex.CACHE_ENV, str(tmp_path / "own"))
    assert gindex.cache_dir() == tmp_path / "own"


def test_gazetteer_cache_written_once_then_reused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_index: list[int]) -> None:
    monkeypatch.setenv(gindex.CACHE_ENV, str(tmp_path))
    (tmp_path / "gazetteer-0000.marshal").write_bytes(b"old version")
    first = gindex.load_index()
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [gindex.cache_path().name]  # no temp file left, the stale version removed
    second = gindex.load_index()
    assert small_index == [1]
    assert second.entry(1) == first.entry(1) == ("geonames:1871859", "Testtown", "city", 38.5, 125.5, "KR", None, None, 1200, ("country:KR",), "geonames")
    assert second.number("geonames:1871859") == 1 and second.fold_postings("testtown") == (1,)


def test_gazetteer_cache_damaged_file_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_index: list[int]) -> None:
    monkeypatch.setenv(gindex.CACHE_ENV, str(tmp_path))
    gindex.load_index()
    path = gindex.cache_path()
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])  # as if another process had been caught mid-write
    idx = gindex.load_index()
    assert small_index == [1, 1] and idx.number("country:KP") == 0
    assert path.read_bytes() == blob


def test_gazetteer_cache_write_failure_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_index: list[int]) -> None:
    monkeypatch.setenv(gindex.CACHE_ENV, str(tmp_path))

    def broken_replace(src: str, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(gindex.os, "replace", broken_replace)
    idx = gindex.load_index()  # falls back to memory
    assert idx.number("country:KP") == 0
    assert list(tmp_path.iterdir()) == []


def test_gazetteer_cache_unwritable_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small_index: list[int]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv(gindex.CACHE_ENV, str(blocker / "sub"))  # under a file: the cache dir cannot be made
    idx = gindex.load_index()
    assert small_index == [1] and idx.number("country:KP") == 0
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(0o500)
    try:
        monkeypatch.setenv(gindex.CACHE_ENV, str(readonly))
        if os.access(readonly, os.W_OK):  # running as root: permissions do not bind, simulate instead
            monkeypatch.setattr(gindex.tempfile, "mkstemp", lambda **_: (_ for _ in ()).throw(PermissionError("read-only")))
        assert gindex.load_index().number("country:KP") == 0
        assert small_index == [1, 1] and list(readonly.iterdir()) == []
    finally:
        readonly.chmod(0o700)


def test_gazetteer_streamed_cities_match_json(tmp_path: Path) -> None:
    rows = {str(i): {"geonameid": i, "name": f"Town {i}", "alternatenames": ["x" * (i * 50)], "population": i} for i in range(1, 60)}
    f = tmp_path / "cities.json"
    f.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    assert list(gindex._iter_json_values(f, chunk=256)) == list(rows.values())  # records longer than a chunk too
    f.write_text(json.dumps(rows)[:-40], encoding="utf-8")
    with pytest.raises(ValueError):
        list(gindex._iter_json_values(f, chunk=256))
