"""Cases: incidents from different reports that describe one real-world event.

Deciding is a sum of evidence with vetoes (`score_pair`): compatible types, dates that overlap
given their precision, places that match or contain one another, compatible victim counts,
shared names, organisations and informants, and the document links found by the duplicate,
quotation and citation modules. Dates or places that cannot both be true veto the link, so
"30 families" in 2019 in North Hamgyong and "30 families" in 2022 in Ryanggang stay apart.

Only incidents sharing a blocking key (`block_keys`: type x place cell x date window, and type
x relayed outlet x date window) or sitting in linked documents are ever compared. Clustering (`cluster`) is a
deterministic greedy merge, strongest links first, that never puts two incidents of one
document, or a vetoed pair, into one case; the case id is derived from its smallest incident
id, so re-running gives the same ids.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

from rightsledger.link import mentions
from rightsledger.link.citations import attached, is_news_outlet, outlet_key
from rightsledger.link.evidence import DocLink, Reason
from rightsledger.link.settings import LinkSettings, load_settings
from rightsledger.link.text import is_proper_name, norm, person_names, short_hash
from rightsledger.model import Document, Incident

FINE_LEVELS = ("village", "facility", "county")
UNIT_GROUP = {"families": "households", "households": "households", "persons": "persons"}
_GEO_WORDS = {"north", "south", "korea", "korean", "koreans", "china", "chinese", "russia", "russian", "pyongyang", "seoul"}


class PlaceKey(NamedTuple):
    """One place as linking compares it. A named tuple: relations between places are remembered
    per pair, and a tuple hashes and compares without Python calls on every lookup."""

    name: str
    level: str
    gazetteer_id: str | None
    county: str | None
    province: str | None
    country: str | None
    lat: float | None
    lon: float | None
    shown: str


@dataclass(frozen=True, slots=True)
class Profile:
    """What linking compares about one incident, detached from the document's objects."""

    doc_id: str
    incident_id: str
    types: frozenset[str]
    start: date | None
    end: date | None
    precision: str
    published: date | None
    places: tuple[PlaceKey, ...]
    victims: tuple[tuple[int, str, bool], ...]
    names: frozenset[str]
    orgs: frozenset[str]
    informants: frozenset[str]
    relayed: frozenset[str]
    outlet: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.doc_id, self.incident_id)


def _interval(inc: Incident) -> tuple[date | None, date | None, str]:
    d = inc.date
    if d is None or d.start is None or d.precision == "unknown":
        return None, None, "unknown"
    start, end = d.start, d.end
    if end is None or end < start:
        if d.precision == "month":
            end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
        elif d.precision == "year":
            end = start.replace(month=12, day=31)
        else:
            end = start
    return start, end, d.precision


def linkable(inc: Incident) -> bool:
    """Only incidents stated as facts join cases; hedged and negated ones stay out."""
    return inc.modality == "asserted"


def profile(doc: Document, inc: Incident, settings: LinkSettings | None = None) -> Profile:
    start, end, precision = _interval(inc)
    places = tuple(
        PlaceKey(
            norm(p.name), p.level, p.gazetteer_id, norm(p.county) if p.county else None,
            norm(p.province) if p.province else None, (p.country or "").upper() or None, p.lat, p.lon, p.name,
        )
        for p in inc.places
    )
    victims = tuple(sorted((v.count, UNIT_GROUP.get(v.unit, v.unit), v.approximate) for v in inc.victims if v.count is not None))
    settings = settings or load_settings()
    names = set()
    for v in inc.victims:
        names |= {n for n in person_names(v.description) if not set(n.split()) & _GEO_WORDS}
    near = mentions.window(doc, [inc], int(settings.names.get("window", 600)))
    names |= mentions.person_names(near, settings)
    orgs, informants = set(), set()
    for s in inc.sources:
        key = norm(s.name).removeprefix("the ")
        if s.kind in ("organization", "media") and is_proper_name(s.name):
            orgs.add(key)
        elif len(key.split()) >= 3 and s.kind != "unnamed":
            informants.add(key)
    orgs |= {norm(o) for o in mentions.credited_organisations(near, settings) if not is_news_outlet(o)}
    relayed = frozenset(outlet_key(c.outlet) for c in attached(doc, [inc]))
    return Profile(
        doc.id, inc.id, frozenset(inc.types), start, end, precision, doc.published, places, victims,
        frozenset(names), frozenset(orgs), frozenset(informants), relayed, outlet_key(doc.outlet),
    )


# ---------------------------------------------------------------- blocking


def _months(lo: date, hi: date, limit: int) -> list[str]:
    out: list[str] = []
    y, m = lo.year, lo.month
    while (y, m) <= (hi.year, hi.month) and len(out) < limit:
        out.append(f"m{y}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _times(p: Profile, s: LinkSettings) -> tuple[list[str], list[str]]:
    """(register, query) keys for dated incidents, by date window.

    Short dates (at most `month_block_days` long) register their months and query every month
    within the date tolerance, plus whole-year dates of those years; long or year-precise dates
    register "whole year" keys and query everything in those years. Undated incidents have
    none: they meet others through `_undated` keys.
    """
    if p.start is None or p.end is None:
        return [], []
    tol = timedelta(days=int(s.tolerance.get("date_days", 31)))
    years = _years(p, s)
    if (p.end - p.start).days <= int(s.cases["month_block_days"]) and p.precision != "year":
        return _months(p.start, p.end, 4) + [f"yc{y}" for y in years], _months(p.start - tol, p.end + tol, 6) + [f"yw{y}" for y in years]
    return [f"yw{y}" for y in years], [f"yw{y}" for y in years] + [f"yc{y}" for y in years]


def _years(p: Profile, s: LinkSettings) -> list[int]:
    if p.start is not None and p.end is not None:
        return list(range(p.start.year, min(p.end.year, p.start.year + int(s.cases["max_year_span"]) - 1) + 1))
    return [p.published.year] if p.published is not None else []


def _whats(p: Profile) -> tuple[list[str], list[str]]:
    """(register, query) keys for what an undated pair must share to reach the threshold: a
    victim count (log buckets, neighbours queried, so approximate counts meet) or a named
    person, organisation or informant. Without a date, place and type alone never suffice."""
    reg, qry = [], []
    for count, unit, _ in p.victims:
        b = math.floor(math.log(max(count, 1)) / math.log(_COUNT_BUCKET))
        reg.append(f"v{unit}:{b}")
        qry += [f"v{unit}:{b + d}" for d in (-1, 0, 1)]
    ents = [f"e:{n}" for n in sorted(p.names | p.orgs | p.informants)]
    return reg + ents, qry + ents


_COUNT_BUCKET = 1.35  # an approximate count within 25% of another falls in the same or a neighbouring bucket


def _undated(p: Profile, s: LinkSettings) -> tuple[list[str], list[str]]:
    """(register, query) keys pairing undated incidents with any incident near their report's
    publication year (that year or the one before; undated reports published a year apart),
    sharing a count or a name (`_whats`). Every incident registers them; undated ones query."""
    what_r, what_q = _whats(p)
    if not what_r:
        return [], []
    years = _years(p, s)
    reg = [f"u{y}:{w}" for y in years for w in what_r] + [f"u*:{w}" for w in what_r]
    if p.start is not None:  # dated: find undated reports published that year or the next
        qry = [f"u{y + d}:{w}" for y in years for d in (0, 1) for w in what_q]
    elif p.published is not None:
        y = p.published.year
        qry = [f"u{y + d}:{w}" for d in (-1, 0, 1) for w in what_q]
    else:
        qry = [f"u*:{w}" for w in what_q]
    return reg, qry


def _cell(lat: float, lon: float, size: float) -> tuple[int, int]:
    return math.floor(lat / size), math.floor(lon / size)


def _areas(p: Profile, s: LinkSettings) -> tuple[list[str], list[str]]:
    """(register, query) keys for the place facet: a grid cell and its neighbours for located
    places below province level (so places within the "near" distances meet), the name for
    unlocated ones; containment keys let a province meet the places in it and a country meet
    everything in it. An incident without a place meets every incident (of its type and time)."""
    size = float(s.cases["cell_degrees"])
    reg: list[str] = ["*"]
    qry: list[str] = []
    for pl in p.places:
        country = pl.country or ""
        if pl.level == "country":
            reg.append(f"cw:{country or pl.name}")
            qry += [f"cw:{country or pl.name}", f"cc:{country or pl.name}"]
            continue
        if country:
            reg.append(f"cc:{country}")
            qry.append(f"cw:{country}")
        if pl.level == "province":
            name = pl.province or pl.name
            reg.append(f"pw:{name}")
            qry += [f"pw:{name}", f"pc:{name}"]
            continue
        if pl.province:
            reg.append(f"pc:{pl.province}")
            qry.append(f"pw:{pl.province}")
        if pl.lat is not None and pl.lon is not None:
            ci, cj = _cell(pl.lat, pl.lon, size)
            reg.append(f"g{ci}:{cj}")
            qry += [f"g{ci + di}:{cj + dj}" for di in (-1, 0, 1) for dj in (-1, 0, 1)]
        else:
            reg.append(f"n:{pl.name}")
            qry.append(f"n:{pl.name}")
            if pl.county:
                qry.append(f"n:{pl.county}")
    if not p.places:
        reg.append("?")
        qry.append("*")
    else:
        qry.append("?")
    return reg, qry


def block_keys(p: Profile, settings: LinkSettings) -> tuple[set[str], set[str]]:
    """(register, query) blocking keys: two incidents are compared when one's query keys meet
    the other's registered keys. Keys combine type x place x time (`_areas`, `_times`), and
    type x outlet x time: a report relaying an outlet meets that outlet's own reports whatever
    their places.
    Undated incidents meet others through a shared count or name near their publication year
(`_undated`). So adding a report costs the incidents near it in place, time and count, not
the whole ledger."""
    times_r, times_q = _times(p, settings)
    und_r, und_q = _undated(p, settings)
    times_r, times_q = times_r + und_r, times_q + und_q
    areas_r, areas_q = _areas(p, settings)
    # an outlet's own report meets the reports relaying it wherever they place the event; two
    # relays of one outlet meet only through place and time (a busy outlet is relayed daily)
    src_r = [f"so:{p.outlet}"] if p.outlet else []
    src_q = [f"so:{o}" for o in sorted(p.relayed)]
    types = sorted(p.types) or ["?"]
    reg, qry = set(), set()
    for t in types:
        for y in times_r:
            reg.update(f"{t}|{a}|{y}" for a in areas_r + src_r)
        for y in times_q:
            qry.update(f"{t}|{a}|{y}" for a in areas_q + src_q)
    return reg, qry


# ---------------------------------------------------------------- scoring


@dataclass(slots=True)
class PairScore:
    a: tuple[str, str]
    b: tuple[str, str]
    score: float
    reasons: list[Reason]

    @property
    def vetoed(self) -> bool:
        return any(r.veto for r in self.reasons)

    def to_json(self) -> dict[str, Any]:
        return {
            "a": {"document_id": self.a[0], "incident_id": self.a[1]},
            "b": {"document_id": self.b[0], "incident_id": self.b[1]},
            "score": round(self.score, 3),
            "reasons": [r.to_json() for r in self.reasons],
        }


def _date_reasons(a: Profile, b: Profile, s: LinkSettings, copies: bool) -> list[Reason]:
    w, tol = s.weight, int(s.tolerance.get("date_days", 31))
    if a.start is None or b.start is None:
        known, other = (a, b) if a.start is not None else (b, a)
        if known.start is not None and other.published is not None and other.published + timedelta(days=tol) < known.start:
            return [Reason("date_after_report", 0.0, f"{known.start} is after the other report ({other.published})", veto=not copies)]
        # re-reports follow the first report within weeks: undated reports far apart in time
        # are more likely about two events, unless both name the same person (a later report
        # of what became of someone)
        if a.published and b.published:
            gap = abs((a.published - b.published).days)
            if gap > 365 * int(s.cases["far_published_years"]):
                return [Reason("published_far", w("published_far"), f"undated; reports {a.published} and {b.published}")]
            if gap > int(s.cases["apart_published_days"]) and not a.names & b.names:
                return [Reason("published_apart", w("published_apart"), f"undated; reports {gap} days apart")]
        return [Reason("date_unknown", 0.0, "no date in one report")]
    assert a.end is not None and b.end is not None
    if a.start <= b.end and b.start <= a.end:
        coarse = {a.precision, b.precision}
        long_range = max((a.end - a.start).days, (b.end - b.start).days) > 62
        if coarse <= {"day"} and max((a.end - a.start).days, (b.end - b.start).days) <= 3:
            return [Reason("date_day", w("date_day"), f"same day {max(a.start, b.start)}")]
        if "year" in coarse or long_range:
            return [Reason("date_year", w("date_year"), f"overlapping {a.start.year}")]
        return [Reason("date_month", w("date_month"), f"overlapping {max(a.start, b.start):%Y-%m}")]
    gap = (b.start - a.end).days if a.end < b.start else (a.start - b.end).days
    if gap <= tol:
        return [Reason("date_near_miss", w("date_near_miss"), f"dates {gap} days apart")]
    return [Reason("dates_differ", 0.0, f"{a.start}..{a.end} vs {b.start}..{b.end}", veto=not copies)]


def _km(a: PlaceKey, b: PlaceKey) -> float | None:
    if a.lat is None or a.lon is None or b.lat is None or b.lon is None:
        return None
    la1, lo1, la2, lo2 = map(math.radians, (a.lat, a.lon, b.lat, b.lon))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 6371 * 2 * math.asin(min(1.0, math.sqrt(h)))


_RANK = {"country": 0, "province": 1, "county": 2, "city": 3, "village": 4, "facility": 5}


def _place_relation(x: PlaceKey, y: PlaceKey, s: LinkSettings) -> Reason | None:
    """The best thing that can be said about two places: match, containment, near, or conflict.
    Remembered per pair of places: a ledger names far fewer places than it compares pairs."""
    key = ("place", x, y)
    memo = s.memo
    if key in memo:
        return memo[key]
    if len(memo) >= 200_000:
        memo.clear()
    r = memo[key] = _relate_places(x, y, s)
    return r


def _relate_places(x: PlaceKey, y: PlaceKey, s: LinkSettings) -> Reason | None:
    w = s.weight
    coarse, fine = (x, y) if _RANK.get(x.level, 3) <= _RANK.get(y.level, 3) else (y, x)
    same = (x.gazetteer_id and x.gazetteer_id == y.gazetteer_id) or (
        x.name == y.name and x.level == y.level
        and not (x.province and y.province and x.province != y.province)
        and not (x.country and y.country and x.country != y.country)
    )
    if same:
        rule = {"country": "place_country", "province": "place_province", "city": "place_exact_city"}.get(x.level, "place_exact_fine")
        return Reason(rule, w(rule), f"both in {x.shown}")
    if coarse.level == "country" and (fine.country == coarse.country and fine.country or coarse.name == fine.name):
        return Reason("place_country", w("place_country"), f"{fine.shown} is in {coarse.shown}")
    if coarse.level == "province" and fine.province == coarse.name:
        return Reason("place_contains", w("place_contains"), f"{fine.shown} is in {coarse.shown}")
    if coarse.level == "county" and fine.county == coarse.name:
        return Reason("place_contains", w("place_contains"), f"{fine.shown} is in {coarse.shown}")
    if x.country and y.country and x.country != y.country:
        return Reason("places_differ", 0.0, f"{x.shown} ({x.country}) vs {y.shown} ({y.country})", veto=True)
    if x.province and y.province and x.province != y.province:
        return Reason("places_differ", 0.0, f"{x.shown} ({x.province}) vs {y.shown} ({y.province})", veto=True)
    km = _km(x, y)
    finer = fine.level
    if km is not None and km <= float(s.tolerance["near_km"].get(finer, 20)):
        return Reason("place_near", w("place_near"), f"{x.shown} and {y.shown} {km:.0f} km apart")
    if km is not None and coarse.level != "country" and km > float(s.tolerance["far_km"].get(finer, 150)):
        return Reason("places_differ", 0.0, f"{x.shown} and {y.shown} {km:.0f} km apart", veto=True)
    if x.county and x.county == y.county:
        return Reason("place_contains", w("place_contains"), f"both in {x.county} county")
    if x.province and x.province == y.province:
        return Reason("place_province", w("place_province"), f"both in {x.province}")
    return None


def _place_reasons(a: Profile, b: Profile, s: LinkSettings) -> list[Reason]:
    """Remembered per pair of place lists, like `_place_relation` per pair of places."""
    key = ("places", a.places, b.places)
    memo = s.memo
    if key in memo:
        return list(memo[key])
    if len(memo) >= 200_000:
        memo.clear()
    r = memo[key] = _relate_place_lists(a, b, s)
    return list(r)


def _relate_place_lists(a: Profile, b: Profile, s: LinkSettings) -> list[Reason]:
    if not a.places or not b.places:
        return [Reason("place_unknown", 0.0, "no place in one report")]
    found = [r for x in a.places for y in b.places if (r := _place_relation(x, y, s)) is not None]
    positive = [r for r in found if not r.veto]
    if positive:
        return [max(positive, key=lambda r: (r.weight, r.detail))]
    conflicts = [r for r in found if r.veto]
    if conflicts and len(conflicts) == len(a.places) * len(b.places):
        return [min(conflicts, key=lambda r: r.detail)]
    return [Reason("place_unrelated", 0.0, "places neither match nor conflict")]


def _victim_reasons(a: Profile, b: Profile, s: LinkSettings) -> list[Reason]:
    w, ratio = s.weight, float(s.tolerance.get("approx_ratio", 0.25))
    best: Reason | None = None
    differ: Reason | None = None
    for ca, ua, xa in a.victims:
        for cb, ub, xb in b.victims:
            if ua != ub:
                continue
            if ca == cb:
                rule = "victims_equal" if ca > 2 else "victims_equal_small"
                r = Reason(rule, w(rule), f"{ca} {ua} in both")
            elif (xa or xb) and abs(ca - cb) <= ratio * max(ca, cb):
                r = Reason("victims_approx", w("victims_approx"), f"about {ca} vs {cb} {ua}")
            else:
                differ = differ or Reason("victims_differ", w("victims_differ"), f"{ca} vs {cb} {ua}")
                continue
            if best is None or r.weight > best.weight:
                best = r
    if best is not None:
        return [best]
    return [differ] if differ is not None else []


_LINK_RULES = {"duplicate": "duplicate", "quote": "shared_quote"}


def _citation_reasons(a: Profile, b: Profile, s: LinkSettings) -> list[Reason]:
    """Citations supporting these incidents: one relays the other's outlet, or both relay one."""
    if (b.outlet and b.outlet in a.relayed) or (a.outlet and a.outlet in b.relayed):
        name = b.outlet if b.outlet in a.relayed else a.outlet
        return [Reason("cites_other", s.weight("cites_other"), f"one report relays {name}, the other is its own")]
    common = sorted(a.relayed & b.relayed)
    if common:
        return [Reason("co_cited", s.weight("co_cited"), "both relay " + ", ".join(common))]
    return []


def score_pair(a: Profile, b: Profile, links: Sequence[DocLink], s: LinkSettings, forbidden: bool = False) -> PairScore:
    """How strongly two incidents of different documents look like one event, and why."""
    w = s.weight
    reasons: list[Reason] = []
    if a.types and b.types:
        common = sorted(a.types & b.types)
        if a.types == b.types and len(common) > 1:  # one shared type alone is common and says little
            reasons.append(Reason("types_same", w("types_same"), ", ".join(common)))
        elif common:
            reasons.append(Reason("types_overlap", w("types_overlap"), ", ".join(common)))
        else:
            reasons.append(Reason("types_disjoint", 0.0, f"{', '.join(sorted(a.types))} vs {', '.join(sorted(b.types))}", veto=True))
    copies = any(lk.kind == "duplicate" for lk in links)
    reasons += _date_reasons(a, b, s, copies)
    reasons += _place_reasons(a, b, s)
    reasons += _victim_reasons(a, b, s)
    for rule, mine, theirs in (("names_shared", a.names, b.names), ("organisation_shared", a.orgs, b.orgs), ("informant_shared", a.informants, b.informants)):
        common = sorted(mine & theirs)
        if common:
            reasons.append(Reason(rule, w(rule), "; ".join(common[:3])))
    for lk in sorted(links, key=lambda lk: lk.kind):
        if lk.kind in _LINK_RULES:
            reasons.append(Reason(_LINK_RULES[lk.kind], w(_LINK_RULES[lk.kind]), lk.detail))
    reasons += _citation_reasons(a, b, s)
    if forbidden:
        reasons.append(Reason("analyst_split", 0.0, "kept apart by an analyst", veto=True))
    # rounded as stored: a score reloaded from a case (see `Linker`) sorts exactly as a fresh one
    return PairScore(a.key, b.key, round(sum(r.weight for r in reasons), 3), reasons)


def quick_reject(a: Profile, b: Profile, links: Sequence[DocLink], s: LinkSettings) -> bool:
    """The cheap vetoes (types, dates) checked before scoring, which most candidate pairs fail."""
    if a.types and b.types and not a.types & b.types:
        return True
    if a.start is None or b.start is None or a.end is None or b.end is None or any(lk.kind == "duplicate" for lk in links):
        return False
    gap = max((b.start - a.end).days, (a.start - b.end).days)
    return gap > int(s.tolerance.get("date_days", 31))


def match_documents(pa: Sequence[Profile], pb: Sequence[Profile], links: Sequence[DocLink], s: LinkSettings) -> list[PairScore]:
    """One-to-one links between the incidents of two documents, best first: a report of an
    execution and an arrest matches another's execution to execution, arrest to arrest."""
    threshold, strong = float(s.cases["threshold"]), float(s.cases["strong"])
    scored = [p for x in pa for y in pb if not quick_reject(x, y, links, s) and not (p := score_pair(x, y, links, s)).vetoed]
    if any(p.score >= strong for p in scored):  # the two reports surely share one event: the rest may too
        bonus = Reason("reports_linked", s.weight("reports_linked"), "these reports share another event")
        scored = [p if p.score >= strong else PairScore(p.a, p.b, round(p.score + bonus.weight, 3), p.reasons + [bonus]) for p in scored]
    scored = [p for p in scored if p.score >= threshold]
    scored.sort(key=lambda p: (-p.score, p.a, p.b))
    used: set[tuple[str, str]] = set()
    out = []
    for p in scored:
        if p.a not in used and p.b not in used:
            used.update((p.a, p.b))
            out.append(p)
    return out


# ---------------------------------------------------------------- clustering


def case_id(members: Iterable[tuple[str, str]], variant: int = 0) -> str:
    """The id of a new case: from its smallest (document id, incident id) member, so the same
    on every run; the linker keeps an existing case's id when reports join or leave it.
    `variant` n > 0 gives the n-th other id, for when another case already holds that one."""
    doc_id, inc_id = min(members)
    return "C-" + short_hash(f"{doc_id}\x1f{inc_id}" + (f"\x1f{variant}" if variant else ""), 12)


@dataclass(slots=True)
class Clustering:
    """Cases found, with the links that joined them (each incident's strongest link to its case
    when it joined: a spanning forest, so what a case keeps grows with its size) and the merges
    refused, strongest first."""

    components: list[list[tuple[str, str]]]
    accepted: list[PairScore] = field(default_factory=list)
    refused: list[tuple[PairScore, str]] = field(default_factory=list)


def cluster(
    nodes: Iterable[tuple[str, str]],
    edges: Iterable[PairScore],
    vetoed: Callable[[tuple[str, str], tuple[str, str]], str | None],
    must_link: Iterable[tuple[tuple[str, str], tuple[str, str]]] = (),
) -> Clustering:
    """Greedy merge, strongest edge first, refusing a merge that would put two incidents of one
    document, or any pair `vetoed` names a reason for, into one case. Analysts' must-links go first."""
    parent: dict[tuple[str, str], tuple[str, str]] = {n: n for n in sorted(set(nodes))}
    members: dict[tuple[str, str], list[tuple[str, str]]] = {n: [n] for n in parent}
    docs: dict[tuple[str, str], set[str]] = {n: {n[0]} for n in parent}  # kept per cluster, not rebuilt per merge
    refusals: dict[tuple[tuple[str, str], int, tuple[str, str], int], str] = {}
    result = Clustering([])

    def find(x: tuple[str, str]) -> tuple[str, str]:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(ra: tuple[str, str], rb: tuple[str, str]) -> None:
        keep, drop = (ra, rb) if ra < rb else (rb, ra)
        parent[drop] = keep
        members[keep] += members.pop(drop)
        docs[keep] |= docs.pop(drop)

    for a, b in sorted(must_link):
        if a in parent and b in parent and find(a) != find(b):
            union(find(a), find(b))
    for e in sorted(edges, key=lambda e: (-e.score, e.a, e.b)):
        ra, rb = find(e.a), find(e.b)
        if ra == rb:
            continue  # already joined by stronger links: `accepted` stays a spanning forest
        # a cluster only grows, so its root and size name its members: a merge refused once is
        # refused with the same reason until one side grows (many edges join the same two reports)
        state = (ra, len(members[ra]), rb, len(members[rb]))
        why = refusals.get(state)
        if why is None:
            why = refusals[state] = _merge_conflict(members[ra], members[rb], docs[ra] & docs[rb], vetoed) or ""
        if why:
            result.refused.append((e, why))
            continue
        union(ra, rb)
        result.accepted.append(e)
    result.components = sorted((sorted(m) for m in members.values()), key=lambda m: m[0])
    return result


def _merge_conflict(xs: list[tuple[str, str]], ys: list[tuple[str, str]], both: set[str],
                    vetoed: Callable[[tuple[str, str], tuple[str, str]], str | None]) -> str | None:
    """Why two clusters cannot merge: `both` (documents in both) first, then the first vetoed pair."""
    if both:
        return f"would hold two incidents of document {min(both)}"
    for x in xs:
        for y in ys:
            why = vetoed(x, y)
            if why:
                return why
    return None


def veto_reason(a: Profile, b: Profile, links: Sequence[DocLink], s: LinkSettings, forbidden: bool = False) -> str | None:
    """Why two incidents can never share a case, or None: the first veto `score_pair` would
    give (types, dates, places, analyst), found without scoring the rest. Clustering asks this
    for every pair of incidents it would put into one case, so it must stay cheap."""
    if a.types and b.types and not a.types & b.types:
        return f"types_disjoint: {', '.join(sorted(a.types))} vs {', '.join(sorted(b.types))}"
    copies = any(lk.kind == "duplicate" for lk in links)
    for r in _date_reasons(a, b, s, copies):
        if r.veto:
            return f"{r.rule}: {r.detail}"
    r = _place_veto(a, b, s)
    if r is not None:
        return f"{r.rule}: {r.detail}"
    return "analyst_split: kept apart by an analyst" if forbidden else None


def _place_veto(a: Profile, b: Profile, s: LinkSettings) -> Reason | None:
    """The veto `_place_reasons` gives (every pair of places conflicts), stopping at the first
    pair that does not conflict."""
    if not a.places or not b.places:
        return None
    conflicts = []
    for x in a.places:
        for y in b.places:
            r = _place_relation(x, y, s)
            if r is None or not r.veto:
                return None
            conflicts.append(r)
    return min(conflicts, key=lambda r: r.detail)


def profiles_of(doc: Document, settings: LinkSettings | None = None) -> list[Profile]:
    return [profile(doc, i, settings) for i in doc.incidents if linkable(i)]
