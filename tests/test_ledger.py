"""The ledger facade: ingest (one transaction per document), repeats, failures, verify, export."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import rightsledger.extract
import rightsledger.ingest
from rightsledger import ledger as lg
from rightsledger.evidence import digest
from rightsledger.model import Document, Span
from conftest import execute, fake_extract, report_text

# Facts come from a small predictable extractor: these tests are about the ledger, not extraction.
pytestmark = pytest.mark.usefixtures("fake_extractor")


def test_ledger_ingest_stores_original_document_custody_and_facts(ledger, write_reports) -> None:
    folder = write_reports(3)
    seen: list[lg.ItemResult] = []
    report = ledger.ingest([folder], progress=seen.append)
    assert report.ok and len(report.ingested) == 3 and seen == report.results
    first = folder / "report-0000.txt"
    data = first.read_bytes()
    doc_id = digest(data)[:lg.ID_LENGTH]
    r = next(r for r in report.results if r.source.endswith("report-0000.txt"))
    assert (r.document_id, r.sha256, r.incidents) == (doc_id, digest(data), 1)
    assert ledger.original(doc_id) == data
    doc = ledger.document(doc_id)
    assert doc.sha256 == digest(data) and "Police in Hyesan detained 3 families" in doc.text
    inc = doc.incidents[0]
    assert inc.id == f"{doc_id}-i1" and inc.types == ["arbitrary_detention"]
    for fact in (inc.type_facts[0], inc.places[0], inc.victims[0], inc.perpetrators[0], inc.sources[0]):
        assert doc.text[fact.evidence.start:fact.evidence.end] == fact.evidence.text
        assert fact.why.component == "fake.v1"
    assert doc.cites[0].outlet == "Radio Free Asia"
    (custody,) = ledger.record(doc_id)["custody"]
    assert custody["event"] == "ingested" and custody["source"].endswith("report-0000.txt")
    assert custody["details"]["size"] == len(data) and custody["user"]
    assert custody["retrieved_at"].endswith("+00:00") and custody["tool"].startswith("rightsledger ")


def test_ledger_reingest_is_idempotent_with_repeat_custody(ledger, write_reports) -> None:
    folder = write_reports(2)
    ledger.ingest([folder])
    again = ledger.ingest([folder])
    assert again.ok and not again.ingested and len(again.repeats) == 2
    assert len(ledger.documents()) == 2
    events = sorted(c["event"] for r in ledger.documents() for c in ledger.record(r["id"])["custody"])
    assert events == ["ingested", "ingested", "repeat", "repeat"]


def test_ledger_same_bytes_under_two_names_are_one_document(ledger, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(report_text(5))
    (tmp_path / "b.txt").write_text(report_text(5))
    report = ledger.ingest([tmp_path / "a.txt", tmp_path / "b.txt"])
    assert [r.status for r in report.results] == ["ingested", "repeat"]
    assert report.document_ids() == [report.results[0].document_id]


def test_ledger_bad_items_are_reported_and_the_rest_ingested(ledger, tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text(report_text(1))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 40)
    report = ledger.ingest([tmp_path])
    assert not report.ok
    assert len(report.ingested) == 1 and report.ingested[0].source.endswith("good.txt")
    failed = {Path(r.source).name: r.reason for r in report.failed}
    assert set(failed) == {"empty.txt", "binary.txt"}
    assert all(reason for reason in failed.values())
    assert execute(ledger.url, "SELECT count(*) FROM originals")[0][0] == 1


def test_ledger_max_bytes_caps_items(ledger, tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text(report_text(1) * 20)
    report = ledger.ingest([tmp_path], max_bytes=500)
    assert [r.status for r in report.results] == ["failed"]
    assert ledger.documents() == []


def test_ledger_extraction_bug_fails_the_item_not_the_batch(ledger, write_reports, monkeypatch) -> None:
    def flaky(doc: Document) -> Document:
        if "report 1)" in doc.text:
            raise ZeroDivisionError("boom")
        return fake_extract(doc)

    monkeypatch.setattr(rightsledger.extract, "extract", flaky)
    report = ledger.ingest([write_reports(3)])
    assert len(report.ingested) == 2 and len(report.failed) == 1
    assert "extraction failed: ZeroDivisionError: boom" in report.failed[0].reason
    assert len(ledger.documents()) == 2


def test_ledger_reading_bug_fails_the_item_not_the_batch(ledger, write_reports, monkeypatch) -> None:
    real_prepare = rightsledger.ingest.prepare

    def flaky(item):
        if item.source.endswith("report-0000.txt"):
            raise ImportError("a missing optional module")
        return real_prepare(item)

    monkeypatch.setattr(rightsledger.ingest, "prepare", flaky)
    report = ledger.ingest([write_reports(2)])
    assert [r.status for r in report.results] == ["failed", "ingested"]
    assert "reading failed: ImportError" in report.failed[0].reason


def test_ledger_span_that_does_not_quote_the_text_is_reported(ledger, write_reports, monkeypatch) -> None:
    def off_by_one(doc: Document) -> Document:
        fake_extract(doc)
        doc.cites[0].evidence = Span(doc.cites[0].evidence.start + 1, doc.cites[0].evidence.end + 1, "Radio Free Asia")
        return doc

    monkeypatch.setattr(rightsledger.extract, "extract", off_by_one)
    (result,) = ledger.ingest([write_reports(1)]).results
    assert result.status == "ingested"
    assert result.warnings and "does not match the text" in result.warnings[0]


def test_ledger_incident_ids_are_made_unique_ledger_wide(ledger, write_reports, monkeypatch) -> None:
    def bare_ids(doc: Document) -> Document:
        fake_extract(doc)
        for inc in doc.incidents:
            inc.id = "i1"
        return doc

    monkeypatch.setattr(rightsledger.extract, "extract", bare_ids)
    report = ledger.ingest([write_reports(2)])
    assert report.ok
    ids = [r[0] for r in execute(ledger.url, "SELECT id FROM incidents ORDER BY id")]
    assert len(set(ids)) == 2 and all(i.endswith("-i1") and len(i) > 3 for i in ids)


def test_ledger_verify_detects_a_changed_byte(ledger, write_reports) -> None:
    report = ledger.ingest([write_reports(3)])
    assert ledger.verify().ok
    victim = report.results[1]
    data = bytearray(ledger.original(victim.document_id))
    data[10] ^= 0x01
    execute(ledger.url, "UPDATE originals SET content = :c WHERE sha256 = :s", c=bytes(data), s=victim.sha256)
    result = ledger.verify()
    assert not result.ok and result.checked == 3
    (problem,) = result.problems
    assert (problem.sha256, problem.document_id) == (victim.sha256, victim.document_id)


def test_ledger_verify_detects_missing_custody(ledger, write_reports) -> None:
    report = ledger.ingest([write_reports(2)])
    execute(ledger.url, "DELETE FROM custody WHERE document_id = :d", d=report.results[0].document_id)
    problems = ledger.verify().problems
    assert [(p.document_id, p.problem) for p in problems] == [(report.results[0].document_id, "custody record missing")]


def test_ledger_analyse_extracts_without_storing(ledger, write_reports) -> None:
    docs = list(lg.analyse([write_reports(2)]))
    assert all(isinstance(d, Document) and d.incidents for d in docs)
    assert ledger.documents() == []


def test_ledger_export_leaves_out_unconfirmed_incidents_unless_asked(ledger, tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text(report_text(2) + "There are rumours that the families will be exiled.\n")
    ledger.ingest([tmp_path])
    default, everything = io.StringIO(), io.StringIO()
    ledger.export("jsonl", default)
    ledger.export("jsonl", everything, include_unconfirmed=True)
    assert [i["modality"] for i in json.loads(default.getvalue())["incidents"]] == ["asserted"]
    assert [i["modality"] for i in json.loads(everything.getvalue())["incidents"]] == ["asserted", "hedged"]


def test_ledger_demo_ledger_starts_fresh(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("rightsledger-demo.db").write_bytes(b"not a database")
    Path("rightsledger-demo.db-wal").write_bytes(b"stale")
    with lg.demo_ledger() as demo:
        assert demo.documents() == []
        assert demo.url.endswith("rightsledger-demo.db")
