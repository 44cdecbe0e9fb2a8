"""Document metadata found in the text itself: a publication dateline, the language, a title.

Each guess is conservative: a dateline is taken only when the top of the report names exactly
one date in a dateline position, so an event date in the first sentence is never mistaken for
the publication date.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

__all__ = ["find_dateline", "guess_title", "identify_language"]

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
_MONTH = r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DATE_PATTERNS = (
    # July 12, 2020 / Jul. 12th 2020
    re.compile(rf"\b{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<year>(?:19|20)\d\d)\b", re.IGNORECASE),
    # 12 July 2020
    re.compile(rf"\b(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH},?\s+(?P<year>(?:19|20)\d\d)\b", re.IGNORECASE),
    # 2020-07-12, 2020/07/12, 2020.07.12 (year first is unambiguous)
    re.compile(r"\b(?P<year>(?:19|20)\d\d)(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})\b"),
    # 2020년 7월 12일
    re.compile(r"(?P<year>(?:19|20)\d\d)\s*년\s*(?P<month>\d{1,2})\s*월\s*(?P<day>\d{1,2})\s*일"),
)
# A line that is a dateline: short, or labelled, or opening with a place name in capitals.
_LABEL = re.compile(r"^\s*(?:published|posted|date|updated|last updated|first published|released)\b\s*(?:on|:)?", re.IGNORECASE)
_UPDATED = re.compile(r"\s*(?:last )?(?:updated|modified|edited)\b", re.IGNORECASE)
_PLACE_OPENING = re.compile(r"^\s*[A-Z][A-Z .'-]{2,40},\s")
TOP_LINES = 8
SHORT_LINE = 100
MIN_LETTERS_FOR_LANGUAGE = 20
MIN_LANGUAGE_PROBABILITY = 0.5


def _dates_in(line: str) -> list[date]:
    found: list[date] = []
    for rx in _DATE_PATTERNS:
        for m in rx.finditer(line):
            g = m.groupdict()
            month = _MONTHS[g["mon"].lower().rstrip(".")] if g.get("mon") else int(g["month"])
            try:
                d = date(int(g["year"]), month, int(g["day"]))
            except ValueError:
                continue
            if d <= date.today().replace(year=date.today().year + 1):
                found.append(d)
    return found


def find_dateline(text: str) -> date | None:
    """The publication date stated at the top of a report, if exactly one is stated there."""
    lines = [ln for ln in (raw.strip() for raw in text[:3000].splitlines()) if ln][:TOP_LINES]
    labelled: set[date] = set()
    plain: set[date] = set()
    for line in lines:
        if _LABEL.match(line) and not _UPDATED.match(line):
            labelled.update(_dates_in(_UPDATED.split(line, 1)[0]))  # "Published … | Updated …"
        elif len(line) <= SHORT_LINE or _PLACE_OPENING.match(line):
            head = line if len(line) <= SHORT_LINE else line[:60]
            plain.update(_dates_in(head))
    if len(labelled) == 1:
        return next(iter(labelled))
    if not labelled and len(plain) == 1:
        return next(iter(plain))
    return None


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _has_letters(text: str, n: int) -> bool:
    """At least `n` letters in `text`, stopping as soon as they are found (every report is asked)."""
    for ch in text:
        if ch.isalpha():
            n -= 1
            if n <= 0:
                return True
    return n <= 0


def identify_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language (offline model), or None when unsure or too short."""
    sample = text[:10_000]
    if not _has_letters(sample, MIN_LETTERS_FOR_LANGUAGE):
        return None
    lang, prob = _identifier().classify(sample)
    if not lang or lang == "zxx" or prob < MIN_LANGUAGE_PROBABILITY:
        return None
    return str(lang)


def guess_title(text: str) -> str | None:
    """A plain-text report's first line, when it reads like a headline (short, no full stop)."""
    first, _, rest = text.strip().partition("\n")
    first = first.strip()
    if not first or not rest.strip() or len(first) > 200 or first.endswith((".", ":", ",", ";")):
        return None
    if sum(ch.isalpha() for ch in first) < 3:
        return None
    return first
