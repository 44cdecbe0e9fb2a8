"""Searches that skip the positions where a regex's match cannot start.

The background rules of the victim counts search the few dozen characters before every count
position by position, though some of their patterns can only match the last few of them.
"""

from __future__ import annotations

import re
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser as sre  # type: ignore[attr-defined]

__all__ = ["EndAnchored"]


class EndAnchored:
    """A regex each of whose matches ends at the end of the string (every branch closes with `$`,
    without re.MULTILINE), and of bounded width: a match then starts within `width` + 1
    characters of the end (`$` may stand before a final newline), so `search` starts there.

    Starting the search at a position (not slicing the string) keeps what a lookbehind or `\\b`
    sees before it: the match found is the one a search of the whole string finds.
    """

    def __init__(self, regex: re.Pattern[str]) -> None:
        self.regex = regex
        self.width: int | None = None
        if not regex.flags & re.MULTILINE:
            try:
                tree = sre.parse(regex.pattern, regex.flags)
            except Exception:  # not reasoned about: searched whole
                return
            width = tree.getwidth()[1]
            if width < c.MAXREPEAT and _ends_at_end(list(tree)):
                self.width = width

    def search(self, s: str) -> re.Match[str] | None:
        if self.width is None:
            return self.regex.search(s)
        return self.regex.search(s, max(0, len(s) - self.width - 1))


def _ends_at_end(items: list) -> bool:
    """Whether every match of the sequence ends with `$`."""
    if not items:
        return False
    op, av = items[-1]
    if op is c.AT:
        return av is c.AT_END
    if op is c.BRANCH:
        return all(_ends_at_end(list(b)) for b in av[1])
    if op is c.SUBPATTERN:
        return _ends_at_end(list(av[3]))
    return False
