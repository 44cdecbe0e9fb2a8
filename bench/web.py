"""Review workspace speed at volume: server time of the search, facet, dashboard, map and case
requests against a real uvicorn server on loopback, over a ledger of --n generated incidents.

usage: python bench/web.py [--n 100000] [--requests 20] [--db URL] [--keep]

Without --db (or with a --db that holds fewer than --n incidents) the ledger is built first:
generated reports (one incident each; 1-3 reports per event, spread over the bundled gazetteer's
provinces and counties, violation types and the years 2008-2024, relocations and repatriations with
an origin and a destination) go in through the store layer's bulk loader (`store.bulk.load_rows`,
the path `rightsledger load` uses), and each event becomes a case (`Repository.save_links`). A
PostgreSQL --db must name an existing database. The server runs as `rightsledger serve` in a
subprocess; requests use a session cookie (pages) or an API token (/api/...).

Time is measured on the client as the wall time of each request over loopback (no Server-Timing
header), so it includes HTTP and JSON transfer; the trivial baseline endpoint (/api/me: token
check and a tiny JSON answer) shows that fixed part. For each endpoint: the first (cold) request,
then the median and p95 of --requests more. Peak memory: the server's (VmHWM) and this script's.
Bars: search and facet pages < 300 ms, map data for the whole country < 1 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from rightsledger import evidence
from rightsledger.ledger import Case, Ledger, SearchFilters
from rightsledger.link.independence import Member
from rightsledger.protect import audit
from rightsledger.review import auth
from rightsledger.store import bulk
from rightsledger.store.repository import Repository

PASSWORD = "an invented benchmark passphrase"
# (type, weight): roughly how often each is reported.
TYPES = [("arbitrary_detention", 20), ("forced_repatriation", 12), ("forced_relocation", 10), ("killing", 8),
         ("torture", 8), ("forced_labor", 8), ("enforced_disappearance", 6), ("expression_crackdown", 6),
         ("movement_restriction", 6), ("religious_persecution", 5), ("collective_punishment", 5),
         ("sexual_violence", 4), ("public_humiliation", 2)]
MOVES = {"forced_repatriation", "forced_relocation"}
OUTLETS = ["Radio Free Asia", "Daily NK", "NK News", "Yonhap", "AFP", "Asia Press"]
VERBS = {"arbitrary_detention": "detained", "forced_repatriation": "repatriated", "forced_relocation": "banished",
         "killing": "executed", "torture": "tortured", "forced_labor": "sent to forced labour",
         "enforced_disappearance": "disappeared", "expression_crackdown": "punished for watching foreign films",
         "movement_restriction": "stopped at checkpoints", "religious_persecution": "arrested for praying",
         "collective_punishment": "punished with their families", "sexual_violence": "abused",
         "public_humiliation": "paraded at a public meeting"}
SEARCH_Q = "Musan"
FACETS = {"type": "forced_repatriation", "province": "North Hamgyong", "from": "2018-01-01", "to": "2022-12-31"}


# -- generating the ledger -----------------------------------------------------------------------
def _events(n: int, seed: int) -> Any:
    """(event number, reports) until n reports: each report is one document with one incident."""
    rng = random.Random(seed)
    counties = [c for c in Ledger.map_base()["counties"] if c.get("province")]
    names, weights = zip(*TYPES)
    made, e = 0, 0
    while made < n:
        kinds = list(dict.fromkeys(rng.choices(names, weights, k=rng.choice((1, 1, 1, 2)))))
        site = rng.choice(counties)
        origin = rng.choice(counties) if set(kinds) & MOVES else None
        day = date(2008, 1, 1) + timedelta(days=rng.randrange(17 * 365))
        precision = rng.choices(("day", "month", "year"), (6, 3, 1))[0]
        victims = rng.choice((1, 2, 3, 5, 8, 12, 20, 30, 60, 150))
        reports = min(rng.choice((1, 1, 2, 2, 3)), n - made)
        yield e, [dict(kinds=kinds, site=site, origin=origin, day=day, precision=precision, victims=victims,
                       outlet=rng.choice(OUTLETS), hedged=rng.random() < 0.08, r=r,
                       published=day + timedelta(days=rng.randint(1, 40))) for r in range(reports)]
        made += reports
        e += 1


def _fact(incident: str, kind: str, seq: int, value: dict[str, Any], text: str, needle: str, rule: str) -> dict[str, Any]:
    start = text.index(needle)
    return {"incident_id": incident, "seq": seq, "kind": kind, "value": json.dumps(value), "span_start": start,
            "span_end": start + len(needle), "span_text": needle, "component": "bench", "rule": rule, "detail": ""}


def _report(e: int, rep: dict[str, Any]) -> tuple[dict[str, list[dict[str, Any]]], tuple[str, str, str, date]]:
    site, origin, kinds = rep["site"], rep["origin"], rep["kinds"]
    when = {"day": rep["day"].strftime("on %d %B %Y"), "month": rep["day"].strftime("in %B %Y"),
            "year": rep["day"].strftime("in %Y")}[rep["precision"]]
    place = f"{site['name']} county, {site['province']} province"
    moved = f" from {origin['name']} county" if origin else ""
    count = f"{rep['victims']} residents"
    verb = VERBS[kinds[0]]
    title = f"{rep['outlet']}: {count} {verb} in {site['name']}"
    text = (f"{title}\n\nSecurity officials {verb} {count}{moved} in {place} {when}, a source in "
            f"{site['province']} told {rep['outlet']}. Report {e}-{rep['r']} on {', '.join(k.replace('_', ' ') for k in kinds)}. "
            f"Residents said the authorities warned others not to speak about it.")
    data = text.encode("utf-8")
    sha = hashlib.sha256(data).hexdigest()
    doc, inc = sha[:16], f"{sha[:16]}-i1"
    start = rep["day"]
    end = {"day": start, "month": (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1),
           "year": date(start.year, 12, 31)}[rep["precision"]]
    if rep["precision"] == "month":
        start = start.replace(day=1)
    elif rep["precision"] == "year":
        start = date(start.year, 1, 1)
    modality = "hedged" if rep["hedged"] else "asserted"
    facts = [_fact(inc, "type", i, {"code": k, "modality": modality}, text, verb, f"{k}/bench") for i, k in enumerate(kinds)]
    facts.append(_fact(inc, "date", 0, {"start": start.isoformat(), "end": end.isoformat(), "precision": rep["precision"],
                                        "text": when}, text, when, "date"))
    geo = {"level": "county", "country": "KP", "gazetteer_id": None}
    facts.append(_fact(inc, "place", 0, {"name": site["name"], "role": "destination" if origin else "site",
                                         "province": site["province"], "county": site["name"], "lat": site["lat"],
                                         "lon": site["lon"], **geo}, text, f"{site['name']} county", "gazetteer"))
    if origin:
        facts.append(_fact(inc, "place", 1, {"name": origin["name"], "role": "origin", "province": origin["province"],
                                             "county": origin["name"], "lat": origin["lat"], "lon": origin["lon"], **geo},
                           text, f"{origin['name']} county", "gazetteer"))
    facts.append(_fact(inc, "victims", 0, {"count": rep["victims"], "unit": "persons", "approximate": False,
                                           "description": count}, text, count, "count"))
    facts.append(_fact(inc, "perpetrator", 0, {"kind": "authorities", "name": "Security officials", "quotes": []},
                       text, "Security officials", "perpetrator"))
    facts.append(_fact(inc, "source", 0, {"kind": "unnamed", "description": "a source", "quotes": []},
                       text, "a source", "source"))
    url = f"https://example.org/bench/{e}/{rep['r']}"
    rows = {
        "originals": [{"sha256": sha, "size": len(data), "media_type": "text/plain", "content": data, "stored_at": None}],
        "documents": [{"id": doc, "sha256": sha, "url": url, "outlet": rep["outlet"], "title": title,
                       "published": rep["published"], "language": "en", "source_text": text, "text": text,
                       "offsets": json.dumps({"v": 1, "length": len(text), "source_length": len(text), "runs": [[0, 0]]}),
                       "removed": "[]", "duplicate_of": None, "extractor": "bench/web.py", "created_at": None}],
        "incidents": [{"id": inc, "document_id": doc, "seq": 0, "modality": modality, "case_id": None,
                       "date_start": start, "date_end": end, "date_precision": rep["precision"],
                       "evidence": json.dumps([{"start": 0, "end": len(title), "text": title}])}],
        "facts": facts,
        "citations": [],
        "custody": [{"sha256": sha, "document_id": doc, "event": "ingested", "source": url,
                     "retrieved_at": evidence.utcnow(), "recorded_at": None, "user_name": "bench", "tool": "bench/web.py",
                     "details": json.dumps({"generated": True})}],
    }
    return rows, (doc, inc, url, rep["published"])


def build(ledger: Ledger, n: int, seed: int = 7, chunk: int = 5000) -> None:
    """n generated incidents in chunks of `chunk` reports, one transaction each, then their cases."""
    t0 = time.perf_counter()
    batch: dict[str, list[dict[str, Any]]] = {t.name: [] for t, _ in bulk.LOAD_ORDER}
    events: list[tuple[int, list[dict[str, Any]], list[tuple[str, str, str, date]]]] = []
    loaded = 0

    def flush() -> None:
        nonlocal loaded
        with ledger.db.write() as conn:
            stats = bulk.load_rows(conn, batch)
            cases_, case_of = [], {}
            for e, reps, refs in events:
                cid = f"C-bench{e:07d}"
                members = [Member(doc, url, r["outlet"], pub, [inc], "origin" if i == 0 else "re-report", [refs[0][0]])
                           for i, ((doc, inc, url, pub), r) in enumerate(zip(refs, reps))]
                outlets = {r["outlet"] for r in reps}
                site = reps[0]["site"]
                case = Case(cid, "corroborated" if len(outlets) > 1 else "single_source", sorted(reps[0]["kinds"]),
                            [inc for _, inc, _, _ in refs], members, [refs[0][0]], [], {},
                            places=[site["name"], site["province"]])
                cases_.append({"id": cid, "status": case.status, "types": case.types, "origin_count": 1,
                               "summary": case.explain()})
                case_of.update({inc: cid for _, inc, _, _ in refs})
            Repository(conn).save_links({}, case_of, cases_, [], [])
            audit.append(conn, "bench", "load", "bench:generated", stats.to_dict())
        loaded += stats.documents
        for rows in batch.values():
            rows.clear()
        events.clear()
        print(f"  {loaded} incidents loaded ({time.perf_counter() - t0:.0f} s)", flush=True)

    pending = 0
    for e, reps in _events(n, seed):
        refs = []
        for rep in reps:
            rows, ref = _report(e, rep)
            for table, rs in rows.items():
                batch[table] += rs
            refs.append(ref)
        events.append((e, reps, refs))
        pending += len(reps)
        if pending >= chunk:
            flush()
            pending = 0
    if pending:
        flush()
    print(f"built {loaded} incidents in {time.perf_counter() - t0:.1f} s", flush=True)


# -- timing the server ----------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _peak_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    m = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(m.group(1)) if m else 0


def _serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    exe = shutil.which("rightsledger", path=str(Path(sys.executable).parent)) or "rightsledger"
    proc = subprocess.Popen([exe, "--db", url, "serve", "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server stopped: " + (proc.stderr.read().decode() if proc.stderr else ""))
        try:
            httpx.get(base + "/login", timeout=2)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start within 60 s")


def _signed_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    page = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    r = client.post("/login", data={"name": "bench-admin", "password": PASSWORD, "csrf": csrf, "next": "/"})
    if r.status_code != 303:
        raise RuntimeError(f"sign-in failed: {r.status_code}")
    return client


def _time(client: httpx.Client, path: str, n: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
    times = []
    size = 0
    for _ in range(n + 1):
        t0 = time.perf_counter()
        r = client.get(path, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {r.status_code}: {r.text[:200]}")
        size = len(r.content)
    cold, rest = times[0], sorted(times[1:])
    p95 = rest[min(len(rest) - 1, int(round(0.95 * (len(rest) - 1))))]
    return {"cold_ms": cold, "median_ms": statistics.median(rest), "p95_ms": p95, "bytes": size}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000, help="incidents in the ledger")
    ap.add_argument("--requests", type=int, default=20, help="timed requests per endpoint (after one cold one)")
    ap.add_argument("--db", help="ledger URL to build in (or reuse); default: a SQLite file in a temporary folder")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="rl-bench-web-"))
    url = args.db or f"sqlite:///{work / 'ledger.db'}"
    print(f"cores {os.cpu_count()}, load average before {os.getloadavg()[0]:.2f}; ledger {url}", flush=True)
    with Ledger(url) as ledger:
        have = sum(ledger.stats()["incidents"].values())
        if have < args.n:
            build(ledger, args.n - have)
        if ledger.user("bench-admin") is None:
            auth.add_user(ledger, "bench-admin", "admin", PASSWORD, created_by="bench")
        _, token = auth.new_token(ledger, "bench-admin", "bench", expires_days=1, by="bench")
        incidents = sum(ledger.stats()["incidents"].values())
        case_id = ledger.case_list(SearchFilters(), limit=1)["rows"][0]["id"]
    print(f"ledger: {incidents} incidents", flush=True)

    proc, base = _serve(url)
    bearer = {"Authorization": f"Bearer {token}"}
    q = httpx.QueryParams
    plan = [
        ("baseline /api/me", "/api/me", bearer),
        ("dashboard /", "/", None),
        (f"search page ?q={SEARCH_Q}", f"/search?{q({'q': SEARCH_Q})}", None),
        ("search page with facets", f"/search?{q(FACETS)}", None),
        (f"/api/search ?q={SEARCH_Q}", f"/api/search?{q({'q': SEARCH_Q})}", bearer),
        ("/api/map whole country", "/api/map", bearer),
        ("case page", f"/cases/{case_id}", None),
    ]
    results: dict[str, Any] = {"incidents": incidents, "database": url.split(":")[0], "requests": args.requests,
                               "timing": "client wall time per request over loopback (no Server-Timing header)"}
    try:
        client = _signed_in(base)
        print(f"{'endpoint':34s} {'cold':>8s} {'median':>8s} {'p95':>8s} {'bytes':>10s}")
        for name, path, headers in plan:
            r = _time(client, path, args.requests, headers)
            results[name] = r
            print(f"{name:34s} {r['cold_ms']:7.0f}ms {r['median_ms']:7.0f}ms {r['p95_ms']:7.0f}ms {r['bytes']:10d}", flush=True)
        results["server_peak_mb"] = _peak_kb(proc.pid) / 1024
    finally:
        proc.terminate()
        proc.wait(10)
    results["bench_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: server {results['server_peak_mb']:.0f} MB, this script {results['bench_peak_mb']:.0f} MB")
    bars = {f"search page ?q={SEARCH_Q}": 300, "search page with facets": 300, "/api/map whole country": 1000}
    ok = True
    for name, bar in bars.items():
        got = results[name]["p95_ms"]
        ok &= got < bar
        print(f"bar {name}: p95 {got:.0f} ms < {bar} ms: {'yes' if got < bar else 'NO'}")
    print(f"load average after {os.getloadavg()[0]:.2f}")
    if not args.keep and not args.db:
        for f in work.glob("ledger.db*"):
            f.unlink()
    (work / "bench-web.json").write_text(json.dumps(results, indent=1))
    print(f"numbers in {work / 'bench-web.json'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
