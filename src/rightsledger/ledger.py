"""The ledger facade: the one orchestrator, and the entry point for programs.

`Ledger.ingest` reads items (`rightsledger.ingest`), prepares their clean text, runs extraction
(`rightsledger.extract`) and stores each document, with its original bytes, custody record,
incidents, facts and citations, in ONE transaction: an interrupted run leaves whole documents
or nothing. The CLI and the review app call these methods and only format what they return.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import IO, Any

from rightsledger import evidence, extract, ingest, settings
from rightsledger.errors import IngestError, NotFoundError, RightsLedgerError
from rightsledger.export import FORMATS, export_documents
from rightsledger.export.tabular import place_label, victims_label  # shared by the CSV and the CLI
from rightsledger.extract import places as geoparse
from rightsledger.model import Document, Span
from rightsledger.store.repository import Repository
from rightsledger.store.session import Database

log = logging.getLogger(__name__)

INGESTED, REPEAT, FAILED = "ingested", "repeat", "failed"
ID_LENGTH = 16  # hex digits of the SHA-256 used as document id (the full digest on a clash)

__all__ = ["Ledger", "IngestReport", "ItemResult", "VerifyReport", "analyse", "demo_ledger",
           "find_places", "explain_places", "describe_pipeline", "FORMATS", "place_label", "victims_label"]


@dataclass(slots=True)
class ItemResult:
    """What happened to one item of an ingest run."""

    source: str
    status: str  # ingested | repeat | failed
    document_id: str | None = None
    sha256: str | None = None
    incidents: int = 0
    reason: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "status": self.status, "document_id": self.document_id,
                "sha256": self.sha256, "incidents": self.incidents, "reason": self.reason,
                "warnings": self.warnings}


@dataclass(slots=True)
class IngestReport:
    results: list[ItemResult] = field(default_factory=list)

    def _with(self, status: str) -> list[ItemResult]:
        return [r for r in self.results if r.status == status]

    @property
    def ingested(self) -> list[ItemResult]:
        return self._with(INGESTED)

    @property
    def repeats(self) -> list[ItemResult]:
        return self._with(REPEAT)

    @property
    def failed(self) -> list[ItemResult]:
        return self._with(FAILED)

    @property
    def ok(self) -> bool:
        return not self.failed

    def document_ids(self) -> list[str]:
        """Documents this run ingested or saw again, in order, without repeats."""
        return list(dict.fromkeys(r.document_id for r in self.results if r.document_id))

    def to_dict(self) -> dict[str, Any]:
        return {"ingested": len(self.ingested), "repeats": len(self.repeats), "failed": len(self.failed),
                "items": [r.to_dict() for r in self.results]}


@dataclass(slots=True)
class VerifyReport:
    checked: int = 0
    documents: int = 0
    problems: list[evidence.Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "originals_checked": self.checked, "documents": self.documents,
                "problems": [p.to_dict() for p in self.problems]}


Progress = Callable[[ItemResult], None]


def _jsonable(value: Any) -> Any:
    """Item metadata as plain JSON (dates and other objects become strings)."""
    return json.loads(json.dumps(value, default=str))


def _document(prepared: ingest.Prepared, doc_id: str) -> Document:
    return Document(id=doc_id, text=prepared.text, sha256=prepared.sha256, url=prepared.url,
                    outlet=prepared.outlet, title=prepared.title, published=prepared.published,
                    language=prepared.language)


def _own_incident_ids(doc: Document) -> None:
    """Make incident ids unique ledger-wide: prefixed by the document id, no repeats."""
    seen: set[str] = set()
    for n, inc in enumerate(doc.incidents, 1):
        if not inc.id.startswith(f"{doc.id}-"):
            inc.id = f"{doc.id}-{inc.id or f'i{n}'}"
        if inc.id in seen:
            inc.id = f"{doc.id}-i{n}"
        seen.add(inc.id)


def _spans(doc: Document) -> Iterator[tuple[str, Span | None]]:
    for c in doc.cites:
        yield (c.why.component if c.why else "cites"), c.evidence
    for inc in doc.incidents:
        for s in inc.evidence:
            yield "incident", s
        for t in inc.type_facts:
            yield t.why.component, t.evidence
        yield (inc.date.why.component if inc.date.why else "date"), inc.date.evidence
        for f in (*inc.places, *inc.victims, *inc.perpetrators, *inc.sources):
            yield (f.why.component if f.why else type(f).__name__), f.evidence


def span_problems(doc: Document) -> list[str]:
    """Spans that do not quote the clean text exactly (an extraction bug, reported, never hidden)."""
    problems = []
    for component, span in _spans(doc):
        if span is None:
            continue
        if not (0 <= span.start <= span.end <= len(doc.text)) or doc.text[span.start:span.end] != span.text:
            problems.append(f"{component}: span {span.start}-{span.end} {span.text[:40]!r} does not match the text")
    return problems


_BUG_HINT = "this is a bug in RightsLedger; please report it with the input"


def _prepare_and_extract(item: ingest.RawItem, doc_id: str) -> tuple[ingest.Prepared, Document]:
    """Clean text, then extraction; an unexpected exception fails this item, not the batch."""
    try:
        prepared = ingest.prepare(item)
    except RightsLedgerError:
        raise
    except Exception as exc:
        log.warning("reading failed for %s", item.source, exc_info=True)
        raise IngestError(f"reading failed: {type(exc).__name__}: {exc}", hint=_BUG_HINT) from exc
    doc = _document(prepared, doc_id)
    try:
        doc = extract.extract(doc)
    except RightsLedgerError:
        raise
    except Exception as exc:
        log.warning("extraction failed for %s", item.source, exc_info=True)
        raise IngestError(f"extraction failed: {type(exc).__name__}: {exc}", hint=_BUG_HINT) from exc
    _own_incident_ids(doc)
    return prepared, doc


def analyse(paths: Sequence[Path], urls: Sequence[str] = (), *, max_bytes: int | None = None,
            allow_private: bool | None = None) -> Iterator[Document | ingest.ItemError]:
    """Read, prepare and extract items without storing anything (`rightsledger extract`)."""
    for item in _items(paths, urls, max_bytes, allow_private):
        if isinstance(item, ingest.ItemError):
            yield item
            continue
        try:
            yield _prepare_and_extract(item, evidence.digest(item.data)[:ID_LENGTH])[1]
        except IngestError as exc:
            yield ingest.ItemError(item.source, str(exc))


def _items(paths: Sequence[Path], urls: Sequence[str], max_bytes: int | None,
           allow_private: bool | None) -> Iterator[ingest.RawItem | ingest.ItemError]:
    return ingest.iter_items(
        [Path(p) for p in paths], list(urls),
        max_bytes=int(settings.get("max_bytes", max_bytes)),
        allow_private=bool(settings.get("allow_private_urls", allow_private)),
    )


def find_places(text: str) -> list[dict[str, Any]]:
    """Every toponym the geoparser finds in `text` (the `places --json` shape)."""
    return [t.to_json() for t in geoparse.find_toponyms(text)]


def explain_places(text: str) -> list[dict[str, Any]]:
    """Toponyms with their scored candidates and reasons, for analysts checking the geoparser."""
    explain = getattr(geoparse, "explain_toponyms", None)
    if explain is None:  # an older geoparser: at least show what it chose
        return find_places(text)
    return list(explain(text))


def describe_pipeline() -> list[dict[str, Any]]:
    """The resolved extraction pipeline: each component's name, requires, assigns and settings."""
    pipeline = extract.default_pipeline()
    describe = getattr(pipeline, "describe", None)
    return list(describe()) if describe else []


class Ledger:
    """An incident ledger in a SQLite file or a PostgreSQL database (migrated on open)."""

    def __init__(self, url: str | os.PathLike[str] | None = None) -> None:
        self.url = settings.database_url(url)
        self.db = Database(self.url)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # -- ingest -------------------------------------------------------------------------------
    def ingest(self, paths: Sequence[str | os.PathLike[str]] = (), urls: Sequence[str] = (), *,
               max_bytes: int | None = None, allow_private: bool | None = None,
               progress: Progress | None = None) -> IngestReport:
        """Ingest files, directories, bundles and URLs; one transaction per document."""
        report = IngestReport()
        for item in _items([Path(p) for p in paths], urls, max_bytes, allow_private):
            result = self._ingest_one(item)
            if result.status == FAILED:
                log.info("%s: %s", result.source, result.reason)
            report.results.append(result)
            if progress:
                progress(result)
        return report

    def ingest_examples(self, progress: Progress | None = None) -> IngestReport:
        """Ingest the invented example reports shipped with RightsLedger."""
        with resources.as_file(ingest.examples_dir()) as folder:
            return self.ingest([folder], progress=progress)

    def _repeat(self, repo: Repository, item: ingest.RawItem, sha: str, doc_id: str) -> ItemResult:
        repo.add_custody(evidence.custody(evidence.REPEAT, sha, item.source, item.retrieved_at,
                                          document_id=doc_id, details=_jsonable(item.meta)))
        return ItemResult(item.source, REPEAT, doc_id, sha)

    def _ingest_one(self, item: ingest.RawItem | ingest.ItemError) -> ItemResult:
        if isinstance(item, ingest.ItemError):
            return ItemResult(item.source, FAILED, reason=item.reason)
        sha = evidence.digest(item.data)
        with self.db.read() as conn:  # a read: no commit to flush to disk for the common case
            repo = Repository(conn)
            known = repo.document_id_for(sha)
            doc_id = sha if repo.id_taken(sha[:ID_LENGTH]) else sha[:ID_LENGTH]
        if known:
            with self.db.write() as conn:
                return self._repeat(Repository(conn), item, sha, known)
        # Reading and extraction happen outside the write transaction, so they never hold the lock.
        try:
            prepared, doc = _prepare_and_extract(item, doc_id)
        except IngestError as exc:
            return ItemResult(item.source, FAILED, sha256=sha, reason=str(exc))
        warnings = span_problems(doc)
        for w in warnings:
            log.warning("%s: %s", item.source, w)
        details = {"media_type": item.media_type, "size": len(item.data), **_jsonable(item.meta)}
        with self.db.write() as conn:
            repo = Repository(conn)
            known = repo.document_id_for(sha)
            if known:  # another process stored the same bytes meanwhile
                return self._repeat(repo, item, sha, known)
            repo.add_original(item.data, item.media_type)
            repo.add_document(doc, source_text=prepared.source_text, offsets=prepared.offsets.to_json(),
                              removed=_jsonable(prepared.removed), extractor=evidence.TOOL)
            repo.add_custody(evidence.custody(evidence.INGESTED, sha, item.source, item.retrieved_at,
                                              document_id=doc.id, details=details))
        return ItemResult(item.source, INGESTED, doc.id, sha, len(doc.incidents), warnings=warnings)

    # -- reading ------------------------------------------------------------------------------
    def resolve(self, ref: str) -> str:
        """The id of the document `ref` names (an id, a unique prefix of one, or a SHA-256)."""
        with self.db.read() as conn:
            return Repository(conn).resolve(ref)

    def documents(self) -> list[dict[str, Any]]:
        """A listing row per document (id, outlet, published, title, url, incident counts)."""
        with self.db.read() as conn:
            return Repository(conn).summaries()

    def document(self, ref: str) -> Document:
        """One document with its incidents, facts and citations."""
        with self.db.read() as conn:
            repo = Repository(conn)
            docs = repo.load([repo.resolve(ref)])
        if not docs:
            raise NotFoundError(f"no document {ref!r} in the ledger", hint="see `rightsledger list`")
        return docs[0]

    def iter_documents(self, ids: Iterable[str] | None = None) -> Iterator[Document]:
        with self.db.read() as conn:
            yield from Repository(conn).iter_documents(ids)

    def record(self, ref: str) -> dict[str, Any]:
        """Everything stored about a document beside the model: custody, source text, offsets."""
        with self.db.read() as conn:
            repo = Repository(conn)
            doc_id = repo.resolve(ref)
            rec = repo.document_record(doc_id)
            rec["custody"] = [c.to_dict() for c in repo.custody(doc_id)]
        return rec

    def original(self, ref: str) -> bytes:
        """The original bytes of a document, verified against their SHA-256."""
        with self.db.read() as conn:
            repo = Repository(conn)
            doc = repo.load([repo.resolve(ref)])[0]
            return repo.original(doc.sha256)

    def export(self, fmt: str, out: IO[str], *, include_unconfirmed: bool = False) -> int:
        """Write every document in `fmt` (jsonl, csv, geojson) to `out`; returns records written."""
        return export_documents(self.iter_documents(), fmt, out, include_unconfirmed=include_unconfirmed)

    def stats(self) -> dict[str, Any]:
        with self.db.read() as conn:
            out = Repository(conn).stats()
        out["database"] = settings.redact_url(self.url)
        return out

    def verify(self, progress: Callable[[int], None] | None = None) -> VerifyReport:
        """Re-hash every stored original; also check every document has its original and custody."""
        report = VerifyReport()
        with self.db.read() as conn:
            repo = Repository(conn)
            for sha, data in repo.iter_originals():
                report.checked += 1
                if evidence.digest(data) != sha:
                    report.problems.append(evidence.Mismatch(sha, repo.document_id_for(sha),
                                                             "content no longer matches its SHA-256"))
                if progress:
                    progress(report.checked)
            report.problems += repo.incomplete()
            report.documents = len(repo.document_ids())
        return report


def demo_ledger(url: str | os.PathLike[str] | None = None) -> Ledger:
    """The ledger for `rightsledger demo`: the given one, or a fresh rightsledger-demo.db here."""
    if url is not None:
        return Ledger(url)
    path = Path(settings.DEMO_DB)
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        stale.unlink(missing_ok=True)
    return Ledger(str(path))
