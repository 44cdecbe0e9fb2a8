"""Date expressions in clean text, resolved against the publication date (component dates.v1).

Reports date incidents relative to when they were written ("on the 17th", "in June", "late
last year"). Each expression is resolved against `published` only, never the current date;
without a publication date an expression whose year cannot be known gets precision "unknown"
and no start/end, rather than a guess. The rules are regex templates in
data/lexicons/dates.toml, compiled once; the resolvers below turn their named groups into dates.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from rightsledger.errors import DataFileError
from rightsledger.extract.lexicon import WordAnchors, WordStartRegex, alternation, lexicon, longest_first, template
from rightsledger.extract.numbers import number_pattern, parse_number
from rightsledger.model import DateValue, Span, Why

__all__ = ["COMPONENT", "DateMention", "find_dates"]

COMPONENT = "dates.v1"
log = logging.getLogger(__name__)


@dataclass(slots=True)
class DateMention:
    span: Span
    value: DateValue  # start/end/precision/text; value.evidence is `span`
    relative: bool  # resolved against (or needing) the publication date


@dataclass(frozen=True, slots=True)
class _Rule:
    id: str
    regex: WordStartRegex  # tried only where its first words stand, when they are known
    resolve: str
    anchor: str



@dataclass(frozen=True, slots=True)
class _Vocab:
    months: dict[str, int]  # lower-case name or abbreviation -> month number
    weekdays: dict[str, int]  # lower-case -> 0 (Monday) .. 6
    seasons: dict[str, tuple[int, int]]
    parts: dict[str, str]


# (start, end, precision, explanation); None when the expression cannot be a date.
_Resolved = tuple[date | None, date | None, str, str]


@lru_cache(maxsize=1)
def _compiled() -> tuple[_Vocab, tuple[_Rule, ...], WordAnchors]:
    lex = lexicon("dates")
    voc = lex.get("vocabulary", {})
    months: dict[str, int] = {}
    full: list[str] = []
    abbr: list[str] = []
    for i, names in enumerate(voc.get("months", []), start=1):
        for j, name in enumerate(names):
            months[name.lower()] = i
            (full if j == 0 else abbr).append(name)
    if len(set(months.values())) != 12:
        raise DataFileError("dates lexicon: [vocabulary] months must name all twelve months", hint="see data/lexicons/dates.toml")
    weekdays = {w.lower(): i for i, w in enumerate(voc.get("weekdays", []))}
    seasons = {k.lower(): (int(v[0]), int(v[1])) for k, v in voc.get("seasons", {}).items()}
    parts = {k.lower(): str(v) for k, v in voc.get("parts", {}).items()}

    def cased(words: list[str]) -> str:  # month names are capitalised (or all caps) to be months
        return "(?-i:" + alternation([*words, *(w.upper() for w in words)]) + ")"

    frags: dict[str, str] = {
        "month_full": cased(full),
        "month_abbr": cased(abbr),
        "month": "(?:" + cased(full) + "|" + cased(abbr) + r"(?:\.|(?=\s{1,3}\d)))",
        "weekday": alternation(voc.get("weekdays", [])),
        "season": alternation(seasons),
        "part": alternation(parts),
        "number": number_pattern(),
        "not_after_ordinal": alternation(voc.get("not_after_ordinal", [])),
    }
    # Fragments may refer to each other in file order.
    for name, raw in lex.get("fragments", {}).items():
        frags[name] = "(?:" + template(raw, frags, f"dates lexicon fragment {name}") + ")"
    anchors = _anchors(lex.get("anchors", {}), voc)
    rules: list[_Rule] = []
    for entry in lex.get("pattern", []):
        rid, resolve = entry.get("id"), entry.get("resolve")
        if entry.get("anchor") not in anchors.windows:
            raise DataFileError(f"dates lexicon: pattern {rid!r} needs an `anchor` from [anchors]", hint=f"use one of {', '.join(anchors.windows)}")
        if resolve not in _RESOLVERS:
            raise DataFileError(f"dates lexicon: pattern {rid!r} has unknown resolver {resolve!r}", hint=f"use one of {', '.join(_RESOLVERS)}")
        try:
            rx = re.compile(template(entry["regex"], frags, f"dates lexicon pattern {rid}"), re.IGNORECASE)
        except re.error as exc:
            raise DataFileError(f"dates lexicon: pattern {rid!r} does not compile: {exc}", hint="fix the regex") from exc
        rules.append(_Rule(rid, WordStartRegex.of(rx), resolve, entry["anchor"]))
    return _Vocab(months, weekdays, seasons, parts), tuple(rules), anchors


def _anchors(table: dict[str, Any], voc: dict[str, Any]) -> WordAnchors:
    words: dict[str, list[str]] = {}
    cased: set[str] = set()
    digits: list[str] = []
    windows: dict[str, tuple[int, int]] = {}
    for name, spec in table.items():
        windows[name] = (int(spec["window"][0]), int(spec["window"][1]))
        if spec.get("digits"):
            digits.append(name)
        listed = list(spec.get("words", []))
        source = voc.get(spec["vocabulary"], []) if "vocabulary" in spec else []
        if spec.get("vocabulary") == "months":
            cased.add(name)
            listed += [w for names in source for w in names]
        else:
            listed += list(source)
        for w in listed:
            words.setdefault(w.lower(), []).append(name)
    return WordAnchors({k: tuple(v) for k, v in words.items()}, frozenset(cased), tuple(digits), windows)


def find_dates(text: str, published: date | None) -> list[DateMention]:
    """Date expressions in text order, without overlaps (the longest match wins)."""
    vocab, rules, anchors = _compiled()
    windows = anchors.find(text)
    found: list[tuple[int, int, int, _Rule, re.Match[str]]] = []
    for order, rule in enumerate(rules):
        for m in rule.regex.finditer_windows(text, windows[rule.anchor]):
            if m.end() > m.start():
                found.append((m.start(), -(m.end() - m.start()), order, rule, m))
    found.sort(key=lambda f: (f[0], f[1], f[2]))
    best: dict[tuple[int, int], tuple[_Rule, re.Match[str]]] = {}
    for start, neg, _order, rule, m in found:
        best.setdefault((start, start - neg), (rule, m))  # the earlier rule wins a tie
    out: list[DateMention] = []
    for span in longest_first(best):
        rule, m = best[span]
        mention = _mention(text, m, rule, vocab, published)
        if mention is not None:
            out.append(mention)
    return out


def _mention(text: str, m: re.Match[str], rule: _Rule, vocab: _Vocab, published: date | None) -> DateMention | None:
    g = {k: v for k, v in m.groupdict().items() if v is not None}
    try:
        resolved, relative = _RESOLVERS[rule.resolve](g, vocab, published)
    except (ValueError, OverflowError):  # impossible dates ("February 30")
        return None
    if resolved is None:
        return None
    start, end, precision, how = resolved
    span = Span(m.start(), m.end(), text[m.start() : m.end()])
    if precision != "unknown" and (start is None or end is None):
        precision = "unknown"
    if precision == "unknown":
        start = end = None
    detail = how if not relative or published is None else f"{how}; resolved against publication date {published.isoformat()}"
    why = Why(COMPONENT, rule.id, detail)
    return DateMention(span, DateValue(start, end, precision, span.text, span, why), relative)


# ---------------------------------------------------------------- resolvers ---


def _last_day(y: int, mo: int) -> date:
    return date(y, mo, calendar.monthrange(y, mo)[1])


def _month_value(y: int, mo: int, part: str | None = None) -> tuple[date, date, str]:
    return date(y, mo, 1), _last_day(y, mo), "month"


def _year_of(ref: str | None, published: date | None) -> tuple[int | None, bool]:
    """The year a year reference names, and whether it needed the publication date."""
    if not ref:
        return None, True
    ref_l = " ".join(ref.lower().split())
    if ref_l[:1].isdigit():
        return int(ref_l[:4]), False
    if published is None:
        return None, True
    if ref_l.startswith(("last", "the previous", "the past")):
        return published.year - 1, True
    if ref_l.startswith("next"):
        return published.year + 1, True
    return published.year, True


def _latest_year(mo: int, d: int, published: date) -> int:
    """The year of the latest (month, day) not after publication."""
    return published.year if (mo, d) <= (published.month, published.day) else published.year - 1


def _month_num(g: dict[str, str], key: str, vocab: _Vocab) -> int:
    if key == "m" and "m_num" in g:
        return int(g["m_num"])
    return vocab.months[g[key].lower().rstrip(".")]


_DIGITS = re.compile(r"\d+")


def _day(s: str) -> int:
    return int(_DIGITS.match(s).group(0))  # type: ignore[union-attr]


def _r_ymd(g: dict[str, str], vocab: _Vocab, published: date | None) -> tuple[_Resolved | None, bool]:
    mo = _month_num(g, "m", vocab)
    d = _day(g["d"])
    days = [d, *(int(x) for x in _DIGITS.findall(g.get("more", "")))]
    y, relative = _year_of(g.get("y"), published)
    if y is None and published is not None and "y" not in g:
        y = _latest_year(mo, d, published)
    if y is None:
        return (None, None, "unknown", "day and month without a year or publication date"), True
    start = date(y, mo, min(days))
    end = date(y, mo, max(days))
    if end < start or max(days) - min(days) > 31:
        return None, relative
    precision = "day" if start == end else "range"
    how = "day" if precision == "day" else "days of one month"
    if relative and "y" not in g:
        how += ", latest such date not after publication"
    return (start, end, precision, how), relative


def _r_day_only(g: dict[str, str], vocab: _Vocab, published: date | None) -> tuple[_Resolved | None, bool]:
    d1 = _day(g["d"])
    d2 = _day(g["d2"]) if "d2" in g else d1
    if published is None:
        return (None, None, "unknown", "day of an unnamed month needs the publication date"), True
    if "rel" in g and not g["rel"].lower().startswith(("this", "the same")):
        ref = published.replace(day=1) - timedelta(days=1) if not g["rel"].lower().startswith("next") else _last_day(published.year, published.month) + timedelta(days=1)
        how = "day of the month before publication" if ref < published else "day of the month after publication"
    elif "rel" in g or d1 <= published.day:
        ref, how = published, "day of the publication month"
    else:
        ref, how = published.replace(day=1) - timedelta(days=1), "day of the month before publication (later than the publication day)"
    start, end = date(ref.year, ref.month, d1), date(ref.year, ref.month, max(d1, d2))
    return (start, end, "day" if start == end else "range", how), True


def _r_month(g: dict[str, str], vocab: _Vocab, published: date | None) -> tuple[_Resolved | None, bool]:
    mo = _month_num(g, "m", vocab)
    y, relative = _year_of(g.get("y"), published)
    part = vocab.parts.get(" ".join(g.get("part", "").lower().split())) if "part" in g else None
    how = "month" + (f" ({part} part)" if part else "")
    if y is None:
        if published is None:
            return (None, None, "unknown", "month without a year or publication date"), True
        y = published.year if mo <= published.month else published.year - 1
        how += ", latest such month not after publication"
    start, end, precision = _month_value(y, mo)
    return (start, end, precision, how), relative


def _r_month_range(g: dict[str, str], vocab: _Vocab, published: date | None) -> tuple[_Resolved | None, bool]:
    m1, m2 = _month_num(g, "m1", vocab), _month_num(g, "m2", vocab)
    y2, relative = _year_of(g.get("y"), published)
    y1 = int(g["y1"]) if "y1" in g else None
    if y2 is None and published is not None:
        y2 = published.year if m2 <= published.month else published.year - 1
    if y2 is None:
        return (None, None, "unknown", "months without a year or publication date"), True
    if y1 is None:
        y1 = y2 if m1 <= m2 else y2 - 1
    return (date(y1, m1, 1), _last_day(y2, m2), "range", "from the first month to the end of the last"), relative


def _r_season(g: dict[str, str], vocab: _Vocab, published: date | None) -> tuple[_Resolved | None, bool]:
    name = (g.get("s") or g.get("s2", "")).lower()
    first, last = vocab.seasons[name]
    rel = g.get("rel", "").lower()
    y, relative = _year_of(g.get("y") or g.get("y2"), published)
    if y is None:
        if published is None:
            return (None, None, "unknown", "season without a year or publication date"), True
        y = published.year
        if rel.startswith(("last", "the previous", "the past", "past", "previous")):
            # the latest such season that ended before publication
            end_year = y + (1 if last < first else 0)
            if _last_day(end_year, last) >= published:
                y -= 1
        elif rel.startswith("next"):
            y += 1
    end_year = y + 1 if last < first else y
    return (date(y, first, 1), _last_day(end_year, last), "range", f"{name} as months {first}-{last}"), True if not g.get("y") and not g.get("y2") else relative


def _r_rel_month(g: dict[str, str], vocab: _Vocab, published: date | None) -> tuple[_Resolved | None, bool]:
    if published is None:
        return (None, None, "unknown", "relative month needs the publication date"), True
    rel = g["rel"].lower()
    if rel.startswith(("last", "the previous", "the past", "past", "previous")):
        ref = published.replace(day=1) - timedelta(days=1)
    elif rel.startswith("next"):
        ref = _last_day(published.year, published.month) + timedelta(days=1)
    else:
        ref = published
    start, end, precision = _month_value(ref.year, ref.month)
    part = vocab.parts.get(" ".join(g.get("part", "").lower().split())) if "part" in g else None
    if rel.startswith("this") and part == "earlier":
        end = published
    return (start, end, precision, "month relative to publication" + (f" ({part} part)" if part else "")), True


def _r_rel_year(g: dict[str, str], vocab: _Vocab, published: date | None) -> tuple[_Resolved | None, bool]:
    if published is None:
        return (None, None, "unknown", "relative year needs the publication date"), True
    y, _ = _year_of(g["rel"] + " year", published)
    assert y is not None
    part = vocab.parts.get(" ".join(g.get("part", "").lower().split())) if "part" in g else None
    if part == "end":
        return (date(y, 12, 1), date(y, 12, 31), "month", "end of a year relative to publication: its last month"), True
    if part == "early" and "begin" in g.get("part", "").lower() or "start" in g.get("part", "").lower():
        return (date(y, 1, 1), date(y, 1, 31), "month", "beginning of a year relative to publication: its first month"), True
    end = published if (part == "earlier" and y == published.year) else date(y, 12, 31)
    return (date(y, 1, 1), end, "year", "year relative to publication" + (f" ({part} part)" if part else "")), True


def _r_rel_week(g: dict[str, str], vocab: _Vocab, published: date | None) -> tuple[_Resolved | None, bool]:
    if published is None:
        return (None, None, "unknown", "relative week needs the publication date"), True
    rel = g["rel"].lower()
    monday = published - timedelta(days=published.weekday())
    if rel.startswith(("last", "the previous", "the past", "past", "previous")):
        monday -= timedelta(days=7)
    elif rel.startswith("next"):
        monday += timedelta(days=7)
    return (monday, monday + timedelta(days=6), "range", "calendar week relative to publication"), True


def _r_weekday(g: dict[str, str], vocab: _Vocab, published: date | None) -> tuple[_Resolved | None, bool]:
    if published is None:
        return (None, None, "unknown", "weekday needs the publication date"), True
    wd = vocab.weekdays[g["wd"].lower()]
    rel = g.get("rel", "").lower()
    if rel.startswith("next"):
        delta = (wd - published.weekday()) % 7 or 7
        day = published + timedelta(days=delta)
    else:
        back = (published.weekday() - wd) % 7
        if rel.startswith("last") and back == 0:
            back = 7
        day = published - timedelta(days=back)
    return (day, day, "day", "weekday nearest before publication"), True


def _r_deictic(g: dict[str, str], vocab: _Vocab, published: date | None) -> tuple[_Resolved | None, bool]:
    if published is None:
        return (None, None, "unknown", "needs the publication date"), True
    word = " ".join(g["word"].lower().split())
    back = {"today": 0, "yesterday": 1}.get(word, 2)
    day = published - timedelta(days=back)
    return (day, day, "day", f"{word} relative to publication"), True


def _r_ago(g: dict[str, str], vocab: _Vocab, published: date | None) -> tuple[_Resolved | None, bool]:
    n_text = g["n"].lower()
    n = 1 if n_text in ("a", "an", "one") else parse_number(n_text)
    if n is None or n > 200:
        return None, True
    if published is None:
        return (None, None, "unknown", "needs the publication date"), True
    unit = g["u"].lower().rstrip("s")
    if unit == "day":
        day = published - timedelta(days=n)
        return (day, day, "day", f"{n} days before publication"), True
    if unit == "week":
        day = published - timedelta(days=7 * n)
        monday = day - timedelta(days=day.weekday())
        return (monday, monday + timedelta(days=6), "range", f"{n} weeks before publication"), True
    if unit == "month":
        total = published.year * 12 + published.month - 1 - n
        y, mo = divmod(total, 12)
        start, end, precision = _month_value(y, mo + 1)
        return (start, end, precision, f"{n} months before publication"), True
    y = published.year - n
    return (date(y, 1, 1), date(y, 12, 31), "year", f"{n} years before publication"), True


def _r_year(g: dict[str, str], vocab: _Vocab, published: date | None) -> tuple[_Resolved | None, bool]:
    y = int(g["y"])
    part = vocab.parts.get(" ".join(g.get("part", "").lower().split())) if "part" in g else None
    if part == "end":
        return (date(y, 12, 1), date(y, 12, 31), "month", "end of a year: its last month"), False
    return (date(y, 1, 1), date(y, 12, 31), "year", "year" + (f" ({part} part)" if part else "")), False


def _r_year_range(g: dict[str, str], vocab: _Vocab, published: date | None) -> tuple[_Resolved | None, bool]:
    y1 = int(g.get("y1") or g["y3"])
    raw2 = g.get("y2") or g["y4"]
    y2 = int(raw2) if len(raw2) == 4 else (y1 // 100) * 100 + int(raw2)
    if y2 <= y1 or y2 - y1 > 60:
        return None, False
    return (date(y1, 1, 1), date(y2, 12, 31), "range", "from the first year to the end of the last"), False


def _r_decade(g: dict[str, str], vocab: _Vocab, published: date | None) -> tuple[_Resolved | None, bool]:
    y = int(g["dec"])
    return (date(y, 1, 1), date(y + 9, 12, 31), "range", "decade"), False


_RESOLVERS: dict[str, Callable[[dict[str, str], _Vocab, date | None], tuple[_Resolved | None, bool]]] = {
    "ymd": _r_ymd,
    "day_only": _r_day_only,
    "month": _r_month,
    "month_range": _r_month_range,
    "season": _r_season,
    "rel_month": _r_rel_month,
    "rel_year": _r_rel_year,
    "rel_week": _r_rel_week,
    "weekday": _r_weekday,
    "deictic": _r_deictic,
    "ago": _r_ago,
    "year": _r_year,
    "year_range": _r_year_range,
    "decade": _r_decade,
}

