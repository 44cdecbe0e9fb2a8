"""Cutting the input stream into partitions of N items, without ever holding the whole input.

A partition is the unit of work (one task on one worker), of memory (its items and results are
all a worker holds) and of resumption (its output is complete or it is done again). Partitions
are numbered in input order, and each carries a fingerprint of its items (source and SHA-256),
so a re-run skips a partition only if it would process exactly the same items.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from rightsledger.ingest import ItemError, RawItem, iter_items

__all__ = ["Partition", "partitions"]


@dataclass(slots=True)
class Partition:
    index: int
    items: list[RawItem | ItemError]
    fingerprint: str

    @property
    def id(self) -> str:
        return f"p{self.index:06d}"


def _fingerprint(items: Sequence[RawItem | ItemError]) -> str:
    h = hashlib.sha256()
    for item in items:
        h.update(item.source.encode("utf-8", "surrogateescape") + b"\0")
        h.update(hashlib.sha256(item.data).digest() if isinstance(item, RawItem) else b"error:" + item.reason.encode())
    return h.hexdigest()


def partitions(inputs: Sequence[Path | str], size: int, *, max_bytes: int) -> Iterator[Partition]:
    """The items of `inputs` (files, bundles, directories, web archives) in partitions of `size`."""
    if size < 1:
        raise ValueError("partition size must be positive")
    chunk: list[RawItem | ItemError] = []
    index = 0
    for item in iter_items(list(inputs), max_bytes=max_bytes):
        chunk.append(item)
        if len(chunk) == size:
            yield Partition(index, chunk, _fingerprint(chunk))
            chunk, index = [], index + 1
    if chunk:
        yield Partition(index, chunk, _fingerprint(chunk))
