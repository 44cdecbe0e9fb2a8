"""Linking stays linear on a story told hundreds of times: every candidate source is capped, and a
case keeps one link per member (a spanning tree), not every linked pair."""

from __future__ import annotations

import dataclasses
import random
from datetime import date

from rightsledger.link import InMemoryIndex, Linker, link
from rightsledger.link.linker import _Run
from rightsledger.link.settings import load_settings
from test_link_support import add_incident, report

QUOTE = "We were taken from our homes at night and nobody told us where we were going"
WORDS = ["reportedly", "allegedly", "again", "recently", "quietly", "suddenly", "officially", "also"]


def tellings(n: int, seed: int = 3) -> list:
    """n invented near-identical tellings of one detention in Hyesan, all quoting one witness
    and relaying one outlet: copies, quotations, citations and blocks all crowd."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        extra = " ".join(rng.choice(WORDS) for _ in range(4))
        text = (f"Security officers {extra} detained 12 families in Hyesan in March 2023, the Hyesan Monitor reported. "
                f"\"{QUOTE},\" one detainee's relative said. The families were held at a police station near the "
                f"market and questioned about phone calls abroad, the outlet said in report number {i}.")
        doc = report(f"t{i:04d}", text, outlet=f"Outlet {i % 7}", published=date(2023, 4, 1 + i % 20),
                     cites=("Hyesan Monitor",))
        add_incident(doc, "detained 12 families in Hyesan in March 2023", types=("arbitrary_detention",),
                     when=(date(2023, 3, 1), "month"), places=("Hyesan",), victims=((12, "families"),))
        docs.append(doc)
    return docs


def small_caps():
    s = load_settings()
    cases = {**s.cases, "max_block_candidates": 10, "max_quote_candidates": 5, "max_copy_candidates": 5}
    return dataclasses.replace(s, cases=cases, memo={})


def test_link_caps_bound_the_pairs_scored_per_report(monkeypatch) -> None:
    scored: list[tuple[str, str]] = []
    score = _Run.score

    def counting(self, d: str, e: str) -> bool:
        scored.append((min(d, e), max(d, e)))
        return score(self, d, e)

    monkeypatch.setattr(_Run, "score", counting)
    docs = tellings(300)
    s = small_caps()
    [case] = link(docs, settings=s).cases
    assert len(case.members) == 300
    caps = sum(int(s.cases[k]) for k in ("max_block_candidates", "max_quote_candidates", "max_copy_candidates")) + 1
    assert len(scored) <= 300 * caps < 300 * 299 // 2


def test_link_a_case_keeps_one_link_per_member() -> None:
    sizes = {}
    for n in (100, 300):
        [case] = link(tellings(n), settings=small_caps()).cases
        members = len(case.members)
        assert members == n
        assert len(case.reasons) == members - 1  # a spanning tree of the incidents, one per document here
        doc_pairs = {(lk.a, lk.b) if lk.a < lk.b else (lk.b, lk.a) for lk in case.links}
        assert len(doc_pairs) <= members - 1 and len(case.links) <= 3 * (members - 1)
        assert len(case.refused) <= int(load_settings().cases["max_refused_per_case"])
        sizes[n] = len(case.links) + len(case.reasons)
    assert sizes[300] <= 3.5 * sizes[100]  # stored evidence grows with the case, not its square


def test_link_caps_choose_by_content_not_arrival() -> None:
    """Caps rank candidates by shared keys, then by id: the same reports in any order give the same cases."""
    runs = []
    for seed in (1, 2):
        docs = tellings(120)
        random.Random(seed).shuffle(docs)
        result = link(docs, settings=small_caps())
        runs.append(([c.explain() for c in result.cases], result.duplicate_of, result.case_of))
    assert runs[0] == runs[1]


def test_link_copy_groups_re_pointed_by_id_match_a_full_run() -> None:
    """An old copy brings only its group's original along; when a new report is earlier than that
    original, or joins two groups, the groups are re-pointed by id: copies end as in one pass."""
    docs = tellings(60)
    for d in docs[50:]:  # later reports, published first: they become the originals of their groups
        d.published = date(2023, 3, 30)
    full = {d.id: d.duplicate_of for d in _applied(link(docs, settings=small_caps()), docs)}
    docs = tellings(60)
    for d in docs[50:]:
        d.published = date(2023, 3, 30)
    index = InMemoryIndex()
    linker = Linker(index, small_caps())
    linker.add(docs[:50])
    linker.add(docs[50:])
    assert {d.id: d.duplicate_of for d in index.all_documents()} == full
    assert any(full[d.id] in {x.id for x in docs[50:]} for d in docs[:50])  # old copies were re-pointed


def _applied(result, docs):
    result.apply(docs)
    return docs


def test_link_a_large_case_is_extended_not_rebuilt(monkeypatch) -> None:
    """Past `max_case_rebuild` reports a case is extended: a run loads the reports its new ones
    reach and a sample, not the whole case, and the case still lists every report as stored."""
    s = small_caps()
    s = dataclasses.replace(s, cases={**s.cases, "max_case_rebuild": 15, "large_case_sample": 3}, memo={})
    regions: list[int] = []
    region = _Run.region

    def measured(self) -> list[str]:
        out = region(self)
        regions.append(len(out))
        return out

    monkeypatch.setattr(_Run, "region", measured)
    docs = tellings(120)
    index = InMemoryIndex()
    linker = Linker(index, s)
    for start in range(0, len(docs), 10):
        linker.add(docs[start:start + 10])
    # the later runs' regions stay below the case they extend (everything linked before them)
    assert regions[-1] < 100 and max(regions[-3:]) - min(regions[2:5]) < 20
    cids = {i.case_id for d in index.all_documents() for i in d.incidents}
    assert len(cids) == 1
    [case] = index.stored_cases(cids)
    assert sorted(m.document_id for m in case.members) == sorted(d.id for d in docs)
    assert case.incident_ids == sorted(i.id for d in docs for i in d.incidents)
    assert len(case.reasons) == len(docs) - 1  # still one link per member
    [full] = link(tellings(120), settings=s).cases
    assert case.independent_origins == full.independent_origins and case.status == full.status


def test_link_a_new_report_follows_a_few_strong_links_into_a_crowded_case(monkeypatch) -> None:
    s = small_caps()
    s = dataclasses.replace(s, cases={**s.cases, "max_case_rebuild": 10, "large_case_sample": 3,
                                      "max_links_per_report": 2}, memo={})
    docs = tellings(41)
    index = InMemoryIndex()
    linker = Linker(index, s)
    linker.add(docs[:40])
    regions: list[list[str]] = []
    region = _Run.region
    monkeypatch.setattr(_Run, "region", lambda self: regions.append(region(self)) or regions[-1])
    result = linker.add(docs[40:])
    # the new report, the two old ones it follows and the case's sample: not the forty tellings
    assert docs[40].id in regions[0] and len(regions[0]) <= 1 + 2 + 3
    [case] = result.cases
    assert len(case.members) == 41 and {i.case_id for d in index.all_documents() for i in d.incidents} == {case.id}


def test_link_each_text_is_fingerprinted_once_across_transactions(monkeypatch) -> None:
    from rightsledger.link import duplicates

    made: list[str] = []
    fingerprint = duplicates.fingerprint
    monkeypatch.setattr(duplicates, "fingerprint", lambda text, s: made.append(text) or fingerprint(text, s))
    docs = tellings(60)
    linker = Linker(InMemoryIndex(), small_caps())
    for start in range(0, 60, 10):
        linker.add(docs[start:start + 10])
    assert sorted(made) == sorted(d.text for d in docs)  # candidates' texts are not read and hashed again


def test_link_fingerprints_are_kept_compact_and_the_most_recent_only() -> None:
    from rightsledger.link import Fingerprints
    from rightsledger.link.duplicates import fingerprint

    s = load_settings()
    fps = {d.id: fingerprint(d.text, s) for d in tellings(3)}
    kept = Fingerprints(size=2)
    for doc_id, fp in fps.items():
        kept.put(doc_id, fp)
    assert "t0000" not in kept and kept.get("t0001") == fps["t0001"] and kept.get("t0002") == fps["t0002"]
    kept.discard("t0001")
    assert kept.get("t0001") is None
