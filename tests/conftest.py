"""Shared fixtures: real ledgers (SQLite files and a real PostgreSQL server) and invented reports.

PostgreSQL: RIGHTSLEDGER_TEST_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres)
names a server on which a fresh database is created for the test session and dropped after.
Without a reachable server those tests skip, unless RIGHTSLEDGER_REQUIRE_PG=1 (set by CI),
which turns the skip into a failure.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

import rightsledger.extract
from rightsledger.ledger import Ledger
from rightsledger.model import (
    Actor,
    Citation,
    DateValue,
    Document,
    Incident,
    Place,
    Span,
    TypeFact,
    Victims,
    Why,
)

PG_URL = os.environ.get("RIGHTSLEDGER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REQUIRE_PG = os.environ.get("RIGHTSLEDGER_REQUIRE_PG", "") == "1"


# -- databases ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (dropped at the end)."""
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # any failure to reach the server
        admin.dispose()
        reason = f"PostgreSQL not reachable at {make_url(PG_URL).render_as_string()} ({type(exc).__name__}); " \
                 "set RIGHTSLEDGER_TEST_PG_URL to a server where tests may create databases"
        if REQUIRE_PG:
            pytest.fail(f"RIGHTSLEDGER_REQUIRE_PG=1 but {reason}")
        pytest.skip(reason)
    name = f"rightsledger_test_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def pg_url(pg_database: str) -> str:
    """The session's PostgreSQL database, emptied for this test."""
    engine = sa.create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
    return pg_database


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty ledger database URL: a SQLite file, then a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def make_ledger(ledger_url: str) -> Iterator[Callable[[], Ledger]]:
    """Open ledgers on `ledger_url`; every one opened is closed after the test."""
    opened: list[Ledger] = []

    def factory() -> Ledger:
        ledger = Ledger(ledger_url)
        opened.append(ledger)
        return ledger

    yield factory
    for ledger in opened:
        ledger.close()


@pytest.fixture
def ledger(make_ledger: Callable[[], Ledger]) -> Ledger:
    return make_ledger()


def execute(url: str, sql: str, **params: object) -> list[tuple]:
    """Run SQL on a ledger database behind RightsLedger's back (to tamper with it in tests)."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(sa.text(sql), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


# -- invented reports ----------------------------------------------------------------------------
TOWNS = ["Hyesan", "Musan", "Onsong", "Hoeryong", "Sinuiju", "Kimchaek"]


def report_text(n: int) -> str:
    """An invented, article-like report; different for every `n`."""
    town = TOWNS[n % len(TOWNS)]
    count = 3 + n % 17
    return (
        f"Authorities detain {count} residents in {town} (report {n})\n\n"
        f"Police in {town} detained {count} families in June for using Chinese mobile phones, "
        f"a resident of the city told Radio Free Asia. \"They came at night and took everyone in "
        f"building {n},\" the resident said, asking not to be named for safety reasons.\n\n"
        f"The crackdown follows a campaign against what the authorities call anti-socialist "
        f"behaviour. Local market traders described case number {n * 7 + 1} as typical.\n"
    )


@pytest.fixture
def write_reports(tmp_path: Path) -> Callable[..., Path]:
    """Write `count` invented .txt reports into a folder and return the folder."""

    def write(count: int = 3, folder: str = "reports", start: int = 0) -> Path:
        target = tmp_path / folder
        target.mkdir(parents=True, exist_ok=True)
        for n in range(start, start + count):
            (target / f"report-{n:04d}.txt").write_text(report_text(n), encoding="utf-8")
        return target

    return write


# -- a small, predictable extractor --------------------------------------------------------------
WHY = "fake.v1"


def fake_extract(doc: Document) -> Document:
    """Stand-in for the extraction pipeline: simple patterns, every fact with span and why.

    The foundation's tests must not depend on extraction accuracy, only on facts flowing
    through the ledger intact.
    """
    text = doc.text

    def span(m: re.Match[str], group: int = 0) -> Span:
        return Span.of(text, m.start(group), m.end(group))

    incidents = []
    m = re.search(r"\bdetained\b", text)
    if m:
        inc = Incident(id=f"{doc.id}-i1")
        inc.type_facts.append(TypeFact("arbitrary_detention", span(m), Why(WHY, "trigger:detained", "verb")))
        d = re.search(r"\bin June\b", text)
        if d:
            inc.date = DateValue(date(2024, 6, 1), date(2024, 6, 30), "month", d.group(0), span(d),
                                 Why(WHY, "month-name", "resolved against 2024"))
        for t in re.finditer("|".join(TOWNS), text):
            inc.places.append(Place(t.group(0), "city", span(t), "site", 41.4 + len(t.group(0)) / 100, 128.2,
                                    f"fake:{t.group(0).lower()}", "Ryanggang", "KP", None, Why(WHY, "town-list")))
            break
        v = re.search(r"(\d+) families", text)
        if v:
            inc.victims.append(Victims(int(v.group(1)), "families", "families using phones", span(v),
                                       False, Why(WHY, "count-unit")))
        p = re.search(r"Police", text)
        if p:
            inc.perpetrators.append(Actor("police", "Police", span(p), Why(WHY, "actor:police")))
        s = re.search(r"a resident of the city", text)
        if s:
            q = re.search(r"\"([^\"]+)\"", text)
            inc.sources.append(Actor("resident", s.group(0), span(s), Why(WHY, "informant:resident"),
                                     [span(q, 1)] if q else []))
        inc.evidence.append(Span.of(text, m.start(), text.find(".", m.start()) + 1 or len(text)))
        incidents.append(inc)
    h = re.search(r"rumou?rs? that [^.]*\b(exiled|executed)\b", text)
    if h:
        inc = Incident(id=f"{doc.id}-i{len(incidents) + 1}", modality="hedged")
        inc.type_facts.append(TypeFact("forced_relocation", span(h, 1), Why(WHY, "trigger:exiled"), "hedged"))
        inc.evidence.append(span(h))
        incidents.append(inc)
    doc.incidents = incidents
    c = re.search(r"told (Radio Free Asia)", text)
    doc.cites = [Citation("Radio Free Asia", span(c, 1), Why(WHY, "told-outlet"))] if c else []
    return doc


@pytest.fixture
def fake_extractor(monkeypatch: pytest.MonkeyPatch) -> Callable[[Document], Document]:
    """Replace the extraction pipeline with `fake_extract` for this test."""
    monkeypatch.setattr(rightsledger.extract, "extract", fake_extract)
    return fake_extract


SAMPLE_TEXT = (
    "In March, 12 families from Hyesan were banished to Kapsan county, a trader told Daily NK. "
    "State security agents escorted them. There are rumours that more will be exiled."
)


def sample_document(data: bytes = b"sample original", doc_id: str | None = None) -> Document:
    """A document with every kind of fact, built by hand (independent of the extractor)."""
    from rightsledger.evidence import digest

    sha = digest(data)
    doc = Document(id=doc_id or sha[:16], text=SAMPLE_TEXT, sha256=sha, url="https://example.org/a/1",
                   outlet="Example Times", title="Families banished", published=date(2024, 4, 2), language="en")
    t = SAMPLE_TEXT

    def at(words: str) -> Span:
        i = t.index(words)
        return Span.of(t, i, i + len(words))

    quote_speaker = Actor("resident", "a trader", at("a trader"), Why("attribution.v1", "informant:trader", ""), [])
    inc = Incident(
        id=f"{doc.id}-i1",
        type_facts=[TypeFact("forced_relocation", at("banished"), Why("triggers.v1", "forced_relocation:banish", "verb")),
                    TypeFact("collective_punishment", at("families"), Why("triggers.v1", "families-of", ""))],
        date=DateValue(date(2024, 3, 1), date(2024, 3, 31), "month", "In March", at("In March"),
                       Why("dates.v1", "month", "resolved against 2024-04-02")),
        places=[Place("Hyesan", "city", at("Hyesan"), "origin", 41.4, 128.18, "kp:city:hyesan", "Ryanggang", "KP",
                      None, Why("places.v1", "gazetteer", "cue: from")),
                Place("Kapsan", "county", at("Kapsan county"), "destination", 41.09, 128.29, "kp:county:kapsan",
                      "Ryanggang", "KP", None, Why("places.v1", "gazetteer", "cue: to"))],
        victims=[Victims(12, "families", "families from Hyesan", at("12 families"), False,
                         Why("quantities.v1", "count-unit", ""))],
        perpetrators=[Actor("state_security", "State security agents", at("State security agents"),
                            Why("actors.v1", "state_security:agents", ""))],
        sources=[quote_speaker],
        evidence=[at("In March, 12 families from Hyesan were banished to Kapsan county")],
    )
    hedged = Incident(id=f"{doc.id}-i2", modality="hedged",
                      type_facts=[TypeFact("forced_relocation", at("exiled"), Why("triggers.v1", "exile"), "hedged")],
                      evidence=[at("There are rumours that more will be exiled.")])
    doc.incidents = [inc, hedged]
    doc.cites = [Citation("Daily NK", at("Daily NK"), Why("attribution.v1", "told-outlet", ""))]
    return doc


# -- keys for confidential values ----------------------------------------------------------------
@pytest.fixture
def key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A new key file, set as RIGHTSLEDGER_KEY_FILE for this test (no passphrase)."""
    from rightsledger.protect import crypto

    path = tmp_path / "ledger.key"
    crypto.write_key_file(path)
    monkeypatch.delenv(crypto.PASSPHRASE_ENV, raising=False)
    monkeypatch.setenv(crypto.KEY_FILE_ENV, str(path))
    return path
