"""`rightsledger cases`, `case ID`, `link`, `merge-cases`, `split-case` and the cases in `demo`."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from conftest import report_text
from rightsledger.cli import app
from test_link_store import rereport, unrelated


def run(url: str, *args: str):
    return CliRunner().invoke(app, ["--db", url, *args], catch_exceptions=False)


def seeded(url: str, folder: Path) -> None:
    """Two reports relaying one outlet about one raid, a copy of the first, and an unrelated raid."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("a.txt", report_text(0)), ("b.txt", rereport(0)), ("c.txt", unrelated(7)),
                       ("d.txt", "Partner feed | Subscribe\n\n" + report_text(0))):
        (folder / name).write_text(text, encoding="utf-8")
    assert run(url, "--quiet", "ingest", str(folder)).exit_code == 0


def test_cases_cli_json_shape(ledger_url, fake_extractor, tmp_path) -> None:
    seeded(ledger_url, tmp_path / "in")
    result = run(ledger_url, "cases", "--json")
    assert result.exit_code == 0
    cases = json.loads(result.stdout)
    assert isinstance(cases, list) and len(cases) == 2
    for c in cases:
        assert {"id", "case_id", "status", "types", "incident_ids", "document_urls", "independent_origins",
                "members", "conflicts"} <= set(c)
        assert c["status"] in ("single_source", "corroborated", "contested")
        for m in c["members"]:
            assert {"document_url", "role", "origin"} <= set(m) and m["role"] in ("origin", "re-report", "copy")
    (big,) = [c for c in cases if len(c["members"]) == 3]
    assert big["independent_origins"] == ["Radio Free Asia"] and big["status"] == "single_source"
    assert sorted(m["role"] for m in big["members"]) == ["copy", "re-report", "re-report"]
    assert json.loads(run(ledger_url, "cases", "--json", "--status", "corroborated").stdout) == []
    assert [c["id"] for c in json.loads(run(ledger_url, "cases", "--json", "--place", "musan").stdout)] == \
        [c["id"] for c in cases if len(c["members"]) == 1]


def test_cases_cli_case_shows_members_chain_facts(sqlite_url, fake_extractor, tmp_path) -> None:
    seeded(sqlite_url, tmp_path / "in")
    cases = json.loads(run(sqlite_url, "cases", "--json").stdout)
    (big,) = [c for c in cases if len(c["members"]) == 3]
    result = run(sqlite_url, "case", big["id"][:8])
    assert result.exit_code == 0
    text = result.stdout
    for expected in ("member reports", "who relays whom", "re-report", "copy", "Radio Free Asia",
                     "facts, with the reports that state them", "3 families", "duplicate:"):
        assert expected in text, expected
    explained = json.loads(run(sqlite_url, "case", big["id"], "--json").stdout)
    assert explained["id"] == big["id"] and explained["reasons"] and explained["facts"]["victims"]
    missing = run(sqlite_url, "case", "C-nothing")
    assert missing.exit_code == 2 and "no case" in missing.stderr


def test_cases_cli_link_rerun_and_export(sqlite_url, fake_extractor, tmp_path) -> None:
    seeded(sqlite_url, tmp_path / "in")
    before = json.loads(run(sqlite_url, "cases", "--json").stdout)
    result = run(sqlite_url, "link", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["cases"] == 2
    assert json.loads(run(sqlite_url, "cases", "--json").stdout) == before
    exported = [json.loads(line) for line in run(sqlite_url, "export").stdout.splitlines()]
    dup = [r for r in exported if r["document"]["duplicate_of"]]
    assert len(dup) == 1
    ids = {r["document"]["id"] for r in exported}
    assert dup[0]["document"]["duplicate_of"] in ids
    assert all(i["case_id"] for r in exported for i in r["incidents"])


def test_cases_cli_overrides(sqlite_url, fake_extractor, tmp_path) -> None:
    seeded(sqlite_url, tmp_path / "in")
    cases = json.loads(run(sqlite_url, "cases", "--json").stdout)
    (big,) = [c for c in cases if len(c["members"]) == 3]
    (small,) = [c for c in cases if len(c["members"]) == 1]
    out = run(sqlite_url, "merge-cases", big["id"], small["id"], "--note", "same week, same unit")
    assert out.exit_code == 0 and "4 report(s)" in out.stdout
    leaving = small["members"][0]["document_id"]
    out = run(sqlite_url, "split-case", big["id"], leaving, "--json")
    assert out.exit_code == 0 and leaving not in json.loads(out.stdout)["document_ids"]
    run(sqlite_url, "link")
    assert sorted(len(c["members"]) for c in json.loads(run(sqlite_url, "cases", "--json").stdout)) == [1, 3]


def test_cases_cli_demo_prints_cases(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["demo"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "reported by more than one document" in result.stdout and "case(s)" in result.stdout
    data = json.loads(CliRunner().invoke(app, ["--db", str(tmp_path / "rightsledger-demo.db"), "cases", "--json"]).stdout)
    assert any(len(c["members"]) > 1 for c in data)
    assert all(c["status"] in ("single_source", "corroborated", "contested") for c in data)
