from datetime import date

import pytest

from rightsledger.link import load_settings
from rightsledger.link.cases import block_keys, case_id, cluster, match_documents, profile, score_pair
from rightsledger.link.evidence import DocLink
from test_link_support import add_incident, report

S = load_settings()


def _p(doc_id, *, when=None, places=("Hyesan",), victims=((12, "persons"),), types=("arbitrary_detention",), published=date(2024, 3, 20), **kw):
    doc = report(doc_id, f"Invented report {doc_id} about an event.", outlet=kw.pop("outlet", f"Outlet {doc_id}"), published=published)
    add_incident(doc, "about an event", types=types, when=when, places=places, victims=victims, **kw)
    return profile(doc, doc.incidents[0])


def rules(pair):
    return {r.rule for r in pair.reasons}


def test_cases_same_count_different_year_and_province_is_vetoed():
    a = _p("a", when=(date(2019, 6, 1), "month"), places=("Chongjin",), victims=((30, "families"),))
    b = _p("b", when=(date(2022, 6, 1), "month"), places=("Sinwon",), victims=((30, "families"),))
    pair = score_pair(a, b, [], S)
    assert pair.vetoed and {"dates_differ", "places_differ", "victims_equal"} <= rules(pair)


def test_cases_month_precision_overlaps_a_day_in_that_month():
    a = _p("a", when=(date(2024, 3, 1), "month"))
    b = _p("b", when=(date(2024, 3, 17), "day"))
    pair = score_pair(a, b, [], S)
    assert "date_month" in rules(pair) and not pair.vetoed
    c = _p("c", when=(date(2024, 5, 17), "day"))
    assert "dates_differ" in rules(score_pair(a, c, [], S))


def test_cases_unknown_date_is_compatible_but_weak():
    a = _p("a", when=None)
    b = _p("b", when=(date(2024, 3, 17), "day"))
    pair = score_pair(a, b, [], S)
    assert not pair.vetoed and "date_unknown" in rules(pair)
    assert pair.score < score_pair(_p("c", when=(date(2024, 3, 17), "day")), b, [], S).score


def test_cases_an_event_after_the_report_was_published_is_vetoed():
    a = _p("a", when=None, published=date(2020, 1, 5))
    b = _p("b", when=(date(2024, 3, 17), "day"))
    assert "date_after_report" in rules(score_pair(a, b, [], S))


def test_cases_places_contain_one_another():
    village = _p("a", places=("Ryongwol",))
    county = _p("b", places=("Sinwon",))
    province = _p("c", places=("South Hwanghae",))
    country = _p("d", places=("North Korea",))
    assert "place_near" in rules(score_pair(village, county, [], S)) or "place_contains" in rules(score_pair(village, county, [], S))
    assert "place_contains" in rules(score_pair(village, province, [], S))
    assert "place_country" in rules(score_pair(county, country, [], S))
    assert "places_differ" in rules(score_pair(village, _p("e", places=("Chongjin",)), [], S))


def test_cases_counts_equal_approximate_and_different():
    a = _p("a", victims=((30, "families"),))
    assert "victims_equal" in rules(score_pair(a, _p("b", victims=((30, "households"),)), [], S))
    assert "victims_approx" in rules(score_pair(a, _p("c", victims=((33, "families"),), approximate=True), [], S))
    assert "victims_differ" in rules(score_pair(a, _p("d", victims=((80, "families"),)), [], S))


def test_cases_disjoint_types_veto_and_copies_waive_date_vetoes():
    a = _p("a", types=("killing",), when=(date(2024, 3, 1), "day"))
    b = _p("b", types=("forced_labor",), when=(date(2024, 3, 1), "day"))
    assert score_pair(a, b, [], S).vetoed
    c = _p("c", when=(date(2024, 1, 3), "day"))
    d = _p("d", when=(date(2024, 3, 3), "day"))  # "two months ago" resolved against different dates
    assert score_pair(c, d, [], S).vetoed
    assert not score_pair(c, d, [DocLink("duplicate", "d", "c", 1.0)], S).vetoed


def test_cases_shared_informant_and_organisation_add_evidence():
    a = _p("a", sources=(("organization", "the Committee for Religious Freedom in Korea"), ("resident", "a resident of Hyesan city")))
    b = _p("b", sources=(("organization", "Committee for Religious Freedom in Korea"), ("resident", "a resident of Hyesan city")))
    assert {"organisation_shared", "informant_shared"} <= rules(score_pair(a, b, [], S))


def test_cases_blocking_keys_meet_when_they_should():
    def meet(x, y):
        rx, qx = block_keys(x, S)
        ry, qy = block_keys(y, S)
        return bool(qx & ry or qy & rx)

    dated = _p("a", when=(date(2024, 3, 1), "month"))
    assert meet(dated, _p("b", when=(date(2024, 3, 9), "day"), places=("Samsu",)))  # same province and year
    assert meet(dated, _p("c", when=None, published=date(2024, 5, 1)))  # undated, published that year
    assert meet(dated, _p("d", when=None, published=None))  # nothing known: still compared
    assert meet(dated, _p("e", when=(date(2024, 3, 1), "month"), places=("North Korea",)))  # country contains province
    assert not meet(dated, _p("f", when=(date(2019, 3, 1), "month")))  # another year
    assert not meet(dated, _p("g", when=(date(2024, 3, 1), "month"), places=("Sinwon",)))  # another province
    assert not meet(dated, _p("h", when=(date(2024, 3, 1), "month"), types=("killing",)))  # another type


def test_cases_match_documents_is_one_to_one():
    x1 = _p("x", victims=((80, "persons"),), types=("killing",), when=(date(2024, 3, 1), "month"))
    y1 = _p("y", victims=((80, "persons"),), types=("killing",), when=(date(2024, 3, 1), "month"))
    y2 = _p("y", victims=((8, "persons"),), types=("killing",), when=(date(2024, 3, 1), "month"))
    y2 = type(y2)(**{**{f: getattr(y2, f) for f in y2.__slots__}, "incident_id": "y-i2"})
    matched = match_documents([x1], [y2, y1], [DocLink("quote", "x", "y", 1.0)], S)
    assert [(m.a, m.b) for m in matched] == [(("x", "x-i1"), ("y", "y-i1"))]


def test_cases_cluster_refuses_vetoed_merges_and_two_incidents_of_one_document():
    a, b, c = ("d1", "d1-i1"), ("d2", "d2-i1"), ("d3", "d3-i1")
    a2 = ("d1", "d1-i2")
    pa, pb = _p("d1"), _p("d2")
    edges = [score_pair(pa, pb, [], S)]
    weakest = edges[0].score  # a-b is the weakest link, so b-c and a2-c are decided first
    edges.append(type(edges[0])(b, c, weakest + 0.5, []))
    edges.append(type(edges[0])(a2, c, weakest + 0.4, []))
    veto = lambda x, y: "conflict" if {x, y} == {a, c} else None  # noqa: E731
    result = cluster([a, b, c, a2], edges, veto)
    flat = {n: i for i, comp in enumerate(result.components) for n in comp}
    assert flat[b] == flat[c] == flat[a2] and flat[a] != flat[b]
    assert [why for _, why in result.refused] == ["would hold two incidents of document d1"]
    assert case_id([b, c]) == case_id([c, b]) == case_id([b, c, ("d9", "d9-i1")])


def test_cases_same_combination_of_types_counts_more_than_one_shared_type():
    both = ("arbitrary_detention", "collective_punishment")
    a = _p("a", types=both, victims=())
    b = _p("b", types=both + ("religious_persecution",), victims=())
    c = _p("c", types=both, victims=())
    assert "types_overlap" in rules(score_pair(a, b, [], S))
    same = score_pair(a, c, [], S)
    assert "types_same" in rules(same) and same.score - score_pair(a, b, [], S).score == pytest.approx(
        S.weight("types_same") - S.weight("types_overlap"))
    single = score_pair(_p("d"), _p("e"), [], S)  # one shared type alone is only an overlap
    assert "types_overlap" in rules(single) and "types_same" not in rules(single)


def _named(doc_id: str, published: date):
    text = f"Invented report {doc_id}: the photographer Kang Do-hyun was jailed in China."
    doc = report(doc_id, text, outlet=f"Outlet {doc_id}", published=published)
    add_incident(doc, "Kang Do-hyun was jailed in China", types=("arbitrary_detention",), victims=((1, "persons"),))
    return profile(doc, doc.incidents[0])


def test_cases_undated_reports_months_apart_naming_one_person_are_not_penalised():
    early, late = _named("n1", date(2023, 6, 9)), _named("n2", date(2024, 3, 22))
    assert early.names & late.names
    pair = score_pair(early, late, [], S)
    assert "published_apart" not in rules(pair) and "names_shared" in rules(pair)
    unnamed = score_pair(_p("u1", published=date(2023, 6, 9), victims=()), _p("u2", published=date(2024, 3, 22), victims=()), [], S)
    assert "published_apart" in rules(unnamed)
