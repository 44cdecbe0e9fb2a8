"""Random texts for the property tests of fast paths that stand in for a plain regex (no tests here).

Fast paths go wrong where Unicode case folding maps a non-ASCII letter onto an ASCII one, so
every alphabet built here includes those letters.
"""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import strategies as st

FOLDING = ("ſ", "K", "İ", "ı")  # long s, Kelvin sign, dotted capital I, dotless i


def texts_of(pieces: Iterable[str], max_size: int = 14) -> st.SearchStrategy[str]:
    """Texts joined from up to `max_size` of these pieces and the folding letters."""
    return st.lists(st.sampled_from([*pieces, *FOLDING]), max_size=max_size).map("".join)


def spans(matches: Iterable[object]) -> list[tuple[int, int]]:
    return [m.span() for m in matches]  # type: ignore[attr-defined]
