"""Alembic environment: run migrations on the connection the ledger hands in.

The ledger opens the database and calls `store.session.migrate`, which passes its connection
through `config.attributes["connection"]`; there is no alembic.ini to find or keep in sync.
"""

from __future__ import annotations

from alembic import context

from rightsledger.store.schema import include_name, metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached when someone runs `alembic` by hand
    raise SystemExit("run migrations through rightsledger (any command opens and upgrades the ledger)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite can only ALTER tables by copying them; batch mode does that
    compare_type=True,
    include_name=include_name,  # full-text search objects differ by database; migrations own them
)
with context.begin_transaction():
    context.run_migrations()
