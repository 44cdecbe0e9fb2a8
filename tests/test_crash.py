"""Killing an ingest midway leaves only complete documents, and `verify` passes.

A real subprocess ingests 2,000 generated reports and is killed with SIGKILL once part of them
are stored; then every document present must have its original, custody record and text.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rightsledger.cli import app
from rightsledger.evidence import digest
from conftest import execute, report_text

TOTAL = 2000


@pytest.mark.slow
def test_crash_sigkill_midway_leaves_only_complete_documents(ledger_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    for n in range(TOTAL):
        (folder / f"r{n:05d}.txt").write_text(report_text(n) * (1 + n % 3), encoding="utf-8")
    # Open (and migrate) the ledger first, so the counting below never races the schema creation.
    assert CliRunner().invoke(app, ["--db", ledger_url, "stats"]).exit_code == 0

    env = {**os.environ, "RIGHTSLEDGER_DB": ledger_url}
    proc = subprocess.Popen([sys.executable, "-m", "rightsledger", "--quiet", "ingest", str(folder)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stored = 0
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            stored = execute(ledger_url, "SELECT count(*) FROM documents")[0][0]
            if stored >= 50:
                break
            time.sleep(0.02)
        assert proc.poll() is None, f"ingest ended before it could be killed: {proc.stderr.read().decode()[-2000:]}"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    docs = execute(ledger_url, "SELECT d.id, d.sha256, d.text, o.content FROM documents d "
                               "LEFT JOIN originals o ON o.sha256 = d.sha256")
    assert 50 <= len(docs) < TOTAL
    custody = {r[0] for r in execute(ledger_url, "SELECT document_id FROM custody WHERE event = 'ingested'")}
    for doc_id, sha, text, content in docs:
        assert content is not None and digest(bytes(content)) == sha
        assert doc_id in custody and text.strip()
    orphans = execute(ledger_url, "SELECT count(*) FROM originals o WHERE NOT EXISTS "
                                  "(SELECT 1 FROM documents d WHERE d.sha256 = o.sha256)")[0][0]
    assert orphans == 0

    runner = CliRunner()
    verified = runner.invoke(app, ["--db", ledger_url, "verify"])
    assert verified.exit_code == 0, verified.output

    # Running the same command again finishes the job; what was stored counts as repeats.
    rerun = subprocess.run([sys.executable, "-m", "rightsledger", "--json", "ingest", str(folder)],
                           env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert execute(ledger_url, "SELECT count(*) FROM documents")[0][0] == TOTAL
    assert runner.invoke(app, ["--db", ledger_url, "verify"]).exit_code == 0
