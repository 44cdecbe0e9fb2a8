"""The command line: thin over the ledger, clear errors, exit codes 0 / 1 / 2, JSON for programs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rightsledger.cli import app, highlighted, KIND_STYLES
from conftest import execute, report_text, sample_document

# Facts come from a small predictable extractor: these tests are about the ledger, not extraction.
pytestmark = pytest.mark.usefixtures("fake_extractor")


@pytest.fixture
def run(ledger_url: str):
    """Invoke `rightsledger --db <test ledger> ARGS…` in-process."""
    runner = CliRunner(env={"COLUMNS": "200"})

    def invoke(*args: str, db: bool = True):
        return runner.invoke(app, (["--db", ledger_url] if db else []) + [str(a) for a in args])

    return invoke


def _mixed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "mixed"
    (folder / "nested").mkdir(parents=True)
    (folder / "one.txt").write_text(report_text(1), encoding="utf-8")
    (folder / "nested" / "two.html").write_text(
        "<html><head><title>Arrests in Musan</title></head><body><article><h1>Arrests in Musan</h1>"
        f"<p>{report_text(2)}</p><p>{report_text(3)}</p></article></body></html>", encoding="utf-8")
    bundle = {"text": report_text(4), "url": "https://www.example-news.org/2024/05/musan", "published": "2024-05-03",
              "title": "Phones seized"}
    (folder / "bundle.jsonl").write_text(json.dumps(bundle) + "\n{not json\n", encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02PK\x03\x04" * 500)
    (folder / "scripts.html").write_text("<html><script>alert(1)</script><script>x()</script></html>")
    return folder


def test_cli_ingest_mixed_folder_reports_each_bad_item_and_is_idempotent(run, tmp_path: Path) -> None:
    folder = _mixed_folder(tmp_path)
    first = run("ingest", folder)
    assert first.exit_code == 1, first.output
    for bad in ("empty.txt", "binary.txt", "scripts.html", "bundle.jsonl"):
        assert bad in first.stderr
    assert "Ingested 3 new document(s)" in first.stdout
    docs = json.loads(run("list", "--json").stdout)
    assert len(docs) == 3
    assert any(d["url"] == "https://www.example-news.org/2024/05/musan" and d["published"] == "2024-05-03" for d in docs)

    second = run("--json", "ingest", folder)
    assert second.exit_code == 1
    report = json.loads(second.stdout)
    assert report["ingested"] == 0 and report["repeats"] == 3 and report["failed"] == 4
    assert len(json.loads(run("list", "--json").stdout)) == 3


def test_cli_ingest_without_input_is_a_usage_error(run) -> None:
    result = run("ingest")
    assert result.exit_code == 2
    assert "PATH" in result.stderr


def test_cli_missing_path_is_reported_not_fatal(run, tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text(report_text(3))
    result = run("ingest", tmp_path / "ok.txt", tmp_path / "missing.txt")
    assert result.exit_code == 1
    assert "missing.txt" in result.stderr
    assert len(json.loads(run("list", "--json").stdout)) == 1


def test_cli_show_explain_and_list(run, tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text(report_text(7))
    assert run("ingest", "--quiet", tmp_path).exit_code == 0
    (row,) = json.loads(run("list", "--json").stdout)
    listing = run("list")
    assert row["id"] in listing.stdout and row["incidents"] == 1

    shown = run("show", row["id"][:6])
    assert shown.exit_code == 0, shown.output
    out = shown.stdout
    assert "chain of custody" in out and "ingested" in out and "arbitrary_detention" in out
    assert "Police in Musan detained 10 families" in out

    data = json.loads(run("show", row["id"], "--json").stdout)
    assert data["document"]["id"] == row["id"] and data["custody"][0]["event"] == "ingested"
    assert data["text"].startswith("Authorities detain")
    assert data["incidents"][0]["type_facts"][0]["why"]["rule"] == "trigger:detained"

    explained = run("explain", row["id"])
    assert explained.exit_code == 0
    for needle in ("fake.v1", "trigger:detained", "count-unit", "informant:resident", "told-outlet", "[" ):
        assert needle in explained.stdout
    assert json.loads(run("--json", "explain", row["id"]).stdout)["incidents"][0]["victims"][0]["count"] == 10

    original = run("show", row["id"], "--original")
    assert original.stdout_bytes == (tmp_path / "r.txt").read_bytes()


def test_cli_show_highlights_facts_by_kind() -> None:
    doc = sample_document()
    text = highlighted(doc)
    styles = {str(s.style): text.plain[s.start:s.end] for s in text.spans}
    assert styles[KIND_STYLES["date"]] == "In March"
    assert styles[KIND_STYLES["perpetrator"]] == "State security agents"
    assert styles[KIND_STYLES["cite"]] == "Daily NK"


def test_cli_show_neutralises_terminal_escapes(run, tmp_path: Path) -> None:
    hostile = {"text": "Detentions reported\n\n\x1b]0;pwned\x07Residents were detained in Onsong. \x1b[2J"}
    (tmp_path / "evil.jsonl").write_text(json.dumps(hostile) + "\n")
    run("ingest", tmp_path)
    (row,) = json.loads(run("list", "--json").stdout)
    assert "\x1b" not in run("show", row["id"]).stdout


def test_cli_unknown_document_is_one_line_and_a_hint(run) -> None:
    result = run("show", "ffffffff")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("error: no document") and lines[1].startswith("hint:")
    assert "Traceback" not in result.output


def test_cli_db_from_environment(tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "env.db"
    monkeypatch.setenv("RIGHTSLEDGER_DB", str(db))
    (tmp_path / "r.txt").write_text(report_text(2))
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "r.txt")])
    assert result.exit_code == 0 and db.exists()


def test_cli_verify_ok_then_tampered(run, ledger_url: str, tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text(report_text(9))
    run("ingest", tmp_path)
    ok = run("verify")
    assert ok.exit_code == 0 and "OK: 1 original(s)" in ok.stdout
    execute(ledger_url, "UPDATE originals SET content = :c", c=report_text(9).replace("Police", "Polize").encode())
    bad = run("verify", "--json")
    assert bad.exit_code == 1
    report = json.loads(bad.stdout)
    assert not report["ok"] and report["problems"][0]["problem"] == "content no longer matches its SHA-256"
    assert run("show", "--original", report["problems"][0]["document_id"]).exit_code == 2


def test_cli_export_formats_to_stdout_and_file(run, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for n in range(3):
        (src / f"{n}.txt").write_text(report_text(n))
    run("ingest", src)
    lines = run("export", "--format", "jsonl").stdout.splitlines()
    assert len(lines) == 3 and all(json.loads(line)["incidents"] for line in lines)
    target = tmp_path / "out.csv"
    result = run("export", "-f", "csv", "-o", target)
    assert result.exit_code == 0 and "Wrote 3 incident(s)" in result.stderr
    assert target.read_text().splitlines()[0].startswith("document_id,url,outlet")
    geo = json.loads(run("export", "--format", "geojson").stdout)
    assert len(geo["features"]) == 3
    bad = run("export", "--format", "xml")
    assert bad.exit_code == 2 and not (tmp_path / "xml").exists()


def test_cli_stats(run, tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text(report_text(4))
    run("ingest", tmp_path)
    run("ingest", tmp_path)
    s = json.loads(run("stats", "--json").stdout)
    assert s["documents"] == 1 and s["custody_events"] == {"ingested": 1, "repeat": 1}
    assert s["types"] == {"arbitrary_detention": 1}
    human = run("stats").stdout
    assert "documents" in human and "arbitrary_detention" in human


def test_cli_extract_prints_export_shaped_lines_without_storing(run, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(report_text(1))
    (tmp_path / "b.txt").write_bytes(b"")
    result = run("extract", tmp_path / "a.txt", tmp_path / "b.txt", "--json")
    assert result.exit_code == 1 and "b.txt" in result.stderr
    (line,) = result.stdout.splitlines()
    record = json.loads(line)
    assert set(record) >= {"document", "incidents"} and record["incidents"][0]["types"] == ["arbitrary_detention"]
    assert json.loads(run("list", "--json").stdout) == []
    explained = json.loads(run("extract", "--json", "--explain", tmp_path / "a.txt").stdout)
    assert explained["incidents"][0]["type_facts"][0]["why"]["component"] == "fake.v1"


def test_cli_extract_show_pipeline(run) -> None:
    result = run("extract", "--show-pipeline", "--json")
    assert result.exit_code == 0
    assert isinstance(json.loads(result.stdout), list)


def test_cli_places_json_and_table(run, tmp_path: Path) -> None:
    text = "Families were sent from Pyongyang to Ryongwol village in Sinwon county, South Hwanghae."
    result = run("places", text, "--json")
    assert result.exit_code == 0
    found = json.loads(result.stdout)
    assert isinstance(found, list)
    for t in found:
        assert text[t["start"]:t["end"]] == t["name"]
    (tmp_path / "t.txt").write_text(text)
    assert run("places", "--file", tmp_path / "t.txt").exit_code == 0
    assert run("places").exit_code == 2


def test_cli_demo_builds_a_fresh_ledger(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RIGHTSLEDGER_DB", raising=False)
    runner = CliRunner()
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    assert (tmp_path / "rightsledger-demo.db").exists()
    assert "example report(s)" in first.stdout
    data = json.loads(runner.invoke(app, ["--json", "demo"]).stdout)
    assert data["ingested"] >= 10 and data["repeats"] == 0 and data["failed"] == 0
    assert not (tmp_path / "rightsledger.db").exists()


def test_cli_version_and_help() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["--version"]).stdout.startswith("rightsledger ")
    help_text = runner.invoke(app, ["--help"]).stdout
    for command in ("ingest", "list", "show", "explain", "extract", "places", "export", "stats", "verify", "demo"):
        assert command in help_text
