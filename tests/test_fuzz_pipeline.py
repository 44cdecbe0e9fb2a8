"""Hostile input through reading and extraction: random bytes, invalid UTF-8, NUL bytes, deep
nesting, huge attributes and 10 MB lines never crash, stay within a time bound, and fail with
a clear one-line reason. Reading and extraction are called directly here, so a bug cannot hide
behind the ledger's per-item error handler."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rightsledger import extract
from rightsledger.errors import RightsLedgerError
from rightsledger.ingest import ItemError, RawItem, iter_items, prepare
from rightsledger.ledger import span_problems
from rightsledger.model import Document

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                      HealthCheck.too_slow])


def _item(tmp_path: Path, name: str, data: bytes) -> RawItem | ItemError:
    path = tmp_path / name
    path.write_bytes(data)
    items = list(iter_items([path]))
    assert len(items) == 1
    return items[0]


def _read_and_extract(item: RawItem | ItemError) -> Document | None:
    """The pipeline on one item: a Document with valid spans, or None after a clear refusal."""
    if isinstance(item, ItemError):
        assert item.reason and "\n" not in item.reason
        return None
    try:
        prepared = prepare(item)
    except RightsLedgerError as exc:
        assert str(exc) and "\n" not in str(exc)
        return None
    doc = extract.extract(Document(id="fuzz", text=prepared.text, sha256="0" * 64))
    assert span_problems(doc) == []
    return doc


@FUZZ
@given(data=st.binary(max_size=4000), suffix=st.sampled_from([".txt", ".html", ".htm"]))
def test_random_bytes_are_read_or_refused(tmp_path_factory, data: bytes, suffix: str) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    _read_and_extract(_item(tmp, "x" + suffix, data))


_REPORTISH = st.lists(st.sampled_from([
    "In June", "30 families", "from Pyongyang", "were sent", "to Ryongwol village", "in Sinwon county",
    "an official told", "Radio Free Asia", "\x00", "\ufeff", "\u202e", "\r\n", "\"", "“", "<b>", "&amp;",
    "2019", "arrested", "executed", "publicly", "\udcff".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
]), max_size=60).map(" ".join)


@FUZZ
@given(text=st.one_of(st.text(max_size=2000), _REPORTISH))
def test_extraction_of_any_text_keeps_valid_spans(text: str) -> None:
    doc = extract.extract(Document(id="fuzz", text=text, sha256="0" * 64))
    assert span_problems(doc) == []


@FUZZ
@given(body=_REPORTISH, junk=st.binary(min_size=1, max_size=64))
def test_invalid_utf8_and_nul_bytes_inside_a_report(tmp_path_factory, body: str, junk: bytes) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    data = body.encode("utf-8") + b"\x00\xff\xfe" + junk + b"\xc3\x28" + body.encode("utf-8")
    _read_and_extract(_item(tmp, "r.txt", data))


@FUZZ
@given(depth=st.integers(1, 3000), tag=st.sampled_from(["div", "span", "table", "b", "a", "ul"]),
       attr=st.integers(0, 200_000))
def test_nested_html_and_long_attributes(tmp_path_factory, depth: int, tag: str, attr: int) -> None:
    tmp = tmp_path_factory.mktemp("fuzz")
    page = (f'<html><body data-x="{"y" * attr}">' + f"<{tag}>" * depth
            + "<p>In June, 30 families from Hyesan were sent to Kapsan county, a resident said.</p>"
            + f"</{tag}>" * depth + "</body></html>")
    start = time.perf_counter()
    _read_and_extract(_item(tmp, "p.html", page.encode("utf-8")))
    assert time.perf_counter() - start < 20


@pytest.mark.parametrize("name, data", [  # about 10 MB each, except the extracted line
    # One line of ~1 MB through extraction (a 10 MB line is read in bounded time by test_ingest;
    # extracting from it takes about two minutes, too slow for every run).
    ("line.txt", ("In June 30 families were sent away, an official said. " * 19_000).encode()),
    ("nul.txt", b"\x00" * 10_000_000),
    ("attr.html", b'<p title="' + b"x" * 10_000_000 + b'">In June, 30 families were sent away.</p>'),
    ("deep.html", b"<div>" * 200_000 + b"text" + b"</div>" * 200_000),
])
def test_ten_megabyte_inputs_are_bounded(tmp_path: Path, name: str, data: bytes) -> None:
    start = time.perf_counter()
    _read_and_extract(_item(tmp_path, name, data))
    assert time.perf_counter() - start < 60


def test_hostile_files_through_the_ledger_fail_cleanly(ledger, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bin.txt").write_bytes(bytes(range(256)) * 64)
    (folder / "empty.html").write_bytes(b"<html><script>alert(1)</script></html>")
    (folder / "nul.txt").write_bytes(b"In June, 30 families were sent to Kapsan county.\x00")
    (folder / "ok.txt").write_bytes(b"In June, 30 families from Hyesan were sent to Kapsan county, a resident said.\xff")
    report = ledger.ingest([folder])
    assert len(report.results) == 4 and len(report.ingested) == 1
    for r in report.failed:
        assert r.reason and "bug" not in r.reason
    assert "NUL" in next(r.reason for r in report.failed if r.source.endswith("nul.txt"))
    assert ledger.verify().ok
