"""The outlet registry: URLs and names as written in reports -> canonical outlets."""

from __future__ import annotations

from pathlib import Path

import pytest

from rightsledger.errors import DataFileError
from rightsledger.outlets import OUTLET_KINDS, OutletRegistry, Outlet, load_outlets, name_key, outlet_for_url

REQUIRED_CANONICAL = [
    "Radio Free Asia", "Daily NK", "NK News", "Asia Press", "JoongAng Ilbo", "Yonhap", "Reuters", "AFP", "AP",
    "Voice of America", "KCNA", "Rodong Sinmun", "Chosun Ilbo", "Dong-A Ilbo", "Korea Herald", "Korea Times",
    "BBC", "CNN", "Express", "Daily Mail", "Human Rights Watch", "Amnesty International", "HRNK", "NKDB",
]


@pytest.fixture(scope="module")
def registry() -> OutletRegistry:
    return load_outlets()


def test_outlets_packaged_registry_is_large_and_well_formed(registry: OutletRegistry) -> None:
    assert len(registry) >= 60
    names = [o.name for o in registry]
    assert len(names) == len(set(names))
    for name in REQUIRED_CANONICAL:
        assert name in names, name
    for outlet in registry:
        assert outlet.kind in OUTLET_KINDS
        for domain in outlet.domains:
            assert domain == domain.lower() and not domain.startswith("www.")


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("RFA", "Radio Free Asia"),
        ("RFA's Korean Service", "Radio Free Asia"),
        ("Radio Free Asia\u2019s Korean Service", "Radio Free Asia"),
        ("radio free asia's", "Radio Free Asia"),
        ("Daily NK", "Daily NK"),
        ("DailyNK", "Daily NK"),
        ("Daily NK's", "Daily NK"),
        ("the JoongAng Ilbo", "JoongAng Ilbo"),
        ("Korea JoongAng Daily", "JoongAng Ilbo"),
        ("Yonhap News Agency", "Yonhap"),
        ("Agence France-Presse", "AFP"),
        ("(AFP)", "AFP"),
        ("the Associated Press", "AP"),
        ("Rimjin-gang", "Asia Press"),
        ("ASIAPRESS", "Asia Press"),
        ("Daily Express", "Express"),
        ("Reuters'", "Reuters"),
        ("VOA's Korean Service", "Voice of America"),
        ("Committee for Human Rights in North Korea", "HRNK"),
        ("Database Center for North Korean Human Rights", "NKDB"),
        ("Korean Central News Agency", "KCNA"),
        ("THE GUARDIAN", "The Guardian"),
        ("Guardian", "The Guardian"),
    ],
)
def test_outlets_by_name_ignores_case_punctuation_and_possessives(
    registry: OutletRegistry, written: str, canonical: str
) -> None:
    found = registry.by_name(written)
    assert found is not None and found.name == canonical


@pytest.mark.parametrize("written", ["", "   ", "'s", "a resident", "Pyongyang", "Radio"])
def test_outlets_by_name_unknown_names_are_none(registry: OutletRegistry, written: str) -> None:
    assert registry.by_name(written) is None


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("https://www.rfa.org/english/news/korea/x.html", "Radio Free Asia"),
        ("https://english.rfa.org/a", "Radio Free Asia"),
        ("https://WWW.DailyNK.com/english/x/", "Daily NK"),
        ("https://www.nknews.org/2021/05/x/", "NK News"),
        ("https://www.nknews.org/pro/some-analysis/", "NK Pro"),
        ("https://www.nknews.org/profiles", "NK News"),
        ("https://www.express.co.uk/news/world/1", "Express"),
        ("https://koreajoongangdaily.joins.com/2020/07/01/x", "JoongAng Ilbo"),
        ("https://en.yna.co.kr/view/AEN2020", "Yonhap"),
        ("http://rfa.org.:80/korean", "Radio Free Asia"),
        ("rfa.org/korean/x", "Radio Free Asia"),
    ],
)
def test_outlets_by_url_folds_subdomains(registry: OutletRegistry, url: str, canonical: str) -> None:
    found = registry.by_url(url)
    assert found is not None and found.name == canonical


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.rfa.org/english/", "Radio Free Asia"),
        ("https://www.example.com/a", "example.com"),
        ("https://news.example.com/a?b=1", "example.com"),
        ("https://news.example.co.uk/a", "example.co.uk"),
        ("https://notrfa.org/a", "notrfa.org"),
        ("http://192.0.2.7/report", "192.0.2.7"),
        (None, None),
        ("", None),
        ("not a url at all ::", None),
    ],
)
def test_outlets_outlet_for_url_falls_back_to_registered_domain(url: str | None, expected: str | None) -> None:
    assert outlet_for_url(url) == expected


def test_outlets_aliases_for_text_matchers_skip_loose_names(registry: OutletRegistry) -> None:
    pairs = registry.aliases()
    written = [w for w, _ in pairs]
    assert "RFA's Korean Service" in written
    assert "Radio Free Asia" in written  # canonical names are included
    assert "Express" not in written and "Guardian" not in written
    assert "Daily Express" in written
    assert [len(w) for w in written] == sorted((len(w) for w in written), reverse=True)
    assert "Express" in [w for w, _ in registry.aliases(include_loose=True)]


def test_outlets_user_file_adds_and_overrides(tmp_path: Path) -> None:
    user = tmp_path / "my_outlets.toml"
    user.write_text(
        """
[[outlet]]
name = "Hamgyong Observer"
kind = "blog"
domains = ["hamgyong-observer.example.org"]
aliases = ["the Observer in Hamgyong"]

[[outlet]]
name = "radio free asia"
aliases = ["Free Asia Radio"]

[[outlet]]
name = "Mirror Site"
kind = "aggregator"
domains = ["dailynk.com"]
aliases = ["DailyNK"]
""",
        encoding="utf-8",
    )
    reg = load_outlets(user)
    assert reg.by_url("https://hamgyong-observer.example.org/p/1").name == "Hamgyong Observer"  # type: ignore[union-attr]
    assert reg.by_name("The Observer in Hamgyong's").name == "Hamgyong Observer"  # type: ignore[union-attr]
    rfa = reg.by_name("Free Asia Radio")
    assert rfa is not None and rfa.name == "Radio Free Asia" and rfa.domains == ("rfa.org",)
    assert reg.by_name("RFA's Korean Service") is None  # the override replaced the aliases
    assert reg.by_url("https://www.dailynk.com/x").name == "Mirror Site"  # type: ignore[union-attr]
    assert reg.by_name("DailyNK").name == "Mirror Site"  # type: ignore[union-attr]
    assert reg.by_name("Daily NK").name == "Daily NK"  # type: ignore[union-attr]
    # The packaged registry itself is untouched.
    assert load_outlets().by_name("RFA's Korean Service").name == "Radio Free Asia"  # type: ignore[union-attr]


def test_outlets_bad_user_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[outlet]]\nname = "X"\nkind = "tabloid"\n', encoding="utf-8")
    with pytest.raises(DataFileError, match="kind"):
        load_outlets(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("[[outlet]\nname=", encoding="utf-8")
    with pytest.raises(DataFileError, match="broken.toml"):
        load_outlets(broken)


def test_outlets_conflicting_names_are_refused() -> None:
    a = Outlet("Alpha Times", ("alpha.example",), ("AT",), "news")
    b = Outlet("Beta Tribune", ("beta.example",), ("the AT's",), "news")
    with pytest.raises(DataFileError, match="AT"):
        OutletRegistry([a, b])


def test_outlets_name_key_normalises() -> None:
    assert name_key("The JoongAng Ilbo's") == "joongang ilbo"
    assert name_key("(AFP)") == "afp"
    assert name_key("Radio Free Europe/Radio Liberty") == "radio free europe radio liberty"
    assert name_key("the") == "the"
