"""HTML -> main text and page metadata (title, date, site name, canonical URL).

trafilatura and htmldate read only the markup given to them: nothing linked from the page is
fetched, no script runs. Options are fixed (fast mode, no extensive date search, no
deduplication cache) so the same bytes always give the same text.
"""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from rightsledger.errors import IngestError

__all__ = ["HtmlContent", "extract_html"]

log = logging.getLogger(__name__)

# trafilatura's time grows with the number of elements (about 60 µs each); pages with more
# start tags than this skip its main-text search and are read by the plain fallback below.
MAX_ELEMENTS = 50_000
_START_TAG = re.compile(r"<[A-Za-z]")
_INVISIBLE_TAGS = ("script", "style", "noscript", "template", "svg", "math", "iframe", "object", "embed", "head")
_BLOCK_TAGS = (
    "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
    "blockquote", "section", "article", "header", "footer", "nav", "aside", "main", "pre", "dd", "dt",
)
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class _Skip(Exception):
    pass


@dataclass(frozen=True, slots=True)
class HtmlContent:
    text: str
    title: str | None
    published: date | None
    sitename: str | None
    url: str | None


@lru_cache(maxsize=1)
def _config() -> Any:
    from trafilatura.settings import use_config

    cfg = use_config()
    cfg.set("DEFAULT", "MIN_EXTRACTED_SIZE", "1")
    cfg.set("DEFAULT", "MIN_OUTPUT_SIZE", "1")
    cfg.set("DEFAULT", "EXTENSIVE_DATE_SEARCH", "off")
    cfg.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    return cfg


def _parse_date(value: Any) -> date | None:
    if not value:
        return None
    m = _ISO_DATE.match(str(value))
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _fallback_text(html: str) -> str:
    """Visible text of the body without trafilatura's main-text choice (short or odd pages)."""
    import lxml.html

    try:
        root = lxml.html.document_fromstring(html)
    except Exception:  # noqa: BLE001 - lxml raises several types on hostile markup
        return ""
    for bad in list(root.iter(*_INVISIBLE_TAGS)):
        if bad.getparent() is not None:
            bad.drop_tree()
    for block in root.iter(*_BLOCK_TAGS):
        block.tail = "\n" + (block.tail or "")
        block.text = "\n" + (block.text or "")
    lines = (" ".join(line.split()) for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line)


def _clean_str(value: Any, limit: int = 500) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(value.split())
    return value[:limit] if value else None


def extract_html(html: str, *, url: str | None = None) -> HtmlContent:
    """Main text and metadata of an HTML page; IngestError if the page has no text at all."""
    import trafilatura

    doc: dict[str, Any] = {}
    too_big = len(_START_TAG.findall(html)) > MAX_ELEMENTS
    if too_big:
        log.info("%s has more than %d elements; reading its text without main-text detection", url or "HTML item", MAX_ELEMENTS)
    try:
        if too_big:
            raise _Skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = trafilatura.bare_extraction(
                html,
                url=url,
                fast=True,
                include_comments=False,
                include_tables=True,
                include_images=False,
                include_links=False,
                deduplicate=False,
                with_metadata=True,
                date_extraction_params={"extensive_search": False, "original_date": True, "outputformat": "%Y-%m-%d"},
                config=_config(),
            )
        if result is not None:
            doc = result.as_dict() if hasattr(result, "as_dict") else dict(result)
    except _Skip:
        pass
    except Exception as exc:  # noqa: BLE001 - a broken page must not stop a batch
        log.warning("trafilatura failed on %s: %s", url or "HTML item", exc)
    text = doc.get("text") or ""
    if not text.strip():
        text = _fallback_text(html)
    if not text.strip():
        raise IngestError("HTML has no main text (only markup or scripts)", hint="check the page; save its article text as .txt")
    page_url = doc.get("url")
    if not (isinstance(page_url, str) and page_url.startswith(("http://", "https://"))):
        page_url = None
    return HtmlContent(
        text=text,
        title=_clean_str(doc.get("title")),
        published=_parse_date(doc.get("date")),
        sitename=_clean_str(doc.get("sitename"), 200),
        url=page_url,
    )
