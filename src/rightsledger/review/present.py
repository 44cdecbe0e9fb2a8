"""Turning ledger records into what the pages draw: highlighted text segments, labels, timeline
geometry. Pure functions; the templates only loop over what these return."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

FACT_KINDS = ("type", "date", "place", "victims", "perpetrator", "source")


@dataclass(slots=True)
class Segment:
    text: str
    kinds: list[str] = field(default_factory=list)
    facts: list[int] = field(default_factory=list)

    @property
    def css(self) -> str:
        return " ".join(f"k-{k}" for k in dict.fromkeys(self.kinds))


def segments(text: str, facts: Sequence[dict[str, Any]]) -> list[Segment]:
    """The text cut at every evidence boundary; each piece knows the facts (and kinds) covering it.

    Rejected facts are not highlighted. The pieces join back to exactly `text`, so offsets
    computed in the browser match the ledger's.
    """
    spans = []
    for f in facts:
        ev = f.get("evidence")
        if f.get("status") == "rejected" or not ev:
            continue
        s, e = int(ev["start"]), int(ev["end"])
        if 0 <= s < e <= len(text):
            spans.append((s, e, f["kind"], f["id"]))
    cuts = sorted({0, len(text), *(s for s, *_ in spans), *(e for _, e, *_ in spans)})
    out: list[Segment] = []
    for a, b in zip(cuts, cuts[1:]):
        covering = [(k, i) for s, e, k, i in spans if s <= a and b <= e]
        out.append(Segment(text[a:b], [k for k, _ in covering], [i for _, i in covering]))
    return out


def date_label(start: Any, end: Any, precision: str) -> str:
    """A date as precise as it is known: a month-precision date is shown as that month."""
    if not start:
        return "date unknown"
    s = date.fromisoformat(start) if isinstance(start, str) else start
    e = (date.fromisoformat(end) if isinstance(end, str) else end) if end else s
    if precision == "month":
        return s.strftime("%B %Y")
    if precision == "year":
        return str(s.year)
    if precision == "range" or e != s:
        return f"{s.isoformat()} – {e.isoformat()}"
    return s.isoformat()


def fact_label(kind: str, v: dict[str, Any]) -> str:
    if kind == "type":
        return str(v.get("code", "?")).replace("_", " ")
    if kind == "date":
        return date_label(v.get("start"), v.get("end"), v.get("precision") or "unknown")
    if kind == "place":
        within = ", ".join(str(x) for x in (v.get("county"), v.get("province")) if x and x != v.get("name"))
        return f"{v.get('name')} ({v.get('role', 'site')}, {v.get('level')}{'; ' + within if within else ''})"
    if kind == "victims":
        count = "?" if v.get("count") is None else ("~" if v.get("approximate") else "") + str(v["count"])
        return f"{count} {v.get('unit', '')}"
    if kind == "perpetrator":
        return f"{v.get('name')} ({v.get('kind')})"
    if kind == "source":
        return f"{v.get('description') or v.get('name')} ({v.get('kind')})"
    return str(v)


# -- timeline ---------------------------------------------------------------------------------
@dataclass(slots=True)
class Bar:
    id: str
    case: bool
    document_id: str
    x: float
    width: float
    y: float
    type: str
    label: str
    precision: str


@dataclass(slots=True)
class Timeline:
    width: float
    height: float
    rows: list[tuple[str, float]]
    ticks: list[tuple[float, str]]
    bars: list[Bar]


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _month_end(d: date) -> date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def timeline(items: Sequence[dict[str, Any]], width: float = 1000, row_height: float = 28,
             left: float = 170) -> Timeline:
    """Bars per case on a month axis, one row per violation type.

    A month-precision date spans its whole month, a year-precision one its whole year, a day a
    thin bar: the drawing never claims more precision than the source gave.
    """
    if not items:
        return Timeline(width, row_height * 2, [], [], [])
    starts = [date.fromisoformat(i["start"]) for i in items]
    ends = [date.fromisoformat(i["end"]) for i in items]
    lo, hi = _month_start(min(starts)), _month_end(max(ends))
    days = max((hi - lo).days + 1, 31)
    scale = (width - left - 10) / days
    types = sorted({(i["types"] or ["unknown"])[0] for i in items})
    row_of = {t: n for n, t in enumerate(types)}
    bars = []
    for i, s, e in zip(items, starts, ends):
        t = (i["types"] or ["unknown"])[0]
        x = left + (s - lo).days * scale
        w = max(((e - s).days + 1) * scale, 3.0)
        bars.append(Bar(i["id"], i["case"], i["document_id"], round(x, 1), round(w, 1),
                        row_of[t] * row_height + 4, t, date_label(i["start"], i["end"], i["precision"]),
                        i["precision"]))
    ticks, d = [], lo
    step = 1 if days <= 400 else 3 if days <= 1200 else 12
    while d <= hi:
        ticks.append((round(left + (d - lo).days * scale, 1), d.strftime("%b %Y")))
        month = d.month - 1 + step
        d = date(d.year + month // 12, month % 12 + 1, 1)
    return Timeline(width, len(types) * row_height + 30, [(t.replace("_", " "), row_of[t] * row_height + 18)
                                                           for t in types], ticks, bars)

