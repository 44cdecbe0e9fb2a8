"""The one document model every stage reads and writes.

A fact is never a detached string: it carries the `Span` of clean text that supports it and
the `Why` (component@version, rule, detail) that proposed it, so a reviewer can always see why
it was extracted. `to_dict()` gives exactly the export contract (schema/export.schema.json);
`explain()` adds the `why` of every fact for `rightsledger explain` and the ledger's own storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

VIOLATION_TYPES = (
    "killing",
    "arbitrary_detention",
    "torture",
    "sexual_violence",
    "forced_relocation",
    "collective_punishment",
    "forced_repatriation",
    "enforced_disappearance",
    "forced_labor",
    "expression_crackdown",
    "movement_restriction",
    "religious_persecution",
    "public_humiliation",
)
DATE_PRECISIONS = ("day", "month", "year", "range", "unknown")
PLACE_ROLES = ("site", "origin", "destination")
PLACE_LEVELS = ("country", "province", "county", "city", "village", "facility")
VICTIM_UNITS = ("persons", "families", "households")
PERPETRATOR_KINDS = (
    "state_security",
    "police",
    "military",
    "party",
    "judiciary",
    "authorities",
    "foreign_state",
    "other",
)
SOURCE_KINDS = (
    "official",
    "resident",
    "defector",
    "witness",
    "insider",
    "organization",
    "media",
    "document",
    "unnamed",
)
# How firmly the text states an incident: only "asserted" incidents are exported as facts that
# happened; hedged ("rumours that…") and negated ("no evidence of…") ones are kept for review.
MODALITIES = ("asserted", "hedged", "negated")


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range [start, end) of the document's clean text, with the text it covers."""

    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "text": self.text}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Span | None:
        return None if d is None else cls(int(d["start"]), int(d["end"]), str(d["text"]))

    @classmethod
    def of(cls, text: str, start: int, end: int) -> Span:
        return cls(start, end, text[start:end])


@dataclass(frozen=True, slots=True)
class Why:
    """What proposed a fact: the component (with version), the rule or lexicon entry, a note."""

    component: str
    rule: str
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"component": self.component, "rule": self.rule, "detail": self.detail}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Why | None:
        return None if d is None else cls(d["component"], d["rule"], d.get("detail", ""))


def _span(s: Span | None) -> dict[str, Any] | None:
    return s.to_dict() if s is not None else None


def _why(w: Why | None) -> dict[str, str] | None:
    return w.to_dict() if w is not None else None


@dataclass(slots=True)
class TypeFact:
    """One violation type proposed for an incident, with the trigger that proposed it."""

    code: str
    evidence: Span
    why: Why
    modality: str = "asserted"

    def explain(self) -> dict[str, Any]:
        return {"code": self.code, "modality": self.modality, "evidence": _span(self.evidence), "why": _why(self.why)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TypeFact:
        return cls(d["code"], Span.from_dict(d["evidence"]), Why.from_dict(d["why"]), d.get("modality", "asserted"))  # type: ignore[arg-type]


@dataclass(slots=True)
class DateValue:
    start: date | None
    end: date | None
    precision: str = "unknown"
    text: str | None = None
    evidence: Span | None = None
    why: Why | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "precision": self.precision,
            "text": self.text,
            "evidence": _span(self.evidence),
        }

    def explain(self) -> dict[str, Any]:
        return {**self.to_dict(), "why": _why(self.why)}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> DateValue:
        if not d:
            return cls(None, None)
        return cls(
            date.fromisoformat(d["start"]) if d.get("start") else None,
            date.fromisoformat(d["end"]) if d.get("end") else None,
            d.get("precision", "unknown"),
            d.get("text"),
            Span.from_dict(d.get("evidence")),
            Why.from_dict(d.get("why")),
        )


@dataclass(slots=True)
class Place:
    """A place of an incident, resolved against the gazetteer where possible.

    `county` names the containing county for villages and towns (the export carries it for
    analysts; the contract's fixed keys are name, role, level, lat, lon, gazetteer_id,
    province, country, evidence).
    """

    name: str
    level: str
    evidence: Span
    role: str = "site"
    lat: float | None = None
    lon: float | None = None
    gazetteer_id: str | None = None
    province: str | None = None
    country: str | None = None
    county: str | None = None
    why: Why | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "level": self.level,
            "lat": self.lat,
            "lon": self.lon,
            "gazetteer_id": self.gazetteer_id,
            "province": self.province,
            "country": self.country,
            "county": self.county,
            "evidence": _span(self.evidence),
        }

    def explain(self) -> dict[str, Any]:
        return {**self.to_dict(), "why": _why(self.why)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Place:
        return cls(
            name=d["name"],
            level=d["level"],
            evidence=Span.from_dict(d["evidence"]),  # type: ignore[arg-type]
            role=d.get("role", "site"),
            lat=d.get("lat"),
            lon=d.get("lon"),
            gazetteer_id=d.get("gazetteer_id"),
            province=d.get("province"),
            country=d.get("country"),
            county=d.get("county"),
            why=Why.from_dict(d.get("why")),
        )


@dataclass(slots=True)
class Victims:
    count: int | None
    unit: str
    description: str
    evidence: Span
    approximate: bool = False
    why: Why | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "unit": self.unit,
            "approximate": self.approximate,
            "description": self.description,
            "evidence": _span(self.evidence),
        }

    def explain(self) -> dict[str, Any]:
        return {**self.to_dict(), "why": _why(self.why)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Victims:
        return cls(
            d.get("count"), d["unit"], d.get("description", ""), Span.from_dict(d["evidence"]),  # type: ignore[arg-type]
            bool(d.get("approximate")), Why.from_dict(d.get("why")),
        )


@dataclass(slots=True)
class Actor:
    """A perpetrator (kind from PERPETRATOR_KINDS) or an informant (kind from SOURCE_KINDS).

    For informants, `name` is the description as written ("a senior official") and `quotes`
    are the quotations credited to them.
    """

    kind: str
    name: str
    evidence: Span
    why: Why | None = None
    quotes: list[Span] = field(default_factory=list)

    def to_dict(self, name_key: str = "name") -> dict[str, Any]:
        return {"kind": self.kind, name_key: self.name, "evidence": _span(self.evidence)}

    def explain(self, name_key: str = "name") -> dict[str, Any]:
        return {**self.to_dict(name_key), "why": _why(self.why), "quotes": [q.to_dict() for q in self.quotes]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Actor:
        return cls(
            d["kind"], d.get("name") or d.get("description") or "", Span.from_dict(d["evidence"]),  # type: ignore[arg-type]
            Why.from_dict(d.get("why")), [Span.from_dict(q) for q in d.get("quotes", [])],  # type: ignore[misc]
        )


@dataclass(slots=True)
class Citation:
    """Another outlet whose reporting this document relays ("told RFA", "(AFP)")."""

    outlet: str
    evidence: Span
    why: Why | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"outlet": self.outlet, "evidence": _span(self.evidence)}

    def explain(self) -> dict[str, Any]:
        return {**self.to_dict(), "why": _why(self.why)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Citation:
        return cls(d["outlet"], Span.from_dict(d["evidence"]), Why.from_dict(d.get("why")))  # type: ignore[arg-type]


@dataclass(slots=True)
class Incident:
    id: str
    type_facts: list[TypeFact] = field(default_factory=list)
    date: DateValue = field(default_factory=lambda: DateValue(None, None))
    places: list[Place] = field(default_factory=list)
    victims: list[Victims] = field(default_factory=list)
    perpetrators: list[Actor] = field(default_factory=list)
    sources: list[Actor] = field(default_factory=list)
    evidence: list[Span] = field(default_factory=list)
    modality: str = "asserted"
    case_id: str | None = None

    @property
    def types(self) -> list[str]:
        """Distinct type codes in first-seen order."""
        return list(dict.fromkeys(t.code for t in self.type_facts))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "case_id": self.case_id,
            "types": self.types,
            "date": self.date.to_dict(),
            "places": [p.to_dict() for p in self.places],
            "victims": [v.to_dict() for v in self.victims],
            "perpetrators": [a.to_dict() for a in self.perpetrators],
            "sources": [a.to_dict("description") for a in self.sources],
            "evidence": [s.to_dict() for s in self.evidence],
            "modality": self.modality,
        }

    def explain(self) -> dict[str, Any]:
        return {
            **self.to_dict(),
            "type_facts": [t.explain() for t in self.type_facts],
            "date": self.date.explain(),
            "places": [p.explain() for p in self.places],
            "victims": [v.explain() for v in self.victims],
            "perpetrators": [a.explain() for a in self.perpetrators],
            "sources": [a.explain("description") for a in self.sources],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Incident:
        """Inverse of `explain()` (and of `to_dict()`, minus the explanations it lacks)."""
        type_facts = [TypeFact.from_dict(t) for t in d.get("type_facts", [])]
        if not type_facts:  # a plain export record: types without their triggers
            ev = Span.from_dict(d["evidence"][0]) if d.get("evidence") else Span(0, 0, "")
            type_facts = [TypeFact(code, ev, Why("export", "imported")) for code in d.get("types", [])]  # type: ignore[arg-type]
        return cls(
            id=d["id"],
            type_facts=type_facts,
            date=DateValue.from_dict(d.get("date")),
            places=[Place.from_dict(p) for p in d.get("places", [])],
            victims=[Victims.from_dict(v) for v in d.get("victims", [])],
            perpetrators=[Actor.from_dict(a) for a in d.get("perpetrators", [])],
            sources=[Actor.from_dict(a) for a in d.get("sources", [])],
            evidence=[Span.from_dict(s) for s in d.get("evidence", [])],  # type: ignore[misc]
            modality=d.get("modality", "asserted"),
            case_id=d.get("case_id"),
        )


@dataclass(slots=True)
class Document:
    """A report: its clean text (what every span indexes into) and what is known about it.

    `layers` holds intermediate annotations by component name (sentences, quotes, dates…),
    the way spaCy keeps `doc.spans`; stages add to it and never rewrite `text`.
    """

    id: str
    text: str
    sha256: str = ""
    url: str | None = None
    outlet: str | None = None
    title: str | None = None
    published: date | None = None
    language: str | None = None
    cites: list[Citation] = field(default_factory=list)
    duplicate_of: str | None = None
    incidents: list[Incident] = field(default_factory=list)
    layers: dict[str, Any] = field(default_factory=dict)
    # Confidential and no key given: text, evidence text and informants are sealed stand-ins.
    locked: bool = False

    def span(self, start: int, end: int) -> Span:
        return Span.of(self.text, start, end)

    def document_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "sha256": self.sha256,
            "url": self.url,
            "outlet": self.outlet,
            "title": self.title,
            "published": self.published.isoformat() if self.published else None,
            "language": self.language,
            "cites": [c.to_dict() for c in self.cites],
            "duplicate_of": self.duplicate_of,
        }

    def to_dict(self) -> dict[str, Any]:
        """The export record: {"document": …, "incidents": […]} (the export contract)."""
        return {"document": self.document_dict(), "incidents": [i.to_dict() for i in self.incidents]}

    def explain(self) -> dict[str, Any]:
        doc = self.document_dict()
        doc["cites"] = [c.explain() for c in self.cites]
        return {"document": doc, "incidents": [i.explain() for i in self.incidents]}
