"""Searches that skip what a regex's match cannot be, proven from the pattern itself.

Rules that look at the text just before a fact search a slice of a few dozen characters
position by position, though their matches can only end the slice: an end-anchored pattern of
bounded width can only start near its end (`EndAnchored`), and phrases that must end it can
only match when its last word ends one of them (`TailRegex`).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from re import _constants as c  # type: ignore[attr-defined]
from re import _parser as sre  # type: ignore[attr-defined]

from rightsledger.extract.lexicon import words

_WORD = re.compile(r"\w+")

__all__ = ["ASCII_FOLDS", "EndAnchored", "TailRegex", "ending_cues", "fragments_by_end", "may_hold", "phrase_ends",
           "required_cues"]

# The non-ASCII characters case-insensitive matching takes for ASCII letters ("ſ" is an "s",
# the Kelvin sign a "k"); a test checks the list is whole.
ASCII_FOLDS = ("\u0130", "\u0131", "\u017f", "\u212a")


def may_hold(s: str, cues: tuple[str, ...]) -> bool:
    """Whether a case-insensitive pattern every match of which holds one of the lower-case ASCII
    `cues` can match in s: a look with str methods, cheaper than the failed search it skips.
    Text with a character that folds to an ASCII letter is always searched."""
    if not s.isascii() and any(ch in s for ch in ASCII_FOLDS):
        return True
    low = s.lower()
    for cue in cues:  # a loop, not any(): no generator made for these few words
        if cue in low:
            return True
    return False


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


def phrase_ends(fragments: Iterable[str]) -> frozenset[str] | None:
    """The lower-case last words of every phrase the fragments can match ("defect(?:ed|ing)? to"
    ends with "to"), or None when a fragment is not a small finite set of ASCII phrases each
    ending with a word character (a repeat such as "[\\w ]{1,30}", a class such as \\w)."""
    by_end = fragments_by_end(fragments)
    return None if by_end is None else frozenset(by_end)


def fragments_by_end(fragments: Iterable[str]) -> dict[str, list[str]] | None:
    """For each last word of `phrase_ends`, the fragments (in their order) with a phrase ending
    with it; None when `phrase_ends` is."""
    out: dict[str, list[str]] = {}
    for fragment in fragments:
        ends = _fragment_ends(fragment)
        if ends is None:
            return None
        for end in sorted(ends):
            out.setdefault(end, []).append(fragment)
    return out


def _fragment_ends(fragment: str) -> set[str] | None:
    """The lower-case last words of the phrases one fragment can match (see `phrase_ends`)."""
    try:
        phrases = _literal_strings(list(sre.parse(fragment)), 256)
    except re.error:
        return None
    if phrases is None:
        return None
    ends: set[str] = set()
    for phrase in phrases:
        if not phrase.isascii() or not re.match(r"\w", phrase[-1:]):
            return None
        ends.add(_WORD.findall(phrase.lower())[-1])
    return ends


class TailRegex:
    """A pattern searched in the slice of text just before a fact, whose matches end the slice
    ("fled to" before a place: the phrase, then only non-word characters). When every match ends
    with one of a few words (`phrase_ends`), the slice is searched only if its last word is one
    of them, read off the shared word index: most slices end with some other word. With
    `by_end` (per last word, the pattern of only the phrases that end with it), the slice is
    searched with the phrases its last word can end: a match exactly when the whole pattern
    matches (with the same span, from the leftmost start to the slice's end), for a fraction of
    the alternatives tried at each word."""

    __slots__ = ("regex", "ends", "by_end")

    def __init__(self, regex: re.Pattern[str], ends: frozenset[str] | None,
                 by_end: dict[str, re.Pattern[str]] | None = None) -> None:
        self.regex = regex
        self.ends = ends
        self.by_end = by_end if ends is not None else None

    def search_slice(self, text: str, lo: int, hi: int) -> re.Match[str] | None:
        """`regex.search(text[lo:hi])` (or, with `by_end`, a match of the same span)."""
        rx = self.regex
        if self.ends is not None:
            index = words(text)
            k = bisect_left(index.starts, hi) - 1
            if k < 0 or index.toks[k][1] <= lo:
                return None  # no word in the slice, and every match holds one
            start, end, low = index.toks[k]
            # a last word cut by the slice's edges, or with non-ASCII letters (which may fold to an
            # ASCII one), is left to the regex
            if start >= lo and end <= hi and text[start:end].isascii():
                if low not in self.ends:
                    return None
                if self.by_end is not None:
                    rx = self.by_end[low]
        return rx.search(text[lo:hi])


# -- cue words read off a pattern ----------------------------------------------------------------
# Strings one of which every match of a pattern holds (or ends with) make a cheap look before a
# search that most texts fail; read off the pattern itself, they cannot fall out of step with it.

_CUE_LIMIT = 64  # strings per cue set: more, and the look costs about what the search does


def _literal_strings(items: list, limit: int = _CUE_LIMIT) -> set[str] | None:
    """Every string a sequence of literal items can match (a literal, a class of literals, a group
    or alternation of those, an optional one), or None if it can match something else."""
    out = {""}
    for op, av in items:
        if op is c.LITERAL:
            step: set[str] | None = {chr(av)}
        elif op is c.IN and av and all(iop is c.LITERAL for iop, _ in av):
            step = {chr(iav) for _, iav in av}
        elif op is c.SUBPATTERN and not _folds(av):
            step = _literal_strings(list(av[3]), limit)
        elif op is c.BRANCH:
            step = set()
            for branch in av[1]:
                one = _literal_strings(list(branch), limit)
                if one is None:
                    return None
                step |= one
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[1] <= 1:
            inner = _literal_strings(list(av[2]), limit)
            step = None if inner is None else (inner | {""} if av[0] == 0 else inner)
        else:
            return None
        if step is None or len(out) * len(step) > limit:
            return None
        out = {a + b for a in out for b in step}
    return out


def _folds(group) -> bool:
    """Whether a group turns case-insensitive matching on ("(?i:...)"): its literals then stand
    for other cases too, and are not reasoned about."""
    return bool(group[1] & re.IGNORECASE)


def _best(candidates: list[set[str]]) -> set[str] | None:
    """The cue set a text is least likely to hold by chance: longest shortest string, then fewest."""
    usable = [s for s in candidates if s and "" not in s]
    return max(usable, key=lambda s: (min(map(len, s)), -len(s))) if usable else None


def _required(items: list) -> set[str] | None:
    """Strings one of which every match of the sequence holds, or None if none is known."""
    candidates: list[set[str]] = []
    run: list = []  # consecutive literal items: their strings are required whole

    def close_run() -> None:
        if run:
            strings = _literal_strings(run)
            if strings is not None:
                candidates.append(strings)
            run.clear()

    for op, av in items:
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue  # zero width: a literal run goes on across it
        if _literal_strings([(op, av)], 8) is not None and not (op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] == 0):
            run.append((op, av))
            continue
        close_run()
        if op is c.SUBPATTERN and not _folds(av):
            inner = _required(list(av[3]))
        elif op is c.BRANCH:
            inner = set()
            for branch in av[1]:
                one = _required(list(branch))
                if one is None:
                    inner = None
                    break
                inner |= one
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
            inner = _required(list(av[2]))
        else:
            inner = None
        if inner is not None:
            candidates.append(inner)
    close_run()
    return _best(candidates)


def required_cues(regex: re.Pattern[str]) -> tuple[str, ...] | None:
    """Strings one of which every match of `regex` holds, for `may_hold` when the pattern is
    case-insensitive (then in lower case, ASCII only) and for a plain `in` test otherwise; None when
    the pattern does not say (a class or a repeat where a word could stand)."""
    try:
        tree = sre.parse(regex.pattern, regex.flags)
    except Exception:  # not reasoned about: no cues, always searched
        return None
    found = _required(list(tree))
    if found is None:
        return None
    if regex.flags & re.IGNORECASE:
        if not all(s.isascii() for s in found):
            return None
        found = {s.lower() for s in found}
    # A string holding another is held wherever that one is: only the shortest are looked for.
    return tuple(sorted(s for s in found if not any(t != s and t in s for t in found)))


def _only(items_av, chars: str | None) -> bool:
    """Whether a repeat body (or single item) matches only white space (chars None) or only `chars`."""
    op, av = items_av
    if op in (c.MAX_REPEAT, c.MIN_REPEAT):
        return len(av[2]) == 1 and _only(av[2][0], chars)
    if op is c.LITERAL:
        return chr(av).isspace() if chars is None else chr(av) in chars
    if op is c.IN:
        if chars is not None:
            return all(iop is c.LITERAL and chr(iav) in chars for iop, iav in av)
        return all((iop is c.LITERAL and chr(iav).isspace()) or (iop is c.CATEGORY and iav is c.CATEGORY_SPACE)
                   for iop, iav in av)
    return False


def ending_cues(regex: re.Pattern[str]) -> tuple[str, ...] | None:
    """For a case-sensitive pattern whose every match ends the string (`$`), after which only full
    stops and then white space may stand: the strings one of which the searched string ends with,
    once `s.rstrip().rstrip(".")` ("No. " ends with "No"). None when that is not known."""
    if regex.flags & (re.IGNORECASE | re.MULTILINE):
        return None
    try:
        items = list(sre.parse(regex.pattern, regex.flags))
    except Exception:
        return None
    if not items or items[-1] != (c.AT, c.AT_END):
        return None
    k = len(items) - 1
    while k and _only(items[k - 1], None):  # white space before the end (what rstrip() drops)
        k -= 1
    while k and _only(items[k - 1], "."):  # full stops before it (what rstrip(".") drops)
        k -= 1
    ends = _suffixes(items[:k])
    if not ends or any(not s or s[-1].isspace() or s[-1] == "." for s in ends):
        return None
    return tuple(sorted(ends))


def _suffixes(items: list) -> set[str] | None:
    """Strings one of which every match of the sequence ends with: its closing literal items."""
    limit = _CUE_LIMIT

    def walk(seq: list, acc: str) -> set[str] | None:
        k = len(seq)
        while k and seq[k - 1][0] in (c.AT, c.ASSERT, c.ASSERT_NOT):
            k -= 1  # zero width
        if not k:
            return {acc} if acc else None
        op, av = seq[k - 1]
        rest = seq[: k - 1]
        if op is c.LITERAL:
            return walk(rest, chr(av) + acc)
        if op is c.IN and av and len(av) <= 8 and all(iop is c.LITERAL for iop, _ in av):
            return _union(walk(rest, chr(iav) + acc) for _, iav in av)
        if op is c.SUBPATTERN and not _folds(av):
            return walk(rest + list(av[3]), acc)
        if op is c.BRANCH:
            return _union(walk(rest + list(b), acc) for b in av[1])
        if op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[1] <= 1:
            taken = walk(rest + list(av[2]), acc)
            return taken if av[0] == 1 else _union((taken, walk(rest, acc)))
        return {acc} if acc else None  # anything else ends the literal tail

    def _union(parts) -> set[str] | None:
        out: set[str] = set()
        for p in parts:
            if p is None:
                return None
            out |= p
            if len(out) > limit:
                return None
        return out

    return walk(items, "")


class CuedRegex:
    """A regex searched only in strings that hold one of the cue words all its matches hold (read
    off the pattern, see `required_cues`): for windows that seldom hold one, a look with str
    methods is cheaper than the failed search, which tries the pattern at every position."""

    __slots__ = ("regex", "cues", "folded")

    def __init__(self, regex: re.Pattern[str]) -> None:
        self.regex = regex
        self.cues = required_cues(regex)
        self.folded = bool(regex.flags & re.IGNORECASE)

    def search(self, s: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
        """`regex.search(s, pos, endpos)`: a match lies in s[pos:endpos], and holds a cue."""
        if self.cues is not None and not self._holds(s if not pos and endpos is None else s[pos:endpos]):
            return None
        return self.regex.search(s, pos) if endpos is None else self.regex.search(s, pos, endpos)

    def _holds(self, window: str) -> bool:
        if self.folded:
            return may_hold(window, self.cues)  # type: ignore[arg-type]
        for cue in self.cues:  # type: ignore[union-attr]
            if cue in window:
                return True
        return False
