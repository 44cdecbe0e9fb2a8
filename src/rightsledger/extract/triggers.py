"""Violation-type triggers from the taxonomy lexicon, each with how firmly it is stated.

`find_triggers` is pure: it returns every trigger with its span, the lexicon entry that matched
(the rule in its Why) and a modality — asserted, hedged ("rumours that…", "could face"),
negated ("no evidence of", "was not executed") or generic (habitual statements, "usually").
Which triggers become incidents is the incident assembler's decision, not this module's.

The lexicon lives in data/taxonomy.toml (types, triggers) and data/lexicons/modality.toml (cues);
both are compiled once into combined regular expressions, so a document is scanned a fixed
number of times whatever the size of the lexicon.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from rightsledger.errors import DataFileError
from rightsledger.extract.lexicon import first_words, words
from rightsledger.extract.sentences import Sentence, find_sentences
from rightsledger.model import VIOLATION_TYPES, Span, Why
from rightsledger.resources import data_file, load_toml

log = logging.getLogger(__name__)

COMPONENT = "triggers.v1"
TRIGGER_KINDS = ("events", "nouns", "reasons", "links")
# Kinds that can anchor an incident; the others only add a type to an anchored incident.
ANCHOR_KINDS = frozenset({"events", "nouns"})
MODALITY_CLASSES = ("negated", "hedged", "generic")
# A participle right before a plural noun describes people ("expelled families", "the detained
# people"), it does not report an act: it counts as an event noun, anchoring only with support.
_ADJECTIVAL = re.compile(
    r"\s+(?:families|households|people|persons|men|women|children|prisoners|defectors|refugees|workers|"
    r"residents|citizens|relatives|traders|students)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ViolationType:
    code: str
    label: str
    description: str
    triggers: dict[str, tuple[str, ...]] = field(default_factory=dict)  # kind -> regex fragments


@dataclass(frozen=True, slots=True)
class Taxonomy:
    types: dict[str, ViolationType]

    def codes(self) -> list[str]:
        return list(self.types)


@dataclass(slots=True)
class Trigger:
    code: str
    kind: str  # events | nouns | reasons | links (see data/taxonomy.toml)
    span: Span
    sentence: int  # index into the document's sentences
    modality: str = "asserted"  # asserted | hedged | negated | generic
    cue: Span | None = None  # the words that made it hedged/negated/generic
    why: Why | None = None

    @property
    def anchors(self) -> bool:
        return self.kind in ANCHOR_KINDS


def load_taxonomy(extra: Path | None = None) -> Taxonomy:
    """The packaged taxonomy, with a user file's types and triggers merged on top."""
    if extra is None:
        return _packaged_taxonomy()
    return _merge(_packaged_taxonomy(), load_toml(Path(extra)), str(extra))


@lru_cache(maxsize=1)
def _packaged_taxonomy() -> Taxonomy:
    return _merge(Taxonomy({}), load_toml(data_file("taxonomy.toml")), "taxonomy.toml")


def _merge(base: Taxonomy, raw: dict[str, Any], source: str) -> Taxonomy:
    types = dict(base.types)
    for code, entry in (raw.get("types") or {}).items():
        if not isinstance(entry, dict):
            raise DataFileError(f"{source}: [types.{code}] must be a table", hint="see data/taxonomy.toml")
        old = types.get(code)
        triggers = {k: tuple(old.triggers.get(k, ())) if old else () for k in TRIGGER_KINDS}
        for kind in TRIGGER_KINDS:
            added = entry.get(kind, [])
            if not isinstance(added, list) or not all(isinstance(x, str) for x in added):
                raise DataFileError(f"{source}: types.{code}.{kind} must be a list of strings")
            for pattern in added:
                _check_pattern(pattern, f"{source}: types.{code}.{kind}")
            triggers[kind] = triggers[kind] + tuple(p for p in added if p not in triggers[kind])
        label = entry.get("label") or (old.label if old else code.replace("_", " ").capitalize())
        description = entry.get("description") or (old.description if old else "")
        types[code] = ViolationType(code, label, description, triggers)
    unknown = [c for c in types if c not in VIOLATION_TYPES]
    if unknown:
        log.info("taxonomy %s adds types beyond the default set: %s", source, ", ".join(unknown))
    return Taxonomy(types)


def _check_pattern(pattern: str, where: str) -> None:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise DataFileError(f"{where}: bad pattern {pattern!r}: {exc}", hint="fix the regular expression") from exc
    if compiled.groups:
        raise DataFileError(f"{where}: pattern {pattern!r} has a capturing group", hint="write (?:...) instead of (...)")


@dataclass(frozen=True, slots=True)
class _Entry:
    code: str
    kind: str
    pattern: str


class _Alternation:
    """Many regex fragments compiled into one pattern; `fragment(m)` says which one matched.

    Fragments are bucketed by the characters they can start with and each bucket is guarded
    by a lookahead, so at a word start the engine only tries the fragments that can match
    there: a few hundred triggers cost about as much as a dozen.

    Over a long text even walking the bucket guards at every position adds up, so for a large
    lexicon `finditer` and `search` go one step further there: a cheap regex finds the
    positions where a match can start and each is tried with a pattern holding only the
    buckets its first character opens. That finds exactly the matches of the combined pattern
    (see `_dispatch`).

    Over a whole document there is a cheaper way still: the first word of almost every fragment
    can be read off the pattern ("(?:publicly )?execut(?:ed)" starts with "publicly" or
    "executed"), so the shared word index says where a match can start and the pattern is tried
    only at those few words (see `first_words` and `_by_words`).
    """

    # Measured on ~3 KB reports: dispatching pays off for the hundred-odd anchor triggers (about
    # 40% faster) but not for a few dozen fragments, nor on the short modality windows, where
    # one call of the combined pattern is cheaper than a step in Python per word.
    DISPATCH_MIN_FRAGMENTS = 50
    DISPATCH_MIN_CHARS = 300

    def __init__(self, fragments: list[str]) -> None:
        # Longer fragments first: Python's alternation takes the first that matches, and the
        # longer phrase ("beaten to death") should win over its prefix ("beaten").
        self.fragments = sorted(dict.fromkeys(fragments), key=lambda f: (-len(f), f))
        buckets: dict[str, list[int]] = {}
        anywhere: list[int] = []
        for i, f in enumerate(self.fragments):
            firsts = _first_chars(f)
            if firsts is None:
                anywhere.append(i)
            for c in firsts or ():
                buckets.setdefault(c, []).append(i)
        # pattern text -> fragment index by group number. Keyed by the text: hashing a compiled
        # pattern hashes its whole compiled code, tens of microseconds for the trigger lexicon.
        self._groups: dict[str, list[int]] = {}
        merged = _merge_buckets(buckets)
        branches: list[tuple[str, list[int]]] = list(merged)
        if anywhere:
            branches.append(("", anywhere))
        self.regex = self._compile(branches) if branches else None
        self._by_char: dict[str, re.Pattern[str]] = {}
        self._starts: re.Pattern[str] | None = None
        if self.regex is not None and not anywhere and len(self.fragments) >= self.DISPATCH_MIN_FRAGMENTS:
            self._dispatch(merged)
        # First words (exact, and prefixes for open-ended ones such as "distribut\w*") of every
        # fragment, or None when one of them has no known first word: then no word lookup.
        self._last: tuple[str, list[int], list[str]] | None = None  # `_start_positions` of the last text
        self._windows: tuple[str, int] | None = None  # the last text `search_window` read, and how often
        self._words: frozenset[str] | None = None
        self._prefixes: tuple[str, ...] = ()
        self._seen: tuple[set[str], set[str]] = (set(), set())  # see `_prefixed_words`
        firsts = [first_words(f) for f in self.fragments]
        if self.regex is not None and all(f is not None for f in firsts):
            self._words = frozenset(w for f in firsts if f for w in f[0])
            self._prefixes = tuple(sorted({w for f in firsts if f for w in f[1]}))
        self._firsts = [(frozenset(f[0]), tuple(f[1])) if f else (frozenset(), ()) for f in firsts]
        self._by_word: dict[str, re.Pattern[str] | None] = {}  # see `_word_pattern`
        self._by_members: dict[tuple[int, ...], re.Pattern[str]] = {}

    def _compile(self, branches: list[tuple[str, list[int]]]) -> re.Pattern[str]:
        """One pattern of (guard characters or "" for none, fragment indices) branches."""
        order = [-1]  # group number -> fragment index
        texts = []
        for chars, members in branches:
            alts = "|".join(f"({self.fragments[i]})" for i in members)
            order.extend(members)
            texts.append(f"(?=[{re.escape(chars)}])(?:{alts})" if chars else alts)
        rx = re.compile(rf"(?<!\w)(?:{'|'.join(texts)})(?!\w)", re.IGNORECASE)
        self._groups[rx.pattern] = order
        return rx

    def _dispatch(self, merged: list[tuple[str, list[int]]]) -> None:
        """Per ASCII first character, a pattern of only the buckets whose guard admits it.

        The combined pattern at a position tries the buckets in order and skips those whose
        lookahead fails; the per-character pattern lists the remaining ones in the same order,
        so it matches exactly what the combined one matches there. Any other first character
        (non-ASCII letters fold case in surprising ways: "ſ" is an "s") uses the combined pattern.
        """
        guards = [re.compile(f"[{re.escape(chars)}]", re.IGNORECASE) for chars, _ in merged]
        by_buckets: dict[tuple[int, ...], re.Pattern[str]] = {}
        for code in range(128):
            c = chr(code)
            admitted = tuple(b for b, g in enumerate(guards) if g.match(c))
            if not admitted:
                continue
            if admitted not in by_buckets:
                by_buckets[admitted] = self._compile([("", merged[b][1]) for b in admitted])
            self._by_char[c] = by_buckets[admitted]
        self._starts = re.compile(rf"(?<!\w)(?:[{re.escape(''.join(self._by_char))}]|[^\x00-\x7f])")

    def finditer(self, text: str, pos: int = 0, endpos: int | None = None) -> Iterator[re.Match[str]]:
        if self.regex is None:
            return iter(())
        endpos = len(text) if endpos is None else endpos
        if self._words is not None and pos == 0 and endpos == len(text):
            return self._by_words(text)
        if self._starts is None or endpos - pos < self.DISPATCH_MIN_CHARS:
            return self.regex.finditer(text, pos, endpos)
        return self._dispatched(text, pos, endpos)

    def _dispatched(self, text: str, pos: int, endpos: int) -> Iterator[re.Match[str]]:
        """What `self.regex.finditer` yields: leftmost matches, each search resuming at the end."""
        assert self._starts is not None and self.regex is not None
        resume = pos
        by_char, combined = self._by_char, self.regex
        for start in self._starts.finditer(text, pos, endpos):
            at = start.start()
            if at < resume:
                continue
            m = by_char.get(text[at], combined).match(text, at, endpos)  # combined: non-ASCII
            if m is not None:
                resume = m.end()
                yield m

    def _start_positions(self, text: str) -> list[int]:
        """Sorted offsets of the words of `text` where a match can start (see `_by_words`);
        remembered for the last text, which the many short windows of one document share."""
        return self._starts_and_words(text)[0]

    def _starts_and_words(self, text: str) -> tuple[list[int], list[str]]:
        """`_start_positions` and the lower-case word at each."""
        cached = self._last
        if cached is not None and cached[0] is text:
            return cached[1], cached[2]
        assert self._words is not None
        index = words(text)
        found = set(index.hits(self._words))
        found.update(index.non_ascii)
        if self._prefixes:
            where = index.where
            for w in where.keys() & self._prefixed_words(where.keys()):
                found.update(where[w])
        toks = index.toks
        found_in_order = sorted(found)
        positions = [toks[i][0] for i in found_in_order]
        found_words = [toks[i][2] for i in found_in_order]
        self._last = (text, positions, found_words)
        return positions, found_words

    def _prefixed_words(self, words: AbstractSet[str]) -> set[str]:
        """Those of the words seen so far that begin with a first-word prefix. Words recur from
        text to text: each is tested once (up to a bound), the rest is set arithmetic."""
        seen, prefixed = self._seen
        if not words <= seen:
            if len(seen) > _WORD_PATTERNS_LIMIT:
                seen, prefixed = self._seen = (set(), set())
            new = set(words).difference(seen)
            seen |= new
            prefixed.update(w for w in new if w.startswith(self._prefixes))
        return prefixed

    def _word_pattern(self, word: str) -> re.Pattern[str] | None:
        """The pattern tried at an ASCII word: only the fragments that can start with it, in the
        order of the first-character pattern (so the one that matches is the one it would match).

        At a common first word ("in", "were") that starts few fragments, a failed try then costs
        a few fragments instead of every fragment with its first letter. Remembered per word
        (up to a bound: open-ended first words make the words unbounded), compiled per set of
        fragments."""
        if word in self._by_word:
            return self._by_word[word]
        rx: re.Pattern[str] | None = None
        by_first = self._by_char.get(word[0])
        if by_first is not None:
            firsts = self._firsts
            members = tuple(i for i in self._groups[by_first.pattern][1:]
                            if word in firsts[i][0] or (firsts[i][1] and word.startswith(firsts[i][1])))
            if members:
                rx = self._by_members.get(members)
                if rx is None:
                    rx = self._by_members[members] = self._compile([("", list(members))])
        if len(self._by_word) >= _WORD_PATTERNS_LIMIT:
            self._by_word = {}
        self._by_word[word] = rx
        return rx

    def _by_words(self, text: str) -> Iterator[re.Match[str]]:
        """What `self.regex.finditer(text)` yields, trying the pattern only at possible first words.

        A match starts at a word whose lower-case form is a first word (or starts with a first-word
        prefix) of some fragment; words with non-ASCII letters are always tried, since
        case-insensitive matching folds some of them to ASCII ("ſ" is an "s").
        """
        assert self.regex is not None and self._words is not None
        combined, dispatch = self.regex, bool(self._by_char)
        resume = 0
        positions, found_words = self._starts_and_words(text)
        for at, word in zip(positions, found_words):
            if at < resume:
                continue
            rx = self._word_pattern(word) if dispatch and word.isascii() else combined  # combined: non-ASCII
            if rx is None:
                continue
            m = rx.match(text, at)
            if m is not None:
                resume = m.end()
                yield m

    def search(self, text: str) -> re.Match[str] | None:
        if self.regex is None:
            return None
        if self._words is not None:
            return next(self._by_words(text), None)
        return self.regex.search(text) if self._starts is None else next(self._dispatched(text, 0, len(text)), None)

    def search_window(self, text: str, lo: int, hi: int) -> re.Match[str] | None:
        """`self.regex.search(text, lo, hi)`, tried only at the words of the window where a match
        can start (the leftmost that matches is the search's match): a trigger's clause holds a
        few such words, often none, and a scan tries the pattern at every character.

        The word running past `hi` is cut short there and may read as a shorter first word
        ("nothing" as "no"), so it is always tried."""
        if self.regex is None or hi <= lo:
            return None
        if self._words is None:
            return self.regex.search(text, lo, hi)
        index = words(text)
        starts, toks = index.starts, index.toks
        a, b = bisect.bisect_left(starts, lo), bisect.bisect_left(starts, hi)
        seen = self._windows
        calls = seen[1] + 1 if seen is not None and seen[0] is text else 1
        self._windows = (text, calls)
        if calls > _WINDOWS_BEFORE_INDEX:  # many windows of this text: look its possible starts up once
            positions = self._start_positions(text)
            tried = positions[bisect.bisect_left(positions, lo) : bisect.bisect_left(positions, hi)]
        else:  # a few windows: their own few words are read instead
            exact, prefixes = self._words, self._prefixes
            na = index.non_ascii  # always tried (see `_by_words`)
            other = set(na[bisect.bisect_left(na, a) : bisect.bisect_left(na, b)]) if na else ()
            tried = [toks[k][0] for k in range(a, b)
                     if toks[k][2] in exact or (prefixes and toks[k][2].startswith(prefixes)) or k in other]
        if b and starts[b - 1] >= lo and toks[b - 1][1] > hi and (not tried or tried[-1] < starts[b - 1]):
            tried.append(starts[b - 1])
        by_char, combined = self._by_char, self.regex
        for at in tried:
            m = by_char.get(text[at], combined).match(text, at, hi)
            if m is not None:
                return m
        return None

    def may_match_window(self, text: str, lo: int, hi: int) -> bool:
        """False only when `search_window(text, lo, hi)` certainly finds nothing: no word of the
        window can start a match and no word runs past `hi`. A lookup in the text's possible
        starts (found once per text), much cheaper than the search for the many windows of
        plainly asserted facts."""
        if self.regex is None or hi <= lo:
            return False
        if self._words is None:
            return True
        cached = self._last  # inline `_start_positions` for the cached text: this runs per fact
        positions = cached[1] if cached is not None and cached[0] is text else self._start_positions(text)
        i = bisect.bisect_left(positions, lo)
        if i < len(positions) and positions[i] < hi:
            return True
        return _WORD_CUT.match(text, hi - 1) is not None

    def fragment(self, m: re.Match[str]) -> str:
        return self.fragments[self._groups[m.re.pattern][m.lastindex or 0]]


_WORD_CUT = re.compile(r"\w\w")  # at hi - 1: a word runs on past hi


_WORD_PATTERNS_LIMIT = 20_000  # words remembered per alternation by `_word_pattern`
_WINDOWS_BEFORE_INDEX = 3  # windows of one text `search_window` reads word by word before indexing it


def _merge_buckets(buckets: dict[str, list[int]]) -> list[tuple[str, list[int]]]:
    """Characters with the same fragments share one branch (a/A, or letters of one fragment)."""
    by_members: dict[tuple[int, ...], str] = {}
    for c, members in sorted(buckets.items()):
        key = tuple(sorted(set(members)))
        by_members[key] = by_members.get(key, "") + c + (c.upper() if c.upper() != c else "")
    return [(chars, list(members)) for members, chars in by_members.items()]


def _first_chars(fragment: str) -> set[str] | None:
    """Lower-case characters a fragment can start with, or None when that is not known."""
    from re import _constants as c  # type: ignore[attr-defined]
    from re import _parser as sre  # type: ignore[attr-defined]

    def seq(items) -> tuple[set[str] | None, bool]:
        out: set[str] = set()
        for op, av in items:
            first, nullable = item(op, av)
            if first is None:
                return None, False
            out |= first
            if not nullable:
                return out, False
        return out, True

    def item(op, av) -> tuple[set[str] | None, bool]:
        if op is c.LITERAL:
            return {chr(av).lower()}, False
        if op is c.IN:
            chars: set[str] = set()
            for iop, iav in av:
                if iop is c.LITERAL:
                    chars.add(chr(iav).lower())
                elif iop is c.RANGE and iav[1] - iav[0] < 64:
                    chars |= {chr(x).lower() for x in range(iav[0], iav[1] + 1)}
                else:
                    return None, False
            return chars, False
        if op is c.SUBPATTERN:
            return seq(av[3])
        if op is c.BRANCH:
            out: set[str] = set()
            nullable = False
            for branch in av[1]:
                first, n = seq(branch)
                if first is None:
                    return None, False
                out |= first
                nullable = nullable or n
            return out, nullable
        if op in (c.MAX_REPEAT, c.MIN_REPEAT):
            first, n = seq(av[2])
            return first, n or av[0] == 0
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            return set(), True
        return None, False

    try:
        first, nullable = seq(sre.parse(fragment))
    except Exception:  # an unusual construct: fall back to trying it everywhere
        return None
    return None if first is None or nullable else first


@dataclass(frozen=True, slots=True)
class ModalityCues:
    windows: dict[str, int]
    before: dict[str, _Alternation]
    after: dict[str, _Alternation]
    retraction: _Alternation
    retraction_types: frozenset[str]
    # Every class's cues in one pattern per side. Most triggers are plainly asserted: one search
    # that finds no cue at all rules out the three classes' searches (a class's window is never
    # larger than the window searched here).
    any_before: _Alternation | None = None
    any_after: _Alternation | None = None


@lru_cache(maxsize=1)
def load_modality() -> ModalityCues:
    raw = load_toml(data_file("lexicons", "modality.toml"))
    windows = {"negated_before": 32, "window_before": 90, "window_after": 60, **raw.get("windows", {})}
    before, after = {}, {}
    for cls in MODALITY_CLASSES:
        section = raw.get(cls, {})
        for pattern in section.get("before", []) + section.get("after", []):
            _check_pattern(pattern, f"modality.toml [{cls}]")
        # Anchored at the end (before) or start (after) of the window: the cue must sit next to
        # the trigger's clause, not anywhere in it.
        before[cls] = _Alternation(section.get("before", []))
        after[cls] = _Alternation(section.get("after", []))
    retraction = raw.get("retraction", {})
    every = lambda side: [p for cls in MODALITY_CLASSES for p in raw.get(cls, {}).get(side, [])]  # noqa: E731
    return ModalityCues(windows, before, after, _Alternation(retraction.get("cues", [])),
                        frozenset(retraction.get("types", [])), _Alternation(every("before")), _Alternation(every("after")))


class TriggerFinder:
    """The taxonomy and modality lexicons compiled for scanning many documents."""

    def __init__(self, taxonomy: Taxonomy | None = None, modality: ModalityCues | None = None) -> None:
        self.taxonomy = taxonomy or load_taxonomy()
        self.modality = modality or load_modality()
        anchors: dict[str, list[_Entry]] = {}
        context: dict[str, list[_Entry]] = {}
        for vt in self.taxonomy.types.values():
            for kind, patterns in vt.triggers.items():
                target = anchors if kind in ANCHOR_KINDS else context
                for p in patterns:
                    target.setdefault(p, []).append(_Entry(vt.code, kind, p))
        self._anchor_entries = anchors
        self._context_entries = context
        self._anchors = _Alternation(list(anchors))
        self._context = _Alternation(list(context))

    def find(self, text: str, sentences: list[Sentence] | None = None) -> list[Trigger]:
        if sentences is None:
            sentences = find_sentences(text)
        starts = [s.span.start for s in sentences]
        out: list[Trigger] = []
        for alternation, entries in ((self._anchors, self._anchor_entries), (self._context, self._context_entries)):
            for m in alternation.finditer(text):
                si = bisect.bisect_right(starts, m.start()) - 1
                if si < 0 or m.start() >= sentences[si].span.end:
                    continue  # outside every sentence (whitespace between blocks)
                fragment = alternation.fragment(m)
                span = Span(m.start(), m.end(), m.group(0))
                adjectival = _ADJECTIVAL.match(text, m.end()) is not None
                for e in entries[fragment]:
                    kind, detail = e.kind, f"matched {m.group(0)!r}"
                    if kind == "events" and adjectival:
                        kind, detail = "nouns", detail + " (a participle describing people)"
                    why = Why(COMPONENT, f"{e.code}/{e.kind}:{e.pattern}", detail)
                    out.append(Trigger(e.code, kind, span, si, why=why))
        out.sort(key=lambda t: (t.span.start, t.code))
        self._set_modality(text, sentences, out)
        return out

    def _set_modality(self, text: str, sentences: list[Sentence], triggers: list[Trigger]) -> None:
        cues = self.modality
        for t in triggers:
            cls, cue = span_modality(text, sentences[t.sentence].span, t.span, cues)
            if cue is not None:
                t.modality, t.cue = cls, cue
                t.why = Why(COMPONENT, t.why.rule if t.why else "", f"{cls}: cue {cue.text!r}")
        # A retraction ("found to be alive") only hedges asserted triggers of its types: look for
        # one only when there are such triggers (a scan of the whole text each time otherwise).
        retractable = [t for t in triggers if t.code in cues.retraction_types and t.modality == "asserted"]
        retraction = cues.retraction.search(text) if retractable else None
        if retraction is not None:
            cue = Span(retraction.start(), retraction.end(), retraction.group(0))
            for t in retractable:
                t.modality, t.cue = "hedged", cue
                t.why = Why(COMPONENT, t.why.rule if t.why else "", f"hedged: the report says {cue.text!r}")


def span_modality(text: str, sentence: Span, span: Span, cues: ModalityCues | None = None) -> tuple[str, Span | None]:
    """How firmly the words at `span` are stated: ("asserted", None) or (class, the cue)."""
    cues = cues or load_modality()
    w = cues.windows
    lo, hi = max(sentence.start, span.start - w["window_before"]), min(sentence.end, span.end + w["window_after"])
    # Whether any cue is there at all: the match itself is not needed (no Span built). Most facts
    # have no cue word in reach at all: then neither the clause nor the search is needed (the
    # clause only narrows the windows, and ends the right one at a mark, never inside a word).
    left, right = lo, hi  # narrowed to the clause where a cue may be
    before = cues.any_before is None or cues.any_before.may_match_window(text, lo, span.start)
    if before:
        left = _clause_left(text, lo, span.start)
        before = cues.any_before is None or cues.any_before.search_window(text, left, span.start) is not None
    after = cues.any_after is None or cues.any_after.may_match_window(text, span.end, hi)
    if after:
        right = _clause_right(text, span.end, hi)
        after = cues.any_after is None or cues.any_after.search_window(text, span.end, right) is not None
    if not (before or after):
        return "asserted", None
    for cls in MODALITY_CLASSES:
        lo = max(left, span.start - w["negated_before"]) if cls == "negated" else left
        cue = (_last_match(cues.before[cls], text, lo, span.start) if before else None) or (
            _first_match(cues.after[cls], text, span.end, right) if after else None)
        if cue is not None:
            return cls, cue
    return "asserted", None


# What ends a clause: one of a few marks, or a dash between spaces (r"[;:“”\"]|\s[–—]\s|\(|\)"
# to the left of a trigger, r"[,;:“”\"]|\s[–—]\s|\(" to its right). The windows are searched for
# the marks and dashes only (rare characters the regex engine skips to); the spaces around a dash
# are checked in Python, as that pattern's matches would take them, one after the other.
_LEFT_MARKS = re.compile(r"[;:“”\"()–—]")
_RIGHT_MARKS = re.compile(r"[,;:“”\"(–—]")


def _dash_clause(text: str, dash: int, lo: int, hi: int) -> bool:
    """Whether the dash at `dash` stands between white space inside text[lo:hi]."""
    return lo <= dash - 1 and dash + 1 < hi and text[dash - 1].isspace() and text[dash + 1].isspace()


def _clause_left(text: str, lo: int, hi: int) -> int:
    """The end of the last clause mark in text[lo:hi] (of the pattern's matches in turn), else lo."""
    last = lo
    for m in _LEFT_MARKS.finditer(text, lo, hi):
        at = m.start()
        if text[at] not in "–—":
            last = at + 1
        elif _dash_clause(text, at, last, hi):
            last = at + 2
    return last


def _clause_right(text: str, lo: int, hi: int) -> int:
    """The start of the first clause mark in text[lo:hi], else hi."""
    for m in _RIGHT_MARKS.finditer(text, lo, hi):
        at = m.start()
        if text[at] not in "–—":
            return at
        if _dash_clause(text, at, lo, hi):
            return at - 1
    return hi


def _last_match(alt: _Alternation, text: str, lo: int, hi: int) -> Span | None:
    found = alt.search_window(text, lo, hi)
    if found is None:
        return None
    for m in alt.finditer(text, found.end(), hi):
        found = m
    return Span(found.start(), found.end(), found.group(0))


def _first_match(alt: _Alternation, text: str, lo: int, hi: int) -> Span | None:
    m = alt.search_window(text, lo, hi)
    return Span(m.start(), m.end(), m.group(0)) if m else None


@lru_cache(maxsize=1)
def default_finder() -> TriggerFinder:
    return TriggerFinder()


def find_triggers(text: str, sentences: list[Sentence] | None = None,
                  finder: TriggerFinder | None = None) -> list[Trigger]:
    """Every violation-type trigger in `text`, in text order, with its modality."""
    return (finder or default_finder()).find(text, sentences)
