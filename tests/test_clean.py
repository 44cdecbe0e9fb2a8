"""Clean text: data-driven boilerplate removal and whitespace normalisation with an offset map."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rightsledger.errors import DataFileError
from rightsledger.ingest.clean import clean_text, load_patterns
from rightsledger.ingest.offsets import OffsetMap


def removed_ids(source: str) -> list[str]:
    return [r["pattern"] for r in clean_text(source).removed]


def assert_maps_back(source: str) -> None:
    cleaned = clean_text(source)
    for i, ch in enumerate(cleaned.text):
        j = cleaned.offsets.to_source(i)
        if ch.isspace():
            assert source[j].isspace()
        else:
            assert source[j] == ch, (i, ch, j)


# -- every pattern: what it removes ------------------------------------------------------------

POSITIVES = {
    "newsletter_prompt": [
        "Join our Telegram channel for the latest news",
        "Subscribe to our newsletter",
        "Sign up to receive our free daily newsletter straight to your inbox",
        "Follow us on X for daily updates",
        "To get the latest news, subscribe to our free newsletter",
    ],
    "privacy_notice": [
        "We use cookies to improve your experience. By continuing you agree.",
        "By continuing to use this site you accept our Privacy Policy",
        "Privacy Policy",
        "Terms of Use",
    ],
    "teaser_tag": [
        "Border guards told to shoot smugglers [FOCUS]",
        "Defector families face new travel curbs, sources say [INTERVIEW]",
    ],
    "related_heading": ["Related", "Related articles", "You may also like", "Most read:"],
    "read_more_link": ["Read more: Hoeryong traders lose stalls", "READ MORE: Kim visits farm", "Also read: x"],
    "read_full_article": ["Source: Read Full Article", "Read the full story at NK News", "Continue reading…"],
    "share_buttons": ["Share | Tweet | Email | Print", "Share this article", "Share: Facebook | X | Email", "Comments (14)"],
    "photo_credit_line": ["Photo: AFP", "Photo courtesy of Kim Min-su", "Image: Daily NK", "File photo by Lee Jun"],
    "credit_label_line": ["Credit: Kim Min-su/Flickr", "Source: Getty Images"],
    "advertisement": ["Advertisement", "ADVERTISEMENT", "Story continues below advertisement", "Sponsored content"],
    "copyright": ["© 2021 Radio Free Asia", "Copyright 2020 Example News. All rights reserved.", "All rights reserved."],
    "credits_line": [
        "Translated by Min Ji-seon. Written in English by Daniel Hartley.",
        "Reported by Kim Eun-ha for RFA Korean.",
        "Edited by Jo Park",
    ],
    "tags_line": ["Tags: North Korea, Human rights", "Filed under: Korea"],
    "account_links": ["Sign in | Register", "Back to top", "Skip to content"],
    "donation_prompt": ["Support our independent journalism: donate today.", "Become a member and support our reporting"],
    "contact_prompt": ["Please direct any comments or questions about this article to the desk."],
}


@pytest.mark.parametrize(("pattern", "line"), [(p, line) for p, lines in POSITIVES.items() for line in lines])
def test_clean_pattern_removes_its_boilerplate(pattern: str, line: str) -> None:
    source = f"Officials detained five people.\n{line}\nThe source said they were released."
    cleaned = clean_text(source)
    assert [r["pattern"] for r in cleaned.removed] == [pattern]
    assert cleaned.text == "Officials detained five people.\nThe source said they were released."
    rec = cleaned.removed[0]
    assert source[rec["start"] : rec["end"]] == line


def test_clean_every_packaged_pattern_has_cases_and_comment() -> None:
    patterns = load_patterns()
    ids = {p.id for p in patterns}
    assert ids <= set(POSITIVES) | {"photo_credit_inline"}
    assert all(p.comment.strip() for p in patterns)
    assert len(ids) == len(patterns)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("Soldiers patrol near Sinuiju. (Kim Min-su/Flickr)", "Soldiers patrol near Sinuiju."),
        ("A market in Hyesan (Photo: AFP) was closed.", "A market in Hyesan was closed."),
        ("Ruins of the house (Ed Jones / Getty Images)", "Ruins of the house"),
        ("Kim visited the farm (Yonhap Photo)", "Kim visited the farm"),
    ],
)
def test_clean_inline_photo_credits(source: str, expected: str) -> None:
    cleaned = clean_text(source)
    assert cleaned.text == expected
    assert {r["pattern"] for r in cleaned.removed} == {"photo_credit_inline"}


# -- and what it must keep: real report sentences -----------------------------------------------

NEGATIVES = [
    "He was arrested for joining a Telegram channel run by defectors.",
    "Residents must subscribe to the Rodong Sinmun and read it aloud at meetings.",
    "For privacy reasons the source asked not to be named.",
    "SEOUL (AFP) - China forcibly repatriated around 60 North Koreans this week.",
    "Source: Radio Free Asia",
    "The families were told to share their rations with the newcomers.",
    "A photo of the leader was damaged, and the family was punished.",
    "Photos taken by a resident show the burned houses.",
    "Related cases were reported in Hyesan and Musan last year.",
    "More than 30 families were sent away.",
    "More-or-less every household had to send one worker.",
    "Reported cases rose sharply, the official said.",
    "Copying South Korean dramas is punished severely, the resident said.",
    "The ministry said it would print new identity cards.",
    "Support for the regime among young people is waning, the source said.",
    "Those who watched the dramas [sic] were sent to camps.",
    "Kim Jong-un's orders (Reuters) were read out.",
    "The advertisement for workers in Russia was posted on the factory wall.",
    "Edited videos of the trial were shown in every county.",
    "The lists were sent to the county [office] by the security department.",
    "Security officials told residents to send tips about defectors to the party committee.",
    "Translated into Korean, the order reads: \"Report anyone who leaves\".",
    "Home searches were carried out in every district.",
]


@pytest.mark.parametrize("sentence", NEGATIVES)
def test_clean_keeps_report_sentences(sentence: str) -> None:
    source = f"First paragraph of the report.\n\n{sentence}\n\nLast paragraph."
    cleaned = clean_text(source)
    assert cleaned.removed == []
    assert sentence in cleaned.text


def test_clean_keeps_sentences_inside_a_paragraph_mentioning_boilerplate_words() -> None:
    para = "The official said residents who share foreign videos or subscribe to Telegram channels face arrest. Advertisement boards were torn down."
    assert clean_text(para).text == para


# -- whitespace -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("  a  b\t\tc  ", "a b c"),
        ("a\r\nb", "a\nb"),
        ("a\n\n\n\n b", "a\n\nb"),
        ("a \n \n \n b", "a\n\nb"),
        ("\ufeffText\u200b here", "Text here"),
        ("soft\u00adhyphen", "softhyphen"),
        ("a\u2028b\u2029\u2029c", "a\nb\n\nc"),
        ("bell\x07 char", "bell char"),
        ("", ""),
        (" \n\t ", ""),
    ],
)
def test_clean_normalises_whitespace(source: str, expected: str) -> None:
    assert clean_text(source).text == expected
    assert_maps_back(source)


def test_clean_removed_line_leaves_at_most_one_blank_line() -> None:
    source = "Para one.\n\nAdvertisement\n\nPara two."
    assert clean_text(source).text == "Para one.\n\nPara two."


# -- the offset map ---------------------------------------------------------------------------

_pieces = st.sampled_from(
    ["word", " ", "  ", "\n", "\n\n\n", "\t", "\r\n", "\u200b", "\ufeff", "\u00a0", "é", "평양", "\x00",
     "Advertisement", "Photo: AFP", "(Kim/Flickr)", "Share | Tweet", "[FOCUS]", "Source: Read Full Article", ".", "\u2028"]
)
_texts = st.one_of(st.text(max_size=300), st.lists(st.one_of(_pieces, st.text(max_size=5)), max_size=60).map("".join))


@settings(max_examples=300, deadline=None)
@given(_texts)
def test_clean_offset_map_points_at_the_same_character(source: str) -> None:
    cleaned = clean_text(source)
    text, om = cleaned.text, cleaned.offsets
    assert om.length == len(text)
    prev = -1
    for i, ch in enumerate(text):
        j = om.to_source(i)
        assert 0 <= j < len(source)
        assert j > prev  # order is preserved
        prev = j
        if not ch.isspace():
            assert source[j] == ch
    assert "  " not in text and "\n\n\n" not in text
    assert text == text.strip()
    assert OffsetMap.from_json(om.to_json()) == om


@settings(max_examples=100, deadline=None)
@given(_texts, st.data())
def test_clean_span_maps_to_source_span(source: str, data: st.DataObject) -> None:
    cleaned = clean_text(source)
    n = len(cleaned.text)
    start = data.draw(st.integers(0, n))
    end = data.draw(st.integers(start, n))
    s, e = cleaned.offsets.span_to_source(start, end)
    assert 0 <= s <= e <= len(source)
    # Cleaning only deletes and rewrites whitespace: the clean span's visible characters are a
    # subsequence of the source span.
    rest = iter(source[s:e])
    assert all(ch in rest for ch in cleaned.text[start:end] if not ch.isspace())
    if start < end and not cleaned.text[start].isspace():
        assert source[s] == cleaned.text[start]


def test_clean_offset_map_end_and_bounds() -> None:
    source = "  ab   cd  "
    om = clean_text(source).offsets
    assert om.to_source(0) == 2 and om.to_source(3) == 7 and om.to_source(5) == 9
    with pytest.raises(IndexError):
        om.to_source(6)
    assert OffsetMap.identity(4).to_source(4) == 4


def test_clean_is_linear_on_hostile_text() -> None:
    nasty = ("(" * 5000 + "a/" * 5000 + "Photo " * 2000 + "\n" + "x" * 200_000 + "\n" + "Share | " * 10_000 + "\n") * 3
    start = time.perf_counter()
    cleaned = clean_text(nasty)
    assert time.perf_counter() - start < 5
    assert_maps_back(nasty[:5000])
    assert cleaned.text


def test_clean_user_patterns_add_and_replace(tmp_path: Path) -> None:
    extra = tmp_path / "boiler.toml"
    extra.write_text(
        """
[[pattern]]
id = "house_promo"
comment = "our own promo line"
scope = "line"
regex = 'Listen to the Border Hour podcast'

[[pattern]]
id = "advertisement"
comment = "replaced: nothing is an advertisement"
scope = "line"
regex = 'NEVER-MATCHES-ANYTHING'
""",
        encoding="utf-8",
    )
    patterns = load_patterns(extra)
    out = clean_text("A.\nListen to the Border Hour podcast\nAdvertisement\nB.", patterns)
    assert out.text == "A.\nAdvertisement\nB."
    assert [r["pattern"] for r in out.removed] == ["house_promo"]


def test_clean_bad_pattern_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[pattern]]\nid = "x"\nscope = "line"\nregex = "(unclosed"\n', encoding="utf-8")
    with pytest.raises(DataFileError, match="'x' has a bad regex"):
        load_patterns(bad)
