"""The Parquet tables a batch run writes, one file per table per partition, and reading them back.

Columns carry the ledger's own names so `rightsledger load` copies them without reshaping; JSON
columns (offsets, spans, fact values, custody details) hold JSON text. Every file records the
schema version and the table in its Parquet metadata; a reader refuses files written under
another major version instead of misreading them.

Layout of a results folder (see docs/scaling.md):
    DIR/<table>/<partition>.parquet   documents, originals, custody, incidents, facts, citations,
                                      errors (items that could not be read), filtered (items the
                                      relevance filter left out)
    DIR/_done/<partition>.json        the done marker, written last
    DIR/manifest.json                 settings, partitions and totals of the run
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from rightsledger.errors import ConfigError

__all__ = ["SCHEMAS", "SCHEMA_VERSION", "TABLES", "TableBuffer", "read_table", "write_table"]

SCHEMA_VERSION = "1.0"  # major.minor: minor adds columns; a new major changes or removes them

_S, _BIG, _I32, _I64 = pa.string(), pa.large_string(), pa.int32(), pa.int64()
_SPAN = [("span_start", _I64), ("span_end", _I64), ("span_text", _S)]
_WHY = [("component", _S), ("rule", _S), ("detail", _S)]

SCHEMAS: dict[str, pa.Schema] = {
    "documents": pa.schema([
        ("id", _S), ("sha256", _S), ("url", _S), ("outlet", _S), ("title", _S), ("published", pa.date32()),
        ("language", _S), ("source_text", _BIG), ("text", _BIG), ("offsets", _BIG), ("removed", _S),
        ("duplicate_of", _S), ("extractor", _S),
        ("relevance", _S),  # the filter term that let the report through (null without a filter)
        ("errors", _S),  # JSON: components that failed on this document (log-and-skip)
        ("warnings", _S),  # JSON: spans that do not quote the text (extraction bugs, reported)
    ]),
    "originals": pa.schema([("sha256", _S), ("size", _I64), ("media_type", _S), ("content", pa.large_binary())]),
    "custody": pa.schema([
        ("sha256", _S), ("document_id", _S), ("source", _S), ("retrieved_at", pa.timestamp("us", tz="UTC")),
        ("tool", _S), ("details", _S),
    ]),
    "incidents": pa.schema([
        ("id", _S), ("document_id", _S), ("seq", _I32), ("modality", _S), ("case_id", _S),
        ("date_start", pa.date32()), ("date_end", pa.date32()), ("date_precision", _S), ("evidence", _S),
    ]),
    "facts": pa.schema([("incident_id", _S), ("seq", _I32), ("kind", _S), ("value", _S), *_SPAN, *_WHY]),
    "citations": pa.schema([("document_id", _S), ("seq", _I32), ("outlet", _S), *_SPAN, *_WHY]),
    "errors": pa.schema([("source", _S), ("sha256", _S), ("stage", _S), ("reason", _S)]),
    "filtered": pa.schema([("source", _S), ("sha256", _S), ("title", _S)]),
}
TABLES = tuple(SCHEMAS)


def _metadata(table: str, tool: str) -> dict[bytes, bytes]:
    return {b"rightsledger.schema_version": SCHEMA_VERSION.encode(), b"rightsledger.table": table.encode(),
            b"rightsledger.tool": tool.encode()}


class TableBuffer:
    """One table's rows for a partition, held column by column until the partition is written.

    Each row dict is dropped as soon as it is added: thousands of them held until the end made
    the garbage collector walk the worker's whole heap (models included) once per partition. A
    key the row lacks is null, one the schema lacks is ignored, as with `pa.Table.from_pylist`.
    """

    __slots__ = ("columns", "table")

    def __init__(self, table: str) -> None:
        self.table = table
        self.columns: dict[str, list[Any]] = {name: [] for name in SCHEMAS[table].names}

    def __len__(self) -> int:
        return len(self.columns[SCHEMAS[self.table].names[0]])

    def append(self, row: dict[str, Any]) -> None:
        for name, values in self.columns.items():
            values.append(row.get(name))

    def extend(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.append(row)


def write_table(path: Path, rows: TableBuffer, *, tool: str) -> None:
    """Write `rows` as one Parquet file, atomically (a temporary name, then a rename)."""
    schema = SCHEMAS[rows.table].with_metadata(_metadata(rows.table, tool))
    data = pa.Table.from_arrays(list(rows.columns.values()), schema=schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(data, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def check_version(found: str | None, where: str) -> None:
    if not found or found.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise ConfigError(f"{where} was written with batch schema {found or 'unknown'}; this version reads {SCHEMA_VERSION}",
                          hint="re-run `rightsledger batch` with this version into a new --out folder")


def read_table(path: Path, table: str) -> list[dict[str, Any]]:
    """The rows of one Parquet file, after checking its schema version."""
    data = pq.read_table(path)
    meta = data.schema.metadata or {}
    version = meta.get(b"rightsledger.schema_version", b"").decode() or None
    check_version(version, str(path))
    if meta.get(b"rightsledger.table", b"").decode() != table:
        raise ConfigError(f"{path} is not a {table} table", hint="the results folder was changed by hand; re-run the batch")
    return data.to_pylist()
