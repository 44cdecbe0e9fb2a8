"""Bytes -> text: byte-order marks and strict UTF-8 first, then declared charsets, then
charset-normalizer's detection. Binary data is refused rather than decoded into noise."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from rightsledger.errors import IngestError

__all__ = ["binary_reason", "decode_bytes", "declared_charset"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# File signatures of formats people mistake for text reports.
_SIGNATURES = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or a Word/ODF document)"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x7fELF", "an executable"),
    (b"MZ", "a Windows executable"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
_CONTROL = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
# Share of control characters above which decoded text is taken for binary data.
MAX_CONTROL_SHARE = 0.01


def bom_encoding(data: bytes) -> str | None:
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return enc
    return None


def binary_reason(data: bytes) -> str | None:
    """Why `data` is not text (a known file signature, NUL bytes), or None if it may be text."""
    if bom_encoding(data) in ("utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        return None  # NUL bytes are normal there
    for sig, what in _SIGNATURES:
        if data.startswith(sig):
            # "MZ" also starts some words; only call it binary with NUL bytes nearby.
            if sig == b"MZ" and b"\x00" not in data[:512]:
                continue
            return f"binary data ({what}), not text"
    if b"\x00" in data:
        return "binary data (contains NUL bytes), not text"
    return None


def declared_charset(data: bytes, content_type: str | None = None) -> str | None:
    """The charset named by an HTTP Content-Type or by an HTML <meta> in the first 4 KB."""
    candidates: list[str] = []
    if content_type:
        m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]{1,40})", content_type, re.IGNORECASE)
        if m:
            candidates.append(m.group(1))
    m2 = _META_CHARSET.search(data[:4096])
    if m2:
        candidates.append(m2.group(1).decode("ascii", "replace"))
    for name in candidates:
        try:
            return codecs.lookup(name).name
        except LookupError:
            continue
    return None


def _too_many_controls(text: str) -> bool:
    if not text:
        return False
    sample = text[: 1 << 16]
    return len(_CONTROL.findall(sample)) > MAX_CONTROL_SHARE * len(sample)


def decode_bytes(data: bytes, *, content_type: str | None = None, html: bool = False) -> tuple[str, str]:
    """Decode `data` to (text, encoding name); raises IngestError for binary or undecodable data.

    A BOM wins; then strict UTF-8; then a declared charset (HTTP header or HTML meta), if the
    bytes decode under it without errors; then charset-normalizer's best guess.
    """
    reason = binary_reason(data)
    if reason:
        raise IngestError(reason, hint="ingest .txt, .html or .jsonl reports")
    enc = bom_encoding(data)
    if enc:
        try:
            text = data[_bom_len(data):].decode(enc)
            return _checked(text), enc
        except UnicodeDecodeError as exc:
            raise IngestError(f"undecodable bytes: starts with a {enc} byte-order mark but is not {enc} ({exc.reason} at byte {exc.start})", hint="re-save the file as UTF-8") from exc
    try:
        return _checked(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    declared = declared_charset(data, content_type) if (html or content_type) else None
    if declared and declared not in ("utf-8",):
        try:
            return _checked(data.decode(declared)), declared
        except (UnicodeDecodeError, LookupError):
            pass
    best = from_bytes(data[: 1 << 20] if len(data) > 1 << 20 else data).best()
    if best is None or best.encoding is None:
        raise IngestError("undecodable bytes: not UTF-8 and no text encoding fits", hint="re-save the file as UTF-8")
    try:
        text = data.decode(best.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise IngestError(f"undecodable bytes: looked like {best.encoding} but does not decode as it", hint="re-save the file as UTF-8") from exc
    return _checked(text), best.encoding


def _bom_len(data: bytes) -> int:
    for bom, _ in _BOMS:
        if data.startswith(bom):
            return len(bom)
    return 0


def _checked(text: str) -> str:
    if _too_many_controls(text):
        raise IngestError("binary data (control characters), not text", hint="ingest .txt, .html or .jsonl reports")
    return text
