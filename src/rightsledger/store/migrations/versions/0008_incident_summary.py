"""Incident summary: one row per incident (and per incident type, province and county) with the
plain values search filters, facet counts, the dashboard and the map read, so those stay fast at
100,000 incidents instead of pulling every value out of the facts' JSON. Backfilled from the
existing incidents and facts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from rightsledger.store import summary

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incident_summary",
        sa.Column("incident_id", sa.String(100), nullable=False),
        sa.Column("document_id", sa.String(64), nullable=False),
        sa.Column("case_id", sa.String(100)),
        sa.Column("marker", sa.String(100), nullable=False),
        sa.Column("marker_first", sa.Boolean(), nullable=False),
        sa.Column("marker_victims", sa.Integer()),
        sa.Column("modality", sa.String(16), nullable=False),
        sa.Column("outlet", sa.String(200)),
        sa.Column("published", sa.Date()),
        sa.Column("first_type", sa.String(64)),
        sa.Column("province", sa.String(200)),
        sa.Column("county", sa.String(200)),
        sa.Column("place", sa.Text()),
        sa.Column("lat", sa.Float()),
        sa.Column("lon", sa.Float()),
        sa.Column("origin_lat", sa.Float()),
        sa.Column("origin_lon", sa.Float()),
        sa.Column("dest_lat", sa.Float()),
        sa.Column("dest_lon", sa.Float()),
        sa.Column("date_start", sa.Date()),
        sa.Column("date_end", sa.Date()),
        sa.Column("date_precision", sa.String(16), nullable=False),
        sa.Column("year", sa.Integer()),
        sa.Column("victims", sa.Integer()),
        sa.Column("victims_unit", sa.String(32)),
        sa.Column("review_status", sa.String(16), nullable=False),
        sa.Column("corroboration", sa.String(16)),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name="fk_incident_summary_incident_id_incidents",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", name="pk_incident_summary"),
    )
    op.create_index("ix_incident_summary_case_id_date_start", "incident_summary", ["case_id", "date_start"])
    op.create_index("ix_incident_summary_date_start", "incident_summary", ["date_start"])
    op.create_index("ix_incident_summary_document_id", "incident_summary", ["document_id"])
    op.create_index("ix_incident_summary_marker", "incident_summary", ["marker", "incident_id", "lat", "lon", "victims"])
    op.create_table(
        "incident_facets",
        sa.Column("incident_id", sa.String(100), nullable=False),
        sa.Column("facet", sa.String(16), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name="fk_incident_facets_incident_id_incidents",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", "facet", "value", name="pk_incident_facets"),
    )
    op.create_index("ix_incident_facets_facet_value", "incident_facets", ["facet", "value", "incident_id"])
    summary.refresh_all(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_incident_facets_facet_value", table_name="incident_facets")
    op.drop_table("incident_facets")
    op.drop_index("ix_incident_summary_marker", table_name="incident_summary")
    op.drop_index("ix_incident_summary_document_id", table_name="incident_summary")
    op.drop_index("ix_incident_summary_date_start", table_name="incident_summary")
    op.drop_index("ix_incident_summary_case_id_date_start", table_name="incident_summary")
    op.drop_table("incident_summary")
