"""The ledger schema: the one definition of its tables (migrations create exactly these).

Originals are stored in the database itself, so one transaction covers a document's bytes, its
text, its custody record and its facts: a killed process leaves all of them or none.
Facts keep the proposal as made (`value`, span, rule); review changes `status`, never the proposal.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

# Stable constraint names, so later migrations can refer to them on SQLite and PostgreSQL alike.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = JSON().with_variant(JSONB(), "postgresql")
Stamp = DateTime(timezone=True)

FACT_KINDS = ("type", "date", "place", "victims", "perpetrator", "source")
FACT_STATUSES = ("proposed", "confirmed", "corrected", "rejected")

originals = Table(
    "originals",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("stored_at", Stamp, nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("sha256", ForeignKey("originals.sha256"), nullable=False, unique=True),
    Column("url", Text),
    Column("outlet", String(200)),
    Column("title", Text),
    Column("published", Date),
    Column("language", String(16)),
    Column("source_text", Text, nullable=False),  # decoded text / main text of the HTML
    Column("text", Text, nullable=False),  # clean text: every span indexes into it
    Column("offsets", Json, nullable=False),  # clean-text offset -> source_text offset
    Column("removed", Json, nullable=False),  # boilerplate cut from source_text, with pattern ids
    Column("duplicate_of", ForeignKey("documents.id")),
    Column("extractor", String(100), nullable=False),  # tool version that proposed the facts
    Column("created_at", Stamp, nullable=False),
    Index("ix_documents_published", "published"),
    Index("ix_documents_outlet", "outlet"),
)

custody = Table(
    "custody",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", ForeignKey("originals.sha256"), nullable=False, index=True),
    Column("document_id", ForeignKey("documents.id"), index=True),
    Column("event", String(32), nullable=False),
    Column("source", Text, nullable=False),
    Column("retrieved_at", Stamp, nullable=False),
    Column("recorded_at", Stamp, nullable=False),
    Column("user_name", String(200), nullable=False),
    Column("tool", String(100), nullable=False),
    Column("details", Json, nullable=False),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("document_id", ForeignKey("documents.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("seq", Integer, nullable=False),  # order within the document
    Column("modality", String(16), nullable=False),
    Column("case_id", String(100), index=True),
    # A copy of the date fact's value for querying and sorting; the fact row is authoritative.
    Column("date_start", Date),
    Column("date_end", Date),
    Column("date_precision", String(16), nullable=False),
    Column("evidence", Json, nullable=False),  # the incident's supporting spans
)

facts = Table(
    "facts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("seq", Integer, nullable=False),  # order within the incident and kind
    Column("kind", String(16), nullable=False),  # one of FACT_KINDS
    Column("value", Json, nullable=False),  # the fact as proposed, without span and why
    Column("span_start", Integer),
    Column("span_end", Integer),
    Column("span_text", Text),
    Column("component", String(100)),
    Column("rule", Text),
    Column("detail", Text),
    Column("status", String(16), nullable=False, server_default="proposed"),
)

citations = Table(
    "citations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_id", ForeignKey("documents.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("seq", Integer, nullable=False),
    Column("outlet", String(200), nullable=False),
    Column("span_start", Integer, nullable=False),
    Column("span_end", Integer, nullable=False),
    Column("span_text", Text, nullable=False),
    Column("component", String(100)),
    Column("rule", Text),
    Column("detail", Text),
)
