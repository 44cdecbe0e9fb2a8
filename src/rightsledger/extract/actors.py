"""Perpetrator institutions named in a report (component actors.v1).

Reports name the same North Korean institution many ways (Bowibu, State Security Department,
Ministry of State Security…); data/lexicons/perpetrators.toml maps them to the kinds in
model.PERPETRATOR_KINDS. A nationality in front changes the meaning: "Chinese police" is a
foreign state, "South Korean authorities" are not a perpetrator at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rightsledger.errors import DataFileError
from rightsledger.extract.lexicon import PhraseMatcher, WordStartRegex, alternation, lexicon
from rightsledger.model import PERPETRATOR_KINDS, Actor, Span, Why

__all__ = ["COMPONENT", "find_perpetrators"]

COMPONENT = "actors.v1"
@dataclass(frozen=True, slots=True)
class _Entry:
    id: str
    kind: str
    needs_verb: bool
    cased: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Rules:
    names: PhraseMatcher
    entries: dict[str, _Entry]  # alias as listed -> entry (id "exclude" for excluded names)
    # Read in the words just before a name, tried only at the words there that can start them.
    foreign: WordStartRegex
    not_perpetrator: WordStartRegex
    not_after: WordStartRegex
    verb_after: re.Pattern[str]


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    lex = lexicon("perpetrators")
    entries: dict[str, _Entry] = {}
    aliases: list[str] = []
    for e in lex.get("actor", []):
        kind = e.get("kind")
        if kind not in PERPETRATOR_KINDS:
            raise DataFileError(f"perpetrators lexicon: entry {e.get('id')!r} has kind {kind!r}", hint=f"use one of {', '.join(PERPETRATOR_KINDS)}")
        entry = _Entry(e["id"], kind, bool(e.get("needs_verb")), frozenset(e.get("cased", [])))
        for a in e.get("aliases", []):
            entries[a] = entry
            aliases.append(a)
    excluded = lex.get("exclude", {}).get("names", [])
    for a in excluded:
        entries[a] = _Entry("exclude", "", False, frozenset())
    names = PhraseMatcher([*excluded, *aliases])
    q = lex.get("qualifiers", {})
    verbs = lex.get("verbs", {})
    between = alternation(verbs.get("between", []))
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
        verb_after=re.compile(rf"(?:,?\s{{1,3}}{between}){{0,3}}\s{{1,3}}{alternation(verbs.get('words', []))}\b", re.IGNORECASE),
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


def _actor(text: str, start: int, end: int, listed: str, r: _Rules) -> Actor | None:
    written = text[start:end]
    entry = r.entries.get(listed)
    if entry is None or entry.id == "exclude":
        return None
    if listed in entry.cased and written != listed:
        return None
    lo = max(0, start - 80)
    if r.not_after.search_slice(text, lo, start):
        return None
    if r.not_perpetrator.search_slice(text, lo, start):
        return None
    kind, detail = entry.kind, f"alias {written!r}"
    foreign = r.foreign.search_slice(text, lo, start)
    if foreign and kind != "foreign_state":
        kind, detail = "foreign_state", f"{detail} qualified by {foreign.group(0).strip()!r}"
    if entry.needs_verb:
        if not r.verb_after.match(text, end, min(len(text), end + 60)):
            return None
        detail += " as the subject of a violation verb"
    return Actor(kind, written, Span(start, end, written), Why(COMPONENT, entry.id, detail))
