"""The public export: scanned for every confidential value (informants, confidential documents,
notes, precise places of sensitive documents and cases) in every format, library and CLI."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from typer.testing import CliRunner

from rightsledger import evidence
from rightsledger.cli import app
from rightsledger.errors import ConfigError
from rightsledger.export.public import Marks, generalise, redact
from rightsledger.model import Actor, Document, Incident, Place, Span, TypeFact, Victims, Why
from rightsledger.store.repository import Repository

W = Why("test.v1", "hand-made")

# Invented documents; every string in SECRETS must never reach a public export.
SENSITIVE = ("In May, 7 families from Ryongwol village in Sinwon county were sent away, "
             "a cousin of the farm manager Pak Ok-sun told reporters. \"They left at dawn with nothing,\" she said.")
CONFIDENTIAL = ("Guards at the Changgom depot beat 3 detainees in July, according to Ri Chol-jin, "
                "a night watchman at the depot, reached by phone.")
PLAIN = ("In August, 5 residents of Tokdong village were detained by police, a market trader named "
         "Kim Sun-hui said.")
NOTE = "Informant's sister can be reached through the Yanji church"
SECRETS = ["Ryongwol", "a cousin of the farm manager Pak Ok-sun", "Pak Ok-sun", "They left at dawn",
           "families from Ryongwol", "Seven families leave Ryongwol", "ryongwol-families",
           "Changgom", "Ri Chol-jin", "night watchman", "Depot beatings memo", "memo-0042",
           "Kim Sun-hui", "a market trader named", "Yanji church", "Sinwon", "Sinkye"]


def _at(text: str, words: str) -> Span:
    i = text.index(words)
    return Span.of(text, i, i + len(words))


def _doc(text: str, data: bytes, *, title: str, url: str, village: str, county: str | None, province: str,
         informant: str, quote: str | None, victims: str, case_id: str | None = None) -> Document:
    sha = evidence.digest(data)
    doc = Document(id=sha[:16], text=text, sha256=sha, url=url, outlet="Invented Herald", title=title,
                   published=date(2025, 9, 1), language="en")
    places = [Place(village, "village", _at(text, village), "site", 38.4, 125.9, f"kp:village:{village.lower()}",
                    province, "KP", county, W)]
    inc = Incident(id=f"{doc.id}-i1", case_id=case_id,
                   type_facts=[TypeFact("forced_relocation", _at(text, text.split()[4]), W)],
                   places=places,
                   victims=[Victims(int(next(w for w in text.split() if w.isdigit())), "families", victims,
                                    _at(text, victims.split()[0]), False, W)],
                   sources=[Actor("resident", informant, _at(text, informant), W,
                                  [_at(text, quote)] if quote else [])],
                   evidence=[Span.of(text, 0, text.index(".") + 1)])
    doc.incidents = [inc]
    return doc


def _docs() -> list[Document]:
    return [
        _doc(SENSITIVE, b"sensitive", title="Seven families leave Ryongwol", url="https://example.org/ryongwol-families",
             village="Ryongwol", county="Sinwon", province="South Hwanghae",
             informant="a cousin of the farm manager Pak Ok-sun", quote="They left at dawn with nothing,",
             victims="families"),
        _doc(CONFIDENTIAL, b"confidential", title="Depot beatings memo", url="https://example.org/memo-0042",
             village="Changgom", county="Sinkye", province="North Hwanghae",
             informant="Ri Chol-jin, a night watchman at the depot", quote=None, victims="detainees"),
        _doc(PLAIN, b"plain", title="Residents detained", url="https://example.org/tokdong",
             village="Tokdong", county="Chaeryong", province="South Hwanghae",
             informant="a market trader named Kim Sun-hui", quote=None, victims="residents"),
    ]


@pytest.fixture
def marked(ledger, key_file):
    docs = _docs()
    with ledger.db.write() as conn:
        repo = Repository(conn)
        for doc, data in zip(docs, (b"sensitive", b"confidential", b"plain"), strict=True):
            repo.add_original(data, "text/plain")
            repo.add_document(doc, source_text=doc.text, offsets={"v": 1, "runs": [[0, 0]]}, removed=[],
                              extractor="test")
            repo.add_custody(evidence.custody(evidence.INGESTED, doc.sha256, "hand", evidence.utcnow(),
                                              document_id=doc.id, details={}))
    sensitive, confidential, plain = docs
    ledger.mark("document", sensitive.id, "sensitive", user="ana")
    ledger.mark("document", confidential.id, "confidential", user="ana")
    ledger.add_note("document", plain.id, "ana", NOTE)
    return ledger, docs


def _export(ledger, fmt: str, **kw) -> str:
    out = io.StringIO()
    ledger.export_public(fmt, out, **kw)
    return out.getvalue()


def test_full_export_does_contain_the_secrets(marked) -> None:
    """The scan below is meaningful: without --public these values are exported."""
    ledger, _ = marked
    out = io.StringIO()
    ledger.export("jsonl", out)
    assert all(s in out.getvalue() for s in ("Ryongwol", "Pak Ok-sun", "Ri Chol-jin", "Kim Sun-hui"))


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "geojson"])
def test_public_export_contains_no_confidential_value(marked, fmt: str) -> None:
    ledger, _ = marked
    text = _export(ledger, fmt)
    assert text.strip()
    leaked = [s for s in SECRETS if s.lower() in text.lower()]
    assert not leaked


def test_public_export_keeps_the_structured_facts(marked) -> None:
    ledger, (sensitive, confidential, plain) = marked
    records = {json.loads(line)["document"]["id"]: json.loads(line) for line in _export(ledger, "jsonl").splitlines()}
    assert set(records) == {sensitive.id, plain.id}  # the confidential document is left out entirely
    s = records[sensitive.id]
    assert s["document"]["title"] is None and s["document"]["url"] is None
    place = s["incidents"][0]["places"][0]
    assert (place["name"], place["level"], place["lat"], place["county"]) == ("South Hwanghae", "province", None, None)
    assert s["incidents"][0]["sources"] == [{"kind": "resident", "description": "",
                                              "evidence": {"start": 0, "end": 0, "text": ""}}]
    assert s["incidents"][0]["victims"][0]["count"] == 7
    p = records[plain.id]
    assert p["incidents"][0]["places"][0]["name"] == "Tokdong"  # not sensitive: precision kept
    assert p["document"]["title"] == "Residents detained"
    assert all(span["text"] == "" for span in p["incidents"][0]["evidence"])


def test_place_level_is_configurable(marked) -> None:
    ledger, (sensitive, *_) = marked
    record = json.loads(_export(ledger, "jsonl", place_level="county").splitlines()[0])
    place = next(r for r in [record] if r["document"]["id"] == sensitive.id)["incidents"][0]["places"][0]
    assert (place["name"], place["level"]) == ("Sinwon", "county")
    with pytest.raises(ConfigError):
        _export(ledger, "jsonl", place_level="village")


def test_a_sensitive_case_generalises_its_incidents_in_any_document() -> None:
    doc = _docs()[2]
    doc.incidents[0].case_id = "case-tokdong"
    public = redact(doc, Marks(sensitive_cases={"case-tokdong"}))
    assert public is not None and public.incidents[0].places[0].name == "South Hwanghae"
    assert redact(doc, Marks()).incidents[0].places[0].name == "Tokdong"
    assert doc.incidents[0].places[0].name == "Tokdong"  # the ledger's copy is untouched


def test_a_place_with_no_known_province_is_dropped_not_kept() -> None:
    p = Place("Somewhere-ri", "village", Span(0, 3, "Som"), province=None, county=None)
    assert generalise(p, "province") is None
    assert generalise(Place("Kangwon", "province", Span(0, 1, "K")), "province").name == "Kangwon"


def test_marks_are_audited_and_cleared(marked) -> None:
    ledger, (sensitive, *_) = marked
    assert {(m["target_id"], m["mark"]) for m in ledger.marks()} >= {(sensitive.id, "sensitive")}
    ledger.mark("document", sensitive.id, "sensitive", user="ana", on=False)
    assert "Ryongwol" in _export(ledger, "jsonl")
    with ledger.db.read() as conn:
        actions = [r[0] for r in conn.exec_driver_sql("SELECT action FROM audit_log ORDER BY seq")]
    assert actions.count("mark") == 2 and actions[-1] == "unmark"
    assert ledger.verify().ok
    with pytest.raises(ConfigError):
        ledger.mark("document", sensitive.id, "secret")


def test_cli_public_export_and_mark(marked, ledger_url: str) -> None:
    ledger, (sensitive, confidential, plain) = marked
    runner = CliRunner(env={"COLUMNS": "200"})
    r = runner.invoke(app, ["--db", ledger_url, "mark", plain.id[:10], "--confidential"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["--db", ledger_url, "export", "--public", "-f", "jsonl"])
    assert r.exit_code == 0 and len(r.stdout.splitlines()) == 1
    assert not [s for s in SECRETS + ["Tokdong"] if s in r.stdout]
    assert runner.invoke(app, ["--db", ledger_url, "mark", plain.id]).exit_code == 2
