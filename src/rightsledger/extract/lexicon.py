"""Lexicon files for the fact finders: loaded once, turned into bounded regex alternations.

Every trigger word, alias and pattern fragment the dates, victims, actors and attribution
finders use lives in data/lexicons/*.toml, so that a reviewer can read (and an analyst extend)
the language the rules know without reading code.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rightsledger.errors import DataFileError
from rightsledger.resources import data_file, load_toml

__all__ = ["PhraseMatcher", "WordAnchors", "alternation", "lexicon", "longest_first", "phrase", "segments", "template", "tokens"]

# Apostrophes and quote marks are written many ways in the same phrase ("People’s", "People's").
_APOS = "['\u2019\u2018\u02bc`]"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@lru_cache(maxsize=32)
def lexicon(name: str) -> dict[str, Any]:
    """The packaged lexicon data/lexicons/<name>.toml, parsed once per process."""
    source = data_file("lexicons", f"{name}.toml")
    if not source.is_file():
        raise DataFileError(f"lexicon {name!r} is missing ({source})", hint="reinstall rightsledger")
    return load_toml(source)


def phrase(words: str) -> str:
    """A regex for a phrase as written: any run of spaces/hyphens between words, any apostrophe."""
    out: list[str] = []
    for ch in words:
        if ch in " -":
            if not out or out[-1] != r"[\s\-]{1,3}":
                out.append(r"[\s\-]{1,3}")
        elif ch in "'\u2019\u2018":
            out.append(_APOS)
        else:
            out.append(re.escape(ch))
    return "".join(out)


def alternation(words: Iterable[str]) -> str:
    """A non-capturing alternation of phrases, longest first so the longest wins."""
    uniq = sorted({w.strip() for w in words if w.strip()}, key=lambda w: (-len(w), w))
    if not uniq:
        return "(?!)"
    return "(?:" + "|".join(phrase(w) for w in uniq) + ")"


def template(pattern: str, parts: dict[str, str], where: str) -> str:
    """Expand {name} placeholders in a lexicon pattern with the named fragments."""

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in parts:
            raise DataFileError(f"{where}: unknown placeholder {{{key}}}", hint=f"use one of {', '.join(sorted(parts))}")
        return parts[key]

    return _PLACEHOLDER.sub(sub, pattern)


def segments(anchor: re.Pattern[str], text: str, before: int, after: int) -> list[tuple[int, int]]:
    """Merged windows around matches of a cheap anchor regex.

    A full rule only needs to scan where its anchor word occurs; scanning these windows
    instead of the whole text keeps the finders fast, and linear even on hostile input.
    """
    out: list[tuple[int, int]] = []
    n = len(text)
    for m in anchor.finditer(text):
        lo, hi = max(0, m.start() - before), min(n, m.end() + after)
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class WordAnchors:
    """Anchor words by name, found in one tokenising pass (cheaper than one regex per rule).

    `words` maps a lower-case word to the anchor names it triggers; `cased` names the anchors
    whose words only count when capitalised ("May" the month, not "may"); tokens starting with
    a digit trigger the anchors in `digits`. `windows` gives (before, after) per anchor name.
    """

    words: dict[str, tuple[str, ...]]
    cased: frozenset[str]
    digits: tuple[str, ...]
    windows: dict[str, tuple[int, int]]

    def find(self, text: str) -> dict[str, list[tuple[int, int]]]:
        """Merged (start, end) windows per anchor name."""
        out: dict[str, list[tuple[int, int]]] = {name: [] for name in self.windows}
        n = len(text)
        words, cased, digits, windows = self.words, self.cased, self.digits, self.windows
        for m in _WORD.finditer(text):
            tok = m.group(0)
            if tok[0].isdigit():
                names: tuple[str, ...] = digits
            else:
                names = words.get(tok.lower(), ())
                if not names:
                    continue
            for name in names:
                if name in cased and not tok[0].isupper():
                    continue
                before, after = windows[name]
                lo, hi = max(0, m.start() - before), min(n, m.end() + after)
                spans = out[name]
                if spans and lo <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], hi)
                else:
                    spans.append((lo, hi))
        return out


def longest_first(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Non-overlapping spans, preferring longer ones, in text order (O(n log n))."""
    starts: list[int] = []
    ends: list[int] = []
    for start, end in sorted(set(spans), key=lambda s: (s[0] - s[1], s[0])):
        i = bisect_left(starts, start)
        if i < len(starts) and starts[i] < end:
            continue  # overlaps the next kept span
        if i > 0 and ends[i - 1] > start:
            continue  # overlaps the previous kept span
        starts.insert(i, start)
        ends.insert(i, end)
    return list(zip(starts, ends))


_TOKEN = re.compile(r"\w+")
_GAP = re.compile(r"[ \t\u00a0\-'\u2019\u2018.]{0,3}|[ \t\u00a0]{0,2}\n[ \t\u00a0]{0,2}")


@lru_cache(maxsize=4)
def tokens(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, lower-case word) for every word of `text`; shared by the phrase matchers."""
    return tuple((m.start(), m.end(), m.group(0).lower()) for m in _TOKEN.finditer(text))


class PhraseMatcher:
    """Finds listed phrases by word lookup: linear in the text, however many phrases there are.

    Words are compared lower-cased; between the words of a phrase only spaces, a hyphen, an
    apostrophe or a full stop may stand ("People's"/"People’s", "U.S."), so a phrase never
    runs across a sentence. Overlapping candidates are resolved longest first.
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        self._first: dict[str, list[tuple[str, ...]]] = {}
        self._phrase: dict[tuple[str, ...], str] = {}
        for p in phrases:
            words = tuple(w.lower() for w in _TOKEN.findall(p))
            if not words:
                continue
            self._phrase.setdefault(words, p)
            self._first.setdefault(words[0], []).append(words)
        for seqs in self._first.values():
            seqs.sort(key=len, reverse=True)

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, phrase as listed) in text order, without overlaps."""
        toks = tokens(text)
        out: list[tuple[int, int, str]] = []
        n = len(toks)
        i = 0
        first = self._first
        while i < n:
            seqs = first.get(toks[i][2])
            hit = None
            if seqs:
                for seq in seqs:
                    k = len(seq)
                    if i + k > n:
                        continue
                    ok = True
                    for j in range(1, k):
                        if toks[i + j][2] != seq[j] or not _GAP.fullmatch(text, toks[i + j - 1][1], toks[i + j][0]):
                            ok = False
                            break
                    if ok:
                        hit = (toks[i][0], toks[i + k - 1][1], self._phrase[seq], k)
                        break
            if hit:
                out.append(hit[:3])
            i += 1
        keep = set(longest_first((s, e) for s, e, _ in out))
        return [h for h in out if (h[0], h[1]) in keep]
