"""The ledger database: migrations, one code path for SQLite and PostgreSQL, faithful storage."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from rightsledger import settings
from rightsledger.errors import ConfigError, NotFoundError
from rightsledger.ledger import Ledger
from rightsledger.store.repository import Repository
from rightsledger.store.schema import include_name, metadata
from rightsledger.store.session import Database, head_revision
from conftest import execute, sample_document


def _store(ledger: Ledger, doc, data: bytes) -> None:
    with ledger.db.write() as conn:
        repo = Repository(conn)
        repo.add_original(data, "text/plain")
        repo.add_document(doc, source_text=doc.text, offsets={"v": 1, "runs": [[0, 0]]}, removed=[], extractor="test")


def test_store_migrates_new_database_to_head_matching_schema(ledger: Ledger) -> None:
    assert ledger.db.revision() == head_revision() is not None
    with ledger.db.read() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name}), metadata)
    assert diff == []


def test_store_reopening_keeps_data_and_revision(make_ledger) -> None:
    first = make_ledger()
    _store(first, sample_document(), b"sample original")
    first.close()
    again = make_ledger()
    assert again.db.revision() == head_revision()
    assert [r["id"] for r in again.documents()] == [sample_document().id]


def test_store_sqlite_uses_wal_and_foreign_keys(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    try:
        with db.read() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        db.close()


def test_store_document_roundtrip_keeps_every_fact_and_explanation(ledger: Ledger) -> None:
    doc = sample_document()
    _store(ledger, doc, b"sample original")
    back = ledger.document(doc.id)
    assert back.explain() == doc.explain()
    assert back.to_dict() == doc.to_dict()
    assert back.incidents[0].sources[0].name == "a trader"


def test_store_rejected_facts_are_left_out_but_kept(ledger: Ledger) -> None:
    doc = sample_document()
    _store(ledger, doc, b"sample original")
    execute(ledger.url, "UPDATE facts SET status = 'rejected' WHERE kind = 'place' AND span_text = 'Hyesan'")
    back = ledger.document(doc.id)
    assert [p.name for p in back.incidents[0].places] == ["Kapsan"]
    assert execute(ledger.url, "SELECT count(*) FROM facts WHERE kind = 'place'")[0][0] == 2
    assert {r[0] for r in execute(ledger.url, "SELECT DISTINCT status FROM facts")} == {"proposed", "rejected"}


def test_store_a_failed_unit_of_work_leaves_nothing(ledger: Ledger) -> None:
    with pytest.raises(RuntimeError), ledger.db.write() as conn:
        Repository(conn).add_original(b"half written", "text/plain")
        raise RuntimeError("killed")
    assert execute(ledger.url, "SELECT count(*) FROM originals")[0][0] == 0


def test_store_foreign_keys_refuse_a_document_without_original(ledger: Ledger) -> None:
    with pytest.raises(sa.exc.IntegrityError), ledger.db.write() as conn:
        Repository(conn).add_document(sample_document(), source_text="", offsets={}, removed=[], extractor="t")


def test_store_resolve_accepts_id_prefix_and_sha(ledger: Ledger) -> None:
    a, b = sample_document(b"first", doc_id="abcd1111"), sample_document(b"second", doc_id="abcd2222")
    _store(ledger, a, b"first")
    _store(ledger, b, b"second")
    assert ledger.resolve("abcd1") == "abcd1111"
    assert ledger.resolve(b.sha256) == "abcd2222"
    with pytest.raises(NotFoundError, match="several"):
        ledger.resolve("abcd")
    with pytest.raises(NotFoundError, match="no document"):
        ledger.resolve("ffff0000")
    with pytest.raises(NotFoundError):
        ledger.resolve("a%")  # LIKE wildcards are not wildcards here


def test_store_summaries_count_asserted_and_unconfirmed(ledger: Ledger) -> None:
    _store(ledger, sample_document(), b"sample original")
    (row,) = ledger.documents()
    assert row["incidents"] == 1 and row["unconfirmed"] == 1
    assert row["published"] == "2024-04-02" and row["outlet"] == "Example Times"


def test_store_stats_counts_types_once_per_incident(ledger: Ledger) -> None:
    _store(ledger, sample_document(), b"sample original")
    s = ledger.stats()
    assert s["documents"] == 1 and s["originals"] == 1 and s["original_bytes"] == len(b"sample original")
    assert s["types"] == {"forced_relocation": 1, "collective_punishment": 1}
    assert s["incidents"] == {"asserted": 1, "hedged": 1}
    assert s["facts"]["place"] == 2


def test_settings_database_url_plain_path_means_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RIGHTSLEDGER_DB", raising=False)
    assert settings.database_url() == f"sqlite:///{tmp_path / 'rightsledger.db'}"
    assert settings.database_url("x/y.db") == f"sqlite:///{tmp_path / 'x' / 'y.db'}"
    monkeypatch.setenv("RIGHTSLEDGER_DB", "postgresql://u:secret@db/ledger")
    assert settings.database_url() == "postgresql+psycopg://u:secret@db/ledger"
    assert "secret" not in settings.redact_url(settings.database_url())
    with pytest.raises(ConfigError):
        settings.database_url("mysql://u@h/db")


def test_store_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="cannot use the ledger database"):
        Database("postgresql+psycopg://nobody@127.0.0.1:9/none")


def test_store_migrations_downgrade_to_base_and_back(ledger: Ledger) -> None:
    from alembic import command

    from rightsledger.store.session import _alembic_config

    with ledger.db.engine.connect() as conn, conn.begin():
        command.downgrade(_alembic_config(conn), "base")
    assert ledger.db.revision() is None
    ledger.db.migrate()
    assert ledger.db.revision() == head_revision()
    _store(ledger, sample_document(), b"sample original")
    assert len(ledger.documents()) == 1
