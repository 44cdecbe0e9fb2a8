"""Name normalisation: spelling families meet, suffixes become level hints."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rightsledger.gazetteer.normalise import fold, korean_key, split_suffix


@pytest.mark.parametrize("names", [
    ("Sinkye", "Sin'gye", "Singye", "Sin-gye", "Sin’gye"),
    ("Ch'ŏngjin", "Chongjin", "Cheongjin"),
    ("Hoiryeong", "Hoeryong", "Hoeryŏng"),
    ("Yangkang", "Ryanggang", "Yanggang"),
    ("Hamkyung", "Hamgyong", "Hamgyeong"),
    ("Chaeryong", "Jaeryeong", "Chaeryŏng"),
    ("Nyongbyon", "Yongbyon", "Yeongbyeon"),
    ("Rangrim", "Nangnim"),
    ("Phyongyang", "Pyongyang", "P'yŏngyang", "Pyeongyang"),
    ("Sinuiju", "Sinŭiju", "Shinuiju"),
])
def test_normalise_korean_key_joins_spellings(names: tuple[str, ...]) -> None:
    assert len({korean_key(n) for n in names}) == 1


@pytest.mark.parametrize("a,b", [("Ryongwol", "Nyongwon"), ("Sinwon", "Sinpo"), ("Hyesan", "Haeju")])
def test_normalise_korean_key_keeps_distinct_names_apart(a: str, b: str) -> None:
    assert korean_key(a) != korean_key(b)


def test_normalise_fold() -> None:
    assert fold("Ch'ŏngjin") == "chongjin"
    assert fold("St. Petersburg") == "st petersburg"
    assert fold("신계군") == "신계군"
    assert fold("  ") == ""


@pytest.mark.parametrize("name,base,hint", [
    ("Sin-gye-gun", "Sin-gye", "county"),
    ("신계군", "신계", "county"),
    ("Sinwon county", "Sinwon", "county"),
    ("Ryongwol-ri", "Ryongwol", "village"),
    ("Sariwŏn-si", "Sariwŏn", "city"),
    ("Kapsan-ŭp", "Kapsan", "city"),
    ("Hwanghae-namdo", "Hwanghae-namdo", None),
    ("Kangwon Province", "Kangwon", "province"),
    ("Hyesan", "Hyesan", None),
])
def test_normalise_split_suffix(name: str, base: str, hint: str | None) -> None:
    assert split_suffix(name) == (base, hint)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aabsz") + ["ſ", "K", "İ", "ı", "A", "-", " ", "1"]), max_size=16))
def test_normalise_runs_of_a_letter_collapse_as_the_backreference_spelling_does(s: str) -> None:
    from rightsledger.gazetteer.normalise import _DOUBLE_RE

    assert _DOUBLE_RE.sub("", s) == re.sub(r"([a-z])\1+", r"\1", s)
