"""Quotes, informants and cited outlets, from tests/cases/attribution.json (invented texts)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from folding import spans, texts_of
from rightsledger.extract.attribution import find_citations, find_informants, find_quotes
from rightsledger.model import SOURCE_KINDS
from rightsledger.outlets import Outlet, OutletRegistry, load_outlets

CASES = json.loads((Path(__file__).parent / "cases" / "attribution.json").read_text())["cases"]


@pytest.fixture(scope="module")
def registry() -> OutletRegistry:
    return load_outlets()


def _check(case: dict, registry: OutletRegistry) -> list[str]:
    text, own = case["text"], case.get("own_outlet")
    problems = []
    if "informants" in case:
        found = {a.evidence.text: a for a in find_informants(text, registry=registry, own_outlet=own)}
        for w in case["informants"]:
            a = found.get(w["text"])
            if a is None or a.kind != w["kind"]:
                problems.append(f"informant {w['text']!r} as {w['kind']}: found {[(k, v.kind) for k, v in found.items()]}")
            elif "quotes" in w and len(a.quotes) != w["quotes"]:
                problems.append(f"informant {w['text']!r}: {len(a.quotes)} quotes, want {w['quotes']}")
            elif "name" in w and a.name != w["name"]:
                problems.append(f"informant {w['text']!r}: named {a.name!r}, want {w['name']!r}")
        for k in case.get("no_kinds", []):  # kinds no informant of the text may have
            if any(a.kind == k for a in found.values()):
                problems.append(f"no {k} informant wanted: found {[(t, a.kind) for t, a in found.items()]}")
    if "quotes" in case:
        quotes = find_quotes(text)
        got = {q.span.text: (q.speaker.evidence.text if q.speaker else None) for q in quotes}
        for w in case["quotes"]:
            if w["text"] not in got or ("speaker" in w and got[w["text"]] != w["speaker"]):
                problems.append(f"quote {w['text']!r} by {w.get('speaker')!r}: found {got}")
        if case.get("only_quotes") and len(quotes) != len(case["quotes"]):
            problems.append(f"unexpected quotes {got}")
    if "cites" in case:
        cites = [c.outlet for c in find_citations(text, registry, own)]
        missing = [c for c in case["cites"] if c not in cites]
        if missing or (case.get("only_cites") and len(cites) != len(case["cites"])):
            problems.append(f"cites {cites}, want {case['cites']}")
    return problems


@pytest.mark.parametrize("case", CASES, ids=[c["label"] for c in CASES])
def test_attribution_case(case, registry):
    problems = _check(case, registry)
    if case["expect"] == "fail":
        assert problems, f"known failure now passes: {case['label']}: set expect to pass"
    else:
        assert not problems, problems


def test_attribution_tiny_registry_and_own_outlet():
    reg = OutletRegistry([
        Outlet("Example Wire", ("example.org",), ("EXW",), "agency"),
        Outlet("Sample Daily", ("sample.net",), (), "news"),
    ])
    text = "A farmer told EXW that the Sample Daily reported the raid."
    assert [c.outlet for c in find_citations(text, reg, None)] == ["Example Wire", "Sample Daily"]
    assert [c.outlet for c in find_citations(text, reg, "Sample Daily")] == ["Example Wire"]
    kinds = {a.kind for a in find_informants(text, registry=reg, own_outlet="Sample Daily")}
    assert kinds == {"resident", "media"}


def test_attribution_every_fact_explained():
    text = "“Police came at night and took him away,” a resident of Hyesan told Daily NK."
    reg = load_outlets()
    for a in find_informants(text, registry=reg):
        assert a.why is not None and a.why.component == "attribution.v1"
        assert text[a.evidence.start : a.evidence.end] == a.evidence.text
    (q,) = find_quotes(text)
    assert q.span.text == "Police came at night and took him away,"
    assert q.speaker is not None and q.speaker.kind == "resident"
    (c,) = find_citations(text, reg, None)
    assert c.outlet == "Daily NK" and c.why is not None and c.why.rule.startswith("cite.")


@settings(max_examples=120, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab “”\"\n.,:")) | st.characters(), max_size=300))
def test_attribution_never_crash(text):
    reg = load_outlets()
    for q in find_quotes(text):
        assert text[q.span.start : q.span.end] == q.span.text
    for a in find_informants(text, registry=reg):
        assert a.kind in SOURCE_KINDS
    for c in find_citations(text, reg, None):
        assert text[c.evidence.start : c.evidence.end] == c.evidence.text


def test_attribution_hostile_input_is_linear():
    reg = load_outlets()
    for blob in ["“" * 100_000, "\"a\" " * 50_000, "the source said " * 20_000, "told RFA " * 30_000, "소식통 source, " * 20_000]:
        t0 = time.perf_counter()
        find_quotes(blob)
        find_informants(blob, registry=reg)
        find_citations(blob, reg, None)
        assert time.perf_counter() - t0 < 15, blob[:20]


# -- the shared word index and the matchers built on it: the fast paths must find exactly what a
# -- plain scan finds (the reference implementations below are the straightforward versions).

_WORDY = st.lists(st.sampled_from(
    ["the", "The", "THE", "Daily", "NK", "Radio", "Free", "Asia", "a", "local", "source", "told", "said",
     "Ministry", "of", "State", "Security", "human", "rights", "groups", "ſ", "K", "İ", "ı", "한국", "2019",
     "²", " ", "  ", "\n", "-", "'", "’", ".", ",", "(", ")"]), max_size=60).map("".join)


def _plain_phrases(matcher, text):
    """Every token tried in turn, as before the word index."""
    import re

    from rightsledger.extract.lexicon import _GAP, longest_first

    toks = [(m.start(), m.end(), m.group(0).lower()) for m in re.finditer(r"\w+", text)]
    out = []
    for i in range(len(toks)):
        for seq in matcher._first.get(toks[i][2], []):
            k = len(seq)
            if i + k <= len(toks) and all(
                toks[i + j][2] == seq[j] and _GAP.fullmatch(text, toks[i + j - 1][1], toks[i + j][0]) for j in range(1, k)
            ):
                out.append((toks[i][0], toks[i + k - 1][1], matcher._phrase[seq]))
                break
    keep = set(longest_first((s, e) for s, e, _ in out))
    return [h for h in out if (h[0], h[1]) in keep]


@settings(max_examples=300, deadline=None)
@given(_WORDY)
def test_attribution_phrase_matcher_finds_what_a_plain_scan_finds(text):
    from rightsledger.extract.lexicon import PhraseMatcher

    matcher = PhraseMatcher(["Daily NK", "the Daily NK", "Radio Free Asia", "Free Asia", "the", "State Security",
                             "Ministry of State Security", "source", "local source", "human rights groups"])
    assert matcher.find(text) == _plain_phrases(matcher, text)


def test_attribution_phrase_matcher_prefers_the_longest_phrase():
    from rightsledger.extract.lexicon import PhraseMatcher

    matcher = PhraseMatcher(["State Security", "Ministry of State Security", "the"])
    text = "Officers of the Ministry of State Security came; State Security agents followed."
    assert [text[s:e] for s, e, _ in matcher.find(text)] == ["the", "Ministry of State Security", "State Security"]


@settings(max_examples=300, deadline=None)
@given(_WORDY)
def test_attribution_word_start_regex_matches_like_the_plain_regex(text):
    from rightsledger.extract.attribution import _rules

    r = _rules()
    for fast in (r.media_phrases, r.org_names):
        assert [(m.span(), m.group(0)) for m in fast.finditer(text)] == [(m.span(), m.group(0)) for m in fast.regex.finditer(text)]


# -- a phrase regex is tried at a first word only where the next word can continue a phrase
# -- ("the" before "Ministry"); it must find what the plain regex finds, in windows and slices too.

_FOLLOWED_PHRASES = ["the Ministry", "the Ministry of Truth", "Ministry of Truth", "The Sun", "Free Press", "Freedom", "U.S. embassy"]
_FOLLOWED_PIECES = texts_of(["the", "The", "THE", "Ministry", "ministry", "Ministries", "of", "Truth", "Sun", "Sunday", "Free",
                             "Freedom", "Press", "U.S.", "embassy", "x", "2", " ", "  ", "\n", "-", "'", ".", "한국"], 24)


def _followed_regexes():
    import re

    from rightsledger.extract.lexicon import WordStartRegex, alternation

    alt = alternation(_FOLLOWED_PHRASES)
    yield WordStartRegex(re.compile(rf"(?<!\w){alt}(?!\w)", re.IGNORECASE), _FOLLOWED_PHRASES)
    yield WordStartRegex(re.compile(rf"(?<![\w\-])(?:[Tt]he[ \t]{{1,3}})?{alt}(?![\w\-])"), _FOLLOWED_PHRASES, ["the"])
    yield WordStartRegex(re.compile(rf"(?<!\w)(?:the\s+)?{alt}(?!\w)", re.IGNORECASE), _FOLLOWED_PHRASES, ["the"])


@settings(max_examples=400, deadline=None)
@given(_FOLLOWED_PIECES, st.integers(0, 80), st.integers(0, 80))
def test_word_start_regex_next_word_filter_matches_the_plain_regex(text, a, b):
    lo, hi = sorted((min(a, len(text)), min(b, len(text))))
    for fast in _followed_regexes():
        assert fast.followers  # the filter is in use
        rx = fast.regex
        assert spans(fast.finditer(text)) == spans(rx.finditer(text))
        assert spans(fast.finditer_windows(text, [(lo, hi)])) == spans(rx.finditer(text, lo, hi))
        assert spans(fast.finditer_slice(text, lo, hi)) == spans(rx.finditer(text[lo:hi]))


def test_word_start_regex_next_word_filter_keeps_one_word_phrases():
    from rightsledger.extract.lexicon import _followers

    followers = _followers(["the Sun", "Freedom", "Free Press", "the"], [])
    assert "the" not in followers and "freedom" not in followers and followers["free"] == ("press",)
    assert _followers(["Sun", "the Sun"], ["the"]) == {"the": ("sun", "the")}  # "the the Sun": either could open it
    assert _followers(["Süd Press", "the Sun"], ["the"]) == {}


def test_attribution_word_start_regex_without_leading_word_scans_everything():
    import re

    from rightsledger.extract.lexicon import WordStartRegex

    rx = WordStartRegex(re.compile(r"\(AFP\)|Yonhap"), ["(AFP)", "Yonhap"])
    assert rx.firsts is None
    assert [m.group(0) for m in rx.finditer("Seoul (AFP) - Yonhap said")] == ["(AFP)", "Yonhap"]


@settings(max_examples=200, deadline=None)
@given(_WORDY)
def test_attribution_word_index_holds_every_token(text):
    import re

    from rightsledger.extract.lexicon import words

    index = words(text)
    toks = tuple((m.start(), m.end(), m.group(0).lower()) for m in re.finditer(r"\w+", text))
    assert index.toks == toks and index.starts == tuple(t[0] for t in toks)
    assert index.numeric == tuple(i for i, t in enumerate(toks) if text[t[0]].isdigit())
    assert index.non_ascii == tuple(i for i, t in enumerate(toks) if not text[t[0] : t[1]].isascii())
    assert sorted(i for ids in index.where.values() for i in ids) == list(range(len(toks)))
    assert all(toks[i][2] == w for w, ids in index.where.items() for i in ids)


def test_attribution_citations_computed_once_still_drop_the_own_outlet(registry):
    text = ("Seoul (AFP) - Two families were exiled, a resident told Daily NK. "
            "According to Radio Free Asia, the order came from Pyongyang.")
    everything = [c.outlet for c in find_citations(text, registry)]
    assert len(everything) >= 2
    own = everything[0]
    assert [c.outlet for c in find_citations(text, registry, own)] == everything[1:]
    # Each call returns its own objects: changing one result does not change the next.
    first = find_citations(text, registry)
    first[0].outlet = "changed"
    assert find_citations(text, registry)[0].outlet == own
    informants = find_informants(text, registry=registry, own_outlet=own)
    assert not any(a.kind == "media" and a.evidence.text == own for a in informants)


# -- the appositive outlet pattern ("the daily Minju Sinmun") is tried only where one of its first
# -- words stands, read off the pattern; it must find exactly what a scan of the whole text finds.

_APPOSITIVE_PIECES = st.lists(st.sampled_from(
    ["the", "daily", "Daily", "newspaper", "news", "agency", "site", "weekly", "tabloid", "magazine", "broadcaster",
     "Minju", "Sinmun", "Tongil", "Herald", "O'Neill", "reported", "said", "xdaily", "dailyx", "ſ", "K", "İ",
     "한국", "9", " ", "  ", "\n", "-", ".", ",", "(", "’"]), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_APPOSITIVE_PIECES)
def test_citations_appositive_word_scan_matches_the_plain_pattern(text):
    import re

    from rightsledger.extract.lexicon import WordStartRegex, lexicon

    plain = re.compile(lexicon("citations")["appositive"])
    fast = WordStartRegex.of(plain)
    assert fast.firsts is not None  # its first words are known
    assert [m.group(0) for m in fast.finditer(text)] == [m.group(0) for m in plain.finditer(text)]
    assert [m.span() for m in fast.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_citations_word_scan_needs_a_pattern_that_starts_at_a_word():
    import re

    from rightsledger.extract.lexicon import WordStartRegex

    inside = WordStartRegex.of(re.compile("daily (?P<name>[A-Z]\\w+)"))  # could start inside "bidaily"
    assert inside.firsts is None
    text = "a bidaily Herald"
    assert [m.span() for m in inside.finditer(text)] == [m.span() for m in re.finditer("daily (?P<name>[A-Z]\\w+)", text)]


# -- the reported-name pattern ("Joong Ang Ilbo reported") is scanned only in windows before its
# -- closing verbs; it must find exactly what a scan of the whole text finds.

_REPORTED_PIECES = st.lists(st.sampled_from(
    ["Joong", "Ang", "Ilbo", "South", "Korea's", "Yonhap", "The", "A", "newspaper", "daily", "reported", "reports",
     "report", "said", "says", "saidx", "wrote", "Wrote", "reportedly", "x", "K", "İ", "한국", "9",
     " ", "  ", " ", "\t", "\n", "-", ".", ",", "’", "'"]), max_size=60).map("".join)


@settings(max_examples=400, deadline=None)
@given(_REPORTED_PIECES)
def test_citations_reported_name_window_scan_matches_the_plain_pattern(text):
    import re

    from rightsledger.extract.lexicon import EndLiteralRegex, lexicon

    plain = re.compile(lexicon("citations")["reported_name"])
    fast = EndLiteralRegex(plain)
    assert fast.literals is not None  # the fast path applies to the packaged pattern
    assert [(m.span(), m.group("name")) for m in fast.finditer(text)] == [(m.span(), m.group("name")) for m in plain.finditer(text)]



@settings(max_examples=400, deadline=None)
@given(_REPORTED_PIECES, st.integers(min_value=0, max_value=20))
def test_citations_reported_name_matches_the_repeat_first_spelling(text, pos):
    """The packaged pattern opens with one capitalised word so that the engine can scan ahead for
    a capital; it must match what "(?:word){1,4}" matches, groups included."""
    import re

    from rightsledger.extract.lexicon import lexicon

    packaged = re.compile(lexicon("citations")["reported_name"])
    word = r"[A-Z][\w\u2019\u0027\-]{0,20}[ \t]{1,2}"
    plain = re.compile(rf"(?P<name>(?:{word}){{1,4}})(?:newspaper[ \t]{{1,2}}|daily[ \t]{{1,2}})?(?:reported|reports|said|says|wrote)\b")
    assert [(m.span(), m.group("name")) for m in packaged.finditer(text, pos)] == \
        [(m.span(), m.group("name")) for m in plain.finditer(text, pos)]

def test_end_literal_regex_scans_whole_text_when_unsafe():
    import re

    from rightsledger.extract.lexicon import EndLiteralRegex

    # Case-insensitive, unbounded, ending in a class or looking ahead: no fast path.
    for pattern, flags in (("[A-Z]+ said", re.IGNORECASE), ("[A-Z]+ said", 0), ("[A-Z] \\w", 0), ("[A-Z] said(?= now)", 0)):
        rx = EndLiteralRegex(re.compile(pattern, flags))
        assert rx.literals is None
        text = "X said now, Y SAID now"
        assert [m.span() for m in rx.finditer(text)] == [m.span() for m in re.compile(pattern, flags).finditer(text)]
    bounded = EndLiteralRegex(re.compile("[A-Z]\\w{0,5} (?:said|wrote)\\b"))
    assert bounded.literals == ("said", "wrote")
    assert [m.group(0) for m in bounded.finditer("Kim said; Lee saidx; Park wrote")] == ["Kim said", "Park wrote"]


_AFTER_PIECES = st.lists(st.sampled_from(
    ["said", "Said", "saidx", "told", "according", "reported", "the", "source", "U.S.", "x" * 30, "e.g", "K", "ſ",
     " ", " ", "  ", ".", "!", "?", "\n", ",", "-", "’"]), max_size=40).map("".join)


@settings(max_examples=400, deadline=None)
@given(_AFTER_PIECES, _AFTER_PIECES, _AFTER_PIECES)
def test_attribution_verb_after_phrase_answers_like_the_rule(before, window, after):
    """The window is read inside its document: words cut by its ends count as the window has them."""
    from rightsledger.extract.attribution import _rules, _verb_follows

    r = _rules()
    text = before + window + after
    assert _verb_follows(text, len(before), len(before) + len(window), r) == bool(r.after_verb.search(window))


@pytest.mark.parametrize(("text", "cited"), [
    ("A trader in Hyesan told Daily NK that prices rose.", ["Daily NK"]),
    ("Phones were smuggled into the country.\nDaily NK 2024", []),  # "into", not "to"
    ("The story was exciting Daily NK readers.", []),  # "exciting", not "citing"
])
def test_citations_cue_before_an_outlet_is_a_whole_word(text, cited):
    from rightsledger.extract.attribution import _default_registry, find_citations

    assert [c.outlet for c in find_citations(text, _default_registry())] == cited



@settings(max_examples=500, deadline=None)
@given(texts_of([" ", "\u00a0", "\n", "\t", ".", "!", "?", ",", "a", "word"]), st.integers(min_value=0, max_value=8))
def test_sentence_end_matches_what_the_plain_alternation_matches(text, pos):
    import re

    from rightsledger.extract.attribution import _SENT_END

    plain = re.compile(r"[.!?](?:[\s\u00a0]|$)|\n")
    assert spans(_SENT_END.finditer(text, pos)) == spans(plain.finditer(text, pos))


@settings(max_examples=500, deadline=None)
@given(texts_of(["\u201c", "\u201d", '"', "a", " ", "word", "\n"]), st.integers(min_value=0, max_value=8), st.integers(min_value=0, max_value=12))
def test_quote_mark_finds_what_the_character_class_finds(text, lo, hi):
    import re

    from rightsledger.extract.attribution import _quote_mark

    m = re.compile(r"[\u201c\u201d\"]").search(text, lo, hi)
    assert _quote_mark(text, lo, hi) == (m.start() if m else -1)


def test_a_quote_opened_again_before_it_closes_runs_on_to_the_next():
    from rightsledger.extract.attribution import _quote_spans

    text = "He said: \u201cthe first part runs on \u201cand the second is closed\u201d here."
    assert [(text[s:e], rule) for s, e, rule in _quote_spans(text)] == [
        ("the first part runs on", "quote.to_paragraph_end"), ("and the second is closed", "quote.closed")]


@settings(max_examples=400, deadline=None)
@given(texts_of(["state", "State", "STATE", "media", " ", "-", "\n", "the", "The", "paper", "daily", "UN", "U.N.", "U", "N", ".",
                 "Human", "Rights", "Watch", "South", "Korea", "'s", "\u2019s", "\u02bcs", "spy", "agency", "x"]))
def test_media_and_organisation_phrases_said_absent_by_their_words_are_absent(text):
    from rightsledger.extract.attribution import _may_occur, _rules

    r = _rules()
    for fast, listed_words in ((r.media_phrases, r.media_words), (r.org_names, r.org_words)):
        if not _may_occur(text, listed_words):
            assert not list(fast.regex.finditer(text))


@pytest.mark.parametrize("text", ["Two guards were arrested in Manpo, a resident told Daily NK on Friday.",
                                  "Two guards were arrested in Manpo, a resident told the Daily NK."])
def test_media_phrase_cutting_or_running_past_an_outlet_name_is_that_outlet(text, registry):
    """"daily" heads media phrases ("a South Korean daily"); in "Daily NK on Friday" it is part of a name."""
    media = [a for a in find_informants(text, registry=registry) if a.kind == "media"]
    assert [(a.name, a.why.rule if a.why else None) for a in media] == [("Daily NK", "informant.cited_outlet")]
