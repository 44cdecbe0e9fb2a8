"""Clean text: boilerplate removed and whitespace normalised, with a map back to the source.

Patterns come from data/boilerplate.toml (each with an id and a comment); every removal is
recorded. Cleaning only deletes characters and rewrites whitespace, so each non-whitespace
character of the clean text is the very character at `offsets.to_source(i)` in the source.
Everything here is linear in the length of the text (line patterns only see short lines).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rightsledger.errors import DataFileError
from rightsledger.ingest.offsets import OffsetMap
from rightsledger.resources import data_file, load_toml

__all__ = ["BoilerplatePattern", "Cleaned", "clean_text", "load_patterns"]

DEFAULT_MAX_LEN = 300

# Characters that carry no text: BOM / zero-width space / soft hyphen / word joiner, and C0/C1
# controls other than whitespace. They are dropped (not recorded) before anything else runs.
_INVISIBLE = re.compile("[\ufeff\u200b\u00ad\u2060\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]+")
# Line breaks as str.splitlines() knows them; "\r\n" counts once.
_LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# Matches the rest of every whitespace run cleaning rewrites (any run but one space, one "\n" or
# "\n\n"), starting at most two characters after the run's start; matches no run it keeps.
_ODD_WHITESPACE = re.compile(r"(?:[^\S \n]| [ \n]|\n(?: |\n\n))\s*")


@dataclass(frozen=True, slots=True)
class BoilerplatePattern:
    id: str
    comment: str
    scope: str  # "line" | "inline"
    regex: re.Pattern[str]
    max_len: int = DEFAULT_MAX_LEN


@dataclass(frozen=True, slots=True)
class Cleaned:
    text: str
    offsets: OffsetMap
    removed: list[dict[str, Any]]  # {"pattern": id, "start", "end"} in the source text


def _compile(entry: dict[str, Any], where: str) -> BoilerplatePattern:
    pid = entry.get("id")
    if not isinstance(pid, str) or not pid:
        raise DataFileError(f"{where}: every [[pattern]] needs an `id`", hint='add id = "…"')
    scope = entry.get("scope", "line")
    if scope not in ("line", "inline"):
        raise DataFileError(f"{where}: pattern {pid!r} has scope {scope!r}", hint='use "line" or "inline"')
    flags = re.MULTILINE if entry.get("case") else re.IGNORECASE | re.MULTILINE
    try:
        rx = re.compile(str(entry["regex"]), flags)
    except (KeyError, re.error) as exc:
        raise DataFileError(f"{where}: pattern {pid!r} has a bad regex: {exc}", hint="fix the regex") from exc
    return BoilerplatePattern(pid, str(entry.get("comment", "")), scope, rx, int(entry.get("max_len", DEFAULT_MAX_LEN)))


@lru_cache(maxsize=8)
def _load(extra: str | None) -> tuple[BoilerplatePattern, ...]:
    sources: list[Any] = [data_file("boilerplate.toml")]
    if extra is not None:
        sources.append(Path(extra))
    patterns: dict[str, BoilerplatePattern] = {}
    for src in sources:
        for entry in load_toml(src).get("pattern", []):
            p = _compile(entry, str(src))
            patterns[p.id] = p  # a user pattern with a packaged id replaces it
    return tuple(patterns.values())


def load_patterns(extra: Path | None = None) -> tuple[BoilerplatePattern, ...]:
    """The packaged boilerplate patterns, plus (or overridden by) those in `extra`."""
    return _load(str(Path(extra).resolve()) if extra is not None else None)


def _find_boilerplate(source: str, patterns: tuple[BoilerplatePattern, ...]) -> list[tuple[int, int, int, int, str]]:
    """(cut_start, cut_end, start, end, pattern id) per removal, in source order.

    A line removal cuts the whole line with its break; its record covers the line's text.
    """
    found: list[tuple[int, int, int, int, str]] = []
    line_patterns = [p for p in patterns if p.scope == "line"]
    for p in patterns:
        if p.scope == "inline":
            found.extend((m.start(), m.end(), m.start(), m.end(), p.id) for m in p.regex.finditer(source) if m.end() > m.start())
    pos = 0
    n = len(source)
    while pos < n:
        brk = _LINE_BREAK.search(source, pos)
        line_end, next_pos = (brk.start(), brk.end()) if brk else (n, n)
        # Strip the line's leading/trailing whitespace without copying it first.
        a, b = pos, line_end
        while a < b and source[a].isspace():
            a += 1
        while b > a and source[b - 1].isspace():
            b -= 1
        if a < b:
            length = b - a
            for p in line_patterns:
                if length <= p.max_len and p.regex.fullmatch(source, a, b):
                    found.append((pos, next_pos, a, b, p.id))
                    break
        pos = next_pos
    found.sort()
    return found


def _kept_segments(n: int, cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    segments: list[tuple[int, int]] = []
    pos = 0
    for start, end in sorted(cuts):
        if start > pos:
            segments.append((pos, start))
        pos = max(pos, end)
    if pos < n:
        segments.append((pos, n))
    return segments


def clean_text(source: str, patterns: tuple[BoilerplatePattern, ...] | None = None) -> Cleaned:
    """Remove boilerplate from `source`, normalise whitespace, and map clean offsets back.

    Whitespace runs become one space, or one line break, or one blank line (two breaks) if the
    run held two or more; leading and trailing whitespace is dropped.
    """
    patterns = load_patterns() if patterns is None else patterns
    found = _find_boilerplate(source, patterns)
    removed = [{"pattern": pid, "start": start, "end": end} for _, _, start, end, pid in found]
    cuts = [(s, e) for s, e, _, _, _ in found]
    cuts += [(m.start(), m.end()) for m in _INVISIBLE.finditer(source)]
    segments = _kept_segments(len(source), cuts)

    # Kept text and its map to the source: kept offset k lies in segment j at source
    # segments[j][0] + (k - seg_kept_starts[j]).
    kept = "".join(source[s:e] for s, e in segments)
    seg_kept_starts: list[int] = []
    acc = 0
    for s, e in segments:
        seg_kept_starts.append(acc)
        acc += e - s

    text, runs_kept = _normalise_whitespace(kept)
    return Cleaned(text, _compose(runs_kept, segments, seg_kept_starts, len(text), len(source)), removed)


def _normalise_whitespace(kept: str) -> tuple[str, list[tuple[int, int, int]]]:
    """Clean text and its runs (clean_start, kept_start, length) into `kept`.

    Between words, most runs are already one space, one break or one blank line and stay as they
    are, so only the other runs are visited: the text between them is copied in one piece.
    """
    lo = len(kept) - len(kept.lstrip())
    body = kept[lo : len(kept.rstrip())]  # leading and trailing whitespace dropped
    pieces: list[str] = []
    runs_kept: list[tuple[int, int, int]] = []
    clean_len = 0

    def emit(text: str, kept_start: int) -> None:
        nonlocal clean_len
        pieces.append(text)
        runs_kept.append((clean_len, lo + kept_start, len(text)))
        clean_len += len(text)

    pos = 0
    while odd := _ODD_WHITESPACE.search(body, pos):
        start, end = odd.span()
        while body[start - 1].isspace():  # body starts with a non-space: at most two steps back
            start -= 1
        emit(body[pos:start], pos)
        pos = end
        breaks = [b.start() for b in _LINE_BREAK.finditer(body, start, end)]
        if not breaks:
            emit(" ", start)
        elif len(breaks) == 1:
            emit("\n", breaks[0])
        else:
            emit("\n", breaks[0])
            emit("\n", breaks[1])
    if pos < len(body):
        emit(body[pos:], pos)
    return "".join(pieces), runs_kept


def _compose(
    runs_kept: list[tuple[int, int, int]],
    segments: list[tuple[int, int]],
    seg_kept_starts: list[int],
    clean_len: int,
    source_len: int,
) -> OffsetMap:
    """Clean -> kept runs composed with kept -> source segments into clean -> source runs."""
    clean_starts: list[int] = []
    source_starts: list[int] = []
    last_clean_end = last_source_end = -1
    for clean_start, kept_start, length in runs_kept:
        c, k, remaining = clean_start, kept_start, length
        while remaining > 0:
            j = bisect_right(seg_kept_starts, k) - 1
            seg_start, seg_end = segments[j]
            src = seg_start + (k - seg_kept_starts[j])
            take = min(remaining, seg_end - src)
            if not (c == last_clean_end and src == last_source_end):
                clean_starts.append(c)
                source_starts.append(src)
            last_clean_end, last_source_end = c + take, src + take
            c, k, remaining = c + take, k + take, remaining - take
    return OffsetMap(tuple(clean_starts), tuple(source_starts), clean_len, source_len)
