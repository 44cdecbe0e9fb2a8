"""Opening the ledger database: one engine, migrations on open, one write path.

SQLite (the default) runs in WAL mode with foreign keys on, so readers never block the writer;
writes start with BEGIN IMMEDIATE so two writers queue up instead of failing half-way.
PostgreSQL is used through psycopg 3 with the same tables and the same migrations.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, exc, func, select
from sqlalchemy.engine import make_url

from rightsledger.errors import ConfigError, DatabaseError
from rightsledger.settings import redact_url

log = logging.getLogger(__name__)

_WRITE = "rightsledger_write"


def _migrations_dir() -> str:
    return str(resources.files("rightsledger.store").joinpath("migrations"))


def _alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", _migrations_dir())
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise ConfigError(
                f"cannot create the ledger {parsed.database}: folder {folder} does not exist",
                hint="create the folder first or choose another --db path",
            )
    engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the sqlite3 module so BEGIN is ours (see _on_begin).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")  # a committed document survives a power cut
        cur.execute("PRAGMA busy_timeout=30000")
        # Replaced and deleted content is overwritten, not left in free pages (text that was sealed).
        cur.execute("PRAGMA secure_delete=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """The ledger database: `read()` and `write()` hand out connections inside a transaction."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.dialect = make_url(url).get_backend_name()
        try:
            if self.dialect == "sqlite":
                self.engine = _sqlite_engine(url)
            elif self.dialect == "postgresql":
                self.engine = create_engine(url, pool_pre_ping=True)
            else:
                raise ConfigError(f"unsupported database {redact_url(url)!r}",
                                  hint="use SQLite (a file path) or postgresql+psycopg://…")
        except exc.ArgumentError as e:
            raise ConfigError(f"invalid database URL {redact_url(url)!r}: {e}",
                              hint="use a file path, sqlite:///path or postgresql+psycopg://user@host/dbname") from None
        except ModuleNotFoundError as e:
            raise ConfigError(f"no database driver for {redact_url(url)!r}: {e}",
                              hint="PostgreSQL URLs must start with postgresql+psycopg://") from None
        if migrate:
            self.migrate()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except exc.OperationalError as e:
            reason = str(e.orig).strip().splitlines()[0] if e.orig else str(e)
            raise DatabaseError(f"cannot use the ledger database {redact_url(self.url)}: {reason}",
                                hint="check --db / RIGHTSLEDGER_DB and that the database server is running") from None

    def migrate(self) -> None:
        """Bring the schema to the newest revision (a no-op when it already is)."""
        head = head_revision()
        with self._guard(), self.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
            conn.rollback()
            if current == head:
                return
            log.info("upgrading ledger schema %s -> %s", current, head)
            conn = conn.execution_options(**{_WRITE: True})
            with conn.begin():
                command.upgrade(_alembic_config(conn), "head")

    def revision(self) -> str | None:
        with self._guard(), self.engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self._guard(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One unit of work: everything done on the connection commits together or not at all."""
        with self._guard(), self.engine.connect() as conn:
            conn = conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    def close(self) -> None:
        self.engine.dispose()


def serialize(conn: Connection, what: str) -> None:
    """Hold a lock named `what` until the transaction on `conn` ends, so that transactions doing
    `what` run one after the other. PostgreSQL: an advisory lock (READ COMMITTED would otherwise
    let two of them delete and re-insert the same rows at once); a SQLite write transaction
    (BEGIN IMMEDIATE) already excludes every other writer."""
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(what.encode()).digest()[:8], "big", signed=True)
        conn.execute(select(func.pg_advisory_xact_lock(key)))
