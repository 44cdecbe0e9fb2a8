"""The public export: what may be published without exposing sources.

A public record keeps the structured facts (types, dates, counts, places) and drops everything
that can point at a person: informants keep only their kind (no description, no quotations), and
every evidence span keeps its offsets but not its text (the sentence around an informant or a
village name would otherwise repeat it). Places in incidents of documents or cases marked
sensitive are generalised to `place_level` (default: province), their victims keep only the
unit, and a sensitive document loses its title and URL. Confidential documents are
left out entirely, so neither their originals nor anything read from them is published.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, replace

from rightsledger.errors import ConfigError
from rightsledger.model import Actor, Document, Incident, Place, Span

# Coarsest first; a city is the peer of a county in the gazetteer.
PRECISION = {"country": 0, "province": 1, "county": 2, "city": 2, "village": 3, "facility": 4}
PLACE_LEVELS = ("country", "province", "county")
DEFAULT_PLACE_LEVEL = "province"
_BLANK = Span(0, 0, "")


@dataclass(frozen=True, slots=True)
class Marks:
    """What was marked: ids of confidential documents, sensitive documents and sensitive cases."""

    confidential_documents: Collection[str] = frozenset()
    sensitive_documents: Collection[str] = frozenset()
    sensitive_cases: Collection[str] = frozenset()


def check_level(level: str) -> str:
    if level not in PLACE_LEVELS:
        raise ConfigError(f"no place level {level!r} for public exports", hint="use one of: " + ", ".join(PLACE_LEVELS))
    return level


def _offsets(span: Span) -> Span:
    return Span(span.start, span.end, "")


def generalise(place: Place, level: str) -> Place | None:
    """`place` no finer than `level`: a village becomes its county or province; None when the
    containing area is unknown (a place that cannot be generalised is left out, never kept)."""
    if PRECISION.get(place.level, max(PRECISION.values())) <= PRECISION[level]:
        return replace(place, evidence=_offsets(place.evidence), why=None)
    target = {"county": place.county, "province": place.province, "country": place.country}[level]
    if level == "county" and not target:
        level, target = "province", place.province
    if not target:
        return None
    return Place(name=target, level=level, evidence=_BLANK, role=place.role, province=place.province,
                 country=place.country, county=place.county if level == "county" else None)


def _informant(actor: Actor) -> Actor:
    return Actor(kind=actor.kind, name="", evidence=_BLANK)


def redact_incident(inc: Incident, sensitive: bool, level: str) -> Incident:
    places = [replace(p, evidence=_offsets(p.evidence), why=None) for p in inc.places]
    if sensitive:
        places = [g for g in (generalise(p, level) for p in inc.places) if g is not None]
    return replace(
        inc,
        type_facts=[replace(t, evidence=_offsets(t.evidence)) for t in inc.type_facts],
        date=replace(inc.date, evidence=_offsets(inc.date.evidence) if inc.date.evidence else None, why=None),
        places=places,
        victims=[replace(v, evidence=_offsets(v.evidence), why=None, description=v.unit if sensitive else v.description)
                 for v in inc.victims],
        perpetrators=[replace(a, evidence=_offsets(a.evidence), why=None, quotes=[]) for a in inc.perpetrators],
        sources=[_informant(a) for a in inc.sources],
        evidence=[_offsets(s) for s in inc.evidence],
    )


def redact(doc: Document, marks: Marks, level: str = DEFAULT_PLACE_LEVEL) -> Document | None:
    """The public copy of `doc` (a new object), or None for a confidential document."""
    if doc.id in marks.confidential_documents:
        return None
    doc_sensitive = doc.id in marks.sensitive_documents
    incidents = [redact_incident(i, doc_sensitive or (i.case_id in marks.sensitive_cases), level)
                 for i in doc.incidents]
    hidden = {"title": None, "url": None} if doc_sensitive else {}  # headlines and slugs name villages
    return replace(doc, text="", incidents=incidents, layers={}, **hidden,
                   cites=[replace(c, evidence=_offsets(c.evidence), why=None) for c in doc.cites])


def public_documents(docs: Iterable[Document], marks: Marks, level: str = DEFAULT_PLACE_LEVEL) -> Iterator[Document]:
    check_level(level)
    for doc in docs:
        public = redact(doc, marks, level)
        if public is not None:
            yield public
