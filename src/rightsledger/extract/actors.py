"""Perpetrator institutions named in a report (component actors.v1).

Reports name the same North Korean institution many ways (Bowibu, State Security Department,
Ministry of State Security…); data/lexicons/perpetrators.toml maps them to the kinds in
model.PERPETRATOR_KINDS. A nationality in front changes the meaning: "Chinese police" is a
foreign state, "South Korean authorities" are not a perpetrator at all. A joint body ("the
inspection group, drawn from the Party, the prosecutors and the police") is read with the
institutions the report says it is made of: the assembler names them for what the body did.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

from rightsledger.errors import DataFileError
from rightsledger.extract.lexicon import PhraseMatcher, WordStartRegex, alternation, lexicon
from rightsledger.model import PERPETRATOR_KINDS, Actor, Span, Why

__all__ = ["COMPONENT", "Composition", "body_key", "find_compositions", "find_perpetrators"]

COMPONENT = "actors.v1"
@dataclass(frozen=True, slots=True)
class _Entry:
    id: str
    kind: str
    needs_verb: bool
    cased: frozenset[str]
    composite: bool


@dataclass(frozen=True, slots=True)
class _Rules:
    names: PhraseMatcher
    entries: dict[str, _Entry]  # alias as listed -> entry (id "exclude" for excluded names)
    # Read in the words just before a name, tried only at the words there that can start them.
    foreign: WordStartRegex
    not_perpetrator: WordStartRegex
    not_after: WordStartRegex
    not_before: re.Pattern[str]
    verb_after: re.Pattern[str]
    # From the end of a composite body's name to the cue that its members follow, in its sentence.
    composed: re.Pattern[str]
    joins: re.Pattern[str]  # what may stand before and between the members of a list
    composites: frozenset[str]  # ids of the entries that name joint bodies


_CUE_REACH = 200  # characters from a body's name to the cue of its members
_LIST_REACH = 60  # characters from the cue to the first member, and between members
_MAX_MEMBERS = 12  # institutions in one list, at most


@dataclass(frozen=True, slots=True)
class Composition:
    """A composite body and the institutions the report lists as its members, each with its span."""

    body: Actor
    cue: Span
    members: tuple[Actor, ...]


def body_key(actor: Actor) -> str:
    """The same body however it is spaced, hyphenated or cased ("Anti-Socialist Group", "anti socialist group")."""
    return " ".join(re.findall(r"\w+", actor.name.casefold()))


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    lex = lexicon("perpetrators")
    entries: dict[str, _Entry] = {}
    aliases: list[str] = []
    for e in lex.get("actor", []):
        kind = e.get("kind")
        if kind not in PERPETRATOR_KINDS:
            raise DataFileError(f"perpetrators lexicon: entry {e.get('id')!r} has kind {kind!r}", hint=f"use one of {', '.join(PERPETRATOR_KINDS)}")
        entry = _Entry(e["id"], kind, bool(e.get("needs_verb")), frozenset(e.get("cased", [])), bool(e.get("composite")))
        for a in e.get("aliases", []):
            entries[a] = entry
            aliases.append(a)
    excluded = lex.get("exclude", {}).get("names", [])
    for a in excluded:
        entries[a] = _Entry("exclude", "", False, frozenset(), False)
    names = PhraseMatcher([*excluded, *aliases])
    q = lex.get("qualifiers", {})
    verbs = lex.get("verbs", {})
    between = alternation(verbs.get("between", []))
    c = lex.get("composition", {})
    cue = rf"{alternation(c.get('cues', []))}|{alternation(c.get('bodies', []))}(?:,?\s{{1,3}}{alternation(c.get('listing', []))}|\s{{0,2}}:)"
    return _Rules(
        names=names,
        entries=entries,
        foreign=WordStartRegex.of(re.compile(
            rf"(?<!\w){alternation(q.get('foreign', []))}(?:\s{{1,3}}(?:state|government|public|border|local|provincial))?\s{{1,3}}$")),
        not_perpetrator=WordStartRegex.of(re.compile(rf"(?<!\w){alternation(q.get('not_perpetrator', []))}\s{{1,3}}(?:the\s{{1,3}})?$")),
        # "anniversary of the Chosun (North Korea) Workers' Party": a few name words may come between.
        not_after=WordStartRegex.of(re.compile(rf"(?<!\w){alternation(lex.get('exclude', {}).get('not_after', []))}"
                                               rf"(?:\s{{1,3}}(?:[A-Z][\w.\u2019'-]{{0,20}}|\([^()\n]{{1,30}}\))){{0,3}}\s{{1,3}}$",
                                               re.IGNORECASE)),
        not_before=re.compile(rf",?\s{{1,3}}{alternation(lex.get('exclude', {}).get('not_before', []))}\b", re.IGNORECASE),
        verb_after=re.compile(rf"(?:,?\s{{1,3}}{between}){{0,3}}\s{{1,3}}{alternation(verbs.get('words', []))}\b", re.IGNORECASE),
        composed=re.compile(rf"[^.;!?\n]{{0,{_CUE_REACH}}}?(?<!\w)(?P<cue>{cue})(?!\w)", re.IGNORECASE),
        joins=re.compile(rf"(?:[\s,:()\"'\u2018\u2019\u201c\u201d/&\d-]|{alternation([*c.get('joiners', []), *c.get('bodies', []), *c.get('listing', [])])}(?!\w))*",
                         re.IGNORECASE),
        composites=frozenset(e.id for e in entries.values() if e.composite),
    )


def find_perpetrators(text: str) -> list[Actor]:
    """Perpetrator mentions in text order (each mention once; the assembler groups them)."""
    r = _rules()
    out: list[Actor] = []
    for start, end, listed in r.names.find(text):
        actor = _actor(text, start, end, listed, r)
        if actor is not None:
            out.append(actor)
    return out


def find_compositions(text: str, perpetrators: list[Actor]) -> list[Composition]:
    """The members of the composite bodies among `perpetrators` (from `find_perpetrators`), where
    the body's sentence lists them: "the inspection group drew its officers from five agencies:
    the Party, the Central Court and the Ministry of State Security"."""
    r = _rules()
    out: list[Composition] = []
    named: list[tuple[int, int, str]] | None = None
    starts: list[int] = []
    for body in perpetrators:
        if body.why is None or body.why.rule not in r.composites:
            continue
        cue = r.composed.match(text, body.evidence.end)
        if cue is None:
            continue
        if named is None:
            named = r.names.find(text)
            starts = [n[0] for n in named]
        members = _members(text, cue.end(), named, bisect_left(starts, cue.end()), body, r)
        if members:
            s, e = cue.span("cue")
            out.append(Composition(body, Span(s, e, text[s:e]), tuple(members)))
    return out


def _members(text: str, at: int, named: list[tuple[int, int, str]], i: int, body: Actor, r: _Rules) -> list[Actor]:
    """The institutions listed from `at` (`named[i]` the first name there), each after only
    joiners ("and the", "officers from")."""
    members: list[Actor] = []
    for start, end, listed in named[i : i + _MAX_MEMBERS]:
        if start - at > _LIST_REACH or r.joins.fullmatch(text, at, start) is None:
            break
        actor = _actor(text, start, end, listed, r, member_of=body)
        if actor is None or actor.kind == "other":
            break
        members.append(actor)
        at = end
    return members


def _actor(text: str, start: int, end: int, listed: str, r: _Rules, member_of: Actor | None = None) -> Actor | None:
    """The perpetrator that `listed` names at text[start:end], if it is one. A member listed in a
    composite body ("made up of members of the Party") need not be acting there itself."""
    acting = member_of is None
    written = text[start:end]
    entry = r.entries.get(listed)
    if entry is None or entry.id == "exclude":
        return None
    if listed in entry.cased and written != listed:
        return None
    lo = max(0, start - 80)
    if acting and (r.not_after.search_slice(text, lo, start) or r.not_before.match(text, end)):
        return None
    if r.not_perpetrator.search_slice(text, lo, start):
        return None
    kind, detail = entry.kind, f"alias {written!r}"
    foreign = r.foreign.search_slice(text, lo, start)
    if foreign and kind != "foreign_state":
        kind, detail = "foreign_state", f"{detail} qualified by {foreign.group(0).strip()!r}"
    if entry.needs_verb and acting:
        if not r.verb_after.match(text, end, min(len(text), end + 60)):
            return None
        detail += " as the subject of a violation verb"
    if member_of is not None:
        detail += f", listed as a member of {member_of.name!r}"
    return Actor(kind, written, Span(start, end, written), Why(COMPONENT, entry.id, detail))
