"""A case too large to rebuild, extended with the reports one linking run loaded.

A story relayed thousands of times makes a case of thousands of reports. Rebuilding that case
whenever one more report joins it would make every new report cost the whole case, and a large
crawl would take time in the square of its size. A run therefore loads only the reports its new
ones reached and a sample of the case (`max_case_rebuild`, `large_case_sample` in linking.toml),
clusters and assesses those, and folds the result into the case as stored: the members it did
not load keep their roles, origins and facts as they were. Origins, facts and conflicts are then
the union of what the stored case and the loaded reports show; `rightsledger link` (a full
re-link) recomputes them over every member.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from rightsledger.link.citations import outlet_key

if TYPE_CHECKING:
    from rightsledger.link.linker import Case


def extended(stored: Case, fresh: Case, loaded: set[str], max_refused: int) -> Case:
    """`stored` with its `loaded` reports replaced by `fresh`, the case those reports make now."""
    s, f = stored, fresh
    members = sorted([m for m in s.members if m.document_id not in loaded] + f.members,
                     key=lambda m: (m.published or date.max, m.document_id))
    docs = {m.document_id for m in members}
    origins: dict[str, str] = {}
    for m in members:
        for o in m.origins:
            origins.setdefault(outlet_key(o), o)
    conflicts = _conflicts(s.conflicts, f.conflicts, loaded)
    links = {(lk.kind, lk.a, lk.b): lk for lk in s.links + f.links if lk.a in docs and lk.b in docs}
    reasons = _pairs([(r, "") for r in s.reasons + f.reasons], docs)
    refused = _pairs(sorted(s.refused + f.refused, key=lambda rw: -rw[0].score), docs)[:max_refused]
    return dataclasses.replace(
        stored,
        status="contested" if conflicts else ("corroborated" if len(origins) >= 2 else "single_source"),
        types=sorted(set(s.types) | set(f.types)),
        incident_ids=sorted({i for m in members for i in m.incident_ids}),
        members=members,
        independent_origins=sorted(origins.values(), key=str.casefold),
        conflicts=conflicts,
        facts=_facts(s.facts, f.facts, loaded),
        links=[links[k] for k in sorted(links)],
        reasons=[r for r, _ in reasons],
        refused=refused,
        places=sorted(set(s.places) | set(f.places)),
    )


def _pairs(scored: Iterable[tuple[Any, str]], docs: set[str]) -> list[tuple[Any, str]]:
    """Incident pairs between current members, each once (the first met)."""
    seen: set[tuple[Any, Any]] = set()
    out = []
    for pair, why in scored:
        if pair.a[0] in docs and pair.b[0] in docs and (pair.a, pair.b) not in seen:
            seen.add((pair.a, pair.b))
            out.append((pair, why))
    return out


def _facts(stored: dict[str, dict[str, list[str]]], fresh: dict[str, dict[str, list[str]]],
           loaded: set[str]) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {}
    for kind in sorted(set(stored) | set(fresh)):
        values = {v: {d for d in ds if d not in loaded} for v, ds in stored.get(kind, {}).items()}
        for v, ds in fresh.get(kind, {}).items():
            values.setdefault(v, set()).update(ds)
        out[kind] = {v: sorted(ds) for v, ds in sorted(values.items()) if ds}
    return out


def _conflicts(stored: list[dict[str, Any]], fresh: list[dict[str, Any]], loaded: set[str]) -> list[dict[str, Any]]:
    """A fact the members state differently, by the values each side knew; one value left is no conflict."""
    merged: dict[tuple[str, str | None], dict[str, set[str]]] = {}
    for c, drop in [(c, loaded) for c in stored] + [(c, set()) for c in fresh]:
        values = merged.setdefault((c["fact"], c.get("unit")), {})
        for v, ds in c["values"].items():
            values.setdefault(v, set()).update(d for d in ds if d not in drop)
    out = []
    for (fact, unit), values in sorted(merged.items(), key=lambda kv: (kv[0][0] != "count", kv[0][1] or "")):
        kept = {v: sorted(ds) for v, ds in sorted(values.items()) if ds}
        if len(kept) > 1:
            out.append({"fact": fact, **({"unit": unit} if unit is not None else {}), "values": kept})
    return out
