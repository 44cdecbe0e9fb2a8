"""The incident summary that search, facets, the dashboard and the map read stays in step with
the facts through every write path: ingest, bulk load, review (correct, reject, add, case status),
linking, merge and split — on SQLite and PostgreSQL. Each check recomputes what the summary must
hold from the documents as the ledger rebuilds them (its model objects), not from the summary code."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from rightsledger.ledger import Ledger, SearchFilters
from rightsledger.store.schema import case_reviews, cases, incident_facets, incident_summary


def _expected(ledger: Ledger) -> tuple[dict[str, dict[str, Any]], set[tuple[str, str, str]]]:
    """What every incident's summary row and facet rows must be, from the rebuilt documents."""
    with ledger.db.read() as conn:
        corroboration = dict(conn.execute(select(cases.c.id, cases.c.status)).all())
        reviewed = dict(conn.execute(select(case_reviews.c.case_id, case_reviews.c.status)).all())
    rows: dict[str, dict[str, Any]] = {}
    keys: set[tuple[str, str, str]] = set()
    for doc in ledger.iter_documents():
        for inc in doc.incidents:
            located = [p for p in inc.places if p.lat is not None and p.lon is not None]
            where = (next((p for p in located if p.role == "destination"), None)
                     or next((p for p in located if p.role == "site"), None) or (located[0] if located else None))
            counts = [(v.count, v.unit) for v in inc.victims if v.count]
            top = max(counts, key=lambda c: c[0], default=(None, None))
            rows[inc.id] = {
                "document_id": doc.id, "case_id": inc.case_id, "marker": inc.case_id or inc.id, "modality": inc.modality, "outlet": doc.outlet,
                "first_type": inc.type_facts[0].code if inc.type_facts else None,
                "lat": where.lat if where else None, "lon": where.lon if where else None,
                "place": where.name if where else None,
                "date_start": inc.date.start, "date_end": inc.date.end,
                "year": inc.date.start.year if inc.date.start else None,
                "victims": top[0], "victims_unit": (top[1] or None) if top[0] else None,
                "review_status": reviewed.get(inc.case_id or "", "proposed"),
                "corroboration": corroboration.get(inc.case_id or ""),
            }
            keys |= {(inc.id, "type", t.code) for t in inc.type_facts}
            keys |= {(inc.id, "province", p.province) for p in inc.places if p.province}
            keys |= {(inc.id, "county", p.county or p.name) for p in inc.places
                     if p.county or (p.level == "county" and p.name)}
    for marker in {r["marker"] for r in rows.values()}:  # where each map marker sits, its largest count
        mine = sorted(i for i, r in rows.items() if r["marker"] == marker)
        first = next((i for i in mine if rows[i]["lat"] is not None), None)
        top = max((rows[i]["victims"] for i in mine if rows[i]["victims"]), default=None)
        for i in mine:
            rows[i].update(marker_first=i == first, marker_victims=top)
    return rows, keys


def assert_consistent(ledger: Ledger) -> None:
    want, want_keys = _expected(ledger)
    with ledger.db.read() as conn:
        s = incident_summary
        got = {r.incident_id: {k: getattr(r, k) for k in next(iter(want.values()))}
               for r in conn.execute(select(s))} if want else {}
        got_keys = {tuple(r) for r in conn.execute(select(incident_facets.c.incident_id, incident_facets.c.facet,
                                                              incident_facets.c.value))}
    assert set(got) == set(want)
    for inc_id, row in want.items():
        assert got[inc_id] == row, inc_id
    assert got_keys == want_keys


def _asserted_with(ledger: Ledger, kind: str, pick: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    for d in ledger.documents():
        for f in ledger.review_facts(d["id"]):
            if f["kind"] == kind and f["status"] != "rejected" and pick(f):
                return f
    raise AssertionError(f"no {kind} fact to review")


def test_summary_follows_ingest_review_linking_and_load(ledger_url: str, tmp_path: Path,
                                                       write_reports: Callable[..., Path]) -> None:
    with Ledger(ledger_url) as ledger:
        assert ledger.ingest_examples().ok
        assert_consistent(ledger)

        # Review: a corrected place (province, coordinates), a rejected type, a corrected date.
        place = _asserted_with(ledger, "place", lambda f: f["value"].get("lat") is not None)
        ledger.correct_fact(place["id"], "analyst", {"province": "Invented Province", "lat": 40.5, "lon": 128.25})
        assert_consistent(ledger)
        kind = _asserted_with(ledger, "type", lambda f: True)
        ledger.reject_fact(kind["id"], "analyst")
        assert_consistent(ledger)
        when = _asserted_with(ledger, "date", lambda f: True)
        ledger.correct_fact(when["id"], "analyst", {"start": "2011-03-01", "end": "2011-03-31", "precision": "month"})
        assert_consistent(ledger)
        hit = ledger.search(SearchFilters(provinces=("Invented Province",)))
        assert place["incident_id"] in [r["id"] for r in hit["rows"]]
        assert ("Invented Province", hit["total"]) in hit["facets"]["province"]

        # Case review status, merge, split, a full re-link.
        two = ledger.cases()[:2]
        ledger.set_case_status(two[0].id, "reviewed", "analyst")
        assert_consistent(ledger)
        assert ledger.search(SearchFilters(statuses=("reviewed",)))["total"] >= 1
        merged = ledger.review_merge(two[0].id, two[1].id, "analyst")
        assert_consistent(ledger)
        doc = ledger.case(merged.id).members[-1].document_id
        ledger.review_split(merged.id, doc, "analyst")
        assert_consistent(ledger)
        ledger.link()
        assert_consistent(ledger)

    pytest.importorskip("pyarrow")
    from rightsledger.batch import run_batch

    out = tmp_path / "results"
    run_batch([write_reports(4)], out, workers=0, partition_size=2)
    with Ledger(ledger_url) as ledger:
        assert ledger.load(out).documents == 4
        assert_consistent(ledger)


def _bundle(path: Path, record: dict[str, str]) -> Path:
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    return path


def test_summary_follows_a_case_whose_status_a_later_report_changes(ledger_url: str, tmp_path: Path) -> None:
    """The first report keeps its case id when a second outlet corroborates it: its summary row
    must still take the case's new status (linking rewrites only what changed)."""
    first = _bundle(tmp_path / "first.jsonl", {
        "outlet": "North Star News", "published": "2024-03-09", "url": "https://north-star.example/1",
        "text": "Security agents in Hyesan arrested twelve smugglers on 3 March 2024, a resident of the city told "
                "North Star News by phone. The smugglers were taken to the detention centre near the river."})
    second = _bundle(tmp_path / "second.jsonl", {
        "outlet": "Border Watch Weekly", "published": "2024-03-20", "url": "https://border-watch.example/1",
        "text": "Twelve people accused of smuggling copper were arrested in Hyesan on 3 March 2024, according to a "
                "trader interviewed by Border Watch Weekly, who saw them being led away in handcuffs."})
    with Ledger(ledger_url) as ledger:
        assert ledger.ingest([first]).ok
        [before] = ledger.cases()
        assert before.status == "single_source"
        assert_consistent(ledger)
        assert ledger.ingest([second]).ok
        [after] = ledger.cases()
        assert (after.id, after.status, len(after.members)) == (before.id, "corroborated", 2)
        assert_consistent(ledger)
