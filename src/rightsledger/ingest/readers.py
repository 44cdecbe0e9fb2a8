"""Files, directories and .jsonl bundles -> RawItem (exact bytes) or ItemError (one clear line).

Reading is defensive: symbolic links are never followed (a directory given for ingestion cannot
lead outside itself), only regular files are opened, sizes are capped before and while reading,
and a bad line in a bundle costs only that line.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from rightsledger.ingest.decode import binary_reason
from rightsledger.ingest.items import MEDIA_HTML, MEDIA_RECORD, MEDIA_TEXT, ItemError, RawItem, utcnow
from rightsledger.ingest.warc import is_warc, read_warc

__all__ = ["BUNDLE_FIELDS", "SUFFIXES", "parse_record", "read_path", "read_paths"]

log = logging.getLogger(__name__)

SUFFIXES = {".txt": MEDIA_TEXT, ".text": MEDIA_TEXT, ".html": MEDIA_HTML, ".htm": MEDIA_HTML, ".xhtml": MEDIA_HTML, ".jsonl": MEDIA_RECORD, ".ndjson": MEDIA_RECORD}
BUNDLE_FIELDS = ("url", "title", "published", "outlet", "language")
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_SUPPORTED = ".txt, .html/.htm, .jsonl or .warc/.warc.gz"


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB" if n >= 2**20 else f"{n} bytes"


def _too_big(max_bytes: int) -> str:
    return f"too large: over the {_mb(max_bytes)} limit (raise the limit with --max-bytes if you trust it)"


def read_paths(paths: Sequence[Path | str], *, max_bytes: int) -> Iterator[RawItem | ItemError]:
    """Every report in `paths` (files, bundles, directories searched recursively in name order)."""
    for p in paths:
        yield from read_path(Path(p), max_bytes=max_bytes)


def read_path(path: Path, *, max_bytes: int) -> Iterator[RawItem | ItemError]:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        yield ItemError(str(path), "no such file or directory")
        return
    except OSError as exc:
        yield ItemError(str(path), f"unreadable: {exc.strerror or exc}")
        return
    if stat.S_ISLNK(st.st_mode):
        yield ItemError(str(path), "is a symbolic link; links are not followed (give the path of its target instead)")
    elif stat.S_ISDIR(st.st_mode):
        yield from _walk(path, max_bytes)
    elif stat.S_ISREG(st.st_mode):
        yield from _read_file(path, max_bytes, explicit=True)
    else:
        yield ItemError(str(path), "not a regular file (a device, pipe or socket); give a file or a directory")


def _walk(root: Path, max_bytes: int) -> Iterator[RawItem | ItemError]:
    """Depth-first in name order, without recursion (deep trees) and without following links."""
    stack: list[Iterator[os.DirEntry[str]]] = []

    def listing(directory: Path) -> Iterator[os.DirEntry[str]] | ItemError:
        try:
            with os.scandir(directory) as it:
                return iter(sorted(it, key=lambda e: e.name))
        except OSError as exc:
            return ItemError(str(directory), f"unreadable directory: {exc.strerror or exc}")

    first = listing(root)
    if isinstance(first, ItemError):
        yield first
        return
    stack.append(first)
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            continue  # hidden files and folders (.git, .DS_Store) are not reports
        path = Path(entry.path)
        try:
            if entry.is_symlink():
                if path.suffix.lower() in SUFFIXES or is_warc(path) or entry.is_dir():
                    yield ItemError(str(path), "is a symbolic link; links are not followed (give the path of its target instead)")
                continue
            if entry.is_dir(follow_symlinks=False):
                sub = listing(path)
                if isinstance(sub, ItemError):
                    yield sub
                else:
                    stack.append(sub)
                continue
            if path.suffix.lower() not in SUFFIXES and not is_warc(path):
                log.debug("skipping %s: not a %s file", path, _SUPPORTED)
                continue
            if not entry.is_file(follow_symlinks=False):
                yield ItemError(str(path), "not a regular file (a device, pipe or socket)")
                continue
        except OSError as exc:
            yield ItemError(str(path), f"unreadable: {exc.strerror or exc}")
            continue
        yield from _read_file(path, max_bytes, explicit=False)


def _open_regular(path: Path) -> tuple[BinaryIO, int]:
    fd = os.open(path, _OPEN_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(0, "not a regular file")
        return os.fdopen(fd, "rb"), st.st_size
    except BaseException:
        os.close(fd)
        raise


def _read_file(path: Path, max_bytes: int, *, explicit: bool) -> Iterator[RawItem | ItemError]:
    suffix = path.suffix.lower()
    media = SUFFIXES.get(suffix)
    if media is None and not is_warc(path):
        what = f"'{suffix}'" if suffix else "without a suffix"
        yield ItemError(str(path), f"unsupported file type {what}: give {_SUPPORTED} files")
        return
    try:
        handle, size = _open_regular(path)
    except OSError as exc:
        reason = "is a symbolic link; links are not followed" if getattr(exc, "errno", None) == 40 else f"unreadable: {exc.strerror or exc}"
        yield ItemError(str(path), reason)
        return
    with handle:
        if media is None:  # a web archive: any size, each page capped (ingest/warc.py)
            yield from read_warc(path, handle, max_bytes)
            return
        if media == MEDIA_RECORD:
            yield from _read_bundle(path, handle, max_bytes)
            return
        if size > max_bytes:
            yield ItemError(str(path), _too_big(max_bytes))
            return
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            yield ItemError(str(path), f"unreadable: {exc.strerror or exc}")
            return
    retrieved = utcnow()
    if len(data) > max_bytes:
        yield ItemError(str(path), _too_big(max_bytes))
    elif not data.strip():
        yield ItemError(str(path), "empty file: nothing to ingest")
    elif (why := binary_reason(data)) is not None:
        yield ItemError(str(path), f"{why}; give {_SUPPORTED} files")
    else:
        yield RawItem(data=data, source=str(path), media_type=media, retrieved_at=retrieved, meta={})


def _read_bundle(path: Path, handle: BinaryIO, max_bytes: int) -> Iterator[RawItem | ItemError]:
    any_record = False
    lineno = 0
    while True:
        line = handle.readline(max_bytes + 2)
        if not line:
            break
        lineno += 1
        source = f"{path}#L{lineno}"
        if len(line) > max_bytes + 1 or (len(line) == max_bytes + 2 and not line.endswith(b"\n")):
            while line and not line.endswith(b"\n"):  # skip the rest of the oversized line
                line = handle.readline(1 << 20)
            yield ItemError(source, "line " + _too_big(max_bytes))
            any_record = True
            continue
        data = line.rstrip(b"\r\n")
        if lineno == 1 and data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]  # a byte-order mark belongs to the file, not to the first record
        if not data.strip():
            continue
        any_record = True
        try:
            meta = parse_record(data)[1]
        except ValueError as exc:
            yield ItemError(source, f"line {lineno}: {exc}")
            continue
        yield RawItem(data=data, source=source, media_type=MEDIA_RECORD, retrieved_at=utcnow(), meta=meta)
    if not any_record:
        yield ItemError(str(path), "empty bundle: no JSON lines in it")


def _iso_date(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError('`published` must be an ISO date string like "2020-07-12"')
    v = value.strip()
    try:
        if len(v) <= 10:
            return date.fromisoformat(v).isoformat()
        return datetime.fromisoformat(v).date().isoformat()
    except ValueError:
        raise ValueError(f"`published` is not an ISO date: {v[:40]!r} (write it as YYYY-MM-DD)") from None


def parse_record(data: bytes) -> tuple[tuple[str, str], dict[str, Any]]:
    """A bundle line -> ((kind "text"|"html", content), validated bundle fields); ValueError if bad."""
    try:
        obj = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"undecodable bytes: bundles must be UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg} at column {exc.colno}); each line must be one JSON object") from None
    except RecursionError:
        raise ValueError("invalid JSON (nested too deeply); each line must be one flat JSON object") from None
    if not isinstance(obj, dict):
        raise ValueError(f"a JSON {type(obj).__name__} is not a report; each line must be a JSON object with `text` or `html`")
    content: tuple[str, str] | None = None
    for key in ("text", "html"):
        value = obj.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValueError(f"`{key}` must be a string")
        if value.strip() and content is None:
            content = (key, value)
    if content is None:
        raise ValueError("no report text: give a non-empty `text` or `html` field")
    meta: dict[str, Any] = {}
    for key in BUNDLE_FIELDS:
        value = obj.get(key)
        if value is None or value == "":
            continue
        if key == "published":
            meta[key] = _iso_date(value)
            continue
        if not isinstance(value, str):
            raise ValueError(f"`{key}` must be a string")
        value = value.strip()
        if key == "url" and not value.lower().startswith(("http://", "https://")):
            raise ValueError("`url` must be an http(s) address")
        if key == "language":
            value = value.lower()[:20]
        meta[key] = value[:2000]
    return content, meta
