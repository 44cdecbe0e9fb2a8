"""Confidential values encrypted at rest (the structured facts — type, date, place, count — stay
in clear by design, so the confidential document's place is not among the secrets): the database holds no plaintext of them (a raw scan of
the SQLite file, every PostgreSQL row), the ledger works without the key and says what is locked,
a wrong key or a copied ciphertext fails, key rotation is all or nothing, exports and the web
page never show them. Every person, place and number below is invented."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest import execute
from rightsledger import evidence
from rightsledger.cli import app
from rightsledger.ledger import Ledger, SearchFilters
from rightsledger.model import Actor, Document, Incident, Place, Span, TypeFact, Victims, Why
from rightsledger.protect import crypto
from rightsledger.protect import sealed as sealing
from rightsledger.review import auth, create_app
from rightsledger.store.repository import Repository
from rightsledger.store.schema import metadata

W = Why("test.v1", "hand-made")
CONFIDENTIAL = ("Guards at the Kwangbok depot beat 4 detainees in July behind the Vantrakel storehouse, said "
                "Choe Un-byol, a cook at the depot, "
                "\"they took the keys from the night shift,\" she added.")
PLAIN = "In August, 5 residents of Tokdong were detained by police, a market trader said."
ORIGINAL_ONLY = b"Xyloquarne draft header\n"  # in the original bytes only, not in the clean text
INFORMANT_DETAIL = "Reach her through her cousin, phone 5550-1234, Yanbian market stall 17"
NOTE = "Source asked us to call her Kwon Sol-hee in reports"
DOC_NOTE = "Cook's shift pattern: Thursdays only, per Brellimar"
SECRETS = ["Vantrakel", "Choe Un-byol", "took the keys from the night shift", "Xyloquarne", "5550-1234",
           "stall 17", "Kwon Sol-hee", "Brellimar"]
PASSWORD = "a long invented passphrase"


def _at(text: str, words: str) -> Span:
    i = text.index(words)
    return Span.of(text, i, i + len(words))


def _doc(text: str, data: bytes, informant: str, place: str, quote: str | None = None) -> Document:
    sha = evidence.digest(data)
    doc = Document(id=sha[:16], text=text, sha256=sha, url=f"https://example.org/{sha[:6]}", outlet="Invented Herald",
                   title="A report", published=date(2025, 9, 1), language="en")
    doc.incidents = [Incident(
        id=f"{doc.id}-i1", type_facts=[TypeFact("arbitrary_detention", _at(text, text.split()[3]), W)],
        places=[Place(place, "village", _at(text, place), "site", 40.1, 127.2, None, "Ryanggang", "KP", None, W)],
        victims=[Victims(4, "persons", "detainees", _at(text, text.split()[7]), False, W)],
        sources=[Actor("resident", informant, _at(text, informant), W, [_at(text, quote)] if quote else [])],
        evidence=[Span.of(text, 0, text.index(",") + 1)])]
    return doc


def _store(ledger: Ledger, doc: Document, data: bytes) -> None:
    with ledger.db.write() as conn:
        repo = Repository(conn)
        repo.add_original(data, "text/plain")
        repo.add_document(doc, source_text=doc.text, offsets={"v": 1, "runs": [[0, 0]]}, removed=[], extractor="test")
        repo.add_custody(evidence.custody(evidence.INGESTED, doc.sha256, "hand", evidence.utcnow(),
                                          document_id=doc.id, details={}))


@pytest.fixture
def filled(ledger: Ledger, key_file: Path) -> tuple[Ledger, str, str, int]:
    """A confidential document (with a note and an informant detail), a plain one with a
    confidential note; returns (ledger, confidential id, plain id, informant fact id)."""
    conf = _doc(CONFIDENTIAL, ORIGINAL_ONLY + CONFIDENTIAL.encode(), "Choe Un-byol, a cook at the depot", "Kwangbok",
                "they took the keys from the night shift,")
    plain = _doc(PLAIN, PLAIN.encode(), "a market trader", "Tokdong")
    _store(ledger, conf, ORIGINAL_ONLY + CONFIDENTIAL.encode())
    _store(ledger, plain, PLAIN.encode())
    ledger.link_new()
    fact_id = next(f["id"] for f in ledger.review_facts(conf.id) if f["kind"] == "source")
    ledger.add_note("document", conf.id, "ana", DOC_NOTE)
    ledger.add_informant_detail(fact_id, "ana", INFORMANT_DETAIL)
    ledger.add_note("document", plain.id, "ana", NOTE, confidential=True)
    ledger.mark("document", conf.id, "confidential", user="ana")
    return ledger, conf.id, plain.id, fact_id


def _rows_text(url: str) -> tuple[str, bytes]:
    """Every row of every table (and the SQLite full-text index) as text and as bytes."""
    engine = sa.create_engine(url)
    texts, blobs = [], []
    try:
        with engine.connect() as conn:
            names = [t.name for t in metadata.sorted_tables]
            if engine.dialect.name == "sqlite":
                names += [r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table' "
                                                             "AND name LIKE 'documents_fts%'")]
                for name in names:
                    for row in conn.exec_driver_sql(f'SELECT * FROM "{name}"'):
                        for v in row:
                            (blobs if isinstance(v, bytes) else texts).append(v if isinstance(v, bytes) else str(v))
            else:  # the whole row as PostgreSQL prints it: bytea as hex, search_vector included
                for name in names:
                    texts += [r[0] for r in conn.exec_driver_sql(f'SELECT t::text FROM "{name}" t')]
    finally:
        engine.dispose()
    return "\n".join(texts), b"\n".join(blobs)


def _leaks(url: str) -> list[str]:
    text, blob = _rows_text(url)
    low, blob = text.lower(), blob.lower()
    found = [s for s in SECRETS if s.lower() in low or s.lower().encode() in blob or s.encode().hex() in low]
    if url.startswith("sqlite"):
        path = Path(sa.engine.make_url(url).database)
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()).lower()
        found += [f"file:{s}" for s in SECRETS if s.lower().encode() in raw]
    return found


# -- encryption at rest --------------------------------------------------------------------------
def test_no_confidential_plaintext_in_the_database(ledger: Ledger, key_file: Path, ledger_url: str) -> None:
    conf = _doc(CONFIDENTIAL, ORIGINAL_ONLY + CONFIDENTIAL.encode(), "Choe Un-byol, a cook at the depot", "Kwangbok",
                "they took the keys from the night shift,")
    _store(ledger, conf, ORIGINAL_ONLY + CONFIDENTIAL.encode())
    ledger.link_new()
    ledger.add_note("document", conf.id, "ana", DOC_NOTE)
    before = _leaks(ledger_url)
    assert {"Vantrakel", "Choe Un-byol", "Xyloquarne", "Brellimar"} <= set(before)  # the scan sees plaintext
    plain = _doc(PLAIN, PLAIN.encode(), "a market trader", "Tokdong")
    _store(ledger, plain, PLAIN.encode())
    fact_id = next(f["id"] for f in ledger.review_facts(conf.id) if f["kind"] == "source")
    ledger.add_informant_detail(fact_id, "ana", INFORMANT_DETAIL)
    ledger.add_note("document", plain.id, "ana", NOTE, confidential=True)
    ledger.mark("document", conf.id, "confidential", user="ana")
    assert _leaks(ledger_url) == []  # while the ledger is open (its write-ahead log too)
    text, _ = _rows_text(ledger_url)
    assert "Tokdong" in text  # what is not confidential stays in clear (the scan is not vacuous)


def test_with_the_key_everything_reads_back(filled) -> None:
    ledger, conf, plain, fact_id = filled
    doc = ledger.document(conf)
    assert doc.text == CONFIDENTIAL and not doc.locked
    assert doc.incidents[0].sources[0].name == "Choe Un-byol, a cook at the depot"
    assert doc.incidents[0].sources[0].quotes[0].text == "they took the keys from the night shift,"
    assert ledger.original(conf) == ORIGINAL_ONLY + CONFIDENTIAL.encode()
    assert ledger.record(conf)["source_text"] == CONFIDENTIAL
    assert [n["body"] for n in ledger.informant_details(fact_id)] == [INFORMANT_DETAIL]
    assert [n["body"] for n in ledger.notes("document", conf)] == [DOC_NOTE]
    assert [(n["body"], n["confidential"]) for n in ledger.notes("document", plain)] == [(NOTE, True)]
    report = ledger.verify()
    assert report.ok and report.locked == 0 and report.sealed_checked == ledger.stats()["sealed"]["values"] > 5


def test_marking_seals_in_one_audited_transaction_and_clearing_unseals(filled) -> None:
    ledger, conf, _, _ = filled
    with ledger.db.read() as conn:
        actions = [r[0] for r in conn.exec_driver_sql("SELECT action FROM audit_log ORDER BY seq")]
        key_rows = conn.exec_driver_sql("SELECT key_id, check_value, salt FROM protect_key").all()
    assert actions[-2:] == ["mark", "seal"]
    assert len(key_rows) == 1 and crypto.read_key_file(Path(__import__("os").environ[crypto.KEY_FILE_ENV])).hex() \
        not in json.dumps([list(map(str, r)) for r in key_rows])  # the key itself is never stored
    ledger.mark("document", conf, "confidential", user="ana", on=False)
    assert conf not in ledger.locked()["locked_documents"]
    with ledger.db.read() as conn:
        assert conn.exec_driver_sql(f"SELECT text FROM documents WHERE id = '{conf}'").scalar() == CONFIDENTIAL
    assert ledger.verify().ok


def test_a_failed_seal_leaves_nothing_half_sealed(filled, monkeypatch) -> None:
    ledger, conf, plain, _ = filled
    calls = {"n": 0}
    real = crypto.seal

    def failing(key: bytes, data: bytes, aad: str | bytes) -> bytes:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("simulated crash while sealing")
        return real(key, data, aad)

    monkeypatch.setattr(crypto, "seal", failing)
    with pytest.raises(RuntimeError):
        ledger.mark("document", plain, "confidential", user="ana")
    monkeypatch.setattr(crypto, "seal", real)
    assert plain not in {m["target_id"] for m in ledger.marks() if m["mark"] == "confidential"}
    assert ledger.document(plain).text == PLAIN and ledger.verify().ok


# -- without the key, and with a wrong one --------------------------------------------------------
def test_without_the_key_the_ledger_works_and_says_what_is_locked(filled, monkeypatch, ledger_url: str) -> None:
    ledger, conf, plain, fact_id = filled
    monkeypatch.delenv(crypto.KEY_FILE_ENV)
    with Ledger(ledger_url) as locked:
        assert locked.document(plain).text == PLAIN
        with pytest.raises(crypto.KeyProblem) as exc:
            locked.document(conf)
        assert "confidential and locked" in str(exc.value) and crypto.KEY_FILE_ENV in exc.value.hint
        with pytest.raises(crypto.KeyProblem):
            locked.original(conf)
        stub = locked.document(conf, allow_locked=True)
        assert stub.locked and stub.text == "" and stub.incidents[0].sources[0].name == ""
        assert [n["body"] for n in locked.informant_details(fact_id)] == [sealing.LOCKED_NOTE]
        status = locked.stats()["sealed"]
        assert status["locked"] == status["values"] > 5 and status["key"] == "none"
        report = locked.verify()
        assert report.ok and report.locked == status["values"] and report.sealed_checked == 0
        assert report.checked == 1  # the plain original; the sealed one is "locked, not checked"
        with pytest.raises(crypto.KeyProblem):  # changing a locked document needs the key
            locked.confirm_fact(fact_id, "ana")
        with pytest.raises(crypto.KeyProblem):
            locked.link()
        out = io.StringIO()
        assert locked.export("jsonl", out) == 1 and conf not in out.getvalue()
        assert locked.search(SearchFilters(text="Tokdong"))["total"] == 1
    runner = CliRunner(env={"COLUMNS": "200"})
    r = runner.invoke(app, ["--db", ledger_url, "show", conf])
    assert r.exit_code == 2 and "locked" in r.output and crypto.KEY_FILE_ENV in r.output
    r = runner.invoke(app, ["--db", ledger_url, "export", "-f", "jsonl"])
    assert r.exit_code == 0 and "left out 1 confidential document" in r.stderr and conf in r.stderr
    r = runner.invoke(app, ["--db", ledger_url, "stats"])
    assert r.exit_code == 0 and "LOCKED (no key set)" in r.stdout
    r = runner.invoke(app, ["--db", ledger_url, "verify"])
    assert r.exit_code == 0 and "locked, not checked" in r.stderr


def test_a_wrong_key_is_refused_clearly_and_the_rest_still_works(filled, tmp_path: Path, monkeypatch,
                                                                  ledger_url: str) -> None:
    _, conf, plain, _ = filled
    other = tmp_path / "other.key"
    crypto.write_key_file(other)
    monkeypatch.setenv(crypto.KEY_FILE_ENV, str(other))
    with Ledger(ledger_url) as wrong:
        with pytest.raises(crypto.KeyProblem) as exc:
            wrong.document(conf)
        assert "does not open" in str(exc.value)
        assert wrong.document(plain).text == PLAIN
        assert wrong.stats()["sealed"]["key"] == "wrong"
        out = io.StringIO()
        wrong.export_public("jsonl", out)
        assert plain in out.getvalue() and conf not in out.getvalue()
        with pytest.raises(crypto.KeyProblem):
            wrong.mark("document", plain, "confidential", user="ana")  # nothing is sealed under a wrong key


def test_a_ciphertext_copied_to_another_row_does_not_open(filled, ledger_url: str) -> None:
    ledger, conf, plain, fact_id = filled
    note_ref = next(f"notes:{n['id']}" for n in ledger.notes("document", plain))
    execute(ledger_url, "UPDATE sealed_values SET data = (SELECT data FROM sealed_values WHERE ref = :src), "
                        "sha256 = (SELECT sha256 FROM sealed_values WHERE ref = :src) WHERE ref = :dst",
            src=f"notes:{ledger.informant_details(fact_id)[0]['id']}", dst=note_ref)
    with pytest.raises(crypto.KeyProblem):
        ledger.notes("document", plain)
    report = ledger.verify()
    assert not report.ok and any(note_ref in p.problem for p in report.problems)


# -- key rotation --------------------------------------------------------------------------------
def _all_sealed(url: str) -> list[tuple[str, bytes]]:
    return [(r[0], bytes(r[1])) for r in execute(url, "SELECT ref, data FROM sealed_values ORDER BY ref")]


def test_rotation_reseals_everything_and_the_old_key_opens_nothing(filled, tmp_path: Path, ledger_url: str,
                                                                   key_file: Path) -> None:
    ledger, conf, _, fact_id = filled
    old = crypto.read_key_file(key_file)
    new_path = tmp_path / "new.key"
    new = crypto.write_key_file(new_path)
    n = ledger.rotate_key(new, user="ana")
    rows = _all_sealed(ledger_url)
    assert n == len(rows) > 5
    for ref, data in rows:
        with pytest.raises(crypto.KeyProblem):
            crypto.open_sealed(old, data, ref)
        crypto.open_sealed(new, data, ref)
    with Ledger(ledger_url, key=old) as stale, pytest.raises(crypto.KeyProblem):
        stale.document(conf)
    with Ledger(ledger_url, key=new) as fresh:
        assert fresh.document(conf).text == CONFIDENTIAL
        assert fresh.informant_details(fact_id)[0]["body"] == INFORMANT_DETAIL
        assert fresh.verify().ok and fresh.verify().sealed_checked == n
    with ledger.db.read() as conn:
        assert conn.exec_driver_sql("SELECT action FROM audit_log ORDER BY seq DESC").first()[0] == "key_rotate"


def test_a_crash_half_way_through_rotation_leaves_everything_under_the_old_key(filled, tmp_path: Path,
                                                                              monkeypatch, ledger_url: str,
                                                                              key_file: Path) -> None:
    ledger, conf, _, _ = filled
    old, before = crypto.read_key_file(key_file), _all_sealed(ledger_url)
    new = crypto.write_key_file(tmp_path / "new.key")
    calls = {"n": 0}
    real = crypto.seal

    def crash_half_way(key: bytes, data: bytes, aad: str | bytes) -> bytes:
        calls["n"] += 1
        if calls["n"] > len(before) // 2:
            raise RuntimeError("simulated crash in the middle of rotation")
        return real(key, data, aad)

    monkeypatch.setattr(crypto, "seal", crash_half_way)
    with pytest.raises(RuntimeError):
        ledger.rotate_key(new, user="ana")
    monkeypatch.setattr(crypto, "seal", real)
    after = _all_sealed(ledger_url)
    assert after == before and calls["n"] > 1
    for ref, data in after:
        crypto.open_sealed(old, data, ref)
    with Ledger(ledger_url, key=new) as fresh, pytest.raises(crypto.KeyProblem):
        fresh.document(conf)
    assert ledger.document(conf).text == CONFIDENTIAL and ledger.verify().ok


def test_cli_key_new_and_rotate_with_a_passphrase(filled, tmp_path: Path, ledger_url: str, monkeypatch) -> None:
    _, conf, _, _ = filled
    runner = CliRunner(env={"COLUMNS": "200"})
    path = tmp_path / "k2.key"
    assert runner.invoke(app, ["key", "new", str(path)]).exit_code == 0
    assert path.stat().st_mode & 0o777 == 0o600
    assert runner.invoke(app, ["key", "new", str(path)]).exit_code == 2  # never overwritten
    r = runner.invoke(app, ["--db", ledger_url, "key", "rotate", "--new-key-file", str(path)])
    assert r.exit_code == 0 and "Re-encrypted" in r.stdout
    assert runner.invoke(app, ["--db", ledger_url, "show", conf]).exit_code == 2  # env still names the old key
    monkeypatch.setenv(crypto.KEY_FILE_ENV, str(path))
    assert runner.invoke(app, ["--db", ledger_url, "show", conf]).exit_code == 0
    r = runner.invoke(app, ["--db", ledger_url, "key", "rotate", "--new-passphrase"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert r.exit_code == 0, r.output
    monkeypatch.delenv(crypto.KEY_FILE_ENV)
    monkeypatch.setenv(crypto.PASSPHRASE_ENV, PASSWORD)
    r = runner.invoke(app, ["--db", ledger_url, "verify"])
    assert r.exit_code == 0 and "sealed (confidential) value(s) opened" in r.stdout
    monkeypatch.setenv(crypto.PASSPHRASE_ENV, "not the passphrase")
    r = runner.invoke(app, ["--db", ledger_url, "show", conf])
    assert r.exit_code == 2 and "does not open" in r.output


def test_cli_notes_and_informant_details(filled, ledger_url: str) -> None:
    _, conf, plain, fact_id = filled
    runner = CliRunner(env={"COLUMNS": "200"})
    r = runner.invoke(app, ["--db", ledger_url, "note", "document", plain, "Met the trader twice", "--confidential"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["--db", ledger_url, "--json", "note", "document", plain])
    assert [n["body"] for n in json.loads(r.stdout)] == [NOTE, "Met the trader twice"]
    r = runner.invoke(app, ["--db", ledger_url, "informant", str(fact_id), "Lives near the east gate"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["--db", ledger_url, "informant", str(fact_id)])
    assert INFORMANT_DETAIL in r.stdout and "Lives near the east gate" in r.stdout
    type_fact = next(f["id"] for f in Ledger(ledger_url).review_facts(plain) if f["kind"] == "type")
    assert runner.invoke(app, ["--db", ledger_url, "informant", str(type_fact), "x"]).exit_code == 2
    assert "east gate" not in "".join(_rows_text(ledger_url)[0])


# -- reviewing, searching, exporting, the web page ----------------------------------------------------
def test_reviewing_a_confidential_document_keeps_it_sealed(filled, ledger_url: str) -> None:
    ledger, conf, _, fact_id = filled
    ledger.correct_fact(fact_id, "ana", {"description": "Choe Un-byol (cook)"})
    assert ledger.document(conf).incidents[0].sources[0].name == "Choe Un-byol (cook)"
    assert [h["new"]["value"]["description"] for h in ledger.history(document_id=conf) if h["action"] == "correct"] \
        == ["Choe Un-byol (cook)"]
    assert _leaks(ledger_url) == []


def test_full_text_search_does_not_index_sealed_text(filled) -> None:
    ledger, conf, plain, _ = filled
    assert ledger.search(SearchFilters(text="Vantrakel"))["total"] == 0
    assert ledger.search(SearchFilters(text="Tokdong"))["total"] == 1
    ledger.mark("document", conf, "confidential", user="ana", on=False)
    assert ledger.search(SearchFilters(text="Vantrakel"))["total"] == 1  # the search itself works


def test_exports_with_the_key(filled) -> None:
    ledger, conf, plain, _ = filled
    out = io.StringIO()
    ledger.export("jsonl", out)
    assert "Choe Un-byol" in out.getvalue()
    with ledger.db.read() as conn:
        assert conn.exec_driver_sql("SELECT action FROM audit_log ORDER BY seq DESC").first()[0] == "export_confidential"
    public = io.StringIO()
    ledger.export_public("jsonl", public)
    assert public.getvalue().strip() and not [s for s in SECRETS if s in public.getvalue()]


def test_web_page_of_a_locked_document_shows_a_notice_not_ciphertext(filled, monkeypatch, ledger_url: str) -> None:
    _, conf, _, _ = filled
    monkeypatch.delenv(crypto.KEY_FILE_ENV)
    with Ledger(ledger_url) as locked:
        auth.add_user(locked, "viewer", "viewer", PASSWORD, created_by="test")
        client = TestClient(create_app(locked), base_url="http://127.0.0.1")
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert client.post("/login", data={"name": "viewer", "password": PASSWORD, "csrf": token, "next": "/"},
                           follow_redirects=False).status_code == 303
        r = client.get(f"/documents/{conf}")
        assert r.status_code == 200 and 'id="locked-notice"' in r.text and "RIGHTSLEDGER_KEY_FILE" in r.text
        assert "RLG1" not in r.text and not [s for s in SECRETS if s in r.text]
        assert client.get(f"/documents/{conf}/original").status_code != 200
