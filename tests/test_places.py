"""Geoparser behaviour from the case files tests/cases/places*.json (format in tests/cases/README.md)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rightsledger.extract import places
from rightsledger.extract.places import Toponym, explain_toponyms, find_toponyms
from rightsledger.gazetteer import distance_km, load_gazetteer
from folding import texts_of

CASES_DIR = Path(__file__).parent / "cases"


def _cases() -> list:
    out = []
    for f in sorted(CASES_DIR.glob("places*.json")):
        for c in json.loads(f.read_text(encoding="utf-8"))["cases"]:
            marks = [pytest.mark.xfail(strict=True)] if c.get("expect") == "fail" else []
            out.append(pytest.param(c, id=f"{f.stem}:{c['label']}", marks=marks))
    return out


def _check(t: Toponym, want: dict) -> list[str]:
    problems = []
    c = t.chosen
    if "resolved" in want and (c.name if c else None) != want["resolved"]:
        problems.append(f"resolved {c.name if c else None!r}, want {want['resolved']!r}")
    if "level" in want and t.level != want["level"]:
        problems.append(f"level {t.level!r}, want {want['level']!r}")
    if "role" in want and t.cue_role != want["role"]:
        problems.append(f"role {t.cue_role!r}, want {want['role']!r}")
    if "country" in want and (c.country if c else None) != want["country"]:
        problems.append(f"country {c.country if c else None!r}, want {want['country']!r}")
    if "gazetteer_id" in want and (c.gazetteer_id if c else None) != want["gazetteer_id"]:
        problems.append(f"id {c.gazetteer_id if c else None!r}, want {want['gazetteer_id']!r}")
    if "county" in want and t.county != want["county"]:
        problems.append(f"county {t.county!r}, want {want['county']!r}")
    if "lat" in want:
        if c is None or c.lat is None:
            problems.append("no coordinates")
        else:
            d = distance_km((c.lat, c.lon), (want["lat"], want["lon"]))
            if d > want.get("within_km", 20):
                problems.append(f"{c.name} ({c.gazetteer_id}) is {d:.0f} km away")
    return problems


@pytest.mark.parametrize("case", _cases())
def test_places_case(case: dict) -> None:
    found = find_toponyms(case["text"])
    by_name: dict[str, list[Toponym]] = {}
    for t in found:
        by_name.setdefault(t.span.text, []).append(t)
    problems = []
    for want in case["toponyms"]:
        ts = by_name.get(want["name"])
        if not ts:
            problems.append(f"{want['name']!r} not found (found: {[t.span.text for t in found]})")
            continue
        errs = _check(ts.pop(0), want)
        problems += [f"{want['name']!r}: {e}" for e in errs]
    if case.get("only"):
        extra = [t.span.text for ts in by_name.values() for t in ts]
        if extra:
            problems.append(f"unexpected toponyms {extra}")
    assert not problems, "; ".join(problems)


def test_places_spans_index_the_text() -> None:
    text = "Families from Hyesan were sent to Kapsan county, Ryanggang Province."
    for t in find_toponyms(text):
        assert text[t.span.start:t.span.end] == t.span.text


def test_places_to_json_shape() -> None:
    t = find_toponyms("He was born in Sariwon.")[0]
    assert t.to_json() == {
        "start": 15, "end": 22, "name": "Sariwon", "resolved": "Sariwon", "level": "city",
        "lat": t.chosen.lat, "lon": t.chosen.lon, "gazetteer_id": t.chosen.gazetteer_id, "country": "KP",
    }


def test_places_to_place_keeps_unresolved_village_with_county() -> None:
    t = next(t for t in find_toponyms("Two families were moved to Songdu village in Unryul county.") if t.chosen is None)
    p = t.to_place("destination")
    assert (p.name, p.level, p.lat, p.county, p.province, p.country) == ("Songdu", "village", None, "Unryul", "South Hwanghae", "KP")
    assert p.evidence.text == "Songdu village" and p.why is not None


def test_places_explain_lists_scored_candidates() -> None:
    rows = explain_toponyms("Officials in Sinchon county, South Hwanghae, said so.")
    first = rows[0]
    assert first["resolved"] == "Sinchon" and first["candidates"]
    top = first["candidates"][0]
    assert top["score"] >= max(c["score"] for c in first["candidates"])
    assert any(r.startswith("containment") for r in top["reasons"])


def test_places_empty_and_hostile_input() -> None:
    assert find_toponyms("") == []
    assert find_toponyms("no capitals here at all") == []
    weird = "\u0000\ufeffŎ'-'- ’s 's -gun 군 " * 50 + "Ａ" * 100
    find_toponyms(weird)


def test_places_long_text_is_linear() -> None:
    gaz = load_gazetteer()
    para = "In June, 30 families from Pyongyang were moved to villages in Sinwon county, South Hwanghae. " * 30
    find_toponyms(para, gaz)
    t0 = time.perf_counter()
    find_toponyms(para, gaz)
    small = time.perf_counter() - t0
    t0 = time.perf_counter()
    find_toponyms(para * 20, gaz)
    big = time.perf_counter() - t0
    assert big < small * 60 + 0.2  # 20x the text; generous for a loaded machine, fails on quadratic work


def test_places_near_spelling_is_explained() -> None:
    t = find_toponyms("Nine households were expelled from Hyeisan City in Ryanggang Province.")[0]
    assert t.chosen is not None and t.chosen.name == "Hyesan"
    assert t.why is not None and t.why.rule == "gazetteer+near-spelling"
    assert "read as Hyesan" in t.why.detail and "Ryanggang" in t.why.detail


def test_places_curated_news_spelling() -> None:
    t = find_toponyms("Six families were expelled from Haesan in May.")[0]
    assert t.chosen is not None and t.chosen.gazetteer_id.startswith("kp:") and t.chosen.name == "Hyesan"
    assert t.why is not None and t.why.rule == "gazetteer"



def test_places_gap_between_names_is_read_only_as_far_as_a_joining_phrase_reaches() -> None:
    """The gap between two names is compared with joining and containment phrases; a gap of
    more words than any phrase is not normalised in full (names far apart join nothing)."""
    from rightsledger.extract.places import _between, _lexicon, _Mention

    lex = _lexicon()

    def gap(middle: str) -> str:
        text = "Alpha" + middle + "Beta"
        return _between(text, _Mention(0, 5, 0, 0, "Alpha", None), _Mention(len(text) - 4, len(text), 1, 1, "Beta", None), lex)

    assert gap(" ,\n  IN   the\tRemote ") == ", in the remote"
    assert gap(" on the outskirts of ") == "on the outskirts of" and "on the outskirts of" in lex.containment
    assert gap(" and then, much later, the report moved on to ") == "…"
    assert all(len(p.split()) < lex.gap_words for p in lex.containment | lex.list_joiners)
    listed = find_toponyms("Families were sent to Ryongwol village and\n   Changgom village in Sinwon county.")
    assert [t.span.text for t in listed] == ["Ryongwol village", "Changgom village", "Sinwon county"]
    assert [t.container.name if t.container else None for t in listed[:2]] == ["Sinwon", "Sinwon"]


_CAP_PIECES = st.lists(st.sampled_from(
    ["A", "Z", "a", "z", "É", "é", "Ā", "ſ", "K", "İ", "ı", "Ω", "Я", "한", "9", "_", "'", "’", "-", " ", "\n", ".", "(", "Kim"]),
    max_size=12).map("".join)


def _plain_tokens(text: str) -> tuple[list[tuple[int, int, str]], list[bool]]:
    """`places._tokens` as first written: Unicode patterns for every text, the gap read off the offsets."""
    token_gap = re.compile(rf"({places._TOKEN_RE})(?:[\W_]{{1,3}}(?=[^\W_]))?")
    out: list[tuple[int, int, str]] = []
    caps: list[bool] = []
    cap = places._CAP_RE.search(text)
    while cap is not None:
        start, lower_run = cap.start(), 0
        for m in token_gap.finditer(text, start):
            s, e, w = places._token(*m.span(1), m.group(1))
            is_cap = w[0].isupper() or places.is_hangul(w[0])
            out.append((s, e, w))
            caps.append(is_cap)
            if is_cap or w[0].isdigit():
                lower_run = 0
            else:
                lower_run += 1
                if lower_run > 1 or not w.islower():
                    break
            if m.end() == m.end(1):
                break
        cap = places._CAP_RE.search(text, max(out[-1][1] + 1, start + 1))
    return out, caps


_TOKEN_PIECES = ["Kim", "Sin", "gye", "ri", "of", "the", "A", "9", "-", "‐", "'", "’", "'s", " ", "  ", ", ", ". ", "_", "\n"]


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.lists(st.sampled_from(_TOKEN_PIECES), max_size=14).map("".join),
                 texts_of([*_TOKEN_PIECES, "É", "é", "Ā", "Я", "한", "²"])))
def test_tokens_are_those_of_the_plain_unicode_patterns(text):
    """ASCII texts are read with ASCII patterns: the same tokens as the Unicode ones."""
    assert places._tokens(text) == _plain_tokens(text)


@settings(max_examples=500, deadline=None)
@given(_CAP_PIECES, st.integers(min_value=0, max_value=14))
def test_capital_search_finds_what_the_lookbehind_first_pattern_finds(text, pos):
    plain = re.compile(r"(?<![\w'’])" + places._CAPITALS)
    found, expected = places._CAP_RE.search(text, pos), plain.search(text, pos)
    assert (found.span() if found else None) == (expected.span() if expected else None)
    assert [m.span() for m in places._CAP_RE.finditer(text, pos)] == [m.span() for m in plain.finditer(text, pos)]
