"""Near spellings: which gazetteer place a misspelt or oddly romanised name most likely is.

Reports misspell places ("Haesan City" for Hyesan, "the city of Qingdiao" for Qingdao). The
geoparser asks here only about the few names it already knows to be places (an administrative
suffix, "the city of X", "in X, <province or country>") and could not resolve; never about
ordinary words or people. A name matches a gazetteer name of the same country within a small
edit distance of its key (the Korean spelling key for Korean places, the folded name elsewhere),
so the cost is one C-level scan over one country's names per unresolved name.

The name lists are built per country on first use (one pass over the index, about 30 ms, then
the keys of that country's names) from the canonical names of the North Korea pack, regions and
user places, and of GeoNames towns big enough to be reported on.
"""

from __future__ import annotations

from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import extract

from rightsledger.gazetteer import index as _ix
from rightsledger.gazetteer.normalise import fold, korean_key, split_suffix

__all__ = ["NearSpellings", "MIN_LETTERS", "edits_allowed"]

MIN_LETTERS = 6  # shorter names have too many neighbours one letter away to guess among
MIN_POPULATION = 15_000  # GeoNames towns smaller than this are not guessed at from a misspelling
KOREAN = frozenset({"KP", "KR"})


def edits_allowed(key: str) -> int:
    """One edit for names of six letters or more, none below: "Haesan" ~ "Hyesan", never "Musan" ~ "Musal"."""
    return 1 if len(key.replace(" ", "")) >= MIN_LETTERS else 0


def key_of(name: str, country: str | None) -> str:
    base = split_suffix(name)[0]
    return korean_key(base) if country in KOREAN else fold(base).replace(" ", "")


class NearSpellings:
    """Per-country lists of (name key, entry number); see the module docstring."""

    def __init__(self, idx: _ix.Index) -> None:
        self._idx = idx
        self._rows: dict[str, list[int]] | None = None  # country -> entry numbers worth guessing at
        self._lists: dict[str, tuple[list[str], list[int]]] = {}  # country -> (keys, entry numbers)

    def _rows_by_country(self) -> dict[str, list[int]]:
        if self._rows is None:
            rows: dict[str, list[int]] = {}
            for n, e in self._idx.entries():
                if e[_ix.COUNTRY] and e[_ix.LEVEL] != "country":
                    rows.setdefault(e[_ix.COUNTRY], []).append(n)
            towns = self._idx.towns
            cc, pop, base = bytes(towns.cc), towns.pop, towns.base
            for i in range(len(towns)):
                if pop[i] >= MIN_POPULATION:
                    rows.setdefault(cc[2 * i:2 * i + 2].decode("ascii"), []).append(base + i)
            self._rows = rows
        return self._rows

    def _list(self, cc: str) -> tuple[list[str], list[int]]:
        hit = self._lists.get(cc)
        if hit is None:
            keys: list[str] = []
            nums: list[int] = []
            for n in self._rows_by_country().get(cc, ()):
                k = key_of(self._idx.entry(n)[_ix.NAME], cc)
                if k:
                    keys.append(k)
                    nums.append(n)
            hit = self._lists[cc] = (keys, nums)
        return hit

    def find(self, name: str, countries: list[str]) -> list[tuple[int, int]]:
        """(entry number, edits) of names within the allowed edits of `name`, in the given countries."""
        found: list[tuple[int, int]] = []
        for cc in countries:
            keys, nums = self._list(cc)
            q = key_of(name, cc)
            limit = edits_allowed(q)
            if not limit or not keys:
                continue
            for _, d, i in extract(q, keys, scorer=Levenshtein.distance, score_cutoff=limit, limit=None):
                found.append((nums[i], int(d)))
        return found
