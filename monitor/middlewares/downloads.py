"""Downloader middlewares that keep a misbehaving server from costing memory or vanishing requests.

- :class:`BoundedDecompression` replaces Scrapy's HttpCompressionMiddleware. It decompresses gzip, deflate, br
  and zstd a chunk at a time and stops one chunk past the request's limit (``download_maxsize``: article pages
  ``MONITOR_MAX_PAGE_BYTES``, 8 MiB, the largest page the extractor reads; feeds and sitemaps
  ``DOWNLOAD_MAXSIZE``), dropping what it decompressed before it says why, so a bomb costs at most that much
  memory for as long as it is being read. A truncated compressed body and an encoding it cannot read are
  failures too, never a half page stored as a whole one.
- :class:`RedirectLoops` fails a request that a redirect (HTTP or ``<meta http-equiv=refresh>``) sends back to
  an address of its own chain: A → A, A → B → A. The spider's requests pass Scrapy's duplicate filter
  (``dont_filter``; the spider keeps its own set of URLs), so a loop is seen here instead of being dropped
  unseen by the filter.

Each refusal is an :class:`IgnoreRequest` whose message is the reason that reaches the run's summary.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from itertools import chain
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.responsetypes import responsetypes

from monitor.discovery.urls import canonical_url

CHUNK = 64 * 1024


class BodyRefused(IgnoreRequest):
    """A response body that is too large once decompressed, truncated, or in an encoding we cannot read."""


class RedirectLoop(IgnoreRequest):
    """A redirect back to an address already in the request's redirect chain."""


class _TooLarge(Exception):
    pass


class _Truncated(Exception):
    pass


def _collect(pieces: Callable[[], bytes], done: Callable[[], bool], limit: int) -> bytes:
    """Join the chunks ``pieces`` gives until ``done``; raise _TooLarge past ``limit`` and _Truncated when the
    stream stops before its end."""
    out: list[bytes] = []
    size = 0
    while True:
        piece = pieces()
        if piece:
            size += len(piece)
            if limit and size > limit:
                out.clear()  # let it go now, not when the exception is collected
                raise _TooLarge(size)
            out.append(piece)
        elif done():
            return b"".join(out)
        else:
            raise _Truncated()


def _zlib(body: bytes, wbits: int, limit: int) -> bytes:
    decompressor = zlib.decompressobj(wbits)
    pending = [body]

    def pieces() -> bytes:
        data = pending.pop() if pending else decompressor.unconsumed_tail
        if decompressor.eof:
            rest = decompressor.unused_data
            if wbits == 31 and rest.startswith(b"\x1f\x8b"):  # another gzip member follows
                return _next_member(rest)
            return b""
        return decompressor.decompress(data, CHUNK)

    def _next_member(rest: bytes) -> bytes:
        nonlocal decompressor
        decompressor = zlib.decompressobj(wbits)
        return decompressor.decompress(rest, CHUNK)

    def done() -> bool:
        return decompressor.eof and not decompressor.unused_data.startswith(b"\x1f\x8b")

    return _collect(pieces, done, limit)


def gunzip(body: bytes, limit: int) -> bytes:
    return _zlib(body, 31, limit)


def inflate(body: bytes, limit: int) -> bytes:
    """HTTP ``deflate``: a zlib stream, or (some servers) raw deflate."""
    try:
        return _zlib(body, 15, limit)
    except zlib.error:
        return _zlib(body, -15, limit)


def unbrotli(body: bytes, limit: int) -> bytes:
    import brotli

    decompressor = brotli.Decompressor()
    pending = [body]

    def pieces() -> bytes:
        data = pending.pop() if pending else b""
        if decompressor.is_finished():
            return b""
        return bytes(decompressor.process(data, output_buffer_limit=CHUNK))

    return _collect(pieces, decompressor.is_finished, limit)


def unzstd(body: bytes, limit: int) -> bytes:
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python 3.14
    except ImportError:
        from backports import zstd

    decompressor = zstd.ZstdDecompressor()
    pending = [body]

    def pieces() -> bytes:
        if decompressor.eof:
            return b""
        data = pending.pop() if pending else b""
        return bytes(decompressor.decompress(data, CHUNK))

    return _collect(pieces, lambda: bool(decompressor.eof), limit)


DECODERS: dict[bytes, Callable[[bytes, int], bytes]] = {
    b"gzip": gunzip,
    b"x-gzip": gunzip,
    b"deflate": inflate,
    b"br": unbrotli,
    b"zstd": unzstd,
}
ACCEPTED = b"gzip, deflate, br, zstd"


def decode(body: bytes, encodings: list[bytes], limit: int) -> bytes:
    """Undo the content codings, last applied first. Raises ValueError with the reason in words."""
    for encoding in reversed(encodings):
        decoder = DECODERS.get(encoding)
        if decoder is None:
            raise ValueError(f"unsupported Content-Encoding {encoding.decode('latin-1')!r}")
        try:
            body = decoder(body, limit)
        except _TooLarge:
            raise ValueError(
                f"larger than {limit / 2**20:.0f} MiB once decompressed ({encoding.decode()}, "
                f"{len(body) / 2**20:.1f} MiB sent): refused as a decompression bomb"
            ) from None
        except _Truncated:
            raise ValueError(f"truncated {encoding.decode()} body") from None
        except (zlib.error, OSError, EOFError) as exc:
            raise ValueError(f"unreadable {encoding.decode()} body: {exc}") from None
        except Exception as exc:  # brotli.error, zstd.ZstdError: the libraries' own error types
            raise ValueError(f"unreadable {encoding.decode()} body: {type(exc).__name__}: {exc}") from None
    return body


class BoundedDecompression:
    def __init__(self, crawler: Crawler, max_size: int):
        self.crawler = crawler
        self.max_size = max_size

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BoundedDecompression:
        return cls(crawler, crawler.settings.getint("DOWNLOAD_MAXSIZE"))

    def process_request(self, request: Request, spider: Any = None) -> None:
        request.headers.setdefault("Accept-Encoding", ACCEPTED)

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if request.method == "HEAD" or response.status == 304:
            return response
        encodings = [
            e.strip().lower()
            for e in chain.from_iterable(h.split(b",") for h in response.headers.getlist("Content-Encoding"))
            if e.strip() and e.strip().lower() != b"identity"
        ]
        if not encodings:
            return response
        limit = int(request.meta.get("download_maxsize", self.max_size))
        try:
            body = decode(response.body, encodings, limit)
        except ValueError as exc:
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value("monitor/body_refused")
            raise BodyRefused(str(exc)) from None
        headers = response.headers.copy()
        del headers["Content-Encoding"]
        kind = responsetypes.from_args(headers=headers, url=response.url, body=body)
        extra: dict[str, Any] = {"encoding": None} if issubclass(kind, TextResponse) else {}
        return response.replace(cls=kind, body=body, headers=headers, **extra)


class RedirectLoops:
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectLoops:
        return cls()

    def process_request(self, request: Request, spider: Any = None) -> None:
        chain_urls = request.meta.get("redirect_urls")
        if not chain_urls:
            return
        here = canonical_url(request.url)
        seen = [canonical_url(url) for url in chain_urls]
        if here in seen:
            path = " → ".join([*chain_urls[seen.index(here) :], request.url])
            raise RedirectLoop(f"redirect loop: {path}")
