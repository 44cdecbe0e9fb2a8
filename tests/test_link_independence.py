from datetime import date

from rightsledger.link.evidence import DocLink
from rightsledger.link.independence import assess
from test_link_support import add_incident, report


def _member(doc_id, outlet, *, cites=(), text=None, victims=((30, "families"),), places=("Hyesan",), sources=()):
    doc = report(doc_id, text or f"Thirty families were expelled, {' and '.join(cites) or 'our source'} said.", outlet=outlet,
                 published=date(2023, 7, int(doc_id[-1]) + 1), cites=cites)
    inc = add_incident(doc, "Thirty families were expelled", types=("forced_relocation",), places=places, victims=victims, sources=sources)
    return doc, [inc]


def test_independence_agency_relaying_a_newspaper_counts_the_newspaper_once():
    members = [
        _member("d1", "JoongAng Ilbo"),
        _member("d2", "Hurriyet Daily", cites=("AFP", "JoongAng Ilbo")),
        _member("d3", "Blog Weekly", cites=("JoongAng Ilbo",)),
    ]
    a = assess(members, [], {})
    assert a.independent_origins == ["JoongAng Ilbo"]
    assert [m.role for m in a.members] == ["origin", "re-report", "re-report"]
    assert a.status == "single_source"


def test_independence_copy_inherits_its_original_and_is_not_a_conflict():
    members = [_member("d1", "Outlet One"), _member("d2", "Mirror Site", victims=((31, "families"),))]
    a = assess(members, [DocLink("duplicate", "d2", "d1", 0.9)], {"d2": "d1"})
    assert a.independent_origins == ["Outlet One"]
    assert [m.role for m in a.members] == ["origin", "copy"]
    assert a.conflicts == [] and a.status == "single_source"


def test_independence_disagreeing_provinces_are_listed():
    members = [_member("d1", "Outlet One", places=("Hyesan",)), _member("d2", "Outlet Two", places=("Chongjin",))]
    a = assess(members, [], {})
    assert a.status == "contested"
    assert a.conflicts == [{"fact": "province", "values": {"North Hamgyong": ["d2"], "Ryanggang": ["d1"]}}]


def test_independence_facts_name_their_supporting_reports():
    members = [_member("d1", "Outlet One"), _member("d2", "Outlet Two", victims=((30, "households"),))]
    a = assess(members, [], {})
    assert a.facts["victims"] == {"30 families": ["d1"], "30 households": ["d2"]}
    assert a.facts["types"] == {"forced_relocation": ["d1", "d2"]}
