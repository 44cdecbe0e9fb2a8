"""Geoparser component: toponyms in clean text, resolved against the gazetteer.

`find_toponyms(text, gazetteer=None) -> list[Toponym]`, in text order. One pass over word tokens:
at each capitalised word (or Hangul run) the longest run of words whose folded or Korean key is a
gazetteer name is taken; administrative suffixes ("county", "-gun", "villages") give a level hint,
and a capitalised name with such a suffix is kept even when the gazetteer does not know it
("Ryongwol village"). People ("Kim Jong Un"), stop words and small foreign towns without a locative
cue are left out. Resolution then uses the document's context: the country in focus, containment
statements ("X village in Y county", "Y county, South Hwanghae"), places named nearby and a
population prior. `explain_toponyms` returns every candidate with its score and reasons.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rightsledger.gazetteer import Candidate, Gazetteer, load_gazetteer
from rightsledger.gazetteer.normalise import WORD_SUFFIXES, fold, is_hangul, split_suffix
from rightsledger.model import Place, Span, Why
from rightsledger.resources import data_file, load_toml

COMPONENT = "places.v1"
_LEVEL_RANK = {"village": 0, "facility": 0, "city": 1, "county": 2, "province": 3, "country": 4}
# Foreign (non-pack) towns below this population need a locative cue ("in X", "X city") to count.
_BARE_FOREIGN_MIN_POP = 100_000
_CUED_FOREIGN_MIN_POP = 1_000
_NEAR_MENTIONS = 6  # places this many mentions either side count as "nearby" for resolution
_NEARBY_COUNTY_CHARS = 400  # an unknown village takes the county named this close as its county

_TOKEN_RE = r"[^\W_][\w'’]*(?:[-‐][^\W_][\w'’]*)*"
# A token, then (group 2) the gap to the next token when one starts within three characters.
_TOKEN_GAP_RE = re.compile(rf"({_TOKEN_RE})(?:([\W_]{{1,3}})(?=[^\W_]))?")
_CAPITALS = r"[A-ZÀ-ÖØ-Þ\u0100-\u017f\u0391-\u03a9\u0410-\u042f\uac00-\ud7a3]"
# A capital that does not continue a word: the same matches as "(?<![\w'’])" + capital, written
# capital first so that a search runs the engine's fast scan for the class instead of trying the
# look-behind at every character (the look-behind reads the character before the capital).
_CAP_RE = re.compile(rf"{_CAPITALS}(?<![\w'’].)")
# The same two for an ASCII text, where they match the same: \w and \W mean the same either way
# there, and the engine's ASCII test of a character is cheaper than its Unicode one.
_TOKEN_GAP_ASCII_RE = re.compile(_TOKEN_GAP_RE.pattern, re.ASCII)
_CAP_ASCII_RE = re.compile(r"[A-Z](?<![\w'’].)", re.ASCII)
_SENT_BREAK_RE = re.compile(r"[.!?;:\"“”()\[\]\n]")


@dataclass(slots=True)
class Toponym:
    span: Span  # the name as written, e.g. "Ryongwol village"
    level: str  # from the gazetteer entry, or from the suffix when unresolved
    chosen: Candidate | None
    candidates: list[tuple[Candidate, float]] = field(default_factory=list)  # scored, best first
    cue_role: str = "site"  # "origin" after "from", "destination" after "to/into/moved down to", else "site"
    why: Why | None = None
    container: Candidate | None = None  # the resolved place the text puts this one in ("… in Sinwon county")
    reasons: list[list[str]] = field(default_factory=list)  # per candidate, parallel to `candidates`

    @property
    def county(self) -> str | None:
        """The containing county (or county-level city) by name, from the entry or the text."""
        if self.chosen is not None and self.chosen.county:
            return self.chosen.county
        c = self.container
        if c is not None and c.level in ("county", "city"):
            return c.name
        return c.county if c is not None else None

    def to_json(self) -> dict[str, Any]:
        c = self.chosen
        return {
            "start": self.span.start,
            "end": self.span.end,
            "name": self.span.text,
            "resolved": c.name if c else None,
            "level": self.level,
            "lat": c.lat if c else None,
            "lon": c.lon if c else None,
            "gazetteer_id": c.gazetteer_id if c else None,
            "country": c.country if c else None,
        }

    def to_place(self, role: str = "site") -> Place:
        c, box = self.chosen, self.container
        return Place(
            name=c.name if c else _bare_name(self.span.text),
            level=self.level,
            evidence=self.span,
            role=role,
            lat=c.lat if c else None,
            lon=c.lon if c else None,
            gazetteer_id=c.gazetteer_id if c else None,
            province=c.province if c else (box.province if box else None),
            country=c.country if c else (box.country if box else None),
            county=self.county,
            why=self.why,
        )


def _bare_name(written: str) -> str:
    """"Ryongwol village" -> "Ryongwol"; "Ryongwol-ri" stays (the suffix is part of the name)."""
    words = written.split()
    if len(words) > 1 and fold(words[-1]) in WORD_SUFFIXES:
        return " ".join(words[:-1])
    return written


# --------------------------------------------------------------------------------------------
# Lexicon (data/gazetteer/geoparse.toml)
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _Lexicon:
    cues: dict[tuple[str, ...], str]  # phrase -> role (the first list naming a phrase wins)
    cue_lengths: dict[str, tuple[int, ...]]  # last word -> lengths of the phrases ending in it, longest first
    fillers: frozenset[str]
    locative: frozenset[str]
    containment: frozenset[str]
    list_joiners: frozenset[str]
    connectors: frozenset[str]
    facility_words: dict[str, int]  # folded first word -> max words of a facility phrase starting with it
    facility_phrases: frozenset[str]
    surnames: frozenset[str]
    titles: frozenset[str]
    speech_verbs: frozenset[str]
    stop: frozenset[str]
    org_words: frozenset[str]
    frame_words: dict[str, str]  # "city" in "the city of X" -> level
    gap_words: int  # a gap between two names of more words than this is no joiner or containment phrase
    markers: frozenset[str]  # folded words that can make an unknown name a place: suffixes, facility words


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    d = load_toml(data_file("gazetteer", "geoparse.toml"))
    words = lambda xs: tuple(tuple(fold(x).split()) for x in xs)  # noqa: E731
    fac = [fold(w) for w in d["facility"]["words"]]
    first: dict[str, int] = {}
    for w in d["facility"]["words"]:
        parts = [fold(p) for p in w.split()]  # as the tokens fold: "Re-education" is one token, "re education"
        first[parts[0]] = max(first.get(parts[0], 0), len(parts))
    cues: dict[tuple[str, ...], str] = {}
    for role, key in (("site", "neutral"), ("origin", "origin"), ("destination", "destination")):
        for ph in words(d["roles"][key]):
            cues.setdefault(ph, role)
    lengths: dict[str, set[int]] = {}
    for ph in cues:
        lengths.setdefault(ph[-1], set()).add(len(ph))
    return _Lexicon(
        cues=cues, cue_lengths={w: tuple(sorted(ns, reverse=True)) for w, ns in lengths.items()},
        fillers=frozenset(fold(x) for x in d["roles"]["fillers"]),
        locative=frozenset(d["context"]["locative"]), containment=frozenset(" ".join(x.split()) for x in d["context"]["containment"]),
        list_joiners=frozenset(d["context"]["list_joiners"]), connectors=frozenset(d["context"]["name_connectors"]),
        facility_words=first, facility_phrases=frozenset(fac),
        surnames=frozenset(fold(x) for x in d["people"]["korean_surnames"]), titles=frozenset(fold(x) for x in d["people"]["titles"]),
        speech_verbs=frozenset(d["people"]["speech_verbs"]), stop=frozenset(fold(x) for x in d["stop"]["words"]),
        org_words=frozenset(fold(x) for x in d["organisations"]["words"]),
        frame_words={fold(k): v for k, v in d["context"]["frame_words"].items()},
        # one more for a comma standing alone before the phrase (", in the")
        markers=frozenset(WORD_SUFFIXES) | frozenset(first),
        gap_words=1 + max(len(x.split()) for x in [*d["context"]["containment"], *d["context"]["list_joiners"], "and"]),
    )


# --------------------------------------------------------------------------------------------
# Pass 1: spans
# --------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Mention:
    start: int
    end: int  # end of the name including any suffix word
    tok_first: int
    tok_last: int  # last token index covered (including suffix word)
    name: str  # the name part used for lookup (no suffix word)
    hint: str | None
    plural: bool = False
    exact: list[int] = field(default_factory=list)
    variant: list[int] = field(default_factory=list)
    rule: str = "gazetteer"
    within: list[int] = field(default_factory=list)  # indices of mentions that contain this one
    group: int = -1  # list group id
    role: str = "site"
    cued: bool = False  # preceded by a locative word
    named_after: list[int] = field(default_factory=list)  # entries of the place a facility is named after
    pool: list[tuple[int, bool]] = field(default_factory=list)  # admissible (entry, exact name) pairs
    level: str | None = None  # provisional level: hint, else the best admissible entry's


def _is_cap(tok: str) -> bool:
    c = tok[0]
    return c.isupper() or is_hangul(c)


def _token(s: int, e: int, w: str) -> tuple[int, int, str]:
    if w.endswith(("'s", "’s")) and len(w) > 3:
        return s, e - 2, w[:-2]
    if w[-1] in "'’":
        return s, e - 1, w[:-1]
    return s, e, w


def _tokens(text: str) -> tuple[list[tuple[int, int, str]], list[bool]]:
    """Word tokens near capitalised words only, and whether each is capitalised.

    Each run of capitalised words (with digits and up to one lower-case word inside) plus the word
    or two after it; everything else is never looked at, which keeps the geoparser's cost
    proportional to the names in the text rather than to its length. One regex match per token
    gives the token and, when the next token starts within three characters, the gap to it."""
    out: list[tuple[int, int, str]] = []
    caps: list[bool] = []
    plain = text.isascii()
    tokens = (_TOKEN_GAP_ASCII_RE if plain else _TOKEN_GAP_RE).finditer
    search = (_CAP_ASCII_RE if plain else _CAP_RE).search
    # Searching on from the end of each run, not iterating over every capital: the capitals
    # inside a run were already read as its tokens.
    cap = search(text)
    while cap is not None:
        start = cap.start()
        lower_run = 0
        # Each match is a token and the gap to the next, so the matches follow one another
        # token by token until a token has no other within three characters.
        for m in tokens(text, start):
            s, e = m.span(1)
            w = text[s:e]
            if w[-1] in "s'’":
                s, e, w = _token(s, e, w)
            c0 = w[0]
            is_cap = c0.isupper() or (c0 > "\u3130" and is_hangul(c0))
            out.append((s, e, w))
            caps.append(is_cap)
            if is_cap or c0.isdigit():
                lower_run = 0
            else:
                lower_run += 1
                if lower_run > 1 or not w.islower():
                    break
            if m.lastindex == 1:  # no gap: no token within three characters
                break
        cap = search(text, max(out[-1][1] + 1, start + 1))
    return out, caps


def _gap_ok(text: str, a_end: int, b_start: int, prev_tok: str) -> bool:
    """Tokens of one name are separated by one space or hyphen ("St. Petersburg", "No. 14" allowed)."""
    gap = text[a_end:b_start]
    if gap in (" ", "-", "‐"):
        return True
    return gap == ". " and fold(prev_tok) in ("st", "no", "mt", "ft")


def _person_run(toks: list[tuple[int, int, str]], i: int, lex: _Lexicon, text: str) -> int:
    """Number of tokens of a Korean personal name starting at i ("Kim Jong Un", "Ri Sol-ju"), else 0."""
    if fold(toks[i][2]) not in lex.surnames:
        return 0
    j = i + 1
    syll = 0
    while j < len(toks) and syll < 3 and _gap_ok(text, toks[j - 1][1], toks[j][0], toks[j - 1][2]):
        w = toks[j][2]
        if not _is_cap(w) or len(w.replace("-", "")) > 8 or not w.replace("-", "").isalpha():
            break
        if fold(w) in WORD_SUFFIXES or fold(w) in lex.facility_words:
            break
        syll += 1 + w.count("-")
        j += 1
    if syll == 0 or syll > 3:
        return 0
    return j - i


def _continues(text: str, toks: list[tuple[int, int, str]], caps: list[bool], folds: list[str], i: int, lex: _Lexicon) -> bool:
    """Whether a name starting at token i may go on to the next token (a capitalised word, a number
    or a connector right after it). A stop word that does not go on starts nothing: the gazetteer
    match, the unknown name and the framed name all refuse a lone stop word, and a personal name
    needs a capitalised word after the surname."""
    j = i + 1
    return j < len(toks) and (caps[j] or toks[j][2][0].isdigit() or folds[j] in lex.connectors) \
        and _gap_ok(text, toks[i][1], toks[j][0], toks[i][2])


def _scan(text: str, gaz: Gazetteer, lex: _Lexicon) -> tuple[list[_Mention], list[tuple[int, int, str]]]:
    toks, caps = _tokens(text)
    n = len(toks)
    folds = list(map(fold, [t[2] for t in toks]))
    # Tokens that can make an unknown name a place (an administrative suffix or facility word,
    # a hyphenated suffix): `_unknown` finds nothing more than three tokens before the next one.
    markers = lex.markers
    marked = [k for k, (f, t) in enumerate(zip(folds, toks)) if f in markers or "-" in t[2] or "‐" in t[2]]
    out: list[_Mention] = []
    maxw = gaz.max_words
    i = 0
    while i < n:
        if not caps[i]:
            i += 1
            continue
        if folds[i] in lex.stop and not _continues(text, toks, caps, folds, i, lex):
            i += 1  # "The", "They", "May" alone: no place, person or framed name starts here
            continue
        s, e, w = toks[i]
        # People: skip a Korean personal name unless a facility word or admin suffix follows.
        p = _person_run(toks, i, lex, text) if folds[i] in lex.surnames else 0  # most words are no surname
        if p:
            k = i + p
            nxt = folds[k] if k < n else ""
            followed = k < n and _gap_ok(text, toks[k - 1][1], toks[k][0], toks[k - 1][2])
            if followed and nxt in lex.facility_words and _is_cap(toks[k][2]):
                m = _facility(text, toks, folds, i, k, lex, gaz)
                if m:
                    out.append(m)
                    i = m.tok_last + 1
                    continue
            if not (followed and nxt in WORD_SUFFIXES):
                i += p
                continue
        # Longest gazetteer match starting here.
        best = None
        j = i
        while j < n and j - i < maxw:
            if j > i:
                if not _gap_ok(text, toks[j - 1][1], toks[j][0], toks[j - 1][2]):
                    break
                if not (caps[j] or toks[j][2][0].isdigit() or folds[j] in lex.connectors):
                    break
            if folds[j] in lex.connectors and j > i:
                j += 1
                continue
            name = text[s:toks[j][1]]
            exact, variant = gaz.entry_numbers(name)
            if exact or variant:
                best = (j, name, exact, variant)
            j += 1
        if best is not None and best[0] == i and folds[i] in lex.stop:
            best = None  # "The", "May": a place only as part of a longer name
        if best is not None and best[0] + 1 < n and folds[best[0] + 1] in lex.org_words and _is_cap(toks[best[0] + 1][2]) \
                and _gap_ok(text, toks[best[0]][1], toks[best[0] + 1][0], toks[best[0]][2]):
            i = best[0] + 2  # "JoongAng Ilbo", "Pyongyang Times": an organisation named after a place
            continue
        if best is not None:
            j, name, exact, variant = best
            base, hint = split_suffix(name)
            m = _Mention(s, toks[j][1], i, j, name, hint, exact=exact, variant=variant)
            if not all(gaz.candidate(x).level == "country" for x in exact + variant):
                _attach_suffix(m, toks, folds, text, lex)
            _attach_facility(m, text, toks, folds, lex, gaz)
            out.append(m)
            i = m.tok_last + 1
            continue
        # Unknown capitalised name: keep it when a suffix or facility word follows it.
        k = bisect_left(marked, i)
        near = k < len(marked) and marked[k] <= i + 3
        m = (_unknown(text, toks, folds, i, lex, gaz) if near else None) or _framed(text, toks, folds, i, lex, gaz)
        if m:
            out.append(m)
            i = m.tok_last + 1
            continue
        i += 1
    return out, toks


def _attach_suffix(m: _Mention, toks, folds, text: str, lex: _Lexicon) -> None:
    j = m.tok_last + 1
    if j < len(toks) and _gap_ok(text, toks[j - 1][1], toks[j][0], toks[j - 1][2]) and folds[j] in WORD_SUFFIXES:
        level, plural = WORD_SUFFIXES[folds[j]]
        m.hint, m.plural, m.end, m.tok_last = level, plural, toks[j][1], j


def _attach_facility(m: _Mention, text: str, toks, folds, lex: _Lexicon, gaz: Gazetteer) -> None:
    """"Hoeryong Public Stadium": a facility named after a place; the place becomes its container.
    A facility the gazetteer knows by the name itself is the one meant, by a facility phrase it
    does not list ("Jongo-ri Re-education Camp") or by a lower-case facility word after the name
    ("the Jongo-ri re-education camp"), though a town or village may share the name."""
    j = m.tok_last + 1
    k = j
    while k < len(toks) and k - j < 3 and (_is_cap(toks[k][2]) or k == j) and (
            _gap_ok(text, toks[k - 1][1], toks[k][0], toks[k - 1][2]) or (k == j and text[toks[k - 1][1]:toks[k][0]] in ("'s ", "’s "))):
        if folds[k] in lex.facility_words:
            known = [x for x in m.exact if gaz.candidate(x).level == "facility"]
            if not _is_cap(toks[k][2]) and not known:
                return
            f = _facility(text, toks, folds, m.tok_first, k, lex, gaz)
            if f:
                m.named_after = m.exact + m.variant
                m.start, m.end, m.tok_last, m.name, m.hint = f.start, f.end, f.tok_last, f.name, "facility"
                m.rule = "facility-word"
                m.exact, m.variant = (f.exact, f.variant) if f.exact or f.variant else (known, [])
            return
        if not _is_cap(toks[k][2]):
            return
        k += 1


def _facility(text: str, toks, folds, i: int, k: int, lex: _Lexicon, gaz: Gazetteer) -> _Mention | None:
    """Facility phrase from token i to the facility word at k (possibly multi-word: "Detention Centre")."""
    span = lex.facility_words[folds[k]]
    last = k
    for size in range(span, 0, -1):
        if k + size - 1 < len(toks) and " ".join(folds[k:k + size]) in lex.facility_phrases:
            last = k + size - 1
            break
    name = text[toks[i][0]:toks[last][1]]
    exact, variant = gaz.entry_numbers(name)
    exact = [x for x in exact if gaz.candidate(x).level == "facility"]
    variant = [x for x in variant if gaz.candidate(x).level == "facility"]
    return _Mention(toks[i][0], toks[last][1], i, last, name, "facility", exact=exact, variant=variant, rule="facility-word")


def _unknown(text: str, toks, folds, i: int, lex: _Lexicon, gaz: Gazetteer) -> _Mention | None:
    n = len(toks)
    j = i
    while j < n and j - i < 3:
        if j > i and not (_gap_ok(text, toks[j - 1][1], toks[j][0], toks[j - 1][2]) and _is_cap(toks[j][2])):
            break
        f = folds[j]
        if j > i and (f in WORD_SUFFIXES or f in lex.facility_words):
            break
        # a hyphenated administrative suffix on the word itself: "Ryongwol-ri"
        if "-" in toks[j][2] or "‐" in toks[j][2]:
            base, hint = split_suffix(toks[j][2])
            if hint and fold(base) not in lex.stop and fold(base.split("-")[0]) not in lex.stop:
                return _Mention(toks[i][0], toks[j][1], i, j, text[toks[i][0]:toks[j][1]], hint, rule="suffix")
        j += 1
    if j == i or j >= n or not _gap_ok(text, toks[j - 1][1], toks[j][0], toks[j - 1][2]):
        return None
    words = folds[i:j]
    if all(w in lex.stop for w in words) or words[0] in lex.stop:
        return None
    f = folds[j]
    if f in WORD_SUFFIXES:
        level, plural = WORD_SUFFIXES[f]
        if not toks[j][2][0].isupper() or level in ("village", "county", "city", "province"):
            return _Mention(toks[i][0], toks[j][1], i, j, text[toks[i][0]:toks[j - 1][1]], level, plural=plural, rule="suffix")
    if f in lex.facility_words and _is_cap(toks[j][2]):
        return _facility(text, toks, folds, i, j, lex, gaz)
    return None


_PREFIX_FRAME_RE = re.compile(r"\b([a-z]+) of (?:the )?$")
_NEXT_NAME_RE = re.compile(r",\s+((?:[A-Z][\w'’-]*)(?: [A-Z][\w'’-]*){0,2})")


def _framed(text: str, toks, folds, i: int, lex: _Lexicon, gaz: Gazetteer) -> _Mention | None:
    """An unknown name the sentence frames as a place: "the city of X", "in X, <province or country>".

    Such a mention is kept only if a near spelling resolves it (`_near_spelling`): the frame says it
    is a place, the gazetteer says which one."""
    n, s = len(toks), toks[i][0]
    prefixed = text.endswith(("of ", "of the "), max(0, s - 8), s)
    if not prefixed and text[toks[i][1]:toks[i][1] + 1] != "," and not (i + 1 < n and text[toks[i + 1][1]:toks[i + 1][1] + 1] == ","):
        return None  # the cheap test first: most capitalised words are in neither frame
    j = i
    while j + 1 < n and j - i < 1 and _is_cap(toks[j + 1][2]) and _gap_ok(text, toks[j][1], toks[j + 1][0], toks[j][2]):
        j += 1
    e = toks[j][1]
    if any(w in lex.stop or w in lex.surnames or w in WORD_SUFFIXES for w in folds[i:j + 1]):
        return None
    pre = _PREFIX_FRAME_RE.search(text, max(0, s - 24), s) if prefixed else None
    if pre and pre.group(1) in lex.frame_words:
        return _Mention(s, e, i, j, text[s:e], lex.frame_words[pre.group(1)], rule="frame")
    before = text[max(0, s - 12):s].split()
    nxt = _NEXT_NAME_RE.match(text, e)
    if before and before[-1].lower() in lex.locative and nxt:
        for k in range(len(nxt.group(1).split()), 0, -1):
            outer = " ".join(nxt.group(1).split()[:k])
            if any(gaz.candidate(x).level in ("province", "country") for x in gaz.entry_numbers(outer)[0]):
                return _Mention(s, e, i, j, text[s:e], None, rule="frame")
    return None


# --------------------------------------------------------------------------------------------
# Pass 2: gating, structure (lists, containment, roles)
# --------------------------------------------------------------------------------------------
def _admissible(m: _Mention, gaz: Gazetteer, lex: _Lexicon, n: int, exact: bool) -> bool:
    """Whether entry n may explain this mention at all (false hits on words and small towns)."""
    c = gaz.candidate(n)
    key = fold(split_suffix(m.name)[0])
    if m.hint == "facility" and c.level != "facility":
        return False
    if c.source in ("kp", "user"):
        if not m.hint and (key in lex.stop or len(key.replace(" ", "")) < 4):
            return False
        if not exact and not m.hint and len(key.replace(" ", "")) < 5:
            return False
        return True
    if c.source in ("country", "region"):
        if key in lex.stop and c.level != "country":
            return False
        if c.source == "region" and c.lat is None and m.hint != "province":
            return False
        return exact or c.country == "KR"
    # GeoNames towns
    if key in lex.stop or (not exact and c.country != "KR"):
        return False
    if m.hint and m.hint not in ("city", "county", "village"):
        return False
    if fold(c.name) != key:  # matched through an alternate name ("Tour" for Tours): only big places, with a cue
        return bool(m.cued or m.hint) and c.population >= _BARE_FOREIGN_MIN_POP
    limit = _CUED_FOREIGN_MIN_POP if (m.cued or m.hint) else _BARE_FOREIGN_MIN_POP
    return c.population >= limit


def _between(text: str, a: _Mention, b: _Mention, lex: _Lexicon) -> str:
    """The gap between two names as one lower-case line, or "…" when it is too long to be one of
    the lexicon's joining phrases (names far apart need not have their whole gap read)."""
    words = text[a.end:b.start].split(None, lex.gap_words)
    return "…" if len(words) > lex.gap_words else " ".join(words).lower()


_LIST_HEAD_RE = re.compile(r"((?:[A-Z][\w'’‐-]*(?:, and |, or |, | and | or ))+)$")
_LIST_ITEM_RE = re.compile(r"[A-Z][\w'’‐-]*")


def _list_items(text: str, ms: list[_Mention], lex: _Lexicon) -> list[_Mention]:
    """Unknown names listed before a plural suffix: "Ogye and Munsu villages" -> Ogye is a village too."""
    out = []
    known = {m.start for m in ms}
    for m in ms:
        if not m.plural or not m.hint:
            continue
        lo = max(0, m.start - 120)
        h = _LIST_HEAD_RE.search(text, lo, m.start)
        if not h:
            continue
        for it in _LIST_ITEM_RE.finditer(text, h.start(), h.end()):
            w = fold(it.group())
            if it.start() in known or w in lex.stop or w in lex.surnames:
                continue
            out.append(_Mention(it.start(), it.end(), -1, -1, it.group(), m.hint, rule="list"))
    return out


def _structure(text: str, ms: list[_Mention], gaz: Gazetteer, lex: _Lexicon) -> None:
    # The gap between each mention and the next, read once for the three passes below.
    gaps = [_between(text, a, b, lex) for a, b in zip(ms, ms[1:])]
    # list groups: "Chaeryong and Sinkye counties", "Ryongwol village and Changgom village"
    gid = 0
    for k, m in enumerate(ms):
        gap = gaps[k - 1].strip() if k else None
        same = gap is not None and gap in lex.list_joiners
        if same and gap == "," and _LEVEL_RANK.get(m.level or "", 0) > _LEVEL_RANK.get(ms[k - 1].level or "", 0):
            same = False  # "Dandong, China": containment, not a list
        if same:
            m.group = ms[k - 1].group
            m.role, m.cued = ms[k - 1].role, ms[k - 1].cued or m.cued
        else:
            gid += 1
            m.group = gid
    groups: dict[int, list[_Mention]] = {}
    for m in ms:
        groups.setdefault(m.group, []).append(m)
    for g in groups.values():
        last = g[-1]
        if last.plural and last.hint:
            for m in g[:-1]:
                if m.hint is None:
                    m.hint = last.hint
                    m.level = m.level or last.hint
    # containment: "A in B", "A, B"; B must be a higher level than A
    for k in range(len(ms) - 1):
        a, b = ms[k], ms[k + 1]
        if a.group == b.group:
            continue
        gap_n = gaps[k].replace(" ,", ",")
        if gap_n not in lex.containment and not (gap_n.startswith(",") and gap_n[1:].strip() in lex.containment):
            continue
        if _LEVEL_RANK.get(b.level or "", 0) <= _LEVEL_RANK.get(a.level or "", 0) and b.level != "country":
            continue
        for m in groups[a.group]:
            m.within.append(k + 1)
        # chains: "A in B, C" — A is also in C
        for w in list(b.within):
            for m in groups[a.group]:
                if w not in m.within:
                    m.within.append(w)
    for k in range(len(ms) - 2, -1, -1):  # propagate chains found later ("B, C" after "A in B")
        for w in list(ms[k].within):
            for w2 in ms[w].within:
                if w2 not in ms[k].within:
                    ms[k].within.append(w2)
    # "A county here in P and B county": B continues the list of A across A's container P
    for k in range(2, len(ms)):
        a, p, b = ms[k - 2], ms[k - 1], ms[k]
        if (k - 1) in a.within and a.level == b.level and gaps[k - 1] in ("and", ", and", "or", ","):
            b.role, b.cued = a.role, a.cued or b.cued


def _role_before(text: str, pos: int, lex: _Lexicon) -> tuple[str, bool]:
    """Role cue ("from", "moved down to"…) and whether a locative word precedes the name."""
    window = text[max(0, pos - 60):pos]
    parts = _SENT_BREAK_RE.split(window)
    words = [w for w in map(fold, parts[-1].split()[-6:]) if w]
    k, skipped = len(words), 0
    while k > 0 and words[k - 1] in lex.fillers and skipped < 3:
        k -= 1
        skipped += 1
    head = words[:k]
    cued = (bool(head) and head[-1] in lex.locative) or (bool(words) and words[-1] in lex.locative)
    if head:
        # The longest phrase ending in the last word wins: one lookup per phrase length.
        for n in lex.cue_lengths.get(head[-1], ()):
            role = lex.cues.get(tuple(head[-n:])) if n <= len(head) else None
            if role is not None:
                return role, cued
    return "site", cued


# --------------------------------------------------------------------------------------------
# Pass 3: resolution
# --------------------------------------------------------------------------------------------
Scored = list[tuple[Candidate, float, list[str]]]


def _focus(ms: list[_Mention], gaz: Gazetteer) -> str | None:
    """The country in focus: North Korea when its places are at least half of the unambiguous ones."""
    votes: Counter[str] = Counter()
    # Mentions of one name share their pool: its country is worked out once.
    country_of: dict[int, str | None] = {}
    for m in ms:
        key = id(m.pool)
        if key not in country_of:
            countries = {gaz.candidate(x).country for x, _ in m.pool}
            country_of[key] = (countries.pop() or "") if len(countries) == 1 else None
        country = country_of[key]
        if country is not None:
            votes[country] += 1
    if not votes:
        return None
    top, cnt = votes.most_common(1)[0]
    return "KP" if votes.get("KP", 0) >= cnt * 0.5 else (top or None)


def _resolve(ms: list[_Mention], gaz: Gazetteer, focus: str | None) -> list[tuple[Scored, Candidate | None]]:
    def run(prev: list[Candidate | None] | None) -> list[tuple[Scored, Candidate | None]]:
        provinces = {c.name for c in (prev or []) if c is not None and c.level == "province"}
        results: list[tuple[Scored, Candidate | None]] = []
        # Same name, same context: same answer. Mentions of one name share their pool, so the
        # pool's identity stands for its entries.
        memo: dict[tuple[Any, ...], tuple[Scored, Candidate | None]] = {}
        for k, m in enumerate(ms):
            if prev is None and len(m.pool) <= 1:  # nothing to choose yet; scored with context below
                c0 = gaz.candidate(m.pool[0][0]) if m.pool else None
                results.append(([], c0))
                continue
            within: list[str] = []
            near: list[tuple[float, float]] = []
            if prev:
                for w in m.within:
                    c = prev[w]
                    if c is not None:
                        within += [c.gazetteer_id, c.name]
                lo = max(0, k - _NEAR_MENTIONS)
                if len(m.pool) > 1:  # distances only matter when there is a choice
                    near = list({(c.lat, c.lon) for j, c in enumerate(prev[lo:k + _NEAR_MENTIONS + 1], lo)
                                 if c is not None and j != k and c.lat is not None and c.level not in ("country", "province")})
            key = (m.name, m.hint, id(m.pool), tuple(within), tuple(near))
            hit = memo.get(key)
            if hit is None:
                ctx = {"level": m.hint, "country": focus, "provinces": provinces, "within": within, "near": near}
                scored = [(c, *gaz._score(c, ex, m.hint, ctx, m.name)) for c, ex in ((gaz.candidate(x), ex) for x, ex in m.pool)]
                scored.sort(key=lambda t: -t[1])
                hit = memo[key] = (scored, scored[0][0] if scored else None)
            results.append(hit)
        return results

    first = run(None)
    return run([r[1] for r in first])


def _nearby_county(m: _Mention, ms: list[_Mention], results: list[tuple[Scored, Candidate | None]]) -> Candidate | None:
    """For a village the gazetteer lacks: the county named closest to it (within a few sentences)."""
    best: tuple[int, Candidate] | None = None
    k = ms.index(m)
    lo = max(0, k - 12)
    for other, (_, c) in zip(ms[lo:k + 12], results[lo:k + 12]):
        if c is None or c.level not in ("county", "city") or c.source not in ("kp", "user"):
            continue
        if c.level == "city" and not c.gazetteer_id.startswith("kp:county:") and other.hint != "county":
            continue
        d = other.start - m.end if other.start >= m.end else (m.start - other.end) * 2  # prefer a county named after
        if d <= _NEARBY_COUNTY_CHARS and (best is None or d < best[0]):
            best = (d, c)
    return best[1] if best else None


# Levels a near spelling may resolve, by the level the text gives ("Haesan City"); a bare framed name
# ("in X, China") may be a city or a county. Villages are never guessed: too many differ by a letter.
_NEAR_LEVELS = {"city": ("city",), "county": ("county", "city"), "province": ("province",), None: ("city", "county")}


def _near_spellings(ms: list[_Mention], results: list[tuple[Scored, Candidate | None]], gaz: Gazetteer,
                    focus: str | None) -> dict[int, str]:
    """Resolve unresolved names that carry a level or stand in a place frame to the gazetteer place
    one letter away, in the country (and province) the text puts them in. Fills `results` in place;
    returns the Why detail per resolved mention, so a reviewer sees the guess."""
    out: dict[int, str] = {}
    todo = [k for k, m in enumerate(ms)
            if results[k][1] is None and m.rule in ("suffix", "list", "frame") and m.hint in _NEAR_LEVELS]
    if not todo:
        return out
    named = list(dict.fromkeys(c.country for _, c in results if c is not None and c.country))
    for k in todo:
        m = ms[k]
        box = next((results[w][1] for w in m.within if results[w][1] is not None), None)
        countries = [box.country] if box is not None and box.country else [x for x in (focus, *named) if x]
        found = gaz.near_spellings(m.name, countries, _NEAR_LEVELS[m.hint])
        if box is not None and box.level == "province":
            found = [(c, d) for c, d in found if c.province == box.name]
        if not found:
            continue
        fewest = found[0][1]
        found = [(c, d) for c, d in found if d == fewest]
        if len({fold(c.name) for c, _ in found}) > 1:
            continue  # two places one letter away: no guess
        ctx: dict[str, Any] = {"level": m.hint, "country": focus}
        if box is not None:
            ctx["within"] = [box.gazetteer_id, box.name]
        best = max(found, key=lambda t: gaz._score(t[0], False, m.hint, ctx, t[0].name)[0])[0]
        results[k] = ([(best, 0.0, [])], best)
        where = f" in {box.name}" if box is not None else f" ({best.country})"
        out[k] = (f"not in the gazetteer as written; read as {best.name}, {fewest} letter(s) different, "
                  f"the only {best.level} of such a name{where}")
    return out


def _analyse(text: str, gazetteer: Gazetteer | None) -> list[Toponym]:
    gaz = gazetteer or load_gazetteer()
    lex = _lexicon()
    ms, _ = _scan(text, gaz, lex)
    if not ms:
        return []
    extra = _list_items(text, ms, lex)
    if extra:
        ms = sorted(ms + extra, key=lambda m: m.start)
    pools: dict[tuple[Any, ...], list[tuple[int, bool]]] = {}  # per distinct name, hint and cue
    for m in ms:
        m.role, m.cued = _role_before(text, m.start, lex)
        key = (m.name, m.hint, m.cued, id(m.exact), id(m.variant))
        pool = pools.get(key)
        if pool is None:
            pool = [(x, True) for x in m.exact if _admissible(m, gaz, lex, x, True)]
            pool += [(x, False) for x in m.variant if _admissible(m, gaz, lex, x, False)]
            pools[key] = pool
        m.pool = pool
    for m in ms:
        if not m.pool and m.rule == "gazetteer" and m.hint:
            m.rule = "suffix"  # "Ryongwol village": a place by its suffix, though no entry fits
    ms = [m for m in ms if m.pool or m.rule != "gazetteer"]  # only ruled-out entries: not a place
    levels: dict[tuple[Any, ...], str] = {}
    for m in ms:
        if m.pool:
            key = (m.name, m.hint, id(m.pool))
            if key not in levels:
                best = max(m.pool, key=lambda p: gaz._score(gaz.candidate(p[0]), p[1], m.hint, {}, m.name)[0])
                levels[key] = gaz.candidate(best[0]).level
            m.level = levels[key]
        else:
            m.level = m.hint or "village"
        if m.hint and m.hint != "facility":
            m.level = m.hint
    _structure(text, ms, gaz, lex)
    focus = _focus(ms, gaz)
    results = _resolve(ms, gaz, focus)
    near_why = _near_spellings(ms, results, gaz, focus)
    keep = [k for k, m in enumerate(ms) if m.rule != "frame" or results[k][1] is not None]
    if len(keep) < len(ms):  # a framed name no near spelling resolved: not taken for a place
        index = {old: new for new, old in enumerate(keep)}
        for m in ms:
            m.within = [index[w] for w in m.within if w in index]
        ms, results = [ms[k] for k in keep], [results[k] for k in keep]
        near_why = {index[k]: v for k, v in near_why.items() if k in index}
    out: list[Toponym] = []
    # Mentions that got one memoised answer share its list of scores: what is read off it, once.
    read: dict[int, tuple[Why, list[tuple[Candidate, float]], list[list[str]]]] = {}
    for k, (m, (scored, chosen)) in enumerate(zip(ms, results)):
        got = read.get(id(scored))
        if got is None:
            got = read[id(scored)] = _read_scores(scored)
        gazetteer_why, candidates, reasons = got
        level = chosen.level if chosen else (m.hint or "village")
        container = None
        for w in m.within:
            cand = results[w][1]
            if cand is not None and (_LEVEL_RANK.get(cand.level, 0) > _LEVEL_RANK.get(level, 0) or chosen is None):
                container = cand
                break
        if container is None and chosen is None and level == "village":
            container = _nearby_county(m, ms, results)
        if container is None and m.named_after:
            named = [gaz.candidate(x) for x in m.named_after]
            named = [c for c in named if c.level in ("city", "county") and c.source in ("kp", "user")] or \
                    [c for c in named if c.level in ("city", "county") and c.population >= _CUED_FOREIGN_MIN_POP]
            container = named[0] if named else None
        if k in near_why:
            why = Why(COMPONENT, "gazetteer+near-spelling", near_why[k])
        elif chosen is not None:
            why = gazetteer_why
        else:
            detail = f"level from '{m.hint}' in the text; not in the gazetteer" if m.hint else "not in the gazetteer"
            if container is not None:
                detail += f"; in {container.name}"
            why = Why(COMPONENT, m.rule, detail)
        out.append(Toponym(
            span=Span(m.start, m.end, text[m.start:m.end]), level=level, chosen=chosen,
            candidates=candidates[:], cue_role=m.role, why=why, container=container, reasons=reasons[:],
        ))
    return out


def _read_scores(scored: Scored) -> tuple[Why, list[tuple[Candidate, float]], list[list[str]]]:
    """The Why of the best of scored candidates, and the candidates with their scores and reasons."""
    reasons = [r for _, _, r in scored]
    best = reasons[0] if reasons else []
    rule = "gazetteer+containment" if any(r.startswith("containment") for r in best) else "gazetteer"
    return Why(COMPONENT, rule, "; ".join(best)), [(c, s) for c, s, _ in scored], reasons


def find_toponyms(text: str, gazetteer: Gazetteer | None = None) -> list[Toponym]:
    """Every toponym in `text`, resolved where possible, in text order."""
    return _analyse(text, gazetteer)


def explain_toponyms(text: str, gazetteer: Gazetteer | None = None) -> list[dict[str, Any]]:
    """For `rightsledger places`: each toponym with its role, container, and scored candidates with reasons."""
    out = []
    for t in _analyse(text, gazetteer):
        d = t.to_json()
        d["role"] = t.cue_role
        d["county"] = t.county
        d["province"] = t.chosen.province if t.chosen else (t.container.province if t.container else None)
        d["container"] = t.container.gazetteer_id if t.container else None
        d["rule"] = t.why.rule if t.why else None
        d["candidates"] = [
            {"gazetteer_id": c.gazetteer_id, "name": c.name, "level": c.level, "country": c.country,
             "province": c.province, "lat": c.lat, "lon": c.lon, "score": s, "reasons": r}
            for (c, s), r in zip(t.candidates[:8], t.reasons[:8])
        ]
        out.append(d)
    return out
