"""Evidence: originals addressed by their SHA-256 and the chain-of-custody records about them.

The rules live here; the SQL that stores them lives in `store.repository`. An original is
only ever handed out after its bytes have been re-hashed against the address they were stored
under (the Berkeley Protocol's "hash at collection, verify on use").
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from rightsledger.errors import IntegrityError
from rightsledger.settings import current_user

# Custody events, in the order they can happen to one original.
INGESTED = "ingested"  # first received; the original and its document were stored
REPEAT = "repeat"  # the same bytes were received again (another path, URL or run)
EVENTS = (INGESTED, REPEAT)



def _version() -> str:
    try:
        return metadata.version("rightsledger")
    except metadata.PackageNotFoundError:  # running from a source tree without installing
        return "unknown"


TOOL = f"rightsledger {_version()}"


def digest(data: bytes) -> str:
    """The address of an original: lowercase hex SHA-256 of its exact bytes."""
    return hashlib.sha256(data).hexdigest()


def check(sha256: str, data: bytes) -> bytes:
    """Return `data` if it still hashes to `sha256`; otherwise raise IntegrityError."""
    actual = digest(data)
    if actual != sha256:
        raise IntegrityError(
            f"stored original {sha256[:16]}… no longer matches its SHA-256 (now {actual[:16]}…)",
            hint="the ledger was altered outside RightsLedger; restore it from a backup and run `rightsledger verify`",
        )
    return data


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(slots=True)
class CustodyRecord:
    """One link in the chain of custody of an original."""

    sha256: str
    event: str
    source: str
    retrieved_at: datetime
    document_id: str | None = None
    recorded_at: datetime = field(default_factory=utcnow)
    user: str = field(default_factory=current_user)
    tool: str = TOOL
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "document_id": self.document_id,
            "event": self.event,
            "source": self.source,
            "retrieved_at": _iso(self.retrieved_at),
            "recorded_at": _iso(self.recorded_at),
            "user": self.user,
            "tool": self.tool,
            "details": self.details,
        }


def _iso(value: datetime) -> str:
    if value.tzinfo is None:  # SQLite hands back naive datetimes; they were stored as UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.isoformat()


def custody(event: str, sha256: str, source: str, retrieved_at: datetime | None = None, *,
            document_id: str | None = None, details: dict[str, Any] | None = None) -> CustodyRecord:
    """A new custody record for `event`, stamped with the current user and tool version."""
    if event not in EVENTS:
        raise ValueError(f"unknown custody event {event!r}")
    return CustodyRecord(
        sha256=sha256,
        event=event,
        source=source,
        retrieved_at=retrieved_at or utcnow(),
        document_id=document_id,
        details=dict(details or {}),
    )


@dataclass(frozen=True, slots=True)
class Mismatch:
    """An original that failed verification, or a document whose evidence is incomplete."""

    sha256: str
    document_id: str | None
    problem: str

    def to_dict(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "document_id": self.document_id, "problem": self.problem}
