"""A loopback server of misbehaving news sites, for the fault suite (``tests/test_faults*.py``).

Run ``python -m monitor.devtools.faultserver SPEC.json --log REQUESTS.jsonl``: every site of the spec listens on its own
port on 127.0.0.1 (a host belongs to one outlet), the first line printed is JSON ``{"sites": {name: base URL}}``,
and every request is appended to the log as one JSON line. The spec is read again whenever its file changes, so
a test can change a site between two crawls. It never listens beyond loopback.

A spec is ``{"sites": {NAME: {"routes": {PATH: ROUTE}}}}``; a route is a JSON object with

- ``status`` (200), or ``statuses`` (one per request in turn, the last one repeating), ``headers``, ``content_type``;
- a PATH ending in ``*`` answers every path that starts with what comes before it;
- the body: ``body`` (text; ``{base}``, ``{base:SITE}`` and ``{path}`` become base URLs and the request's path),
  ``file`` (bytes from a file) or
  ``generate`` (``{"kind": "nested" | "table" | "attribute" | "sitemap" | "articles", ...}``, see :func:`generate`);
- ``etag: true``: an ETag, and 304 to a request that sends it back;
- ``delay``: seconds before the answer (a read timeout);
- ``hold``: a file path: no answer until that file exists (at most 10 minutes), so a test decides when a
  crawl can go on;
- ``fault``: how the answer goes wrong: ``reset`` (half the body, then a TCP reset), ``truncate`` (a
  Content-Length the body never reaches), ``endless`` (a chunked body that never ends), ``truncated-gzip`` (a gzip
  body cut in half), ``gzip-bomb`` / ``deflate-bomb`` / ``br-bomb`` / ``zstd-bomb`` (``expands_to`` bytes of
  zeros, 2 GiB by default, in a few MB or less).
"""

from __future__ import annotations

import gzip
import json
import signal
import socket
import struct
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LOOPBACK = "127.0.0.1"
MiB = 1 << 20
BOMB_SIZE = 2 << 30


# --- bombs: zeros that expand to ``size`` bytes, built in milliseconds ------------------------------------------


@cache
def gzip_bomb(size: int = BOMB_SIZE) -> bytes:
    """gzip members of 1 MiB of zeros, one after another (a valid gzip file: readers join members)."""
    return gzip.compress(bytes(MiB), 9) * max(1, size // MiB)


@cache
def deflate_bomb(size: int = BOMB_SIZE) -> bytes:
    """A zlib stream (HTTP ``deflate``): one fully flushed block of 1 MiB of zeros repeated, then the end."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(MiB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    blocks = max(1, size // MiB)
    adler = ((blocks * MiB) % 65521) << 16 | 1  # Adler-32 of n zeros
    return b"\x78\xda" + block * blocks + compressor.flush(zlib.Z_FINISH) + struct.pack(">I", adler)


@cache
def br_bomb(size: int = BOMB_SIZE) -> bytes:
    import brotli

    compressor = brotli.Compressor(quality=1)
    block = bytes(MiB)
    return b"".join(compressor.process(block) for _ in range(max(1, size // MiB))) + compressor.finish()


@cache
def zstd_bomb(size: int = BOMB_SIZE) -> bytes:
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python 3.14
    except ImportError:
        from backports import zstd  # Scrapy's own dependency before 3.14

    compressor = zstd.ZstdCompressor(level=1)
    block = bytes(MiB)
    return b"".join(compressor.compress(block) for _ in range(max(1, size // MiB))) + compressor.flush()


BOMBS = {"gzip-bomb": ("gzip", gzip_bomb), "deflate-bomb": ("deflate", deflate_bomb)}
BOMBS |= {"br-bomb": ("br", br_bomb), "zstd-bomb": ("zstd", zstd_bomb)}


# --- generated bodies ---------------------------------------------------------------------------------------------


def article_html(
    title: str,
    paragraphs: int = 8,
    words: str = "rozmowy pokojowe w Genewie",
    published: str | None = None,
    charset: str = "utf-8",
) -> str:
    """A plain news article page of ``paragraphs`` Polish sentences (enough words to count as an article)."""
    body = "".join(
        f"<p>To jest akapit numer {n} artykułu „{title}”, w którym mowa o tym, że {words} trwają dalej.</p>"
        for n in range(paragraphs)
    )
    date = f"<meta property='article:published_time' content='{published}'>" if published else ""
    return (
        f"<!doctype html><html lang='pl'><head><meta charset='{charset}'><title>{title}</title>{date}</head>"
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    )


def generate(spec: dict[str, Any], base: str) -> bytes:
    """A generated body: ``nested`` (``depth`` nested elements), ``table`` (``megabytes`` of table cells),
    ``attribute`` (an attribute of ``megabytes``), ``sitemap`` (``count`` URLs ``base + pattern``, with
    ``lastmod``), ``articles`` (an RSS feed of ``count`` items, ``pattern`` and ``published``)."""
    kind = spec["kind"]
    if kind == "nested":
        depth = int(spec.get("depth", 100_000))
        text = article_html("Głęboko zagnieżdżona strona")
        return (
            text.replace("<article>", "<article>" + "<div>" * depth)
            .replace("</article>", "</div>" * depth + "</article>")
            .encode()
        )
    if kind == "table":
        row = "<tr>" + "<td>komórka tabeli z liczbami 12345</td>" * 10 + "</tr>"
        rows = int(float(spec.get("megabytes", 20)) * MiB) // len(row.encode())
        text = article_html("Tabela").replace("</article>", "<table>" + row * rows + "</table></article>")
        return text.encode()
    if kind == "attribute":
        value = "x" * int(float(spec.get("megabytes", 1)) * MiB)
        return article_html("Długi atrybut").replace("<article>", f"<article data-x='{value}'>").encode()
    if kind == "sitemap":
        lastmod = spec.get("lastmod", "2026-01-14T10:00:00+01:00")
        urls = "".join(
            f"<url><loc>{base}{spec['pattern'].format(i=i)}</loc><lastmod>{lastmod}</lastmod></url>"
            for i in range(int(spec["count"]))
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        ).encode()
    if kind == "articles":
        published = spec.get("published", "Wed, 14 Jan 2026 10:32:00 +0100")
        items = "".join(
            f"<item><title>Artykuł {i}</title><link>{base}{spec['pattern'].format(i=i)}</link>"
            f"<pubDate>{published}</pubDate></item>"
            for i in range(int(spec["count"]))
        )
        return f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()
    raise ValueError(f"unknown generated body {kind!r}")


# --- the server ---------------------------------------------------------------------------------------------------


class Spec:
    """The spec file, read again when it changes; request counts per route for ``statuses``."""

    def __init__(self, path: Path):
        self.path = path
        self.lock = threading.Lock()
        self.mtime = -1.0
        self.data: dict[str, Any] = {}
        self.bases: dict[str, str] = {}
        self.hits: dict[tuple[str, str], int] = {}

    def route(self, site: str, path: str) -> tuple[dict[str, Any] | None, int]:
        with self.lock:
            mtime = self.path.stat().st_mtime
            if mtime != self.mtime:
                self.data = json.loads(self.path.read_text(encoding="utf-8"))
                self.mtime = mtime
            routes = self.data["sites"].get(site, {}).get("routes", {})
            route = routes.get(path)
            if route is None:  # "PREFIX*" routes answer every path that starts with PREFIX
                prefixes = [key for key in routes if key.endswith("*") and path.startswith(key[:-1])]
                route = routes[max(prefixes, key=len)] if prefixes else None
            hit = self.hits.get((site, path), 0)
            self.hits[(site, path)] = hit + 1
            return route, hit

    def expand(self, text: str, site: str) -> str:
        text = text.replace("{base}", self.bases[site])
        for name, base in self.bases.items():
            text = text.replace(f"{{base:{name}}}", base)
        return text


def _wait_for(path: Path, limit: float = 600.0) -> None:
    deadline = time.monotonic() + limit
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)


def _body(spec: Spec, site: str, route: dict[str, Any], path: str) -> bytes:
    if "file" in route:
        return Path(route["file"]).read_bytes()
    if "generate" in route:
        return generate(route["generate"], spec.bases[site])
    body = route.get("body", "").replace("{path}", path)
    return spec.expand(body, site).encode(route.get("charset", "utf-8"), errors="replace")


def handler(
    spec: Spec, site: str, log: Path | None, log_lock: threading.Lock
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "monitor-faultserver"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return

        def _log(self) -> None:
            if log is None:
                return
            entry = {"site": site, "path": self.path, "method": self.command, "at": time.time()}
            entry["headers"] = {
                k: v for k, v in self.headers.items() if k.lower().startswith(("if-", "accept"))
            }
            with log_lock, log.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry) + "\n")

        def do_GET(self) -> None:  # noqa: N802 - stdlib name
            self._log()
            route, hit = spec.route(site, self.path.split("?", 1)[0])
            if route is None:
                self._send(404, {"Content-Type": "text/html"}, b"<html><body><h1>404</h1></body></html>")
                return
            if route.get("delay"):
                time.sleep(float(route["delay"]))
            if route.get("hold"):
                _wait_for(Path(route["hold"]))
            statuses = route.get("statuses") or [route.get("status", 200)]
            status = int(statuses[min(hit, len(statuses) - 1)])
            headers = {"Content-Type": route.get("content_type", "text/html; charset=utf-8")}
            headers |= {k: spec.expand(str(v), site) for k, v in route.get("headers", {}).items()}
            fault = route.get("fault")
            if fault in BOMBS:
                encoding, make = BOMBS[fault]
                self._send(
                    status,
                    headers | {"Content-Encoding": encoding},
                    make(int(route.get("expands_to", BOMB_SIZE))),
                )
                return
            body = _body(spec, site, route, self.path)
            if route.get("etag"):
                etag = f'"{zlib.crc32(body):08x}"'
                headers["ETag"] = etag
                if self.headers.get("If-None-Match") == etag:
                    self._send(304, {"ETag": etag}, b"")
                    return
            if fault == "truncated-gzip":
                whole = gzip.compress(body)
                self._send(status, headers | {"Content-Encoding": "gzip"}, whole[: len(whole) // 2])
            elif fault == "reset":
                self._reset(status, headers, body)
            elif fault == "truncate":
                self._send(status, headers | {"Content-Length": str(len(body) * 2)}, body, close=True)
            elif fault == "endless":
                self._endless(status, headers, body)
            else:
                self._send(status, headers, body)

        def _send(self, status: int, headers: dict[str, str], body: bytes, close: bool = False) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if "Content-Length" not in headers:
                self.send_header("Content-Length", str(len(body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            try:  # a client that gave up (a read timeout) has closed the connection: nothing to answer
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
            except OSError:
                self.close_connection = True

        def _reset(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            # SO_LINGER with a zero timeout: close() sends a TCP reset instead of a clean end
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True

        def _endless(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = body[:1024] or b" "
            try:
                while True:  # until the client gives up
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                    time.sleep(0.01)
            except OSError:
                self.close_connection = True

    return Handler


class FaultServer:
    """The spec's sites on loopback ports, in background threads."""

    def __init__(self, spec_path: Path, log: Path | None = None):
        self.spec = Spec(spec_path)
        self.log = log
        self.servers: list[ThreadingHTTPServer] = []

    def start(self) -> FaultServer:
        data = json.loads(self.spec.path.read_text(encoding="utf-8"))
        log_lock = threading.Lock()
        for site in data["sites"]:
            server = ThreadingHTTPServer((LOOPBACK, 0), handler(self.spec, site, self.log, log_lock))
            server.daemon_threads = True
            server.block_on_close = False  # stopping does not wait for a slow or endless answer to end
            self.servers.append(server)
            self.spec.bases[site] = f"http://{LOOPBACK}:{server.server_address[1]}"
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def requests_logged(log: Path) -> Iterator[dict[str, Any]]:
    """The requests a fault server logged, in order."""
    if not log.exists():
        return
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Serve misbehaving sites on loopback (the fault suite).")
    parser.add_argument("spec", type=Path)
    parser.add_argument("--log", type=Path, help="append every request here, one JSON line each")
    args = parser.parse_args(argv)
    server = FaultServer(args.spec, args.log).start()
    print(json.dumps({"sites": server.spec.bases}), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
