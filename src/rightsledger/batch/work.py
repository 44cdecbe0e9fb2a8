"""What a worker does with one partition: clean, filter, extract, write its Parquet tables.

Documents are built and extracted exactly as `Ledger.ingest` does it (the same helpers, the same
packaged pipeline), so a batch run finds the same incidents as the single-process path; only the
error policy differs: a failing component is logged and skipped (recorded on the document) rather
than failing the item, as a batch of millions must go on.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rightsledger import evidence
from rightsledger.batch.layout import Results, write_json
from rightsledger.batch.partition import Partition
from rightsledger.batch.relevance import RelevanceFilter
from rightsledger.batch.tables import SCHEMA_VERSION, TABLES, TableBuffer, write_table
from rightsledger.errors import RightsLedgerError
from rightsledger.extract import default_pipeline
from rightsledger.ingest import ItemError, Prepared, RawItem, prepare
from rightsledger.model import Document
from rightsledger.store.repository import span_cols, why_cols, fact_rows  # the ledger's own row shapes

__all__ = ["WorkOptions", "process_partition"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkOptions:
    run_id: str
    relevance: RelevanceFilter | None = None


# One encoder for every JSON column: json.dumps with options would build a new one per value
# (dozens per document: one per fact).
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def document_rows(prepared: Prepared, doc: Document, *, relevance: str | None,
                  warnings: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The ledger rows of one extracted document (the columns `Repository.add_document` writes)."""
    from rightsledger.ledger import jsonable  # the ledger's own conversion of metadata to JSON

    raw = prepared.raw
    rows: dict[str, list[dict[str, Any]]] = {
        "originals": [{"sha256": doc.sha256, "size": len(raw.data), "media_type": raw.media_type, "content": raw.data}],
        "documents": [{
            "id": doc.id, "sha256": doc.sha256, "url": doc.url, "outlet": doc.outlet, "title": doc.title,
            "published": doc.published, "language": doc.language, "source_text": prepared.source_text,
            "text": doc.text, "offsets": _json(prepared.offsets.to_json()), "removed": _json(jsonable(prepared.removed)),
            "duplicate_of": doc.duplicate_of, "extractor": evidence.TOOL, "relevance": relevance,
            "errors": _json(doc.layers.get("errors", [])), "warnings": _json(warnings),
        }],
        "incidents": [{
            "id": inc.id, "document_id": doc.id, "seq": n, "modality": inc.modality, "case_id": inc.case_id,
            "date_start": inc.date.start, "date_end": inc.date.end, "date_precision": inc.date.precision,
            "evidence": _json([s.to_dict() for s in inc.evidence]),
        } for n, inc in enumerate(doc.incidents)],
        "facts": [{**r, "value": _json(r["value"])} for inc in doc.incidents for r in fact_rows(inc)],
        "citations": [{"document_id": doc.id, "seq": n, "outlet": c.outlet, **span_cols(c.evidence), **why_cols(c.why)}
                      for n, c in enumerate(doc.cites)],
    }
    return rows


def _custody(item: RawItem, sha: str, doc_id: str | None, part: Partition, options: WorkOptions) -> dict[str, Any]:
    from rightsledger.ledger import jsonable

    details = {"media_type": item.media_type, "size": len(item.data), **jsonable(item.meta),
               "batch_run": options.run_id, "batch_partition": part.id}
    return {"sha256": sha, "document_id": doc_id, "source": item.source, "retrieved_at": item.retrieved_at,
            "tool": evidence.TOOL, "details": _json(details)}


def _extract(prepared: Prepared, doc_id: str) -> tuple[Document, list[str]]:
    from rightsledger.ledger import document_from_prepared, number_incidents, span_problems

    doc = document_from_prepared(prepared, doc_id)
    doc = next(default_pipeline().pipe([doc], batch=True))  # a failing component: logged, skipped
    number_incidents(doc)
    return doc, span_problems(doc)


def process_partition(part: Partition, root: str, options: WorkOptions) -> dict[str, Any]:
    """Process one partition and write its tables and done marker; returns its numbers."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    rows = {t: TableBuffer(t) for t in TABLES}
    stored: dict[str, str] = {}  # sha256 -> document id, for repeats within the partition
    counts = {"items": len(part.items), "documents": 0, "incidents": 0, "facts": 0, "filtered": 0, "errors": 0,
              "repeats": 0, "component_errors": 0}
    for item in part.items:
        if isinstance(item, ItemError):
            rows["errors"].append({"source": item.source, "sha256": None, "stage": "read", "reason": item.reason})
            continue
        sha = evidence.digest(item.data)
        if sha in stored:
            counts["repeats"] += 1
            rows["custody"].append(_custody(item, sha, stored[sha], part, options))
            continue
        try:
            prepared = prepare(item)
        except RightsLedgerError as exc:
            rows["errors"].append({"source": item.source, "sha256": sha, "stage": "prepare", "reason": str(exc)})
            continue
        except Exception as exc:  # a reader bug must cost one item, not the partition
            log.warning("reading failed for %s", item.source, exc_info=True)
            rows["errors"].append({"source": item.source, "sha256": sha, "stage": "prepare",
                                   "reason": f"reading failed: {type(exc).__name__}: {exc}"})
            continue
        matched = None
        if options.relevance is not None:
            matched = options.relevance.match(prepared.title, prepared.text)
            if matched is None:
                rows["filtered"].append({"source": item.source, "sha256": sha, "title": prepared.title})
                continue
        doc, warnings = _extract(prepared, sha[:16])
        for table, new in document_rows(prepared, doc, relevance=matched, warnings=warnings).items():
            rows[table].extend(new)
        rows["custody"].append(_custody(item, sha, doc.id, part, options))
        stored[sha] = doc.id
        counts["component_errors"] += bool(doc.layers.get("errors"))
    counts.update(documents=len(rows["documents"]), incidents=len(rows["incidents"]), facts=len(rows["facts"]),
                  filtered=len(rows["filtered"]), errors=len(rows["errors"]))

    results = Results(Path(root))
    for table in TABLES:
        write_table(results.table_path(table, part.id), rows[table], tool=evidence.TOOL)
    stats = {
        "partition": part.id, "fingerprint": part.fingerprint, "run_id": options.run_id,
        "schema_version": SCHEMA_VERSION, **counts,
        "cpu_seconds": round(time.process_time() - cpu0, 3), "wall_seconds": round(time.perf_counter() - wall0, 3),
        "worker": f"{socket.gethostname()}:{os.getpid()}",
        "worker_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    write_json(results.marker_path(part.id), stats)  # last: the partition is now done
    return stats
