"""Linking inside the ledger: store-backed candidate index, cases, duplicate_of, overrides.

Runs on a real SQLite file and a real PostgreSQL database (`ledger_url`). Extraction is the
small `fake_extract` from conftest, so these tests depend on the wiring, not on extraction rules.
"""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest

from conftest import execute, report_text
from rightsledger import link as linking
from rightsledger.errors import NotFoundError
from rightsledger.link import linker
from rightsledger.link.extend import extended
from rightsledger.link import STATUSES, InMemoryIndex
from rightsledger.store.repository import CandidateKeys, Repository

TOWNS = ["Hyesan", "Musan", "Onsong", "Hoeryong", "Sinuiju", "Kimchaek"]  # as report_text picks them


def rereport(n: int) -> str:
    """The event of report_text(n) (same town, month and count) told in other words."""
    town, count = TOWNS[n % len(TOWNS)], 3 + n % 17
    return (f"Crackdown in {town}: families held over phones\n\nResidents say that {count} families were "
            f"detained in June by officers in {town} after checks on foreign handsets. One, a resident of the "
            f"city, told Radio Free Asia that every flat on the street was searched overnight. Relatives have "
            f"heard nothing since, the broadcaster was told by people who asked that their names be withheld.\n")


def unrelated(n: int, text: str | None = None) -> str:
    """report_text(n) (or `text`) as a newspaper's own report, relaying no outlet."""
    return (text or report_text(n)).replace("told Radio Free Asia", "told this newspaper")


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def cases_of(ledger) -> dict[str, list[str]]:
    return {c.id: sorted(m.document_id for m in c.members) for c in ledger.cases()}


def incident_cases(ledger) -> dict[str, str | None]:
    return {i.id: i.case_id for d in ledger.iter_documents() for i in d.incidents}


def test_link_store_candidate_index_round_trip(ledger, fake_extractor, tmp_path) -> None:
    ledger.ingest([write(tmp_path / "in", "a.txt", report_text(1))], link=False)
    doc_id = ledger.documents()[0]["id"]
    with ledger.db.write() as conn:
        index = CandidateKeys(Repository(conn))
        index.add_keys("block", doc_id, ["k1", "k2", "x" * 300])
        assert index.lookup("block", ["k1", "k2", "k3"]) == {doc_id: 2}
        assert index.lookup("block", ["x" * 300]) == {doc_id: 1}  # long keys are stored as digests
        index.add_keys("block", doc_id, ["k3"])  # replaces the earlier keys of that kind
        assert index.lookup("block", ["k1"]) == {} and index.lookup("block", ["k3"]) == {doc_id: 1}
        assert index.lookup("block", ["k3"], common=0) == {}  # too common: skipped
        assert [d.id for d in index.documents([doc_id, "missing"])] == [doc_id]


def test_link_store_rereport_ingested_later_joins_the_existing_case(ledger, fake_extractor, tmp_path) -> None:
    ledger.ingest([write(tmp_path / "first", "a.txt", report_text(0))])
    first = ledger.cases()
    assert len(first) == 1 and first[0].status == "single_source"
    case_id = first[0].id
    ledger.ingest([write(tmp_path / "later", "b.txt", rereport(0)),
                   write(tmp_path / "later", "c.txt", unrelated(5))])
    by_case = cases_of(ledger)
    assert len(by_case) == 2 and len(by_case[case_id]) == 2  # the case keeps its id as reports join
    case = ledger.case(case_id)
    assert case.independent_origins == ["Radio Free Asia"]  # both relay one outlet: one origin
    assert {m.role for m in case.members} == {"re-report"}
    assert case.reasons and all(r.score >= 2.5 for r in case.reasons)


def test_link_store_copy_gets_duplicate_of_in_the_export(ledger, fake_extractor, tmp_path) -> None:
    text = report_text(3)
    ledger.ingest([write(tmp_path / "a", "original.txt", text)])
    ledger.ingest([write(tmp_path / "b", "copy.txt", "Shared from a partner site | Subscribe now\n\n" + text)])
    buf = io.StringIO()
    ledger.export("jsonl", buf)
    records = [json.loads(line) for line in buf.getvalue().splitlines()]
    dup = {r["document"]["id"]: r["document"]["duplicate_of"] for r in records}
    original = next(i for i, d in dup.items() if d is None)
    copy = next(i for i, d in dup.items() if d is not None)
    assert dup[copy] == original
    assert len({i["case_id"] for r in records for i in r["incidents"]}) == 1
    (case,) = ledger.cases()
    assert {m.document_id: m.role for m in case.members}[copy] == "copy"
    assert len(case.independent_origins) == 1


def test_link_store_relink_is_deterministic_and_matches_incremental(ledger, fake_extractor, tmp_path) -> None:
    texts = [report_text(0), rereport(0), unrelated(7), unrelated(7, rereport(7)), unrelated(12)]  # two events told twice
    for n, text in enumerate(texts):
        ledger.ingest([write(tmp_path / f"r{n}", f"r{n}.txt", text)])
    incremental = (cases_of(ledger), incident_cases(ledger))
    report = ledger.link()
    assert report.full and report.documents == 5
    once = (cases_of(ledger), incident_cases(ledger))
    ledger.link()
    assert (cases_of(ledger), incident_cases(ledger)) == once == incremental
    assert sorted(len(m) for m in once[0].values()) == [1, 2, 2]


def test_link_store_same_result_whatever_the_ingest_order(make_ledger, fake_extractor, tmp_path, ledger_url) -> None:
    folder = tmp_path / "all"
    for n, text in enumerate([report_text(0), rereport(0), unrelated(7), unrelated(7, rereport(7))]):
        write(folder, f"r{n:04d}.txt", text)
    first = make_ledger()
    first.ingest([folder])
    want = cases_of(first)
    for path in sorted(folder.iterdir(), reverse=True):  # one by one, in reverse, into a relinked ledger
        first.ingest([path])
    first.link()
    assert cases_of(first) == want


def test_link_store_unlinked_documents_are_linked_by_the_next_ingest(ledger, fake_extractor, tmp_path) -> None:
    ledger.ingest([write(tmp_path / "a", "a.txt", report_text(0))], link=False)  # as if interrupted
    assert ledger.cases() == []
    ledger.ingest([write(tmp_path / "b", "b.txt", rereport(0))])
    assert [len(m) for m in cases_of(ledger).values()] == [2]


def test_link_store_overrides_persist_across_relinking(ledger, fake_extractor, tmp_path, ledger_url) -> None:
    for n, text in enumerate([report_text(0), rereport(0), unrelated(7)]):
        ledger.ingest([write(tmp_path / f"r{n}", f"r{n}.txt", text)])
    (pair,) = [c for c in ledger.cases() if len(c.members) == 2]
    (single,) = [c for c in ledger.cases() if len(c.members) == 1]
    leaving = pair.members[1].document_id
    rest = ledger.split_case(pair.id, leaving, note="another raid, says the analyst")
    assert [m.document_id for m in rest.members] == [pair.members[0].document_id]
    ledger.link()
    assert len(cases_of(ledger)) == 3
    merged = ledger.merge_cases(single.id, rest.id, note="same raid")
    assert len(merged.members) == 2
    ledger.link()
    assert sorted(len(m) for m in cases_of(ledger).values()) == [1, 2]
    trail = ledger.overrides()
    assert [o["action"] for o in trail] == ["split", "merge"] and trail[0]["note"] == "another raid, says the analyst"
    assert all(o["user_name"] and o["recorded_at"] for o in trail)
    assert execute(ledger_url, "SELECT count(*) FROM link_overrides") == [(2,)]


def test_link_store_case_lookup_and_filters(ledger, fake_extractor, tmp_path) -> None:
    for n, text in enumerate([report_text(0), rereport(0), unrelated(7)]):
        ledger.ingest([write(tmp_path / f"r{n}", f"r{n}.txt", text)])
    everything = ledger.cases()
    assert {c.status for c in everything} <= set(STATUSES)
    assert ledger.cases(type="arbitrary_detention") == everything
    assert ledger.cases(type="killing") == []
    hyesan = ledger.cases(place="hyesan")  # report_text(0) and its re-report are set in Hyesan
    assert len(hyesan) == 1 and len(hyesan[0].members) == 2
    assert ledger.case(hyesan[0].id[:8]).id == hyesan[0].id
    with pytest.raises(NotFoundError):
        ledger.case("C-000000000000")
    with pytest.raises(NotFoundError):
        ledger.cases(status="certain")


def test_link_store_schema_matches_migration(ledger, ledger_url) -> None:
    tables = {"link_keys", "link_state", "cases", "document_links", "link_overrides"}
    if ledger_url.startswith("sqlite"):
        rows = execute(ledger_url, "SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = execute(ledger_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    assert tables <= {r[0] for r in rows}
    assert execute(ledger_url, "SELECT version_num FROM alembic_version")[0][0] >= "0002"


def test_link_store_per_key_limits_read_the_smallest_ids_as_the_memory_index_does(ledger, fake_extractor, tmp_path) -> None:
    ledger.ingest([write(tmp_path / "in", f"r{i}.txt", report_text(i)) for i in range(6)], link=False)
    ids = sorted(d["id"] for d in ledger.documents())
    carried = {d: ["everyone"] + (["half"] if n % 2 else []) + [f"own{n}"] for n, d in enumerate(reversed(ids))}
    query = ["everyone", "half", "own1", "own3"]

    def expected(per_key: int) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for key in query:
            for d in sorted(d for d, keys in carried.items() if key in keys)[:per_key]:
                counts[d] = counts.get(d, 0) + 1
        counts.pop(ids[0], None)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]

    memory = InMemoryIndex()
    with ledger.db.write() as conn:
        stored = CandidateKeys(Repository(conn))
        for index in (stored, memory):
            for doc_id, keys in carried.items():  # arrival order is not id order
                index.add_keys("block", doc_id, keys)
        for index in (stored, memory):
            assert index.lookup("block", ["everyone"], per_key=2) == {ids[0]: 1, ids[1]: 1}
            assert index.lookup("block", ["everyone"], common=5) == {}  # six carry it: too common
            assert index.lookup("block", ["everyone"], common=6, per_key=3) == {d: 1 for d in ids[:3]}
            assert index.nearest([("block", query)], ids[0], 3) == expected(6)
            assert index.nearest([("block", query)], ids[0], 3, per_key=2) == expected(2) != expected(6)


def test_link_store_a_case_too_large_to_rebuild_is_extended_in_the_ledger(ledger, fake_extractor, tmp_path, monkeypatch) -> None:
    s = linking.load_settings()
    small = dataclasses.replace(s, cases={**s.cases, "max_case_rebuild": 6, "large_case_sample": 2}, memo={})
    monkeypatch.setattr(linking, "load_settings", lambda path=None: small)
    extensions = []
    monkeypatch.setattr(linker, "extended", lambda *a: extensions.append(a[0].id) or extended(*a))
    paths = [write(tmp_path / "in", f"r{i:02d}.txt", f"{rereport(0)}Retold by reader {i} of {24}.\n") for i in range(24)]
    ledger.ingest(paths, link=False)
    ledger.link_new(batch_size=4)
    assert len(extensions) >= 3  # the later batches extended the case rather than rebuilding it
    ids = sorted(d["id"] for d in ledger.documents())
    [(cid, members)] = cases_of(ledger).items()
    assert members == ids
    assert set(incident_cases(ledger).values()) == {cid}
    assert len(ledger.case(cid).reasons) == len(ids) - 1
    ledger.link()  # a full re-link rebuilds it whole: the same reports
    assert list(cases_of(ledger).values()) == [ids]
