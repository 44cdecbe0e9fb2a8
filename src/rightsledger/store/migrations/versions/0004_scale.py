"""Scale: indexes for the workspace's filters and joins at millions of incidents.

Incidents are filtered and sorted by date; facts are looked up by kind ("every incident with a
type fact of X") and joined to incidents. The documents' outlet/published, incidents' case_id and
document_id and facts' incident_id indexes exist since 0001, full-text search since 0003.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_incidents_date_start", "incidents", ["date_start"])
    op.create_index("ix_facts_kind_incident_id", "facts", ["kind", "incident_id"])


def downgrade() -> None:
    op.drop_index("ix_facts_kind_incident_id", table_name="facts")
    op.drop_index("ix_incidents_date_start", table_name="incidents")
