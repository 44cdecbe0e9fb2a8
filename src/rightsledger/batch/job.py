"""Running a batch: stream partitions to Dask workers, skip finished ones, write the manifest.

The client reads the input once, in order, and keeps at most a few partitions per worker in
flight, so neither the client nor a worker ever holds more than a bounded number of items.
By default a local cluster of N worker processes with one thread each runs the work (the
extraction is pure Python: processes, not threads, use the cores); `scheduler` names an existing
Dask cluster instead, whose workers must have RightsLedger installed and see the --out folder at
the same path (results are written by the workers). `workers=0` runs in this process, no Dask.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rightsledger import evidence
from rightsledger.batch.layout import Results, write_json
from rightsledger.batch.partition import partitions
from rightsledger.batch.relevance import RelevanceFilter
from rightsledger.batch.tables import SCHEMA_VERSION
from rightsledger.batch.work import WorkOptions, process_partition
from rightsledger.errors import ConfigError

__all__ = ["BatchReport", "run_batch"]

log = logging.getLogger(__name__)

DEFAULT_PARTITION_SIZE = 500
CONNECT_TIMEOUT = "20s"  # to reach an existing scheduler
IN_FLIGHT_PER_WORKER = 2  # partitions queued per worker: enough to keep it busy, few enough to bound memory
_COUNTS = ("items", "documents", "incidents", "facts", "filtered", "errors", "repeats", "component_errors")

Progress = Callable[[dict[str, Any]], None]


@dataclass(slots=True)
class BatchReport:
    """What a batch run did: partitions processed, skipped (already done) and failed; totals."""

    out: Path
    run_id: str
    processed: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    workers: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    def peak_rss_mb(self) -> dict[str, float]:
        """The largest resident set seen per worker process (MB)."""
        peaks: dict[str, float] = {}
        for p in self.processed:
            peaks[p["worker"]] = max(peaks.get(p["worker"], 0.0), p["worker_max_rss_mb"])
        return peaks

    def to_dict(self) -> dict[str, Any]:
        return {"out": str(self.out), "run_id": self.run_id, "processed": len(self.processed),
                "skipped": len(self.skipped), "failed": self.failed, "totals": self.totals,
                "seconds": round(self.seconds, 3), "workers": self.workers, "peak_rss_mb": self.peak_rss_mb()}


def _settings(partition_size: int, relevance: RelevanceFilter | None) -> dict[str, Any]:
    return {"partition_size": partition_size,
            "filter": None if relevance is None else {"name": relevance.name, "digest": relevance.digest}}


def _open_client(stack: ExitStack, scheduler: str | None, workers: int) -> Any:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("batch runs on Dask, which is not installed",
                          hint="pip install 'rightsledger[scale]', or run in this process with --workers 0") from None
    if scheduler:
        try:
            return stack.enter_context(Client(scheduler, timeout=CONNECT_TIMEOUT))
        except OSError as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                              hint="check the address (tcp://host:8786) or leave out --scheduler for a local cluster") from None
    cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                               dashboard_address=None, silence_logs=logging.ERROR))
    return stack.enter_context(Client(cluster))


def run_batch(inputs: Sequence[Path | str], out: Path | str, *, workers: int | None = None,
              scheduler: str | None = None, partition_size: int = DEFAULT_PARTITION_SIZE,
              relevance: RelevanceFilter | None = None, max_bytes: int = 20 * 2**20,
              progress: Progress | None = None) -> BatchReport:
    """Prepare and extract every item of `inputs` into Parquet partitions under `out`.

    Partitions whose output and done marker exist (with the same items) are skipped, so an
    interrupted run is resumed by running the same command again.
    """
    if partition_size < 1:
        raise ConfigError("--partition-size must be at least 1")
    n_workers = (os.cpu_count() or 1) if workers is None else workers
    if n_workers < 0:
        raise ConfigError("--workers must be 0 (this process) or more")
    results = Results(Path(out))
    settings = _settings(partition_size, relevance)
    results.check_compatible(settings)
    results.root.mkdir(parents=True, exist_ok=True)
    report = BatchReport(results.root, f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}",
                         workers=n_workers if not scheduler else 0)
    options = WorkOptions(report.run_id, relevance)
    seen: list[str] = []
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()

    def finished(stats: dict[str, Any]) -> None:
        report.processed.append(stats)
        if progress:
            progress({"event": "done", **stats})

    def failed(part_id: str, exc: BaseException) -> None:
        log.error("partition %s failed: %s: %s", part_id, type(exc).__name__, exc)
        report.failed.append({"partition": part_id, "error": f"{type(exc).__name__}: {exc}"})
        if progress:
            progress({"event": "failed", "partition": part_id, "error": str(exc)})

    def todo() -> Any:
        for part in partitions(inputs, partition_size, max_bytes=max_bytes):
            seen.append(part.id)
            if results.is_done(part.id, part.fingerprint):
                report.skipped.append(part.id)
                if progress:
                    progress({"event": "skipped", "partition": part.id, "items": len(part.items)})
                continue
            yield part

    try:
        if n_workers == 0 and not scheduler:
            for part in todo():
                try:
                    finished(process_partition(part, str(results.root), options))
                except Exception as exc:
                    failed(part.id, exc)
        else:
            with ExitStack() as stack:
                client = _open_client(stack, scheduler, n_workers)
                report.workers = len(client.nthreads()) or n_workers
                _run_on_dask(client, todo(), results, options, max(1, report.workers) * IN_FLIGHT_PER_WORKER,
                             finished, failed)
    finally:
        report.seconds = time.perf_counter() - t0
        report.totals = _totals(results, seen)
        _write_manifest(results, report, settings, inputs, seen, started)
    return report


def _run_on_dask(client: Any, parts: Any, results: Results, options: WorkOptions, in_flight: int,
                 finished: Callable[[dict[str, Any]], None], failed: Callable[[str, BaseException], None]) -> None:
    from distributed import as_completed

    pending = as_completed(with_results=False)
    ids: dict[str, str] = {}

    def collect(future: Any) -> None:
        try:
            finished(future.result())
        except Exception as exc:  # a worker died, or a bug: the partition is retried on the next run
            failed(ids[future.key], exc)
        finally:
            future.release()

    for part in parts:
        # Scatter first: the items travel to one worker as data, not inside the task graph.
        [data] = client.scatter([part], hash=False)
        future = client.submit(process_partition, data, str(results.root), options, pure=False, retries=1,
                               key=f"rightsledger-{options.run_id}-{part.id}")
        ids[future.key] = part.id
        pending.add(future)
        del data, part
        while pending.count() >= in_flight:
            collect(next(pending))
    for future in pending:
        collect(future)


def _totals(results: Results, partition_ids: list[str]) -> dict[str, int]:
    totals = dict.fromkeys(_COUNTS, 0)
    totals["partitions"] = len(partition_ids)
    totals["partitions_done"] = 0
    for pid in partition_ids:
        marker = results.marker(pid)
        if marker is None:
            continue
        totals["partitions_done"] += 1
        for key in _COUNTS:
            totals[key] += int(marker.get(key, 0))
    return totals


def _write_manifest(results: Results, report: BatchReport, settings: dict[str, Any], inputs: Sequence[Path | str],
                    partition_ids: list[str], started: datetime) -> None:
    previous = results.manifest() or {}
    complete = report.ok and report.totals.get("partitions_done") == len(partition_ids)
    runs = list(previous.get("runs", [])) + [{
        "run_id": report.run_id, "started": started.isoformat(), "finished": datetime.now(timezone.utc).isoformat(),
        "processed": [p["partition"] for p in report.processed], "skipped": len(report.skipped),
        "failed": report.failed, "workers": report.workers, "seconds": round(report.seconds, 3),
    }]
    write_json(results.manifest_path, {
        "schema_version": SCHEMA_VERSION,
        "tool": evidence.TOOL,
        "status": "complete" if complete else "incomplete",
        "settings": settings,
        "inputs": [str(p) for p in inputs],
        "partitions": partition_ids,
        "totals": report.totals,
        "runs": runs,
    })
