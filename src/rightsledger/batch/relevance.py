"""Relevance filter: keep only reports that mention one of a list of names, before extraction.

A general news crawl is mostly about something else; extraction is the expensive step, so a
cheap whole-word match on the clean text decides first. The matched term is kept with the
document (explainable), and items filtered out are counted, never silently dropped.
Lists are data: the packaged ones live in data/relevance/<name>.toml; a user gives a TOML file of
the same shape or a text file with one term per line (# starts a comment).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rightsledger.errors import ConfigError
from rightsledger.resources import data_file, load_toml

__all__ = ["RelevanceFilter", "load_filter", "packaged_filters"]


def packaged_filters() -> list[str]:
    """Names of the lists shipped with RightsLedger (for --filter NAME)."""
    return sorted(p.name.removesuffix(".toml") for p in data_file("relevance").iterdir() if p.name.endswith(".toml"))


def _pattern(term: str) -> str:
    """Whole words for Latin-script edges; Hangul and other scripts attach particles, so no edge."""
    body = re.escape(term).replace(r"\ ", r"[\s\-]+")
    left = r"(?<![\w])" if term[:1].isascii() and term[:1].isalnum() else ""
    right = r"(?![\w])" if term[-1:].isascii() and term[-1:].isalnum() else ""
    return left + body + right


@dataclass(frozen=True)
class RelevanceFilter:
    """A named list of terms; `match(text)` is the first term found, or None."""

    name: str
    terms: tuple[str, ...]
    _compiled: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def digest(self) -> str:
        """Identifies the list's content (a changed list means earlier results are not comparable)."""
        return hashlib.sha256("\n".join(self.terms).encode("utf-8")).hexdigest()[:16]

    def _regexes(self) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
        if "re" not in self._compiled:  # built lazily: the filter travels to workers unpickled-light
            exact = [t for t in self.terms if t.isupper()]  # acronyms: DPRK, KPA
            folded = [t for t in self.terms if t not in exact]

            def build(terms: list[str], flags: int) -> re.Pattern[str] | None:
                longest_first = sorted(terms, key=len, reverse=True)
                return re.compile("|".join(_pattern(t) for t in longest_first), flags) if terms else None

            self._compiled["re"] = (build(exact, 0), build(folded, re.IGNORECASE))
        return self._compiled["re"]

    def match(self, *texts: str | None) -> str | None:
        for text in texts:
            if not text:
                continue
            for regex in self._regexes():
                if regex is not None and (m := regex.search(text)):
                    return m.group(0)
        return None

    def __getstate__(self) -> dict[str, Any]:
        return {"name": self.name, "terms": self.terms}

    def __setstate__(self, state: dict[str, Any]) -> None:
        object.__setattr__(self, "name", state["name"])
        object.__setattr__(self, "terms", state["terms"])
        object.__setattr__(self, "_compiled", {})


def _terms_from_toml(data: dict[str, Any], source: str) -> list[str]:
    raw = data.get("terms")
    groups = raw.values() if isinstance(raw, dict) else [raw]
    terms: list[str] = []
    for group in groups:
        if not isinstance(group, list) or not all(isinstance(t, str) for t in group):
            raise ConfigError(f"{source}: `terms` must be a list of strings or tables of lists of strings",
                              hint='write terms = ["North Korea", "Pyongyang"] or [terms] places = [...]')
        terms += group
    return terms


def load_filter(spec: str | Path) -> RelevanceFilter:
    """A packaged list by name ("north-korea") or a user file (.toml, or one term per line)."""
    text = str(spec)
    if text in packaged_filters():
        data = load_toml(data_file("relevance", f"{text}.toml"))
        name, terms = str(data.get("name") or text), _terms_from_toml(data, text)
    else:
        path = Path(text)
        if not path.is_file():
            raise ConfigError(f"no relevance list {text!r}: not a packaged list nor a file",
                              hint=f"use one of {', '.join(packaged_filters())} or a file with one term per line")
        if path.suffix.lower() == ".toml":
            data = load_toml(path)
            name, terms = str(data.get("name") or path.stem), _terms_from_toml(data, str(path))
        else:
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"cannot read the relevance list {path}: {exc}", hint="give a UTF-8 text file") from None
            name, terms = path.stem, [ln.split("#", 1)[0] for ln in lines]
    cleaned = tuple(dict.fromkeys(" ".join(t.split()) for t in terms if t.strip()))
    if not cleaned:
        raise ConfigError(f"the relevance list {text!r} has no terms", hint="add one name or keyword per line")
    return RelevanceFilter(name, cleaned)
