"""Builders for invented reports used by the test_link_* modules (no tests here)."""

from __future__ import annotations

from datetime import date

from rightsledger.model import Actor, Citation, DateValue, Document, Incident, Place, Span, TypeFact, Victims, Why

WHY = Why("test", "invented")

# Invented places with plausible coordinates; gazetteer-style ids.
PLACES = {
    "Hyesan": ("city", "Ryanggang", "KP", 41.40, 128.18, "kp:city:hyesan"),
    "Samsu": ("county", "Ryanggang", "KP", 41.30, 128.45, "kp:county:samsu"),
    "Chongjin": ("city", "North Hamgyong", "KP", 41.79, 129.78, "kp:city:chongjin"),
    "Sinwon": ("county", "South Hwanghae", "KP", 38.30, 125.52, "kp:county:sinwon"),
    "Ryongwol": ("village", "South Hwanghae", "KP", 38.28, 125.50, "kp:village:ryongwol"),
    "South Hwanghae": ("province", "South Hwanghae", "KP", 38.20, 125.47, "kp:province:south-hwanghae"),
    "Pyongyang": ("city", "Pyongyang", "KP", 39.03, 125.75, "kp:city:pyongyang"),
    "North Korea": ("country", None, "KP", 40.34, 127.51, "kp"),
}


def span_of(text: str, phrase: str) -> Span:
    i = text.find(phrase)
    assert i >= 0, f"{phrase!r} not in text"
    return Span(i, i + len(phrase), phrase)


def report(doc_id: str, text: str, *, outlet: str | None = None, url: str | None = None, published: date | None = None,
           cites: tuple[str, ...] = ()) -> Document:
    doc = Document(doc_id, text, url=url or f"https://example.org/{doc_id}", outlet=outlet, published=published)
    doc.cites = [Citation(name, span_of(text, name), WHY) for name in cites]
    return doc


def add_incident(doc: Document, evidence: str, *, types: tuple[str, ...], when: tuple[date, str] | None = None,
                 places: tuple[str, ...] = (), victims: tuple[tuple[int | None, str], ...] = (),
                 sources: tuple[tuple[str, str], ...] = (), approximate: bool = False, modality: str = "asserted",
                 roles: tuple[str, ...] = ()) -> Incident:
    ev = span_of(doc.text, evidence)
    inc = Incident(f"{doc.id}-i{len(doc.incidents) + 1}", modality=modality, evidence=[ev])
    inc.type_facts = [TypeFact(t, ev, WHY) for t in types]
    if when:
        d, precision = when
        inc.date = DateValue(d, None, precision, str(d), ev, WHY)
    for k, name in enumerate(places):
        level, province, country, lat, lon, gid = PLACES[name]
        role = roles[k] if k < len(roles) else "site"
        inc.places.append(Place(name, level, ev, role, lat, lon, gid, province, country, None, WHY))
    inc.victims = [Victims(c, u, f"{c} {u}", ev, approximate, WHY) for c, u in victims]
    inc.sources = [Actor(kind, name, ev, WHY) for kind, name in sources]
    doc.incidents.append(inc)
    return inc
