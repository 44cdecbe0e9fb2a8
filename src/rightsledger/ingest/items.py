"""What ingestion hands on: raw items (exact bytes + provenance), item errors, prepared items."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from rightsledger.ingest.offsets import OffsetMap

__all__ = ["MEDIA_HTML", "MEDIA_RECORD", "MEDIA_TEXT", "ItemError", "Prepared", "RawItem", "utcnow"]

MEDIA_TEXT = "text/plain"
MEDIA_HTML = "text/html"
MEDIA_RECORD = "application/x-ndjson-record"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class RawItem:
    """One report as received: the exact bytes, where they came from and when."""

    data: bytes  # the exact original bytes (for a .jsonl bundle: that line's bytes, without the line break)
    source: str  # file path, "path#L12" for a bundle line, or the URL
    media_type: str  # MEDIA_TEXT | MEDIA_HTML | MEDIA_RECORD
    retrieved_at: datetime  # timezone-aware UTC
    meta: dict[str, Any] = field(default_factory=dict)  # bundle fields, or fetch facts (final_url, status, ...)


@dataclass
class ItemError:
    """An item that could not be read; the others go on."""

    source: str
    reason: str  # one line: what is wrong and what to do

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass
class Prepared:
    """A raw item turned into the clean text extraction reads, with its metadata."""

    raw: RawItem
    sha256: str  # of raw.data
    source_text: str  # decoded text, or the main text extracted from HTML
    text: str  # clean text: every span in the ledger indexes into this
    offsets: OffsetMap  # clean-text offset -> source_text offset
    removed: list[dict[str, Any]]  # boilerplate removals {"pattern", "start", "end"} in source_text
    url: str | None = None
    title: str | None = None
    published: date | None = None
    outlet: str | None = None
    language: str | None = None
    encoding: str | None = None  # how the bytes were decoded ("utf-8", "cp949", ...)
