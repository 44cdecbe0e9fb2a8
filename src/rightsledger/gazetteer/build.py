"""Rebuild the packaged North Korea pack (data/gazetteer/kp_pack.json) from the carried-in reference TSVs.

Run `python -m rightsledger.gazetteer.build` after editing data/gazetteer/reference/*.tsv or
kp_curation.toml; `--check` exits 1 when the packaged file is out of date (for CI).
The pack is plain JSON so a reviewer can diff it; the runtime index is built from it (gazetteer/index.py).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import sys
from pathlib import Path
from typing import Any

from rightsledger.gazetteer.normalise import fold, is_hangul
from rightsledger.resources import data_file, load_toml

log = logging.getLogger(__name__)

PACK_FORMAT = 1
REFERENCE_FILES = ("provinces.tsv", "counties.tsv", "towns.tsv", "facilities.tsv")
COUNTY_LEVEL = {"gun": "county", "kuyok": "county", "other": "county", "si": "city"}
TOWN_LEVEL = {"city": "city", "town": "city", "up": "city", "ri": "village", "dong": "village", "rodongjagu": "village"}
_SUFFIXES = ("-guyŏk", "-guyok", "-gun", "-si", "-ŭp", "-up", "-chigu", "-gu", "-ri", "-ni", "-li", "-dong", "-tong")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


def _slug(name: str) -> str:
    return fold(name).replace(" ", "-")


def _usable(variant: str, dropped: set[str]) -> bool:
    """Latin or Hangul names only: Hanja, Cyrillic and Japanese forms never occur in English reports."""
    v = variant.strip()
    if not v or v in dropped or "(" in v:
        return False
    return all(c.isascii() or is_hangul(c) or "\u00c0" <= c <= "\u024f" or c in "’‘" for c in v)


def _names(row: dict[str, str], fields: tuple[str, ...], extra: list[str], drops: dict[str, set[str]]) -> list[str]:
    dropped = drops["all"] | drops.get(row.get("name_mr") or row.get("name") or "", set())
    seen: dict[str, str] = {}
    for f in fields:
        for v in (row.get(f) or "").split("|"):
            if _usable(v, dropped):
                seen.setdefault(v.strip().casefold(), v.strip())
    for v in extra:
        seen.setdefault(v.casefold(), v)
    return list(seen.values())


def _plain(name: str) -> str:
    for suf in _SUFFIXES:
        if name.endswith(suf):
            return name[: -len(suf)]
    return name


def build_pack(ref_dir: Path, curation: dict[str, Any]) -> dict[str, Any]:
    """The pack as a dict: {"format", "source_sha256", "entries": [...]}, entries in file order."""
    news: dict[str, list[str]] = curation.get("news_spellings", {})
    dropped = {k: set(v) for k, v in curation.get("drop_variants", {}).items()}
    dropped.setdefault("all", set())
    canonical: dict[str, str] = curation.get("canonical", {})
    digest = hashlib.sha256()
    for name in REFERENCE_FILES:
        digest.update((ref_dir / name).read_bytes())

    entries: list[dict[str, Any]] = []
    used_ids: set[str] = set()

    def new_id(kind: str, name: str, code: str) -> str:
        gid = f"kp:{kind}:{_slug(name)}"
        if gid in used_ids:
            gid = f"{gid}-{code.split('-')[-1]}"
        used_ids.add(gid)
        return gid

    provinces: dict[str, dict[str, Any]] = {}
    for r in _rows(ref_dir / "provinces.tsv"):
        e = {
            "id": new_id("province", r["name_en"], r["code"]), "name": r["name_en"], "level": "province",
            "lat": float(r["lat"]), "lon": float(r["lon"]), "province": r["name_en"], "county": None,
            "iso": r["code"], "kind": "province", "population": 0, "parents": [],
            "names": _names(r, ("name_en", "name_mr", "variants", "name_rr", "hangul"), news.get(r["code"], []), dropped),
        }
        provinces[r["code"]] = e
        entries.append(e)

    counties: dict[str, dict[str, Any]] = {}
    for r in _rows(ref_dir / "counties.tsv"):
        prov = provinces[r["province_code"]]
        name = canonical.get(r["name_mr"], r["name_plain"])
        e = {
            "id": new_id("county", name, r["province_code"]), "name": name, "level": COUNTY_LEVEL[r["type"]],
            "lat": float(r["lat"]), "lon": float(r["lon"]), "province": prov["name"], "county": None,
            "kind": r["type"], "population": 0, "parents": [prov["id"]],
            "geonames_id": int(r["geonames_id"]) if r.get("geonames_id") else None,
            "names": _names(r, ("name_mr", "name_plain", "variants", "name_rr", "hangul"), news.get(r["name_mr"], []) + ([name] if name != r["name_plain"] else []), dropped),
        }
        counties[r["name_mr"]] = e
        entries.append(e)

    for r in _rows(ref_dir / "towns.tsv"):
        prov = provinces[r["province_code"]]
        county = counties.get(r["county_mr"])
        name = canonical.get(r["name_mr"], _plain(r["name_plain"]))
        if r["type"] in ("ri", "dong", "rodongjagu"):
            name = r["name_plain"]  # keep "Ayang-ni": the suffix is part of how villages are named
        e = {
            "id": new_id("town" if TOWN_LEVEL[r["type"]] == "city" else "village", name, r["province_code"]),
            "name": name, "level": TOWN_LEVEL[r["type"]],
            "lat": float(r["lat"]), "lon": float(r["lon"]), "province": prov["name"],
            "county": county["name"] if county else None, "kind": r["type"],
            "population": int(r["population"] or 0),
            "parents": ([county["id"]] if county else []) + [prov["id"]],
            "geonames_id": int(r["geonames_id"]) if r.get("geonames_id") else None,
            "names": _names(r, ("name_mr", "name_plain", "variants", "name_rr", "hangul"), news.get(r["name_mr"], []), dropped),
        }
        entries.append(e)

    for r in _rows(ref_dir / "facilities.tsv"):
        prov = provinces[r["province_code"]]
        county = counties.get(r["county_mr"])
        e = {
            "id": new_id("facility", r["name_plain"], r["province_code"]), "name": r["name_plain"], "level": "facility",
            "lat": float(r["lat"]) if r["lat"] else None, "lon": float(r["lon"]) if r["lon"] else None,
            "province": prov["name"], "county": county["name"] if county else None, "kind": r["facility_type"],
            "population": 0, "parents": ([county["id"]] if county else []) + [prov["id"]],
            "coord_precision": r.get("coord_precision") or None,
            "names": _names(r, ("name", "name_plain", "variants", "hangul"), news.get(r["name"], []), dropped),
        }
        entries.append(e)
    return {"format": PACK_FORMAT, "source_sha256": digest.hexdigest(), "entries": entries}


def pack_path() -> Path:
    return Path(str(data_file("gazetteer", "kp_pack.json")))


def render(pack: dict[str, Any]) -> str:
    """One entry per line: small diffs when a reference row changes."""
    lines = [f'{{"format": {pack["format"]}, "source_sha256": "{pack["source_sha256"]}", "entries": [']
    lines += [json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "," for e in pack["entries"]]
    lines[-1] = lines[-1].rstrip(",")
    lines.append("]}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rightsledger.gazetteer.build", description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, default=Path(str(data_file("gazetteer", "reference"))))
    ap.add_argument("--out", type=Path, default=None, help="where to write (default: the packaged kp_pack.json)")
    ap.add_argument("--check", action="store_true", help="exit 1 if the packaged pack differs from a rebuild")
    args = ap.parse_args(argv)
    curation = load_toml(data_file("gazetteer", "kp_curation.toml"))
    text = render(build_pack(args.reference, curation))
    out = args.out or pack_path()
    if args.check:
        same = out.exists() and out.read_text(encoding="utf-8") == text
        sys.stderr.write(("up to date: " if same else "out of date, run without --check: ") + f"{out}\n")
        return 0 if same else 1
    out.write_text(text, encoding="utf-8")
    sys.stderr.write(f"wrote {out} ({text.count(chr(10)) - 2} entries)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
