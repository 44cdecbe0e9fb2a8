"""Where the linker finds candidates: a small protocol the ledger's store implements.

The linker never scans the ledger. It writes *keys* for each document (MinHash bands,
sampled shingles, quotation hashes, incident blocking keys) and later asks which documents
share keys with a new one. A store implements this with one table (kind, key, document_id)
indexed on (kind, key); `InMemoryIndex` is the reference implementation used by batch runs
and tests.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Protocol, runtime_checkable

from rightsledger.model import Document

# Kinds of keys the linker writes (the store may keep them in one table).
KEY_KINDS = ("lsh", "shingle", "quote", "block", "blockq", "dupgroup", "case")


@runtime_checkable
class CandidateIndex(Protocol):
    """Candidate lookup for linking; implemented by the store and by `InMemoryIndex`."""

    def add_keys(self, kind: str, document_id: str, keys: Iterable[str]) -> None:
        """Record that `document_id` carries `keys` of `kind` (idempotent; replaces earlier keys of that kind)."""

    def lookup(self, kind: str, keys: Iterable[str], common: int | None = None) -> dict[str, int]:
        """Documents carrying any of `keys` of `kind`, each with the number of keys shared;
        keys carried by more than `common` documents (when given) are skipped as too common."""

    def nearest(self, queries: Sequence[tuple[str, Iterable[str]]], exclude: str, limit: int) -> list[tuple[str, int]]:
        """The `limit` documents (other than `exclude`) sharing the most keys with these
        (kind, keys) queries, counted over all of them: most shared first, then by id."""

    def case_edges(self, case_ids: Iterable[str]) -> list[Any]:
        """The incident pairs (`PairScore`s) these cases were built from, accepted and refused,
        as the last run stored them: a later run re-clusters them without scoring them again."""

    def documents(self, ids: Iterable[str]) -> list[Document]:
        """The documents with these ids (with incidents), in the order asked; unknown ids are skipped."""


class InMemoryIndex:
    """A dict-backed `CandidateIndex` that also holds the documents themselves.

    Keys are kept as Python hashes (this index lives in one process) and document ids as
    small integers, so a ledger of 100,000 reports stays within a few hundred megabytes.
    """

    def __init__(self, documents: Iterable[Document] = ()) -> None:
        self._ids: list[str] = []
        self._num: dict[str, int] = {}
        self._docs: dict[str, Document] = {}
        self._keys: dict[tuple[str, int], array[int]] = {}
        self._post: dict[str, dict[int, int | list[int]]] = {k: {} for k in KEY_KINDS}
        self._edges: dict[str, list[Any]] = {}
        for d in documents:
            self.put(d)

    def put(self, doc: Document) -> None:
        """Hold (or replace) a document so `documents()` can return it."""
        self._docs[doc.id] = doc
        self._number(doc.id)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    def __len__(self) -> int:
        return len(self._docs)

    def all_documents(self) -> list[Document]:
        return list(self._docs.values())

    def _number(self, doc_id: str) -> int:
        n = self._num.get(doc_id)
        if n is None:
            n = self._num[doc_id] = len(self._ids)
            self._ids.append(doc_id)
        return n

    def add_keys(self, kind: str, document_id: str, keys: Iterable[str]) -> None:
        # a posting is one document number (most keys: MinHash bands) or a list of them
        post = self._post.setdefault(kind, {})
        n = self._number(document_id)
        for k in self._keys.pop((kind, n), ()):
            cur = post.get(k)
            if cur == n:
                del post[k]
            elif isinstance(cur, list) and n in cur:
                cur.remove(n)
        new = array("q", sorted({hash(k) for k in keys}))
        if new:
            self._keys[(kind, n)] = new
        for k in new:
            cur = post.get(k)
            if cur is None:
                post[k] = n
            elif isinstance(cur, list):
                cur.append(n)
            elif cur != n:
                post[k] = [cur, n]

    def lookup(self, kind: str, keys: Iterable[str], common: int | None = None) -> dict[str, int]:
        post = self._post.get(kind)
        if not post:
            return {}
        counts: dict[int, int] = {}
        for k in {hash(k) for k in keys}:
            cur = post.get(k)
            if cur is None:
                continue
            if common is not None and isinstance(cur, list) and len(cur) > common:
                continue
            for n in cur if isinstance(cur, list) else (cur,):
                counts[n] = counts.get(n, 0) + 1
        return {self._ids[n]: c for n, c in counts.items()}

    def nearest(self, queries: Sequence[tuple[str, Iterable[str]]], exclude: str, limit: int) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter()
        for kind, keys in queries:
            counts.update(self.lookup(kind, keys))
        counts.pop(exclude, None)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

    def put_cases(self, cases: Iterable[Any], retired: Iterable[str]) -> None:
        """Keep the edges of the cases a run built (what the ledger keeps in the case summaries)."""
        for cid in retired:
            self._edges.pop(cid, None)
        for c in cases:
            self._edges[c.id] = list(c.reasons) + [e for e, _ in c.refused]

    def case_edges(self, case_ids: Iterable[str]) -> list[Any]:
        return [e for cid in case_ids for e in self._edges.get(cid, ())]

    def documents(self, ids: Iterable[str]) -> list[Document]:
        return [self._docs[i] for i in ids if i in self._docs]
