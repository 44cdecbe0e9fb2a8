"""The ledger schema: the one definition of its tables (migrations create exactly these).

Originals are stored in the database itself, so one transaction covers a document's bytes, its
text, its custody record and its facts: a killed process leaves all of them or none.
Facts keep the proposal as made (`value`, span, rule); review changes `status`, never the proposal.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    case,
    func,
    literal_column,
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
    Index("ix_incidents_date_start", "date_start"),  # 0004: date filters and sorting at volume
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
    # The fact as a reviewer left it ({"value": …, "evidence": span}); NULL = as proposed.
    Column("current", Json),
    Index("ix_facts_kind_incident_id", "kind", "incident_id"),  # 0004: "incidents with a fact of kind X"
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


# -- review workspace (migration 0003) ---------------------------------------------------------
# Accounts, web sessions, the review log and case review status. Full-text search lives beside
# `documents`: an FTS5 table `documents_fts` kept in step by triggers on SQLite, a generated
# `search_vector` tsvector column with a GIN index on PostgreSQL (both made by migration 0003,
# outside this metadata because they differ by database).
ROLES = ("viewer", "analyst", "admin")
CASE_REVIEW_STATUSES = ("proposed", "reviewed", "verified", "rejected")
FTS_TABLE = "documents_fts"

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # one of ROLES
    Column("password_hash", Text, nullable=False),  # argon2id, never the password
    Column("disabled", Boolean, nullable=False, server_default="0"),
    Column("created_at", Stamp, nullable=False),
    Column("created_by", String(200), nullable=False),
)

login_throttle = Table(
    "login_throttle",
    metadata,
    # Keyed by the name typed, known or not, so a lockout says nothing about which names exist.
    Column("name", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure", Stamp, nullable=False),
    Column("locked_until", Stamp),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the cookie value
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", Stamp, nullable=False),
    Column("expires_at", Stamp, nullable=False),
)

review_log = Table(
    "review_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Stamp, nullable=False),
    Column("user_name", String(200), nullable=False),
    Column("action", String(32), nullable=False),  # confirm, correct, reject, add, case_status, merge, …
    Column("target_kind", String(16), nullable=False),  # fact, case, document, user
    Column("target_id", String(100), nullable=False),
    Column("document_id", String(64), index=True),  # for a document's history page
    Column("old", Json),
    Column("new", Json),
    Index("ix_review_log_target", "target_kind", "target_id"),
)

notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target_kind", String(16), nullable=False),  # case, document, fact
    Column("target_id", String(100), nullable=False),
    Column("user_name", String(200), nullable=False),
    Column("at", Stamp, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_notes_target", "target_kind", "target_id"),
)

case_reviews = Table(
    "case_reviews",
    metadata,
    Column("case_id", String(100), primary_key=True),  # no row = "proposed"
    Column("status", String(16), nullable=False),  # one of CASE_REVIEW_STATUSES
    Column("user_name", String(200), nullable=False),
    Column("at", Stamp, nullable=False),
)

# -- linking (migration 0002) ----------------------------------------------------------------
# The linker's candidate index: keys it wrote for each document (MinHash bands, sampled
# shingles, quotation hashes, blocking keys, duplicate groups, cases), looked up by (kind, key).
link_keys = Table(
    "link_keys",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("document_id", ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_link_keys_document_id_kind", "document_id", "kind"),
)

# Which documents the linker has seen, and with which settings version.
link_state = Table(
    "link_state",
    metadata,
    Column("document_id", ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("version", String(32), nullable=False),
    Column("linked_at", Stamp, nullable=False),
)

# One row per case; members are the incidents whose case_id names it. `summary` holds the
# case as the linker explained it (members, roles, origins, facts, conflicts, reasons).
cases = Table(
    "cases",
    metadata,
    Column("id", String(100), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("types", Json, nullable=False),
    Column("origin_count", Integer, nullable=False),
    Column("summary", Json, nullable=False),
    Column("updated_at", Stamp, nullable=False),
    Index("ix_cases_status", "status"),
)

# Who copies, cites or shares quotations with whom, and why.
document_links = Table(
    "document_links",
    metadata,
    Column("kind", String(16), primary_key=True),  # duplicate | quote | cites | co_cited
    Column("from_id", ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("to_id", ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("score", Float, nullable=False),
    Column("detail", Text, nullable=False),
    Index("ix_document_links_to_id", "to_id"),
)

# Analysts' merge / split decisions: re-applied on every linking run, never edited (an audit trail).
link_overrides = Table(
    "link_overrides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("action", String(8), nullable=False),  # merge | split
    Column("a_document_id", ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("a_incident_id", String(100), nullable=False),
    Column("b_document_id", ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("b_incident_id", String(100), nullable=False),
    Column("note", Text, nullable=False),
    Column("user_name", String(200), nullable=False),
    Column("tool", String(100), nullable=False),
    Column("recorded_at", Stamp, nullable=False),
)


# Full-text search objects made by migration 0003 outside this metadata (they differ by database).
SEARCH_TABLES = frozenset({FTS_TABLE, *(f"{FTS_TABLE}_{part}" for part in ("data", "idx", "docsize", "config", "content"))})
SEARCH_COLUMNS = frozenset({"search_vector"})
SEARCH_INDEXES = frozenset({"ix_documents_search_vector"})


def include_name(name: str | None, type_: str, parent_names: dict[str, str | None]) -> bool:
    """Alembic `include_name` hook: schema comparisons skip the full-text search objects."""
    if type_ == "table":
        return name not in SEARCH_TABLES
    if type_ == "column":
        return name not in SEARCH_COLUMNS
    if type_ == "index":
        return name not in SEARCH_INDEXES
    return True


# -- protection (migration 0005) ------------------------------------------------------------
# The tamper-evident audit log (`rightsledger.protect.audit`): append-only, each entry hashed with
# the previous one. `at` is kept as the exact ISO text that was hashed, so re-hashing is exact.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("user_name", String(200), nullable=False),
    Column("action", String(32), nullable=False),
    Column("object", String(300), nullable=False),
    Column("digest", String(64), nullable=False),  # SHA-256 of the change's details
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# Documents and cases marked `sensitive` (places generalised in public exports) or `confidential`
# (left out of public exports; what was read from a document sealed at rest, see protect.sealed).
MARKS = ("sensitive", "confidential")
MARK_TARGETS = ("document", "case")

protect_marks = Table(
    "protect_marks",
    metadata,
    Column("target_kind", String(16), primary_key=True),  # one of MARK_TARGETS
    Column("target_id", String(100), primary_key=True),
    Column("mark", String(16), primary_key=True),  # one of MARKS
    Column("user_name", String(200), nullable=False),
    Column("at", Stamp, nullable=False),
)


# -- API tokens (migration 0006) --------------------------------------------------------------
# Tokens for scripts using the review workspace's JSON API. Like session cookies, only the
# SHA-256 of a token is stored; a token acts with its user's current role.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200), nullable=False),  # a label: what the token is for
    Column("created_at", Stamp, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("expires_at", Stamp),  # NULL: never
    Column("revoked_at", Stamp),
    Column("revoked_by", String(200)),
)


# -- fact keys: the JSON values of a fact as the reviewer left them -------------------------------
# Written with literal JSON paths (never bound parameters). Migration 0006 indexed these very
# expressions for search and facets, which read the incident summary since 0008; migration 0009
# drops those indexes, and `fact_key_indexes` renders them for both migrations.
def fact_text(key: str, dialect: str) -> Any:
    """A fact's current value[key] as text: the reviewer's version (`current`) first, else the proposal."""
    if dialect == "postgresql":
        return func.coalesce(facts.c.current.op("#>>", return_type=Text)(literal_column(f"'{{value,{key}}}'")),
                             facts.c.value.op("->>", return_type=Text)(literal_column(f"'{key}'")))
    return func.coalesce(func.json_extract(facts.c.current, literal_column(f"'$.value.{key}'")),
                         func.json_extract(facts.c.value, literal_column(f"'$.{key}'")), type_=Text)


def fact_county(dialect: str) -> Any:
    """The county a place fact names: its `county`, or its own name when it is a county."""
    return func.coalesce(fact_text("county", dialect),
                         case((fact_text("level", dialect) == literal_column("'county'"), fact_text("name", dialect))),
                         type_=Text)


FACT_KEY_INDEXES = ("ix_facts_key_code", "ix_facts_key_province", "ix_facts_key_county")


def fact_key_indexes(dialect: str) -> list[str]:
    """CREATE INDEX statements for the fact keys (kind, key, status, incident_id: covering the
    filters and facet counts), rendered for `dialect` from the expressions above."""
    from sqlalchemy.dialects import postgresql, sqlite

    compiler = postgresql.dialect() if dialect == "postgresql" else sqlite.dialect()
    exprs = {"ix_facts_key_code": fact_text("code", dialect), "ix_facts_key_province": fact_text("province", dialect),
             "ix_facts_key_county": fact_county(dialect)}
    out = []
    for name in FACT_KEY_INDEXES:
        sql = str(exprs[name].compile(dialect=compiler, compile_kwargs={"literal_binds": True})).replace("facts.", "")
        out.append(f"CREATE INDEX {name} ON facts (kind, ({sql}), status, incident_id)")
    return out


# -- sealed values (migration 0007) ---------------------------------------------------------
# Confidential values encrypted at rest (`rightsledger.protect.sealed`). A sealed row's columns
# hold stand-ins (empty text, no evidence text, an informant's kind only); its values live here,
# AES-256-GCM sealed with the row's `ref` as associated data, beside their plaintext SHA-256.
sealed_values = Table(
    "sealed_values",
    metadata,
    Column("ref", String(200), primary_key=True),  # "<table>:<row key>", also the associated data
    Column("owner", String(120), nullable=False),  # "document:<id>" or "note:<id>"
    Column("sha256", String(64), nullable=False),  # of the plaintext
    Column("data", LargeBinary, nullable=False),  # crypto.seal(key, plaintext, ref)
    Index("ix_sealed_values_owner", "owner"),
)

# The key that seals them: never the key itself, only a check value that tells the right key from
# a wrong one, and the scrypt salt when it is derived from a passphrase. One row (id 1).
protect_key = Table(
    "protect_key",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("key_id", String(16), nullable=False),  # the check value's first 16 digits, for messages
    Column("check_value", String(64), nullable=False),  # crypto.check_value(key)
    Column("kind", String(16), nullable=False),  # "file" | "passphrase"
    Column("salt", LargeBinary, nullable=False),  # empty for a key file
    Column("created_at", Stamp, nullable=False),
)


# -- incident summary (migration 0008) -------------------------------------------------------
# A denormalised copy of what search, facets, the dashboard and the map filter, count and place
# by — one row per incident, plus one row per (incident, type / province / county) — so those
# read plain indexed columns instead of pulling values out of every fact's JSON. The facts stay
# authoritative: `store.summary` rewrites an incident's rows whenever its facts, dates, case or
# case review status change. Only structured values that are stored in clear anyway go here.
incident_summary = Table(
    "incident_summary",
    metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("document_id", String(64), nullable=False),
    Column("case_id", String(100)),
    Column("marker", String(100), nullable=False),  # the map marker it belongs to: its case, else itself
    # Whether the marker sits here (its first located incident, by id) and the largest victim count
    # of all its incidents: the unfiltered map reads markers without grouping every incident.
    Column("marker_first", Boolean, nullable=False),
    Column("marker_victims", Integer),
    Column("modality", String(16), nullable=False),
    Column("outlet", String(200)),
    Column("published", Date),
    Column("first_type", String(64)),  # the first live type code
    Column("province", String(200)),  # of the representative place
    Column("county", String(200)),
    Column("place", Text),  # the representative place's name: destination, else site, else first located
    Column("lat", Float),
    Column("lon", Float),
    Column("origin_lat", Float),  # the first origin and destination (relocations, repatriations)
    Column("origin_lon", Float),
    Column("dest_lat", Float),
    Column("dest_lon", Float),
    Column("date_start", Date),
    Column("date_end", Date),
    Column("date_precision", String(16), nullable=False),
    Column("year", Integer),
    Column("victims", Integer),  # the largest live victim count, and its unit
    Column("victims_unit", String(32)),
    Column("review_status", String(16), nullable=False),  # the case's review status ("proposed" without one)
    Column("corroboration", String(16)),  # the case's corroboration status
    Index("ix_incident_summary_date_start", "date_start"),
    Index("ix_incident_summary_document_id", "document_id"),
    Index("ix_incident_summary_case_id_date_start", "case_id", "date_start"),  # cases by their first date
    # The map groups incidents into markers: this walks them in marker order without sorting and
    # finds each marker's position without reading the rows.
    Index("ix_incident_summary_marker", "marker", "incident_id", "lat", "lon", "victims"),
)

# Multi-valued facets: one row per distinct (incident, facet, value), facet in SUMMARY_FACETS.
SUMMARY_FACETS = ("type", "province", "county")
incident_facets = Table(
    "incident_facets",
    metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("facet", String(16), primary_key=True),
    Column("value", String(200), primary_key=True),
    Index("ix_incident_facets_facet_value", "facet", "value", "incident_id"),
)
