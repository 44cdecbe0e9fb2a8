"""A search of an end-anchored pattern started near the end finds what a whole search finds."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from rightsledger.extract.prechecks import EndAnchored
from rightsledger.extract.quantities import _rules

_PIECES = st.lists(st.sampled_from(
    ["its", "their", "her", "his", "other", "John's", "parents'", "’s", "'", "s", "bits", "ſ", "İ", "한국", "9",
     " ", "  ", "\u00a0", "\n", "\t", ".", ","]), max_size=16).map("".join)


def test_only_patterns_ending_at_the_end_are_started_late():
    assert EndAnchored(re.compile(r"(?:ab|c)\s{1,3}$")).width == 5
    assert EndAnchored(re.compile(r"ab$|cd")).width is None  # one branch may end anywhere
    assert EndAnchored(re.compile(r"ab\s*$")).width is None  # unbounded
    assert EndAnchored(re.compile(r"ab$", re.MULTILINE)).width is None  # $ at every line end


@settings(max_examples=500, deadline=None)
@given(_PIECES)
def test_possessive_rule_started_near_the_end_matches_a_whole_search(before):
    rule = _rules().possessive_before
    assert rule.width is not None  # the late start is in use
    plain = rule.regex.search(before)
    found = rule.search(before)
    assert (found.span() if found else None) == (plain.span() if plain else None)


@settings(max_examples=300, deadline=None)
@given(_PIECES, st.sampled_from([r"\b(?:its|their)[\s\u00a0]{1,3}$", r"(?<=[a-z])s?\n?$", r"(?:\w['’]s|\bher)\s{0,2}$|\bhis\s$"]))
def test_end_anchored_search_matches_a_whole_search(before, pattern):
    rx = re.compile(pattern)
    found = EndAnchored(rx).search(before)
    plain = rx.search(before)
    assert (found.span() if found else None) == (plain.span() if plain else None)
