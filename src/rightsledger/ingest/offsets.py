"""OffsetMap: every clean-text offset -> the source-text offset it was copied from.

Cleaning only deletes characters and rewrites whitespace, so the map is a list of runs in
which clean and source offsets advance together. A reviewer's span in the clean text can
always be shown in the original text through it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["OffsetMap"]


@dataclass(frozen=True, slots=True)
class OffsetMap:
    """Runs (clean_start, source_start), sorted by clean_start; `length` is len(clean text)."""

    clean_starts: tuple[int, ...]
    source_starts: tuple[int, ...]
    length: int
    source_length: int

    @classmethod
    def identity(cls, length: int) -> OffsetMap:
        return cls((0,), (0,), length, length) if length else cls((), (), 0, 0)

    @classmethod
    def from_positions(cls, positions: Sequence[int], source_length: int) -> OffsetMap:
        """Build from the source offset of every clean character, compressing into runs."""
        clean_starts: list[int] = []
        source_starts: list[int] = []
        prev = None
        for i, s in enumerate(positions):
            if prev is None or s != prev + 1:
                clean_starts.append(i)
                source_starts.append(s)
            prev = s
        return cls(tuple(clean_starts), tuple(source_starts), len(positions), source_length)

    def to_source(self, i: int) -> int:
        """Source offset of clean offset `i`; `len(text)` maps just past the last character."""
        if not 0 <= i <= self.length:
            raise IndexError(f"clean offset {i} outside 0..{self.length}")
        if self.length == 0:
            return 0
        if i == self.length:
            return self.to_source(i - 1) + 1
        k = bisect_right(self.clean_starts, i) - 1
        return self.source_starts[k] + (i - self.clean_starts[k])

    def span_to_source(self, start: int, end: int) -> tuple[int, int]:
        """Source range covering clean range [start, end) (removed text inside it included)."""
        if start >= end:
            s = self.to_source(start)
            return s, s
        return self.to_source(start), self.to_source(end - 1) + 1

    def to_json(self) -> dict[str, Any]:
        return {
            "v": 1,
            "length": self.length,
            "source_length": self.source_length,
            "runs": [[c, s] for c, s in zip(self.clean_starts, self.source_starts, strict=True)],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> OffsetMap:
        runs = d.get("runs", [])
        return cls(
            tuple(int(c) for c, _ in runs),
            tuple(int(s) for _, s in runs),
            int(d["length"]),
            int(d.get("source_length", 0)),
        )
