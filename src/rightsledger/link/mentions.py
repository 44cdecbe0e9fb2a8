"""Named people and credited organisations in a report's own words, near an incident.

Extraction records victims by description ("a 33-year-old mother of three") and informants by
role; the names next to them are what lets two reports of one account meet, and the
organisation a report credits ("the report by the … Commission") is the origin of the account.
Word lists live in linking.toml ([names], [organisations]).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from rightsledger.link.settings import LinkSettings
from rightsledger.link.text import norm
from rightsledger.model import Document, Incident

_SYLLABLE = r"[A-Z][a-z]{1,5}"


@lru_cache(maxsize=8)
def _name_pattern(surnames: tuple[str, ...]) -> re.Pattern[str]:
    alts = "|".join(sorted({re.escape(s) for s in surnames}, key=len, reverse=True))
    # Surname, then a given name of one or two syllables: "Ri Hyon Ok", "Ri Hyon-ok", "Seok Jae-hyun"
    return re.compile(rf"\b(?:{alts})\s+{_SYLLABLE}(?:[-\s‐][A-Za-z][a-z]{{1,5}})?\b")


def window(doc: Document, incidents: Sequence[Incident], size: int) -> str:
    """The text around the incidents' evidence (the whole text when they have none)."""
    spans = [s for i in incidents for s in i.evidence]
    if not spans:
        return doc.text
    lo, hi = max(0, min(s.start for s in spans) - size), max(s.end for s in spans) + size
    return doc.text[lo:hi]


def person_names(text: str, settings: LinkSettings) -> set[str]:
    """Normalised full personal names in `text`, public figures left out."""
    cfg = settings.names
    if not cfg:
        return set()
    ignore = set(cfg.get("ignore", ()))
    out = set()
    for m in _name_pattern(tuple(cfg["surnames"])).finditer(text):
        key = norm(m.group(0))
        if len(key.split()) >= 3 and key not in ignore and not any(key.startswith(i) or i.startswith(key) for i in ignore):
            out.add(key)
    return out


@lru_cache(maxsize=8)
def _org_pattern(credits: tuple[str, ...]) -> re.Pattern[str]:
    before = "|".join(re.escape(c) for c in sorted(credits, key=len, reverse=True))
    word = r"[A-Z][\w'’.-]*"
    name = rf"{word}(?:\s+(?:(?:of|on|for|against|and|in|the|to)\s+)*{word})*"
    return re.compile(rf"\b(?i:{before})\s+(?:the\s+)?(?P<org>{name})")


def credited_organisations(text: str, settings: LinkSettings) -> list[str]:
    """Named organisations the text credits ("a report by the X Commission"), first first."""
    cfg = settings.organisations
    if not cfg:
        return []
    heads = set(cfg["heads"])
    out: list[str] = []
    for m in _org_pattern(tuple(cfg["credit_before"])).finditer(text):
        org = m.group("org").strip(" .,'’")
        words = org.split()
        if len(words) >= 2 and heads & {w.strip(".,'’") for w in words} and org not in out:
            out.append(org)
    return out
