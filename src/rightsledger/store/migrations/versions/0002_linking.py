"""Linking: candidate keys, link state, cases, document links, analyst overrides.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
STAMP = sa.DateTime(timezone=True)


def _document_fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["documents.id"], name=op.f(f"fk_{table}_{column}_documents"),
                                   ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "link_keys",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("document_id", sa.String(64), nullable=False),
        _document_fk("document_id", "link_keys"),
        sa.PrimaryKeyConstraint("kind", "key", "document_id", name=op.f("pk_link_keys")),
    )
    op.create_index("ix_link_keys_document_id_kind", "link_keys", ["document_id", "kind"])

    op.create_table(
        "link_state",
        sa.Column("document_id", sa.String(64), nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("linked_at", STAMP, nullable=False),
        _document_fk("document_id", "link_state"),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_link_state")),
    )

    op.create_table(
        "cases",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("types", JSON, nullable=False),
        sa.Column("origin_count", sa.Integer(), nullable=False),
        sa.Column("summary", JSON, nullable=False),
        sa.Column("updated_at", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    op.create_index("ix_cases_status", "cases", ["status"])

    op.create_table(
        "document_links",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_id", sa.String(64), nullable=False),
        sa.Column("to_id", sa.String(64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        _document_fk("from_id", "document_links"),
        _document_fk("to_id", "document_links"),
        sa.PrimaryKeyConstraint("kind", "from_id", "to_id", name=op.f("pk_document_links")),
    )
    op.create_index("ix_document_links_to_id", "document_links", ["to_id"])

    op.create_table(
        "link_overrides",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("a_document_id", sa.String(64), nullable=False),
        sa.Column("a_incident_id", sa.String(100), nullable=False),
        sa.Column("b_document_id", sa.String(64), nullable=False),
        sa.Column("b_incident_id", sa.String(100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("tool", sa.String(100), nullable=False),
        sa.Column("recorded_at", STAMP, nullable=False),
        _document_fk("a_document_id", "link_overrides"),
        _document_fk("b_document_id", "link_overrides"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_overrides")),
    )


def downgrade() -> None:
    for table in ("link_overrides", "document_links", "cases", "link_state", "link_keys"):
        op.drop_table(table)
