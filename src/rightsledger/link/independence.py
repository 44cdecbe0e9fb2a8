"""Independent origins and corroboration status of a case.

Counting reports overstates corroboration: four outlets relaying one Radio Free Asia story are
one origin. Each member report is traced through copies and citations (`citations.trace`) to
what it originally rests on: the cited outlet (or that outlet's own report in the case), a
named organisation it credits, or else the reporting outlet itself with its own informants.
Distinct origins are the independent sources; members disagreeing on a count or a place make
the case contested, with the disagreement listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rightsledger.link.citations import attached, canonical_outlet, is_news_outlet, outlet_key, trace
from rightsledger.link import mentions
from rightsledger.link.evidence import DocLink
from rightsledger.link.settings import LinkSettings, load_settings
from rightsledger.link.text import is_proper_name, norm
from rightsledger.model import Document, Incident

ROLES = ("origin", "re-report", "copy")
STATUSES = ("single_source", "corroborated", "contested")


@dataclass(slots=True)
class Member:
    document_id: str
    url: str | None
    outlet: str | None
    published: date | None
    incident_ids: list[str]
    role: str = "origin"
    origins: list[str] = field(default_factory=list)
    chain: list[str] = field(default_factory=list)  # document ids walked from this one to its origin

    def to_json(self) -> dict[str, Any]:
        return {
            "document_id": self.document_id,
            "url": self.url,
            "document_url": self.url,
            "outlet": self.outlet,
            "published": self.published.isoformat() if self.published else None,
            "role": self.role,
            "origin": ", ".join(self.origins),
            "origins": list(self.origins),
            "chain": list(self.chain),
            "incident_ids": list(self.incident_ids),
        }


@dataclass(slots=True)
class Assessment:
    members: list[Member]
    independent_origins: list[str]
    status: str
    conflicts: list[dict[str, Any]]
    facts: dict[str, dict[str, list[str]]]


def _name(doc: Document) -> str:
    return canonical_outlet(doc.outlet) if doc.outlet else (doc.url or doc.id)


def _credited_orgs(doc: Document, incidents: Sequence[Incident], outlets: set[str], settings: LinkSettings) -> list[str]:
    """Named organisations credited as a source ("the Investigative Commission on …"), not
    outlets: from the extracted sources, else from the report's own words near the incidents."""
    names = [s.name for inc in incidents for s in inc.sources if s.kind == "organization" and is_proper_name(s.name)]
    if not names:
        names = mentions.credited_organisations(mentions.window(doc, incidents, int(settings.names.get("window", 600))), settings)
    out: list[str] = []
    for name in names:
        name = name.strip()
        for article in ("the ", "The "):
            name = name.removeprefix(article)
        name = canonical_outlet(name)
        if outlet_key(name) not in outlets and not is_news_outlet(name) and name not in out:
            out.append(name)
    return out


_OWN_INFORMANTS = frozenset({"official", "resident", "defector", "witness", "insider"})


def _rests_on_unnamed_group(incidents: Sequence[Incident]) -> bool:
    """True when a report credits only unnamed groups or documents ("activists said", "a rights
    report"): it relays someone's report rather than reporting with its own informants."""
    kinds = {s.kind for inc in incidents for s in inc.sources}
    return kinds <= {"organization", "document", "unnamed"} and bool(kinds & {"organization", "document"})


def assess(
    members: Sequence[tuple[Document, Sequence[Incident]]],
    links: Sequence[DocLink],
    duplicate_of: Mapping[str, str | None],
    settings: LinkSettings | None = None,
) -> Assessment:
    """Roles, independent origins, status and conflicts for one case's member reports."""
    docs = {d.id: d for d, _ in members}
    incs = {d.id: list(i) for d, i in members}
    order = sorted(docs, key=lambda i: (docs[i].published or date.max, i))
    rank = {d: n for n, d in enumerate(order)}
    # copies: a member whose duplicate group original is another member, else the group's first
    # member when the original is not in the case, or an earlier member it duplicates
    copy_of: dict[str, str] = {}
    first_copy: dict[str, str] = {}
    for d in order:
        orig = duplicate_of.get(d)
        if orig and orig in docs and orig != d:
            copy_of[d] = orig
        elif orig and orig != d:
            stand_in = first_copy.setdefault(orig, d)
            if stand_in != d:
                copy_of[d] = stand_in
    for lk in links:
        if lk.kind == "duplicate" and lk.a in docs and lk.b in docs and lk.a not in copy_of:
            first, second = sorted((lk.a, lk.b), key=rank.__getitem__)
            if second not in copy_of:
                copy_of[second] = first
    own_keys = {outlet_key(docs[d].outlet) for d in docs if docs[d].outlet}
    relays: dict[str, list[str]] = {}
    settings = settings or load_settings()
    named: set[str] = set()
    for d in order:
        orgs = _credited_orgs(docs[d], incs[d], own_keys, settings)
        if orgs:
            relays[d] = orgs
            named.update(orgs)
            continue
        names = [canonical_outlet(c.outlet) for c in attached(docs[d], incs[d])]
        if len(names) > 1:  # "AFP reported, citing the JoongAng Ilbo": keep the best-supported source
            support = {n: _support(n, d, docs) for n in names}
            top = max(support.values())
            names = [n for n in names if support[n] == top]
        if names:
            relays[d] = names
    # a report resting on an unnamed group's report relays the one group the case names
    if len(named) == 1:
        for d in order:
            if d not in relays and d not in copy_of and _rests_on_unnamed_group(incs[d]):
                relays[d] = sorted(named)

    own_first: dict[str, list[str]] = {}  # outlet key -> its first two own (not copied) reports
    for d in order:
        if d not in copy_of:
            firsts = own_first.setdefault(outlet_key(docs[d].outlet), [])
            if len(firsts) < 2:
                firsts.append(d)

    def own_report(name: str, exclude: str) -> str | None:
        return next((d for d in own_first.get(outlet_key(name), ()) if d != exclude), None)

    own_name = {d: _name(docs[d]) for d in docs}
    out_members = []
    origins: list[str] = []
    for d in order:
        found, chain = trace(d, copy_of, relays, own_report, own_name)
        role = "copy" if d in copy_of else ("re-report" if d in relays else "origin")
        out_members.append(Member(d, docs[d].url, docs[d].outlet, docs[d].published, [i.id for i in incs[d]], role, found, chain))
        for o in found:
            if outlet_key(o) not in {outlet_key(x) for x in origins}:
                origins.append(o)
    conflicts = _conflicts(members, copy_of)
    status = "contested" if conflicts else ("corroborated" if len(origins) >= 2 else "single_source")
    return Assessment(out_members, sorted(origins, key=str.casefold), status, conflicts, _facts(members))


def _support(name: str, doc_id: str, docs: Mapping[str, Document]) -> int:
    """How much the rest of the case rests on an outlet: its own report counts 2, each relay 1."""
    key = outlet_key(name)
    score = 0
    for other, d in docs.items():
        if other == doc_id:
            continue
        if outlet_key(d.outlet) == key:
            score += 2
        elif any(outlet_key(c.outlet) == key for c in d.cites):
            score += 1
    return score


def _conflicts(members: Sequence[tuple[Document, Sequence[Incident]]], copy_of: Mapping[str, str]) -> list[dict[str, Any]]:
    """Key facts members state differently: the headline count per unit, and the province."""
    counts: dict[str, dict[int, list[str]]] = {}
    provinces: dict[str, list[str]] = {}
    shown: dict[str, str] = {}
    for doc, incs in members:
        if doc.id in copy_of:
            continue  # a copy repeats its original; it cannot disagree with it
        per_unit: dict[str, tuple[int, bool]] = {}
        for inc in incs:
            for v in inc.victims:
                if v.count is None:
                    continue
                unit = "households" if v.unit in ("families", "households") else v.unit
                if unit not in per_unit or v.count > per_unit[unit][0]:
                    per_unit[unit] = (v.count, v.approximate)
        for unit, (count, _) in per_unit.items():
            counts.setdefault(unit, {}).setdefault(count, []).append(doc.id)
        seen = set()
        for inc in incs:
            for p in inc.places:
                if p.province and p.level != "country" and p.role == "site":
                    k = norm(p.province)
                    shown.setdefault(k, p.province)
                    if k not in seen:
                        seen.add(k)
                        provinces.setdefault(k, []).append(doc.id)
    out: list[dict[str, Any]] = []
    for unit, values in sorted(counts.items()):
        if len(values) > 1:
            out.append({"fact": "count", "unit": unit, "values": {str(c): sorted(ds) for c, ds in sorted(values.items())}})
    # a report naming two provinces does not contradict one naming either of them
    if len(provinces) > 1:
        docs_all = {d for ds in provinces.values() for d in ds}
        per_doc = {d: {k for k, ds in provinces.items() if d in ds} for d in docs_all}
        if not set.intersection(*per_doc.values()):
            out.append({"fact": "province", "values": {shown[k]: sorted(ds) for k, ds in sorted(provinces.items())}})
    return out


def _facts(members: Sequence[tuple[Document, Sequence[Incident]]]) -> dict[str, dict[str, list[str]]]:
    """Each stated fact with the reports that support it, for `rightsledger case ID`."""
    facts: dict[str, dict[str, list[str]]] = {"types": {}, "dates": {}, "places": {}, "victims": {}, "sources": {}}

    def add(kind: str, value: str, doc_id: str) -> None:
        lst = facts[kind].setdefault(value, [])
        if doc_id not in lst:
            lst.append(doc_id)

    for doc, incs in members:
        for inc in incs:
            for t in inc.types:
                add("types", t, doc.id)
            if inc.date.start:
                add("dates", inc.date.text or inc.date.start.isoformat(), doc.id)
            for p in inc.places:
                add("places", f"{p.name} ({p.level}, {p.role})", doc.id)
            for v in inc.victims:
                add("victims", f"{'about ' if v.approximate else ''}{v.count if v.count is not None else '?'} {v.unit}", doc.id)
            for s in inc.sources:
                add("sources", f"{s.kind}: {s.name}", doc.id)
    return {k: {v: sorted(ds) for v, ds in sorted(vals.items())} for k, vals in facts.items()}
