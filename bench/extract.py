"""Extraction throughput: documents/s, MB/s and peak memory against a read-and-tokenise floor.

usage: python bench/extract.py [--docs 5000] [--seed 7] [--size 3000]

The corpus is generated from the bundled example reports (data/examples), varied
deterministically: numbers, places, dates and outlets swapped, paragraphs shuffled, padded or cut
to about --size characters. It runs on one core in this process. The floor is the time the same
process takes to read the same texts and tokenise them with re.findall(r"\\w+", text).
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import sys
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

from rightsledger.extract import load_pipeline
from rightsledger.ingest import ItemError, examples_dir, iter_items, prepare
from rightsledger.model import Document

PLACES = ["Hyesan", "Chongjin", "Hoeryong", "Musan", "Sinuiju", "Wonsan", "Hamhung", "Kanggye", "Haeju",
          "Sariwon", "Kimchaek", "Onsong", "Unchon county", "Yonsan county", "Kangryong county", "Ongjin county"]
OUTLETS = ["Radio Free Asia", "Daily NK", "NK News", "Yonhap", "AFP", "Asia Press"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
_NUMBER = re.compile(r"\b\d{1,4}\b")
_PLACE = re.compile("|".join(re.escape(p) for p in PLACES))
_MONTH = re.compile(r"\b(?:" + "|".join(MONTHS) + r")\b")
_OUTLET = re.compile("|".join(re.escape(o) for o in OUTLETS))


def seed_texts() -> list[tuple[str, date | None]]:
    out = []
    for item in iter_items(sorted(Path(str(examples_dir())).glob("*.*"))):
        if isinstance(item, ItemError):
            continue
        p = prepare(item)
        if len(p.text) > 300:
            out.append((p.text, p.published))
    return out


def vary(text: str, rng: random.Random, size: int) -> str:
    text = _NUMBER.sub(lambda m: str(rng.randint(2, 400)), text)
    text = _PLACE.sub(lambda m: rng.choice(PLACES), text)
    text = _MONTH.sub(lambda m: rng.choice(MONTHS), text)
    text = _OUTLET.sub(lambda m: rng.choice(OUTLETS), text)
    paras = text.split("\n")
    head, body = paras[:1], paras[1:]
    rng.shuffle(body)
    out = "\n".join(head + body)
    while len(out) < size:
        extra = body[:]
        rng.shuffle(extra)
        out += "\n" + "\n".join(extra)
    return out[:size]


def corpus(n: int, seed: int, size: int) -> list[Document]:
    rng = random.Random(seed)
    seeds = seed_texts()
    docs = []
    for i in range(n):
        text, published = seeds[i % len(seeds)]
        pub = (published or date(2023, 6, 1)) + timedelta(days=rng.randint(-400, 400))
        docs.append(Document(id=f"b{i}", text=vary(text, rng, size), published=pub, outlet=rng.choice(OUTLETS)))
    return docs


def floor(docs: list[Document]) -> float:
    t0 = time.perf_counter()
    n = 0
    for d in docs:
        n += len(re.findall(r"\w+", d.text))
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--size", type=int, default=3000, help="characters per document")
    args = ap.parse_args(argv)

    pipeline = load_pipeline()
    docs = corpus(args.docs, args.seed, args.size)
    pipeline(Document(id="warm", text=docs[0].text, published=docs[0].published))  # load lexicons, gazetteer
    mb = sum(len(d.text.encode("utf-8")) for d in docs) / 1e6

    base = floor(docs)
    per_component: dict[str, float] = {name: 0.0 for name in pipeline.names}
    steps = pipeline._steps  # timed one by one to report the geoparser's share
    t0 = time.perf_counter()
    incidents = 0
    for d in docs:
        for step in steps:
            s0 = time.perf_counter()
            found = step.component.find(d)
            step.component.annotate(d, found)
            per_component[step.name] += time.perf_counter() - s0
        incidents += len(d.incidents)
    elapsed = time.perf_counter() - t0
    # Peak memory of extraction itself, traced on a sample (tracing slows Python several-fold).
    sample = [Document(id=d.id, text=d.text, published=d.published, outlet=d.outlet) for d in docs[:200]]
    tracemalloc.start()
    for d in sample:
        pipeline(d)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"documents        {len(docs)} ({mb:.1f} MB, ~{args.size} chars each), {incidents} incidents")
    print(f"extraction       {elapsed:.2f} s  {len(docs) / elapsed:.0f} docs/s  {mb / elapsed:.2f} MB/s  "
          f"{1000 * elapsed / len(docs):.2f} ms/doc")
    print(f"floor            {base:.3f} s  ({1e6 * base / len(docs):.0f} µs/doc: read + re.findall(r'\\w+'))")
    print(f"ratio            {elapsed / base:.0f}x the floor")
    print(f"peak memory      {peak / 1e6:.1f} MB traced over 200 documents, {rss:.0f} MB max RSS")
    for name, secs in per_component.items():
        print(f"  {name:12s} {1000 * secs / len(docs):6.2f} ms/doc  {100 * secs / elapsed:5.1f}%")
    print(f"geoparser share  {100 * per_component.get('places', 0.0) / elapsed:.1f}% of extraction time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
