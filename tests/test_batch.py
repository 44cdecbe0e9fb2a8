"""Batch mode: the same incidents as the single-process pipeline, on Dask; resumable; filtered; versioned."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import pytest

pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402

from rightsledger import ingest  # noqa: E402
from rightsledger.batch import SCHEMA_VERSION, TABLES, Results, load_filter, run_batch  # noqa: E402
from rightsledger.batch.tables import read_table  # noqa: E402
from rightsledger.errors import ConfigError  # noqa: E402
from rightsledger.ledger import analyse  # noqa: E402
from rightsledger.model import Document  # noqa: E402

from conftest import report_text  # noqa: E402


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """The bundled invented examples, copied (a stable path for fingerprints)."""
    target = tmp_path / "examples"
    target.mkdir()
    with resources.as_file(ingest.examples_dir()) as folder:
        for f in sorted(Path(folder).iterdir()):
            if f.is_file() and f.suffix != ".md":
                (target / f.name).write_bytes(f.read_bytes())
    return target


@pytest.fixture
def mixed(tmp_path: Path, examples: Path, write_reports) -> list[Path]:
    """Examples, generated reports, a bundle with one bad line and one repeated report."""
    reports = write_reports(12, folder="reports")
    bundle = tmp_path / "more.jsonl"
    lines = [json.dumps({"text": report_text(n), "published": "2024-07-01", "outlet": "Daily NK"}) for n in (40, 41)]
    lines.insert(1, "{not json")
    lines.append(json.dumps({"text": report_text(40), "published": "2024-07-01", "outlet": "Daily NK"}))  # a repeat
    bundle.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [examples, reports, bundle]


def incidents_by_sha(docs: list[Document]) -> dict[str, list[dict]]:
    return {d.sha256: [i.explain() for i in d.incidents] for d in docs}


def batch_incidents(out: Path) -> dict[str, list[dict]]:
    """Incidents as the Parquet results hold them: (id, modality, facts in order) per document.

    The same bytes in two partitions are extracted in both (the loader keeps one): the first counts.
    """
    by_sha: dict[str, list] = {}
    for _pid, rows in Results(out).iter_partitions(("documents", "incidents", "facts")):
        facts: dict[str, list] = {}
        for f in rows["facts"]:
            facts.setdefault(f["incident_id"], []).append((f["kind"], f["seq"], json.loads(f["value"]),
                                                          f["span_start"], f["span_end"], f["component"], f["rule"]))
        incidents: dict[str, list] = {}
        for i in rows["incidents"]:
            incidents.setdefault(i["document_id"], []).append(
                (i["id"], i["modality"], i["date_start"], json.loads(i["evidence"]), facts.get(i["id"], [])))
        for d in rows["documents"]:
            by_sha.setdefault(d["sha256"], incidents.get(d["id"], []))
    return by_sha


def single_process_incidents(inputs: list[Path]) -> dict[str, list]:
    """The same shape from the single-process path (`rightsledger extract`), via the ledger's fact rows."""
    from rightsledger.store.repository import fact_rows

    out: dict[str, list] = {}
    for doc in analyse(inputs):
        if not isinstance(doc, Document):
            continue
        out[doc.sha256] = [
            (inc.id, inc.modality, inc.date.start, [s.to_dict() for s in inc.evidence],
             [(r["kind"], r["seq"], json.loads(json.dumps(r["value"])), r["span_start"], r["span_end"],
               r["component"], r["rule"]) for r in fact_rows(inc)])
            for inc in doc.incidents]
    return out


@pytest.mark.slow
def test_batch_on_dask_finds_the_same_incidents_as_one_process(tmp_path: Path, mixed: list[Path]) -> None:
    out = tmp_path / "out"
    report = run_batch(mixed, out, workers=2, partition_size=4)
    assert report.ok and report.workers == 2
    assert len({p["worker"] for p in report.processed}) == 2  # both worker processes did work
    expected = single_process_incidents(mixed)
    got = batch_incidents(out)
    assert sum(len(v) for v in expected.values()) > 10
    assert got == expected
    totals = json.loads((out / "manifest.json").read_text())["totals"]
    assert totals["errors"] == 1 and totals["documents"] >= len(expected)


def test_batch_in_process_matches_too_and_records_errors(tmp_path: Path, mixed: list[Path]) -> None:
    out = tmp_path / "out"
    report = run_batch(mixed, out, workers=0, partition_size=5)
    assert batch_incidents(out) == single_process_incidents(mixed)
    errors = [r for pid, rows in Results(out).iter_partitions(("errors",)) for r in rows["errors"]]
    assert [e["stage"] for e in errors] == ["read"] and "more.jsonl#L2" in errors[0]["source"]
    assert report.totals["errors"] == 1


def test_batch_resumes_skipping_finished_partitions(tmp_path: Path, write_reports) -> None:
    reports = write_reports(9, folder="r")
    out = tmp_path / "out"
    first = run_batch([reports], out, workers=0, partition_size=3)
    assert len(first.processed) == 3 and not first.skipped
    stamps = {p: (out / "documents" / f"{p}.parquet").stat().st_mtime_ns for p in ("p000000", "p000001", "p000002")}

    again = run_batch([reports], out, workers=0, partition_size=3)
    assert again.skipped == ["p000000", "p000001", "p000002"] and not again.processed
    assert {p: (out / "documents" / f"{p}.parquet").stat().st_mtime_ns for p in stamps} == stamps

    # A killed run: partition 1 lost its marker (written last) -> only it is done again.
    (out / "_done" / "p000001.json").unlink()
    # Changed input: partition 2 holds other items now -> done again.
    (reports / "report-0008.txt").write_text(report_text(99), encoding="utf-8")
    third = run_batch([reports], out, workers=0, partition_size=3)
    assert sorted(p["partition"] for p in third.processed) == ["p000001", "p000002"]
    assert third.skipped == ["p000000"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and len(manifest["runs"]) == 3
    assert manifest["totals"]["documents"] == 9
    assert not list(out.rglob("*.tmp")) and not list(out.rglob(".*.tmp"))


def test_batch_refuses_to_mix_settings_in_one_folder(tmp_path: Path, write_reports) -> None:
    reports = write_reports(2)
    run_batch([reports], tmp_path / "out", workers=0, partition_size=3)
    with pytest.raises(ConfigError, match="partition_size"):
        run_batch([reports], tmp_path / "out", workers=0, partition_size=4)
    with pytest.raises(ConfigError, match="filter"):
        run_batch([reports], tmp_path / "out", workers=0, partition_size=3, relevance=load_filter("north-korea"))


def test_batch_parquet_carries_schema_version(tmp_path: Path, write_reports) -> None:
    out = tmp_path / "out"
    run_batch([write_reports(2)], out, workers=0)
    for table in TABLES:
        meta = pq.read_schema(out / table / "p000000.parquet").metadata
        assert meta[b"rightsledger.schema_version"].decode() == SCHEMA_VERSION
        assert meta[b"rightsledger.table"].decode() == table
    originals = read_table(out / "originals" / "p000000.parquet", "originals")
    assert {o["content"] for o in originals} == {p.read_bytes() for p in sorted((tmp_path / "reports").iterdir())}
    # A file from a future, incompatible schema is refused, not misread.
    path = out / "documents" / "p000000.parquet"
    table = pq.read_table(path)
    pq.write_table(table.replace_schema_metadata({**table.schema.metadata, b"rightsledger.schema_version": b"2.0"}), path)
    with pytest.raises(ConfigError, match="schema 2.0"):
        read_table(path, "documents")


# -- relevance filter --------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "Kim Jong Un inspected a factory.", "kim jong-un inspected a factory.", "Families were sent from Pyongyang.",
    "The DPRK denied it.", "A trader in Hyesan said so.", "북한은 이를 부인했다.", "Workers in South Hamgyong province",
])
def test_filter_north_korea_keeps_reports_about_north_korea(text: str) -> None:
    assert load_filter("north-korea").match(text) is not None


@pytest.mark.parametrize("text", [
    "The city council of Lyon approved the budget.", "Seoul stocks rose on Tuesday.",
    "He was cooking kimchi.", "The dprk-like acronym in lower case is not a match.", "Kimberley police arrested two men.",
])
def test_filter_north_korea_drops_unrelated_reports(text: str) -> None:
    assert load_filter("north-korea").match(text) is None


def test_filter_user_lists(tmp_path: Path) -> None:
    txt = tmp_path / "myanmar.txt"
    txt.write_text("# places we monitor\nRakhine\nSittwe  # a city\n\n", encoding="utf-8")
    f = load_filter(txt)
    assert f.terms == ("Rakhine", "Sittwe") and f.name == "myanmar"
    assert f.match("Troops entered Sittwe.") == "Sittwe" and f.match("Pyongyang") is None
    toml = tmp_path / "list.toml"
    toml.write_text('name = "mine"\n[terms]\nplaces = ["Kachin"]\npeople = ["Tatmadaw"]\n', encoding="utf-8")
    assert load_filter(toml).match("the tatmadaw said") == "tatmadaw"
    with pytest.raises(ConfigError, match="no relevance list"):
        load_filter(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no terms"):
        load_filter(tmp_path / "empty.txt")


def test_batch_filter_counts_what_it_leaves_out(tmp_path: Path, write_reports) -> None:
    reports = write_reports(3, folder="nk")
    other = tmp_path / "other"
    other.mkdir()
    (other / "lyon.txt").write_text("Council approves budget\n\nThe city council of Lyon approved the budget "
                                    "for the new tram line on Monday, officials said.\n", encoding="utf-8")
    out = tmp_path / "out"
    report = run_batch([reports, other], out, workers=0, relevance=load_filter("north-korea"))
    assert report.totals["filtered"] == 1 and report.totals["documents"] == 3
    assert json.loads((out / "manifest.json").read_text())["totals"]["filtered"] == 1
    rows = Results(out).read_partition("p000000", ("documents", "filtered"))
    assert [r["source"] for r in rows["filtered"]] == [str(other / "lyon.txt")]
    assert {r["relevance"] for r in rows["documents"]} <= {"Hyesan", "Musan", "Onsong", "Hoeryong", "Sinuiju", "Kimchaek"}


def test_batch_cli(tmp_path: Path, write_reports) -> None:
    from typer.testing import CliRunner

    from rightsledger.cli import app

    reports = write_reports(3)
    db = tmp_path / "cli.db"
    runner = CliRunner()
    r = runner.invoke(app, ["batch", str(reports), "--out", str(tmp_path / "out"), "--workers", "0", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["totals"]["documents"] == 3
    r = runner.invoke(app, ["--db", str(db), "load", str(tmp_path / "out"), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["documents"] == 3
    r = runner.invoke(app, ["--db", str(db), "load", str(tmp_path / "out"), "--json"])
    assert json.loads(r.stdout)["documents"] == 0
    r = runner.invoke(app, ["batch", str(reports), "--out", str(tmp_path / "o2"), "--workers", "0", "--filter", "nowhere"])
    assert r.exit_code == 2 and "no relevance list" in r.output
    assert os.path.isdir(tmp_path / "out" / "_done")


@pytest.mark.slow
def test_batch_on_an_existing_cluster_by_scheduler_address(tmp_path: Path, write_reports) -> None:
    distributed = pytest.importorskip("distributed")
    reports = write_reports(6)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        report = run_batch([reports], tmp_path / "out", scheduler=cluster.scheduler_address, partition_size=3)
    assert report.ok and report.workers == 1 and len(report.processed) == 2
    assert report.totals["documents"] == 6
    expected = single_process_incidents([reports])
    assert batch_incidents(tmp_path / "out") == expected


def test_batch_unreachable_scheduler_is_a_clear_error(tmp_path: Path, write_reports, monkeypatch) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr("rightsledger.batch.job.CONNECT_TIMEOUT", "1s")
    with pytest.raises(ConfigError, match="cannot reach the Dask scheduler"):
        run_batch([write_reports(1)], tmp_path / "out", scheduler="tcp://127.0.0.1:9")
