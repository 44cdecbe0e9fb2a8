"""Date expressions resolved against the publication date, from tests/cases/dates.json (invented texts)."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from folding import spans, texts_of
from rightsledger.extract.dates import find_dates
from rightsledger.model import DATE_PRECISIONS

CASES = json.loads((Path(__file__).parent / "cases" / "dates.json").read_text())["cases"]


def _check(case: dict) -> list[str]:
    published = date.fromisoformat(case["published"]) if case.get("published") else None
    found = find_dates(case["text"], published)
    by_text = {d.span.text: d for d in found}
    problems = []
    for want in case["dates"]:
        got = by_text.get(want["text"])
        if got is None:
            problems.append(f"missing {want['text']!r} (found {sorted(by_text)})")
            continue
        for key in ("start", "end", "precision"):
            if key in want:
                value = getattr(got.value, key)
                value = value.isoformat() if isinstance(value, date) else value
                if value != want[key]:
                    problems.append(f"{want['text']!r}: {key} {value} != {want[key]}")
    if case.get("only") and len(found) != len(case["dates"]):
        problems.append(f"unexpected dates {[d.span.text for d in found]}")
    return problems


@pytest.mark.parametrize("case", CASES, ids=[c["label"] for c in CASES])
def test_dates_case(case):
    problems = _check(case)
    if case["expect"] == "fail":
        assert problems, f"known failure now passes: {case['label']}: set expect to pass"
    else:
        assert not problems, problems


def test_dates_spans_and_explanations_are_exact():
    text = "Witnesses said that on the 17th, and again in June, guards beat them."
    for d in find_dates(text, date(2022, 8, 20)):
        assert text[d.span.start : d.span.end] == d.span.text == d.value.text
        assert d.value.evidence == d.span
        assert d.value.why is not None and d.value.why.component == "dates.v1" and d.value.why.rule
        assert d.value.precision in DATE_PRECISIONS
        assert d.relative


def test_dates_relative_resolution_uses_only_publication_date():
    text = "Last month twelve people vanished."
    a = find_dates(text, date(2010, 3, 5))[0].value
    b = find_dates(text, date(2021, 1, 9))[0].value
    assert (a.start, a.end) == (date(2010, 2, 1), date(2010, 2, 28))
    assert (b.start, b.end) == (date(2020, 12, 1), date(2020, 12, 31))
    assert find_dates(text, None)[0].value.precision == "unknown"


def test_dates_month_names_need_capitals():
    assert find_dates("More arrests may follow in may.", date(2020, 1, 1)) == []


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400), st.one_of(st.none(), st.dates(min_value=date(1950, 1, 1), max_value=date(2090, 12, 31))))
def test_dates_never_crash_and_spans_hold(text, published):
    for d in find_dates(text, published):
        assert text[d.span.start : d.span.end] == d.span.text
        assert (d.value.start is None) == (d.value.precision == "unknown")
        if d.value.start and d.value.end:
            assert d.value.start <= d.value.end


def test_dates_hostile_input_is_linear():
    blobs = ["1" * 200_000, ("12 " * 60_000), ("July " * 40_000), ("the 3rd of " * 20_000), "한국어 2020년 7월 " * 10_000]
    for blob in blobs:
        t0 = time.perf_counter()
        find_dates(blob, date(2020, 1, 1))
        assert time.perf_counter() - t0 < 5, blob[:20]


def _plain_anchor_windows(anchors, text):
    """Every token looked up in turn, as before the shared word index."""
    import re

    out = {name: [] for name in anchors.windows}
    for m in re.finditer(r"\w+", text):
        tok = m.group(0)
        names = anchors.digits if tok[0].isdigit() else anchors.words.get(tok.lower(), ())
        for name in names:
            if name in anchors.cased and not tok[0].isupper():
                continue
            before, after = anchors.windows[name]
            lo, hi = max(0, m.start() - before), min(len(text), m.end() + after)
            spans = out[name]
            if spans and lo <= spans[-1][1]:
                spans[-1] = (spans[-1][0], hi)
            else:
                spans.append((lo, hi))
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["In", "June", "june", "May", "may", "MAY", "last", "year", "week", "ago", "Monday",
                                 "today", "spring", "17th", "2019", "²", "٣", "ſ", "İ", " ", "  ", "\n", ",", "."]),
                max_size=60).map("".join))
def test_dates_anchor_windows_match_a_plain_scan(text):
    from rightsledger.extract.dates import _compiled

    anchors = _compiled()[2]
    assert anchors.find(text) == _plain_anchor_windows(anchors, text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["on", "On", "from", "between", "to", "the", "last", "next", "early", "Marchers", "March",
                                 "Mayday", "May", "Monday", "today", "todays", "yesterday", "year", "week", "month", "17th", "3",
                                 "2019", "ſ", "İ", "x", " ", "  ", "-", ",", "."]),
                max_size=40).map("".join),
       st.lists(st.tuples(st.integers(0, 200), st.integers(0, 60)), max_size=4))
@example("It ends todays", [(0, 13)])  # the window cuts "todays" to "today"
def test_dates_rules_tried_at_first_words_match_a_window_scan(text, cuts):
    """Each rule tried only where its first words stand finds what a scan of every window finds."""
    from rightsledger.extract.dates import _compiled

    windows, last = [], -1
    for lo, size in sorted(cuts):  # disjoint windows in text order, some ending inside a word
        lo = max(lo % (len(text) + 1), last + 1)
        hi = min(len(text), lo + size)
        if lo <= hi:
            windows.append((lo, hi))
            last = hi
    for rule in _compiled()[1]:
        fast = [(m.start(), m.end()) for m in rule.regex.finditer_windows(text, windows)]
        plain = [(m.start(), m.end()) for lo, hi in windows for m in rule.regex.regex.finditer(text, lo, hi)]
        assert fast == plain, rule.id



_ISO_PIECES = st.lists(st.sampled_from(["1", "2", "0", "9", "8", "12", "2023", "1999", "-", ".", "/", " ", "x", "ſ", "K", "İ", "ı", "٢", "\n"]),
                       max_size=16).map("".join)


@settings(max_examples=500, deadline=None)
@given(_ISO_PIECES, st.integers(min_value=0, max_value=10), st.integers(min_value=0, max_value=6))
def test_iso_date_pattern_matches_the_lookbehind_first_spelling(text, lo, cut):
    """The packaged iso_date rule reads the year's first digit before its look-behind (so the regex
    engine can scan ahead for it); it must match what the look-behind-first spelling matches."""
    import re

    from rightsledger.extract.dates import _compiled
    from rightsledger.extract.lexicon import lexicon

    year = lexicon("dates")["fragments"]["year"]
    plain = re.compile(rf"(?<![\d.\-/])(?P<y>(?:{year}))(?P<sep>[\-./])(?P<m_num>1[0-2]|0?[1-9])(?P=sep)"
                       rf"(?P<d>3[01]|[12]\d|0?[1-9])(?!\w|[.\-/]\d)", re.IGNORECASE)
    packaged = next(r for r in _compiled()[1] if r.id == "iso_date").regex.regex
    hi = max(lo, len(text) - cut)
    assert [(m.span(), m.groupdict()) for m in packaged.finditer(text, lo, hi)] == \
        [(m.span(), m.groupdict()) for m in plain.finditer(text, lo, hi)]


_YEAR_RANGE_PIECES = texts_of(["1999", "2011", "2015", "19", "15", "-", "\u2013", ".", "x", "from", "between", " ", " to ", "\n"], 16)


@settings(max_examples=500, deadline=None)
@given(_YEAR_RANGE_PIECES, st.integers(min_value=0, max_value=6))
def test_year_range_matches_its_plain_lookbehind_spelling(text, pos):
    """year_range writes "(?<![\\w\\-.])" as "(?<!\\w)(?<![\\-.])" (so that it is tried at numbers
    only): the same matches."""
    import re

    from rightsledger.extract.dates import _compiled

    rule = next(r for r in _compiled()[1] if r.id == "year_range")
    assert not rule.regex.inside and rule.regex.starts is not None  # tried at word starts only
    written = rule.regex.regex
    plain = re.compile(written.pattern.replace(r"(?<!\w)(?<![\-.])", r"(?<![\w\-.])"), written.flags)
    assert plain.pattern != written.pattern
    assert spans(written.finditer(text, pos)) == spans(plain.finditer(text, pos))
    assert spans(rule.regex.finditer_windows(text, [(pos, len(text))])) == spans(plain.finditer(text, pos, len(text)))
