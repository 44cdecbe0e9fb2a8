"""Linking in bounded transactions: `link_new` in batches gives the cases of one pass, and an
interrupted run keeps its finished batches and is completed by running it again.

Runs on a real SQLite file and a real PostgreSQL database (`ledger_url`), against a one-pass
reference on SQLite. Extraction is conftest's `fake_extract`, so only the linking wiring is tested.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import execute, report_text
from rightsledger.ledger import Ledger, LinkReport

TOWNS = ["Hyesan", "Musan", "Onsong", "Hoeryong", "Sinuiju", "Kimchaek"]  # as report_text picks them


def retold(n: int) -> str:
    """The event of report_text(n) (town, month, count) in other words, credited to a newspaper's own informant."""
    town, count = TOWNS[n % len(TOWNS)], 3 + n % 17
    return (f"Families held in {town}\n\nOfficers detained {count} families in June in {town} over foreign "
            f"handsets, a trader in the city told this newspaper. Relatives of those held in building {n} "
            f"have heard nothing since.\n")


def told(n: int) -> str:
    """report_text(n); only event 0 relays Radio Free Asia (two relays of one outlet link whatever they tell)."""
    return report_text(n) if n == 0 else report_text(n).replace("told Radio Free Asia", "told this newspaper")


def corpus(folder: Path) -> int:
    """Ten events, most told more than once: the report, a copy of it, a retelling."""
    folder.mkdir(parents=True)
    texts = []
    for n in range(10):
        texts.append(told(n))
        if n % 2 == 0:
            texts.append("Shared from a partner site | Subscribe now\n\n" + told(n))
        if n % 3 != 2:
            texts.append(retold(n))
    for i, text in enumerate(texts):
        (folder / f"r{i:03d}.txt").write_text(text, encoding="utf-8")
    return len(texts)


def snapshot(ledger: Ledger) -> dict[str, Any]:
    """Everything linking decided: cases as stored (members, roles, origins, status, reasons),
    each incident's case and each document's original."""
    docs = list(ledger.iter_documents())
    return {
        "cases": [c.explain() for c in ledger.cases()],
        "case_of": {i.id: i.case_id for d in docs for i in d.incidents},
        "duplicate_of": {d.id: d.duplicate_of for d in docs},
    }


@pytest.fixture
def reference(tmp_path: Path, fake_extractor) -> tuple[Path, int, dict[str, Any]]:
    """The corpus, and the ledger one `link_new` pass over all of it makes (SQLite)."""
    folder = tmp_path / "reports"
    n = corpus(folder)
    with Ledger(f"sqlite:///{tmp_path / 'one-pass.db'}") as ledger:
        ledger.ingest([folder], link=False)
        report = ledger.link_new(batch_size=n)
        assert report.documents == n
        return folder, n, snapshot(ledger)


def test_link_batches_give_the_cases_of_one_pass(ledger_url: str, reference) -> None:
    folder, n, want = reference
    sizes = [len(c["members"]) for c in want["cases"]]
    assert max(sizes) >= 3 and len(sizes) >= 5  # cases of several reports, so batches split them
    assert any(want["duplicate_of"].values())
    batches: list[LinkReport] = []
    with Ledger(ledger_url) as ledger:
        ledger.ingest([folder], link=False)
        total = ledger.link_new(batch_size=4, progress=batches.append)
        assert [b.documents for b in batches] == [4] * (n // 4) + ([n % 4] if n % 4 else [])
        assert total.documents == n and execute(ledger_url, "SELECT count(*) FROM link_state")[0][0] == n
        # the run's report holds each case once, as it stands at the end
        assert [c.id for c in total.cases] == [c["id"] for c in want["cases"]]
        # batches take documents in id order: some case has members linked in different batches
        batch_of = {d: k // 4 for k, d in enumerate(sorted(want["duplicate_of"]))}
        assert any(len({batch_of[m["document_id"]] for m in c["members"]}) > 1 for c in want["cases"])
        assert snapshot(ledger) == want
        assert ledger.link_new().documents == 0  # nothing left to link


def test_link_interrupted_run_keeps_finished_batches_and_resumes(ledger_url: str, reference) -> None:
    folder, n, want = reference

    class Stop(Exception):
        pass

    def stop_after_two(batch: LinkReport) -> None:
        done.append(batch.documents)
        if len(done) == 2:
            raise Stop  # as if the process died right after the second commit

    done: list[int] = []
    with Ledger(ledger_url) as ledger:
        ledger.ingest([folder], link=False)
        with pytest.raises(Stop):
            ledger.link_new(batch_size=5, progress=stop_after_two)
        assert execute(ledger_url, "SELECT count(*) FROM link_state")[0][0] == 10  # two batches committed
        cased = execute(ledger_url, "SELECT count(*) FROM incidents WHERE case_id IS NOT NULL")[0][0]
        assert 0 < cased < len(want["case_of"])
        resumed = ledger.link_new(batch_size=5)
        assert resumed.documents == n - 10
        assert snapshot(ledger) == want

