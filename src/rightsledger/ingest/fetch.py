"""Fetching a report by URL: the only network code in RightsLedger, used only when asked.

Hostile servers are expected. Only http(s) is spoken; addresses that resolve to loopback,
private, link-local or otherwise non-public networks are refused unless `allow_private` (and
the address actually connected to is checked again, against DNS tricks); every redirect is
re-checked and at most MAX_REDIRECTS are followed; the size cap applies to the bytes received
and to the decompressed body while it streams, so a compression bomb stops at the cap; every
read has a timeout and the whole fetch has a deadline.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
import zlib
from dataclasses import dataclass
from importlib import metadata
from urllib.parse import urljoin, urlsplit

import httpx

from rightsledger.errors import FetchError
from rightsledger.ingest.items import MEDIA_HTML, MEDIA_TEXT, RawItem, utcnow

__all__ = ["MAX_REDIRECTS", "FetchOptions", "check_url", "fetch", "user_agent"]

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
CHUNK = 64 * 1024
_CONTENT_TYPES = {"text/html": MEDIA_HTML, "application/xhtml+xml": MEDIA_HTML, "text/plain": MEDIA_TEXT}
_REDIRECTS = (301, 302, 303, 307, 308)


def user_agent() -> str:
    try:
        version = metadata.version("rightsledger")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"RightsLedger/{version} (+documentation tool)"


@dataclass(frozen=True, slots=True)
class FetchOptions:
    max_bytes: int = 20 * 2**20
    allow_private: bool = False
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 60.0  # seconds for the whole fetch, redirects included
    max_redirects: int = MAX_REDIRECTS


def _address_kind(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address is not on the public internet, or None if it is."""
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_private:
        return "private"
    if ip.is_multicast:
        return "multicast"
    if ip.is_unspecified or ip.is_reserved or not ip.is_global:
        return "non-public"
    return None


def _refuse_address(host: str, address: str, allow_private: bool) -> None:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError as exc:
        raise FetchError(f"refused: {host} gave an unusable address {address!r}") from exc
    kind = _address_kind(ip)
    if kind and not allow_private:
        raise FetchError(
            f"refused: {host} is a {kind} address ({ip})",
            hint="fetching from local or private networks needs --allow-private",
        )


def check_url(url: str, *, allow_private: bool = False) -> str:
    """Validate scheme, host and resolved addresses of `url`; returns the host. FetchError if refused."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise FetchError(f"not a valid address: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"refused: only http and https addresses are fetched, not {scheme or 'a bare path'!r}")
    host = parts.hostname
    if not host:
        raise FetchError("not a valid address: no host name")
    if parts.username is not None or parts.password is not None:
        raise FetchError("refused: addresses with a user name or password are not fetched")
    try:
        infos = socket.getaddrinfo(host, port or (443 if scheme == "https" else 80), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError) as exc:
        raise FetchError(f"cannot resolve host {host}: {exc}") from exc
    if not infos:
        raise FetchError(f"cannot resolve host {host}")
    for info in infos:
        _refuse_address(host, str(info[4][0]), allow_private)
    return host


def _peer_address(response: httpx.Response) -> str | None:
    stream = response.extensions.get("network_stream")
    if stream is None:
        return None
    try:
        addr = stream.get_extra_info("server_addr")
    except Exception:  # noqa: BLE001 - transports differ
        return None
    return str(addr[0]) if addr else None


class _Decoder:
    """Content-Encoding decoding with an output cap, so a bomb never expands past it."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        if encoding in ("", "identity"):
            self._obj = None
        elif encoding in ("gzip", "x-gzip"):
            self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._obj = zlib.decompressobj()
            self._raw_deflate_tried = False
        else:
            raise FetchError(f"unsupported content encoding {encoding!r}")

    def feed(self, chunk: bytes, room: int) -> tuple[bytes, bool]:
        """Decoded bytes (at most room+1) and whether more output was pending past that."""
        if self._obj is None:
            return chunk, False
        try:
            out = self._obj.decompress(chunk, room + 1)
        except zlib.error as exc:
            if self.encoding == "deflate" and not self._raw_deflate_tried:
                self._raw_deflate_tried = True  # some servers send raw deflate without zlib header
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.feed(chunk, room)
            raise FetchError(f"corrupt {self.encoding} body: {exc}") from exc
        return out, bool(self._obj.unconsumed_tail) or len(out) > room

    def finish(self, room: int) -> bytes:
        if self._obj is None:
            return b""
        try:
            out = self._obj.decompress(b"", room + 1)
            if not self._obj.unconsumed_tail and len(out) <= room:
                out += self._obj.flush()
        except zlib.error as exc:
            raise FetchError(f"corrupt {self.encoding} body: {exc}") from exc
        return out


def _media_type(content_type: str, body: bytes) -> str:
    main = content_type.split(";", 1)[0].strip().lower()
    if not main:
        return MEDIA_HTML if body.lstrip()[:1] == b"<" else MEDIA_TEXT
    media = _CONTENT_TYPES.get(main)
    if media is None:
        raise FetchError(f"unsupported content type {main!r}: only HTML and plain-text pages are ingested")
    return media


def fetch(url: str, options: FetchOptions | None = None, *, client: httpx.Client | None = None) -> RawItem:
    """GET `url` under the rules above and return its body as a RawItem; FetchError if refused."""
    opts = options or FetchOptions()
    deadline = time.monotonic() + opts.deadline
    timeout = httpx.Timeout(opts.read_timeout, connect=opts.connect_timeout)
    headers = {
        "User-Agent": user_agent(),
        "Accept": "text/html,application/xhtml+xml,text/plain;q=0.9",
        "Accept-Encoding": "gzip, deflate",
    }
    own_client = client is None
    http = client or httpx.Client(follow_redirects=False, timeout=timeout, trust_env=False, headers=headers)
    redirects: list[str] = []
    current = url.strip()
    try:
        while True:
            host = check_url(current, allow_private=opts.allow_private)
            if time.monotonic() > deadline:
                raise FetchError(f"timed out after {opts.deadline:.0f} s")
            try:
                with http.stream("GET", current, headers=headers) as response:
                    peer = _peer_address(response)
                    if peer is not None:
                        _refuse_address(host, peer, opts.allow_private)
                    if response.status_code in _REDIRECTS:
                        location = response.headers.get("location")
                        if not location:
                            raise FetchError(f"HTTP {response.status_code} redirect without a Location")
                        if len(redirects) >= opts.max_redirects:
                            raise FetchError(f"too many redirects (more than {opts.max_redirects})")
                        current = urljoin(current, location)
                        redirects.append(current)
                        continue
                    if response.status_code >= 400:
                        raise FetchError(f"HTTP {response.status_code} {response.reason_phrase}".rstrip())
                    if response.status_code != 200:
                        raise FetchError(f"HTTP {response.status_code}: expected 200 with the page")
                    retrieved = utcnow()
                    body = _read_body(response, opts, deadline)
                    content_type = response.headers.get("content-type", "")
                    media = _media_type(content_type, body)
                    return RawItem(
                        data=body,
                        source=url,
                        media_type=media,
                        retrieved_at=retrieved,
                        meta={
                            "final_url": str(response.url),
                            "status": response.status_code,
                            "content_type": content_type,
                            "redirects": redirects,
                            "peer": peer,
                        },
                    )
            except httpx.TimeoutException as exc:
                raise FetchError(f"timed out: {type(exc).__name__}") from exc
            except httpx.HTTPError as exc:
                raise FetchError(f"network error: {exc}") from exc
    finally:
        if own_client:
            http.close()


def _read_body(response: httpx.Response, opts: FetchOptions, deadline: float) -> bytes:
    cap = opts.max_bytes
    too_big = f"too large: over the {cap} byte limit (raise the limit with --max-bytes if you trust the source)"
    length = response.headers.get("content-length")
    if length and length.strip().isdigit() and int(length) > cap:
        raise FetchError(too_big)
    encodings = [e.strip().lower() for e in response.headers.get("content-encoding", "").split(",") if e.strip()]
    if len(encodings) > 1:
        raise FetchError(f"unsupported content encoding {', '.join(encodings)!r}")
    decoder = _Decoder(encodings[0] if encodings else "")
    body = bytearray()
    received = 0
    for chunk in response.iter_raw(CHUNK):
        received += len(chunk)
        if received > cap:
            raise FetchError(too_big)
        out, more = decoder.feed(chunk, cap - len(body))
        body += out
        if more or len(body) > cap:
            raise FetchError(too_big + " once decompressed")
        if time.monotonic() > deadline:
            raise FetchError(f"timed out after {opts.deadline:.0f} s")
    body += decoder.finish(cap - len(body))
    if len(body) > cap:
        raise FetchError(too_big + " once decompressed")
    return bytes(body)
