"""Citation chains: who relays whose reporting.

A document that cites an outlet ("told RFA", "according to Daily NK") relays that outlet's
reporting. When the ledger holds the cited outlet's own report of the event, the two are linked
(a "cites" link, strong evidence that they describe one event) and the chain continues through
it (A copies B, B cites C: the origin is C); otherwise the cited outlet itself is the origin.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

from rightsledger.link.evidence import DocLink
from rightsledger.link.text import norm
from rightsledger.model import Citation, Document, Incident

ATTACH_WINDOW = 600  # characters around an incident's evidence in which a citation supports it


@lru_cache(maxsize=4096)
def _entry(name: str) -> tuple[str, str] | None:
    """(canonical name, kind) from the outlet registry, or None."""
    try:
        from rightsledger.outlets import load_outlets

        found = load_outlets().by_name(name)
    except Exception:  # the registry is optional here: names still compare by their words
        return None
    return (found.name, found.kind) if found is not None else None


def _registered(name: str) -> str | None:
    e = _entry(name)
    return e[0] if e else None


NON_MEDIA_KINDS = ("ngo", "government")


def is_news_outlet(name: str) -> bool:
    """A registered publisher of news (not an NGO or a government body, which are origins of their own reports)."""
    e = _entry(name)
    return e is not None and e[1] not in NON_MEDIA_KINDS


def canonical_outlet(name: str) -> str:
    """The registry's canonical name for an outlet name or alias; the name itself if unknown."""
    return _registered(name) or name.strip()


def is_known_outlet(name: str) -> bool:
    return _registered(name) is not None


@lru_cache(maxsize=65536)
def outlet_key(name: str | None) -> str:
    """A comparison key for outlet names: "RFA", "Radio Free Asia's Korean Service" -> one key."""
    return norm(canonical_outlet(name)) if name else ""


def cited(doc: Document) -> list[Citation]:
    """The document's citations of other outlets (its own outlet left out), first-cited first."""
    own = outlet_key(doc.outlet)
    seen: set[str] = set()
    out = []
    for c in sorted(doc.cites, key=lambda c: (c.evidence.start if c.evidence else 0, c.outlet)):
        k = outlet_key(c.outlet)
        if k and k != own and k not in seen:
            seen.add(k)
            out.append(c)
    return out


def citation_link(a: Document, b: Document) -> DocLink | None:
    """"cites" when one document cites the other's outlet; "co_cited" when both relay one outlet."""
    ka = {outlet_key(c.outlet): c.outlet for c in cited(a)}
    kb = {outlet_key(c.outlet): c.outlet for c in cited(b)}
    own_a, own_b = outlet_key(a.outlet), outlet_key(b.outlet)
    if own_b and own_b in ka:
        return DocLink("cites", a.id, b.id, 1.0, f"cites {ka[own_b]}")
    if own_a and own_a in kb:
        return DocLink("cites", b.id, a.id, 1.0, f"cites {kb[own_a]}")
    common = sorted(set(ka) & set(kb))
    if common:
        first, second = sorted((a.id, b.id))
        return DocLink("co_cited", first, second, float(len(common)), "both relay " + ", ".join(ka[k] for k in common))
    return None


def attached(doc: Document, incidents: Sequence[Incident], window: int = ATTACH_WINDOW) -> list[Citation]:
    """The citations that support these incidents: those near their evidence, else all of them.

    A re-report often names other outlets for background ("Daily NK reported last year…");
    only the ones next to the incident's own sentences say where this account came from.
    """
    cites = cited(doc)
    spans = [s for i in incidents for s in i.evidence]
    if not spans or len(cites) < 2:
        return cites
    lo, hi = min(s.start for s in spans) - window, max(s.end for s in spans) + window
    near = [c for c in cites if c.evidence is not None and lo <= c.evidence.start <= hi]
    return near or cites


def trace(
    doc_id: str,
    copy_of: Mapping[str, str],
    relays: Mapping[str, Sequence[str]],
    own_report: Callable[[str, str], str | None],
    own_name: Mapping[str, str],
) -> tuple[list[str], list[str]]:
    """Follow copies and citations from `doc_id` to the originating names.

    `copy_of` maps a copy to its original; `relays` maps a document to the outlet names it
    relays; `own_report(outlet, exclude)` finds a member that is that outlet's own report;
    `own_name` is each document's origin name when it relays nothing. Returns (origins, chain of
    document ids walked), origins in first-seen order.
    """
    origins: list[str] = []
    chain: list[str] = []
    seen: set[str] = set()

    def walk(d: str) -> None:
        if d in seen:
            return
        seen.add(d)
        chain.append(d)
        if d in copy_of and copy_of[d] != d:
            walk(copy_of[d])
            return
        names = relays.get(d) or ()
        if not names:
            if own_name[d] not in origins:
                origins.append(own_name[d])
            return
        for name in names:
            report = own_report(name, d)
            if report is not None and report not in seen:
                walk(report)
            elif name not in origins:
                origins.append(name)

    walk(doc_id)
    return origins, chain
