"""Lexicon files for the fact finders: loaded once, turned into bounded regex alternations.

Every trigger word, alias and pattern fragment the dates, victims, actors and attribution
finders use lives in data/lexicons/*.toml, so that a reviewer can read (and an analyst extend)
the language the rules know without reading code.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Any, NamedTuple

from rightsledger.errors import DataFileError
from rightsledger.resources import data_file, load_toml

__all__ = [
    "EndLiteralRegex", "MatchStarts", "PhraseMatcher", "WordAnchors", "WordStartRegex", "Words", "alternation", "any_of", "first_words",
    "lexicon",
    "longest_first", "match_starts", "phrase",
    "segments", "template", "tokens", "words",
]

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


def any_of(patterns: Iterable[str], flags: int = 0) -> re.Pattern[str]:
    """Listed patterns as one, which matches where any of them does: one search instead of one
    per pattern."""
    patterns = list(patterns)
    for p in patterns:
        re.compile(p, flags)  # a broken pattern is reported as itself, not as the combination
    return re.compile("|".join(f"(?:{p})" for p in patterns) or "(?!)", flags)


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


@dataclass(frozen=True, slots=True)
class Words:
    """The words of one text, tokenised once and shared by every finder that looks words up.

    `toks` holds (start, end, lower-case word) for every `\\w+` run; `where` maps a lower-case
    word to the indices of its tokens, so a finder with a lexicon of hundreds of words visits
    only the tokens that are in it instead of looping over every word of the text in Python;
    `numeric` lists the tokens that start with a digit, `non_ascii` those with a non-ASCII
    character.
    """

    toks: tuple[tuple[int, int, str], ...]
    starts: tuple[int, ...]
    where: dict[str, list[int]]
    numeric: tuple[int, ...]
    non_ascii: tuple[int, ...]

    def hits(self, listed: AbstractSet[str]) -> list[int]:
        """Indices, in text order, of the tokens whose lower-case form is one of `listed`."""
        where = self.where
        # `&` between dict views (or a view and a set) iterates the smaller side: usually the
        # document's few hundred distinct words rather than the whole lexicon.
        found = [i for w in where.keys() & listed for i in where[w]]
        found.sort()
        return found


_TOKEN = re.compile(r"\w+")
_SPLIT = re.compile(r"(\w+)")
# The same split for an ASCII text: there \w means the same either way, and the ASCII test of a
# character is cheaper than the Unicode one the engine makes otherwise.
_SPLIT_ASCII = re.compile(r"(\w+)", re.ASCII)


@lru_cache(maxsize=2)
def words(text: str) -> Words:
    """The word index of `text`; cached, because several finders ask for the same document.

    Only the last two texts: the index of a 5 MB document is large, and the components run
    one document at a time.
    """
    # split() alternates gap, word, gap, ..., gap, and the running total of their lengths gives
    # every offset: the same tokens as _TOKEN.finditer, built in C rather than a Python loop.
    # Lower-casing ASCII keeps every offset and which characters are word characters, so an
    # ASCII text is lower-cased once rather than word by word.
    plain = text.isascii()
    parts = _SPLIT_ASCII.split(text.lower()) if plain else _SPLIT.split(text)
    bounds = list(accumulate(map(len, parts)))
    originals = parts[1::2]
    lowered = originals if plain else list(map(str.lower, originals))
    starts = tuple(bounds[0 : 2 * len(originals) : 2])
    toks = tuple(zip(starts, bounds[1::2], lowered))
    # Keys first (in order of first use), then one append per token: no membership test per token.
    where: dict[str, list[int]] = dict.fromkeys(lowered)  # type: ignore[arg-type]
    for w in where:
        where[w] = []
    for i, w in enumerate(lowered):
        where[w].append(i)
    # Per distinct word rather than per token (lower-casing never makes or unmakes a digit).
    numeric = tuple(sorted(i for w, found in where.items() if w[0].isdigit() for i in found))
    non_ascii = () if plain else tuple(i for i, w in enumerate(originals) if not w.isascii())
    return Words(toks, starts, where, numeric, non_ascii)


def tokens(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, lower-case word) for every word of `text`; shared by the phrase matchers."""
    return words(text).toks


@dataclass(frozen=True, slots=True)
class WordAnchors:
    """Anchor words by name, found through the shared word index (cheaper than one regex per rule).

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
        index = words(text)
        toks = index.toks
        candidates = index.hits(self.words.keys())
        if self.digits and index.numeric:
            candidates = sorted({*candidates, *index.numeric})
        lexicon_words, cased, digits, windows = self.words, self.cased, self.digits, self.windows
        for i in candidates:
            start, end, low = toks[i]
            first = text[start]
            if first.isdigit():
                names: tuple[str, ...] = digits
            else:
                names = lexicon_words.get(low, ())
            for name in names:
                if name in cased and not first.isupper():
                    continue
                before, after = windows[name]
                lo, hi = max(0, start - before), min(n, end + after)
                spans = out[name]
                if spans and lo <= spans[-1][1]:
                    spans[-1] = (spans[-1][0], hi)
                else:
                    spans.append((lo, hi))
        return out


def first_words(fragment: str) -> tuple[set[str], set[str]] | None:
    """The lower-case words a regex's match can start with, as (exact words, prefixes).

    With them the shared word index says where a match can start, so a pattern need not be
    tried at every position of a text (see `WordStartRegex` and the trigger alternations).

    A prefix stands for a first word that goes on in a way the pattern does not spell out
    ("distribut\\w*" starts with a word beginning "distribut"). None when even that is not known
    (the fragment can start with a non-word character, or with something other than letters),
    or when a first word has a non-ASCII letter (case folding could then match ASCII words that
    the lower-case lookup misses). Lookarounds are skipped: ignoring a condition only widens the
    set of words, which costs a failed try and never a missed match. A fragment that can start
    with a digit has none either (see `match_starts`).
    """
    starts = _starts(fragment, digits=False)
    return None if starts is None else (set(starts.exact), set(starts.prefixes))


class MatchStarts(NamedTuple):
    """Where a regex's matches can start: at a word in `exact`, at a word beginning with one of
    `prefixes`, or (when `digit`) at a word beginning with a digit."""

    exact: frozenset[str]
    prefixes: tuple[str, ...]
    digit: bool

    def admit(self, word: str) -> bool:
        """Whether a match can start at this lower-case word, if it is ASCII (try any other)."""
        return word in self.exact or (self.digit and word[:1].isdigit()) or (bool(self.prefixes) and word.startswith(self.prefixes))


def match_starts(fragment: str) -> MatchStarts | None:
    """Like `first_words`, also for a fragment whose match may start with a digit ("30 families").

    Digit-led starts are not spelt out ("\\d{1,3}" would be a thousand words): `digit` says that
    any word beginning with a digit may start a match. As with `first_words`, a word with a
    non-ASCII letter must always be tried, and a match starts at the start of a word only if the
    pattern says so (it opens with `\\b` or `(?<!\\w)`).
    """
    return _starts(fragment, digits=True)


def _starts(fragment: str, digits: bool) -> MatchStarts | None:
    """The search behind `first_words` and `match_starts`; digit-led starts only if `digits`."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser as sre  # type: ignore[attr-defined]

    # A state is (letters so far, how it ended): "" still open, "word" ended at a non-word
    # character or the end of the fragment, "prefix" went on in a way not followed further,
    # "digit" started with a digit (only when `digits`).
    State = tuple[str, str]
    limit = 200

    def letters(op, av) -> set[str] | None:
        """The characters a LITERAL or IN item can match (space for any white space), or None."""
        if op is c.LITERAL:
            return {chr(av)}
        if op is not c.IN:
            return None
        chars: set[str] = set()
        for iop, iav in av:
            if iop is c.LITERAL:
                chars.add(chr(iav))
            elif iop is c.RANGE and iav[1] - iav[0] < 64:
                chars |= {chr(x) for x in range(iav[0], iav[1] + 1)}
            elif iop is c.CATEGORY and iav is c.CATEGORY_SPACE:
                chars.add(" ")
            else:
                return None  # negated sets, \w, \d...
        return chars

    def digit_class(op, av) -> bool:
        """An IN item that matches digits only (\\d, [0-9])."""
        return op is c.IN and all(
            (iop is c.CATEGORY and iav is c.CATEGORY_DIGIT) or (iop is c.RANGE and 48 <= iav[0] <= iav[1] <= 57)
            or (iop is c.LITERAL and chr(iav).isdigit()) for iop, iav in av)

    def seq(items, states: set[State]) -> set[State] | None:
        for op, av in items:
            open_ = {s for s in states if not s[1]}
            if not open_:
                break
            step = item(op, av, open_)
            if step is None:
                return None
            states = {s for s in states if s[1]} | step
            if len(states) > limit:
                return None
        return states

    def item(op, av, states: set[State]) -> set[State] | None:
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            return states  # zero width
        if op is c.SUBPATTERN:
            return seq(av[3], states)
        if op is c.BRANCH:
            out: set[State] = set()
            for branch in av[1]:
                step = seq(branch, states)
                if step is None:
                    return None
                out |= step
            return out
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            low, high, body = av
            out = set(states) if low == 0 else set()
            cur = states
            for k in range(1, min(high, 3) + 1):
                step = seq(body, {s for s in cur if not s[1]})
                if step is None:
                    return None
                cur = {s for s in cur if s[1]} | step
                if k >= low:
                    out |= cur
            # A word ended in an early repeat stays the first word however many repeats follow.
            out |= {s for s in cur if s[1]}
            if high > 3:  # more repeats than followed: a word still open after them goes on unknown
                out |= {(w, "prefix") for w, how in cur if not how}
            return out
        chars = letters(op, av)
        if chars is None:
            if digits and digit_class(op, av):  # a digit first: any word starting with a digit
                return {(w, "digit") if not w else (w, "prefix") for w, _ in states}
            return {(w, "prefix") for w, _ in states}  # anything else: the word so far is only a prefix
        return {(w, "word") if not _TOKEN.match(ch) else (w, "digit") if digits and not w and ch.isdigit()
                else (w + ch.lower(), "") for w, _ in states for ch in chars}

    try:
        states = seq(sre.parse(fragment), {("", "")})
    except Exception:  # an unusual construct: no first words, the fragment is tried everywhere
        return None
    if states is None:
        return None
    # A first word with an uncased non-ASCII letter ("chinaʼs", a modifier-letter apostrophe)
    # matches only words that hold that letter, and those are always tried (see `Words.non_ascii`):
    # it need not be listed. One with a cased one might match an ASCII word ("ſ" is an "s").
    states = {(w, how) for w, how in states if w.isascii() or not all(ch.isascii() or ch.lower() == ch.upper() for ch in w)}
    if not states or any((not w or not w.isascii()) and how != "digit" for w, how in states):
        return None
    # A word the fragment ends on ("" still open) is exact for `first_words`, whose callers
    # close the pattern with (?!\w); for `match_starts` it may go on in the text: a prefix.
    as_prefix = ("prefix", "") if digits else ("prefix",)
    return MatchStarts(frozenset(w for w, how in states if how not in as_prefix and how != "digit"),
                       tuple(sorted({w for w, how in states if how in as_prefix})), any(how == "digit" for _, how in states))


class WordStartRegex:
    """A regex whose matches all begin with one of a few words, tried only where those words are.

    For an alternation of listed phrases (`alternation(...)` behind a lookbehind that keeps it
    off the middle of a word) the leading word of every phrase is known; the shared word index
    finds those words and the regex is tried only there, instead of at every character. The
    matches are exactly `regex.finditer(text)`'s: any position where a match can start is
    tried, in text order, resuming after each match (the regex must not match the empty
    string). Tokens with non-ASCII letters are always tried, since case-insensitive matching
    folds some of them to ASCII ("ſ" is an "s"). A phrase that starts with punctuation has
    no leading word: then the whole text is scanned as before.
    """

    def __init__(self, regex: re.Pattern[str], phrases: Iterable[str], extra_first: Iterable[str] = ()) -> None:
        self.regex = regex
        firsts: set[str] | None = {w.lower() for w in extra_first}
        for p in phrases:
            p = p.strip()
            lead = _TOKEN.match(p)
            if not lead:  # starts with punctuation: no leading word to look for
                firsts = None
                break
            firsts.add(lead.group(0).lower())
        self.firsts = frozenset(firsts) if firsts is not None else None
        self.followers = _followers(phrases, extra_first) if firsts is not None else {}
        # The other way to skip most positions (see `of`): where a match can start, per word.
        self.starts: MatchStarts | None = None
        self.inside = False  # whether a match may start inside a word
        self._seen: set[str] = set()  # words whose offsets are known, below: those that have some
        self._offsets: dict[str, tuple[int, ...]] = {}
        self._last: tuple[str, list[int]] | None = None  # (text, its `_candidates`) for the slices of one text

    @classmethod
    def of(cls, regex: re.Pattern[str]) -> WordStartRegex:
        """For a pattern written in a lexicon file: where its matches can start is read off it.

        A pattern that opens with a word boundary (`\\b` or `(?<!\\w)`) and whose first words
        are known is tried at those words (`firsts`). Any other pattern whose matches start
        with known words or a digit (`match_starts`) is tried at the positions inside the
        words of the text where such a start stands (`starts`): "mid March" in "amid March",
        "March 2019" in "5March 2019". Only a pattern that could start anywhere is scanned over
        the whole text.
        """
        out = cls(regex, ())
        boundary = _opens_at_word_start(regex.pattern)
        derived = first_words(regex.pattern) if boundary else None
        out.firsts = frozenset(derived[0]) if derived is not None and not derived[1] else None
        if out.firsts is None:
            starts = match_starts(regex.pattern)
            # A pattern that can only start with a digit is left to the regex engine, which
            # passes over the other characters about as fast as the word lookup would.
            if starts is not None and (starts.exact or starts.prefixes):
                out.starts, out.inside = starts, not boundary
        return out

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if self.firsts is None and self.starts is None:
            yield from self.regex.finditer(text)
            return
        resume = 0
        for at in self._candidates(text):
            if at < resume:
                continue
            m = self.regex.match(text, at)
            if m is not None:
                resume = m.end()
                yield m

    def finditer_windows(self, text: str, windows: Iterable[tuple[int, int]]) -> Iterator[re.Match[str]]:
        """The matches of `regex.finditer(text, lo, hi)` for each (lo, hi) window in turn.

        Inside a window the regex sees the text end at `hi`, so the word running past it is cut
        short there and may then read as a first word ("Marchers" as "March"): it is always tried
        (at every position in it, for a pattern that may start inside a word).
        """
        rx = self.regex
        if self.firsts is None and self.starts is None:
            for lo, hi in windows:
                yield from rx.finditer(text, lo, hi)
            return
        windows = list(windows)
        if not windows:
            return
        index = words(text)
        toks, starts = index.toks, index.starts
        at_first = self._positions(text)
        for lo, hi in windows:
            tried = at_first[bisect_left(at_first, lo) : bisect_left(at_first, hi)]
            k = bisect_left(starts, hi)
            if k and toks[k - 1][1] > hi:  # the word cut short by the window's end
                cut = toks[k - 1][0]
                if self.inside:
                    tried = tried[: bisect_left(tried, cut)] + list(range(max(lo, cut), hi))
                elif cut >= lo and (not tried or tried[-1] < cut):
                    tried.append(cut)
            resume = lo
            for at in tried:
                if at < resume:
                    continue
                m = rx.match(text, at, hi)
                if m is not None:
                    resume = m.end()
                    yield m

    def search_window(self, text: str, lo: int, hi: int) -> re.Match[str] | None:
        """`regex.search(text, lo, hi)`: for the many windows of one text (its sentences)."""
        return next(self.finditer_windows(text, ((lo, hi),)), None)

    def search_slice(self, text: str, lo: int, hi: int) -> re.Match[str] | None:
        """`regex.search(text[lo:hi])`, tried only at the slice's words where a match can start."""
        return next(self.finditer_slice(text, lo, hi), None)

    def finditer_slice(self, text: str, lo: int, hi: int) -> Iterator[re.Match[str]]:
        """`regex.finditer(text[lo:hi])` (offsets in the slice), tried only where a match can start.

        For the short windows around a fact (a clause before or after it) that a rule reads as a
        string of their own. The words cut by the slice's ends read as whole words in it
        ("arrested" cut to "arrest"): those are always tried.
        """
        window = text[lo:hi]
        if self.firsts is None or self.inside:
            yield from self.regex.finditer(window)
            return
        positions = self._positions(text)
        tried = [at - lo for at in positions[bisect_left(positions, lo) : bisect_left(positions, hi)]]
        index = words(text)
        starts, toks = index.starts, index.toks
        k = bisect_left(starts, lo) - 1
        if k >= 0 and toks[k][1] > lo:  # a word begun before the slice
            tried.insert(0, 0)
        k = bisect_left(starts, hi) - 1
        if k >= 0 and lo <= starts[k] and toks[k][1] > hi and (not tried or tried[-1] < starts[k] - lo):
            tried.append(starts[k] - lo)
        resume, match = 0, self.regex.match
        for at in tried:
            if at < resume:
                continue
            m = match(window, at)
            if m is not None:
                resume = m.end()
                yield m

    def _positions(self, text: str) -> list[int]:
        """`_candidates` of the last text, which the many windows of one document share."""
        last = self._last
        if last is not None and last[0] is text:
            return last[1]
        positions = self._candidates(text)
        self._last = (text, positions)
        return positions

    def _candidates(self, text: str) -> list[int]:
        """Sorted positions in `text` where a match can start."""
        index = words(text)
        toks, where = index.toks, index.where
        if self.firsts is not None:
            found = index.hits(self.firsts)
            if self.followers:
                found = self._followed(found, index)
        elif not self.inside:
            assert self.starts is not None
            exact, prefixes, digit = self.starts
            found = index.hits(exact)
            if digit:
                found += index.numeric
            if prefixes:
                found += [i for w, ids in where.items() if w.startswith(prefixes) for i in ids]
            found = sorted(set(found))
        else:
            # Inside words: the offsets where a match can start, worked out once per distinct word
            # (words recur from text to text); set operations keep the loop to the words that have some.
            seen, offsets = self._seen, self._offsets
            # Usually every word was seen before. (`keys() - seen` would walk all of `seen`;
            # a set's difference walks the smaller side.)
            missing = () if where.keys() <= seen else set(where).difference(seen)
            if len(seen) + len(missing) > _OFFSETS_LIMIT:  # start afresh (new objects: safe for threads)
                seen, offsets = self._seen, self._offsets = set(), {}
                missing = list(where)
            for w in missing:
                seen.add(w)
                found_at = self._word_offsets(w)
                if found_at:
                    offsets[w] = found_at
            out = [toks[i][0] + k for w in where.keys() & offsets.keys() for k in offsets[w] for i in where[w]]
            for i in index.non_ascii:  # case folding may change a word's length: try all of it
                out.extend(range(toks[i][0], toks[i][1]))
            return sorted(set(out)) if index.non_ascii else sorted(out)
        return [toks[i][0] for i in _merge_sorted(found, index.non_ascii)]

    def _followed(self, found: list[int], index: Words) -> list[int]:
        """The tokens of `found` whose next word can continue a phrase begun with theirs.

        "the" begins many listed names ("the Ministry of…") and stands before any of them: tried
        at every "the", the regex fails at nearly all. A listed phrase of two words or more
        matches only where the next token of the text begins with its second word (a prefix
        rather than the whole word: a window or slice may cut the text's word short, and the
        regex may go on past the word). A next token with a non-ASCII letter is always tried
        (case folding may turn it into the second word), as is a first word of a one-word phrase.
        """
        toks, followers = index.toks, self.followers
        last = len(toks) - 1
        other = frozenset(index.non_ascii)
        kept: list[int] = []
        for i in found:
            nexts = followers.get(toks[i][2])
            if nexts is None or (i < last and (toks[i + 1][2].startswith(nexts) or i + 1 in other)):
                kept.append(i)
        return kept

    def _word_offsets(self, word: str) -> tuple[int, ...]:
        """Where in this lower-case word a match can start."""
        assert self.starts is not None
        exact, prefixes, digit = self.starts
        longest = max(map(len, exact), default=0)
        n = len(word)
        return tuple(  # each position tested in place (no slice per position: linear in the word)
            k for k in range(n)
            if (digit and word[k].isdigit()) or (n - k <= longest and word[k:] in exact)
            or (prefixes and word.startswith(prefixes, k)))


_OFFSETS_LIMIT = 50_000  # distinct words remembered per pattern


def _followers(phrases: Iterable[str], extra_first: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """For `WordStartRegex`: per lower-case first word, the words a match begun with it goes
    on with, if known.

    A word listed in `extra_first` stands before a phrase: any phrase's first word follows it.
    A first word is left out (any next word may follow) when a phrase is that word alone, or
    when a phrase beginning with it is not plain ASCII (case folding could then match words
    that a lower-case comparison misses).
    """
    before = {w.lower() for w in extra_first}
    out: dict[str, set[str]] = {w: set() for w in before}
    unknown: set[str] = set()
    for p in phrases:
        toks = [t.lower() for t in _TOKEN.findall(p)]
        plain = p.isascii()
        for w in before:
            out[w].add(toks[0])
            if not plain:
                unknown.add(w)
        if len(toks) < 2 or not plain:
            unknown.add(toks[0])
        else:
            out.setdefault(toks[0], set()).add(toks[1])
    return {w: tuple(sorted(nexts)) for w, nexts in out.items() if w not in unknown}


def _opens_at_word_start(pattern: str) -> bool:
    """Whether every match of the pattern starts where a word starts: it opens with `\\b` or
    `(?<!\\w)`, or is a group or alternation each of whose branches does."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser as sre  # type: ignore[attr-defined]

    def opens(items) -> bool:
        if not len(items):
            return False
        op, av = items[0]
        if op is c.AT:
            return av is c.AT_BOUNDARY
        if op is c.ASSERT_NOT:  # (?<!\w)
            direction, body = av
            return direction < 0 and len(body) == 1 and body[0] == (c.IN, [(c.CATEGORY, c.CATEGORY_WORD)])
        if op is c.SUBPATTERN:
            return opens(av[3])
        if op is c.BRANCH:
            return all(opens(branch) for branch in av[1])
        return False

    try:
        return opens(sre.parse(pattern))
    except Exception:  # not reasoned about: scanned whole
        return False


def _merge_sorted(a: list[int], b: tuple[int, ...]) -> list[int]:
    """The token indices of both lists, each once, in text order."""
    return sorted({*a, *b}) if b else a


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


_GAP = re.compile(r"[ \t\u00a0\-'\u2019\u2018.]{0,3}|[ \t\u00a0]{0,2}\n[ \t\u00a0]{0,2}")


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
            seq = tuple(w.lower() for w in _TOKEN.findall(p))
            if not seq:
                continue
            self._phrase.setdefault(seq, p)
            self._first.setdefault(seq[0], []).append(seq)
        # Phrases of two words or more by their first two words, longest first: a common first
        # word ("the", "north") then only tries the phrases that its next word can continue.
        self._longer: dict[tuple[str, str], list[tuple[str, ...]]] = {}
        for seqs in self._first.values():
            seqs.sort(key=len, reverse=True)
            for seq in seqs:
                if len(seq) > 1:
                    self._longer.setdefault(seq[:2], []).append(seq)
        self._leads = frozenset(first for first, _ in self._longer)  # first words of longer phrases
        self._single = {seq[0]: p for seq, p in self._phrase.items() if len(seq) == 1}

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, phrase as listed) in text order, without overlaps."""
        index = words(text)
        toks = index.toks
        out: list[tuple[int, int, str]] = []
        n = len(toks)
        leads, longer, single = self._leads, self._longer, self._single
        # Only tokens that can start a listed phrase: the word index finds them without a loop
        # over every word of the text.
        for i in index.hits(self._first.keys()):
            word = toks[i][2]
            hit = None
            if word in leads and i + 1 < n:
                for seq in longer.get((word, toks[i + 1][2]), ()):
                    k = len(seq)
                    if i + k > n:
                        continue
                    ok = True
                    for j in range(1, k):
                        if toks[i + j][2] != seq[j] or not _GAP.fullmatch(text, toks[i + j - 1][1], toks[i + j][0]):
                            ok = False
                            break
                    if ok:
                        hit = (toks[i][0], toks[i + k - 1][1], self._phrase[seq])
                        break
            if hit is None and word in single:
                hit = (toks[i][0], toks[i][1], single[word])
            if hit:
                out.append(hit)
        if all(a[1] <= b[0] for a, b in zip(out, out[1:])):
            return out  # in text order and apart, as they mostly are: nothing to resolve
        keep = set(longest_first((s, e) for s, e, _ in out))
        return [h for h in out if (h[0], h[1]) in keep]


class EndLiteralRegex:
    """A regex whose matches all end with one of a few literal words, tried only just before them.

    A pattern like "<capitalised words> (reported|said|…)\\b" starts at any capital letter, so
    `finditer` over a whole text tries it at hundreds of places; but every match ends with one of
    its closing literals and is at most `width` characters long. Finding those literals with
    str.find and scanning only the merged windows [literal end - width, literal end + 1] gives
    exactly `regex.finditer(text)`'s matches: a match must end at a literal occurrence, so it
    starts in that occurrence's window, and a window reaches one character past each literal in
    it (enough for a closing \\b). The fast path is used only where that reasoning holds: a
    case-sensitive pattern of bounded width that ends with literal alternatives (then only
    \\b-like assertions) and has no lookahead or end anchor anywhere; any other pattern is
    scanned whole.
    """

    def __init__(self, regex: re.Pattern[str]) -> None:
        self.regex = regex
        self.literals, self.width = _end_literals(regex)

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        if self.literals is None:
            yield from self.regex.finditer(text)
            return
        n, width, match_in = len(text), self.width, self.regex.finditer
        ends: list[int] = []
        for lit in self.literals:
            at = text.find(lit)
            while at != -1:
                ends.append(at + len(lit))
                at = text.find(lit, at + 1)
        windows: list[tuple[int, int]] = []
        for end in sorted(ends):
            lo, hi = max(0, end - width), min(n, end + 1)
            if windows and lo <= windows[-1][1]:
                windows[-1] = (windows[-1][0], hi)
            else:
                windows.append((lo, hi))
        for lo, hi in windows:
            yield from match_in(text, lo, hi)


def _end_literals(regex: re.Pattern[str]) -> tuple[tuple[str, ...] | None, int]:
    """(closing literals, maximum match width) for `EndLiteralRegex`, or (None, 0) if unsafe."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser as sre  # type: ignore[attr-defined]

    if regex.flags & (re.IGNORECASE | re.MULTILINE):
        return None, 0
    try:
        tree = sre.parse(regex.pattern, regex.flags)
    except Exception:
        return None, 0
    width = tree.getwidth()[1]
    if width >= c.MAXREPEAT or width > 400:
        return None, 0

    def lookahead_or_end(items) -> bool:
        """Whether anything in the tree can look past the end of a match."""
        for op, av in items:
            if op is c.ASSERT or op is c.ASSERT_NOT:
                if av[0] >= 0:  # direction: lookahead
                    return True
                if lookahead_or_end(av[1]):
                    return True
            elif op is c.AT and av not in (c.AT_BOUNDARY, c.AT_NON_BOUNDARY, c.AT_BEGINNING, c.AT_BEGINNING_STRING):
                return True
            elif op is c.SUBPATTERN and lookahead_or_end(av[3]):
                return True
            elif op is c.BRANCH and any(lookahead_or_end(b) for b in av[1]):
                return True
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and lookahead_or_end(av[2]):
                return True
            elif op in (c.GROUPREF, c.GROUPREF_EXISTS, c.ATOMIC_GROUP):
                return True  # not reasoned about: scan whole
        return False

    def strings(items) -> set[str] | None:
        """Every string a sequence of literal items can match, or None if not only literals."""
        out = {""}
        for op, av in items:
            if op is c.LITERAL:
                out = {s + chr(av) for s in out}
            elif op is c.SUBPATTERN:
                inner = strings(av[3])
                if inner is None:
                    return None
                out = {s + t for s in out for t in inner}
            elif op is c.BRANCH:
                alts: set[str] = set()
                for b in av[1]:
                    inner = strings(b)
                    if inner is None:
                        return None
                    alts |= inner
                out = {s + t for s in out for t in alts}
            else:
                return None
            if len(out) > 64:
                return None
        return out

    items = list(tree)
    if lookahead_or_end(items):
        return None, 0
    k = len(items)
    while k and items[k - 1][0] is c.AT:  # trailing \b: looks one character past the match
        k -= 1
    if not k:
        return None, 0
    last = strings([items[k - 1]])
    if not last or "" in last:
        return None, 0
    # Only the closing literals are searched for: every match ends with one of them.
    return tuple(sorted(last)), width
