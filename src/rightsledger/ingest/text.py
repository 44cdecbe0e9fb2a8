"""RawItem -> Prepared: decoded text, HTML main text, clean text with its offset map, metadata.

Metadata precedence (most explicit first): a bundle's own fields; then what the page says about
itself (HTML metadata); then what the text shows (a dateline at the top). The outlet comes from
the bundle, else a URL the registry knows, else the page's site name, else the URL's domain.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from rightsledger.errors import IngestError
from rightsledger.ingest.clean import clean_text
from rightsledger.ingest.decode import decode_bytes
from rightsledger.ingest.html import extract_html
from rightsledger.ingest.items import MEDIA_HTML, MEDIA_RECORD, MEDIA_TEXT, Prepared, RawItem
from rightsledger.ingest.meta import find_dateline, guess_title, identify_language
from rightsledger.ingest.readers import parse_record
from rightsledger.outlets import load_outlets, outlet_for_url

__all__ = ["canonical_outlet", "prepare"]


def canonical_outlet(name: str | None) -> str | None:
    """The registry's canonical name for `name`, or `name` as given when the registry lacks it."""
    if not name or not name.strip():
        return None
    outlet = load_outlets().by_name(name)
    return outlet.name if outlet else " ".join(name.split())[:200]


def _http_url(value: Any) -> str | None:
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None


def prepare(item: RawItem) -> Prepared:
    """Turn a raw item into clean text plus metadata; IngestError with the reason if it cannot.

    The reason does not repeat `item.source`: callers report it beside the source, as with ItemError.
    """
    meta = item.meta
    html_meta = None
    encoding: str | None = None
    url = _http_url(meta.get("url")) or _http_url(meta.get("final_url"))
    if item.media_type == MEDIA_RECORD:
        try:
            (kind, content), fields = parse_record(item.data)
        except ValueError as exc:
            raise IngestError(str(exc), hint="fix the line in the bundle") from exc
        meta = {**fields, **{k: v for k, v in meta.items() if k not in fields}}
        url = _http_url(fields.get("url")) or url
        encoding = "utf-8"
        if kind == "html":
            html_meta = extract_html(content, url=url)
            source_text = html_meta.text
        else:
            source_text = content
    elif item.media_type == MEDIA_HTML:
        decoded, encoding = decode_bytes(item.data, content_type=meta.get("content_type"), html=True)
        html_meta = extract_html(decoded, url=url)
        source_text = html_meta.text
    elif item.media_type == MEDIA_TEXT:
        source_text, encoding = decode_bytes(item.data, content_type=meta.get("content_type"))
    else:
        raise IngestError(f"unknown media type {item.media_type!r}")

    cleaned = clean_text(source_text)
    if not cleaned.text:
        raise IngestError("no text left once blank space and boilerplate are removed", hint="check that the file holds a report")

    if url is None and html_meta is not None:
        url = html_meta.url
    published: date | None = None
    if meta.get("published"):
        published = date.fromisoformat(str(meta["published"])[:10])
    elif html_meta is not None and html_meta.published is not None:
        published = html_meta.published
    else:
        published = find_dateline(cleaned.text)

    outlet = canonical_outlet(meta.get("outlet"))
    if outlet is None and url is not None:
        known = load_outlets().by_url(url)
        outlet = known.name if known else None
    if outlet is None and html_meta is not None:
        outlet = canonical_outlet(html_meta.sitename)
    if outlet is None:
        outlet = outlet_for_url(url)  # the registered domain of an unknown site

    title = meta.get("title") or (html_meta.title if html_meta else None) or guess_title(cleaned.text)
    language = meta.get("language") or identify_language(cleaned.text)

    return Prepared(
        raw=item,
        sha256=hashlib.sha256(item.data).hexdigest(),
        source_text=source_text,
        text=cleaned.text,
        offsets=cleaned.offsets,
        removed=cleaned.removed,
        url=url,
        title=title,
        published=published,
        outlet=outlet,
        language=language,
        encoding=encoding,
    )
