"""Victim counts, units and background statistics, from tests/cases/victims.json (invented texts)."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from folding import spans, texts_of
from rightsledger.extract.numbers import parse_number
from rightsledger.extract.quantities import _SENTENCE_END, find_victims
from rightsledger.model import VICTIM_UNITS

CASES = json.loads((Path(__file__).parent / "cases" / "victims.json").read_text())["cases"]


def _check(case: dict) -> list[str]:
    found = find_victims(case["text"])
    by_text = {v.evidence.text: v for v in found}
    problems = []
    for want in case["victims"]:
        got = by_text.get(want["text"])
        if got is None:
            problems.append(f"missing {want['text']!r} (found {sorted(by_text)})")
            continue
        for key in ("count", "unit", "approximate"):
            if key in want and getattr(got, key) != want[key]:
                problems.append(f"{want['text']!r}: {key} {getattr(got, key)} != {want[key]}")
        if "role" in want and f"role={want['role']}" not in got.why.detail:  # type: ignore[union-attr]
            problems.append(f"{want['text']!r}: role not {want['role']} ({got.why.detail})")  # type: ignore[union-attr]
    if case.get("only") and len(found) != len(case["victims"]):
        problems.append(f"unexpected groups {[v.evidence.text for v in found]}")
    return problems


@pytest.mark.parametrize("case", CASES, ids=[c["label"] for c in CASES])
def test_victims_case(case):
    problems = _check(case)
    if case["expect"] == "fail":
        assert problems, f"known failure now passes: {case['label']}: set expect to pass"
    else:
        assert not problems, problems


@pytest.mark.parametrize(
    ("written", "value"),
    [("30", 30), ("1,200", 1200), ("Thirty", 30), ("twenty-one", 21), ("two hundred and five", 205), ("a dozen", 12), ("2.87 million", 2_870_000)],
)
def test_victims_numbers_parse(written, value):
    assert parse_number(written) == value


def test_victims_description_and_explanation():
    text = "In May, 12 families of workers dispatched to Russia were banished from the capital."
    (v,) = find_victims(text)
    assert v.description == "12 families of workers dispatched to Russia"
    assert text[v.evidence.start : v.evidence.end] == v.evidence.text
    assert v.why is not None and v.why.component == "victims.v1"
    assert "verb=banished" in v.why.detail and "unit=families" in v.why.detail


def test_victims_in_text_order():
    found = find_victims("Nine men were shot. Later 40 households were moved. Then six women were held.")
    assert [v.count for v in found] == [9, 40, 6]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_victims_never_crash_and_spans_hold(text):
    for v in find_victims(text):
        assert text[v.evidence.start : v.evidence.end] == v.evidence.text
        assert v.unit in VICTIM_UNITS
        assert v.count is None or v.count > 0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["30", "families", "about", "people", "seven", "men", "and", "a", "woman", "was", "executed", "of", "the", ",", "Camp", "2019", "in", "\n"]), max_size=60))
def test_victims_word_soup(words):
    text = " ".join(words)
    for v in find_victims(text):
        assert text[v.evidence.start : v.evidence.end] == v.evidence.text


def test_victims_hostile_input_is_linear():
    blobs = ["1 " * 100_000, ("about thirty " * 20_000), ("people " * 50_000), "| 12 | 34 | 56 |\n" * 20_000, "가족 30 families 한국 " * 10_000]
    for blob in blobs:
        t0 = time.perf_counter()
        find_victims(blob)
        assert time.perf_counter() - t0 < 10, blob[:20]


_VERB_PIECES = st.lists(st.sampled_from(
    ["arrested", "Arrested", "arrest", "were", "detained", "sent", "to", "camp", "camps", "beaten", "death", "the",
     "xarrested", "ſ", "K", "İ", "한국", "9", " ", "  ", "\n", "-", ".", ","]), max_size=30).map("".join)


@settings(max_examples=400, deadline=None)
@given(_VERB_PIECES, _VERB_PIECES, _VERB_PIECES)
def test_victims_verb_search_in_a_slice_matches_a_search_of_the_slice(before, window, after):
    """The verb is looked for in slices of the document by word lookup; it must find what a plain
    search of the sliced string finds, words cut by the slice's ends included."""
    from rightsledger.extract.quantities import _rules

    verb = _rules().verb
    text, lo = before + window + after, len(before)
    hi = lo + len(window)
    assert verb.firsts is not None  # the word lookup is in use
    assert [m.span() for m in verb.finditer_slice(text, lo, hi)] == [m.span() for m in verb.regex.finditer(window)]
    found = verb.search_slice(text, lo, hi)
    plain = verb.regex.search(window)
    assert (found.span() if found else None) == (plain.span() if plain else None)


@settings(max_examples=500, deadline=None)
@given(texts_of([" ", "\u00a0", "\n", "\t", ".", "!", "?", ";", ",", "a", "word"]), st.integers(min_value=0, max_value=8))
def test_sentence_end_matches_what_the_plain_alternation_matches(text, pos):
    plain = re.compile(r"[.!?;]\s|\n")
    assert spans(_SENTENCE_END.finditer(text, pos)) == spans(plain.finditer(text, pos))


def _victims_lexicon(key: str) -> list[str]:
    from rightsledger.extract.lexicon import lexicon

    return lexicon("victims")[key]


_BACKGROUND_PIECES = st.lists(st.sampled_from(
    ["population", "residents", "of", " of", "stands at", "home to", "capital", "Each", "each", "all but", "No", "No.",
     "camp", "Kwanliso", "$", "\u20a9", "aged", "ages", "ſ", "K", "İ", "ı", "x", " ", "  ", "\u00a0", "\n", ".", ",", ";"]),
    max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.sampled_from(_victims_lexicon("background_before")).flatmap(st.from_regex), _BACKGROUND_PIECES))
def test_background_cues_hold_in_every_background_match(before):
    """The cheap cue test skips background_before only where none of its patterns can match: a
    cue list out of step with the patterns would let background statistics through as victims."""
    from rightsledger.extract.quantities import _rules

    r = _rules()
    if r.background_before.search(before):
        assert r.background_cues.may_match(before), before


_SPECTATOR_PIECES = st.lists(st.sampled_from(
    ["forced to watch", "to witness", "Watched", "looked on", "in attendance", "attended", "were made to", "look",
     "ſ", "K", "İ", "ı", "x", " ", "  ", "\u00a0", "\n", ".", ",", "’"]), max_size=10).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.sampled_from(_victims_lexicon("spectator_after")).flatmap(st.from_regex), _SPECTATOR_PIECES))
def test_spectator_cues_hold_in_every_spectator_match(after):
    """A cue list out of step with spectator_after would count a watching crowd as victims."""
    from rightsledger.extract.prechecks import may_hold
    from rightsledger.extract.quantities import _rules

    r = _rules()
    assert r.spectator_after_cues is not None  # read off the patterns: the search is skipped without one
    if r.spectator_after.search(after):
        assert may_hold(after, r.spectator_after_cues), after


_BACKGROUND_AFTER_PIECES = st.lists(st.sampled_from(
    ["census", "in each", "from each", "each", "per city", "a year", "every day", "a camp", "for", "per", "a", "day",
     "ſ", "K", "İ", "ı", "x", " ", "  ", "\u00a0", "\n", ".", ","]), max_size=10).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.sampled_from(_victims_lexicon("background_after")).flatmap(st.from_regex), _BACKGROUND_AFTER_PIECES))
def test_background_after_cues_hold_in_every_match(after):
    """The words after a count are matched against background_after only when they hold a cue."""
    from rightsledger.extract.prechecks import may_hold
    from rightsledger.extract.quantities import _rules

    r = _rules()
    assert r.background_after_cues is not None
    if r.background_after.match(after):
        assert may_hold(after, r.background_after_cues), after


_KIN_PIECES = texts_of(["her", "his", "their", "Kim's", "parents", "husband", "wife", "mother-in-law", "elder brother", "three",
                        "children", "sons", "kids", "family members", "and", ",", " ", "  ", "\n", "x", "of"], 16)


@settings(max_examples=300, deadline=None)
@given(_KIN_PIECES)
def test_kin_lists_are_tried_only_where_a_second_kin_word_is_in_reach(text):
    """Skipping the kin-list rule where no second kin word is in reach finds every list (with
    every word counted as a possible kin word, nothing is skipped)."""
    from rightsledger.extract.lexicon import words
    from rightsledger.extract.quantities import _kin_groups, _rules

    r = _rules()
    index = words(text)
    kin = [i for i, (_s, _e, w) in enumerate(index.toks) if "kin" in r.by_word.get(w, ())]
    everything = tuple(range(len(index.toks)))
    found = [(f.start, f.end, f.count) for f in _kin_groups(text, index.toks, kin, index.non_ascii, r)]
    assert found == [(f.start, f.end, f.count) for f in _kin_groups(text, index.toks, kin, everything, r)]
