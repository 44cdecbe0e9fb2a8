"""The linking run: documents in, duplicate_of / case_id / cases out.

`Linker.add(documents)` links new documents against everything the `CandidateIndex` already
holds: it writes their keys, finds their copies (and the copy groups they join), scores them
against their blocking candidates, then re-clusters the new documents together with the
reports they link to and every member of those reports' cases (of a case too large to rebuild,
a sample: see `extend`). `link(documents)` is the same run from an empty index. A batch added
later lands in the same cases as in a full run except when its evidence would now allow a merge
an earlier run refused between two old reports outside its reach, or would merge two cases too
large to rebuild; `rightsledger link` (a full run) settles those.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from rightsledger.link import duplicates
from rightsledger.link.cases import (
    PairScore,
    Profile,
    block_keys,
    case_id,
    cluster,
    match_documents,
    profiles_of,
    quick_reject,
    veto_reason,
)
from rightsledger.link.citations import citation_link
from rightsledger.link.evidence import COMPONENT, DocLink, Reason
from rightsledger.link.extend import extended
from rightsledger.link.independence import Member, assess
from rightsledger.link.index import CandidateIndex, InMemoryIndex
from rightsledger.link.settings import LinkSettings, load_settings
from rightsledger.link.shared_quotes import quote_keys, shared_quotes
from rightsledger.model import Document, Incident

log = logging.getLogger(__name__)

Ref = tuple[str, str]  # (document id, incident id)


@dataclass(frozen=True)
class Overrides:
    """Analysts' decisions, re-applied on every run: `merge` pairs always share a case, `split`
    pairs never do. The ledger turns "merge case A into B" into one merge pair and "take report
    D out of case C" into split pairs between D's incidents and the other members."""

    merge: tuple[tuple[Ref, Ref], ...] = ()
    split: tuple[tuple[Ref, Ref], ...] = ()
    _apart: frozenset[tuple[Ref, Ref]] = field(default=frozenset(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_apart", frozenset(self.split) | frozenset((b, a) for a, b in self.split))

    def forbidden(self, a: Ref, b: Ref) -> bool:
        return (a, b) in self._apart

    def partners(self, doc_id: str) -> set[str]:
        return {y[0] for x, y in self.merge if x[0] == doc_id} | {x[0] for x, y in self.merge if y[0] == doc_id}


@dataclass(slots=True)
class Case:
    """One real-world event and the reports of it, with why they were grouped."""

    id: str
    status: str
    types: list[str]
    incident_ids: list[str]
    members: list[Member]
    independent_origins: list[str]
    conflicts: list[dict[str, Any]]
    facts: dict[str, dict[str, list[str]]]
    links: list[DocLink] = field(default_factory=list)
    reasons: list[PairScore] = field(default_factory=list)
    refused: list[tuple[PairScore, str]] = field(default_factory=list)
    places: list[str] = field(default_factory=list)  # place, county and province names, for filtering

    @property
    def document_urls(self) -> list[str]:
        return sorted({m.url for m in self.members if m.url})

    def to_json(self) -> dict[str, Any]:
        """The `rightsledger cases --json` object; `explain()` adds the evidence for `case ID`."""
        return {
            "id": self.id,
            "case_id": self.id,
            "status": self.status,
            "types": list(self.types),
            "incident_ids": list(self.incident_ids),
            "document_ids": [m.document_id for m in self.members],
            "document_urls": self.document_urls,
            "independent_origins": list(self.independent_origins),
            "origin_count": len(self.independent_origins),
            "members": [m.to_json() for m in self.members],
            "conflicts": list(self.conflicts),
            "places": list(self.places),
        }

    def explain(self) -> dict[str, Any]:
        return {
            **self.to_json(),
            "component": COMPONENT,
            "facts": self.facts,
            "links": [lk.to_json() for lk in self.links],
            "reasons": [r.to_json() for r in self.reasons],
            "refused": [{**r.to_json(), "why": why} for r, why in self.refused],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Case:
        """Inverse of `explain()` (the ledger stores cases in that form); `to_json()` output also loads."""

        def pair(p: dict[str, Any]) -> PairScore:
            return PairScore((p["a"]["document_id"], p["a"]["incident_id"]), (p["b"]["document_id"], p["b"]["incident_id"]),
                             float(p["score"]), [Reason(r["rule"], float(r["weight"]), r.get("detail", ""), bool(r.get("veto")))
                                                 for r in p.get("reasons", [])])

        members = [Member(m["document_id"], m.get("url"), m.get("outlet"),
                          date.fromisoformat(m["published"]) if m.get("published") else None, list(m.get("incident_ids", [])),
                          m.get("role", "origin"), list(m.get("origins", [])), list(m.get("chain", []))) for m in d.get("members", [])]
        return cls(
            d["id"], d["status"], list(d.get("types", [])), list(d.get("incident_ids", [])), members,
            list(d.get("independent_origins", [])), list(d.get("conflicts", [])), dict(d.get("facts", {})),
            [DocLink(lk["kind"], lk["from"], lk["to"], float(lk["score"]), lk.get("detail", "")) for lk in d.get("links", [])],
            [pair(p) for p in d.get("reasons", [])], [(pair(p), p.get("why", "")) for p in d.get("refused", [])],
            list(d.get("places", [])),
        )


@dataclass(slots=True)
class LinkResult:
    """What a run decided, for the ledger to store. Only documents and cases the run touched
    appear; `retired` lists case ids that no longer exist (merged into another)."""

    duplicate_of: dict[str, str | None] = field(default_factory=dict)
    case_of: dict[str, str | None] = field(default_factory=dict)  # incident id -> case id
    cases: list[Case] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    links: list[DocLink] = field(default_factory=list)

    def case(self, cid: str) -> Case:
        for c in self.cases:
            if c.id == cid:
                return c
        raise KeyError(cid)

    def apply(self, documents: Iterable[Document]) -> None:
        """Write `duplicate_of` and `case_id` onto these documents (the only mutation)."""
        for doc in documents:
            if doc.id in self.duplicate_of:
                doc.duplicate_of = self.duplicate_of[doc.id]
            for inc in doc.incidents:
                if inc.id in self.case_of:
                    inc.case_id = self.case_of[inc.id]

    def to_json(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.cases]


class Linker:
    """Links documents incrementally against a `CandidateIndex` (in memory unless given).

    Documents passed to `add()` must be retrievable from the index by `documents()` (the store
    has them once ingested; `InMemoryIndex` is given them here)."""

    def __init__(self, index: CandidateIndex | None = None, settings: LinkSettings | None = None, overrides: Overrides | None = None,
                 fingerprints: duplicates.Fingerprints | None = None) -> None:
        self.index: CandidateIndex = index if index is not None else InMemoryIndex()
        self.settings = settings or load_settings()
        self.overrides = overrides or Overrides()
        # kept across `add` calls, and shared by the caller across Linkers of one run (one settings)
        self.fingerprints = fingerprints if fingerprints is not None else duplicates.Fingerprints()

    # ------------------------------------------------------------ public

    def add(self, documents: Sequence[Document]) -> LinkResult:
        docs = sorted({d.id: d for d in documents}.values(), key=lambda d: d.id)
        for d in docs:  # their text is in hand, and may be new under an old id
            self.fingerprints.discard(d.id)
        if isinstance(self.index, InMemoryIndex):
            for d in docs:
                self.index.put(d)
        run = _Run(self, docs)
        result = run.execute()
        if isinstance(self.index, InMemoryIndex):
            touched = set(result.duplicate_of) | {m.document_id for c in result.cases for m in c.members} | {d.id for d in docs}
            result.apply(self.index.documents(sorted(touched)))
            self.index.put_cases(result.cases, result.retired)
        return result


class _Run:
    """State of one `Linker.add` call: caches live only as long as the run."""

    def __init__(self, linker: Linker, docs: list[Document]) -> None:
        self.index = linker.index
        self.s = linker.settings
        self.overrides = linker.overrides
        self.new = docs
        self.docs: dict[str, Document] = {d.id: d for d in docs}
        self.profiles: dict[str, list[Profile]] = {}
        self.quotes: dict[str, dict[str, str]] = {}
        self.blocks: dict[str, tuple[set[str], set[str]]] = {}
        self.group: dict[str, str] = {}  # document -> its duplicate group's original
        self.fps: dict[str, duplicates.Fingerprint] = {}
        self.kept = linker.fingerprints
        self.edges: list[PairScore] = []
        self.large: set[str] = set()  # cases too large to rebuild: extended with what the run loaded
        self.stored: dict[str, Case] = {}  # ... and those cases as stored

    # ------------------------------------------------------------ caches

    def doc(self, doc_id: str) -> Document:
        d = self.docs.get(doc_id)
        if d is None:
            found = self.index.documents([doc_id])
            if not found:
                raise KeyError(f"document {doc_id} is in the link index but not in the ledger")
            d = self.docs[doc_id] = found[0]
        return d

    def fetch(self, ids: Iterable[str]) -> None:
        missing = sorted(i for i in set(ids) if i not in self.docs)
        for d in self.index.documents(missing):
            self.docs[d.id] = d

    def prof(self, doc_id: str) -> list[Profile]:
        p = self.profiles.get(doc_id)
        if p is None:
            p = self.profiles[doc_id] = profiles_of(self.doc(doc_id), self.s)
        return p

    def qkeys(self, doc_id: str) -> dict[str, str]:
        q = self.quotes.get(doc_id)
        if q is None:
            q = self.quotes[doc_id] = quote_keys(self.doc(doc_id), self.s)
        return q

    def bkeys(self, doc_id: str) -> tuple[set[str], set[str]]:
        """(register, query) blocking keys of all the document's incidents."""
        b = self.blocks.get(doc_id)
        if b is None:
            reg: set[str] = set()
            qry: set[str] = set()
            for p in self.prof(doc_id):
                r, q = block_keys(p, self.s)
                reg |= r
                qry |= q
            if len(self.blocks) >= 2048:  # hundreds of keys each: keep the recent ones only
                self.blocks.pop(next(iter(self.blocks)))
            b = self.blocks[doc_id] = (reg, qry)
        return b

    def root(self, doc_id: str) -> str:
        r = self.group.get(doc_id)
        if r is None:
            r = self.doc(doc_id).duplicate_of or doc_id
        return r

    def doc_links(self, a: str, b: str) -> list[DocLink]:
        """Duplicate, quotation and citation links between two documents (cheap: keys are cached)."""
        da, db = (self.doc(a), self.doc(b)) if a < b else (self.doc(b), self.doc(a))
        found = []
        if self.root(da.id) == self.root(db.id):
            first, second = sorted((da, db), key=duplicates.order)
            found.append(DocLink("duplicate", second.id, first.id, 1.0, "copies of one text"))
        qa, qb = self.qkeys(da.id), self.qkeys(db.id)
        if not qa.keys().isdisjoint(qb):
            q = shared_quotes(da, db, self.s, (qa, qb))
            if q:
                found.append(q)
        c = citation_link(da, db)
        if c:
            found.append(c)
        return found

    # ------------------------------------------------------------ steps

    def fingerprint(self, doc_id: str) -> duplicates.Fingerprint:
        """A few thousand as sets for this run, more kept compact by the Linker; the rest are
        recomputed: a 100,000-document run would hold every shingle set at once otherwise."""
        fp = self.fps.get(doc_id)
        if fp is None:
            if len(self.fps) >= 4096:
                self.fps.pop(next(iter(self.fps)))
            fp = self.kept.get(doc_id)
            if fp is None:
                fp = duplicates.fingerprint(self.doc(doc_id).text, self.s)
                self.kept.put(doc_id, fp)
            self.fps[doc_id] = fp
        return fp

    def execute(self) -> LinkResult:
        self.register()
        result = LinkResult()
        result.duplicate_of = self.find_duplicates()
        region = self.region()
        self.make_cases(region, result)
        return result

    def register(self) -> None:
        for d in self.new:
            fp = self.fingerprint(d.id)
            for kind, keys in duplicates.index_keys(fp).items():
                self.index.add_keys(kind, d.id, keys)
            self.index.add_keys("quote", d.id, self.qkeys(d.id))
            reg, qry = self.bkeys(d.id)
            self.index.add_keys("block", d.id, reg)
            self.index.add_keys("blockq", d.id, qry)

    def find_duplicates(self) -> dict[str, str | None]:
        """`duplicate_of` of the new documents and of the old ones whose original changes. An old
        copy brings only its group's original (the earliest of the group) along: the rest of a
        group is re-pointed, by id, only when a new document is earlier than that original or
        joins two groups, so a text copied thousands of times is not reloaded on every run."""
        edges: list[tuple[str, str]] = []
        new_ids = {d.id for d in self.new}
        originals: set[str] = set()
        for d in self.new:
            fp = self.fingerprint(d.id)
            found = duplicates.candidates(fp, self.index, self.s, exclude=d.id)
            self.fetch(c for c in found if c not in self.fps and c not in self.kept)  # in one read, not one each
            for c in found:
                if c in new_ids and c < d.id:
                    continue  # a pair of new documents is checked once
                if duplicates.compare(fp, self.fingerprint(c), self.s):
                    edges.append((d.id, c))
                    if c not in new_ids:
                        root = self.doc(c).duplicate_of or c
                        originals.add(root)
                        edges.append((root, c))
        self.fetch(originals)
        dup: dict[str, str | None] = {m: None for m in new_ids}
        dup.update(duplicates.groups(edges, self.docs))
        for root in sorted(originals):
            if dup.get(root):  # no longer the earliest: its whole group follows the new original
                for m in self.index.lookup("dupgroup", [root]):
                    dup[m] = dup[root]
        for m in sorted(dup):
            first = dup[m] or m
            self.group[m] = first
            self.index.add_keys("dupgroup", m, [first])
        return dup

    def neighbours(self, doc_id: str) -> set[str]:
        """The reports a new one is scored against. Every source is capped (linking.toml) and ranked
        by content, most shared keys first, then by id: a story told thousands of times costs each
        new telling a bounded number of comparisons, the same whatever order the reports came in."""
        reg, qry = self.bkeys(doc_id)
        c = self.s.cases
        most, per_key = int(c["max_block_candidates"]), int(c["max_key_documents"])
        # a crowded block: keep the reports sharing the most keys (the index ranks them)
        blocked = self.index.nearest([("block", qry), ("blockq", reg)], doc_id, most, per_key)
        if len(blocked) == most:
            log.debug("document %s: a crowded block, comparing the %d closest reports", doc_id, most)
        found = {d for d, _ in blocked}
        found |= {d for d, _ in self.index.nearest([("quote", self.qkeys(doc_id))], doc_id, int(c["max_quote_candidates"]), per_key)}
        root = self.root(doc_id)  # the copy group's original, then its smallest ids
        copies = int(c["max_copy_candidates"])
        found |= {root} | {d for d, _ in self.index.nearest([("dupgroup", [root])], doc_id, copies, copies + 1)}
        found |= self.overrides.partners(doc_id)
        found.discard(doc_id)
        return found

    def region(self) -> list[str]:
        """The new documents, the old ones they link to, and every member of those old ones'
        cases: what must be re-clustered. New pairs (new-new, new-old) are scored once each;
        old-old pairs come from the stored cases, so a run costs what its documents touch."""
        new_ids = {d.id for d in self.new if self.prof(d.id)}
        # capped candidates are not symmetric (a report among another's closest need not have
        # that one among its own): a pair of new reports is scored when either finds the other
        scored: set[tuple[str, str]] = set()
        touched: set[str] = set()
        for d in sorted(new_ids):
            cands = sorted(self.neighbours(d))
            self.fetch(cands)
            to_old: list[PairScore] = []
            for e in cands:
                if e in new_ids:
                    if (min(d, e), max(d, e)) not in scored:
                        scored.add((min(d, e), max(d, e)))
                        self.edges += self.score(d, e)
                elif self.prof(e):
                    to_old += self.score(d, e)
            for p in self.strongest(d, to_old):
                self.edges.append(p)
                touched.add(p.b[0] if p.a[0] == d else p.a[0])
            touched |= self.overrides.partners(d) - new_ids
        old = set(touched)
        # a re-linked report's own cases too: they may lose it
        cases = {i.case_id for e in touched | {d.id for d in self.new} for i in self.doc(e).incidents if i.case_id}
        most, sample = int(self.s.cases["max_case_rebuild"]), int(self.s.cases["large_case_sample"])
        for cid in sorted(cases):
            members = sorted(self.index.lookup("case", [cid], per_key=most + 1))
            if len(members) > most:  # extended, not rebuilt: its reports reached, and a sample of it
                self.large.add(cid)
                members = members[:sample]
            old |= set(members)
        old -= new_ids
        self.fetch(old)
        # Pairs of old reports were scored when the later of the two arrived and are kept in
        # their cases (accepted or refused): taken from there, not scored again, so a run costs
        # its new reports' pairs however large the cases they join.
        known = {p.key for o in old for p in self.prof(o)}
        stored = {i.case_id for o in old for i in self.doc(o).incidents if i.case_id}
        for case in self.index.stored_cases(sorted(stored)):
            if case.id in self.large:
                self.stored[case.id] = case
            for e in case.reasons + [e for e, _ in case.refused]:
                if e.a in known and e.b in known:
                    self.edges.append(e)
        return sorted(new_ids | {o for o in old if self.prof(o)})

    def score(self, d: str, e: str) -> list[PairScore]:
        """The links between the incidents of two documents. The pair is scored in id order, as
        a full run meets it, whichever run meets it first."""
        d, e = min(d, e), max(d, e)
        pd, pe = self.prof(d), self.prof(e)
        if self.root(d) != self.root(e) and all(quick_reject(x, y, (), self.s) for x in pd for y in pe):
            return []  # only copies waive the cheap vetoes, so the document links are not needed
        return match_documents(pd, pe, self.doc_links(d, e), self.s)

    def strongest(self, doc_id: str, links: list[PairScore]) -> list[PairScore]:
        """The links from a new report to old ones that the run follows: the strongest into each
        case they reach, then the strongest others up to `max_links_per_report`. A report that
        matches hundreds of tellings of its story needs a few of them to join their case; following
        all would re-cluster every telling each time one more arrives."""
        ranked = sorted(links, key=lambda p: (-p.score, p.a, p.b))
        cases: set[str] = set()
        kept: list[PairScore] = []
        rest: list[PairScore] = []
        for p in ranked:
            old = p.b if p.a[0] == doc_id else p.a
            case = next((i.case_id for i in self.doc(old[0]).incidents if i.id == old[1]), None) or f"{old[0]}/{old[1]}"
            (rest if case in cases else kept).append(p)
            cases.add(case)
        room = max(0, int(self.s.cases["max_links_per_report"]) - len(kept))
        return kept + rest[:room]

    def make_cases(self, region: list[str], result: LinkResult) -> None:
        by_ref: dict[Ref, Profile] = {}
        incidents: dict[Ref, Incident] = {}
        old_ids: set[str] = set()
        for d in region:
            doc = self.doc(d)
            for inc in doc.incidents:
                if inc.case_id:
                    old_ids.add(inc.case_id)
            for p in self.prof(d):
                by_ref[p.key] = p
        for d in region:
            for inc in self.doc(d).incidents:
                incidents[(d, inc.id)] = inc
        for d in self.new:  # incidents that are not facts keep no case
            for inc in d.incidents:
                if (d.id, inc.id) not in by_ref:
                    result.case_of[inc.id] = None

        # the loaded reports of a case too large to rebuild stay in it (analysts' splits aside),
        # and two such cases are not merged by a run that sees a sample of each
        new_ids = {d.id for d in self.new}
        large_of = {ref: inc.case_id for ref, inc in incidents.items()
                    if inc.case_id in self.large and ref in by_ref and ref[0] not in new_ids}
        kept: dict[str, list[Ref]] = {}
        for ref in sorted(large_of):
            kept.setdefault(large_of[ref], []).append(ref)
        vetoes: dict[tuple[Ref, Ref], str | None] = {}

        def vetoed(x: Ref, y: Ref) -> str | None:
            # asked again for the same pair whenever a refused merge is retried: remembered
            if (x, y) in vetoes:
                return vetoes[(x, y)]
            cx, cy = large_of.get(x), large_of.get(y)
            if cx and cy and cx != cy:
                why = vetoes[(x, y)] = "large_cases: two cases too large to rebuild are merged by a full re-link only"
                return why
            # only a copy link changes a veto (it waives date vetoes): no need for the other links
            copies = [DocLink("duplicate", x[0], y[0], 1.0)] if self.root(x[0]) == self.root(y[0]) else []
            why = vetoes[(x, y)] = veto_reason(by_ref[x], by_ref[y], copies, self.s, self.overrides.forbidden(x, y))
            return why

        merges = [(a, b) for a, b in self.overrides.merge if a in by_ref and b in by_ref]
        merges += [(a, b) for refs in kept.values() for a, b in itertools.pairwise(refs)]
        clustering = cluster(by_ref, self.edges, vetoed, merges)
        accepted: dict[str, list[PairScore]] = {}
        where: dict[Ref, str] = {}
        claimed: set[str] = set()
        for comp in clustering.components:
            # a case keeps its id as reports join or leave it: the first earlier id among its
            # members not already taken by another case (a large case's id first, and only with the
            # reports kept in it); a new case is named by its smallest member (or a variant of that
            # name when the rest of its old case, split off, kept it)
            earlier = sorted((c for ref in comp if (c := incidents[ref].case_id) and (c not in self.large or ref in large_of)),
                             key=lambda c: c not in self.large)
            cid = next((c for c in earlier if c not in claimed), None) or next(
                n for v in itertools.count() if (n := case_id(comp, v)) not in claimed)
            claimed.add(cid)
            for ref in comp:
                where[ref] = cid
        for e in clustering.accepted:
            accepted.setdefault(where[e.a], []).append(e)
        refused: dict[str, list[tuple[PairScore, str]]] = {}
        for e, why in clustering.refused:  # strongest first, as `cluster` met them
            kept = refused.setdefault(where[e.a], [])
            if len(kept) < int(self.s.cases["max_refused_per_case"]):
                kept.append((e, why))
        all_links: dict[tuple[str, str, str], DocLink] = {}
        for comp in clustering.components:
            cid = where[comp[0]]
            per_doc: dict[str, list[Incident]] = {}
            for d, i in comp:
                per_doc.setdefault(d, []).append(incidents[(d, i)])
                result.case_of[i] = cid
            docs = sorted(per_doc)
            # the document links behind the case's spanning tree: one or two per member
            pairs = sorted({(min(e.a[0], e.b[0]), max(e.a[0], e.b[0])) for e in accepted.get(cid, [])})
            links = [lk for a, b in pairs for lk in self.doc_links(a, b)]
            for lk in links:
                all_links[(lk.kind, lk.a, lk.b)] = lk
            dup_of = {d: (self.root(d) if self.root(d) != d else None) for d in docs}
            a = assess([(self.doc(d), per_doc[d]) for d in docs], links, dup_of, self.s)
            types = sorted({t for incs in per_doc.values() for inc in incs for t in inc.types})
            places = sorted({n for incs in per_doc.values() for inc in incs for p in inc.places
                             for n in (p.name, p.county, p.province) if n})
            case = Case(cid, a.status, types, sorted(i for _, i in comp), a.members, a.independent_origins, a.conflicts,
                        a.facts, links, accepted.get(cid, []), refused.get(cid, []), places)
            if cid in self.stored:
                case = extended(self.stored[cid], case, set(region), int(self.s.cases["max_refused_per_case"]))
            result.cases.append(case)
        for d in region:
            self.index.add_keys("case", d, sorted({where[(d, p.incident_id)] for p in self.prof(d)}))
        result.cases.sort(key=lambda c: c.id)
        result.retired = sorted(old_ids - {c.id for c in result.cases} - self.large)
        result.links = [all_links[k] for k in sorted(all_links)]
        log.debug("linked %d documents: region %d, %d cases", len(self.new), len(region), len(result.cases))


def link(documents: Sequence[Document], index: CandidateIndex | None = None, settings: LinkSettings | None = None,
         overrides: Overrides | None = None) -> LinkResult:
    """Link a batch of documents (against `index` when given, else among themselves)."""
    return Linker(index, settings, overrides).add(documents)
