"""Violation-type triggers and their modality, from tests/cases/triggers.json (invented texts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rightsledger.errors import DataFileError
from rightsledger.extract.triggers import find_triggers, load_taxonomy, span_modality, TriggerFinder
from rightsledger.model import VIOLATION_TYPES, Span

CASES = json.loads((Path(__file__).parent / "cases" / "triggers.json").read_text())["cases"]


def anchors(text: str) -> set[tuple[str, str]]:
    return {(t.code, t.modality) for t in find_triggers(text) if t.anchors}


@pytest.mark.parametrize("case", CASES, ids=[c["label"] for c in CASES])
def test_triggers_case(case):
    found = anchors(case["text"])
    ok = all(tuple(x) in found for x in case["types"]) and not any(
        (code, "asserted") in found for code in case.get("absent", []))
    if case["expect"] == "fail":
        assert not ok, f"known failure now passes: {case['label']} — set expect to pass"
    else:
        assert ok, f"{case['label']}: found {sorted(found)}"


def test_triggers_taxonomy_has_the_thirteen_types_with_labels():
    tax = load_taxonomy()
    assert set(VIOLATION_TYPES) <= set(tax.codes())
    for vt in tax.types.values():
        assert vt.label and vt.description
        assert vt.triggers["events"] or vt.triggers["nouns"] or vt.triggers["reasons"]


def test_triggers_every_fact_has_span_and_rule():
    text = "In May, 30 families were banished from Pyongyang for watching South Korean dramas."
    found = find_triggers(text)
    assert {t.code for t in found} >= {"forced_relocation", "expression_crackdown"}
    for t in found:
        assert text[t.span.start:t.span.end] == t.span.text
        assert t.why is not None and t.why.component == "triggers.v1" and t.code in t.why.rule


def test_triggers_hedge_cue_is_recorded():
    text = "Officials warned that the families could be expelled."
    t = next(t for t in find_triggers(text) if t.code == "forced_relocation")
    assert t.modality == "hedged" and t.cue is not None and t.cue.text.lower() == "could"
    assert "could" in t.why.detail


def test_triggers_cue_in_another_clause_does_not_hedge():
    text = "Residents may leave only with permits; 40 people were arrested at the market."
    t = next(t for t in find_triggers(text) if t.code == "arbitrary_detention")
    assert t.modality == "asserted"


def test_triggers_user_taxonomy_adds_type_and_trigger(tmp_path):
    user = tmp_path / "tax.toml"
    user.write_text('[types.property_seizure]\nlabel = "Property seizure"\nevents = ["confiscated"]\n'
                    '[types.killing]\nevents = ["liquidated"]\n')
    finder = TriggerFinder(load_taxonomy(user))
    codes = {t.code for t in finder.find("Their houses were confiscated and two guards were liquidated.")}
    assert codes == {"property_seizure", "killing"}
    assert "killed" in load_taxonomy(user).types["killing"].triggers["events"]  # packaged triggers kept


def test_triggers_bad_user_pattern_is_a_clear_error(tmp_path):
    user = tmp_path / "tax.toml"
    user.write_text('[types.killing]\nevents = ["(unclosed"]\n')
    with pytest.raises(DataFileError, match="bad pattern"):
        load_taxonomy(user)
    user.write_text('[types.killing]\nevents = ["(shot) dead"]\n')
    with pytest.raises(DataFileError, match="capturing group"):
        load_taxonomy(user)


def test_triggers_span_modality_for_any_span():
    text = "Officials plan to move 300 households next spring."
    i = text.index("300")
    cls, cue = span_modality(text, Span(0, len(text), text), Span(i, i + 14, text[i:i + 14]))
    assert cls == "hedged" and cue is not None


# -- the large trigger alternation is scanned word by word with per-letter patterns; it must find
# -- exactly what the one combined pattern finds, including where case folding is unusual.

from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = st.lists(st.sampled_from(
    ["were", "executed", "publicly", "EXECUTED", "Executions", "arrested", "detained", "sent", "to", "a", "prison",
     "camp", "beaten", "to death", "shot", "dead", "families", "exiled", "banished", "the", "not", "rumours",
     "ſhot", "K", "İ", "ı", "한국", "²", " ", "  ", "\n", "-", "'", "’", ".", ",", "(", "“", "”"]), max_size=50).map("".join)


@settings(max_examples=300, deadline=None)
@given(_PIECES)
def test_triggers_word_dispatch_matches_the_combined_pattern(text):
    from rightsledger.extract.triggers import default_finder

    alternation = default_finder()._anchors
    assert alternation._starts is not None  # large enough to be dispatched
    padded = text + " " * alternation.DISPATCH_MIN_CHARS  # long enough to take the dispatching path
    fast = [(m.span(), alternation.fragment(m)) for m in alternation.finditer(padded)]
    plain = [(m.span(), alternation.fragment(m)) for m in alternation.regex.finditer(padded)]
    assert fast == plain
    first = alternation.search(padded)
    assert (first.span() if first else None) == (plain[0][0] if plain else None)


def test_triggers_dispatch_folds_case_like_the_regex_engine():
    from rightsledger.extract.triggers import default_finder

    alternation = default_finder()._anchors
    text = "Two men were \u017fhot dead and others EXECUTED. " * 10  # "ſ" matches "s" case-insensitively
    assert [m.group(0) for m in alternation.finditer(text)] == [m.group(0) for m in alternation.regex.finditer(text)]
    assert any("\u017f" in m.group(0) for m in alternation.finditer(text))


def test_relatives_punished_link_is_anchored_on_the_kinship_word() -> None:
    text = "Officials said Pak’s parents, her husband and two sons were sent to a camp. The parents were sent home."
    links = [t for t in find_triggers(text) if t.code == "collective_punishment" and t.kind == "links"]
    assert [t.span.text for t in links] == ["parents, her husband and two sons were sent"]
    other = "Her brother said their children were detained, and his wife was arrested."
    assert [t.span.text for t in find_triggers(other) if t.kind == "links"] == [
        "children were detained", "wife was arrested"]


@pytest.mark.parametrize("text", [
    "Residents fear that the families could be banished to the mountains next month.",
    "There is no evidence that the lecturer was executed, a source said.",
    "Traders are usually detained for a few days when caught.",
    "Guards beat the prisoners; the inmates were not released.",
    "Thirty families were banished from the city in June.",
])
def test_modality_prefilter_changes_nothing(text: str) -> None:
    """The one search over every cue only skips work: each trigger's modality is what the
    per-class searches alone give."""
    from dataclasses import replace

    from rightsledger.extract.triggers import load_modality

    cues = load_modality()
    plain = replace(cues, any_before=None, any_after=None)
    sentence = Span(0, len(text), text)
    for t in find_triggers(text):
        assert span_modality(text, sentence, t.span, cues) == span_modality(text, sentence, t.span, plain)


# -- over a whole document the alternations are tried only at the possible first words of their
# -- fragments, found through the shared word index; that must find exactly what the plain
# -- pattern finds.

_CONTEXT_PIECES = st.lists(st.sampled_from(
    ["for", "watching", "distributed", "distribution", "South", "Korean", "films", "her", "his", "parents", "wife",
     "were", "was", "sent", "arrested", "to", "a", "camp", "relatives", "were", "implicated", "family", "members",
     "of", "defectors", "found", "alive", "publicly", "executed", "shot", "dead", "Executions", "ſhot", "K", "İ",
     "한국", "²", "_", "9", " ", "  ", "\n", "-", "'", "’", ".", ",", "(", "“"]), max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(_CONTEXT_PIECES)
def test_triggers_word_index_scan_matches_the_plain_pattern(text):
    from rightsledger.extract.triggers import default_finder, load_modality

    finder = default_finder()
    for alternation in (finder._anchors, finder._context, load_modality().retraction):
        assert alternation._words is not None  # every fragment has known first words
        fast = [(m.span(), alternation.fragment(m)) for m in alternation.finditer(text)]
        plain = [(m.span(), alternation.fragment(m)) for m in alternation.regex.finditer(text)]
        assert fast == plain
        first = alternation.search(text)
        assert (first.span() if first else None) == (plain[0][0] if plain else None)


@pytest.mark.parametrize(("fragment", "exact", "prefixes"), [
    ("(?:publicly |secretly )?execut(?:ed)", {"publicly", "secretly", "executed"}, set()),
    ("rounded[- ]up", {"rounded"}, set()),
    ("(?<!are )jailed", {"jailed"}, set()),
    ("distribut\\w*", {"distribut"}, {"distribut"}),  # the bare stem matches too
    ("x(?:ab)*", {"x", "xab", "xabab", "xababab"}, {"xababab"}),
    ("(?:ab ){5}c", {"ab"}, set()),  # the first word ends inside the repeat
    ("(?:no|not)\\s{1,3}(?:\\w+ )?shot", {"no", "not"}, set()),
    # "Chinaʼs" with a modifier-letter apostrophe is one word holding an uncased non-ASCII letter:
    # only such words can match it, and those are always tried, so it need not be listed.
    ("China(?:[\u02bc]s)?", {"china"}, set()),
])
def test_triggers_first_words_of_a_fragment(fragment, exact, prefixes):
    from rightsledger.extract.lexicon import first_words as _first_words

    assert _first_words(fragment) == (exact, prefixes)


@pytest.mark.parametrize("fragment", ["\\w+ing", "[^.]+ed", "(?:\\s)?x", "ſhot"])
def test_triggers_fragments_without_known_first_words(fragment):
    """Such a fragment is tried everywhere: its alternation keeps the plain scan."""
    from rightsledger.extract.lexicon import first_words as _first_words
    from rightsledger.extract.triggers import _Alternation

    assert _first_words(fragment) is None
    alternation = _Alternation(["arrested", fragment])
    assert alternation._words is None
    text = "ſhot x they were arrested while leaving"
    assert [m.span() for m in alternation.finditer(text)] == [m.span() for m in alternation.regex.finditer(text)]


def _modality_windows(text: str, windows: list[tuple[int, int]]):
    """(cue alternation, lo, hi) for every modality cue list and every (start, width) window in the text."""
    from rightsledger.extract.triggers import load_modality

    cues = load_modality()
    alternations = [cues.any_before, cues.any_after, *cues.before.values(), *cues.after.values()]
    for lo, width in windows:
        lo = min(lo, len(text))
        hi = min(len(text), lo + width)
        for alt in alternations:
            yield alt, lo, hi


_MODALITY_PIECES = st.lists(st.sampled_from(
    ["not", "no", "nothing", "never", "would", "may", "rumours", "reportedly", "threatened", "to", "in", "were",
     "arrested", "executed", "the", "ſ", "K", "İ", "한국", "9", " ", "  ", "\n", ",", ".", "’", "-"]), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_MODALITY_PIECES, st.lists(st.tuples(st.integers(0, 400), st.integers(0, 120)), min_size=1, max_size=8))
def test_modality_window_search_finds_what_a_scan_of_the_window_finds(text, windows):
    """Cue windows are tried only at their possible first words, read word by word for a text's
    first windows and from an index of the text after that: both give the scan's match."""
    for alt, lo, hi in _modality_windows(text, windows):
        found = alt.search_window(text, lo, hi)
        plain = alt.regex.search(text, lo, hi) if alt.regex is not None and hi > lo else None
        assert (found.span() if found else None) == (plain.span() if plain else None)


@settings(max_examples=300, deadline=None)
@given(_MODALITY_PIECES, st.lists(st.tuples(st.integers(0, 400), st.integers(0, 120)), min_size=1, max_size=8))
@example("nothing", [(0, 2)])  # "no", read cut short, is a cue
def test_modality_window_precheck_only_rules_out_windows_without_a_match(text, windows):
    """A window the cheap precheck rules out is one where a scan of the window finds no cue."""
    for alt, lo, hi in _modality_windows(text, windows):
        if not alt.may_match_window(text, lo, hi):
            assert alt.regex is None or hi <= lo or alt.regex.search(text, lo, hi) is None


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(
    ["not", "no", "nothing", "never", "may", "rumours", "reportedly", "threatened", "to", "were", "arrested",
     "executed", "the", "ſ", "K", "İ", "ı", "9", "_", " ", "\n", ",", ";", ":", "“", '"', "(", ")", " – ", "—", "."]),
    max_size=40).map("".join), st.integers(0, 200), st.integers(0, 12), st.integers(0, 200), st.integers(0, 200))
@example("they said nothing", 12, 5, 0, 17)  # "no", read cut short, is a cue before "thing"
def test_modality_shortcuts_give_the_plain_modality(text, start, width, s_lo, s_hi):
    """The prechecks that rule a span plainly asserted give what the searches alone give."""
    from dataclasses import replace

    from rightsledger.extract.triggers import load_modality

    cues = load_modality()
    plain = replace(cues, any_before=None, any_after=None)
    start = min(start, len(text))
    end = min(len(text), start + width)
    sentence = Span(min(s_lo, start), max(end, min(len(text), s_hi)), "")
    span = Span(start, end, text[start:end])
    assert span_modality(text, sentence, span, cues) == span_modality(text, sentence, span, plain)


@pytest.mark.parametrize(("pattern", "opens"), [
    (r"\bx", True), (r"(?<!\w)x", True), (r"(?:\bx)|(?:\by z)", True), (r"(?:(?:\bx)|(?:\by))w", True),
    (r"(?:\bx)|(?:y)", False), (r"x\b", False), (r"(?<!\d)x", False), (r"(?<=\s)x", False), (r"", False),
])
def test_word_scan_knows_a_pattern_that_opens_at_a_word(pattern, opens):
    """A combined list of patterns each opening with \\b starts at words too: only then is it tried at words."""
    from rightsledger.extract.lexicon import _opens_at_word_start

    assert _opens_at_word_start(pattern) is opens


_CLAUSE_PIECES = st.lists(st.sampled_from(
    [" ", "\u00a0", "\n", "\t", "–", "—", "-", ";", ":", "“", "”", '"', "(", ")", ",", ".", "a", "ſ", "K", "İ", "ı", "word"]),
    max_size=14).map("".join)


@settings(max_examples=500, deadline=None)
@given(_CLAUSE_PIECES, st.integers(min_value=0, max_value=8), st.integers(min_value=0, max_value=8))
def test_clause_bounds_are_where_the_plain_patterns_put_them(text, lo, cut):
    """The clause around a trigger ends where the plain patterns' matches say: after the last
    match of one to its left, at the first match of the other to its right."""
    import re

    from rightsledger.extract.triggers import _clause_left, _clause_right

    hi = max(lo, len(text) - cut)
    left = [m.end() for m in re.compile(r"[;:“”\"]|\s[–—]\s|\(|\)").finditer(text, lo, hi)]
    right = re.compile(r"[,;:“”\"]|\s[–—]\s|\(").search(text, lo, hi)
    assert _clause_left(text, lo, hi) == (left[-1] if left else lo)
    assert _clause_right(text, lo, hi) == (right.start() if right else hi)
