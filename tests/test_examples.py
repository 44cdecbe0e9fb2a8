"""Extraction of the bundled example reports (data/examples, invented; README there lists the facts)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rightsledger.extract import load_pipeline
from rightsledger.ingest import ItemError, examples_dir, iter_items, prepare
from rightsledger.model import Document
from rightsledger.outlets import outlet_for_url


@pytest.fixture(scope="module")
def docs() -> dict[str, Document]:
    pipeline = load_pipeline()
    out = {}
    paths = sorted(p for p in Path(str(examples_dir())).iterdir() if p.suffix in (".txt", ".html", ".jsonl"))
    for item in iter_items(paths):
        assert not isinstance(item, ItemError), item
        prep = prepare(item)
        name = Path(item.source.split("#")[0]).name + ("#" + item.source.split("#")[1] if "#" in item.source else "")
        doc = Document(id=name, text=prep.text, url=prep.url, published=prep.published,
                       outlet=prep.outlet or outlet_for_url(prep.url))
        out[name] = pipeline(doc)
    return out


def asserted(doc: Document):
    return [i for i in doc.incidents if i.modality == "asserted"]


def check_spans(doc: Document) -> None:
    t = doc.text
    for inc in doc.incidents:
        facts = [tf.evidence for tf in inc.type_facts] + [p.evidence for p in inc.places]
        facts += [v.evidence for v in inc.victims] + [a.evidence for a in inc.perpetrators + inc.sources]
        facts += inc.evidence + ([inc.date.evidence] if inc.date.evidence else [])
        for s in facts:
            assert t[s.start:s.end] == s.text
    for c in doc.cites:
        assert t[c.evidence.start:c.evidence.end] == c.evidence.text


def test_examples_original_banishment_report_every_fact(docs):
    doc = docs["01_rfa_banishment_original.html"]
    check_spans(doc)
    incs = asserted(doc)
    assert len(incs) == 2
    main, group = incs
    assert set(main.types) == {"forced_relocation", "collective_punishment"}
    assert "forced_relocation" in group.types
    for inc in incs:
        assert (inc.date.start.isoformat(), inc.date.end.isoformat(), inc.date.precision) == (
            "2023-05-01", "2023-05-31", "month")
        assert inc.date.evidence.text in ("In May", "last month")
    assert [(v.count, v.unit, v.approximate) for v in main.victims] == [(22, "families", False)]
    assert [(v.count, v.unit) for v in group.victims] == [(6, "families")]
    assert main.victims[0].evidence.text.startswith("22 families")
    assert [(p.name, p.role) for p in main.places] == [("Pyongyang", "origin")]
    places = {p.name: p for p in group.places}
    assert {"Haewol", "Soksan", "Ongjin", "Kangryong", "Yonsan"} <= set(places)
    assert places["Haewol"].level == places["Soksan"].level == "village"
    assert places["Haewol"].role == places["Kangryong"].role == places["Yonsan"].role == "destination"
    assert places["Ongjin"].level == "county" and places["Ongjin"].lat is not None
    # "the authorities" beside the named state security organ is that organ, not a second perpetrator
    assert {a.kind for a in main.perpetrators} == {"state_security"}
    assert {(a.kind, a.name) for a in main.sources} >= {("official", "an official in Pyongyang")}
    assert doc.cites == []  # its own outlet is not a citation
    assert all(a.kind != "media" for i in incs for a in i.sources)


@pytest.mark.parametrize("name", ["02_express_banishment_rereport.html", "04_joongang_banishment_rereport.txt",
                                  "12_bundle_2023.jsonl#L4"])
def test_examples_rereports_relay_the_same_event(docs, name):
    doc = docs[name]
    check_spans(doc)
    incs = asserted(doc)
    assert {"forced_relocation", "collective_punishment"} <= {t for i in incs for t in i.types}
    assert (22, "families") in {(v.count, v.unit) for i in incs for v in i.victims}
    assert {i.date.start.isoformat()[:7] for i in incs if i.date.start} == {"2023-05"}
    assert "Pyongyang" in {p.name for i in incs for p in i.places}
    assert [c.outlet for c in doc.cites] == ["Radio Free Asia"]
    assert "official" in {a.kind for i in incs for a in i.sources}


def test_examples_independent_report(docs):
    doc = docs["05_dailynk_banishment_independent.html"]
    incs = asserted(doc)
    assert {t for i in incs for t in i.types} >= {"forced_relocation"}
    assert {p.name for i in incs for p in i.places} >= {"Pyongyang", "Ongjin"}
    assert doc.cites == []


@pytest.mark.parametrize("name,types,victims,places", [
    ("06_execution_hyesan.txt", {"killing", "public_humiliation", "expression_crackdown", "arbitrary_detention"},
     {(2, "persons"), (3, "persons")}, {"Hyesan"}),
    ("07_repatriation_dandong_afp.txt", {"forced_repatriation", "arbitrary_detention"}, {(60, "persons")},
     {"Dandong", "Sinuiju"}),
    ("08_border_shooting_hoeryong.html", {"killing", "arbitrary_detention"}, {(1, "persons")}, set()),
    ("10_disappearance_pyongyang_lecturer.txt", {"enforced_disappearance", "arbitrary_detention"},
     {(1, "persons")}, {"Pyongyang"}),
    ("12_bundle_2023.jsonl#L1", {"arbitrary_detention", "expression_crackdown"}, {(7, "persons")}, {"Chongjin"}),
    ("12_bundle_2023.jsonl#L2", {"forced_labor"}, {(2000, "persons")}, {"Sukchon"}),
])
def test_examples_other_events(docs, name, types, victims, places):
    doc = docs[name]
    check_spans(doc)
    incs = asserted(doc)
    assert types <= {t for i in incs for t in i.types}
    assert victims <= {(v.count, v.unit) for i in incs for v in i.victims}
    assert places <= {p.name for i in incs for p in i.places}


def test_examples_background_and_crowds_are_not_victims(docs):
    counts = {v.count for d in docs.values() for i in asserted(d) for v in i.victims}
    assert not counts & {300, 80_000, 120_000, 34_000, 41}


@pytest.mark.parametrize("name", ["12_bundle_2023.jsonl#L3", "11_background_pyongyang_residency.html"])
def test_examples_rumour_and_background_give_no_asserted_incident(docs, name):
    assert asserted(docs[name]) == []
