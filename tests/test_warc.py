"""Web archives as input: captured HTML pages become items; everything else is skipped; damage costs little."""

from __future__ import annotations

import gzip
import io
from datetime import datetime, timezone
from pathlib import Path

import pytest

warcio = pytest.importorskip("warcio")
from warcio.statusandheaders import StatusAndHeaders  # noqa: E402
from warcio.warcwriter import WARCWriter  # noqa: E402

from rightsledger.ingest import ItemError, RawItem, iter_items, prepare  # noqa: E402
from rightsledger.ledger import Ledger  # noqa: E402


def page(n: int, town: str = "Hyesan") -> bytes:
    return (f"<html><head><title>Families detained in {town} ({n})</title></head><body>"
            f"<nav>Home | World</nav><article><h1>Families detained in {town} ({n})</h1>"
            f"<p>Police in {town} detained {3 + n} families in June for using Chinese mobile phones, "
            f"a resident of the city told Radio Free Asia.</p>"
            f"<p>\"They came at night and took everyone in building {n},\" the resident said.</p>"
            f"</article></body></html>").encode("utf-8")


def record(writer: WARCWriter, uri: str, body: bytes, *, status: str = "200 OK",
           content_type: str = "text/html; charset=utf-8", date: str = "2024-05-01T12:00:00Z",
           extra: list[tuple[str, str]] = ()) -> None:
    headers = StatusAndHeaders(status, [("Content-Type", content_type), *extra], protocol="HTTP/1.1")
    rec = writer.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=headers,
                                    warc_headers_dict={"WARC-Date": date})
    writer.write_record(rec)


def make_warc(path: Path, *, gz: bool = True) -> dict[str, bytes]:
    """An invented crawl: two article pages, one compressed in transit, and records that are not pages."""
    pages = {"https://example.org/news/1": page(1), "https://example.org/news/2": page(2, "Musan")}
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=gz)
        w.write_record(w.create_warcinfo_record(path.name, {"software": "invented-crawler/1.0"}))
        record(w, "https://example.org/news/1", pages["https://example.org/news/1"])
        w.write_record(w.create_warc_record("https://example.org/news/1", "request",
                                            payload=io.BytesIO(b"GET /news/1 HTTP/1.1\r\nHost: example.org\r\n\r\n")))
        record(w, "https://example.org/logo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, content_type="image/png")
        record(w, "https://example.org/missing", b"<html><body>Not found</body></html>", status="404 Not Found")
        record(w, "https://example.org/old", b"", status="301 Moved Permanently")
        record(w, "https://example.org/news/2", gzip.compress(pages["https://example.org/news/2"]),
               date="2024-05-02T08:30:00Z", extra=[("Content-Encoding", "gzip")])
    return pages


def test_warc_yields_captured_html_pages_with_url_and_capture_date(tmp_path: Path) -> None:
    pages = make_warc(tmp_path / "crawl.warc.gz")
    items = list(iter_items([tmp_path / "crawl.warc.gz"]))
    assert [type(i) for i in items] == [RawItem, RawItem]
    first, second = items
    assert first.meta["url"] == "https://example.org/news/1"
    assert first.meta["capture_date"] == "2024-05-01T12:00:00Z"
    assert first.retrieved_at == datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    assert first.media_type == "text/html" and first.meta["status"] == 200
    assert first.meta["warc_record_id"].startswith("<urn:uuid:")
    # The original is the HTTP payload: the HTML as served, transfer compression undone.
    assert first.data == pages["https://example.org/news/1"]
    assert second.data == pages["https://example.org/news/2"]
    assert second.retrieved_at == datetime(2024, 5, 2, 8, 30, tzinfo=timezone.utc)
    assert first.source.startswith(str(tmp_path / "crawl.warc.gz") + "#byte=")
    assert first.source != second.source
    prepared = prepare(second)
    assert "Musan" in prepared.text and prepared.url == "https://example.org/news/2"


def test_warc_uncompressed_and_found_in_directories(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    make_warc(tmp_path / "a" / "crawl.warc", gz=False)
    (tmp_path / "a" / "notes.bin").write_bytes(b"\0\1")  # not a report: skipped in directories
    items = list(iter_items([tmp_path / "a"]))
    assert [i.meta["url"] for i in items if isinstance(i, RawItem)] == ["https://example.org/news/1",
                                                                          "https://example.org/news/2"]
    assert not [i for i in items if isinstance(i, ItemError)]


def test_warc_bad_record_costs_only_itself(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        record(w, "https://example.org/news/1", page(1))
        record(w, "https://example.org/broken", b"this is not gzip at all", extra=[("Content-Encoding", "gzip")])
        record(w, "https://example.org/huge", page(9) * 50)
        record(w, "https://example.org/binary", b"\x7fELF" + bytes(range(256)) * 4)
        record(w, "https://example.org/news/3", page(3))
    items = list(iter_items([path], max_bytes=5000))
    ok = [i.meta["url"] for i in items if isinstance(i, RawItem)]
    bad = [i for i in items if isinstance(i, ItemError)]
    assert ok[0] == "https://example.org/news/1" and ok[-1] == "https://example.org/news/3"
    assert any("huge" in e.reason and "limit" in e.reason for e in bad)
    assert any("binary" in e.reason for e in bad)
    assert all(e.source.startswith(str(path) + "#byte=") for e in bad)


def test_warc_damaged_archive_keeps_what_came_before(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    make_warc(path)
    data = path.read_bytes()
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[: len(data) - 200] + b"garbage that is not a gzip member" * 3)
    items = list(iter_items([cut]))
    assert isinstance(items[0], RawItem) and items[0].meta["url"] == "https://example.org/news/1"
    assert isinstance(items[-1], ItemError)
    assert items[-1].source == str(cut)


def test_warc_ingested_with_capture_in_custody(tmp_path: Path) -> None:
    make_warc(tmp_path / "crawl.warc.gz")
    with Ledger(f"sqlite:///{tmp_path / 'l.db'}") as ledger:
        report = ledger.ingest([tmp_path / "crawl.warc.gz"], link=False)
        assert len(report.ingested) == 2 and report.ok
        rec = ledger.record(report.ingested[0].document_id)
        custody = rec["custody"][0]
        assert custody["retrieved_at"].startswith("2024-05-01T12:00:00")
        assert custody["details"]["url"] == "https://example.org/news/1"
        assert rec["media_type"] == "text/html"
        assert ledger.original(report.ingested[0].document_id) == page(1)
