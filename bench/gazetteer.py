"""Gazetteer and geoparser benchmark: cold/warm load time and peak memory, lookup time, geoparser time per 3 KB.

    .venv/bin/python bench/gazetteer.py            # uses a temporary cache dir for the cold load

Loads run in fresh processes so their peak RSS is the gazetteer's own (cold: build from the packaged
sources and write the cache; warm: read the cache). Geoparser times are CPU time per document.
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time

LOAD = (
    "import resource, time; t = time.perf_counter(); from rightsledger.gazetteer import load_gazetteer; load_gazetteer(); "
    "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
)

SENTENCES = [
    "In {month}, {n} families from {city} were banished to {village} village in {county} county, {province}, a source told reporters.",
    "Security agents in {city} arrested {n} people for using Chinese mobile phones, a resident of {province} said.",
    "The women were repatriated from {foreign} and handed over to the state security department in {city}.",
    "A public trial was held at the {city} stadium, where residents were forced to watch.",
    "Local officials said the crackdown would continue until the end of the year across {county} county.",
    "The families were moved to remote farms in {county} and {county2} counties, the official added.",
    "Analysts in Seoul said the policy mirrors campaigns of the 1990s, when thousands were sent to rural areas.",
    "Residents said food prices rose sharply at the market after the border was sealed in early spring.",
]
FILL = {
    "city": ["Hyesan", "Hoeryong", "Chongjin", "Sinuiju", "Musan", "Wonsan", "Hamhung", "Pyongyang", "Sariwon", "Haeju"],
    "village": ["Ryongwol", "Sangchon", "Tokdong", "Ogye", "Munsu"],
    "county": ["Sinwon", "Chaeryong", "Sinkye", "Kapsan", "Onsong", "Unryul", "Yonsa", "Pungso"],
    "county2": ["Samsu", "Paegam", "Kimhyongjik", "Taehongdan"],
    "province": ["South Hwanghae", "North Hamgyong Province", "Ryanggang", "Yangkang Province", "North Pyongan"],
    "foreign": ["Dandong", "Shenyang", "Yanji", "Vladivostok", "China", "Russia"],
    "month": ["June", "July", "March", "October"],
    "n": ["30", "four", "dozens of", "12"],
}


def make_doc(rng: random.Random, size: int = 3072) -> str:
    out = []
    while sum(len(s) + 1 for s in out) < size:
        s = rng.choice(SENTENCES)
        out.append(s.format(**{k: rng.choice(v) for k, v in FILL.items()}))
    return " ".join(out)[:size]


def _load(env: dict[str, str]) -> tuple[float, float]:
    secs, mb = subprocess.check_output([sys.executable, "-c", LOAD], env=env).split()
    return float(secs), float(mb)


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "RIGHTSLEDGER_CACHE_DIR": cache}
        cold, cold_mb = _load(env)
        warm, warm_mb = min(_load(env) for _ in range(3))
    print(f"load: cold {cold:.2f} s, peak RSS {cold_mb:.0f} MB (build + write cache); warm {warm:.3f} s, peak RSS {warm_mb:.0f} MB")

    from rightsledger.extract.places import find_toponyms
    from rightsledger.gazetteer import load_gazetteer

    gaz = load_gazetteer()
    names = ["Chaeryong", "Sinkye county", "Hoiryeong", "Dandong", "Vladivostok", "신계군", "Ryongwol village", "Seoul"]
    for nm in names:
        gaz.lookup(nm)
    t0 = time.perf_counter()
    reps = 2000
    for _ in range(reps):
        for nm in names:
            gaz.lookup(nm)
    print(f"lookup: {(time.perf_counter() - t0) / (reps * len(names)) * 1e6:.1f} µs per name (scored, no context)")

    rng = random.Random(1)
    docs = [make_doc(rng) for _ in range(300)]
    for d in docs[:20]:
        find_toponyms(d, gaz)
    times, found = [], 0
    for d in docs:
        t0 = time.process_time()
        found += len(find_toponyms(d, gaz))
        times.append(time.process_time() - t0)
    print(f"geoparser: {statistics.mean(times) * 1000:.2f} ms mean, {statistics.median(times) * 1000:.2f} ms median CPU per 3 KB document "
          f"({len(docs)} documents, {found / len(docs):.0f} toponyms each)")
    print(f"peak RSS (this process, warm load + geoparsing): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
