"""Drop the fact-key expression indexes of migration 0006. Since 0008, search filters, facet
counts and the map read the incident summary and facet tables, so these three indexes were read by
nothing and cost every fact written three JSON extractions (2.4 million facts per 100,000 reports
in a bulk load) and their disk space.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

from rightsledger.store.schema import FACT_KEY_INDEXES, fact_key_indexes

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in FACT_KEY_INDEXES:
        op.drop_index(name, table_name="facts")


def downgrade() -> None:
    for statement in fact_key_indexes(op.get_bind().dialect.name):
        op.execute(statement)
