"""Turning what an analyst types into search filters.

"forced repatriation in 2023" means incidents of that type in that year, not documents that
happen to contain the words "in" and "2023": years and violation-type names in the query become
facets, the remaining words go to full-text search. Facet parameters (`type=…&province=…`) add to
whatever the query implied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from rightsledger.ledger import SearchFilters
from rightsledger.model import VIOLATION_TYPES

__all__ = ["ParsedQuery", "parse_query", "filters_from", "FACET_PARAMS"]

STOPWORDS = frozenset("a an and the in on of at to for from by with about during since".split())
_YEAR = re.compile(r"\b(19[5-9]\d|20\d\d)\b")
# Longest names first so "forced repatriation" wins over a shorter overlapping name.
_TYPE_NAMES = sorted(((code.replace("_", " "), code) for code in VIOLATION_TYPES), key=lambda p: -len(p[0]))

# URL parameter -> SearchFilters field (each may repeat).
FACET_PARAMS = {"type": "types", "province": "provinces", "county": "counties", "status": "statuses",
                "outlet": "outlets", "corroboration": "corroboration", "modality": "modalities", "case": "case_ids"}


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    text: str
    types: tuple[str, ...] = ()
    years: tuple[int, ...] = ()


def parse_query(query: str) -> ParsedQuery:
    """Split a free-text query into type names, years and the words left for full-text search."""
    rest = " " + query.strip()[:500] + " "
    types: list[str] = []
    for name, code in _TYPE_NAMES:
        pattern = re.compile(r"(?<![\w\"])" + re.escape(name) + r"(?![\w\"])", re.IGNORECASE)
        if pattern.search(rest):
            types.append(code)
            rest = pattern.sub(" ", rest)
    years = tuple(sorted({int(y) for y in _YEAR.findall(rest)}))
    rest = _YEAR.sub(" ", rest)
    words = [w for w in re.findall(r'"[^"]*"|\S+', rest) if w.lower() not in STOPWORDS]
    return ParsedQuery(" ".join(words), tuple(types), years)


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def filters_from(params: Mapping[str, Sequence[str]]) -> tuple[SearchFilters, ParsedQuery]:
    """Filters from URL parameters: `q`, the facets in FACET_PARAMS, `from` and `to` (YYYY-MM-DD)."""
    q = (params.get("q") or [""])[0]
    parsed = parse_query(q)
    values: dict[str, tuple[str, ...]] = {}
    for param, field_name in FACET_PARAMS.items():
        picked = [v[:200] for v in params.get(param, []) if v]
        values[field_name] = tuple(dict.fromkeys(picked))
    types = tuple(dict.fromkeys(values.pop("types") + parsed.types))
    date_from = _date((params.get("from") or [""])[0])
    date_to = _date((params.get("to") or [""])[0])
    if parsed.years:
        date_from = date_from or date(min(parsed.years), 1, 1)
        date_to = date_to or date(max(parsed.years), 12, 31)
    filters = SearchFilters(text=parsed.text, types=types, date_from=date_from, date_to=date_to, **values)
    return filters, parsed


def without(filters: SearchFilters, **changes: object) -> SearchFilters:
    return replace(filters, **changes)  # type: ignore[arg-type]
