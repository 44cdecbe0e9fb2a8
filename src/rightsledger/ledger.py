"""The ledger facade: the one orchestrator, and the entry point for programs.

`Ledger.ingest` reads items (`rightsledger.ingest`), prepares their clean text, runs extraction
(`rightsledger.extract`) and stores each document, with its original bytes, custody record,
incidents, facts and citations, in ONE transaction: an interrupted run leaves whole documents
or nothing. The CLI and the review app call these methods and only format what they return.
"""

from __future__ import annotations

import functools
import json
from contextlib import contextmanager
import logging
import re
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import IO, Any

from rightsledger import evidence, extract, ingest, settings
from rightsledger import link as linking
from rightsledger.errors import ConfigError, IngestError, NotFoundError, RightsLedgerError
from rightsledger.export import public
from rightsledger.protect import audit
from rightsledger.protect import backup as backups
from rightsledger.protect import crypto
from rightsledger.protect import marks as marking
from rightsledger.protect import sealed as sealing
from rightsledger.export import FORMATS, export_documents
from rightsledger.export.tabular import place_label, victims_label  # shared by the CSV and the CLI
from rightsledger.extract import places as geoparse
from rightsledger.model import (
    DATE_PRECISIONS,
    MODALITIES,
    PERPETRATOR_KINDS,
    PLACE_LEVELS,
    PLACE_ROLES,
    SOURCE_KINDS,
    VICTIM_UNITS,
    VIOLATION_TYPES,
    Document,
    Span,
)
from rightsledger.resources import data_file
from rightsledger.store.repository import CandidateKeys, Repository, ReviewRepository, SearchFilters
from rightsledger.store.schema import ROLES
from rightsledger.store.session import Database, serialize

log = logging.getLogger(__name__)

INGESTED, REPEAT, FAILED = "ingested", "repeat", "failed"
ID_LENGTH = 16  # hex digits of the SHA-256 used as document id (the full digest on a clash)
MAP_MAX_MARKERS = 2000  # more markers than this in view and the map data comes clustered

__all__ = ["Ledger", "IngestReport", "LoadReport", "run_batch", "ItemResult", "VerifyReport", "LinkReport", "Case", "analyse", "demo_ledger",
           "find_places", "explain_places", "describe_pipeline", "FORMATS", "place_label", "victims_label",
           "SearchFilters", "ROLES", "CASE_STEPS", "PLACE_LEVELS"]

PLACE_LEVELS = public.PLACE_LEVELS


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
    chain: audit.ChainReport = field(default_factory=audit.ChainReport)
    sealed_checked: int = 0  # sealed values opened with the key and matched to their SHA-256
    locked: int = 0  # sealed values not checked: no key (or a wrong one, see `key_problem`)
    key_problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems and self.chain.ok

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "originals_checked": self.checked, "documents": self.documents,
                "problems": [p.to_dict() for p in self.problems], "audit": self.chain.to_dict(),
                "sealed_checked": self.sealed_checked, "locked_not_checked": self.locked,
                "key_problem": self.key_problem or None}


Progress = Callable[[ItemResult], None]
Case = linking.Case


@dataclass(slots=True)
class LinkReport:
    """What a linking run did: documents linked, copies found, cases written and retired."""

    documents: int = 0
    duplicates: int = 0
    cases: list[Case] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    full: bool = False

    def to_dict(self) -> dict[str, Any]:
        statuses: dict[str, int] = {}
        for c in self.cases:
            statuses[c.status] = statuses.get(c.status, 0) + 1
        return {"documents": self.documents, "duplicates": self.duplicates, "cases": len(self.cases),
                "statuses": statuses, "retired": self.retired, "full": self.full}


def jsonable(value: Any) -> Any:
    """Item metadata as plain JSON (dates and other objects become strings)."""
    return json.loads(json.dumps(value, default=str))


def document_from_prepared(prepared: ingest.Prepared, doc_id: str) -> Document:
    return Document(id=doc_id, text=prepared.text, sha256=prepared.sha256, url=prepared.url,
                    outlet=prepared.outlet, title=prepared.title, published=prepared.published,
                    language=prepared.language)


def number_incidents(doc: Document) -> None:
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
    doc = document_from_prepared(prepared, doc_id)
    try:
        doc = extract.extract(doc)
    except RightsLedgerError:
        raise
    except Exception as exc:
        log.warning("extraction failed for %s", item.source, exc_info=True)
        raise IngestError(f"extraction failed: {type(exc).__name__}: {exc}", hint=_BUG_HINT) from exc
    number_incidents(doc)
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


@dataclass(slots=True)
class LoadReport:
    """What `Ledger.load` added from a batch results folder (nothing, the second time)."""

    partitions: int = 0
    documents: int = 0
    known: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    link: LinkReport | None = None
    link_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"partitions": self.partitions, "documents": self.documents, "known": self.known,
                "rows": self.rows, "seconds": round(self.seconds, 3),
                "link": self.link.to_dict() if self.link else None, "link_seconds": round(self.link_seconds, 3)}


def run_batch(inputs: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str], *,
              relevance: str | None = None, max_bytes: int | None = None, **options: Any) -> Any:
    """`rightsledger batch`: prepare and extract on Dask into Parquet (see rightsledger.batch.run_batch)."""
    from rightsledger import batch  # needs the scale extra (Dask, pyarrow): imported only when used

    return batch.run_batch([Path(p) for p in inputs], Path(out), max_bytes=int(settings.get("max_bytes", max_bytes)),
                           relevance=batch.load_filter(relevance) if relevance else None, **options)


class Ledger:
    """An incident ledger in a SQLite file or a PostgreSQL database (migrated on open)."""

    def __init__(self, url: str | os.PathLike[str] | None = None, *, key: bytes | None = None) -> None:
        """`key` opens confidential values; without it RIGHTSLEDGER_KEY_FILE or RIGHTSLEDGER_PASSPHRASE
        is used, and without those confidential values stay locked (everything else works)."""
        self.url = settings.database_url(url)
        self.db = Database(self.url)
        self.keyring = sealing.Keyring(key)

    def _repo(self, conn: Any) -> Repository:
        return Repository(conn, self.keyring)

    def _rev(self, conn: Any) -> ReviewRepository:
        return ReviewRepository(conn, self.keyring)

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # -- ingest -------------------------------------------------------------------------------
    def ingest(self, paths: Sequence[str | os.PathLike[str]] = (), urls: Sequence[str] = (), *,
               max_bytes: int | None = None, allow_private: bool | None = None,
               progress: Progress | None = None, link: bool = True) -> IngestReport:
        """Ingest files, directories, bundles and URLs; one transaction per document.

        Then (unless `link=False`) the new documents are linked to the ledger's cases in one
        more transaction; documents an interrupted run left unlinked are linked with them.
        """
        report = IngestReport()
        for item in _items([Path(p) for p in paths], urls, max_bytes, allow_private):
            result = self._ingest_one(item)
            if result.status == FAILED:
                log.info("%s: %s", result.source, result.reason)
            report.results.append(result)
            if progress:
                progress(result)
        if link and report.ingested:
            self.link_new()
        return report

    def ingest_examples(self, progress: Progress | None = None) -> IngestReport:
        """Ingest the invented example reports shipped with RightsLedger."""
        with resources.as_file(ingest.examples_dir()) as folder:
            return self.ingest([folder], progress=progress)

    def _repeat(self, repo: Repository, item: ingest.RawItem, sha: str, doc_id: str) -> ItemResult:
        repo.add_custody(evidence.custody(evidence.REPEAT, sha, item.source, item.retrieved_at,
                                          document_id=doc_id, details=jsonable(item.meta)))
        return ItemResult(item.source, REPEAT, doc_id, sha)

    def _ingest_one(self, item: ingest.RawItem | ingest.ItemError) -> ItemResult:
        if isinstance(item, ingest.ItemError):
            return ItemResult(item.source, FAILED, reason=item.reason)
        sha = evidence.digest(item.data)
        with self.db.read() as conn:  # a read: no commit to flush to disk for the common case
            repo = self._repo(conn)
            known = repo.document_id_for(sha)
            doc_id = sha if repo.id_taken(sha[:ID_LENGTH]) else sha[:ID_LENGTH]
        if known:
            with self.db.write() as conn:
                return self._repeat(self._repo(conn), item, sha, known)
        # Reading and extraction happen outside the write transaction, so they never hold the lock.
        try:
            prepared, doc = _prepare_and_extract(item, doc_id)
        except IngestError as exc:
            return ItemResult(item.source, FAILED, sha256=sha, reason=str(exc))
        warnings = span_problems(doc)
        for w in warnings:
            log.warning("%s: %s", item.source, w)
        details = {"media_type": item.media_type, "size": len(item.data), **jsonable(item.meta)}
        with self.db.write() as conn:
            repo = self._repo(conn)
            known = repo.document_id_for(sha)
            if known:  # another process stored the same bytes meanwhile
                return self._repeat(repo, item, sha, known)
            repo.add_original(item.data, item.media_type)
            repo.add_document(doc, source_text=prepared.source_text, offsets=prepared.offsets.to_json(),
                              removed=jsonable(prepared.removed), extractor=evidence.TOOL)
            repo.add_custody(evidence.custody(evidence.INGESTED, sha, item.source, item.retrieved_at,
                                              document_id=doc.id, details=details))
        return ItemResult(item.source, INGESTED, doc.id, sha, len(doc.incidents), warnings=warnings)

    # -- reading ------------------------------------------------------------------------------
    def resolve(self, ref: str) -> str:
        """The id of the document `ref` names (an id, a unique prefix of one, or a SHA-256)."""
        with self.db.read() as conn:
            return self._repo(conn).resolve(ref)

    def documents(self) -> list[dict[str, Any]]:
        """A listing row per document (id, outlet, published, title, url, incident counts)."""
        with self.db.read() as conn:
            return self._repo(conn).summaries()

    def document(self, ref: str, *, allow_locked: bool = False) -> Document:
        """One document with its incidents, facts and citations. A confidential document without
        its key raises KeyProblem, unless `allow_locked` (then `doc.locked` and stand-ins)."""
        with self.db.read() as conn:
            repo = self._repo(conn)
            docs = repo.load([repo.resolve(ref)])
        if not docs:
            raise NotFoundError(f"no document {ref!r} in the ledger", hint="see `rightsledger list`")
        if docs[0].locked and not allow_locked:
            raise crypto.KeyProblem(f"document {docs[0].id} is confidential and locked: its text, original and "
                                    "informant details are encrypted at rest", hint=sealing.UNLOCK_HINT)
        return docs[0]

    def iter_documents(self, ids: Iterable[str] | None = None) -> Iterator[Document]:
        with self.db.read() as conn:
            yield from self._repo(conn).iter_documents(ids)

    def record(self, ref: str) -> dict[str, Any]:
        """Everything stored about a document beside the model: custody, source text, offsets."""
        with self.db.read() as conn:
            repo = self._repo(conn)
            doc_id = repo.resolve(ref)
            rec = repo.document_record(doc_id)
            rec["custody"] = [c.to_dict() for c in repo.custody(doc_id)]
        return rec

    def original(self, ref: str) -> bytes:
        """The original bytes of a document, verified against their SHA-256."""
        with self.db.read() as conn:
            repo = self._repo(conn)
            doc = repo.load([repo.resolve(ref)])[0]
            return repo.original(doc.sha256)

    def export(self, fmt: str, out: IO[str], *, include_unconfirmed: bool = False) -> int:
        """Write every document in `fmt` (jsonl, csv, geojson) to `out`; returns records written.

        Confidential documents are included with the key and left out without it (`locked()`
        names them). A full export carries informant details, so it is recorded in the audit log
        (as `export_confidential` when it includes confidential documents)."""
        ids, left_out, included = self._exportable()
        n = export_documents(self.iter_documents(ids), fmt, out, include_unconfirmed=include_unconfirmed)
        with self.db.write() as conn:
            audit.append(conn, settings.current_user(), "export_confidential" if included else "export",
                         f"export:{fmt}", {"records": n, "unconfirmed": include_unconfirmed, "informants": True,
                                           "confidential_documents": included, "left_out": left_out})
        return n

    def _exportable(self) -> tuple[list[str], list[str], list[str]]:
        """(ids to export, confidential ids left out because locked, confidential ids included)."""
        with self.db.read() as conn:
            ids = self._repo(conn).document_ids()
            confidential = sealing.sealed_documents(conn)
            key = self.keyring.get(conn) if confidential else None
        if key is not None:
            return ids, [], sorted(confidential)
        return [i for i in ids if i not in confidential], sorted(confidential), []

    def locked(self) -> dict[str, Any]:
        """What is encrypted at rest and whether it can be opened now: counts of sealed values,
        confidential documents and notes, `locked` values, and `key`: none, ok, wrong or not needed."""
        with self.db.read() as conn:
            found: dict[str, Any] = sealing.counts(conn)
            rec = sealing.key_record(conn)
            try:
                key = self.keyring.get(conn)
                found["key"] = "ok" if key is not None and rec is not None else "none" if rec is not None else "not needed"
            except crypto.KeyProblem:
                key, found["key"] = None, "wrong"
            found["key_id"] = rec.key_id if rec is not None else None
            found["locked"] = found["values"] if key is None else 0
            found["locked_documents"] = sorted(sealing.sealed_documents(conn)) if key is None else []
        return found

    # -- protection: marks and the public export ------------------------------------------------
    def mark(self, target_kind: str, ref: str, mark: str, *, user: str | None = None, on: bool = True) -> str:
        """Mark a document (`sensitive` or `confidential`) or a case (`sensitive`); returns its id.

        Marking a document confidential seals what was read from it, in the same transaction
        (it needs a key: the first one used becomes the ledger's); clearing the mark unseals it."""
        if target_kind == "document":
            target_id = self.resolve(ref)
        else:
            target_id = self.case(ref).id
        user = user or settings.current_user()
        sealed_now = False
        with self.db.write() as conn:
            changed = marking.set_mark(conn, target_kind, target_id, mark, user, on)
            if changed and target_kind == "document" and mark == "confidential":
                owner = sealing.document_owner(target_id)
                if on:
                    key = self.keyring.enroll(conn)
                    n = sealing.seal_document(conn, key, target_id)
                    sealing.scrub_cases_of(conn, target_id)
                else:
                    key = self.keyring.need(conn, f"document {target_id}")
                    n = sealing.unseal_owner(conn, key, owner)
                audit.append(conn, user, "seal" if on else "unseal", owner, {"values": n, "key_id": sealing.key_id(key)})
                sealed_now = on
        if sealed_now:
            self._forget_cleartext()
        return target_id

    def _forget_cleartext(self) -> None:
        """SQLite keeps earlier page images in its write-ahead log until a checkpoint: after
        sealing, checkpoint and truncate it (best effort: a long reader can postpone it)."""
        if self.db.dialect != "sqlite":
            return
        raw = self.db.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()

    @contextmanager
    def _in_clear(self, conn: Any, doc_id: str) -> Iterator[None]:
        """Inside one write transaction: a confidential document's rows in clear for a change,
        sealed again before the transaction commits (needs the key)."""
        key = None
        if sealing.is_sealed(conn, f"documents:{doc_id}"):
            key = self.keyring.need(conn, f"document {doc_id}")
            sealing.unseal_owner(conn, key, sealing.document_owner(doc_id))
        yield
        if key is not None:
            sealing.seal_document(conn, key, doc_id)

    # -- protection: keys -------------------------------------------------------------------------
    def rotate_key(self, new_key: bytes, *, kind: str = "file", salt: bytes = b"", user: str | None = None) -> int:
        """Re-seal every sealed value under `new_key` in one transaction (all or nothing), audited;
        afterwards the old key opens nothing. Returns how many values were re-sealed."""
        with self.db.write() as conn:
            rec = sealing.key_record(conn)
            old = self.keyring.need(conn, "the ledger's sealed values") if rec is not None else None
            n = sealing.rotate(conn, old, new_key, kind, salt)
            audit.append(conn, user or settings.current_user(), "key_rotate", "key",
                         {"values": n, "old_key_id": rec.key_id if rec is not None else None,
                          "new_key_id": sealing.key_id(new_key)})
        self.keyring = sealing.Keyring(new_key)
        self._forget_cleartext()
        return n

    def marks(self) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return marking.listing(conn)

    def export_public(self, fmt: str, out: IO[str], *, place_level: str = public.DEFAULT_PLACE_LEVEL,
                      include_unconfirmed: bool = False) -> int:
        """`export` for publication: no informant details, no evidence text, no confidential
        documents, places of sensitive documents and cases generalised to `place_level`."""
        public.check_level(place_level)
        with self.db.read() as conn:
            found = marking.all_marks(conn)
            ids = [i for i in self._repo(conn).document_ids() if i not in found.confidential_documents]
        docs = public.public_documents(self.iter_documents(ids), found, place_level)
        return export_documents(docs, fmt, out, include_unconfirmed=include_unconfirmed)

    # -- protection: backup and restore ---------------------------------------------------------
    def backup(self, path: str | os.PathLike[str], *, key: bytes | None = None, salt: bytes | None = None,
               user: str | None = None) -> backups.BackupReport:
        """A consistent snapshot of the whole ledger (originals included) while it stays in use;
        sealed with `key` when given. Recorded in the audit log (a backup holds confidential data)."""
        report = backups.backup(self.db, path, key=key, salt=salt)
        with self.db.write() as conn:
            audit.append(conn, user or settings.current_user(), "backup", f"backup:{Path(path).name}",
                         {**report.to_dict(), "path": str(path)})
        return report

    def restore(self, path: str | os.PathLike[str], *, key: bytes | None = None,
                replace: bool = False) -> backups.RestoreReport:
        """Verify a backup completely, then load it into this (empty, unless `replace`) ledger."""
        return backups.restore(path, self.db, key=key, replace=replace)

    def stats(self) -> dict[str, Any]:
        with self.db.read() as conn:
            out = self._repo(conn).stats()
        out["database"] = settings.redact_url(self.url)
        out["sealed"] = self.locked()
        return out

    def verify(self, progress: Callable[[int], None] | None = None) -> VerifyReport:
        """Re-hash every stored original; also check every document has its original and custody."""
        report = VerifyReport()
        with self.db.read() as conn:
            repo = self._repo(conn)
            sealed = sealing.sealed_originals(conn)
            try:
                key = self.keyring.get(conn) if sealed or sealing.counts(conn)["values"] else None
            except crypto.KeyProblem as exc:
                key, report.key_problem = None, str(exc)
            for sha, data in repo.iter_originals():
                if sha in sealed:
                    if key is None:
                        report.locked += 1
                        continue
                    report.sealed_checked += 1
                    try:
                        data = crypto.open_sealed(key, bytes(sealed[sha].data), sealed[sha].ref)
                    except crypto.KeyProblem:
                        data = b""
                report.checked += 1
                if evidence.digest(data) != sha:
                    report.problems.append(evidence.Mismatch(sha, repo.document_id_for(sha),
                                                             "content no longer matches its SHA-256"))
                if progress:
                    progress(report.checked)
            report.problems += repo.incomplete()
            if key is not None:  # every other sealed value against its plaintext SHA-256
                others = [(ref, p) for ref, p in sealing.check_all(conn, key) if not ref.startswith("originals:")]
                report.sealed_checked += sealing.counts(conn)["values"] - len(sealed)
                report.problems += [evidence.Mismatch("", ref.split(":", 1)[1], f"sealed {ref}: {p}") for ref, p in others]
            else:
                report.locked += sealing.counts(conn)["values"] - len(sealed)
            report.documents = len(repo.document_ids())
            report.chain = audit.verify(conn)
        return report


    # -- bulk loading of batch results ---------------------------------------------------------
    def load(self, directory: str | os.PathLike[str], *, link: bool = True,
             progress: Callable[[str, dict[str, Any]], None] | None = None) -> LoadReport:
        """Load a `rightsledger batch` results folder: one transaction per partition, idempotent.

        Documents the ledger already holds (by SHA-256) are not stored again and custody records
        already made for the same source are not repeated, so loading twice adds nothing. Custody
        records name the batch run and partition. Then the new documents are linked into cases.
        """
        import time

        from rightsledger.batch import Results  # needs the scale extra (pyarrow)
        from rightsledger.store import bulk

        results = Results(Path(directory))
        report = LoadReport()
        t0 = time.perf_counter()
        where = {"loaded_from": str(results.root.resolve())}
        analysed_at = 0  # documents loaded when the planner's statistics were last refreshed
        for pid, rows in results.iter_partitions(("documents", "originals", "custody", "incidents", "facts",
                                                  "citations")):
            with self.db.write() as conn:
                stats = bulk.load_rows(conn, rows, details=where)
                audit.append(conn, settings.current_user(), "load", f"partition:{pid}", {**where, **stats.to_dict()})
            report.partitions += 1
            report.documents += stats.documents
            if report.documents >= 2 * analysed_at + 1:  # after the first partition, then each doubling
                with self.db.write() as conn:
                    bulk.refresh_statistics(conn)
                analysed_at = report.documents
            report.known += stats.known
            for table, n in stats.rows.items():
                report.rows[table] = report.rows.get(table, 0) + n
            if progress:
                progress(pid, stats.to_dict())
        report.seconds = time.perf_counter() - t0
        if link and report.documents:
            t1 = time.perf_counter()
            # Every document not linked yet: this load's, and any an interrupted load left behind.
            report.link = self.link_new()
            report.link_seconds = time.perf_counter() - t1
        return report

    # -- linking: copies, citation chains, cases ----------------------------------------------
    def _overrides(self, repo: Repository) -> linking.Overrides:
        """Analysts' decisions; for a pair decided twice, the later decision holds."""
        latest: dict[tuple[tuple[str, str], tuple[str, str]], str] = {}
        for o in repo.overrides():
            a, b = (o["a_document_id"], o["a_incident_id"]), (o["b_document_id"], o["b_incident_id"])
            latest[(min(a, b), max(a, b))] = o["action"]
        return linking.Overrides(merge=tuple(sorted(p for p, act in latest.items() if act == "merge")),
                                 split=tuple(sorted(p for p, act in latest.items() if act == "split")))

    def _link(self, repo: Repository, ids: Sequence[str], full: bool = False,
              fingerprints: linking.Fingerprints | None = None) -> LinkReport:
        """Link `ids` against the ledger and store the decisions (inside the caller's transaction);
        `fingerprints` carries the texts' fingerprints from one transaction of a run to the next."""
        serialize(repo.conn, "linking")  # two linking runs at once would each rewrite the same cases
        index = CandidateKeys(repo)
        locked = sorted(set(ids) & sealing.sealed_documents(repo.conn))
        if locked and self.keyring.get(repo.conn) is None:  # their link keys would be rebuilt from stand-ins
            raise crypto.KeyProblem(f"linking needs the text of {len(locked)} confidential document(s) "
                                    f"({', '.join(locked[:5])}), which is locked", hint=sealing.UNLOCK_HINT)
        docs = index.documents(sorted(set(ids)))
        link_settings = linking.load_settings()
        result = linking.Linker(index, link_settings, self._overrides(repo), fingerprints).add(docs)
        index.flush()
        links = [{"kind": lk.kind, "from_id": lk.a, "to_id": lk.b, "score": lk.score, "detail": lk.detail}
                 for lk in result.links]
        links += [{"kind": "duplicate", "from_id": d, "to_id": o, "score": 1.0, "detail": "copy of an earlier text"}
                  for d, o in sorted(result.duplicate_of.items()) if o]
        confidential = sealing.sealed_documents(repo.conn)
        rows = [{"id": c.id, "status": c.status, "types": c.types, "origin_count": len(c.independent_origins),
                 "summary": sealing.scrub_case_summary(c.explain(), confidential)} for c in result.cases]
        repo.save_links(result.duplicate_of, result.case_of, rows, result.retired, links)
        repo.mark_linked([d.id for d in docs], link_settings.version)
        dups = sum(1 for o in result.duplicate_of.values() if o)
        return LinkReport(len(docs), dups, result.cases, result.retired, full)

    def link_new(self, *, batch_size: int | None = None,
                 progress: Callable[[LinkReport], None] | None = None) -> LinkReport:
        """Link every document the linker has not seen yet (normally run by `ingest` and `load`).

        Documents are linked in id order, `batch_size` per transaction (default: linking.toml's
        `documents_per_transaction`), each batch against everything linked before it. A batch is
        committed with its cases and marks its documents linked, so an interrupted run keeps the
        batches it finished and the next run continues with the rest. `progress` gets each
        committed batch's report. The returned report covers the whole run (each case as it
        stands at the end).
        """
        size = batch_size or int(linking.load_settings().run.get("documents_per_transaction", 1000))
        if size < 1:
            raise ConfigError(f"cannot link {size} documents per transaction", hint="use a batch size of 1 or more")
        with self.db.read() as conn:
            todo = self._repo(conn).unlinked_ids()
        total = LinkReport()
        cases: dict[str, Case] = {}
        retired: set[str] = set()
        fingerprints = linking.Fingerprints()
        for start in range(0, len(todo), size):
            with self.db.write() as conn:
                batch = self._link(self._repo(conn), todo[start:start + size], fingerprints=fingerprints)
            total.documents += batch.documents
            total.duplicates += batch.duplicates
            for cid in batch.retired:
                cases.pop(cid, None)
            retired |= set(batch.retired)
            cases.update((c.id, c) for c in batch.cases)
            if progress:
                progress(batch)
        total.cases = [cases[c] for c in sorted(cases)]
        total.retired = sorted(retired - set(cases))
        return total

    def link(self, document_ids: list[str] | None = None) -> LinkReport:
        """Re-link: the given documents against the ledger, or (None) everything from scratch.

        A full run forgets every earlier decision except analysts' overrides and links all
        documents in one deterministic pass, in one transaction.
        """
        with self.db.write() as conn:
            repo = self._repo(conn)
            if document_ids is None:
                repo.clear_linking()
                return self._link(repo, repo.document_ids(), full=True)
            return self._link(repo, [repo.resolve(r) for r in document_ids])

    def cases(self, status: str | None = None, type: str | None = None, place: str | None = None) -> list[Case]:
        """Cases, optionally of one status, with one violation type, or naming a place
        (a case-insensitive part of a place, county or province name)."""
        if status is not None and status not in linking.STATUSES:
            raise NotFoundError(f"no case status {status!r}", hint="use one of: " + ", ".join(linking.STATUSES))
        with self.db.read() as conn:
            found = [Case.from_json(s) for s in self._repo(conn).cases(status)]
        if type:
            found = [c for c in found if type in c.types]
        if place:
            want = place.casefold()
            found = [c for c in found if any(want in p.casefold() for p in c.places)]
        return found

    def case(self, case_id: str) -> Case:
        """One case (an id or a unique prefix of one), with what `Case.explain()` shows."""
        with self.db.read() as conn:
            s = self._repo(conn).case(case_id.strip())
        if s is None:
            raise NotFoundError(f"no case {case_id!r} in the ledger", hint="see `rightsledger cases`")
        return Case.from_json(s)

    def merge_cases(self, case_a: str, case_b: str, note: str = "", user: str | None = None) -> Case:
        """An analyst's decision that two cases are one event; kept across every re-link.
        `user` is who decided (the signed-in web user; by default the OS user)."""
        a, b = self.case(case_a), self.case(case_b)
        with self.db.write() as conn:
            repo = self._repo(conn)
            ma, mb = repo.case_members(a.id), repo.case_members(b.id)
            repo.add_override("merge", min(ma), min(mb), note, user)
            report = self._link(repo, sorted({d for d, _ in ma + mb}))
        return self._case_of(report, min(ma))

    def split_case(self, case_id: str, document: str, note: str = "", user: str | None = None) -> Case:
        """An analyst's decision that a report is not about this case; kept across every re-link.
        Returns what remains of the case."""
        c = self.case(case_id)
        with self.db.write() as conn:
            repo = self._repo(conn)
            doc_id = repo.resolve(document)
            members = repo.case_members(c.id)
            mine = [m for m in members if m[0] == doc_id]
            if not mine:
                raise NotFoundError(f"document {doc_id} is not in case {c.id}", hint=f"see `rightsledger case {c.id}`")
            for x in mine:
                for y in members:
                    if y[0] != doc_id:
                        repo.add_override("split", x, y, note, user)
            report = self._link(repo, sorted({d for d, _ in members}))
        rest = [m for m in members if m[0] != doc_id]
        return self._case_of(report, min(rest)) if rest else self.case(c.id)

    def _case_of(self, report: LinkReport, ref: tuple[str, str]) -> Case:
        for c in report.cases:
            if ref[1] in c.incident_ids:
                return c
        raise NotFoundError(f"incident {ref[1]} is in no case after re-linking", hint="see `rightsledger cases`")

    def overrides(self) -> list[dict[str, Any]]:
        """Every merge and split an analyst recorded, oldest first, with who and when."""
        with self.db.read() as conn:
            return self._repo(conn).overrides()

    # -- review workspace: accounts and sessions ----------------------------------------------
    # Passwords arrive hashed (argon2, `rightsledger.review.auth`); the ledger never sees one.
    def add_user(self, name: str, role: str, password_hash: str, created_by: str | None = None) -> None:
        """A new account; every account change is in the review log (never the hash)."""
        name = _check_user_name(name)
        _check_role(role)
        by = created_by or settings.current_user()
        with self.db.write() as conn:
            rev = self._rev(conn)
            if rev.user(name) is not None:
                raise ConfigError(f"there is already a user {name!r}", hint="choose another name")
            rev.add_user(name, role, password_hash, by)
            rev.log(by, "user_add", "user", name, new={"role": role})

    def update_user(self, name: str, *, by: str, role: str | None = None, password_hash: str | None = None,
                    disabled: bool | None = None) -> None:
        """Change a user's role, password or disabled flag; their sessions end when they lose access."""
        with self.db.write() as conn:
            rev = self._rev(conn)
            user = rev.user(name)
            if user is None:
                raise NotFoundError(f"no user {name!r}", hint="see the users page or `rightsledger user add`")
            changes: dict[str, Any] = {}
            if role is not None:
                changes["role"] = _check_role(role)
            if disabled is not None:
                changes["disabled"] = bool(disabled)
            if password_hash is not None:
                changes["password_hash"] = password_hash
            if not changes:
                return
            rev.update_user(name, **changes)
            shown = {k: v for k, v in changes.items() if k != "password_hash"}
            if password_hash is not None:
                shown["password"] = "changed"
            rev.log(by, "user_update", "user", name, old={k: user[k] for k in changes if k != "password_hash"},
                    new=shown)
            if disabled or password_hash is not None or role is not None:
                rev.end_sessions(user_id=user["id"])

    def user(self, name: str) -> dict[str, Any] | None:
        """An account with its password hash (for checking a login), or None."""
        with self.db.read() as conn:
            return self._rev(conn).user(name)

    def users(self) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return self._rev(conn).users()

    def login_throttle(self, name: str) -> dict[str, Any] | None:
        with self.db.read() as conn:
            return self._rev(conn).throttle(name)

    def record_login_failure(self, name: str, failures: int, at: datetime, locked_until: datetime | None) -> None:
        with self.db.write() as conn:
            self._rev(conn).record_failure(name, failures, at, locked_until)

    def clear_login_failures(self, name: str) -> None:
        with self.db.write() as conn:
            self._rev(conn).clear_throttle(name)

    def start_session(self, user_id: int, token_hash: str, csrf: str, created: datetime, expires: datetime) -> None:
        with self.db.write() as conn:
            rev = self._rev(conn)
            rev.end_sessions(expired_before=created)  # housekeeping: forget sessions that ran out
            rev.add_session(token_hash, user_id, csrf, created, expires)

    def session(self, token_hash: str, now: datetime) -> tuple[dict[str, Any], str] | None:
        with self.db.read() as conn:
            return self._rev(conn).session(token_hash, now)

    def end_session(self, token_hash: str) -> None:
        with self.db.write() as conn:
            self._rev(conn).end_sessions(token_hash=token_hash)

    # -- review workspace: API tokens -----------------------------------------------------------
    # Tokens arrive hashed (`rightsledger.review.auth.new_token`); the ledger never sees one.
    def add_token(self, user_name: str, token_hash: str, name: str, expires_at: datetime | None,
                  by: str | None = None) -> int:
        """A new API token for `user_name`; recorded in the review log and the audit chain."""
        by = by or settings.current_user()
        with self.db.write() as conn:
            rev = self._rev(conn)
            user = _known_user(rev, user_name)
            if user["disabled"]:
                raise ConfigError(f"user {user_name!r} is disabled", hint="enable the account first")
            token_id = rev.add_token(token_hash, user["id"], name.strip()[:200], by, expires_at)
            rev.log(by, "token_create", "token", str(token_id),
                    new={"user": user_name, "name": name, "expires_at": expires_at.isoformat() if expires_at else None})
        return token_id

    def tokens(self, user_name: str | None = None) -> list[dict[str, Any]]:
        """API tokens (id, label, user, role, created, expires, revoked), never their hashes."""
        with self.db.read() as conn:
            rev = self._rev(conn)
            return rev.tokens(_known_user(rev, user_name)["id"] if user_name is not None else None)

    def revoke_token(self, token_id: int, by: str | None = None) -> None:
        """Revoke a token at once (kept, marked revoked, for the record); recorded like its creation."""
        by = by or settings.current_user()
        with self.db.write() as conn:
            rev = self._rev(conn)
            token = rev.token(token_id)
            if token is None:
                raise NotFoundError(f"no API token {token_id}", hint="see `rightsledger token list`")
            if token["revoked_at"] is not None:
                raise ConfigError(f"API token {token_id} is already revoked", hint="nothing to do")
            rev.revoke_token(token_id, by)
            rev.log(by, "token_revoke", "token", str(token_id), old={"revoked": False}, new={"revoked": True})

    def token_user(self, token_hash: str, now: datetime) -> tuple[dict[str, Any], int] | None:
        """The user a live API token acts for, with the token id; None if unknown, revoked or expired."""
        with self.db.read() as conn:
            return self._rev(conn).token_user(token_hash, now)

    # -- review workspace: facts, cases, notes --------------------------------------------------
    def review_facts(self, ref: str) -> list[dict[str, Any]]:
        """Every fact of a document with its id, status, current value, proposal and why."""
        with self.db.read() as conn:
            doc_id = self._repo(conn).resolve(ref)
            return self._rev(conn).document_facts(doc_id)

    def fact(self, fact_id: int) -> dict[str, Any]:
        with self.db.read() as conn:
            return self._rev(conn).fact(fact_id)

    def confirm_fact(self, fact_id: int, user: str) -> dict[str, Any]:
        return self._review_fact(fact_id, user, "confirm", "confirmed")

    def reject_fact(self, fact_id: int, user: str) -> dict[str, Any]:
        return self._review_fact(fact_id, user, "reject", "rejected")

    def correct_fact(self, fact_id: int, user: str, changes: dict[str, Any],
                     span: tuple[int, int] | None = None) -> dict[str, Any]:
        """A reviewer's version of a fact (value fields and/or a re-selected evidence span).

        The extraction's proposal stays as it was; the review log keeps old and new.
        """
        return self._review_fact(fact_id, user, "correct", "corrected", changes, span)

    def _review_fact(self, fact_id: int, user: str, action: str, status: str,
                     changes: dict[str, Any] | None = None, span: tuple[int, int] | None = None) -> dict[str, Any]:
        with self.db.write() as conn:
            doc_id = self._rev(conn).fact(fact_id)["document_id"]
            with self._in_clear(conn, doc_id):
                after = self._change_fact(conn, fact_id, user, action, status, changes, span)
            self._rederive_case(conn, after["case_id"])
        return after

    def _change_fact(self, conn: Any, fact_id: int, user: str, action: str, status: str,
                     changes: dict[str, Any] | None, span: tuple[int, int] | None) -> dict[str, Any]:
        rev = self._rev(conn)
        before = rev.fact(fact_id)
        current = None
        if action == "correct":
            value = _revised(before["kind"], before["value"], changes or {})
            evidence_span = before["evidence"]
            if span is not None:
                text = self._repo(conn).load([before["document_id"]])[0].text
                evidence_span = _selection(text, *span).to_dict()
            current = {"value": value, "evidence": evidence_span}
            if before["kind"] == "date":
                rev.set_incident_date(before["incident_id"], value)
        rev.set_fact(fact_id, status, current)
        after = rev.fact(fact_id)
        rev.log(user, action, "fact", str(fact_id), document_id=before["document_id"],
                old=_fact_state(before), new=_fact_state(after))
        return after

    def _rederive_case(self, conn: Any, case_id: str | None) -> None:
        """After a fact changed, its case's types follow the reviewed facts (same transaction)."""
        if case_id:
            self._rev(conn).refresh_case_types(case_id)

    def add_fact(self, incident_id: str, kind: str, start: int, end: int, value: dict[str, Any], user: str) -> int:
        """A fact the extraction missed, from a selection of the document's clean text."""
        if kind not in _FACT_FIELDS:
            raise ConfigError(f"no fact kind {kind!r}", hint="use one of: " + ", ".join(_FACT_FIELDS))
        with self.db.write() as conn:
            rev = self._rev(conn)
            doc_id = rev.incident_document(incident_id)
            with self._in_clear(conn, doc_id):
                text = self._repo(conn).load([doc_id])[0].text
                span = _selection(text, start, end)
                full = _revised(kind, _FACT_DEFAULTS[kind](span.text), value)
                fact_id = rev.add_fact(incident_id, kind, full, span, user)
                if kind == "date":
                    rev.set_incident_date(incident_id, full)
                added = rev.fact(fact_id)
                rev.log(user, "add", "fact", str(fact_id), document_id=doc_id, old=None, new=_fact_state(added))
            self._rederive_case(conn, added["case_id"])
        return fact_id

    def history(self, *, target_kind: str | None = None, target_id: str | None = None,
                document_id: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        """Review log entries, newest first: who, when, what, old and new value."""
        with self.db.read() as conn:
            return self._rev(conn).history(target_kind, target_id, document_id, limit)

    def case_review_status(self, case_ids: Iterable[str]) -> dict[str, str]:
        with self.db.read() as conn:
            return self._rev(conn).case_status(case_ids)

    def set_case_status(self, case_id: str, status: str, user: str) -> str:
        """Move a case along proposed → reviewed → verified (or rejected); refuses other jumps."""
        case = self.case(case_id)
        with self.db.write() as conn:
            rev = self._rev(conn)
            old = rev.case_status([case.id])[case.id]
            if status not in CASE_STEPS.get(old, ()):
                allowed = ", ".join(CASE_STEPS.get(old, ())) or "nothing"
                raise ConfigError(f"case {case.id} is {old}; it cannot become {status!r}",
                                  hint=f"from {old} it can become: {allowed}")
            rev.set_case_status(case.id, status, user)
            rev.log(user, "case_status", "case", case.id, old={"status": old}, new={"status": status})
        return status

    def review_merge(self, case_a: str, case_b: str, user: str, note: str = "") -> Case:
        """`merge_cases`, with the reviewer recorded in the review log."""
        merged = self.merge_cases(case_a, case_b, note or f"merged by {user}", user)
        with self.db.write() as conn:
            self._rev(conn).log(user, "merge", "case", merged.id, old={"cases": [case_a, case_b]},
                                       new={"case": merged.id, "note": note})
        return merged

    def review_split(self, case_id: str, document: str, user: str, note: str = "") -> Case:
        """`split_case`, with the reviewer recorded in the review log."""
        rest = self.split_case(case_id, document, note or f"split by {user}", user)
        with self.db.write() as conn:
            self._rev(conn).log(user, "split", "case", case_id, old={"case": case_id, "document": document},
                                       new={"case": rest.id, "note": note})
        return rest

    def add_note(self, target_kind: str, target_id: str, user: str, body: str, *, confidential: bool = False) -> int:
        """An analyst's note on a case, document or fact; a confidential one is sealed (needs the
        key), and so is every note on a confidential document."""
        if target_kind not in ("case", "document", "fact"):
            raise ConfigError(f"notes cannot be attached to {target_kind!r}", hint="use case, document or fact")
        return self._note(target_kind, target_id, user, body, confidential)

    def _note(self, target_kind: str, target_id: str, user: str, body: str, confidential: bool) -> int:
        body = body.strip()
        if not body:
            raise ConfigError("the note is empty", hint="write something before saving")
        document_id = target_id if target_kind == "document" else None
        with self.db.write() as conn:
            key = self.keyring.enroll(conn) if confidential else None
            rev = self._rev(conn)
            with self._in_clear(conn, document_id or ""):
                note_id = rev.add_note(target_kind, target_id, user, body[:20_000])
                if key is not None:
                    sealing.seal_note(conn, key, note_id)
                rev.log(user, "note", target_kind, target_id, document_id=document_id,
                        new={"note": note_id, "confidential": confidential})
        if confidential:
            self._forget_cleartext()
        return note_id

    def add_informant_detail(self, fact_id: int, user: str, body: str) -> int:
        """An analyst's details about an informant (identity, how to reach them), attached to a
        source fact: always sealed, never exported, shown only with the key."""
        fact = self.fact(fact_id)
        if fact["kind"] != "source":
            raise ConfigError(f"fact {fact_id} is a {fact['kind']} fact, not an informant (source)",
                              hint="see the source facts with `rightsledger explain DOC`")
        return self._note("informant", str(fact_id), user, body, True)

    def informant_details(self, fact_id: int) -> list[dict[str, Any]]:
        """Details recorded about the informant of a source fact (bodies locked without the key)."""
        return self.notes("informant", str(fact_id))

    def notes(self, target_kind: str, target_id: str) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return self._rev(conn).notes(target_kind, target_id)

    # -- review workspace: search, dashboard, map, timeline ------------------------------------
    def search(self, filters: SearchFilters, limit: int = 50, offset: int = 0, facets: bool = True) -> dict[str, Any]:
        """Incidents matching full text and facets: {"total", "rows", "facets"} (facet counts
        unless `facets` is False)."""
        with self.db.read() as conn:
            return self._rev(conn).search(filters, limit, offset, facets)

    def case_list(self, filters: SearchFilters, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """Cases with an incident matching the filters, newest event first: {"total", "rows"}; each
        row has the case's id, corroboration status, types, origin count, review status, first date."""
        with self.db.read() as conn:
            return self._rev(conn).case_list(filters, limit, offset)

    def document_page(self, limit: int = 50, offset: int = 0) -> dict[str, Any]:
        """A page of `documents()` rows in the order they were stored: {"total", "rows"}."""
        with self.db.read() as conn:
            repo = self._repo(conn)
            return {"total": repo.document_count(), "rows": repo.summaries(limit, offset)}

    def incident(self, incident_id: str) -> dict[str, Any]:
        """One incident: its document, case, modality, dates and every fact (rejected ones too)."""
        with self.db.read() as conn:
            rev = self._rev(conn)
            facts = rev.incident_facts_all(incident_id)
            row = rev.search(SearchFilters(incident_ids=(incident_id,)), limit=1, facets=False)["rows"]
        return {**(row[0] if row else {"id": incident_id}), "facts": facts}

    def dashboard(self) -> dict[str, Any]:
        """Counts of asserted incidents by type, province and year, plus the most recent cases."""
        with self.db.read() as conn:
            rev = self._rev(conn)
            found = rev.search(SearchFilters(modalities=("asserted",)), limit=0)
            recent = rev.recent_cases(10)
            documents = self._repo(conn).document_count()
            cases = rev.case_count()
        return {"incidents": found["total"], "facets": found["facets"], "recent_cases": recent,
                "documents": documents, "cases": cases}

    def map_data(self, filters: SearchFilters, *, bbox: tuple[float, float, float, float] | None = None,
                 zoom: float | None = None, max_markers: int = MAP_MAX_MARKERS) -> dict[str, Any]:
        """The map's data: one marker per case (or per incident outside any case) with
        coordinates — where, how many victims, types, origin→destination lines for relocations
        and repatriations — for the markers inside `bbox` (south, west, north, east).

        When more than `max_markers` fall inside, the server groups them instead into grid
        clusters sized for `zoom` (count, victims, mean position) with lines aggregated between
        clusters, so the whole country at 100,000 incidents stays one small, fast answer:
        {"total", "shown", "clustered", "markers", "clusters", "lines"}.
        """
        with self.db.read() as conn:
            rev = self._rev(conn)
            total, cells, flows = rev.map_summary(filters, bbox, _cell_size(6.0 if zoom is None else zoom))
            shown = sum(int(c[2]) for c in cells)
            out: dict[str, Any] = {"total": total, "shown": shown, "clustered": shown > max_markers,
                                   "markers": [], "clusters": [], "lines": []}
            if out["clustered"]:  # grouped in SQL: the whole country stays one small, fast answer
                out["clusters"], out["lines"] = _clusters(cells, flows)
                return out
            found = _marker_places(rev.map_points(filters, rev.map_keys(filters, bbox)))
            keys = list(found)
            victims = _largest_counts(rev.victim_counts(filters, keys))
            inside = [m for m in found.values() if _in_box(m, bbox)]
            for m in inside:
                m["victims"], m["unit"] = victims.get(m["id"], (0, None))
            types = rev.incident_facts([i for m in inside for i in m["incidents"]])
        for m in inside:
            m["types"] = list(dict.fromkeys(t for i in m.pop("incidents") for t in types.get(i, {}).get("types", [])))
        out["markers"] = inside
        return out

    def timeline(self, filters: SearchFilters) -> list[dict[str, Any]]:
        """One entry per case (or lone incident) with its date range and precision, oldest first."""
        with self.db.read() as conn:
            rev = self._rev(conn)
            rows = rev.dated(filters)
            details = rev.incident_facts([r["id"] for r in rows])
        seen: dict[str, dict[str, Any]] = {}
        for r in rows:
            key = r["case_id"] or r["id"]
            if key in seen:
                continue
            seen[key] = {"id": key, "case": bool(r["case_id"]), "document_id": r["document_id"],
                         "start": r["date_start"].isoformat(),
                         "end": (r["date_end"] or r["date_start"]).isoformat(), "precision": r["date_precision"],
                         "types": details.get(r["id"], {}).get("types", [])}
        return list(seen.values())

    def export_for_review(self, fmt: str, out: IO[str], *, user: str, include_unconfirmed: bool = False,
                          informants: bool = False) -> int:
        """`export`, for the review app: informant details left out unless `informants`; an
        export that includes them is recorded in the review log."""
        docs = self.iter_documents(self._exportable()[0])
        if not informants:
            docs = (_without_informants(d) for d in docs)
        n = export_documents(docs, fmt, out, include_unconfirmed=include_unconfirmed)
        if informants:
            with self.db.write() as conn:
                self._rev(conn).log(user, "export", "export", fmt,
                                           new={"informants": True, "records": n, "unconfirmed": include_unconfirmed})
        return n

    @staticmethod
    def map_base() -> dict[str, Any]:
        """The offline base map: province polygons and county points (name, province, lat, lon)."""
        return _map_base()


def _without_informants(doc: Document) -> Document:
    for inc in doc.incidents:
        inc.sources = []
    return doc


def _known_user(rev: Any, name: str) -> dict[str, Any]:
    """The user called `name`, or a NotFoundError that says where to look."""
    user = rev.user(name)
    if user is None:
        raise NotFoundError(f"no user {name!r}", hint="see `rightsledger user list`")
    return user


def _check_user_name(name: str) -> str:
    name = name.strip()
    if not re.fullmatch(r"[\w.@-]{1,64}", name):
        raise ConfigError(f"{name!r} is not a usable user name",
                          hint="use 1-64 letters, digits, dots, @, - or _")
    return name


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ConfigError(f"no role {role!r}", hint="use one of: " + ", ".join(ROLES))
    return role


# Case review workflow: which status may follow which.
CASE_STEPS: dict[str, tuple[str, ...]] = {
    "proposed": ("reviewed", "rejected"),
    "reviewed": ("verified", "rejected", "proposed"),
    "verified": ("reviewed",),
    "rejected": ("proposed",),
}

_FACT_FIELDS: dict[str, dict[str, Callable[[Any], Any]]] = {}


def _opt_int(v: Any) -> int | None:
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        n = int(str(v).strip())
    except ValueError:
        raise ConfigError(f"{v!r} is not a whole number", hint="type digits, e.g. 30") from None
    if n < 0:
        raise ConfigError(f"{n} is negative", hint="counts are zero or more")
    return n


def _one_of(options: Sequence[str]) -> Callable[[Any], str]:
    def check(v: Any) -> str:
        if v not in options:
            raise ConfigError(f"{v!r} is not allowed here", hint="use one of: " + ", ".join(options))
        return str(v)
    return check


def _text(v: Any) -> str | None:
    s = "" if v is None else str(v).strip()
    return s[:500] or None


def _flag(v: Any) -> bool:
    return v in (True, "1", "true", "on", "yes")


def _opt_date(v: Any) -> str | None:
    if v in (None, ""):
        return None
    try:
        return date.fromisoformat(str(v)).isoformat()
    except ValueError:
        raise ConfigError(f"{v!r} is not a date", hint="use YYYY-MM-DD") from None


def _opt_float(v: Any) -> float | None:
    if v in (None, ""):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        raise ConfigError(f"{v!r} is not a number", hint="use a decimal number, e.g. 38.52") from None


_FACT_FIELDS.update({
    "type": {"code": _one_of(VIOLATION_TYPES), "modality": _one_of(MODALITIES)},
    "date": {"start": _opt_date, "end": _opt_date, "precision": _one_of(DATE_PRECISIONS), "text": _text},
    "place": {"name": _text, "level": _one_of(PLACE_LEVELS), "role": _one_of(PLACE_ROLES), "province": _text,
              "county": _text, "country": _text, "lat": _opt_float, "lon": _opt_float},
    "victims": {"count": _opt_int, "unit": _one_of(VICTIM_UNITS), "approximate": _flag, "description": _text},
    "perpetrator": {"kind": _one_of(PERPETRATOR_KINDS), "name": _text},
    "source": {"kind": _one_of(SOURCE_KINDS), "description": _text},
})
_FACT_DEFAULTS: dict[str, Callable[[str], dict[str, Any]]] = {
    "type": lambda s: {"code": "arbitrary_detention", "modality": "asserted"},
    "date": lambda s: {"start": None, "end": None, "precision": "unknown", "text": s},
    "place": lambda s: {"name": s, "level": "village", "role": "site", "province": None, "county": None,
                        "country": "KP", "lat": None, "lon": None, "gazetteer_id": None},
    "victims": lambda s: {"count": _first_number(s), "unit": _unit_in(s), "approximate": False, "description": s},
    "perpetrator": lambda s: {"kind": "authorities", "name": s},
    "source": lambda s: {"kind": "unnamed", "description": s},
}


def _first_number(text: str) -> int | None:
    m = re.search(r"\d[\d,]*", text)
    return int(m.group(0).replace(",", "")) if m else None


def _unit_in(text: str) -> str:
    low = text.lower()
    return next((unit for stem, unit in (("famil", "families"), ("household", "households")) if stem in low), "persons")


def _revised(kind: str, value: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """`value` with the reviewer's changes applied, each field checked; unknown fields refused."""
    fields = _FACT_FIELDS.get(kind)
    if fields is None:
        raise ConfigError(f"no fact kind {kind!r}", hint="use one of: " + ", ".join(_FACT_FIELDS))
    out = dict(value)
    for key, raw in changes.items():
        if key not in fields:
            raise ConfigError(f"a {kind} fact has no field {key!r}", hint="fields: " + ", ".join(fields))
        out[key] = fields[key](raw)
    if kind == "date" and out.get("start") and not out.get("end"):
        out["end"] = out["start"]
    return out


def _selection(text: str, start: int, end: int) -> Span:
    if not (0 <= start < end <= len(text)):
        raise ConfigError(f"the selection {start}-{end} is outside the text", hint="select words in the document text")
    return Span.of(text, start, end)


def _fact_state(f: dict[str, Any]) -> dict[str, Any]:
    return {"status": f["status"], "value": f["value"], "evidence": f["evidence"]}


def _marker_places(points: Sequence[tuple[Any, ...]]) -> dict[str, dict[str, Any]]:
    """One marker per case (or lone incident) from (incident, case, document, role, lat, lon, name)
    rows ordered by incident: placed at the first incident's destination, else its site, else its
    first located place; every origin→destination pair of its incidents as a line."""
    per_incident: dict[str, list[tuple[Any, ...]]] = {}
    for p in points:
        per_incident.setdefault(p[0], []).append(p)
    markers: dict[str, dict[str, Any]] = {}
    for inc_id, located in per_incident.items():
        _, case_id, doc_id = located[0][:3]
        key = case_id or inc_id
        m = markers.get(key)
        if m is None:
            where = next((p for p in located if p[3] == "destination"), None) or \
                next((p for p in located if p[3] == "site"), None) or located[0]
            m = markers[key] = {"id": key, "case": bool(case_id), "document_id": doc_id, "lat": where[4],
                                "lon": where[5], "place": where[6], "types": [], "victims": 0, "unit": None,
                                "lines": [], "incidents": []}
        m["incidents"].append(inc_id)
        for o in (p for p in located if p[3] == "origin"):
            for d in (p for p in located if p[3] == "destination"):
                line = [[o[4], o[5]], [d[4], d[5]]]
                if line not in m["lines"]:
                    m["lines"].append(line)
    return markers


def _largest_counts(rows: Sequence[tuple[Any, ...]]) -> dict[str, tuple[int, str | None]]:
    """Reports of one event: the largest count any gives, not the sum (key -> (count, unit))."""
    out: dict[str, tuple[int, str | None]] = {}
    for key, count, unit in rows:
        if count and count > out.get(key, (0, None))[0]:
            out[key] = (int(count), unit)
    return out


def _in_box(m: dict[str, Any], bbox: tuple[float, float, float, float] | None) -> bool:
    if bbox is None:
        return True
    south, west, north, east = bbox
    return south <= m["lat"] <= north and west <= m["lon"] <= east


CLUSTER_PX = 60  # a cluster cell is this many screen pixels wide at the requested zoom


def _cell_size(zoom: float) -> float:
    """A cluster cell's width in degrees: about CLUSTER_PX screen pixels at `zoom` (Web Mercator)."""
    return CLUSTER_PX * 360.0 / (256 * 2 ** max(0.0, min(zoom, 18.0)))


def _clusters(cells: Sequence[tuple[Any, ...]],
              flows: Sequence[tuple[Any, ...]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Grid cells (sum lat, sum lon, markers, victims) as clusters at their mean position, and lines
    between cells (sums of origin and destination lat/lon, count) between their mean ends."""
    clusters = sorted(({"lat": round(la / n, 5), "lon": round(lo / n, 5), "count": int(n), "victims": int(v or 0)}
                       for la, lo, n, v in cells), key=lambda c: -c["count"])
    lines = sorted(({"from": [round(a / n, 5), round(b / n, 5)], "to": [round(c / n, 5), round(d / n, 5)],
                     "count": int(n)} for a, b, c, d, n in flows), key=lambda f: -f["count"])
    return clusters, lines


@functools.lru_cache(maxsize=1)
def _map_base() -> dict[str, Any]:
    provinces = json.loads(data_file("boundaries", "provinces_naturalearth.geojson").read_text(encoding="utf-8"))
    pack = json.loads(data_file("gazetteer", "kp_pack.json").read_text(encoding="utf-8"))
    counties = [{"name": e["name"], "province": e.get("province"), "lat": e["lat"], "lon": e["lon"]}
                for e in pack["entries"] if e.get("level") == "county" and e.get("lat") is not None]
    return {"provinces": provinces, "counties": counties}


def demo_ledger(url: str | os.PathLike[str] | None = None) -> Ledger:
    """The ledger for `rightsledger demo`: the given one, or a fresh rightsledger-demo.db here."""
    if url is not None:
        return Ledger(url)
    path = Path(settings.DEMO_DB)
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        stale.unlink(missing_ok=True)
    return Ledger(str(path))
