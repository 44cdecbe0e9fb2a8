"""Case-insensitive alternations of listed phrases, grouped under their first letter."""

from __future__ import annotations

from collections.abc import Iterable

from rightsledger.extract.lexicon import alternation, phrase

__all__ = ["by_initial"]


def by_initial(phrases: Iterable[str]) -> str:
    """`alternation(phrases)` with its phrases grouped under their first letter, for patterns
    compiled with re.IGNORECASE.

    There the engine tries every phrase of an alternation in turn (no first-character test for
    case-insensitive letters): a list of dozens of phrases tried at many places (the count
    rules at every number, the reporting verbs after every informant phrase) costs dozens of
    failed tries each time. Grouped, it tries the initials and then the phrases of one. The
    matches are the same: phrases with different initials never match at the same place, and
    within an initial the phrases keep their order (longest first).
    """
    uniq = sorted({p.strip() for p in phrases if p.strip()}, key=lambda p: (-len(p), p))  # as `alternation` orders them
    if not uniq or not all(p[0].isascii() and p[0].isalpha() for p in uniq):
        return alternation(uniq)
    groups: dict[str, list[str]] = {}
    for p in uniq:
        groups.setdefault(p[0].lower(), []).append(p)
    return "(?:" + "|".join(phrase(g[0]) if len(g) == 1 else f"{initial}(?:{'|'.join(phrase(p[1:]) for p in g)})"
                            for initial, g in groups.items()) + ")"
