"""Bulk-load rate into SQLite and PostgreSQL (rows/s), link time, and the ledger's size per document.

usage: python bench/load.py RESULTS_DIR [--pg URL] [--no-sqlite] [--no-pg]
       python bench/load.py --n 5000            # makes its own results first (batch, 2 workers)

RESULTS_DIR is the --out folder of `rightsledger batch` (bench/batch.py --keep leaves one per run).
Each database is fresh: a SQLite file in a temporary folder, and a new PostgreSQL database on the
server at --pg (default: RIGHTSLEDGER_TEST_PG_URL or postgres@127.0.0.1), dropped afterwards.
Loading (COPY / executemany, one transaction per partition) and linking are timed separately;
the second load of the same folder is timed too (idempotence: it must add nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from rightsledger.ledger import Ledger, run_batch

PG = os.environ.get("RIGHTSLEDGER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def bench(url: str, results: Path, size: "callable", link: bool = True) -> dict[str, float]:
    with Ledger(url) as ledger:
        empty = size()  # the migrated, empty ledger: only what the documents add is counted
        t0 = time.perf_counter()
        report = ledger.load(results, link=False)
        load_s = time.perf_counter() - t0
        print(f"  loaded {report.documents} docs, {sum(report.rows.values())} rows in {load_s:.1f} s; linking…",
              flush=True)
        t1 = time.perf_counter()
        linked = ledger.link_new() if link else None
        link_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        again = ledger.load(results, link=False)
        again_s = time.perf_counter() - t2
        rows = sum(report.rows.values())
        out = {"documents": report.documents, "rows": rows, "rows_by_table": report.rows, "load_s": load_s,
               "rows_per_s": rows / load_s, "docs_per_s": report.documents / load_s, "link_s": link_s,
               "link_docs_per_s": linked.documents / link_s if linked else 0.0, "cases": len(linked.cases) if linked else 0,
               "second_load_s": again_s, "second_load_added": sum(again.rows.values()),
               "db_mb": (size() - empty) / 1e6}
        out["db_kb_per_doc"] = 1000 * out["db_mb"] / max(1, report.documents)
    return out


def show(name: str, r: dict[str, float]) -> None:
    print(f"{name:10s} {r['documents']} docs, {r['rows']} rows in {r['load_s']:.1f} s = {r['rows_per_s']:.0f} rows/s "
          f"({r['docs_per_s']:.0f} docs/s); link {r['link_s']:.1f} s ({r['link_docs_per_s']:.0f} docs/s, "
          f"{r['cases']} cases); second load {r['second_load_s']:.1f} s, added {r['second_load_added']}; "
          f"database grew {r['db_mb']:.1f} MB = {r['db_kb_per_doc']:.1f} kB/doc")
    print(f"           rows by table: {r['rows_by_table']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", type=Path, nargs="?")
    ap.add_argument("--n", type=int, default=5000, help="reports to generate when no RESULTS_DIR is given")
    ap.add_argument("--pg", default=PG)
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-link", action="store_true", help="time loading only")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="rl-bench-load-"))
    results = args.results
    print(f"cores {os.cpu_count()}, load average before {os.getloadavg()[0]:.2f}")
    if results is None:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from batch import write_bundles

        write_bundles(work / "in", args.n, 7, 3000)
        results = work / "results"
        run_batch([work / "in"], results, workers=2)
    out: dict[str, object] = {"results": str(results)}
    if not args.no_sqlite:
        db = work / "ledger.db"
        out["sqlite"] = r = bench(f"sqlite:///{db}", results,
                                  lambda: sum(p.stat().st_size for p in work.glob("ledger.db*")), not args.no_link)
        show("SQLite", r)
    if not args.no_pg:
        name = f"rightsledger_bench_{secrets.token_hex(4)}"
        admin = sa.create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
        try:
            def size() -> int:
                with admin.connect() as conn:
                    return conn.exec_driver_sql(f"SELECT pg_database_size('{name}')").scalar()

            out["postgresql"] = r = bench(url, results, size, not args.no_link)
            show("PostgreSQL", r)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
    print(f"load average after {os.getloadavg()[0]:.2f}")
    (work / "bench-load.json").write_text(json.dumps(out, indent=1, default=str))
    print(f"numbers in {work / 'bench-load.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
