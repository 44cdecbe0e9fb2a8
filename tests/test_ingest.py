"""Ingestion: reading files, bundles and directories; decoding; preparing clean text and metadata."""

from __future__ import annotations

import json
import os
import time
from datetime import date
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rightsledger.errors import IngestError
from rightsledger.ingest import ItemError, Prepared, RawItem, examples_dir, iter_items, prepare
from rightsledger.ingest.decode import decode_bytes
from rightsledger.ingest.meta import find_dateline, guess_title, identify_language

REPORT = "Seven people were arrested in Chongjin in early May for using Chinese phones, a source in the province told Daily NK."


def items(*paths: Path, **kw: object) -> list[RawItem | ItemError]:
    return list(iter_items(list(paths), **kw))  # type: ignore[arg-type]


def errors(found: list[RawItem | ItemError]) -> dict[str, str]:
    return {e.source: e.reason for e in found if isinstance(e, ItemError)}


def one(path: Path, **kw: object) -> Prepared:
    (item,) = items(path, **kw)
    assert isinstance(item, RawItem), item
    return prepare(item)


# -- reading ----------------------------------------------------------------------------------

def test_ingest_reads_files_exactly(tmp_path: Path) -> None:
    data = ("Arrests in Chongjin\r\n\r\n" + REPORT + "\n").encode("utf-8")
    (tmp_path / "a.txt").write_bytes(data)
    (item,) = items(tmp_path / "a.txt")
    assert isinstance(item, RawItem)
    assert item.data == data and item.media_type == "text/plain" and item.source == str(tmp_path / "a.txt")
    assert item.retrieved_at.tzinfo is not None


def test_ingest_directory_is_recursive_sorted_and_skips_other_files(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "deep").mkdir()
    (tmp_path / "b" / "deep" / "z.htm").write_text(f"<p>{REPORT}</p>", encoding="utf-8")
    (tmp_path / "b" / "a.html").write_text(f"<p>{REPORT}</p>", encoding="utf-8")
    (tmp_path / "a.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / "c.TXT").write_text(REPORT, encoding="utf-8")
    (tmp_path / "notes.md").write_text("not a report", encoding="utf-8")
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    (tmp_path / ".hidden.txt").write_text(REPORT, encoding="utf-8")
    found = items(tmp_path)
    assert [Path(i.source).relative_to(tmp_path).as_posix() for i in found] == ["a.txt", "b/a.html", "b/deep/z.htm", "c.TXT"]
    assert all(isinstance(i, RawItem) for i in found)


def test_ingest_never_follows_symlinks(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret report text", encoding="utf-8")
    root = tmp_path / "root"
    root.mkdir()
    (root / "good.txt").write_text(REPORT, encoding="utf-8")
    os.symlink(outside / "secret.txt", root / "link.txt")
    os.symlink(outside, root / "linkdir")
    os.symlink(root / "missing.txt", root / "dangling.txt")
    found = items(root)
    good = [i for i in found if isinstance(i, RawItem)]
    assert [Path(i.source).name for i in good] == ["good.txt"]
    errs = errors(found)
    assert set(map(lambda s: Path(s).name, errs)) == {"link.txt", "linkdir", "dangling.txt"}
    assert all("symbolic link" in r for r in errs.values())
    assert not any(b"secret" in i.data for i in good)
    # A link given directly is refused too.
    assert "symbolic link" in errors(items(root / "link.txt"))[str(root / "link.txt")]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.txt", b"  \n\t\r\n ", "empty"),
        ("nul.txt", b"text\x00with NUL", "binary"),
        ("report.txt", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3 binary", "PDF"),
        ("report.html", b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
        ("report.pdf", b"%PDF-1.7", "unsupported file type '.pdf'"),
        ("README", b"hello", "without a suffix"),
    ],
)
def test_ingest_bad_files_get_one_clear_line(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    (item,) = items(path)
    assert isinstance(item, ItemError) and item.source == str(path)
    assert reason in item.reason and "\n" not in item.reason


def test_ingest_size_cap(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 2000)
    (err,) = items(big, max_bytes=1000)
    assert isinstance(err, ItemError) and "too large" in err.reason
    (ok,) = items(big, max_bytes=2000)
    assert isinstance(ok, RawItem) and len(ok.data) == 2000


def test_ingest_missing_and_special_files(tmp_path: Path) -> None:
    assert "no such file" in errors(items(tmp_path / "nope.txt"))[str(tmp_path / "nope.txt")]
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    start = time.perf_counter()
    assert "not a regular file" in errors(items(fifo))[str(fifo)]
    found = items(tmp_path)  # inside a directory too, and never blocks on the pipe
    assert "not a regular file" in errors(found)[str(fifo)]
    assert time.perf_counter() - start < 5


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read unreadable files")
def test_ingest_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "locked.txt"
    path.write_text(REPORT, encoding="utf-8")
    path.chmod(0)
    assert "unreadable" in errors(items(path))[str(path)]


def test_ingest_bad_item_does_not_stop_the_others(tmp_path: Path) -> None:
    (tmp_path / "1.txt").write_text(REPORT, encoding="utf-8")
    (tmp_path / "2.txt").write_bytes(b"")
    (tmp_path / "3.txt").write_text(REPORT, encoding="utf-8")
    kinds = [type(i).__name__ for i in items(tmp_path)]
    assert kinds == ["RawItem", "ItemError", "RawItem"]


# -- bundles ----------------------------------------------------------------------------------

def test_ingest_bundle_records_and_line_errors(tmp_path: Path) -> None:
    lines = [
        json.dumps({"text": REPORT, "url": "https://www.dailynk.com/english/x/", "title": "Seven arrested", "published": "2023-05-16", "outlet": "DailyNK", "language": "en"}),
        "{not json",
        "",
        json.dumps({"html": f"<html><body><p>{REPORT}</p><script>x()</script></body></html>", "published": "2023-05-17T08:00:00+09:00"}),
        json.dumps([1, 2, 3]),
        json.dumps({"title": "no text"}),
        json.dumps({"text": "x", "published": "16/05/2023"}),
        json.dumps({"text": "x", "url": "javascript:alert(1)"}),
        json.dumps({"text": 42}),
        "[" * 100_000 + "]" * 100_000,
    ]
    bundle = tmp_path / "b.jsonl"
    bundle.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = items(bundle)
    sources = [i.source for i in found]
    assert sources == [f"{bundle}#L{n}" for n in (1, 2, 4, 5, 6, 7, 8, 9, 10)]
    first = found[0]
    assert isinstance(first, RawItem) and first.data == lines[0].encode() and first.media_type == "application/x-ndjson-record"
    assert first.meta == {"url": "https://www.dailynk.com/english/x/", "title": "Seven arrested", "published": "2023-05-16", "outlet": "DailyNK", "language": "en"}
    reasons = errors(found)
    assert reasons[f"{bundle}#L2"].startswith("line 2: invalid JSON")
    assert "JSON list is not a report" in reasons[f"{bundle}#L5"]
    assert "non-empty `text` or `html`" in reasons[f"{bundle}#L6"]
    assert "not an ISO date" in reasons[f"{bundle}#L7"]
    assert "http(s)" in reasons[f"{bundle}#L8"]
    assert "`text` must be a string" in reasons[f"{bundle}#L9"]
    assert "nested too deeply" in reasons[f"{bundle}#L10"]

    p1 = prepare(first)
    assert p1.outlet == "Daily NK" and p1.published == date(2023, 5, 16) and p1.title == "Seven arrested"
    assert p1.url == "https://www.dailynk.com/english/x/" and p1.text == REPORT and p1.language == "en"
    p4 = prepare(found[2])  # type: ignore[arg-type]
    assert p4.text == REPORT and p4.published == date(2023, 5, 17) and "x()" not in p4.text


def test_ingest_bundle_oversized_line_and_bom(tmp_path: Path) -> None:
    bundle = tmp_path / "b.jsonl"
    small = json.dumps({"text": REPORT}).encode()
    bundle.write_bytes(b"\xef\xbb\xbf" + small + b"\n" + json.dumps({"text": "y" * 5000}).encode() + b"\n" + small + b"\r\n")
    found = items(bundle, max_bytes=1000)
    assert [type(i).__name__ for i in found] == ["RawItem", "ItemError", "RawItem"]
    assert found[0].data == small and found[2].data == small  # type: ignore[union-attr]
    assert "too large" in found[1].reason  # type: ignore[union-attr]
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    assert "empty bundle" in errors(items(empty))[str(empty)]


def test_ingest_bundle_line_with_bad_utf8(tmp_path: Path) -> None:
    bundle = tmp_path / "b.jsonl"
    bundle.write_bytes(b'{"text": "caf\xe9"}\n')
    (err,) = items(bundle)
    assert isinstance(err, ItemError) and "UTF-8" in err.reason


# -- decoding ---------------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1).filter(lambda s: "\x00" not in s), st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]))
def test_ingest_decode_round_trips_unicode(text: str, encoding: str) -> None:
    data = text.encode(encoding)
    try:
        decoded, _ = decode_bytes(data)
    except IngestError as exc:  # only text made mostly of control characters may be refused
        assert "control characters" in str(exc) or "binary" in str(exc)
        return
    assert decoded == text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_ingest_decode_random_bytes_decodes_or_refuses(data: bytes) -> None:
    try:
        text, enc = decode_bytes(data)
    except IngestError as exc:
        assert str(exc)
        return
    assert isinstance(text, str) and enc
    assert "\x00" not in text


@pytest.mark.parametrize(
    ("data", "expected", "encoding"),
    [
        ("평양에서 30세대가 추방되었다고 소식통이 전했다. 주민들은 놀랐다.".encode("cp949"), "평양에서 30세대가", "cp949"),
        ("Пхеньян: 30 семей выселены из столицы, сообщил источник.".encode("cp1251"), "30 семей", "cp1251"),
        ("\ufeffBOM text".encode("utf-8"), "BOM text", "utf-8"),
    ],
)
def test_ingest_decode_detects_legacy_encodings(data: bytes, expected: str, encoding: str) -> None:
    text, enc = decode_bytes(data)
    assert expected in text
    assert enc.replace("_", "-").lower() in {encoding, "euc-kr", "utf-8", "windows-1251"}


def test_ingest_decode_prefers_declared_html_charset() -> None:
    html = '<html><head><meta charset="euc-kr"></head><body><p>평양 주민</p></body></html>'.encode("euc-kr")
    text, enc = decode_bytes(html, html=True)
    assert "평양 주민" in text and enc == "euc_kr"


# -- preparing --------------------------------------------------------------------------------

def test_ingest_prepare_text_file(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    data = f"Seven arrested in Chongjin\n\nMay 16, 2023\n\n{REPORT}\n\nAdvertisement\n\nSubscribe to our newsletter\n".encode()
    path.write_bytes(data)
    p = one(path)
    assert p.sha256 == __import__("hashlib").sha256(data).hexdigest()
    assert p.source_text == data.decode()
    assert p.text == f"Seven arrested in Chongjin\n\nMay 16, 2023\n\n{REPORT}"
    assert {r["pattern"] for r in p.removed} == {"advertisement", "newsletter_prompt"}
    assert p.title == "Seven arrested in Chongjin" and p.published == date(2023, 5, 16)
    assert p.language == "en" and p.outlet is None and p.url is None and p.encoding == "utf-8"
    for i, ch in enumerate(p.text):
        if not ch.isspace():
            assert p.source_text[p.offsets.to_source(i)] == ch


def test_ingest_prepare_html_page(tmp_path: Path) -> None:
    page = f"""<!DOCTYPE html><html><head><title>Seven arrested | Daily NK</title>
<meta property="og:site_name" content="Daily NK">
<meta property="article:published_time" content="2023-05-16T10:00:00+09:00">
<link rel="canonical" href="https://www.dailynk.com/english/seven-arrested/">
<script>document.location='http://169.254.169.254/'</script>
<img src="http://127.0.0.1:9/tracker.gif"></head>
<body><nav><a href="/">Home</a> <a href="/politics">Politics</a></nav>
<article><h1>Seven arrested</h1><p>{REPORT}</p><p>"The unit raided their homes at night," the source said.</p>
<p>Share | Tweet | Email</p></article><footer>© 2023 Daily NK. All rights reserved.</footer></body></html>"""
    path = tmp_path / "p.html"
    path.write_text(page, encoding="utf-8")
    p = one(path)
    assert REPORT in p.text and "raided their homes" in p.text
    assert "Home" not in p.text and "document.location" not in p.text and "Share" not in p.text
    assert p.url == "https://www.dailynk.com/english/seven-arrested/"
    assert p.outlet == "Daily NK" and p.published == date(2023, 5, 16) and p.title == "Seven arrested"
    assert prepare(items(path)[0]).text == p.text  # type: ignore[arg-type]  # deterministic


@pytest.mark.parametrize(
    "page",
    [
        "<html><head><script>alert(1)</script></head><body><script>steal()</script><style>p{}</style></body></html>",
        "<html><body><noscript></noscript><svg><script>x()</script></svg><iframe src='http://127.0.0.1:9/'></iframe></body></html>",
    ],
)
def test_ingest_prepare_html_without_text(tmp_path: Path, page: str) -> None:
    path = tmp_path / "s.html"
    path.write_text(page, encoding="utf-8")
    with pytest.raises(IngestError, match="no main text"):
        one(path)


def test_ingest_prepare_refuses_undecodable_and_boilerplate_only(tmp_path: Path) -> None:
    only = tmp_path / "only.txt"
    only.write_text("Advertisement\n\nShare | Tweet\n", encoding="utf-8")
    with pytest.raises(IngestError, match="no text left"):
        one(only)
    controls = tmp_path / "ctl.txt"
    controls.write_bytes(bytes(range(1, 9)) * 50)
    with pytest.raises(IngestError, match="binary"):
        one(controls)


def test_ingest_prepare_outlet_precedence(tmp_path: Path) -> None:
    rec = {"text": REPORT, "url": "https://www.rfa.org/english/x.html", "outlet": "Korea Brief"}
    (tmp_path / "a.jsonl").write_text(json.dumps(rec) + "\n" + json.dumps({"text": REPORT, "url": "https://english.rfa.org/x"}) + "\n"
                                      + json.dumps({"text": REPORT, "url": "https://news.unknown-site.example.com/x"}) + "\n", encoding="utf-8")
    outlets = [prepare(i).outlet for i in items(tmp_path / "a.jsonl")]  # type: ignore[arg-type]
    assert outlets == ["Korea Brief", "Radio Free Asia", "example.com"]


def test_ingest_prepare_hostile_html_is_bounded(tmp_path: Path) -> None:
    pages = {
        "deep.html": "<div>" * 50_000 + "deep text" + "</div>" * 50_000,
        "attr.html": '<p title="' + "x" * 3_000_000 + f'">{REPORT}</p>',
        "many.html": "<html><body>" + "<p>word</p>" * 120_000 + "</body></html>",
    }
    for name, page in pages.items():
        (tmp_path / name).write_text(page, encoding="utf-8")
    start = time.perf_counter()
    for item in items(tmp_path):
        assert isinstance(item, RawItem)
        try:
            prepare(item)
        except IngestError as exc:
            assert str(exc)
    assert time.perf_counter() - start < 30


def test_ingest_prepare_long_text_line(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text(("word " * 2_000_000) + "\n", encoding="utf-8")
    start = time.perf_counter()
    p = one(path)
    assert len(p.text) == len("word " * 2_000_000) - 1
    assert time.perf_counter() - start < 30


# -- text metadata ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Title\n\nJuly 12, 2020\n\nBody text here.", date(2020, 7, 12)),
        ("Title\nPublished: 12 July 2020 | Updated: 14 July 2020\nBody.", date(2020, 7, 12)),
        ("ASIAPRESS 2023.03.10\n\nOn March 2, two men were executed.", date(2023, 3, 10)),
        ("SEOUL, July 12, 2020 — North Korea expelled 30 families in June, an official said, in a long first sentence that goes on.", date(2020, 7, 12)),
        ("2020년 7월 12일\n평양에서 30세대가 추방되었다.", date(2020, 7, 12)),
        ("Title\n\nOn July 2, 2020, 30 families were sent away from Pyongyang to villages in South Hwanghae province, the official told reporters.", None),
        ("Title\nJuly 12, 2020\nJuly 14, 2020\nBody.", None),
        ("Title\n07/12/2020\nBody.", None),
        ("Title\nFebruary 30, 2020\nBody.", None),
        ("No dates at all.", None),
    ],
)
def test_ingest_dateline_only_when_unambiguous(text: str, expected: date | None) -> None:
    assert find_dateline(text) == expected


def test_ingest_language_and_title_guesses() -> None:
    assert identify_language(REPORT) == "en"
    assert identify_language("평양에서 30세대가 추방되었다고 소식통이 전했다. 주민들은 크게 놀랐다고 한다.") == "ko"
    assert identify_language("12 34 56 ...") is None
    assert guess_title("Seven arrested\n\nBody.") == "Seven arrested"
    assert guess_title("A sentence that ends with a full stop.\nBody") is None
    assert guess_title("Only one line") is None


# -- bundled examples --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def examples() -> dict[str, Prepared]:
    with resources.as_file(examples_dir()) as folder:
        found = list(iter_items([folder]))
        assert not [i for i in found if isinstance(i, ItemError)]
        return {Path(i.source).name: prepare(i) for i in found}  # type: ignore[arg-type]


def test_ingest_examples_all_prepare(examples: dict[str, Prepared]) -> None:
    assert 12 <= len(examples) <= 16
    kinds = {p.raw.media_type for p in examples.values()}
    assert kinds == {"text/plain", "text/html", "application/x-ndjson-record"}
    for name, p in examples.items():
        assert p.text and p.language == "en", name
        assert p.published is not None, name


def test_ingest_examples_readme_describes_every_file() -> None:
    folder = examples_dir()
    readme = folder.joinpath("README.md").read_text(encoding="utf-8")
    for entry in folder.iterdir():
        if entry.name != "README.md":
            assert entry.name in readme, entry.name
    assert "invented" in readme.lower()


def test_ingest_examples_seed_like_report(examples: dict[str, Prepared]) -> None:
    p = examples["01_rfa_banishment_original.html"]
    assert p.outlet == "Radio Free Asia" and p.published == date(2023, 6, 19)
    for phrase in ("In May, 22 families from Pyongyang", "Haewol village and Soksan village in Ongjin county, South Hwanghae province",
                   "Kangryong county in South Hwanghae", "Yonsan county in North Hwanghae province", "an official in Pyongyang told RFA\u2019s Korean Service",
                   "A resident of Ongjin county", "Ministry of State Security"):
        assert phrase in p.text, phrase
    assert "cookies" not in p.text and "Translated by" not in p.text and "track(" not in p.text


def test_ingest_examples_copy_and_rereports(examples: dict[str, Prepared]) -> None:
    original = examples["01_rfa_banishment_original.html"].text
    copy = examples["03_aggregator_banishment_copy.txt"].text
    body = original.split("\n", 2)[2]  # without title and dateline lines
    assert " ".join(body.split()) in " ".join(copy.split())
    assert "Read Full Article" not in copy
    assert "[FOCUS]" not in examples["04_joongang_banishment_rereport.txt"].text
    express = examples["02_express_banishment_rereport.html"]
    assert express.outlet == "Express" and "Flickr" not in express.text and "Advertisement" not in express.text
    brief = examples["12_bundle_2023.jsonl#L4"]
    assert brief.outlet == "Korea Brief" and "Telegram" not in brief.text
    assert examples["12_bundle_2023.jsonl#L2"].outlet == "Asia Press"
