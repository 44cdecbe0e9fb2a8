"""Exports: JSON Lines in the published schema, CSV rows per incident, GeoJSON points per place."""

from __future__ import annotations

import copy
import csv
import io
import json

import jsonschema
import pytest

from rightsledger.errors import ConfigError
from rightsledger.export import export_documents, export_schema
from rightsledger.model import VIOLATION_TYPES, Place, Span
from conftest import sample_document


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = export_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _export(fmt: str, docs, **kw) -> str:
    buf = io.StringIO()
    export_documents(docs, fmt, buf, **kw)
    return buf.getvalue()


def test_export_jsonl_is_the_contract_and_validates(validator) -> None:
    doc = sample_document()
    lines = _export("jsonl", [doc, sample_document(b"other")]).splitlines()
    assert len(lines) == 2
    record = json.loads(lines[0])
    validator.validate(record)
    assert record == {**doc.to_dict(), "incidents": [doc.incidents[0].to_dict()]}
    assert set(record["incidents"][0]["types"]) <= set(VIOLATION_TYPES)
    for key in ("id", "sha256", "url", "outlet", "title", "published", "language", "cites", "duplicate_of"):
        assert key in record["document"]


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (("document", "sha256"), "not-a-hash"),
        (("document", "published"), "April 2024"),
        (("incidents", 0, "date", "precision"), "week"),
        (("incidents", 0, "places", 0, "role"), "nearby"),
        (("incidents", 0, "victims", 0, "unit"), "people"),
        (("incidents", 0, "perpetrators", 0, "kind"), "villain"),
        (("incidents", 0, "sources", 0, "kind"), "gossip"),
        (("incidents", 0, "evidence", 0, "start"), -1),
    ],
)
def test_export_schema_rejects_records_outside_the_contract(validator, path, bad) -> None:
    record = copy.deepcopy(sample_document().to_dict())
    node = record
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = bad
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(record)


def test_export_schema_allows_fields_added_later(validator) -> None:
    record = sample_document().to_dict()
    record["document"]["review_status"] = "checked"
    record["incidents"][0]["independent_sources"] = 2
    validator.validate(record)


def test_export_csv_one_row_per_incident_flattened() -> None:
    doc = sample_document()
    rows = list(csv.DictReader(io.StringIO(_export("csv", [doc], include_unconfirmed=True))))
    assert [r["incident_id"] for r in rows] == [i.id for i in doc.incidents]
    first = rows[0]
    assert first["document_id"] == doc.id and first["published"] == "2024-04-02"
    assert first["types"] == "forced_relocation;collective_punishment"
    assert (first["date_start"], first["date_end"], first["date_precision"]) == ("2024-03-01", "2024-03-31", "month")
    assert first["places"] == ("Hyesan (origin, city, 41.40000, 128.18000); "
                               "Kapsan (destination, county, 41.09000, 128.29000)")
    assert first["victims"] == "12 families: families from Hyesan"
    assert first["perpetrators"] == "State security agents (state_security)"
    assert first["sources"] == "a trader (resident)"
    assert rows[1]["modality"] == "hedged"


def test_export_csv_neutralises_spreadsheet_formulas() -> None:
    doc = sample_document()
    doc.title = "=HYPERLINK(\"http://evil.example\")"
    (row,) = csv.DictReader(io.StringIO(_export("csv", [doc])))
    assert row["title"].startswith("'=")


def test_export_geojson_one_point_per_located_place() -> None:
    doc = sample_document()
    doc.incidents[0].places.append(Place("Ryongwol", "village", Span(0, 2, "In"), "destination"))  # no coordinates
    data = json.loads(_export("geojson", [doc]))
    assert data["type"] == "FeatureCollection"
    features = data["features"]
    assert [f["properties"]["place_name"] for f in features] == ["Hyesan", "Kapsan"]
    hyesan = features[0]
    assert hyesan["geometry"] == {"type": "Point", "coordinates": [128.18, 41.4]}
    props = hyesan["properties"]
    assert props["incident_id"] == doc.incidents[0].id and props["place_role"] == "origin"
    assert props["types"] == "forced_relocation;collective_punishment" and props["province"] == "Ryanggang"
    assert len({f["id"] for f in features}) == 2


def test_export_geojson_empty_ledger_is_valid_json() -> None:
    assert json.loads(_export("geojson", [])) == {"type": "FeatureCollection", "features": []}


def test_export_unknown_format_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown export format"):
        _export("xlsx", [])
