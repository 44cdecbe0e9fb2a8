from datetime import date

import pytest

from rightsledger.link import duplicates, load_settings
from rightsledger.link.duplicates import compare, find_duplicates, fingerprint
from test_link_support import report

S = load_settings()

STORY = (
    "Authorities in Hyesan expelled six households from the city last month after relatives of the "
    "families were caught crossing the river into China, a resident of the city said. The families were "
    "loaded onto a truck at dawn and driven to a remote farm in Samsu county, where they were told to "
    "report to the local security office every week. Neighbours were warned not to speak about the case, "
    "and the head of the neighbourhood watch unit was dismissed for failing to report the crossings, the "
    "resident added, asking not to be named for safety reasons."
)
OTHER = (
    "A court in Chongjin sentenced eleven traders to labour camp terms for selling foreign films and "
    "mobile phones, according to a source in North Hamgyong. The trial was held in a school hall and "
    "workers from nearby factories were ordered to attend. Two of the traders were women who had run "
    "stalls at the city market for a decade, the source said, and their families lost their homes."
)


def test_duplicates_syndicated_copies_with_different_boilerplate():
    a = report("d1", "Home | World | Asia\n" + STORY + "\nShare this story. Copyright Example Wire.", published=date(2023, 5, 2))
    b = report("d2", "Breaking news from the region.\n" + STORY + "\nSubscribe to our newsletter for more.", published=date(2023, 5, 4))
    c = report("d3", OTHER, published=date(2023, 5, 3))
    assert find_duplicates([b, c, a], S) == {"d1": None, "d2": "d1", "d3": None}


def test_duplicates_short_copy_inside_longer_page():
    short = report("s", STORY[:420], published=date(2023, 6, 1))
    long = report("l", OTHER + "\n\n" + STORY + "\n\n" + OTHER.replace("Chongjin", "Kimchaek"), published=date(2023, 5, 30))
    match = compare(fingerprint(short.text, S), fingerprint(long.text, S), S)
    assert match is not None and "shorter text" in match[1]
    assert find_duplicates([short, long], S) == {"s": "l", "l": None}


def test_duplicates_copy_of_a_copy_points_to_the_earliest():
    first = report("a", STORY, published=date(2023, 1, 1))
    copy = report("b", "Wire report. " + STORY, published=date(2023, 1, 2))
    copy_of_copy = report("c", "Wire report. " + STORY + " Reprinted with permission.", published=None)
    assert find_duplicates([copy_of_copy, copy, first], S) == {"a": None, "b": "a", "c": "a"}


def test_duplicates_same_topic_different_words_are_not_copies():
    rewritten = (
        "Six families were forced out of Hyesan in the past month because some of their relatives fled "
        "across the border, according to someone living there. Officials sent them by lorry to a farm in "
        "Samsu and ordered them to check in with security agents each week."
    )
    assert compare(fingerprint(STORY, S), fingerprint(rewritten, S), S) is None


def test_duplicates_fingerprint_is_deterministic():
    assert fingerprint(STORY, S) == fingerprint(STORY, S)
    assert fingerprint(STORY, S).bands != fingerprint(OTHER, S).bands


def test_duplicates_candidate_search_is_sub_quadratic(monkeypatch):
    calls = []
    real = duplicates.compare
    monkeypatch.setattr(duplicates, "compare", lambda a, b, s: calls.append(1) or real(a, b, s))
    docs = [report(f"n{i:03d}", f"Report number {i}: " + " ".join(f"word{i}x{j}" for j in range(60))) for i in range(200)]
    docs.append(report("copy", "Reprint. " + docs[7].text))
    result = find_duplicates(docs, S)
    assert result["n007"] == "copy"  # neither is dated: the smaller id stands for the group
    assert sum(1 for v in result.values() if v) == 1
    assert len(calls) < 50  # all pairs would be 20,100


@pytest.mark.parametrize("text", ["", "Too short.", "    "])
def test_duplicates_short_texts_never_match(text):
    assert compare(fingerprint(text, S), fingerprint(text + " ", S), S) is None
