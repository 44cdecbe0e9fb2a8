"""Shared quotations: the same quoted sentence in two reports makes them reports of one account.

Quotes come from the extraction's `quotes` layer when present (spans into the clean text);
otherwise quoted passages are found with a plain pattern. Each quoted sentence long enough to
be distinctive becomes a key (a hash of its normalised words), so two reports quoting the
same words meet in the `CandidateIndex` whatever their quote marks, spacing or case.
"""

from __future__ import annotations

import re
from typing import Any

from rightsledger.link.evidence import DocLink
from rightsledger.link.settings import LinkSettings
from rightsledger.link.text import norm, short_hash
from rightsledger.model import Document, Span

_QUOTED = re.compile(r"[\"“”„«»]([^\"“”„«»]{10,1200})[\"“”„«»]")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")


def _layer_spans(doc: Document) -> list[tuple[int, int]] | None:
    layer = doc.layers.get("quotes")
    if not layer:
        return None
    out = []
    for q in layer:
        span = _as_span(q)
        if span is not None:
            out.append(span)
    return out


def _as_span(q: Any) -> tuple[int, int] | None:
    """A quote as stored by extraction: an object with `.span`, a Span, or their dict forms."""
    if isinstance(q, Span):
        return q.start, q.end
    span = getattr(q, "span", None)
    if isinstance(span, Span):
        return span.start, span.end
    if isinstance(q, dict):
        d = q.get("span", q)
        if isinstance(d, dict) and "start" in d and "end" in d:
            return int(d["start"]), int(d["end"])
    return None


def quoted_passages(doc: Document) -> list[Span]:
    """The document's quotations: from the `quotes` layer, else by pattern."""
    spans = _layer_spans(doc)
    if spans is None:
        spans = [(m.start(1), m.end(1)) for m in _QUOTED.finditer(doc.text)]
    return [doc.span(s, e) for s, e in spans if 0 <= s < e <= len(doc.text)]


def quote_keys(doc: Document, settings: LinkSettings) -> dict[str, str]:
    """key -> the quoted sentence as written, for every distinctive quoted sentence."""
    min_words = int(settings.quotes["min_words"])
    max_chars = int(settings.quotes["max_chars"])
    out: dict[str, str] = {}
    for span in quoted_passages(doc):
        for sentence in _SENTENCE_END.split(span.text[: max_chars * 4]):
            key_text = norm(sentence)
            if len(key_text.split()) >= min_words:
                out.setdefault(short_hash(key_text[:max_chars]), sentence.strip())
    return out


def shared_quotes(a: Document, b: Document, settings: LinkSettings,
                  keys: tuple[dict[str, str], dict[str, str]] | None = None) -> DocLink | None:
    """A "quote" link when the two documents share a quoted sentence (the first one named).
    `keys` are the two documents' `quote_keys` when the caller has them already (a linking run
    compares one document with many: recomputing them dominated its time)."""
    ka, kb = keys if keys is not None else (quote_keys(a, settings), quote_keys(b, settings))
    common = sorted(set(ka) & set(kb))
    if not common:
        return None
    first, second = sorted((a.id, b.id))
    detail = f"{len(common)} shared quotation(s), e.g. “{ka[common[0]][:160]}”"
    return DocLink("quote", first, second, float(len(common)), detail)

