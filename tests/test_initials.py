"""Alternations grouped by initial match exactly where the plain alternations do."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from rightsledger.extract.lexicon import by_initial
from rightsledger.extract.lexicon import alternation

_PHRASES = ["said", "says", "say", "told", "tells", "according", "as saying", "pointed out", "in", "inside", "the source",
            "she", "shot dead", "shot", "sent to", "re-education", "kicked out", "people's"]
_PIECES = st.lists(st.sampled_from(
    [*_PHRASES, "SAID", "Told", "ſaid", "ſhe", "İnside", "K", "sa", "to", "-", " ", "  ", "\n", "'", "\u2019", ".", "한국"]),
    max_size=20).map("".join)


def test_grouped_alternation_keeps_its_phrases():
    assert by_initial(["said", "says", "told"]) == "(?:s(?:aid|ays)|told)"
    assert by_initial(["'til", "said"]) == alternation(["'til", "said"])  # not every phrase starts with a letter: plain


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PHRASES), min_size=1, max_size=8), _PIECES)
def test_grouped_alternation_matches_like_the_plain_one(phrases, text):
    """Case-insensitive, with a lazy tail and a word boundary after it: the same matches, and the
    same phrase preferred at each place."""
    for template in (r"\b{}\b", r"(?:{})(?:\s\w+)*?\s(?:{})"):
        plain = re.compile(template.format(alternation(phrases), alternation(phrases)), re.IGNORECASE)
        grouped = re.compile(template.format(by_initial(phrases), by_initial(phrases)), re.IGNORECASE)
        assert [m.span() for m in grouped.finditer(text)] == [m.span() for m in plain.finditer(text)]
