"""Sentence and paragraph splitting over invented report text."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from folding import spans, texts_of
from rightsledger.extract.sentences import _END, _ends_clause, _line_breaks, find_paragraphs, find_sentences


def texts(text: str) -> list[str]:
    return [s.span.text for s in find_sentences(text)]


def test_sentences_split_on_terminal_punctuation():
    assert texts("Nine men were arrested. Two were released. Why?") == [
        "Nine men were arrested.", "Two were released.", "Why?"]


def test_sentences_keep_abbreviations_and_initials():
    out = texts("Mr. Kim left on Jan. 5 with U.S. officials. He returned.")
    assert out == ["Mr. Kim left on Jan. 5 with U.S. officials.", "He returned."]


def test_sentences_quote_ending_in_comma_does_not_split():
    out = texts("“In May, 12 families were banished,” a resident said. Nothing else is known.")
    assert out[0].endswith("a resident said.")
    assert len(out) == 2


def test_sentences_heading_lines_stand_alone():
    sents = find_sentences("Twelve families banished\nMay 3, 2023\n\nTwelve families were banished.")
    assert [s.span.text for s in sents] == ["Twelve families banished", "May 3, 2023", "Twelve families were banished."]
    assert sents[0].heading and not sents[2].heading
    assert [s.paragraph for s in sents] == [0, 0, 1]


def test_sentences_join_hard_wrapped_lines():
    text = ("A report reached the group on the morning of the\n"
            "fifth, regarding the traders who were arrested by the\n"
            "Chinese police in Dandong as they were about to cross the\n"
            "river by boat in the spring.\nNothing more is known.")
    out = texts(text)
    assert out[0].startswith("A report reached") and out[0].endswith("in the spring.")
    assert out[1] == "Nothing more is known."


def test_sentences_spans_index_the_text():
    text = "  One.  Two!\n\n\nThree?  "
    for s in find_sentences(text):
        assert text[s.span.start:s.span.end] == s.span.text
    assert [p.text for p in find_paragraphs(text)] == ["One.  Two!", "Three?"]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_sentences_any_text_gives_valid_ordered_spans(text):
    prev_end = 0
    for s in find_sentences(text):
        assert prev_end <= s.span.start < s.span.end <= len(text)
        assert text[s.span.start:s.span.end] == s.span.text
        prev_end = s.span.end


@settings(max_examples=500, deadline=None)
@given(texts_of([" ", "\t", "\n", "\r", "\u00a0", "\u2028", "a", "."]), st.integers(min_value=0, max_value=8),
       st.integers(min_value=0, max_value=8))
def test_line_breaks_are_what_the_plain_pattern_finds(text, lo, cut):
    plain = re.compile(r"[ \t]*\n[ \t]*")
    hi = max(lo, len(text) - cut)
    assert _line_breaks(text, lo, hi) == [m.span() for m in plain.finditer(text, lo, hi)]


@settings(max_examples=500, deadline=None)
@given(texts_of([" ", "\n", ".", "!", "?", "…", '"', "”", "’", ")", "]", "“", "(", "A", "a", "9", "é"]),
       st.integers(min_value=0, max_value=8), st.integers(min_value=0, max_value=8))
def test_sentence_end_pattern_matches_what_the_plain_pattern_matches(text, lo, cut):
    plain = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9\u0080-\uffff])")
    hi = max(lo, len(text) - cut)
    assert spans(_END.finditer(text, lo, hi)) == spans(plain.finditer(text, lo, hi))


_CLAUSE_PIECES = st.lists(st.sampled_from(
    [".", "!", "?", "…", ":", ";", '"', "'", "”", "’", ")", ",", "(", "a", "Word", "ſ", "K", "İ", "ı", " ", "\t", "\n",
     "\u00a0", "\u2003", "\x1c", "\u200b"]), max_size=12).map("".join)


@settings(max_examples=1000, deadline=None)
@given(_CLAUSE_PIECES, st.integers(min_value=0, max_value=14), st.integers(min_value=0, max_value=14))
def test_ends_clause_reads_what_the_end_anchored_search_finds(text, start, end):
    plain = re.compile(r"[.!?…:;\"'”’)]\s*$")
    assert _ends_clause(text, start, end) == bool(plain.search(text, start, end))
