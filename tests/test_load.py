"""Bulk loading batch results: the same ledger as ingesting one by one; loading twice adds nothing.

Runs on SQLite and on a real PostgreSQL server (COPY), through batch -> load -> link.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("pyarrow")

from rightsledger.batch import Results, run_batch  # noqa: E402
from rightsledger.ledger import Ledger  # noqa: E402
from rightsledger.store.bulk import load_rows  # noqa: E402

from conftest import execute, report_text  # noqa: E402

TABLES = ("originals", "documents", "custody", "incidents", "facts", "citations", "cases", "link_state")


def counts(url: str) -> dict[str, int]:
    return {t: execute(url, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}


@pytest.fixture
def inputs(tmp_path: Path, write_reports) -> list[Path]:
    reports = write_reports(10, folder="reports")
    bundle = tmp_path / "b.jsonl"
    rows = [{"text": report_text(n), "published": "2024-07-01", "outlet": "Daily NK"} for n in (3, 50)]
    bundle.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return [reports, bundle]


def explained(ledger: Ledger) -> dict[str, dict]:
    """Every document as stored, by SHA-256, without case ids (linking decides those separately)."""
    out = {}
    for doc in ledger.iter_documents():
        d = doc.explain()
        for inc in d["incidents"]:
            inc["case_id"] = None
        out[doc.sha256] = d
    return out


def test_load_gives_the_ledger_ingest_gives_and_is_idempotent(tmp_path: Path, ledger_url: str,
                                                               inputs: list[Path]) -> None:
    out = tmp_path / "out"
    run_batch(inputs, out, workers=0, partition_size=4)
    with Ledger(ledger_url) as ledger:
        report = ledger.load(out)
        assert report.documents == 12 and report.known == 0 and report.partitions == 3
        assert report.link is not None and report.link.documents == 12
        first = counts(ledger_url)
        assert first["documents"] == first["originals"] == 12 and first["custody"] == 12
        assert first["link_state"] == 12 and first["cases"] > 0
        loaded = explained(ledger)
        assert ledger.verify().ok

        again = ledger.load(out)
        assert again.documents == 0 and again.known == 12 and sum(again.rows.values()) == 0
        assert counts(ledger_url) == first

        # Custody names the batch run, partition and results folder; retrieval time is the item's.
        doc_id = sorted(ledger.documents(), key=lambda r: r["id"])[0]["id"]
        custody = ledger.record(doc_id)["custody"]
        assert [c["event"] for c in custody] == ["ingested"]
        details = custody[0]["details"]
        assert details["batch_run"] and details["batch_partition"].startswith("p")
        assert details["loaded_from"] == str(out.resolve()) and details["media_type"]

    reference = tmp_path / "reference.db"
    with Ledger(f"sqlite:///{reference}") as single:
        single.ingest(inputs)
        assert explained(single) == loaded


def test_load_incidents_are_linked_into_cases(ledger_url: str, tmp_path: Path, write_reports) -> None:
    # The same report twice (different files, same bytes -> one document, a repeat in custody),
    # and the same incident retold by two outlets -> one case.
    a = tmp_path / "a"
    a.mkdir()
    text = ("Police detain families in Hyesan\n\nPolice in Hyesan detained 14 families in June 2024 for using "
            "Chinese mobile phones, a resident told Radio Free Asia.\n")
    (a / "one.txt").write_text(text, encoding="utf-8")
    (a / "two.txt").write_text(text, encoding="utf-8")
    (a / "three.txt").write_text(text.replace("a resident told Radio Free Asia", "a trader told Daily NK")
                                 .replace("Police detain", "Hyesan police detain"), encoding="utf-8")
    out = tmp_path / "out"
    run_batch([a], out, workers=0)
    with Ledger(ledger_url) as ledger:
        report = ledger.load(out)
        assert report.documents == 2
        cases = {i.case_id for d in ledger.iter_documents() for i in d.incidents if i.modality == "asserted"}
        assert len(cases) == 1 and None not in cases
        doc_id = ledger.resolve([r for r in ledger.documents() if "Hyesan police" not in (r["title"] or "")][0]["id"])
        events = [(c["event"], Path(c["source"]).name) for c in ledger.record(doc_id)["custody"]]
        assert events == [("ingested", "one.txt"), ("repeat", "two.txt")]
        before = counts(ledger_url)
        ledger.load(out)
        assert counts(ledger_url) == before


def test_load_after_ingest_adds_only_custody_for_new_sources(ledger_url: str, tmp_path: Path, write_reports) -> None:
    reports = write_reports(3)
    with Ledger(ledger_url) as ledger:
        ledger.ingest([reports])
        before = counts(ledger_url)
        out = tmp_path / "out"
        run_batch([reports], out, workers=0)
        report = ledger.load(out)
        assert report.documents == 0 and report.known == 3
        # Same files, same sources: custody already records them -> nothing at all is added.
        assert counts(ledger_url) == before


def test_load_short_id_clash_uses_the_full_digest(ledger_url: str, tmp_path: Path, write_reports) -> None:
    out = tmp_path / "out"
    run_batch([write_reports(2)], out, workers=0)
    rows = Results(out).read_partition("p000000")
    with Ledger(ledger_url) as ledger:
        # Another document already holds the first report's short id.
        ledger.ingest([write_reports(1, folder="other", start=70)], link=False)
        taken = ledger.documents()[0]["id"]
        victim = rows["documents"][0]
        old = victim["id"]
        for table, key in (("documents", "id"), ("incidents", "document_id"), ("citations", "document_id"),
                           ("custody", "document_id")):
            for r in rows[table]:
                if r[key] == old:
                    r[key] = taken
        for r in rows["incidents"]:
            if r["id"].startswith(old):
                new = taken + r["id"][len(old):]
                for f in rows["facts"]:
                    if f["incident_id"] == r["id"]:
                        f["incident_id"] = new
                r["id"] = new
        with ledger.db.write() as conn:
            stats = load_rows(conn, rows)
        assert stats.documents == 2 and victim["sha256"] in stats.new_document_ids
        doc = ledger.document(victim["sha256"])
        assert doc.id == victim["sha256"] and all(i.id.startswith(doc.id + "-") for i in doc.incidents)
        assert doc.incidents and ledger.verify().ok


def test_load_refreshes_the_planner_statistics_of_what_it_filled(pg_url: str, tmp_path: Path, write_reports) -> None:
    """A bulk load must not leave PostgreSQL's planner with the statistics of empty tables (on a
    server with autovacuum off, or lagging behind, later partitions would read whole tables)."""
    out = tmp_path / "out"
    run_batch([write_reports(6, folder="reports")], out, workers=0, partition_size=2)
    analysed = "SELECT relname FROM pg_stat_user_tables WHERE last_analyze IS NOT NULL"
    with Ledger(pg_url) as ledger:
        assert not {r[0] for r in execute(pg_url, analysed)} & {"documents", "facts"}
        ledger.load(out, link=False)
    assert {"documents", "incidents", "facts", "incident_summary"} <= {r[0] for r in execute(pg_url, analysed)}
