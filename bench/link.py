"""Linking throughput and peak memory on generated reports, against an all-pairs baseline.

    .venv/bin/python bench/link.py                       # 1k and 10k documents, baseline on a sample
    .venv/bin/python bench/link.py --sizes 10000 30000 100000 --add 1000
    .venv/bin/python bench/link.py --results DIR --sizes 1000 2000 5000 10000   # in a SQLite ledger
    .venv/bin/python bench/link.py --ledger --sizes 10000 100000                 # the same stories, in a ledger

With `--results DIR` (the --out folder of `rightsledger batch`, e.g. from bench/batch.py --keep)
each size loads the first partitions holding that many documents into a fresh SQLite ledger and
times `Ledger.link_new` (bounded transactions, as after `rightsledger load`): documents/s, CPU
seconds (in all and per transaction) and peak memory of that process. With `--ledger` the
generated stories below are stored in a fresh SQLite ledger instead and linked the same way.

Reports are generated from invented stories (an outlet's own report, relays citing it, word-for-word
copies) with varied types, places, dates and counts. For each size N it prints the time to link
N documents from scratch, the time to add `--add` more documents to that ledger, and the peak
resident memory; each size runs in its own process so memory numbers do not mix. The baseline
scores every pair of incidents (what linking costs without blocking), timed on a sample and
extrapolated to N.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rightsledger.link import InMemoryIndex, Linker, load_settings
from rightsledger.link.cases import profiles_of, score_pair
from rightsledger.model import Actor, Citation, DateValue, Document, Incident, Place, Span, TypeFact, Victims, Why

WHY = Why("bench", "generated")
CITIES = [  # invented coordinates near real towns; enough spread for blocking to matter
    ("Hyesan", "Ryanggang", 41.40, 128.18), ("Samsu", "Ryanggang", 41.30, 128.45), ("Chongjin", "North Hamgyong", 41.79, 129.78),
    ("Hoeryong", "North Hamgyong", 42.44, 129.75), ("Sinuiju", "North Pyongan", 40.10, 124.40), ("Kanggye", "Chagang", 40.97, 126.59),
    ("Hamhung", "South Hamgyong", 39.92, 127.54), ("Wonsan", "Kangwon", 39.15, 127.44), ("Sariwon", "North Hwanghae", 38.51, 125.76),
    ("Haeju", "South Hwanghae", 38.04, 125.71), ("Pyongsong", "South Pyongan", 39.25, 125.87), ("Pyongyang", "Pyongyang", 39.03, 125.75),
    ("Kaesong", "North Hwanghae", 37.97, 126.55), ("Nampo", "South Pyongan", 38.74, 125.40), ("Kimchaek", "North Hamgyong", 40.67, 129.20),
]
TYPES = ["arbitrary_detention", "forced_relocation", "killing", "forced_labor", "expression_crackdown", "public_humiliation",
         "religious_persecution", "torture", "collective_punishment", "movement_restriction"]
OUTLETS = ["Radio Free Asia", "Daily NK", "Asia Press", "NK News", "Yonhap", "JoongAng Ilbo", "Voice of America", "Chosun Ilbo"]
RELAYS = [f"Relay Outlet {i}" for i in range(40)]
_SYLLABLES = "ka ri mo sun ae jin ho pyo chon gu dal san yo bu ne tae"
VILLAGES_PER_CITY = 20
WORDS = [a + b + c for a in _SYLLABLES.split() for b in _SYLLABLES.split() for c in ("", "n", "ng", "m")]  # 1,024 invented words


def _prose(rng: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        k = rng.randint(8, 16)
        out.append(" ".join(rng.choice(WORDS) for _ in range(k)).capitalize() + ".")
    return " ".join(out)


def _place(rng: random.Random) -> tuple[str, str, str, float, float, str | None]:
    """A city, or (more often, as in real reporting) one of the invented villages around it."""
    name, province, lat, lon = rng.choice(CITIES)
    if rng.random() < 0.4:
        return name, "city", province, lat, lon, None
    k = rng.randrange(VILLAGES_PER_CITY)
    vr = random.Random(f"{name}/{k}")  # each village keeps its place across stories
    return (f"{vr.choice(WORDS).capitalize()}-ri {k}", "village", province,
            round(lat + vr.uniform(-0.45, 0.45), 3), round(lon + vr.uniform(-0.45, 0.45), 3), name)


def _incident(doc: Document, lead: str, story: dict, idx: int) -> Incident:
    ev = Span(0, len(lead), lead)
    name, level, province, lat, lon, county = story["city"]
    inc = Incident(f"{doc.id}-i{idx}", evidence=[ev])
    inc.type_facts = [TypeFact(t, ev, WHY) for t in story["types"]]
    if story["precision"] != "unknown":
        inc.date = DateValue(story["date"], None, story["precision"], None, ev, WHY)
    inc.places = [Place(name, level, ev, "site", lat, lon, f"kp:{level}:{name.lower()}", province, "KP", county, WHY)]
    inc.victims = [Victims(story["count"], story["unit"], f"{story['count']} {story['unit']}", ev, False, WHY)]
    inc.sources = [Actor("resident", "a resident", ev, WHY)]
    return inc


def generate(n_docs: int, seed: int = 7, start: int = 0) -> list[Document]:
    """About `n_docs` reports in stories of 1-5 reports each (origin, relays citing it, copies)."""
    rng = random.Random(seed)
    docs: list[Document] = []
    s = start
    while len(docs) < n_docs:
        s += 1
        story = {
            "types": rng.sample(TYPES, rng.choice((1, 1, 2))),
            "city": _place(rng),
            "date": date(2014, 1, 1) + timedelta(days=rng.randrange(3650)),
            "precision": rng.choice(("day", "month", "month", "unknown")),
            "count": rng.choice((1, 2, 3, 5, 6, 8, 10, 12, 15, 20, 30, 40, 50, 80, 100)),
            "unit": rng.choice(("persons", "persons", "families")),
        }
        origin = rng.choice(OUTLETS)
        published = story["date"] + timedelta(days=rng.randint(3, 40))
        name = story["city"][0]
        texts = []
        for r in range(rng.choice((1, 1, 2, 3, 5))):
            lead = f"In {name}, {story['count']} {story['unit']} were affected ({', '.join(story['types'])}), story {s} report {r}."
            if r == 0:
                body = f"{lead} A resident told {origin}. {_prose(rng, 8)}"
                doc = Document(f"g{s:07d}r{r}", body, url=f"https://gen.example/{s}/{r}", outlet=origin, published=published)
            elif r % 3 == 2 and texts:  # a word-for-word copy of the previous report with other boilerplate
                body = f"{texts[-1][0]}\nShared from elsewhere | story {s}."
                doc = Document(f"g{s:07d}r{r}", body, url=f"https://gen.example/{s}/{r}", outlet=rng.choice(RELAYS),
                               published=published + timedelta(days=r))
                lead = texts[-1][1]
            else:
                body = f"{lead} {origin} reported this week. {_prose(rng, 6)}"
                doc = Document(f"g{s:07d}r{r}", body, url=f"https://gen.example/{s}/{r}", outlet=rng.choice(RELAYS),
                               published=published + timedelta(days=r))
            if origin in body and r > 0:
                i = body.index(origin)
                doc.cites = [Citation(origin, Span(i, i + len(origin), origin), WHY)]
            doc.incidents.append(_incident(doc, lead, story, 1))
            texts.append((body, lead))
            docs.append(doc)
    return docs[:n_docs]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_size(n: int, add: int) -> dict:
    docs = generate(n)
    index = InMemoryIndex()
    t0, c0 = time.perf_counter(), time.process_time()
    result = Linker(index).add(docs)
    full, full_cpu = time.perf_counter() - t0, time.process_time() - c0
    extra = generate(add, seed=99, start=10_000_000)
    t1, c1 = time.perf_counter(), time.process_time()
    added = Linker(index).add(extra)
    inc, inc_cpu = time.perf_counter() - t1, time.process_time() - c1
    n_inc = sum(len(d.incidents) for d in docs)
    return {
        "documents": n, "incidents": n_inc, "cases": len(result.cases), "link_s": round(full, 2),
        "docs_per_s": round(n / full, 1), f"add_{add}_s": round(inc, 2), "add_cases_touched": len(added.cases),
        "link_cpu_s": round(full_cpu, 2), "add_cpu_s": round(inc_cpu, 2),
        "peak_rss_mb": round(_rss_mb(), 1),
    }


def baseline(n: int, sample: int = 400) -> dict:
    """All-pairs scoring: time `sample` documents' pairs and scale to n (pairs grow as n^2)."""
    s = load_settings()
    docs = generate(sample)
    profs = [p for d in docs for p in profiles_of(d)]
    t0 = time.perf_counter()
    pairs = 0
    for i, a in enumerate(profs):
        for b in profs[i + 1 :]:
            if a.doc_id != b.doc_id:
                score_pair(a, b, [], s)
                pairs += 1
    per_pair = (time.perf_counter() - t0) / max(pairs, 1)
    total_pairs = (n * len(profs) / sample) ** 2 / 2
    return {"documents": n, "baseline_pairs": int(total_pairs), "baseline_s_estimated": round(per_pair * total_pairs, 1)}


def run_stories_in_ledger(n: int) -> dict:
    """The generated stories stored in a fresh SQLite ledger (as ingest stores reports), then
    `Ledger.link_new` timed: the ledger's own path (index keys, stored cases, bounded transactions)."""
    from rightsledger.ledger import Ledger
    from rightsledger.store.repository import Repository

    work = Path(tempfile.mkdtemp(prefix="rl-bench-link-"))
    try:
        with Ledger(f"sqlite:///{work / 'ledger.db'}") as ledger:
            docs = generate(n)
            incidents = sum(len(d.incidents) for d in docs)
            for i in range(0, len(docs), 1000):
                with ledger.db.write() as conn:
                    repo = Repository(conn)
                    for d in docs[i:i + 1000]:
                        d.sha256 = repo.add_original(d.text.encode("utf-8"), "text/plain")
                        repo.add_document(d, source_text=d.text, offsets={"v": 1, "runs": [[0, 0]]}, removed=[],
                                          extractor="bench")
            del docs
            return _timed_link(ledger, n, incidents)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _timed_link(ledger: Any, documents: int, incidents: int) -> dict:
    """CPU seconds in all and per transaction of `link_new` over everything the ledger holds."""
    batches: list[float] = []
    t0, c0 = time.perf_counter(), time.process_time()
    report = ledger.link_new(progress=lambda b: batches.append(time.process_time()))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"documents": documents, "incidents": incidents, "cases": len(report.cases),
            "link_s": round(wall, 1), "link_cpu_s": round(cpu, 1), "docs_per_s": round(documents / wall, 1),
            "cpu_ms_per_doc": round(1000 * cpu / max(1, documents), 1), "transactions": len(batches),
            "transaction_cpu_s": [round(b - a, 1) for a, b in zip([c0] + batches, batches)],
            "peak_rss_mb": round(_rss_mb(), 1)}


def run_ledger(n: int, results: Path) -> dict:
    """Load the first partitions of `results` holding `n` documents into a fresh SQLite ledger; time link_new."""
    from rightsledger.batch import Results
    from rightsledger.ledger import Ledger

    work = Path(tempfile.mkdtemp(prefix="rl-bench-link-"))
    try:
        sub = work / "results"
        picked, docs = [], 0
        for pid, marker in Results(results).done_partitions():
            if docs >= n:
                break
            picked.append(pid)
            docs += marker["documents"]
        for path in results.glob("*/*"):
            if path.stem.split(".")[0] in picked:
                (sub / path.parent.name).mkdir(parents=True, exist_ok=True)
                shutil.copy(path, sub / path.parent.name / path.name)
        manifest = json.loads((results / "manifest.json").read_text(encoding="utf-8"))
        (sub / "manifest.json").write_text(json.dumps({**manifest, "partitions": picked}), encoding="utf-8")
        with Ledger(f"sqlite:///{work / 'ledger.db'}") as ledger:
            loaded = ledger.load(sub, link=False)
            return _timed_link(ledger, loaded.documents, loaded.rows.get("incidents", 0))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--add", type=int, default=1000, help="documents added to each ledger afterwards")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # run one size in this process
    ap.add_argument("--results", type=Path, help="a batch results folder: link in a SQLite ledger after `load`")
    ap.add_argument("--ledger", action="store_true", help="the generated stories, linked in a SQLite ledger")
    args = ap.parse_args(argv)
    if args.results or args.ledger:
        if args.one:
            r = run_ledger(args.one, args.results) if args.results else run_stories_in_ledger(args.one)
            print(json.dumps(r))
            return 0
        what = "batch results loaded" if args.results else "generated stories stored"
        print(f"load average {os.getloadavg()[0]:.2f}; link_new after {what}, SQLite, "
              f"{load_settings().run.get('documents_per_transaction')} documents per transaction")
        print(f"{'docs':>8} {'incidents':>9} {'cases':>7} {'link s':>8} {'cpu s':>8} {'docs/s':>8} {'cpu ms/doc':>10} "
              f"{'txns':>5} {'peak MB':>8}")
        for n in args.sizes:
            source = ["--results", str(args.results)] if args.results else ["--ledger"]
            out = subprocess.run([sys.executable, __file__, "--one", str(n), *source], capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{r['documents']:>8} {r['incidents']:>9} {r['cases']:>7} {r['link_s']:>8} {r['link_cpu_s']:>8} "
                  f"{r['docs_per_s']:>8} {r['cpu_ms_per_doc']:>10} {r['transactions']:>5} {r['peak_rss_mb']:>8}", flush=True)
            print(f"{'':>8} CPU-s per transaction: {', '.join(map(str, r['transaction_cpu_s']))}", flush=True)
        print(f"load average {os.getloadavg()[0]:.2f}")
        return 0
    if args.one:
        print(json.dumps(run_size(args.one, args.add)))
        return 0
    # CPU seconds beside wall-clock seconds: on a shared machine the wall clock also counts other work
    print(f"{'docs':>8} {'incidents':>9} {'cases':>7} {'link s':>8} {'cpu s':>8} {'docs/s':>8} {'add ' + str(args.add) + ' s':>10} "
          f"{'cpu s':>7} {'peak MB':>8} {'all-pairs s (est.)':>19}")
    for n in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(n), "--add", str(args.add)], capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        b = baseline(n)
        print(f"{r['documents']:>8} {r['incidents']:>9} {r['cases']:>7} {r['link_s']:>8} {r['link_cpu_s']:>8} {r['docs_per_s']:>8} "
              f"{r[f'add_{args.add}_s']:>10} {r['add_cpu_s']:>7} {r['peak_rss_mb']:>8} {b['baseline_s_estimated']:>19}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
