"""Exporters: the ledger's documents written as JSON Lines, CSV or GeoJSON.

Each exporter is a function `write(documents, out) -> int` (records written) registered in
`EXPORTERS` under its format name. By default only incidents the text asserts are exported;
hedged and negated ones ("rumours that…", "no evidence of…") are kept in the ledger for review.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import IO, Any

from rightsledger.errors import ConfigError
from rightsledger.export import geojson, jsonl, tabular
from rightsledger.model import Document

Exporter = Callable[[Iterable[Document], IO[str]], int]

EXPORTERS: dict[str, Exporter] = {
    "jsonl": jsonl.write,
    "csv": tabular.write,
    "geojson": geojson.write,
}
FORMATS = tuple(EXPORTERS)


def confirmed(doc: Document) -> Document:
    """The document with only its asserted incidents (a copy; `doc` is not changed)."""
    return replace(doc, incidents=[i for i in doc.incidents if i.modality == "asserted"])


def export_documents(docs: Iterable[Document], fmt: str, out: IO[str], *, include_unconfirmed: bool = False) -> int:
    """Write `docs` to `out` in format `fmt`; returns the number of records written."""
    try:
        exporter = EXPORTERS[fmt]
    except KeyError:
        raise ConfigError(f"unknown export format {fmt!r}", hint=f"use one of: {', '.join(FORMATS)}") from None
    selected: Iterator[Document] | Iterable[Document] = docs if include_unconfirmed else map(confirmed, docs)
    return exporter(selected, out)


@lru_cache(maxsize=1)
def export_schema() -> dict[str, Any]:
    """The JSON Schema of one JSONL export record (shipped as rightsledger/schema/export.schema.json)."""
    text = resources.files("rightsledger").joinpath("schema", "export.schema.json").read_text(encoding="utf-8")
    return json.loads(text)
