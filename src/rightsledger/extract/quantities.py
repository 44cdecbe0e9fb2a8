"""Victim groups: counts with units, approximation and a short description (component victims.v1).

"30 families", "Thirty households", "about 200 people", "seven men and two women" (one group
of 9), "dozens of residents" (count unknown). Background statistics — populations, censuses,
capacities, ages, money, rates ("10 in each city"), numbered camps — are not victims and are
left out. Every group's `why.detail` is a stable `key=value; …` string the incident assembler
can read: `unit`, `verb` (the nearest violation word in the sentence, or "none") and `role`
(`victims`, or `spectators` for crowds forced to watch).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from rightsledger.errors import DataFileError
from rightsledger.extract.lexicon import (
    MatchStarts,
    WordAnchors,
    WordStartRegex,
    alternation,
    any_of,
    by_initial,
    lexicon,
    match_starts,
    words,
)
from rightsledger.extract.numbers import number_pattern, number_words, parse_number, vague_words
from rightsledger.extract.prechecks import EndAnchored, ending_cues, may_hold, required_cues
from rightsledger.model import Span, Victims, Why

__all__ = ["COMPONENT", "find_victims"]

COMPONENT = "victims.v1"

_SP = r"[\s\u00a0]{1,3}"
# r"[.!?;]\s|\n" written to open with one character class (the look-behind then says which branch
# was read), so that the regex engine can scan ahead for it: the same matches.
_SENTENCE_END = re.compile(r"[.!?;\n](?:(?<=\n)|\s)")
# Compiled once: the module-level re functions look each pattern up in re's cache on every call.
_AND = re.compile(r"\s+and\s+")
_YEAR_LEAD = re.compile(r"\d{4}\b")
_PASSIVE_AUX = re.compile(r"\b(?:was|has\s+been|had\s+been|is\s+being|got|were)\b", re.IGNORECASE)
_COORDINATED = re.compile(r",?\s{1,3}(?:and|plus|as well as)\s{1,3}|,\s{1,3}")
_DESC_STOP = re.compile(r"\b(?:were|was|are|is|have|has|had|said|told|says)\b|,")
_WATCH = re.compile(r"\b(?:watch|witness|see|attend)", re.IGNORECASE)
_WATCH_CUES = required_cues(_WATCH)  # one is in every _WATCH match
# "12 were arrested": the verbs a bare count is the subject of, and the gap before them.
_BARE_VERBS = ("were", "was", "had been", "have been", "got", "received", "faced", "are being", "were later")
_BARE_VERB_WORDS = tuple(dict.fromkeys(v.split()[0] for v in _BARE_VERBS))
_BARE_GAP = re.compile(rf",?{_SP}")
# "three of them": the words a part_of count reads after "of".
_PART_OF = ("the", "them", "those", "these")


@dataclass(frozen=True, slots=True)
class _Cues:
    """Words one of which every match of some case-sensitive patterns needs near the end of the
    searched words, read off the patterns: tested with str methods, so most searches (tried at
    every position) are skipped."""

    ends: tuple[str, ...]  # the words, trailing spaces and dots dropped, end with one of these
    within: tuple[str, ...]  # ...or hold one of these

    @classmethod
    def of(cls, patterns: list[str]) -> _Cues:
        """The cues of these patterns: the words an end-anchored one ends with, else those any
        other one holds; none at all (nothing skipped) if a pattern says neither."""
        ends: list[str] = []
        within: list[str] = []
        for p in patterns:
            rx = re.compile(p)
            if (found := ending_cues(rx)) is not None:
                ends += found
            elif (found := required_cues(rx)) is not None:
                within += found
            else:
                return cls((), ())
        return cls(tuple(dict.fromkeys(ends)), tuple(dict.fromkeys(within)))

    def may_match(self, s: str) -> bool:
        if not self.ends and not self.within:
            return True  # no cues known: nothing is skipped
        if s.rstrip().rstrip(".").endswith(self.ends):
            return True
        for w in self.within:  # a loop, not any(): no generator made for these few words
            if w in s:
                return True
        return False


@dataclass(frozen=True, slots=True)
class _Rules:
    group: re.Pattern[str]
    part_of: re.Pattern[str]
    bare: re.Pattern[str]
    singular: re.Pattern[str]
    unit_of: dict[str, str]
    approx: re.Pattern[str]
    verb: WordStartRegex  # searched in the short slices around a count
    verb_before: re.Pattern[str]
    spectator_after: re.Pattern[str]
    spectator_before: re.Pattern[str]
    spectator_after_cues: tuple[str, ...] | None  # one is in every spectator_after match
    background_before: re.Pattern[str]  # each a lexicon list as one alternation: one search, not one per pattern
    background_cues: _Cues  # needed by every background_before match
    background_after: re.Pattern[str]
    background_after_cues: tuple[str, ...] | None  # one is in every background_after match
    population_after: re.Pattern[str]
    large_count: int
    population_min: int
    tail: re.Pattern[str]
    year_cue: re.Pattern[str]
    anchors: WordAnchors
    possessive_before: EndAnchored
    kin_nouns: frozenset[str]
    kin_list: re.Pattern[str]
    kin_term: re.Pattern[str]
    kin_size: dict[str, int]
    bare_object: re.Pattern[str]
    reduced: re.Pattern[str]
    extra_anchors: dict[str, tuple[str, ...]]  # word -> the kin / object / reduced rules it can start or end
    by_word: dict[str, tuple[str, ...]]  # word -> every rule it anchors (anchors.words and extra_anchors)
    starts: dict[str, MatchStarts | None]  # pattern -> the words its matches can start with


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    lex = lexicon("victims")
    nouns = lex.get("nouns", {})
    unit_of: dict[str, str] = {}
    for unit in ("persons", "families", "households"):
        for w in nouns.get(unit, []):
            unit_of[" ".join(w.lower().replace("-", " ").split())] = unit
    noun = by_initial(unit_of)
    number = number_pattern()
    vague = by_initial(vague_words())
    approx = by_initial(lex.get("approximate", []))
    after = "(?:" + "|".join(lex.get("approximate_after", [])) + ")"
    stop = by_initial(lex.get("not_modifier", []))
    mod = rf"(?:\d{{1,3}}-year-old|[\u2018'\"\u201c]?(?!{stop}\b)[^\W\d_][\w\u2018\u2019'\"\u201c\u201d\-]{{1,24}})"
    nouns_and = rf"{noun}(?:{_SP}and{_SP}{noun})?"
    group = re.compile(
        rf"(?<![\w\-])(?:(?P<approx>{approx}){_SP})?(?P<num>{number}|{vague})(?P<after>{after})?"
        rf"(?P<mods>(?:{_SP}{mod}){{0,4}}?){_SP}(?P<noun>{nouns_and})\b(?!-)",
        re.IGNORECASE,
    )
    part_of = re.compile(
        rf"(?<![\w\-])(?:(?P<approx>{approx}){_SP})?(?P<num>{number}){_SP}of{_SP}(?:{'|'.join(_PART_OF)})\b"
        rf"(?:{_SP}(?P<total>{number}))?(?:(?:{_SP}{mod}){{0,3}}?{_SP}(?P<noun>{noun})\b)?",
        re.IGNORECASE,
    )
    verbs = by_initial(lex.get("verbs", []))
    bare = re.compile(
        rf"(?<![\w\-.,$])(?P<num>{number})(?=,?{_SP}(?:(?:{'|'.join(v.replace(' ', _SP) for v in _BARE_VERBS)})\b))",
        re.IGNORECASE,
    )
    singular = re.compile(
        rf"\b(?:(?P<approx>at{_SP}least){_SP})?(?P<num>an?|one)(?P<mods>(?:{_SP}{mod}){{0,3}}?){_SP}(?P<noun>{alternation(lex.get('singular', []))})\b(?![\-\u2019'])",
        re.IGNORECASE,
    )
    # Kinship lists: "her parents, husband and three children" is one group of 2 + 1 + 3.
    kin = lex.get("kin", {})
    kin_size = {" ".join(w.lower().split()): int(n) for w, n in kin.get("sizes", {}).items()}
    kin_word = rf"(?:{alternation([*kin_size, *kin.get('plural', [])])})"
    poss = r"(?:(?:her|his|their|the\s{1,3}couple[\u2019']s|[A-Z][\w\-]{1,20}[\u2019']s){_SP})?".replace("{_SP}", _SP)
    kin_term = re.compile(rf"{poss}(?:(?P<num>{number}){_SP})?(?P<kin>{kin_word})\b", re.IGNORECASE)
    one_kin = rf"{poss}(?:{number}{_SP})?{kin_word}\b"
    kin_list = re.compile(rf"(?<![\w\-]){one_kin}(?:(?:[\s\u00a0]{{0,2}},{_SP}(?:and{_SP})?|{_SP}and{_SP}){one_kin}){{1,5}}", re.IGNORECASE)
    anchors = _anchors(lex)
    extra = _extra_anchors(lex, kin_size, kin.get("plural", []))
    scanned = (group, part_of, bare, singular)  # the patterns `find_victims` tries around anchors
    spectator_after = re.compile(r"^[^.;!?]{0,60}?\b(?:" + "|".join(lex.get("spectator_after", [])) + r")\b", re.IGNORECASE)
    spectator_before = re.compile(r"\b(?:" + "|".join(lex.get("spectator_before", [])) + r")\b[^.;!?]{0,40}$", re.IGNORECASE)
    background_after = _at_start(lex.get("background_after", []))
    return _Rules(
        group=group,
        part_of=part_of,
        bare=bare,
        singular=singular,
        unit_of=unit_of,
        approx=re.compile(approx, re.IGNORECASE),
        verb=WordStartRegex.of(re.compile(rf"\b{verbs}\b", re.IGNORECASE)),
        verb_before=re.compile(rf"\b{verbs}(?:{_SP}[\w\-]{{1,15}}){{0,3}}?{_SP}$", re.IGNORECASE),
        spectator_after=spectator_after,
        spectator_before=spectator_before,
        spectator_after_cues=required_cues(spectator_after),
        background_before=any_of(lex.get("background_before", [])),
        background_cues=_Cues.of(lex.get("background_before", [])),
        background_after=background_after,
        background_after_cues=required_cues(background_after),
        population_after=_at_start(lex.get("population_after", [])),
        large_count=int(lex.get("large_count", 1_000_000)),
        population_min=int(lex.get("population_min", 1000)),
        tail=re.compile(
            rf"(?:,?{_SP}(?:from|of|in|who|whose|with|accused|charged|caught|living|dispatched|belonging|including|related|linked|suspected|sentenced|detained|arrested|held|sent)\b[^.;:!?\n\u201c\u201d\"()]{{0,80}})",
            re.IGNORECASE,
        ),
        year_cue=re.compile(r"\b(?:in|since|until|by|of|from|to|during|before|after|around)\s{1,3}$", re.IGNORECASE),
        anchors=anchors,
        possessive_before=EndAnchored(re.compile(lex.get("possessive_before", "(?!)"))),
        kin_nouns=frozenset(" ".join(w.lower().split()) for w in kin.get("plural", [])),
        kin_list=kin_list,
        kin_term=kin_term,
        kin_size=kin_size,
        bare_object=re.compile(
            rf"(?<![\w\-]){alternation(lex.get('object_verbs', []))}{_SP}(?:(?P<approx>{approx}){_SP})?(?P<num>{number})"
            rf"(?=[\s\u00a0]{{0,3}}(?:[,.;:!?\n]|$)|{_SP}(?:{alternation(lex.get('object_followers', []))})\b)",
            re.IGNORECASE,
        ),
        extra_anchors=extra,
        by_word={w: (*anchors.words.get(w, ()), *extra.get(w, ())) for w in {*anchors.words, *extra}},
        starts={rx.pattern: match_starts(rx.pattern) for rx in scanned},
        reduced=re.compile(
            rf"(?<![\w\-])(?P<noun>{alternation(lex.get('singular', []))}){_SP}(?:(?:publicly|secretly|reportedly|allegedly){_SP})?"
            rf"(?:{alternation(lex.get('reduced_verbs', []))})\b",
            re.IGNORECASE,
        ),
    )


def _at_start(patterns: list[str]) -> re.Pattern[str]:
    """Lexicon patterns read from the start of the words after a count (each opens with ^):
    tried there only, with .match, rather than failing at every later position."""
    bad = [p for p in patterns if not p.startswith("^")]
    if bad:
        raise DataFileError(f"victims lexicon: {bad[0]!r} does not start with ^", hint="anchor it at the start: ^…")
    return any_of(patterns, re.IGNORECASE)


def _extra_anchors(lex: dict, kin_size: dict[str, int], kin_plural: list[str]) -> dict[str, tuple[str, ...]]:
    """Words where the kin-list, bare-object and reduced-passive rules are tried (not everywhere)."""
    out: dict[str, set[str]] = {}
    for w in [*kin_size, *kin_plural]:
        out.setdefault(re.findall(r"\w+", w.lower())[-1], set()).add("kin")
    for w in lex.get("object_verbs", []):
        out.setdefault(re.findall(r"\w+", w.lower())[0], set()).add("object")
    for w in lex.get("singular", []):
        out.setdefault(re.findall(r"\w+", w.lower())[0], set()).add("reduced")
    return {w: tuple(sorted(n)) for w, n in out.items()}


def _anchors(lex: dict) -> WordAnchors:
    """Counts start from a number or quantity word; single victims end on a person noun."""
    words: dict[str, tuple[str, ...]] = {}
    for table in ("ones", "tens", "scales"):
        for w in lexicon("numbers").get(table, {}):
            words[w.lower()] = ("count",)
    for phrase in [*lexicon("numbers").get("fixed", {}), *vague_words()]:
        for w in re.findall(r"\w+", phrase.lower()):
            if w not in ("a", "of", "the"):
                words[w] = ("count",)
    for noun in lex.get("singular", []):
        last = re.findall(r"\w+", noun.lower())[-1]
        words[last] = tuple(sorted({*words.get(last, ()), "single"}))
    return WordAnchors(words, frozenset(), ("count",), {"count": (40, 150), "single": (90, 3)})


@dataclass(slots=True)
class _Found:
    start: int
    end: int
    count: int | None
    unit: str
    approximate: bool
    rule: str
    noun: str


def find_victims(text: str) -> list[Victims]:
    """Victim groups in text order; background statistics are left out."""
    r = _rules()
    found: list[_Found] = []
    starts: list[int] = []
    ends: list[int] = []
    index = words(text)
    toks, word_starts = index.toks, index.starts
    hits: dict[str, list[int]] = {"count": [], "single": [], "kin": [], "object": [], "reduced": []}
    # Only the tokens that anchor a rule, found through the shared word index rather than a
    # Python loop over every word: numerals anchor counts, listed words their rules.
    by_word, extra = r.by_word, r.extra_anchors
    numeric = index.numeric
    non_ascii = frozenset(index.non_ascii)
    candidates = index.hits(by_word.keys())
    if numeric:
        candidates = sorted({*candidates, *numeric})
    for i in candidates:
        w = toks[i][2]
        names = ("count", *extra.get(w, ())) if w[0].isdigit() else by_word[w]
        for name in names:
            hits[name].append(i)

    def free(a: int, b: int) -> bool:
        i = bisect_left(starts, a)
        return not (i < len(starts) and starts[i] < b) and not (i > 0 and ends[i - 1] > a)

    def take(a: int, b: int) -> None:
        i = bisect_left(starts, a)
        starts.insert(i, a)
        ends.insert(i, b)

    def scan(rx: re.Pattern[str], name: str, possible: Callable[[int], bool] | None = None) -> Iterator[re.Match[str]]:
        """Matches starting at an anchor word or at one of the few words before it.

        `possible(i)` may say beforehand that no match reaches past anchor word i: its words
        are then not tried (a count rule's failed match costs more than the look at the words).
        """
        back = 3 if name == "count" else 5
        starts = r.starts[rx.pattern]
        tried: set[int] = set()
        last_end = -1
        n = len(text)
        for i in hits[name]:
            if possible is not None and not possible(i):
                continue
            anchor = word_starts[i]
            for j in range(max(0, i - back), i + 1):
                at = word_starts[j]
                if at < last_end or anchor - at > 40 or at in tried:
                    continue
                tried.add(at)
                # Most words before a number ("were", "the") cannot start a match: not trying
                # them saves a failed match each and finds the same matches.
                if starts is not None and j not in non_ascii and not starts.admit(toks[j][2]):
                    continue
                m = rx.match(text, at, min(n, at + 220))
                if m is not None and (name != "count" or m.end() > anchor):
                    last_end = m.end()
                    yield m
                    break

    ntoks = len(toks)
    numerals = number_words()

    def bare_possible(i: int) -> bool:
        """A bare count ends on a number (anchor word included) that one of the verbs follows,
        within the reach of a match (`scan` tries 220 characters)."""
        reach = word_starts[i] + 220
        k = i
        while k < ntoks and word_starts[k] < reach and k not in non_ascii and (toks[k][2] in numerals or toks[k][2][0].isdigit()):
            k += 1
        if k == ntoks or word_starts[k] >= reach:
            return False
        if k in non_ascii:
            return True  # a word with non-ASCII letters may match anything: try
        return k > i and toks[k][2].startswith(_BARE_VERB_WORDS) and _BARE_GAP.fullmatch(text, toks[k - 1][1], toks[k][0]) is not None

    of_words = index.where.get("of", [])

    def part_of_possible(i: int) -> bool:
        """A part_of count holds "of the", "of them"… within the reach of a match."""
        reach = word_starts[i] + 220
        j = bisect_left(of_words, max(0, i - 3))
        while j < len(of_words) and word_starts[of_words[j]] < reach:
            k = of_words[j] + 1
            if k < ntoks and (toks[k][2].startswith(_PART_OF) or k in non_ascii):
                return True
            j += 1
        return False

    # Kinship lists first: their counted members ("two sons") are part of the list.
    for f in _kin_groups(text, toks, hits["kin"], index.non_ascii, r):
        if free(f.start, f.end):
            found.append(f)
            take(f.start, f.end)
    # A part before the group it is part of: "eleven of the 30 families" counts the eleven.
    for m in scan(r.part_of, "count", part_of_possible):
        if not free(m.start(), m.end()):
            continue
        count = parse_number(m.group("num"))
        if count is None or count < 1:
            continue
        noun = (m.group("noun") or "").lower()
        anaphor = not noun and m.group(0).lower().endswith(("them", "those", "these"))  # "four of them": of a group told before
        unit = _unit_before(text, m.start(), r) if anaphor else r.unit_of.get(" ".join(noun.replace("-", " ").split()), "persons")
        f = _Found(m.start(), m.end(), count, unit, bool(m.group("approx")), "count.part_of", noun or "persons")
        if not _background(text, f, r):
            found.append(f)
            take(f.start, f.end)
    for m in scan(r.group, "count"):
        f = _from_group(m, r)
        if f is not None and free(f.start, f.end) and not _background(text, f, r):
            found.append(f)
            take(f.start, f.end)
    for m in scan(r.bare, "count", bare_possible):
        if not free(m.start(), m.end()):
            continue
        count = parse_number(m.group("num"))
        if count is None or count < 2 or count >= 1900 and len(m.group("num")) == 4:
            continue
        after = text[m.end() : m.end() + 90]
        cut = _SENTENCE_END.search(after)
        if not r.verb.search_slice(text, m.end(), m.end() + (cut.start() if cut else len(after))):
            continue
        f = _Found(m.start(), m.end(), count, "persons", False, "count.bare_subject", "persons")
        if not _background(text, f, r):
            found.append(f)
            take(f.start, f.end)
    for m in scan(r.singular, "single"):
        if not free(m.start(), m.end()):
            continue
        if not _verb_next_to(text, m.start(), m.end(), r):
            continue
        found.append(_Found(m.start(), m.end(), 1, "persons", bool(m.group("approx")), "count.single_person", m.group("noun").lower()))
        take(m.start(), m.end())
    for m in _anchored(r.bare_object, text, toks, hits["object"]):
        count = parse_number(m.group("num"))
        if count is None or count < 2 or (1900 <= count <= 2099 and len(m.group("num")) == 4):
            continue
        f = _Found(m.start("num") if not m.group("approx") else m.start("approx"), m.end(), count, "persons",
                   bool(m.group("approx")), "count.bare_object", "persons")
        if free(f.start, f.end) and not _background(text, f, r):
            found.append(f)
            take(f.start, f.end)
    for m in _anchored(r.reduced, text, toks, hits["reduced"]):
        a, b = m.start(), m.end("noun")
        if not free(a, b) or _PLURAL_BEFORE.search(text, max(0, a - 24), a):
            continue
        found.append(_Found(a, b, 1, "persons", False, "count.single_reduced", m.group("noun").lower()))
        take(a, b)
    found.sort(key=lambda f: f.start)
    return [_victims(text, f, r) for f in _coordinate(text, found)]


def _anchored(rx: re.Pattern[str], text: str, toks, at_words: list[int]) -> Iterator[re.Match[str]]:
    """Matches of `rx` starting at the given words only (a cheap word index, not a full scan)."""
    last_end = -1
    for i in at_words:
        at = toks[i][0]
        if at < last_end:
            continue
        m = rx.match(text, at, min(len(text), at + 120))
        if m is not None:
            last_end = m.end()
            yield m


# "two North Korean woman"-style noise and "the man's wife": the noun is not one person standing alone.
_PLURAL_BEFORE = re.compile(r"(?:\d|\b(?:two|three|four|five|several|many|some|of|whose|[\w]+[\u2019']s))[\s\u00a0]{1,3}(?:[\w.\-]+[\s\u00a0]{1,3}){0,2}$", re.IGNORECASE)


def _kin_groups(text: str, toks, kin_hits: list[int], non_ascii: tuple[int, ...], r: _Rules) -> Iterator[_Found]:
    """A list of relatives with known sizes ("her parents, husband and three children" -> 6)."""
    # A list names two relatives or more, each ending on a kin word (or on a word with non-ASCII
    # letters, which case folding may read as one): without a second such word within a match's
    # reach of the words tried, the list rule is not tried there.
    ends = [toks[k][0] for k in sorted({*kin_hits, *non_ascii})]
    last_end = -1
    for i in kin_hits:
        lo, reach = toks[max(0, i - 3)][0], toks[i][0] + 200
        if bisect_left(ends, reach) - bisect_left(ends, lo) < 2:
            continue
        m = None
        for j in range(max(0, i - 3), i + 1):  # a possessive and a number may stand before the kin word
            at = toks[j][0]
            if at < last_end:
                continue
            m = r.kin_list.match(text, at, min(len(text), at + 200))
            if m is not None:
                break
        if m is None:
            continue
        last_end = m.end()
        total = 0
        for t in r.kin_term.finditer(text, m.start(), m.end()):
            kin = " ".join(t.group("kin").lower().split())
            if t.group("num"):
                n = parse_number(t.group("num"))
            else:
                n = r.kin_size.get(kin)
            if n is None:
                total = -1  # "her husband and children": how many is not said
                break
            total += n
        if total >= 2:
            yield _Found(m.start(), m.end(), total, "persons", False, "count.kin_list", "relatives")


def _unit_before(text: str, at: int, r: _Rules) -> str:
    """The unit of the group counted last before `at` in its sentence ("30 families… four of
    them" are four families), else persons."""
    lo = max(0, at - 200)
    cut = None
    for cut in _SENTENCE_END.finditer(text, lo, at):
        pass
    last = None
    for last in r.group.finditer(text, cut.end() if cut else lo, at):
        pass
    f = _from_group(last, r) if last is not None else None
    return f.unit if f is not None else "persons"


def _from_group(m: re.Match[str], r: _Rules) -> _Found | None:
    num = m.group("num")
    vague = vague_words().get(" ".join(num.lower().split()))
    count = None if vague else parse_number(num)
    if not vague and (count is None or count < 1):
        return None
    noun = " ".join(m.group("noun").lower().replace("-", " ").split())
    first = _AND.split(noun)[0]
    unit = r.unit_of.get(first, "persons")
    approx = bool(m.group("approx")) or bool(m.group("after")) or vague is not None
    if m.group("approx") and m.group("approx").lower() in ("some",) and vague:
        approx = True
    rule = f"count.vague.{vague.replace(' ', '_')}" if vague else ("count.number_words" if num[:1].isalpha() else "count.numeral")
    return _Found(m.start(), m.end(), count, unit, approx, rule, first)


def _background(text: str, f: _Found, r: _Rules) -> bool:
    before = text[max(0, f.start - 40) : f.start]
    after = text[f.end : f.end + 80]
    if r.background_cues.may_match(before) and r.background_before.search(before):
        return True
    if r.possessive_before.search(before) and (f.noun not in r.kin_nouns or f.count is None or f.count >= r.population_min):
        return True  # "its 2.87 million citizens", not "their two children"
    cues = r.background_after_cues
    if (cues is None or may_hold(after, cues)) and r.background_after.match(after):
        return True
    if f.count is not None:
        if f.count >= r.large_count:
            return True
        if f.count >= r.population_min and r.population_after.match(after):
            return True
        written = text[f.start : f.end]
        lead = _YEAR_LEAD.match(written)
        if lead and 1900 <= int(lead.group(0)) <= 2099 and r.year_cue.search(before):
            return True  # "in 2019 residents were…" is a year, not a count
    return False


def _verb_next_to(text: str, start: int, end: int, r: _Rules) -> bool:
    after = text[end : end + 100]
    cut = _SENTENCE_END.search(after)
    after = after[: cut.start()] if cut else after
    if _PASSIVE_AUX.search(after[:60]) and r.verb.search_slice(
            text, end, end + min(90, len(after))):
        return True
    return bool(r.verb_before.search(text[max(0, start - 50) : start]))


def _coordinate(text: str, found: list[_Found]) -> list[_Found]:
    """'seven men and two women' -> one group of 9 persons."""
    out: list[_Found] = []
    for f in found:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.unit == f.unit == "persons"
            and prev.count is not None
            and f.count is not None
            and prev.rule.startswith("count.n")
            and f.rule.startswith("count.n")
            and _COORDINATED.fullmatch(text[prev.end : f.start])
        ):
            out[-1] = _Found(prev.start, f.end, prev.count + f.count, "persons", prev.approximate or f.approximate, "count.coordinated", f"{prev.noun} and {f.noun}")
            continue
        out.append(f)
    return out


def _victims(text: str, f: _Found, r: _Rules) -> Victims:
    span = Span(f.start, f.end, text[f.start : f.end])
    tail = r.tail.match(text, f.end, min(len(text), f.end + 90))
    desc_end = f.end
    if tail:
        t = tail.group(0)
        stop = _DESC_STOP.search(t[1:])
        desc_end = f.end + (stop.start() + 1 if stop else len(t))
    # str.split() splits where \s+ matches (both are str.isspace): the same words, without a regex
    description = " ".join(text[f.start : desc_end].split()).strip(" ,")
    sent_start = max(text.rfind(". ", max(0, f.start - 160), f.start), text.rfind("\n", max(0, f.start - 160), f.start))
    before = text[sent_start + 1 if sent_start >= 0 else max(0, f.start - 160) : f.start]
    after = text[f.end : f.end + 160]
    cut = _SENTENCE_END.search(after)
    after = after[: cut.start()] if cut else after
    role = "victims"
    if _spectators(before, after, r):
        role = "spectators"
        description += " (forced to watch)"
    verb_m = r.verb.search_slice(text, f.end, f.end + len(after))
    verb = verb_m.group(0) if verb_m else None
    if verb is None:
        vb = list(r.verb.finditer_slice(text, f.start - len(before), f.start))
        verb = vb[-1].group(0) if vb else "none"
    detail = f"unit={f.unit}; verb={verb.lower()}; role={role}; noun={f.noun}"
    return Victims(f.count, f.unit, description, span, f.approximate, Why(COMPONENT, f.rule, detail))


def _spectators(before: str, after: str, r: _Rules) -> bool:
    """A crowd made to look on: the words after say so, or those before gather it and the words
    after name a watching. Cue words rule out most counts before any search."""
    cues = r.spectator_after_cues
    if (cues is None or may_hold(after, cues)) and r.spectator_after.search(after):
        return True
    return (_WATCH_CUES is None or may_hold(after, _WATCH_CUES)) and bool(r.spectator_before.search(before[-60:])) and _watch_near(after)


def _watch_near(after: str) -> bool:
    return bool(_WATCH.search(after))
