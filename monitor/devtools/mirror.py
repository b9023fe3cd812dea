"""A loopback mirror of the fixture outlets in ``fixtures/sites`` (see its README).

Each real host named in the sites' ``site.toml`` files gets its own port on 127.0.0.1, so a URL keeps its path
and an outlet keeps its own "domain" (host and port). Bodies are rewritten so links to mirrored hosts lead back
into the mirror. Used by ``monitor demo`` and the end-to-end tests; never reaches beyond loopback.

Run ``python -m monitor.devtools.mirror [SITES_DIR] --sources-out FILE`` to serve until SIGTERM/SIGINT; the first line
printed is JSON with the host → base URL map and the path of the mirror's sources file.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import signal
import socket
import sys
import threading
import tomllib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from monitor.devtools import ROOT
from monitor.discovery.urls import on_domains

LOOPBACK = "127.0.0.1"
DEFAULT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass
class Page:
    url: str
    file: Path | None
    status: int = 200
    content_type: str | None = None
    expect: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Site:
    folder: Path
    source: dict[str, Any]
    pages: list[Page]


def load_sites(root: Path) -> list[Site]:
    """Read every ``<outlet>/site.toml`` under ``root``."""
    sites = []
    for spec in sorted(root.glob("*/site.toml")):
        data = tomllib.loads(spec.read_text(encoding="utf-8"))
        pages = []
        for entry in data.get("page", []):
            file = spec.parent / entry["file"] if entry.get("file") else None
            pages.append(
                Page(
                    url=entry["url"],
                    file=file,
                    status=int(entry.get("status", 200)),
                    content_type=entry.get("content_type"),
                    expect=entry.get("expect", {}),
                    headers={str(k): str(v) for k, v in entry.get("headers", {}).items()},
                )
            )
        sites.append(Site(spec.parent, data["source"], pages))
    return sites


def toml_value(value: object) -> str:
    """A TOML value for a string, number, boolean, list or table (JSON strings are valid TOML strings)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {toml_value(v)}" for key, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _free_closed_port() -> int:
    """A loopback port nothing listens on: requests to it are refused at once (the 'unreachable host')."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class Mirror:
    """Serves the sites on loopback ports in background threads."""

    def __init__(self, sites: list[Site]):
        self.sites = sites
        self.pages: dict[tuple[str, str], Page] = {}
        for site in sites:
            for page in site.pages:
                parts = urlsplit(page.url)
                target = parts.path or "/"
                if parts.query:
                    target += "?" + parts.query
                self.pages[(parts.hostname or "", target)] = page
        self.hosts = sorted({host for host, _ in self.pages}, key=len, reverse=True)
        self.bases: dict[str, str] = {}
        self.servers: list[ThreadingHTTPServer] = []
        self.dead_base = f"http://{LOOPBACK}:{_free_closed_port()}"

    def rewrite_url(self, url: str) -> str:
        """The mirror's address for a real URL; unmirrored hosts go to a closed loopback port."""
        parts = urlsplit(url)
        base = self.bases.get(parts.hostname or "", self.dead_base)
        rest = parts.path + (f"?{parts.query}" if parts.query else "")
        return base + rest

    def rewrite_body(self, body: bytes) -> bytes:
        for host in self.hosts:
            base = self.bases[host].encode()
            for scheme in (b"https://", b"http://", b"https:\\/\\/", b"http:\\/\\/", b"//"):
                body = body.replace(scheme + host.encode(), base)
        return body

    def start(self) -> Mirror:
        for host in self.hosts:
            server = ThreadingHTTPServer((LOOPBACK, 0), self._handler(host))
            server.daemon_threads = True
            self.servers.append(server)
            self.bases[host] = f"http://{LOOPBACK}:{server.server_address[1]}"
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        # shut the servers down together: each shutdown() waits up to a poll interval of its serve_forever()
        stoppers = [threading.Thread(target=server.shutdown) for server in self.servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server in self.servers:
            server.server_close()

    def __enter__(self) -> Mirror:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def sources_toml(self) -> str:
        """A sources file for the mirrored outlets: real URLs rewritten, domains narrowed to mirror ports."""
        lines = ["# Generated by monitor.devtools.mirror: the fixture outlets served on loopback.", ""]
        for site in self.sites:
            source = dict(site.source)
            domains = source.get("domains", [])
            netlocs = sorted(
                urlsplit(base).netloc
                for host, base in self.bases.items()
                if on_domains(f"https://{host}/", domains)
            )
            for key in ("feeds", "sitemaps", "sections"):
                urls = [u["url"] if isinstance(u, dict) else u for u in source.get(key, [])]
                source[key] = [self.rewrite_url(u) for u in urls]
            dead = urlsplit(self.dead_base).netloc
            rewritten = (u for key in ("feeds", "sitemaps", "sections") for u in source[key])
            # an address on an unmirrored host is refused at the closed port: it still belongs to the outlet
            source["domains"] = (
                netlocs + [dead] if any(dead in u for u in rewritten) or not netlocs else netlocs
            )
            lines.append("[[outlet]]")
            for key, value in source.items():
                lines.append(f"{key} = {toml_value(value)}")
            lines.append("")
        return "\n".join(lines)

    def _handler(self, host: str) -> type[BaseHTTPRequestHandler]:
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "monitor-mirror"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
                return

            def _respond(self, send_body: bool) -> None:
                page = mirror.pages.get((host, self.path))
                if page is None:
                    status, body, ctype = 404, b"<html><body><h1>404</h1></body></html>", "text/html"
                else:
                    status = page.status
                    body = page.file.read_bytes() if page.file else b""
                    ctype = page.content_type or DEFAULT_TYPES.get(
                        page.file.suffix if page.file else ".html",
                        mimetypes.guess_type(str(page.file))[0] or "application/octet-stream",
                    )
                    body = mirror.rewrite_body(body)
                etag = f'"{hashlib.sha1(body).hexdigest()[:16]}"'
                if status == 200 and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(status)
                for name, value in page.headers.items() if page is not None else ():
                    self.send_header(name, mirror.rewrite_body(value.encode()).decode())
                if status == 200:
                    self.send_header("ETag", etag)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if send_body:
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                self._respond(True)

            def do_HEAD(self) -> None:  # noqa: N802 - stdlib name
                self._respond(False)

        return Handler


def default_sites_dir() -> Path:
    return ROOT / "fixtures" / "sites"


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Serve the fixture mirror on loopback.")
    parser.add_argument("sites", nargs="?", type=Path, default=default_sites_dir())
    parser.add_argument(
        "--sources-out", type=Path, required=True, help="where to write the mirror's sources.toml"
    )
    args = parser.parse_args(argv)
    mirror = Mirror(load_sites(args.sites)).start()
    args.sources_out.write_text(mirror.sources_toml(), encoding="utf-8")
    print(json.dumps({"hosts": mirror.bases, "sources": str(args.sources_out)}), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    mirror.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
