"""Sealed values: confidential originals, texts, evidence, informant details and notes encrypted
at rest, and the check value of the key that seals them (never the key).

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sealed_values",
        sa.Column("ref", sa.String(200), nullable=False),
        sa.Column("owner", sa.String(120), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("ref", name="pk_sealed_values"),
    )
    op.create_index("ix_sealed_values_owner", "sealed_values", ["owner"])
    op.create_table(
        "protect_key",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("check_value", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_protect_key"),
    )


def downgrade() -> None:
    op.drop_table("protect_key")
    op.drop_index("ix_sealed_values_owner", table_name="sealed_values")
    op.drop_table("sealed_values")
