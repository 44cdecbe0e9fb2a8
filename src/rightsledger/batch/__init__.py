"""Batch mode: prepare and extract millions of reports on Dask, into Parquet, for bulk loading.

`run_batch(inputs, out)` streams files, bundles, directories and web archives into partitions,
processes each partition as one task on a worker and writes its tables (documents, originals,
custody, incidents, facts, citations, errors, filtered) as Parquet with a schema version, plus a
done marker and a manifest; re-running skips finished partitions. `Results(out)` reads them back
for `Ledger.load`. `load_filter("north-korea")` gives a relevance filter applied before extraction.

DOCS: docs/scaling.md
"""

from rightsledger.batch.job import DEFAULT_PARTITION_SIZE, BatchReport, run_batch
from rightsledger.batch.layout import Results
from rightsledger.batch.relevance import RelevanceFilter, load_filter, packaged_filters
from rightsledger.batch.tables import SCHEMA_VERSION, TABLES

__all__ = [
    "DEFAULT_PARTITION_SIZE",
    "SCHEMA_VERSION",
    "TABLES",
    "BatchReport",
    "RelevanceFilter",
    "Results",
    "load_filter",
    "packaged_filters",
    "run_batch",
]
