"""Fetching by URL against a real HTTP server on loopback: refusals, redirects, caps, bombs."""

from __future__ import annotations

import gzip
import http.server
import threading
import zlib
from collections.abc import Iterator

import pytest

from rightsledger.errors import FetchError
from rightsledger.ingest import ItemError, RawItem, iter_items, prepare
from rightsledger.ingest.fetch import FetchOptions, check_url, fetch, user_agent

PAGE = b"<html><head><title>Seven arrested</title></head><body><p>Seven people were arrested in Chongjin for using Chinese phones, a source said.</p></body></html>"
BOMB = gzip.compress(b"\0" * (8 * 2**20))  # 8 MB of zeros in about 8 KB


class Handler(http.server.BaseHTTPRequestHandler):
    seen_agents: list[str] = []

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", extra: dict[str, str] | None = None, length: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        Handler.seen_agents.append(self.headers.get("User-Agent", ""))
        path = self.path
        if path == "/page":
            self._send(200, PAGE)
        elif path == "/text":
            self._send(200, "Plain report text about arrests in Hyesan.".encode(), "text/plain")
        elif path == "/cp949":
            self._send(200, "<p>평양에서 30세대가 추방되었다고 소식통이 전했다.</p>".encode("cp949"), "text/html; charset=euc-kr")
        elif path.startswith("/hop/"):
            n = int(path.rsplit("/", 1)[1])
            self._send(302, b"", extra={"Location": f"/hop/{n + 1}" if n < 100 else "/page"})
        elif path.startswith("/redirect-to/"):
            n = int(path.rsplit("/", 1)[1])
            self._send(301, b"", extra={"Location": "/page" if n == 0 else f"/redirect-to/{n - 1}"})
        elif path == "/to-file":
            self._send(302, b"", extra={"Location": "file:///etc/passwd"})
        elif path == "/big":
            self._send(200, b"<p>" + b"a" * (2 * 2**20) + b"</p>")
        elif path == "/big-chunked":
            self._send(200, b"<p>" + b"a" * (2 * 2**20) + b"</p>", length=False)
            self.close_connection = True
        elif path == "/bomb":
            self._send(200, BOMB, extra={"Content-Encoding": "gzip"})
        elif path == "/gzip":
            self._send(200, gzip.compress(PAGE), extra={"Content-Encoding": "gzip"})
        elif path == "/deflate":
            self._send(200, zlib.compress(PAGE), extra={"Content-Encoding": "deflate"})
        elif path == "/br":
            self._send(200, b"xx", extra={"Content-Encoding": "br"})
        elif path == "/pdf":
            self._send(200, b"%PDF-1.4 ...", "application/pdf")
        elif path == "/missing":
            self._send(404, b"not here", "text/plain")
        elif path == "/scripts-only":
            self._send(200, b"<html><head><script>fetch('http://169.254.169.254/')</script></head><body><script>x()</script></body></html>")
        else:
            self._send(500, b"?", "text/plain")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


LOCAL = FetchOptions(allow_private=True, max_bytes=1 * 2**20, deadline=20)


def test_fetch_loopback_refused_unless_allowed(server: str) -> None:
    with pytest.raises(FetchError, match="loopback"):
        fetch(f"{server}/page")
    item = fetch(f"{server}/page", LOCAL)
    assert isinstance(item, RawItem)
    assert item.data == PAGE and item.media_type == "text/html"
    assert item.meta["status"] == 200 and item.meta["final_url"] == f"{server}/page"
    assert item.retrieved_at.tzinfo is not None
    assert item.meta["peer"] == "127.0.0.1"
    assert Handler.seen_agents[-1] == user_agent()
    assert user_agent().startswith("RightsLedger/") and user_agent().endswith("(+documentation tool)")


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.org/report.txt", "only http and https"),
        ("gopher://example.org/", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("/etc/passwd", "only http and https"),
        ("http://", "no host"),
        ("http://user:secret@example.org/", "user name or password"),
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://0.0.0.0/", "private|non-public"),
        ("http://localhost/", "loopback"),
    ],
)
def test_fetch_refuses_schemes_and_non_public_addresses(url: str, why: str) -> None:
    with pytest.raises(FetchError, match=why):
        check_url(url)


def test_fetch_follows_at_most_five_redirects(server: str) -> None:
    item = fetch(f"{server}/redirect-to/4", LOCAL)  # 4, 3, 2, 1, 0, then /page: five redirects
    assert item.data == PAGE and len(item.meta["redirects"]) == 5
    assert item.meta["final_url"] == f"{server}/page"
    with pytest.raises(FetchError, match="too many redirects"):
        fetch(f"{server}/redirect-to/5", LOCAL)
    with pytest.raises(FetchError, match="too many redirects"):
        fetch(f"{server}/hop/0", LOCAL)


def test_fetch_rechecks_each_redirect(server: str) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        fetch(f"{server}/to-file", LOCAL)


def test_fetch_size_cap_with_and_without_content_length(server: str) -> None:
    with pytest.raises(FetchError, match="too large"):
        fetch(f"{server}/big", LOCAL)
    with pytest.raises(FetchError, match="too large"):
        fetch(f"{server}/big-chunked", LOCAL)
    item = fetch(f"{server}/big", FetchOptions(allow_private=True, max_bytes=3 * 2**20))
    assert len(item.data) > 2 * 2**20


def test_fetch_gzip_bomb_stops_at_the_cap(server: str) -> None:
    with pytest.raises(FetchError, match="once decompressed"):
        fetch(f"{server}/bomb", LOCAL)


def test_fetch_decodes_gzip_and_deflate(server: str) -> None:
    assert fetch(f"{server}/gzip", LOCAL).data == PAGE
    assert fetch(f"{server}/deflate", LOCAL).data == PAGE
    with pytest.raises(FetchError, match="content encoding"):
        fetch(f"{server}/br", LOCAL)


def test_fetch_refuses_other_content_and_errors(server: str) -> None:
    with pytest.raises(FetchError, match="content type 'application/pdf'"):
        fetch(f"{server}/pdf", LOCAL)
    with pytest.raises(FetchError, match="HTTP 404"):
        fetch(f"{server}/missing", LOCAL)


def test_fetch_unreachable_port_is_a_network_error() -> None:
    with pytest.raises(FetchError, match="network error|timed out"):
        fetch("http://127.0.0.1:9/", FetchOptions(allow_private=True, connect_timeout=2, deadline=5))


def test_fetch_through_iter_items_and_prepare(server: str) -> None:
    items = list(iter_items([], [f"{server}/page", f"{server}/text", f"{server}/cp949", f"{server}/scripts-only", "file:///etc/passwd"], allow_private=True))
    assert [type(i).__name__ for i in items] == ["RawItem", "RawItem", "RawItem", "RawItem", "ItemError"]
    page = prepare(items[0])  # type: ignore[arg-type]
    assert "Seven people were arrested in Chongjin" in page.text
    assert page.title == "Seven arrested"
    assert page.url == f"{server}/page"
    assert prepare(items[1]).text.startswith("Plain report text")  # type: ignore[arg-type]
    korean = prepare(items[2])  # type: ignore[arg-type]
    assert "평양에서 30세대가" in korean.text and korean.language == "ko"
    from rightsledger.errors import IngestError

    with pytest.raises(IngestError, match="no main text"):
        prepare(items[3])  # type: ignore[arg-type]
    err = items[4]
    assert isinstance(err, ItemError) and err.source == "file:///etc/passwd"
    # Without allow_private, loopback URLs are item errors, and the batch goes on.
    refused = list(iter_items([], [f"{server}/page"]))
    assert isinstance(refused[0], ItemError) and "--allow-private" in refused[0].reason


def test_fetch_checks_the_address_actually_connected(server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A name that resolved to a public address when checked but connects to loopback (DNS
    rebinding) is still refused: the connected peer is checked before the body is read."""
    import rightsledger.ingest.fetch as fetch_module

    monkeypatch.setattr(fetch_module, "check_url", lambda url, allow_private=False: "rebinding.example")
    with pytest.raises(FetchError, match="loopback"):
        fetch(f"{server}/page")
