"""Review workspace: users, login throttle, web sessions, review log, notes, case review status,
the reviewed value of a fact, and full-text search over documents.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
STAMP = sa.DateTime(timezone=True)

# SQLite: an external-content FTS5 index over documents, kept in step by triggers, so every
# writer (ingest, linking, tests tampering by hand) updates it without knowing it exists.
SQLITE_FTS = (
    "CREATE VIRTUAL TABLE documents_fts USING fts5("
    "title, outlet, text, content='documents', content_rowid='rowid', tokenize='porter unicode61')",
    "CREATE TRIGGER documents_fts_ai AFTER INSERT ON documents BEGIN "
    "INSERT INTO documents_fts(rowid, title, outlet, text) VALUES (new.rowid, new.title, new.outlet, new.text); END",
    "CREATE TRIGGER documents_fts_ad AFTER DELETE ON documents BEGIN "
    "INSERT INTO documents_fts(documents_fts, rowid, title, outlet, text) "
    "VALUES ('delete', old.rowid, old.title, old.outlet, old.text); END",
    "CREATE TRIGGER documents_fts_au AFTER UPDATE OF title, outlet, text ON documents BEGIN "
    "INSERT INTO documents_fts(documents_fts, rowid, title, outlet, text) "
    "VALUES ('delete', old.rowid, old.title, old.outlet, old.text); "
    "INSERT INTO documents_fts(rowid, title, outlet, text) VALUES (new.rowid, new.title, new.outlet, new.text); END",
    "INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')",
)
SQLITE_FTS_DROP = ("DROP TRIGGER IF EXISTS documents_fts_au", "DROP TRIGGER IF EXISTS documents_fts_ad",
                   "DROP TRIGGER IF EXISTS documents_fts_ai", "DROP TABLE IF EXISTS documents_fts")

# PostgreSQL: a stored generated tsvector (english stemming, like FTS5's porter) with a GIN index.
PG_FTS = (
    "ALTER TABLE documents ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(outlet, '')), 'B') || "
    "to_tsvector('english', coalesce(text, ''))) STORED",
    "CREATE INDEX ix_documents_search_vector ON documents USING gin (search_vector)",
)
PG_FTS_DROP = ("DROP INDEX IF EXISTS ix_documents_search_vector",
               "ALTER TABLE documents DROP COLUMN IF EXISTS search_vector")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("disabled", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "login_throttle",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure", STAMP, nullable=False),
        sa.Column("locked_until", STAMP, nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_login_throttle")),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("expires_at", STAMP, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_web_sessions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_user_id"), "web_sessions", ["user_id"])
    op.create_table(
        "review_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", STAMP, nullable=False),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.String(100), nullable=False),
        sa.Column("document_id", sa.String(64), nullable=True),
        sa.Column("old", JSON, nullable=True),
        sa.Column("new", JSON, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_log")),
    )
    op.create_index(op.f("ix_review_log_document_id"), "review_log", ["document_id"])
    op.create_index("ix_review_log_target", "review_log", ["target_kind", "target_id"])
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.String(100), nullable=False),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("at", STAMP, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    op.create_index("ix_notes_target", "notes", ["target_kind", "target_id"])
    op.create_table(
        "case_reviews",
        sa.Column("case_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("at", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_reviews")),
    )
    with op.batch_alter_table("facts") as batch:
        batch.add_column(sa.Column("current", JSON, nullable=True))

    dialect = op.get_bind().dialect.name
    for statement in SQLITE_FTS if dialect == "sqlite" else PG_FTS if dialect == "postgresql" else ():
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_FTS_DROP if dialect == "sqlite" else PG_FTS_DROP if dialect == "postgresql" else ():
        op.execute(statement)
    with op.batch_alter_table("facts") as batch:
        batch.drop_column("current")
    for table in ("case_reviews", "notes", "review_log", "web_sessions", "login_throttle", "users"):
        op.drop_table(table)
