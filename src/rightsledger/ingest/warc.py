"""Web archives (WARC, WARC.gz) -> one RawItem per captured HTML page, streamed record by record.

A crawl is gigabytes: the archive is never read whole, only one record's payload at a time,
capped like any other item. Only `response` records of a successful page capture (HTTP 200,
an HTML content type) are reports; requests, metadata, redirects, images and scripts are
skipped. The original kept for a page is its HTTP payload (the entity body, with transfer and
content encodings undone), so the bytes the ledger hashes are the HTML the site served; the
WARC record id and payload digest in `meta` lead back to the record in the archive.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from rightsledger.ingest.decode import binary_reason
from rightsledger.ingest.items import MEDIA_HTML, ItemError, RawItem, utcnow

__all__ = ["HTML_TYPES", "WARC_SUFFIXES", "is_warc", "read_warc"]

log = logging.getLogger(__name__)

WARC_SUFFIXES = (".warc", ".warc.gz")
HTML_TYPES = ("text/html", "application/xhtml+xml")
_MISSING = "reading web archives needs warcio: pip install 'rightsledger[scale]'"


def is_warc(path: Path) -> bool:
    return path.name.lower().endswith(WARC_SUFFIXES)


def _capture_time(value: str | None) -> datetime | None:
    """WARC-Date (ISO 8601, "2024-05-01T12:00:00Z") as an aware UTC datetime."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(timezone.utc)


def _media(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def read_warc(path: Path, handle: BinaryIO, max_bytes: int) -> Iterator[RawItem | ItemError]:
    """Every captured HTML page in the archive open on `handle`; a bad record costs only itself."""
    try:
        from warcio.archiveiterator import ArchiveIterator
        from warcio.exceptions import ArchiveLoadFailed
    except ImportError:
        yield ItemError(str(path), _MISSING)
        return
    records = ArchiveIterator(handle)
    pages = 0
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
            # The archive itself is damaged here: what came before was read, nothing after can be.
            where = f" after {pages} page(s)" if pages else ""
            first = (str(exc).splitlines() or [""])[0][:60]
            yield ItemError(str(path), f"damaged web archive{where} ({type(exc).__name__}: {first!r}); the rest of "
                                       "the file was not read (check the download or re-create the archive)")
            return
        if record.rec_type != "response" or record.http_headers is None:
            continue
        # The record's offset is known only once its payload has been read (warcio reads to its end).
        item = _page(record, lambda: f"{path}#byte={records.get_record_offset()}", max_bytes)
        if item is None:
            continue
        if isinstance(item, RawItem):
            pages += 1
        yield item
    if pages == 0:
        log.info("%s: no captured HTML pages (HTTP 200, text/html) in this archive", path)


def _page(record: Any, where: Callable[[], str], max_bytes: int) -> RawItem | ItemError | None:
    """The page in one response record, an ItemError if it is broken, None if it is no page."""
    headers = record.rec_headers
    http = record.http_headers
    content_type = http.get_header("Content-Type")
    status = http.get_statuscode()
    if status != "200" or _media(content_type) not in HTML_TYPES:
        return None
    url = headers.get_header("WARC-Target-URI") or ""
    try:
        data = record.content_stream().read(max_bytes + 1)
    except Exception as exc:  # broken chunking or compression inside one record (zlib, ValueError, …)
        return ItemError(where(), f"unreadable page payload for {url[:200]}: {type(exc).__name__}: {exc}")
    source = where()
    if len(data) > max_bytes:
        return ItemError(source, f"page {url[:200]} is over the {max_bytes} byte limit "
                                 "(raise the limit with --max-bytes if you trust it)")
    if not data.strip():
        return ItemError(source, f"page {url[:200]} has an empty payload")
    if (why := binary_reason(data)) is not None:
        return ItemError(source, f"page {url[:200]} is {why}, though labelled {_media(content_type)}")
    captured = headers.get_header("WARC-Date")
    meta: dict[str, Any] = {
        "url": url or None,
        "capture_date": captured,
        "status": int(status),
        "content_type": content_type,
        "warc_record_id": headers.get_header("WARC-Record-ID"),
        "warc_payload_digest": headers.get_header("WARC-Payload-Digest"),
    }
    return RawItem(data=data, source=source, media_type=MEDIA_HTML,
                   retrieved_at=_capture_time(captured) or utcnow(),
                   meta={k: v for k, v in meta.items() if v is not None})
