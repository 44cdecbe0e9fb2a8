"""Who says so: quotations, informants and the outlets a report relays (component attribution.v1).

Human-rights reporting is attributed speech: "…," a senior official told RFA's Korean Service;
according to Daily NK; the JoongAng Ilbo reported. This module finds the quoted passages, the
informants they are credited to (kind from model.SOURCE_KINDS, description as written) and the
other outlets whose reporting the document relays (`Citation`, canonical names from the outlet
registry). Phrases and frames live in data/lexicons/informants.toml and citations.toml.
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from rightsledger.extract.lexicon import (
    EndLiteralRegex,
    PhraseMatcher,
    WordStartRegex,
    alternation,
    any_of,
    by_initial,
    lexicon,
    words,
)
from rightsledger.extract.prechecks import CuedRegex
from rightsledger.model import SOURCE_KINDS, Actor, Citation, Span, Why

if TYPE_CHECKING:
    from rightsledger.outlets import Outlet, OutletRegistry

__all__ = ["COMPONENT", "Quote", "find_citations", "find_informants", "find_quotes", "is_media_anaphor", "is_wire_byline"]

COMPONENT = "attribution.v1"
log = logging.getLogger(__name__)

_SP = r"[\s\u00a0]{1,3}"
_HS = r"[ \t\u00a0]{1,3}"  # within a phrase: never across a line break
# r"[.!?](?:[\s\u00a0]|$)|\n" written to open with one character class (the look-behind says which
# branch was read): the same matches, and the regex engine can scan ahead for the class.
_SENT_END = re.compile(r"[.!?\n](?:(?<=\n)|[\s\u00a0]|$)")
_PARA_END = re.compile(r"\n[ \t\u00a0]*\n")
_OPEN = "\u201c"
_CLOSE = "\u201d"
# Between the words of a phrase: spaces, a hyphen or apostrophe, or the full stops of an
# abbreviation ("the U.S.-funded broadcaster").
_MOD_GAP = re.compile(r"[ \t\u00a0]{1,3}|\.?[\-\u2019']|(?<=\b[A-Z])\.[ \t\u00a0]?")
_QUOTE_MARKS = (_OPEN, _CLOSE, '"')
_BLANK = re.compile(r"\s*")
_MEDIA_OR_COMMA = re.compile(r"\s{0,3}(?:media|,)")
# What a byline holds besides the outlet: a name, a date, a dateline city, punctuation.
_BYLINE_NAME = re.compile(r"\b(?:By|by)\s+[A-Z][\w.\-]+(?:\s+[A-Z][\w.\-]+){0,3}")
_BYLINE_DATE = re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\w*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}|\d{4}[./\-]\d{1,2}[./\-]\d{1,2}|\d{1,2}\s+\w+\s+\d{4}")
_BYLINE_CITY = re.compile(r"^[A-Z][A-Z .]{1,20}(?=\s*[\-\u2013\u2014(])")
_BYLINE_PUNCT = re.compile(r"[\s\-\u2013\u2014/|,:;()\[\].]+")
_SPECIFICITY = {k: i for i, k in enumerate(["unnamed", "media", "document", "organization", "insider", "witness", "defector", "resident", "official"])}
# Kinds of informant that are people: what "the source" can refer to (a group or a report is not).
_PERSONS = frozenset({"official", "resident", "defector", "witness", "insider"})
_DEFINITE = frozenset({"the", "this", "that", "his", "her", "their"})
# An organisation's own name inside an informant phrase: a run of capitalised words, small words
# allowed between them ("the Investigative Commission on Crime Against Humanity").
_ORG_NAME = re.compile(r"(?:[Tt]he[ \t\u00a0]+)?[A-Z][\w\u2019'.&\-]*(?:[ \t\u00a0]+(?:(?:of|on|for|and|against|the|to|in|de|du|&)[ \t\u00a0]+)*[A-Z][\w\u2019'.&\-]*)+")


@dataclass(slots=True)
class Quote:
    span: Span  # the quoted words, without the quote marks
    speaker: Actor | None  # the informant credited with it, if any


@dataclass(slots=True)
class _Mention:
    start: int
    end: int
    kind: str
    rule: str
    detail: str
    definite: bool = False  # "the source", "the report": may refer back to an earlier informant
    quotes: list[Span] = field(default_factory=list)
    det: str = ""  # the determiner written before it, lower case ("the", "a", "")
    head: str = ""  # the head noun, singular ("source", "report"); empty for names and outlets
    head_start: int = -1
    head_end: int = -1


class _Head(NamedTuple):
    """What a listed head noun says about its phrase, worked out once rather than per mention."""

    kind: str
    rule: str  # the rule of a phrase no override decides
    singular: str
    named: bool  # a body, outlet or document, which may be followed by its name


@dataclass(frozen=True, slots=True)
class _Rules:
    heads: PhraseMatcher
    head_info: dict[str, _Head]  # by the head as `heads` lists it
    tail: re.Pattern[str]
    named_tail: re.Pattern[str]  # for bodies and outlets, which may be followed by their name
    determiners: frozenset[str]
    not_modifier: frozenset[str]
    object_of: frozenset[str]  # verbs of an act whose object a phrase right after them is
    head_kind: dict[str, str]
    overrides: dict[str, tuple[tuple[re.Pattern[str], str], ...]]  # by the head's kind: those that apply, in order
    described: re.Pattern[str]
    after_verb: re.Pattern[str]  # the rule; `_verb_follows` gives its answer faster
    verb: WordStartRegex  # a reporting verb as a whole word
    before: re.Pattern[str]
    before_last: frozenset[str]  # the last words of `before`'s phrases
    pronoun_after: re.Pattern[str]
    pronoun_before: re.Pattern[str]
    media_phrases: WordStartRegex
    media_words: tuple[frozenset[str], ...]  # the words of each phrase, see `_may_occur`
    media_anaphors: frozenset[str]
    org_names: WordStartRegex
    org_words: tuple[frozenset[str], ...]


def _norm(s: str) -> str:
    return " ".join(s.lower().replace("-", " ").split())


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    lex = lexicon("informants")
    head_kind: dict[str, str] = {}
    for kind, words in lex.get("heads", {}).items():
        if kind not in SOURCE_KINDS:
            from rightsledger.errors import DataFileError

            raise DataFileError(f"informants lexicon: unknown kind {kind!r}", hint=f"use one of {', '.join(SOURCE_KINDS)}")
        for w in words:
            head_kind[_norm(w)] = kind
    mods = lex.get("modifiers", {})
    frames = lex.get("frames", {})
    verbs = by_initial(frames.get("after_verbs", []))
    post = by_initial(mods.get("post", []))
    adverbs = by_initial(mods.get("adverbs", []))
    # The phrase ends at punctuation or before its verb; a capitalised name may stand right after
    # the head ("the daily Kommersant", "rights group Justice Watch") and is part of the phrase.
    name = r"(?-i:[A-Z][\w\u2019'.&\-]*(?:[ \t\u00a0]{1,2}(?:(?:of|on|for|and|against|the)[ \t\u00a0]{1,2})?[A-Z][\w\u2019'.&\-]*){0,6})"
    ends = (rf"(?:{_HS}{post}{_HS}[^,.;:!?\u201c\u201d\"\n()]{{1,60}}?)?"
            rf"(?=[\s\u00a0]{{0,3}}(?:[,.;:!?\u201c\u201d\"\n()\u2014]|$)|{_SP}(?:{adverbs}{_SP})?(?:{verbs}|who|that)\b)")
    tail = re.compile(rf"(?![\w\-]){ends}", re.IGNORECASE)
    named_tail = re.compile(rf"(?![\w\-])(?:{_HS}{name}(?![\w\-]))?{ends}", re.IGNORECASE)
    listed = [(re.compile(o["regex"]), o["kind"], frozenset(o.get("heads", SOURCE_KINDS))) for o in lex.get("override", [])]
    overrides = {kind: tuple((rx, k) for rx, k, heads in listed if kind in heads) for kind in SOURCE_KINDS}
    pron = by_initial(frames.get("pronouns", []))
    media = lex.get("media", {}).get("phrases", [])
    orgs = lex.get("organizations", {}).get("names", [])
    return _Rules(
        heads=PhraseMatcher(head_kind),
        head_info={h: _Head(k, f"informant.head.{h.replace(' ', '_')}", _singular(h), k in _NAMED_KINDS) for h, k in head_kind.items()},
        tail=tail,
        named_tail=named_tail,
        determiners=frozenset(w.lower() for w in mods.get("determiners", [])),
        not_modifier=frozenset(w.lower() for w in mods.get("not_modifier", [])),
        object_of=frozenset(w.lower() for w in mods.get("object_of", [])),
        head_kind=head_kind,
        overrides=overrides,
        described=re.compile(frames.get("described", "(?!)"), re.IGNORECASE),
        after_verb=re.compile(rf"^(?:[^.!?\n]{{0,{_VERB_REACH}}}?)\b(?:{verbs})\b", re.IGNORECASE),
        verb=WordStartRegex.of(re.compile(rf"\b(?:{verbs})\b", re.IGNORECASE)),
        # "attributed to “a source familiar with…”": an opening quote may stand before the phrase.
        before=re.compile(rf"\b{by_initial(frames.get('before', []))}{_SP}[\u201c\u2018\"']?$", re.IGNORECASE),
        before_last=frozenset(_WORD.findall(p.lower())[-1] for p in frames.get("before", []) if _WORD.search(p)),
        pronoun_after=re.compile(rf"^[\s\u00a0,]{{0,3}}(?:{pron}){_SP}(?:{verbs})\b|^[\s\u00a0,]{{0,3}}(?:{verbs}){_SP}(?:{pron})\b", re.IGNORECASE),
        pronoun_before=re.compile(rf"\b(?:{pron}){_SP}(?:\w+{_SP}){{0,2}}?(?:{verbs})\b[^.!?\u201c\u201d\"]{{0,60}}$", re.IGNORECASE),
        media_phrases=WordStartRegex(re.compile(rf"(?<!\w){alternation(media)}(?!\w)", re.IGNORECASE), media),
        media_words=_phrase_words(media),
        media_anaphors=frozenset(_norm(w) for w in lex.get("media", {}).get("anaphors", [])),
        org_names=WordStartRegex(re.compile(rf"(?<![\w\-])(?:[Tt]he{_HS})?{alternation(orgs)}(?![\w\-])"), orgs, ["the"]),
        org_words=_phrase_words(orgs),
    )


# ------------------------------------------------------------------ informants ---


def _phrase_mentions(text: str, r: _Rules) -> list[_Mention]:
    """Informant phrases, built outwards from their head noun (linear: no regex backtracking)."""
    index = words(text)
    toks, starts = index.toks, index.starts
    out: list[_Mention] = []
    last_end = -1
    n = len(text)
    for hs, he, head in r.heads.find(text):
        head_kind, head_rule, singular, named = r.head_info[head]
        if named:
            tail = r.named_tail.match(text, he, min(n, he + 160))
        else:
            tail = r.tail.match(text, he, min(n, he + 90))
        if tail is None:
            continue  # the head is not the end of a phrase ("source code", "group of")
        begin, det = hs, ""
        j = bisect_left(starts, hs)
        mods = 0
        while j > 0 and mods < 5:
            ps, pe, pw = toks[j - 1]
            if not _MOD_GAP.fullmatch(text, pe, toks[j][0]):
                break
            if pw in r.determiners:
                begin, det = ps, pw
                break
            if pw in r.not_modifier or (pw.isdigit() and mods == 0 and not det):
                break
            begin, mods, j = ps, mods + 1, j - 1
        end = tail.end()
        if begin < last_end or _object_of_act(text, toks, bisect_left(starts, begin), r) or not _in_frame(text, begin, end, r):
            continue
        written = text[begin:end]
        kind, rule = _override(written, head_kind, head_rule, r)
        detail = f"phrase {written!r}"
        said = r.described.match(text, end) if kind == "unnamed" else None
        if said is not None:  # "The source, said to be familiar with…": the description decides
            described, how = _override(said.group(0), "unnamed", "", r)
            if described == "unnamed":
                described = next((r.head_kind[w] for w in _WORD.findall(said.group(0).lower())
                                  if r.head_kind.get(w) in _PERSONS), "unnamed")
                how = f"informant.described.{described}"
            if described != "unnamed":
                kind, rule = described, how.replace("informant.override.", "informant.described.")
                detail += f", described as {said.group(0).strip(' ,')!r}"
        if kind == "media" and _norm(written) in r.media_anaphors:
            rule = _ANAPHOR
        definite = det in _DEFINITE and (kind == "unnamed" or (kind == "document" and singular in _REPORT_HEADS))
        out.append(_Mention(begin, end, kind, rule, detail, definite, det=det, head=singular, head_start=hs, head_end=he))
        last_end = end
    return out


def _object_of_act(text: str, toks: list[tuple[int, int, str]], j: int, r: _Rules) -> bool:
    """Whether the phrase starting at token j is the object of a verb of an act ("arrested 20
    traders"): the words before it, a number perhaps between, in one clause."""
    k, at = j - 1, toks[j][0]
    while k >= 0 and toks[k][2].isdigit() and j - k <= 2:
        k -= 1
    return k >= 0 and toks[k][2] in r.object_of and _OBJECT_GAP.fullmatch(text, toks[k][1], at) is not None


_OBJECT_GAP = re.compile(r"[ \t\u00a0]{1,3}(?:[\d.,]{1,12}[ \t\u00a0]{1,3})?")

# Heads of informant phrases that name a body or an outlet, which may be followed by its name.
_NAMED_KINDS = frozenset({"organization", "media", "document"})
# Heads that "the source" is written with; heads of a report that "the report" refers back to.
_SOURCE_HEADS = frozenset({"source", "informant", "contact"})
_REPORT_HEADS = frozenset({"report", "study", "survey", "document"})
_WORD = re.compile(r"\w+")
# The rule of "the paper", "the broadcaster": an outlet named before, or else the report's own.
_ANAPHOR = "informant.media_anaphor"


def _singular(head: str) -> str:
    return head[:-1] if head.endswith("s") and not head.endswith("ss") else head


def _override(written: str, kind: str, rule: str, r: _Rules) -> tuple[str, str]:
    """The kind the words of a phrase decide before its head does (first matching override)."""
    for rx, k in r.overrides[kind]:
        if rx.search(written):
            return k, f"informant.override.{k}"
    return kind, rule


def _quote_mark(text: str, lo: int, hi: int) -> int:
    """Where the first quote mark of text[lo:hi] stands, or -1.

    One str.find per mark, each searching only up to the nearest mark found so far: the
    regex engine tests a character class against every character, several times slower."""
    first = -1
    for mark in _QUOTE_MARKS:
        at = text.find(mark, lo, hi)
        if at != -1:
            first, hi = at, at
    return first


def _in_frame(text: str, start: int, end: int, r: _Rules) -> bool:
    if _framed_before(text, start, r):
        return True
    # The window after the phrase, read up to where its sentence ends (`endpos` ends the text
    # there for the regex, as a slice would, without copying it).
    hi = min(len(text), end + 110)
    cut = _SENT_END.search(text, end, hi)
    if cut:
        hi = cut.start()
    # The verb must not belong to a quotation that starts in between.
    q = _quote_mark(text, end, hi)
    if q - end > 3:
        hi = q
    return _verb_follows(text, end, hi, r)


def _framed_before(text: str, start: int, r: _Rules) -> bool:
    """Whether `r.before` ends at `start`. Its match ends on the last word of a phrase, then
    spaces and perhaps a quote mark: the word before `start` says whether it can (one lookup
    instead of a search of the 25 characters before each candidate phrase)."""
    index = words(text)
    k = bisect_left(index.starts, start) - 1
    if k >= 0:
        s, e, word = index.toks[k]
        if e <= start and word not in r.before_last and text[s:e].isascii():  # (folding may make "ſaid" "said")
            return False
    return r.before.search(text, max(0, start - 25), start) is not None


_VERB_REACH = 90  # a reporting verb after a phrase must start within this many characters
_STOP = re.compile(r"[.!?\n]")


def _verb_follows(text: str, lo: int, hi: int, r: _Rules) -> bool:
    """Whether `r.after_verb` matches the window `text[lo:hi]`: a verb starts within reach, before any [.!?\\n].

    The rule's lazy prefix retries the verb alternation at every position, which cost about
    0.1 ms per phrase with no verb; the leftmost verb anywhere (one plain search) starts within
    reach exactly when some verb does, so this gives the same answer in one scan."""
    at = _first_verb(text, lo, hi, r)
    return at != -1 and at <= _VERB_REACH and _STOP.search(text, lo, lo + at) is None


def _first_verb(text: str, lo: int, hi: int, r: _Rules) -> int:
    """Where (from `lo`) the leftmost verb of the window `text[lo:hi]` starts, or -1: what
    `r.verb.search_slice` finds, without a slice and a generator for each of a document's phrases.

    Matching in `text` itself up to `hi` reads the window's end as the slice does. Its start
    reads differently only when it cuts a word (never after a phrase, which ends before a
    space or punctuation): then the slice is searched, as it is for verbs without known first words."""
    index = words(text)
    starts, toks = index.starts, index.toks
    k = bisect_left(starts, lo) - 1
    if (k >= 0 and toks[k][1] > lo) or r.verb.firsts is None:
        verb = r.verb.search_slice(text, lo, hi)
        return -1 if verb is None else verb.start()
    match = r.verb.regex.match
    tried = _verb_starts(text)
    for at in tried[bisect_left(tried, lo) : bisect_left(tried, hi)]:
        if match(text, at, hi):
            return at - lo
    k = bisect_left(starts, hi) - 1  # a word cut by the window's end reads as a shorter word: tried too
    if k >= 0 and lo <= starts[k] and toks[k][1] > hi and match(text, starts[k], hi):
        return starts[k] - lo
    return -1


@lru_cache(maxsize=2)
def _verb_starts(text: str) -> list[int]:
    """Where in `text` a reporting verb can start: at its first words, and at any word that case
    folding may turn into one (a non-ASCII word); one list per document for all its phrases."""
    index = words(text)
    tried = index.hits(_rules().verb.firsts or ())
    if index.non_ascii:
        tried = sorted({*tried, *index.non_ascii})
    return [index.toks[i][0] for i in tried]


_APPOSITION = re.compile(r"\s{0,2}[,\u2014\-]\s{0,2}")


def _merge_appositives(text: str, mentions: list[_Mention]) -> list[_Mention]:
    """'Another source, a resident of X, told…' is one informant: keep the more specific.

    Not when the second phrase is definite: in 'according to witnesses, the source said' the
    source is another informant, the subject of its own clause.
    """
    out: list[_Mention] = []
    for m in mentions:
        prev = out[-1] if out else None
        if prev is not None and m.det not in _DEFINITE and _APPOSITION.fullmatch(text, prev.end, m.start):
            keep = m if _SPECIFICITY.get(m.kind, 0) >= _SPECIFICITY.get(prev.kind, 0) else prev
            out[-1] = _Mention(prev.start, m.end, keep.kind, keep.rule, f"{prev.detail} + {m.detail}", False,
                               det=prev.det, head=prev.head if prev.head in _SOURCE_HEADS else keep.head,
                               head_start=keep.head_start, head_end=keep.head_end)
            continue
        out.append(m)
    return out


def _corefer(mentions: list[_Mention]) -> None:
    """What a definite phrase refers to (one pass each way: linear however many mentions).

    "The report": the last report named before it (a rights group's report stays the group's).
    "The source": the last source of a known kind (an inside source, a source who is a
    resident), else the last person of a known kind (a source is a person, not a group or a
    report), else a source described later in the story ("…the source said." before "the
    report is attributed to a source familiar with…").
    """
    later: list[_Mention | None] = [None] * len(mentions)
    nxt: _Mention | None = None
    for i in range(len(mentions) - 1, -1, -1):
        later[i] = nxt
        a = mentions[i]
        if not a.definite and a.head in _SOURCE_HEADS and a.kind in _PERSONS:
            nxt = a
    last_source: _Mention | None = None
    last_person: _Mention | None = None
    reports: dict[str, _Mention] = {}
    for i, m in enumerate(mentions):
        if m.definite:
            if m.kind == "document":
                ante = reports.get(m.head)
            else:
                ante = last_source or last_person or later[i]
            if ante is not None:
                m.kind, m.rule = ante.kind, "informant.coreference"
                where = "refers back to" if ante.start < m.start else "is described later as"
                m.detail += f"; {where} the informant at {ante.start}"
        if m.kind in _PERSONS:
            last_person = m
            if m.head in _SOURCE_HEADS:
                last_source = m
        elif m.kind in ("document", "organization") and m.head in _REPORT_HEADS:
            reports[m.head] = m


@lru_cache(maxsize=8)
def _analyse(text: str) -> tuple[list[_Mention], list[tuple[int, int, int | None, str]]]:
    """Informant mentions and quotes (start, end, index of speaker mention or None, rule)."""
    r = _rules()
    mentions = _merge_appositives(text, _phrase_mentions(text, r))
    mentions.extend(_media_mentions(text, r))
    mentions.extend(_org_mentions(text, r, mentions))
    mentions.sort(key=lambda m: m.start)
    _corefer(mentions)
    quotes = _link_quotes(text, _quote_spans(text), mentions, r)
    return mentions, quotes


def _phrase_words(phrases: list[str]) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(_WORD.findall(p.lower())) for p in phrases)


def _may_occur(text: str, phrase_words: tuple[frozenset[str], ...]) -> bool:
    """Whether one of the listed phrases may occur in `text`: all its words do.

    Most documents hold none of the generic media phrases or organisation names; this answers
    from the word index, where their scans would try every "the". A phrase's regex matches
    whole words, with only spaces, hyphens, apostrophes or full stops between them, so its
    words are tokens of the text. A word with a non-ASCII letter may fold into any (a
    case-insensitive "ſ" is an "s"): then a phrase may occur."""
    index = words(text)
    if index.non_ascii:
        return True
    present = index.where.keys()
    return any(ws <= present for ws in phrase_words)


def _media_mentions(text: str, r: _Rules) -> list[_Mention]:
    if not _may_occur(text, r.media_words):
        return []
    out = []
    for m in r.media_phrases.finditer(text):
        if _in_frame(text, m.start(), m.end(), r):
            rule = _ANAPHOR if _norm(m.group(0)) in r.media_anaphors else "informant.media_phrase"
            out.append(_Mention(m.start(), m.end(), "media", rule, f"phrase {m.group(0)!r}"))
    return out


def _org_mentions(text: str, r: _Rules, known: list[_Mention]) -> list[_Mention]:
    """Named organisations (NGOs, government bodies) in an attribution frame."""
    if not _may_occur(text, r.org_words):
        return []
    out = []
    for m in r.org_names.finditer(text):
        if any(k.start <= m.start() < k.end or m.start() <= k.start < m.end() for k in known):
            continue
        if _in_frame(text, m.start(), m.end(), r):
            out.append(_Mention(m.start(), m.end(), "organization", "informant.organization_name", f"name {m.group(0)!r}"))
    return out


def _actor(text: str, m: _Mention) -> Actor:
    written = text[m.start : m.end]
    name = _org_name(text, m) if m.kind in ("organization", "media") else None
    return Actor(m.kind, " ".join((name or written).split()), Span(m.start, m.end, written), Why(COMPONENT, m.rule, m.detail), list(m.quotes))


def _org_name(text: str, m: _Mention) -> str | None:
    """The body's own name in an organisation (or outlet) phrase, so that reports crediting the
    same body can be told apart from independent ones: "the Investigative Commission on Crime
    Against Humanity" in "The report by the Investigative Commission…", "Justice Watch" in
    "rights group Justice Watch", "the U.S. State Department" in "the U.S. State Department
    report". Other capitalised words before the head are no name ("South Korean activists")."""
    if m.head_start < 0:
        return None
    for c in _ORG_NAME.finditer(text, m.start, m.end):
        if c.start() <= m.head_start < c.end() or c.start() >= m.head_end:
            return c.group(0)
        if m.head in _REPORT_HEADS and 0 < m.head_start - c.end() <= 2:
            return c.group(0)  # the author's name written before its report
    return None


def find_informants(text: str, registry: OutletRegistry | None = None, own_outlet: str | None = None) -> list[Actor]:
    """Informant mentions in text order, with the quotes credited to each.

    Outlets the document relays ("told RFA", "according to Daily NK") are media informants;
    pass the registry and the document's own outlet so that its own name is not one.
    Pronouns and "the source" referring back take the kind of the informant they refer to.
    """
    mentions, quotes = _analyse(text)
    by_speaker: dict[int, list[Span]] = {}
    for qs, qe, who, _rule in quotes:
        if who is not None:
            by_speaker.setdefault(who, []).append(Span(qs, qe, text[qs:qe]))
    actors = []
    for i, m in enumerate(mentions):
        a = _actor(text, m)
        a.quotes = by_speaker.get(i, [])
        actors.append(a)
    if registry is None:
        registry = _default_registry()
    if registry is not None:
        known = {(a.evidence.start, a.evidence.end) for a in actors}
        # A wire byline ("By … Associated Press") says who wrote the story, not whom it relays.
        relayed = [c for c in find_citations(text, registry, own_outlet) if not is_wire_byline(c, registry)]
        for c in relayed:
            if (c.evidence.start, c.evidence.end) in known:
                continue
            # A media phrase that cuts the outlet's name or runs on past it ("the Daily", "Daily NK
            # on Monday", read as headed by "daily") is that outlet: its name, as the registry knows
            # it, replaces the phrase. One that ends with the name describes it and stays ("the
            # U.S.-funded broadcaster Radio Free Asia").
            over = [a for a in actors if a.kind == "media" and a.evidence.start < c.evidence.end
                    and c.evidence.start < a.evidence.end != c.evidence.end]
            actors = [a for a in actors if not any(a is o for o in over)]
            actors.append(Actor("media", c.evidence.text, c.evidence, Why(COMPONENT, "informant.cited_outlet", f"relays {c.outlet}"),
                                [q for o in over for q in o.quotes]))
        if not relayed:  # "told the paper" with no other outlet in the story: the paper is the report's own
            actors = [a for a in actors if not is_media_anaphor(a)]
        own = _canonical(registry, own_outlet)
        if own:  # the document's own outlet is not a relayed source ("the paper" in its own story is)
            actors = [a for a in actors if not (a.kind == "media" and _canonical(registry, a.name) == own)]
    actors.sort(key=lambda a: a.evidence.start)
    return actors


def is_wire_byline(c: Citation, registry: OutletRegistry | None = None) -> bool:
    """True for a news agency named in the story's byline or dateline ("By … Associated Press"): a
    wire story a paper prints is the agency's own reporting, and the agency is its author, not a
    source it relays. (Another outlet's name over a reposted article is a relayed source.)"""
    if c.why is None or c.why.rule != "cite.byline":
        return False
    registry = registry if registry is not None else _default_registry()
    outlet = registry.by_name(c.outlet) if registry is not None else None
    return outlet is not None and outlet.kind == "agency"


def is_media_anaphor(a: Actor) -> bool:
    """True for "the paper", "the broadcaster": a source only when the story relays some outlet."""
    return a.kind == "media" and a.why is not None and a.why.rule == _ANAPHOR


def _default_registry() -> OutletRegistry | None:
    try:
        from rightsledger.outlets import load_outlets
    except ImportError:  # pragma: no cover - the registry ships with the package
        return None
    return load_outlets()


# ---------------------------------------------------------------------- quotes ---


def _quote_spans(text: str) -> list[tuple[int, int, str]]:
    """(start, end, rule) of quoted words; an unclosed quote runs to the end of its paragraph."""
    out: list[tuple[int, int, str]] = []
    paras: list[tuple[int, int]] = []
    pos = 0
    for m in _PARA_END.finditer(text):
        paras.append((pos, m.start()))
        pos = m.end()
    paras.append((pos, len(text)))
    for p0, p1 in paras:
        i = p0
        while True:
            at = _quote_mark(text, i, p1)
            if at == -1:
                break
            ch = text[at]
            if ch == _CLOSE:  # a stray closing mark
                i = at + 1
                continue
            closer = _CLOSE if ch == _OPEN else '"'
            close = text.find(closer, at + 1, p1)
            runs_to = p1
            if ch == _OPEN:
                nxt = text.find(_OPEN, at + 1, p1)
                if nxt != -1 and (close == -1 or nxt < close):
                    close, runs_to = -1, nxt  # a new quote opens first: this one runs on to it
            if close != -1:
                end, rule = close, "quote.closed"
                i = close + 1
            else:
                if ch == '"' and at > p0 and not (text[at - 1].isspace() or text[at - 1] in "([{:\u2014-"):
                    i = at + 1
                    continue
                end, rule = runs_to, "quote.to_paragraph_end"
                i = end
            s, e = at + 1, end
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if e > s:
                out.append((s, e, rule))
            if i <= at:
                i = at + 1
    return out


def _link_quotes(text: str, spans: list[tuple[int, int, str]], mentions: list[_Mention], r: _Rules) -> list[tuple[int, int, int | None, str]]:
    starts = [m.start for m in mentions]
    out: list[tuple[int, int, int | None, str]] = []
    prev_speaker: int | None = None
    prev_end = -1
    for qs, qe, rule in spans:
        speaker: int | None = None
        how = ""
        close = qe + 1 if qe < len(text) and text[qe] in "\u201d\"" else qe
        # After the quote: ',” a senior official told RFA' / '," the source said.'
        after = text[close : close + 140]
        cut = _SENT_END.search(after, 1)
        limit = close + (cut.start() if cut else len(after))
        i = bisect_left(starts, close)
        if i < len(mentions) and mentions[i].start <= limit and _quote_mark(text, close, mentions[i].start) == -1:
            speaker, how = i, "speaker after the quote"
        # Before the quote in the same sentence: 'The source said, “…' / 'X told RFA: “…'
        if speaker is None:
            open_at = qs - 1
            lo = max(0, open_at - 250)
            sent_start = max(text.rfind("\n", 0, open_at), text.rfind(". ", lo, open_at), text.rfind("? ", lo, open_at),
                             text.rfind("! ", lo, open_at))
            j = bisect_left(starts, open_at) - 1
            if j >= 0 and mentions[j].start > sent_start and mentions[j].end <= open_at and _quote_mark(text, mentions[j].end, open_at) == -1:
                speaker, how = j, "speaker before the quote"
        if speaker is None and (r.pronoun_after.search(text[close : close + 40]) or r.pronoun_before.search(text[max(0, qs - 101) : max(0, qs - 1)])):
            speaker, how = _last_before(mentions, starts, qs, prev_speaker), "pronoun or 'the source' refers back"
        if speaker is None and prev_speaker is not None and rule != "quote.closed" and _BLANK.fullmatch(text[prev_end:qs - 1] if qs - 1 > prev_end else ""):
            speaker, how = prev_speaker, "continues the previous quotation"
        if speaker is None and prev_speaker is not None and _is_paragraph_start(text, qs - 1) and _prev_para_quoted(text, qs - 1, prev_end):
            speaker, how = prev_speaker, "continues the previous paragraph's quotation"
        if speaker is None and len(text[qs:qe].split(None, 3)) < 4:
            continue  # fewer than four words: a scare quote ("traitorous puppets"), not speech
        out.append((qs, qe, speaker, f"{rule}; {how}" if how else rule))
        if speaker is not None:
            mentions[speaker].quotes.append(Span(qs, qe, text[qs:qe]))
        prev_speaker, prev_end = speaker, close
    return out


def _last_before(mentions: list[_Mention], starts: list[int], pos: int, prev: int | None) -> int | None:
    j = bisect_left(starts, pos) - 1
    while j >= 0 and mentions[j].kind == "media":
        j -= 1
    if prev is not None and (j < 0 or prev > j):
        return prev
    return j if j >= 0 else prev


def _is_paragraph_start(text: str, at: int) -> bool:
    k = at - 1
    while k >= 0 and text[k] in " \t\u00a0":
        k -= 1
    return k < 0 or text[k] == "\n"


def _prev_para_quoted(text: str, at: int, prev_end: int) -> bool:
    return prev_end >= 0 and not text[prev_end:at].strip(" \t\n\u00a0\u201d\"")


def find_quotes(text: str) -> list[Quote]:
    """Quoted passages in text order with their speakers; short scare quotes are left out."""
    mentions, quotes = _analyse(text)
    return [Quote(Span(qs, qe, text[qs:qe]), _actor(text, mentions[who]) if who is not None else None) for qs, qe, who, _rule in quotes]


# ------------------------------------------------------------------- citations ---


@dataclass(frozen=True, slots=True)
class _CiteRules:
    names: PhraseMatcher
    by_written: dict[str, Outlet]
    cased: frozenset[str]
    before: WordStartRegex  # the lexicon's list as one alternation, tried where its cue words stand
    after: re.Pattern[str]  # each a lexicon list as one alternation: one search, not one per pattern
    bracketed: re.Pattern[str]
    appositive: WordStartRegex  # tried only where its first word ("newspaper", "daily"…) stands
    reported_name: EndLiteralRegex  # scanned only just before its reporting verbs
    kinds: frozenset[str]
    photo: CuedRegex  # searched in short windows that seldom hold its words
    not_before: WordStartRegex
    byline_chars: int
    byline_max_line: int


_CITE_CACHE: dict[int, tuple[OutletRegistry, _CiteRules]] = {}


def _cite_rules(registry: OutletRegistry) -> _CiteRules:
    hit = _CITE_CACHE.get(id(registry))
    if hit is not None and hit[0] is registry:
        return hit[1]
    lex = lexicon("citations")
    kinds = set(lex.get("cited_kinds", []))
    by_written: dict[str, Outlet] = {}
    cased: set[str] = set()
    for written, outlet in registry.aliases():
        if outlet.kind not in kinds or len(written) < 2:
            continue
        by_written[written] = outlet
        if len(written) <= 5 and written.isupper():
            cased.add(written)  # "AP", "AFP", "RFA": only as capitals
    names = PhraseMatcher(by_written)
    outlet_alt = alternation(by_written)
    rules = _CiteRules(
        names=names,
        by_written=by_written,
        cased=frozenset(cased),
        before=WordStartRegex.of(any_of(lex.get("before", []), re.IGNORECASE)),
        after=any_of(lex.get("after", []), re.IGNORECASE),
        bracketed=re.compile(lex.get("bracketed", "(?!)").replace("{outlet}", outlet_alt), re.IGNORECASE),
        appositive=WordStartRegex.of(re.compile(lex.get("appositive", "(?!)"))),
        reported_name=EndLiteralRegex(re.compile(lex.get("reported_name", "(?!)"))),
        kinds=frozenset(kinds),
        photo=CuedRegex(re.compile(lex.get("photo", "(?!)"), re.IGNORECASE)),
        not_before=WordStartRegex.of(any_of(lex.get("not_before", []), re.IGNORECASE)),
        byline_chars=int(lex.get("byline_chars", 700)),
        byline_max_line=int(lex.get("byline_max_line", 80)),
    )
    _CITE_CACHE.clear()
    _CITE_CACHE[id(registry)] = (registry, rules)
    return rules


def _canonical(registry: OutletRegistry, name: str | None) -> str | None:
    if not name:
        return None
    o = registry.by_name(name)
    return o.name if o is not None else name


def find_citations(text: str, registry: OutletRegistry, own_outlet: str | None = None) -> list[Citation]:
    """Outlets whose reporting the document relays, one per outlet, first evidence kept.

    A bare mention ("Daily NK's headquarters", a photo credit) is not a citation; the
    document's own outlet is never one.
    """
    own = _canonical(registry, own_outlet)
    return [Citation(outlet, span, why) for outlet, span, why in _all_citations(text, registry) if outlet != own]


@lru_cache(maxsize=4)
def _all_citations(text: str, registry: OutletRegistry) -> tuple[tuple[str, Span, Why], ...]:
    """Every relayed outlet, the document's own included (the caller drops it).

    Cached because find_informants and the attribution component both ask for the same
    document; leaving out one outlet afterwards gives what a run without it finds, since each
    outlet keeps its own first evidence. Tuples of frozen values, so no caller can alter the cache.
    """
    cr = _cite_rules(registry)
    found: dict[str, tuple[str, Span, Why]] = {}

    def add(outlet_name: str, start: int, end: int, rule: str, detail: str) -> None:
        if outlet_name not in found:
            found[outlet_name] = (outlet_name, Span(start, end, text[start:end]), Why(COMPONENT, rule, detail))

    for start, end, listed in cr.names.find(text):
        written = text[start:end]
        if listed in cr.cased and written != listed:
            continue
        outlet = cr.by_written[listed]
        rule = _cite_frame(text, start, end, cr)
        if rule:
            add(outlet.name, start, end, rule, f"{written!r} in a relaying frame")
    for m in cr.appositive.finditer(text):
        name = m.group("name").strip(" .,")
        o = registry.by_name(name)
        if o is not None and o.kind not in ("ngo", "government"):
            add(o.name, m.start("name"), m.start("name") + len(name), "cite.appositive", f"named as an outlet: {m.group(0).strip()!r}")
        elif o is None and _reports_after(text, m.end(), cr):
            add(name, m.start("name"), m.start("name") + len(name), "cite.appositive_unregistered", "outlet not in the registry, named as an outlet")
    for m in cr.reported_name.finditer(text):
        parts = m.group("name").split()
        for k in range(len(parts)):  # "South Korea's Joong Ang Ilbo": try shorter tails
            o = registry.by_name(" ".join(parts[k:]))
            if o is not None and o.kind in cr.kinds:
                start = m.start("name") + m.group("name").find(parts[k])
                end = m.start("name") + len(m.group("name").rstrip())
                add(o.name, start, end, "cite.reported_name", "registered outlet named before a reporting verb")
                break
    return tuple(sorted(found.values(), key=lambda c: c[1].start))


def _reports_after(text: str, pos: int, cr: _CiteRules) -> bool:
    tail = text[pos : pos + 60]
    return bool(cr.after.search(tail)) or bool(_MEDIA_OR_COMMA.match(tail))


def _cite_frame(text: str, start: int, end: int, cr: _CiteRules) -> str | None:
    lo = max(0, start - 70)
    around = text[max(0, start - 40) : end + 25]
    if cr.not_before.search_slice(text, lo, start):
        return None
    photo = cr.photo.search(around)
    if not photo and cr.before.search_slice(text, lo, start):
        return "cite.before_frame"
    tail = text[end : end + 80]
    if not photo and cr.after.search(tail):
        return "cite.after_frame"
    b = cr.bracketed.match(text, max(0, start - 35), min(len(text), end + 35)) or _bracket_around(text, start, end, cr)
    if b and not photo:
        return "cite.bracketed"
    if start < cr.byline_chars and _byline(text, start, end, cr):
        return "cite.byline"
    return None


def _bracket_around(text: str, start: int, end: int, cr: _CiteRules) -> bool:
    lo = text.rfind("(", max(0, start - 35), start)
    lo2 = text.rfind("[", max(0, start - 35), start)
    lo = max(lo, lo2)
    if lo == -1:
        return False
    m = cr.bracketed.match(text, lo, min(len(text), end + 35))
    return m is not None and m.start() <= start and m.end() >= end


def _byline(text: str, start: int, end: int, cr: _CiteRules) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end == -1 else line_end
    line = text[line_start:line_end]
    if len(line) > cr.byline_max_line or cr.photo.search(line):
        return False
    prev_start = text.rfind("\n", 0, max(0, line_start - 1)) + 1
    prev = text[prev_start : max(prev_start, line_start - 1)]
    if cr.photo.search(prev):
        return False  # a credit under a caption
    rest = (text[line_start:start] + " " + text[end:line_end]).strip()
    rest = _BYLINE_NAME.sub(" ", rest)
    rest = _BYLINE_DATE.sub(" ", rest)
    rest = _BYLINE_CITY.sub(" ", rest.strip())  # dateline city
    return not _BYLINE_PUNCT.sub("", rest)
