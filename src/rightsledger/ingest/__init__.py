"""Ingestion: files, bundles, directories and URLs -> raw items -> clean text with metadata.

`iter_items` yields every item as its exact bytes (RawItem) or a one-line reason it could not
be read (ItemError) and never stops at a bad item; `prepare` turns a RawItem into the clean text
extraction reads, with an offset map back to the source text. Nothing found inside a document
is ever fetched or run; the network is used only for URLs given to `iter_items`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from importlib.resources.abc import Traversable
from pathlib import Path

from rightsledger.errors import FetchError
from rightsledger.ingest.items import MEDIA_HTML, MEDIA_RECORD, MEDIA_TEXT, ItemError, Prepared, RawItem
from rightsledger.ingest.offsets import OffsetMap
from rightsledger.ingest.readers import read_paths
from rightsledger.ingest.text import prepare
from rightsledger.resources import data_file

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MEDIA_HTML",
    "MEDIA_RECORD",
    "MEDIA_TEXT",
    "ItemError",
    "OffsetMap",
    "Prepared",
    "RawItem",
    "examples_dir",
    "iter_items",
    "prepare",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())

DEFAULT_MAX_BYTES = 20 * 2**20


def iter_items(
    paths: Sequence[Path | str],
    urls: Sequence[str] = (),
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    allow_private: bool = False,
) -> Iterator[RawItem | ItemError]:
    """Every report in `paths` (recursively, in name order), then every URL in `urls`."""
    if max_bytes < 1:
        raise ValueError("max_bytes must be positive")
    yield from read_paths(paths, max_bytes=max_bytes)
    if urls:
        from rightsledger.ingest.fetch import FetchOptions, fetch  # network code only when asked

        options = FetchOptions(max_bytes=max_bytes, allow_private=allow_private)
        for url in urls:
            try:
                yield fetch(url, options)
            except FetchError as exc:
                yield ItemError(url, str(exc))


def examples_dir() -> Traversable:
    """The bundled example reports (invented; data/examples/README.md describes each one)."""
    return data_file("examples")
