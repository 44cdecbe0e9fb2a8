"""Batch throughput on Dask: documents/s with 1 and 2 worker processes, speedup, peak memory per worker.

usage: python bench/batch.py [--n 100000] [--warc 20000] [--size 3000] [--partition-size 500]
                             [--workers 1,2] [--baseline-n N] [--dir DIR] [--keep]

Generates --n article-sized reports (the bundled examples varied as in bench/extract.py) as
JSONL bundles, and --warc captured pages as a WARC.gz (HTML wrapping the same kind of text), then
for each input runs: the single-process loop baseline (read, prepare, extract; no output), and
`rightsledger batch` with each worker count into a fresh results folder. Wall time is what a user
waits; the machine's load average is printed before and after, as other processes share the cores.
CPU per document is steady-state on both sides: the baseline process loads its models (language
identifier, pipeline, HTML extractor) before it is timed, and for the workers the one-off loading
in each worker's first partition is reported apart ("warm-up"), with the rate of the other
partitions beside the overall one; on small inputs the warm-up is most of the difference.
Results are also written as JSON to DIR/bench-batch.json (DIR/results-<input>-<workers>w holds
the Parquet output when --keep is given, for bench/load.py).
"""

from __future__ import annotations

import argparse
import html
import io
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from extract import OUTLETS, seed_texts, vary  # noqa: E402  (the corpus generator of bench/extract.py)

from rightsledger.ledger import analyse, run_batch  # noqa: E402

DOMAINS = {"Radio Free Asia": "rfa.org", "Daily NK": "dailynk.com", "NK News": "nknews.org",
           "Yonhap": "en.yna.co.kr", "AFP": "afp.com", "Asia Press": "asiapress.org"}


def reports(n: int, seed: int, size: int):
    """(text, published, outlet, title) for n generated reports, one at a time."""
    rng = random.Random(seed)
    seeds = seed_texts()
    for i in range(n):
        text, published = seeds[i % len(seeds)]
        body = vary(text, rng, size)
        pub = (published or date(2023, 6, 1)) + timedelta(days=rng.randint(-400, 400))
        yield i, body, pub, rng.choice(OUTLETS), body.split("\n", 1)[0][:120]


def write_bundles(folder: Path, n: int, seed: int, size: int, per_file: int = 10000) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    nbytes = 0
    handle = None
    for i, text, pub, outlet, title in reports(n, seed, size):
        if i % per_file == 0:
            if handle:
                handle.close()
            handle = open(folder / f"bundle-{i // per_file:04d}.jsonl", "w", encoding="utf-8")
        line = json.dumps({"text": text, "title": title, "published": pub.isoformat(), "outlet": outlet,
                           "url": f"https://{DOMAINS[outlet]}/news/{i}"}, ensure_ascii=False) + "\n"
        nbytes += len(line.encode("utf-8"))
        handle.write(line)
    if handle:
        handle.close()
    return nbytes


def page(text: str, pub: date, title: str) -> bytes:
    paras = "".join(f"<p>{html.escape(p)}</p>\n" for p in text.split("\n") if p.strip())
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<meta property=\"article:published_time\" content=\"{pub.isoformat()}T09:00:00Z\"></head>"
            f"<body><nav><a href=\"/\">Home</a> <a href=\"/world\">World</a></nav>"
            f"<article><h1>{html.escape(title)}</h1>\n{paras}</article>"
            f"<footer>Copyright. Sign up for our newsletter.</footer></body></html>").encode("utf-8")


def write_warc(path: Path, n: int, seed: int, size: int) -> int:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for i, text, pub, outlet, title in reports(n, seed + 1, size):
            body = page(text, pub, title)
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                                  ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            uri = f"https://{DOMAINS[outlet]}/news/{i}"
            record = writer.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=headers,
                                               warc_headers_dict={"WARC-Date": f"{pub.isoformat()}T12:00:00Z"})
            writer.write_record(record)
    return path.stat().st_size


def warm_up() -> None:
    """Load what the first report would load (models, pipeline, HTML extractor), untimed."""
    from rightsledger.extract import default_pipeline
    from rightsledger.ingest import RawItem, prepare
    from rightsledger.ingest.items import MEDIA_HTML, MEDIA_TEXT, utcnow
    from rightsledger.ledger import document_from_prepared

    text, pub, _, title = next(reports(1, 0, 3000))[1:]
    for item in (RawItem(text.encode(), "warm-up.txt", MEDIA_TEXT, utcnow()),
                 RawItem(page(text, pub, title), "warm-up.html", MEDIA_HTML, utcnow())):
        next(default_pipeline().pipe([document_from_prepared(prepare(item), "warm-up")], batch=True))


def baseline(inputs: list[Path], limit: int) -> dict[str, float]:
    """The single-process loop (`rightsledger extract` without output): read, prepare, extract."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    n = incidents = 0
    for doc in analyse(inputs):
        if hasattr(doc, "incidents"):
            incidents += len(doc.incidents)
        n += 1
        if n >= limit:
            break
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"docs": n, "incidents": incidents, "wall_s": wall, "cpu_s": cpu, "docs_per_s": n / wall,
            "ms_per_doc_cpu": 1000 * cpu / n, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def one_batch(inputs: list[Path], out: Path, workers: int, partition_size: int) -> dict[str, object]:
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    report = run_batch(inputs, out, workers=workers, partition_size=partition_size)
    wall = time.perf_counter() - t0  # includes starting the cluster
    t = report.totals
    cpu = sum(p["cpu_seconds"] for p in report.processed)
    # Each worker's first partition also pays its one-off loading; the others show the steady rate.
    firsts: dict[str, dict] = {}
    for p in report.processed:
        firsts.setdefault(p["worker"], p)
    rest = [p for p in report.processed if p is not firsts[p["worker"]]]
    warm = 1000 * sum(p["cpu_seconds"] for p in rest) / sum(p["items"] for p in rest) if rest else None
    warmup = sum(p["cpu_seconds"] - p["items"] * warm / 1000 for p in firsts.values()) if warm else None
    return {"workers": workers, "docs": t["documents"], "items": t["items"], "incidents": t["incidents"],
            "facts": t["facts"], "wall_s": wall, "run_s": report.seconds, "docs_per_s": t["items"] / wall,
            "worker_cpu_s": cpu, "ms_per_doc_cpu": 1000 * cpu / max(1, t["items"]),
            "ms_per_doc_cpu_warm": warm, "warmup_cpu_s_per_worker": warmup and warmup / len(firsts),
            "peak_rss_mb_per_worker": report.peak_rss_mb(), "failed": report.failed,
            "out_mb": sum(f.stat().st_size for f in out.rglob("*.parquet")) / 1e6}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="reports in the JSONL bundles")
    ap.add_argument("--warc", type=int, default=20_000, help="responses in the WARC.gz (0: skip)")
    ap.add_argument("--size", type=int, default=3000, help="characters per report")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--partition-size", type=int, default=500)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--baseline-n", type=int, default=None, help="documents for the baseline loop (default: all)")
    ap.add_argument("--dir", type=Path, default=None, help="working folder (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep inputs and results (for bench/load.py)")
    args = ap.parse_args(argv)

    work = args.dir or Path(tempfile.mkdtemp(prefix="rl-bench-batch-"))
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {"cpus": os.cpu_count(), "load_before": os.getloadavg(), "args": vars(args) | {"dir": str(work)}}
    print(f"cores {os.cpu_count()}, load average before {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    inputs: dict[str, tuple[list[Path], int]] = {}
    t0 = time.perf_counter()
    mb = write_bundles(work / "bundles", args.n, args.seed, args.size) / 1e6
    inputs["jsonl"] = ([work / "bundles"], args.n)
    print(f"generated {args.n} reports as JSONL ({mb:.0f} MB) in {time.perf_counter() - t0:.0f} s")
    if args.warc:
        t0 = time.perf_counter()
        mb = write_warc(work / "crawl" / "crawl.warc.gz", args.warc, args.seed, args.size) / 1e6
        inputs["warc"] = ([work / "crawl"], args.warc)
        print(f"generated a WARC.gz of {args.warc} responses ({mb:.0f} MB) in {time.perf_counter() - t0:.0f} s")

    warm_up()
    for name, (paths, n) in inputs.items():
        base = baseline(paths, min(n, args.baseline_n or n))
        results[f"{name}_baseline"] = base
        print(f"\n[{name}] baseline loop (1 process): {base['docs']} docs in {base['wall_s']:.1f} s = "
              f"{base['docs_per_s']:.0f} docs/s ({base['ms_per_doc_cpu']:.2f} ms CPU/doc)")
        runs = []
        for w in (int(x) for x in args.workers.split(",")):
            r = one_batch(paths, work / f"results-{name}-{w}w", w, args.partition_size)
            runs.append(r)
            peaks = ", ".join(f"{v:.0f}" for v in r["peak_rss_mb_per_worker"].values())
            steady = ("" if r["ms_per_doc_cpu_warm"] is None else
                      f", {r['ms_per_doc_cpu_warm']:.2f} ms after the first partition per worker, "
                      f"warm-up ≈ {r['warmup_cpu_s_per_worker']:.1f} CPU-s per worker")
            print(f"[{name}] batch {w} worker(s): {r['items']} items in {r['wall_s']:.1f} s = {r['docs_per_s']:.0f} docs/s "
                  f"({r['ms_per_doc_cpu']:.2f} ms CPU/doc in workers{steady}); peak RSS per worker {peaks} MB; "
                  f"{r['incidents']} incidents; Parquet {r['out_mb']:.0f} MB; load avg now {os.getloadavg()[0]:.2f}")
        results[f"{name}_batch"] = runs
        if len(runs) >= 2:
            print(f"[{name}] speedup {runs[0]['workers']} -> {runs[-1]['workers']} workers: "
                  f"{runs[-1]['docs_per_s'] / runs[0]['docs_per_s']:.2f}x; "
                  f"{runs[-1]['workers']} workers vs baseline loop: {runs[-1]['docs_per_s'] / base['docs_per_s']:.2f}x")
    results["load_after"] = os.getloadavg()
    print(f"\nload average after {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}")
    (work / "bench-batch.json").write_text(json.dumps(results, indent=1, default=str))
    if not args.keep and args.dir is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"kept {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
