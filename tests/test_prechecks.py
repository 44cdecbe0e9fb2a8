"""Prechecks skip only searches that cannot match: an end-anchored pattern started near the end
finds what a whole search finds, and a cue-word look never rules out a match."""

from __future__ import annotations

import re
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from rightsledger.extract.prechecks import ASCII_FOLDS, EndAnchored, may_hold
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


def test_ascii_folds_are_every_character_taken_for_an_ascii_letter():
    letter = re.compile("[a-z]", re.IGNORECASE)
    found = [chr(c) for c in range(0x80, sys.maxunicode + 1) if letter.fullmatch(chr(c))]
    assert tuple(found) == ASCII_FOLDS


_CUE_PIECES = st.lists(st.sampled_from(
    ["watch", "WATCH", "wAtched", "see", "Sea", "look", "lo", "ok", "ſee", "\u017fee", "\u212aey", "key", "İt", "ıt",
     "it", "é", "’", " ", "\n", "-", "."]), max_size=12).map("".join)


@settings(max_examples=500, deadline=None)
@given(_CUE_PIECES, st.sampled_from([(r"\bwatch", ("watch",)), (r"see|look(?:ed)?\s{1,3}on", ("see", "look")),
                                     (r"\bkey\b", ("key",)), (r"it\b", ("it",))]))
def test_cue_look_never_rules_out_a_case_insensitive_match(s, rule):
    """The cues are the lower-case words the pattern needs; case folding ("ſ" for "s") included."""
    pattern, cues = rule
    if re.search(pattern, s, re.IGNORECASE):
        assert may_hold(s, cues), s


def test_cues_are_read_off_the_pattern():
    from rightsledger.extract.prechecks import ending_cues, required_cues

    assert required_cues(re.compile(r"^[^.]{0,40}?\b(?:per|every|a)\s{1,3}(?:city|town)\b", re.IGNORECASE)) == ("city", "town")
    assert required_cues(re.compile(r"\b[Ee]ach\s{1,3}of\b")) == ("Each", "each")
    assert required_cues(re.compile(r"watch|to\s(?:watch|see)ed", re.IGNORECASE)) == ("seeed", "watch")  # "watched" holds "watch"
    assert required_cues(re.compile(r"[a-z]+\s")) is None  # nothing spelt out
    assert required_cues(re.compile(r"a(?i:bc)d")) in (("a",), ("d",))  # not "abcd": "aBcd" matches too
    assert ending_cues(re.compile(r"(?:No|Unit)\.?[\s\u00a0]{0,3}$")) == ("No", "Unit")
    assert ending_cues(re.compile(r"(?:population|census)(?:\s{1,3}(?:of|totals?))?\s{0,3}$")) == (
        "census", "of", "population", "total", "totals")
    assert ending_cues(re.compile(r"each\s+of[^.]{0,40}$")) is None  # may end with any word
    assert ending_cues(re.compile(r"No\s*\.?$")) is None  # a stop after the spaces: rstrip() keeps the spaces
    assert ending_cues(re.compile(r"no$", re.IGNORECASE)) is None


_ENDING_PIECES = st.lists(st.sampled_from(
    ["No", "no", "Unit", "unit", "population", "census", "of", "totals", "total", "s", "each", "Each", "x", "ſ", "K", "İ", "ı",
     " ", "  ", "\u00a0", "\n", ".", ","]), max_size=12).map("".join)
_ENDING_PATTERNS = [r"(?:No|Unit)\.?[\s\u00a0]{0,3}$", r"(?:population|census)(?:\s{1,3}(?:of|totals?))?\s{0,3}$",
                    r"\b[Ee]ach\s{1,3}of\b[^.;]{0,40}$", r"(?:[Ee]ach|unit)s?(?=\s)", r"(?i:no)\s*$", r"[$\u20a9]\s{0,2}$"]


@settings(max_examples=500, deadline=None)
@given(_ENDING_PIECES, st.sampled_from(_ENDING_PATTERNS))
def test_cues_read_off_a_case_sensitive_pattern_never_rule_out_a_match(s, pattern):
    """What `ending_cues` says a match ends with, or `required_cues` that it holds, is there."""
    from rightsledger.extract.prechecks import ending_cues, required_cues

    rx = re.compile(pattern)
    if not rx.search(s):
        return
    ends, within = ending_cues(rx), required_cues(rx)
    if ends is not None:
        assert s.rstrip().rstrip(".").endswith(ends), s
    if within is not None:
        assert any(w in s for w in within), s


@settings(max_examples=500, deadline=None)
@given(_CUE_PIECES, st.sampled_from([r"\bwatch", r"see|look(?:ed)?\s{1,3}on", r"\bkey\b", r"it\b", r"^[^.]{0,20}?\b(?:a|per)\s(?:key|sea)\b"]))
def test_cues_read_off_a_case_insensitive_pattern_never_rule_out_a_match(s, pattern):
    from rightsledger.extract.prechecks import required_cues

    rx = re.compile(pattern, re.IGNORECASE)
    cues = required_cues(rx)
    assert cues is not None
    if rx.search(s):
        assert may_hold(s, cues), s


def _cued_rules() -> list[tuple[str, re.Pattern[str]]]:
    from rightsledger.extract.attribution import _cite_rules
    from rightsledger.extract.incidents import _SINGULAR_AUX, load_rules
    from rightsledger.outlets import load_outlets

    rules = load_rules()
    return [("photo", _cite_rules(load_outlets()).photo), ("reference_before", rules.reference_before),
            ("occurrence", rules.occurrence), ("counted_places", rules.counted_places), ("singular_aux", _SINGULAR_AUX)]


_CUED_PIECES = st.lists(st.sampled_from(
    ["photo", "Photo", "file photo", "screen grab", "Getty", "days after her", "shortly", "following", "the", "took place",
     "happened", "occurred", "held", "two", "12", "several", "cities", "villages", "in", "she", "it", "was", "has been",
     "also", "arrested", "ſ", "K", "İ", "ı", "’", " ", "  ", "\n", ",", "."]), max_size=14).map("".join)


@settings(max_examples=500, deadline=None)
@given(_CUED_PIECES, st.integers(0, 12), st.one_of(st.none(), st.integers(0, 80)))
def test_cued_searches_match_a_plain_search(text, pos, endpos):
    """The rules searched only where their cue words stand find what a plain search finds."""
    for name, cued in _cued_rules():
        assert cued.cues is not None, name  # the cue look is in use
        plain = cued.regex.search(text, pos) if endpos is None else cued.regex.search(text, pos, endpos)
        found = cued.search(text, pos, endpos)
        assert (found.span() if found else None) == (plain.span() if plain else None), name


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(range(5)).flatmap(lambda k: st.tuples(st.just(k), st.from_regex(_cued_rules()[k][1].regex))))
def test_cued_searches_find_generated_matches(case):
    """Texts holding a match of each cued rule (made from the pattern itself) are searched."""
    k, text = case
    name, cued = _cued_rules()[k]
    plain = cued.regex.search(text)
    found = cued.search(text)
    assert (found.span() if found else None) == (plain.span() if plain else None), name
