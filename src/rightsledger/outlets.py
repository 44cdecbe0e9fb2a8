"""Outlet registry: web domains and names as written in reports -> canonical outlets.

The registry lives in data/outlets.toml (format described at the top of that file); a user
file in the same format adds outlets or overrides packaged ones. Lookups are forgiving about
how a name is written ("the JoongAng Ilbo", "RFA's", "(AFP)") but never guess between two
outlets: a name that could mean either is refused when the registry is loaded.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rightsledger.errors import DataFileError
from rightsledger.resources import data_file, load_toml

__all__ = ["OUTLET_KINDS", "Outlet", "OutletRegistry", "load_outlets", "name_key", "outlet_for_url", "registered_domain"]

log = logging.getLogger(__name__)

OUTLET_KINDS = ("news", "agency", "broadcaster", "state_media", "ngo", "government", "aggregator", "blog")

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_POSSESSIVE = re.compile(r"(?<=\w)'s\b|(?<=s)'(?=\s|$)")
_NON_WORD = re.compile(r"[\W_]+")
_HOST = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+|\[?[0-9a-f:.]+\]?")


def name_key(name: str) -> str:
    """The form names are compared in: casefolded, no punctuation, possessives or leading "the".

    >>> name_key("RFA's Korean Service") == name_key("rfa korean service")
    True
    """
    s = unicodedata.normalize("NFKC", name).translate(_APOSTROPHES).casefold()
    s = _POSSESSIVE.sub("", s)
    s = _NON_WORD.sub(" ", s).strip()
    if s.startswith("the ") and len(s) > 4:
        s = s[4:]
    return s


def _compact(key: str) -> str:
    return key.replace(" ", "")


@dataclass(frozen=True)
class Outlet:
    """A publisher of reports: a news outlet, agency, broadcaster, state medium or organisation."""

    name: str
    domains: tuple[str, ...]
    aliases: tuple[str, ...]
    kind: str
    # Names accepted by `by_name` but too common as ordinary words for text matchers.
    loose: tuple[str, ...] = field(default=())

    def names(self) -> tuple[str, ...]:
        """The canonical name, aliases and loose names, in that order."""
        return (self.name, *self.aliases, *self.loose)


class OutletRegistry:
    """Lookup of outlets by URL and by name; built from the packaged file plus a user file."""

    def __init__(self, outlets: list[Outlet], *, two_level_suffixes: frozenset[str] = frozenset()) -> None:
        self.outlets: tuple[Outlet, ...] = tuple(outlets)
        self._two_level = two_level_suffixes
        self._by_domain: dict[str, Outlet] = {}
        self._by_key: dict[str, Outlet] = {}
        compact: dict[str, Outlet | None] = {}
        for outlet in self.outlets:
            for domain in outlet.domains:
                self._by_domain[domain] = outlet
            for written in outlet.names():
                key = name_key(written)
                if not key:
                    continue
                other = self._by_key.get(key)
                if other is not None and other.name != outlet.name:
                    raise DataFileError(
                        f"outlet name {written!r} is claimed by both {other.name!r} and {outlet.name!r}",
                        hint="remove the alias from one of the two outlets",
                    )
                self._by_key[key] = outlet
                ck = _compact(key)
                # "DailyNK" finds "Daily NK"; a squashed form two outlets share finds neither.
                compact[ck] = outlet if compact.get(ck, outlet) is outlet else None
        self._by_compact = {k: o for k, o in compact.items() if o is not None}
        # Longest first so a path-prefixed entry ("nknews.org/pro") wins over its domain.
        self._domain_order = sorted(self._by_domain, key=len, reverse=True)

    def __len__(self) -> int:
        return len(self.outlets)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.outlets)

    def by_url(self, url: str) -> Outlet | None:
        """The outlet whose domain (or a parent domain, or a path-prefixed entry) serves `url`."""
        host, path = _host_and_path(url)
        if not host:
            return None
        labels = host.split(".")
        for i in range(len(labels) - 1):
            domain = ".".join(labels[i:])
            # Path-prefixed entries for this domain, longest first.
            for entry in self._domain_order:
                if "/" in entry and entry.split("/", 1)[0] == domain:
                    prefix = "/" + entry.split("/", 1)[1].strip("/")
                    if path == prefix or path.startswith(prefix + "/"):
                        return self._by_domain[entry]
            outlet = self._by_domain.get(domain)
            if outlet is not None:
                return outlet
        return None

    def by_name(self, name: str) -> Outlet | None:
        """The outlet known by `name`, however it is cased, punctuated or possessive."""
        key = name_key(name)
        if not key:
            return None
        found = self._by_key.get(key)
        if found is None and key.startswith("the "):
            found = self._by_key.get(key[4:])
        if found is None:
            found = self._by_compact.get(_compact(key))
        return found

    def aliases(self, *, include_loose: bool = False) -> list[tuple[str, Outlet]]:
        """Every (name as written, outlet) pair, for building text matchers; longest names first.

        Loose names ("Express", "Guardian") are left out unless asked for: in running text they
        are usually ordinary words.
        """
        pairs: list[tuple[str, Outlet]] = []
        for outlet in self.outlets:
            seen: set[str] = set()
            for written in (outlet.name, *outlet.aliases, *(outlet.loose if include_loose else ())):
                if written in seen or (not include_loose and written in outlet.loose):
                    continue
                seen.add(written)
                pairs.append((written, outlet))
        pairs.sort(key=lambda p: (-len(p[0]), p[0]))
        return pairs

    def registered_domain(self, url: str) -> str | None:
        """The domain an organisation registered for `url` ("news.example.co.uk" -> "example.co.uk")."""
        host, _ = _host_and_path(url)
        if not host:
            return None
        return _registered_domain(host, self._two_level)


def _host_and_path(url: str) -> tuple[str, str]:
    text = url.strip()
    if "//" not in text:  # "rfa.org/english/..." written without a scheme
        text = "//" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:
        return "", ""
    host = host.rstrip(".").lower()
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return "", ""
    if not _HOST.fullmatch(host):
        return "", ""
    return host, parts.path or "/"


def _registered_domain(host: str, two_level: frozenset[str]) -> str:
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    try:  # the public-suffix list shipped with `tld` (a trafilatura dependency); no network
        from tld import get_fld

        fld = get_fld(host, fix_protocol=True, fail_silently=True)
        if fld:
            return str(fld)
    except Exception:  # noqa: BLE001 - the list is an optional refinement
        log.debug("public-suffix lookup failed for %s", host, exc_info=True)
    labels = [lab for lab in host.split(".") if lab]
    if labels and labels[0] == "www":
        labels = labels[1:]
    keep = 3 if len(labels) >= 3 and ".".join(labels[-2:]) in two_level else 2
    return ".".join(labels[-keep:])


def _as_tuple(value: Any, field_name: str, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataFileError(f"{where}: `{field_name}` must be a list of strings", hint="e.g. aliases = [\"RFA\"]")
    return tuple(v.strip() for v in value if v.strip())


def _outlet_from(entry: dict[str, Any], where: str, base: Outlet | None = None) -> Outlet:
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DataFileError(f"{where}: every [[outlet]] needs a `name`", hint='add name = "…"')
    kind = entry.get("kind", base.kind if base else None)
    if kind not in OUTLET_KINDS:
        raise DataFileError(f"{where}: outlet {name!r} has kind {kind!r}", hint=f"use one of {', '.join(OUTLET_KINDS)}")
    domains = _as_tuple(entry.get("domains"), "domains", where) if "domains" in entry else (base.domains if base else ())
    domains = tuple(d.lower().removeprefix("www.").rstrip("/") for d in domains)
    values = {
        "name": base.name if base else name.strip(),
        "kind": kind,
        "domains": domains,
        "aliases": _as_tuple(entry.get("aliases"), "aliases", where) if "aliases" in entry else (base.aliases if base else ()),
        "loose": _as_tuple(entry.get("loose"), "loose", where) if "loose" in entry else (base.loose if base else ()),
    }
    return replace(base, **values) if base else Outlet(**values)


def _entries(doc: dict[str, Any], where: str) -> list[dict[str, Any]]:
    entries = doc.get("outlet", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise DataFileError(f"{where}: outlets must be written as [[outlet]] tables", hint="see data/outlets.toml")
    return entries


@lru_cache(maxsize=8)
def _load(extra: str | None) -> OutletRegistry:
    packaged = data_file("outlets.toml")
    doc = load_toml(packaged)
    outlets: list[Outlet] = [_outlet_from(e, str(packaged)) for e in _entries(doc, str(packaged))]
    suffixes = frozenset(doc.get("two_level_suffixes", []))
    if extra is not None:
        path = Path(extra)
        user = load_toml(path)
        index = {name_key(o.name): i for i, o in enumerate(outlets)}
        mine: set[int] = set()
        for entry in _entries(user, str(path)):
            key = name_key(str(entry.get("name", "")))
            if key in index:
                outlets[index[key]] = _outlet_from(entry, str(path), base=outlets[index[key]])
            else:
                index[key] = len(outlets)
                outlets.append(_outlet_from(entry, str(path)))
            mine.add(index[key])
        # The user's names win: a packaged outlet loses any name a user's outlet also claims.
        taken = {name_key(n) for i in mine for n in outlets[i].names()}
        outlets = [
            o if i in mine else replace(
                o,
                aliases=tuple(a for a in o.aliases if name_key(a) not in taken),
                loose=tuple(a for a in o.loose if name_key(a) not in taken),
            )
            for i, o in enumerate(outlets)
        ]
        suffixes |= frozenset(user.get("two_level_suffixes", []))
    # A user's domain moves to the user's outlet: drop it from any packaged outlet first.
    claimed: dict[str, str] = {}
    for o in outlets:
        for d in o.domains:
            claimed[d] = o.name
    outlets = [replace(o, domains=tuple(d for d in o.domains if claimed[d] == o.name)) for o in outlets]
    return OutletRegistry(outlets, two_level_suffixes=suffixes)


def load_outlets(extra: Path | None = None) -> OutletRegistry:
    """The packaged registry, plus `extra` (a user TOML file) if given; cached per file."""
    return _load(str(Path(extra).resolve()) if extra is not None else None)


def outlet_for_url(url: str | None) -> str | None:
    """Canonical outlet name for `url`, or its registered domain ("example.com") when unknown."""
    if not url:
        return None
    registry = load_outlets()
    outlet = registry.by_url(url)
    if outlet is not None:
        return outlet.name
    return registry.registered_domain(url)


def registered_domain(url: str) -> str | None:
    """The registered domain of `url` (no "www.", no subdomains), or None if it has no host."""
    return load_outlets().registered_domain(url)
