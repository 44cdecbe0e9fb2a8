"""Where the linker finds candidates: a small protocol the ledger's store implements.

The linker never scans the ledger. It writes *keys* for each document (MinHash bands,
sampled shingles, quotation hashes, incident blocking keys) and later asks which documents
share keys with a new one. A store implements this with one table (kind, key, document_id)
indexed on (kind, key); `InMemoryIndex` is the reference implementation used by batch runs
and tests.
"""

from __future__ import annotations

import heapq
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

    def lookup(self, kind: str, keys: Iterable[str], common: int | None = None, per_key: int | None = None) -> dict[str, int]:
        """Documents carrying any of `keys` of `kind`, each with the number of keys shared;
        keys carried by more than `common` documents (when given) are skipped as too common, and
        with `per_key` each key counts for its `per_key` smallest document ids only, so that a
        look-up costs the same in a ledger of a thousand reports as in one of millions."""

    def nearest(self, queries: Sequence[tuple[str, Iterable[str]]], exclude: str, limit: int,
                per_key: int | None = None) -> list[tuple[str, int]]:
        """The `limit` documents (other than `exclude`) sharing the most keys with these
        (kind, keys) queries, counted over all of them (`per_key` as in `lookup`): most shared
        first, then by id."""

    def stored_cases(self, case_ids: Iterable[str]) -> list[Any]:
        """These cases (`Case`s) as the last run stored them: a later run re-clusters the incident
        pairs they were built from without scoring them again, and extends a case too large to rebuild."""

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
        self._cases: dict[str, Any] = {}
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

    def lookup(self, kind: str, keys: Iterable[str], common: int | None = None, per_key: int | None = None) -> dict[str, int]:
        post = self._post.get(kind)
        if not post:
            return {}
        counts: dict[int, int] = {}
        for k in {hash(k) for k in keys}:
            cur = post.get(k)
            if cur is None:
                continue
            if isinstance(cur, list):
                if common is not None and len(cur) > common:
                    continue
                if per_key is not None and len(cur) > per_key:
                    cur = heapq.nsmallest(per_key, cur, key=self._ids.__getitem__)
            else:
                cur = [cur]
            for n in cur:
                counts[n] = counts.get(n, 0) + 1
        return {self._ids[n]: c for n, c in counts.items()}

    def nearest(self, queries: Sequence[tuple[str, Iterable[str]]], exclude: str, limit: int,
                per_key: int | None = None) -> list[tuple[str, int]]:
        counts: Counter[str] = Counter()
        for kind, keys in queries:
            counts.update(self.lookup(kind, keys, per_key=per_key))
        counts.pop(exclude, None)
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]

    def put_cases(self, cases: Iterable[Any], retired: Iterable[str]) -> None:
        """Keep the cases a run built (what the ledger keeps in its case summaries)."""
        for cid in retired:
            self._cases.pop(cid, None)
        for c in cases:
            self._cases[c.id] = c

    def stored_cases(self, case_ids: Iterable[str]) -> list[Any]:
        return [self._cases[cid] for cid in case_ids if cid in self._cases]

    def documents(self, ids: Iterable[str]) -> list[Document]:
        return [self._docs[i] for i in ids if i in self._docs]
