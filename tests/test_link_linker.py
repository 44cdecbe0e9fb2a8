"""End-to-end linking of invented reports: cases, origins, status, incremental runs."""

import random
from datetime import date

from rightsledger.link.cases import case_id
from rightsledger.link import InMemoryIndex, Linker, Overrides, link
from test_link_support import add_incident, report

FAMILIES = (("forced_relocation", "collective_punishment"))

RFA_TEXT = (
    "Thirty families from Pyongyang were sent into internal exile in June as punishment for relatives who "
    "defected, an official in the capital told Radio Free Asia. The families were moved to farms in Sinwon "
    "county in South Hwanghae province, the official said on condition of anonymity."
)
RELAY_A = (
    "North Korea has banished 30 Pyongyang families to the countryside, Radio Free Asia reported this week. "
    "According to the broadcaster, the households were punished because family members had fled the country, "
    "and were resettled on collective farms in Sinwon."
)
RELAY_B = (
    "Kim regime punishes relatives of defectors: some 30 families were forced out of the capital in June and "
    "sent to rural Sinwon, a report by Radio Free Asia says. An unnamed official described trucks leaving "
    "the city at night with the families and their belongings."
)
RELAY_D = (
    "Another wave of expulsions: thirty households from Pyongyang, relatives of defectors, now live in exile in "
    "South Hwanghae after a June order, Radio Free Asia learned from a government official in the city."
)


def rfa_story() -> list:
    rfa = report("r1", RFA_TEXT, outlet="Radio Free Asia", published=date(2023, 7, 3))
    add_incident(rfa, "Thirty families from Pyongyang were sent into internal exile in June", types=FAMILIES,
                 when=(date(2023, 6, 1), "month"), places=("Pyongyang", "Sinwon"), roles=("origin", "destination"),
                 victims=((30, "families"),), sources=(("official", "an official in the capital"),))
    a = report("r2", RELAY_A, outlet="Newsline Daily", published=date(2023, 7, 5), cites=("Radio Free Asia",))
    add_incident(a, "North Korea has banished 30 Pyongyang families", types=FAMILIES, places=("Pyongyang",),
                 victims=((30, "families"),), sources=(("media", "Radio Free Asia"),))
    b = report("r3", RELAY_B, outlet="World Herald Online", published=date(2023, 7, 6), cites=("Radio Free Asia",))
    add_incident(b, "some 30 families were forced out of the capital in June", types=("forced_relocation",),
                 when=(date(2023, 6, 1), "month"), places=("Pyongyang", "Sinwon"), victims=((30, "families"),), approximate=True)
    c = report("r4", "Aggregated news | " + RELAY_B + " | More stories below.", outlet="aggregator.example",
               published=date(2023, 7, 7), cites=("Radio Free Asia",))
    add_incident(c, "some 30 families were forced out of the capital in June", types=("forced_relocation",),
                 when=(date(2023, 6, 1), "month"), places=("Pyongyang", "Sinwon"), victims=((30, "families"),), approximate=True)
    d = report("r5", RELAY_D, outlet="Asia Pulse", published=date(2023, 7, 9), cites=("Radio Free Asia",))
    add_incident(d, "thirty households from Pyongyang, relatives of defectors, now live in exile in South Hwanghae",
                 types=FAMILIES, when=(date(2023, 6, 1), "month"), places=("Pyongyang", "South Hwanghae"), victims=((30, "households"),))
    return [rfa, a, b, c, d]


def test_linker_relays_of_one_radio_service_are_one_origin():
    docs = rfa_story()
    result = link(docs)
    assert len(result.cases) == 1
    case = result.cases[0]
    assert case.independent_origins == ["Radio Free Asia"]
    assert case.status == "single_source"
    roles = {m.document_id: m.role for m in case.members}
    assert roles == {"r1": "origin", "r2": "re-report", "r3": "re-report", "r4": "copy", "r5": "re-report"}
    assert result.duplicate_of["r4"] == "r3"
    chain = {m.document_id: m.chain for m in case.members}
    assert chain["r4"] == ["r4", "r3", "r1"]  # copy -> the report it copies -> the cited outlet's own report


def test_linker_without_the_cited_report_the_cited_outlet_is_the_origin():
    docs = rfa_story()[1:]
    [case] = link(docs).cases
    assert case.independent_origins == ["Radio Free Asia"]
    assert {m.role for m in case.members} == {"re-report", "copy"}


def test_linker_two_outlets_with_their_own_informants_corroborate():
    a = report("h1", "Security agents in Hyesan arrested twelve smugglers on 3 March 2024, a resident of the city told "
               "North Star News by phone. The smugglers were taken to the detention centre near the river.",
               outlet="North Star News", published=date(2024, 3, 9))
    add_incident(a, "arrested twelve smugglers on 3 March 2024", types=("arbitrary_detention",), when=(date(2024, 3, 3), "day"),
                 places=("Hyesan",), victims=((12, "persons"),), sources=(("resident", "a resident of the city"),))
    b = report("h2", "Twelve people accused of smuggling copper were detained in Hyesan in early March, according to a "
               "trader interviewed by Border Watch Weekly, who saw them being led away in handcuffs.",
               outlet="Border Watch Weekly", published=date(2024, 3, 20))
    add_incident(b, "Twelve people accused of smuggling copper were detained in Hyesan in early March",
                 types=("arbitrary_detention",), when=(date(2024, 3, 1), "month"), places=("Hyesan",),
                 victims=((12, "persons"),), sources=(("witness", "a trader"),))
    [case] = link([a, b]).cases
    assert case.status == "corroborated"
    assert case.independent_origins == ["Border Watch Weekly", "North Star News"]
    assert {m.role for m in case.members} == {"origin"}


def _exile_report(doc_id: str, text: str, year: int, place: str, outlet: str):
    doc = report(doc_id, text, outlet=outlet, published=date(year, 8, 1))
    add_incident(doc, "30 families", types=FAMILIES, when=(date(year, 6, 1), "month"), places=(place,), victims=((30, "families"),))
    return doc


def test_linker_same_count_different_year_and_province_are_different_cases():
    a = _exile_report("y1", "In June 30 families were expelled from Chongjin to mountain villages, a source said.", 2019, "Chongjin", "Outlet One")
    b = _exile_report("y2", "Officials sent 30 families out of Sinwon county in June, residents said.", 2022, "Sinwon", "Outlet Two")
    result = link([a, b])
    assert len(result.cases) == 2
    assert result.case_of["y1-i1"] != result.case_of["y2-i1"]


def test_linker_same_event_different_counts_is_contested():
    a = report("k1", "Police in Chongjin detained 40 people at the market on 2 May 2024, a resident said.",
               outlet="Outlet One", published=date(2024, 5, 5))
    add_incident(a, "detained 40 people at the market on 2 May 2024", types=("arbitrary_detention",),
                 when=(date(2024, 5, 2), "day"), places=("Chongjin",), victims=((40, "persons"),), sources=(("resident", "a resident"),))
    b = report("k2", "A market raid in Chongjin on 2 May 2024 ended with 25 arrests, a local official said.",
               outlet="Outlet Two", published=date(2024, 5, 6))
    add_incident(b, "A market raid in Chongjin on 2 May 2024 ended with 25 arrests", types=("arbitrary_detention",),
                 when=(date(2024, 5, 2), "day"), places=("Chongjin",), victims=((25, "persons"),), sources=(("official", "a local official"),))
    [case] = link([a, b]).cases
    assert case.status == "contested"
    assert case.conflicts == [{"fact": "count", "unit": "persons", "values": {"25": ["k2"], "40": ["k1"]}}]
    assert len(case.independent_origins) == 2


def test_linker_report_citing_two_outlets_counts_both():
    text = ("Fifteen students in Hyesan were detained in April 2024 for sharing South Korean songs, Radio Free Asia "
            "reported; Daily NK gave the same figure, citing its own source in Ryanggang.")
    doc = report("t1", text, outlet="Weekly Digest", published=date(2024, 5, 2), cites=("Radio Free Asia", "Daily NK"))
    add_incident(doc, "Fifteen students in Hyesan were detained in April 2024", types=("arbitrary_detention", "expression_crackdown"),
                 when=(date(2024, 4, 1), "month"), places=("Hyesan",), victims=((15, "persons"),))
    [case] = link([doc]).cases
    assert case.independent_origins == ["Daily NK", "Radio Free Asia"]
    assert case.status == "corroborated"
    assert case.members[0].role == "re-report"


def test_linker_named_organisation_everyone_quotes_is_the_origin():
    docs = []
    openings = ("Grim news from the north:", "In a statement released on Monday,", "Human rights monitors report that")
    closings = ("The group urged the UN to act.", "No comment came from Pyongyang.", "Churches abroad held vigils.")
    for i, outlet in enumerate(("Outlet One", "Outlet Two", "Outlet Three")):
        text = (f"{openings[i]} a woman was executed in Hyesan in June 2023 for owning a Bible, the Committee for "
                f"Religious Freedom in Korea said. {closings[i]}")
        doc = report(f"o{i}", text, outlet=outlet, published=date(2023, 7, 10 + i))
        add_incident(doc, "a woman was executed in Hyesan in June 2023", types=("killing", "religious_persecution"),
                     when=(date(2023, 6, 1), "month"), places=("Hyesan",), victims=((1, "persons"),),
                     sources=(("organization", "the Committee for Religious Freedom in Korea"),))
        docs.append(doc)
    [case] = link(docs).cases
    assert case.independent_origins == ["Committee for Religious Freedom in Korea"]
    assert all(m.role == "re-report" for m in case.members)


def test_linker_hedged_incidents_join_no_case():
    doc = report("m1", "There are rumours that residents may be detained in Hyesan.", outlet="Outlet One", published=date(2024, 1, 2))
    add_incident(doc, "residents may be detained in Hyesan", types=("arbitrary_detention",), places=("Hyesan",), modality="hedged")
    result = link([doc])
    assert result.cases == [] and result.case_of == {"m1-i1": None}


def _all_docs():
    docs = rfa_story()
    a = _exile_report("y1", "In June 30 families were expelled from Chongjin to mountain villages, a source said.", 2019, "Chongjin", "Outlet One")
    b = _exile_report("y2", "Officials sent 30 families out of Sinwon county in June, residents said.", 2022, "Sinwon", "Outlet Two")
    return docs + [a, b]


def _snapshot(index: InMemoryIndex) -> dict:
    """Copies and the partition of incidents into cases (case ids depend on arrival order)."""
    groups: dict[str, set[str]] = {}
    for d in index.all_documents():
        for i in d.incidents:
            if i.case_id:
                groups.setdefault(i.case_id, set()).add(i.id)
    return {
        "dup": {d.id: d.duplicate_of for d in index.all_documents()},
        "cases": sorted(sorted(g) for g in groups.values()),
    }


def test_linker_incremental_add_equals_full_run():
    full = InMemoryIndex()
    Linker(full).add(_all_docs())
    docs = _all_docs()
    inc = InMemoryIndex()
    linker = Linker(inc)
    first = linker.add([docs[4], docs[6]])  # a relay and an unrelated story come first
    second = linker.add([docs[0], docs[3], docs[5]])
    third = linker.add([docs[1], docs[2]])
    assert _snapshot(inc) == _snapshot(full)
    assert first.cases and second.cases and third.cases
    # a case keeps the id it was first given while reports join it, whatever their ids
    r5_case = first.case_of["r5-i1"]
    assert inc.documents(["r1"])[0].incidents[0].case_id == r5_case
    assert r5_case in {c.id for c in third.cases} and not (set(second.retired) | set(third.retired)) & {r5_case}
    # a full run names cases by their smallest member, so it does not depend on arrival order
    assert full.documents(["r1"])[0].incidents[0].case_id == case_id([("r1", "r1-i1")])


def test_linker_is_deterministic_whatever_the_input_order():
    runs = []
    for seed in range(3):
        docs = _all_docs()
        random.Random(seed).shuffle(docs)
        result = link(docs)
        runs.append(([c.to_json() for c in result.cases], result.duplicate_of, result.case_of))
    assert runs[0] == runs[1] == runs[2]


def test_linker_overrides_split_and_merge():
    docs = rfa_story()
    split = Overrides(split=tuple((("r5", "r5-i1"), (d.id, d.incidents[0].id)) for d in docs if d.id != "r5"))
    result = link(docs, overrides=split)
    assert result.case_of["r5-i1"] != result.case_of["r1-i1"]
    assert len({result.case_of[d.incidents[0].id] for d in docs if d.id != "r5"}) == 1
    other = _exile_report("y1", "In June 30 families were expelled from Chongjin to mountain villages, a source said.", 2019, "Chongjin", "Outlet One")
    merged = link(rfa_story() + [other], overrides=Overrides(merge=((("y1", "y1-i1"), ("r1", "r1-i1")),)))
    assert merged.case_of["y1-i1"] == merged.case_of["r1-i1"]


def test_linker_a_report_split_from_the_case_it_named_gets_its_own_id():
    docs = {d.id: d for d in rfa_story()}
    index = InMemoryIndex()
    Linker(index).add([docs["r2"], docs["r5"]])  # a new case, named after r2's incident
    named = case_id([("r2", "r2-i1")])
    assert Linker(index).add([docs["r1"]]).case_of["r1-i1"] == named  # a smaller id joins, the name stays
    split = Overrides(split=tuple((("r2", "r2-i1"), (d, f"{d}-i1")) for d in ("r1", "r5")))
    result = Linker(index, overrides=split).add([docs["r1"], docs["r2"], docs["r5"]])
    ids = [c.id for c in result.cases]
    assert len(ids) == len(set(ids)) == 2
    assert result.case_of["r1-i1"] == result.case_of["r5-i1"] == named != result.case_of["r2-i1"]


def test_linker_case_json_has_the_fields_the_scorer_reads():
    [case] = link(rfa_story()).cases
    out = case.to_json()
    assert out["id"] == out["case_id"] == case.id
    assert out["document_urls"] == sorted(f"https://example.org/r{i}" for i in range(1, 6))
    assert out["independent_origins"] == ["Radio Free Asia"]
    assert {m["role"] for m in out["members"]} == {"origin", "re-report", "copy"}
    assert {"document_id", "url", "outlet", "role", "incident_ids", "origin"} <= set(out["members"][0])
    explained = case.explain()
    assert explained["reasons"] and all(r["reasons"] for r in explained["reasons"])
