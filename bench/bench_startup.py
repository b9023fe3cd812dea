"""How long `monitor crawl` takes from its start to its first request, with the packaged outlet list.

Every outlet of monitor/data/sources.toml is pointed at its own loopback port (127.0.0.1, nothing leaves the
machine) whose server notes the time of the first request it gets; the crawl is stopped as soon as one arrives.
Reports the median and range over several runs, for an empty archive. Usage: python bench/bench_startup.py [runs]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from monitor.devtools.mirror import toml_value
from monitor.discovery.sources import load_sources

FIRST: list[float] = []


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if not FIRST:
            FIRST.append(time.monotonic())
        body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


def sources_on_loopback(folder: Path) -> tuple[Path, int, list[ThreadingHTTPServer]]:
    outlets, servers = [], []
    for source in load_sources():
        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        base = f"127.0.0.1:{server.server_address[1]}"
        outlets.append(
            {
                "name": source.name,
                "domains": [base],
                "feeds": [f"http://{base}/feed{i}" for i, _ in enumerate(source.feeds)],
                "sitemaps": [f"http://{base}/sitemap{i}.xml" for i, _ in enumerate(source.sitemaps)],
                "sections": [f"http://{base}/section{i}" for i, _ in enumerate(source.sections)],
                "article_pattern": source.article_pattern.pattern,
            }
        )
    lines = []
    for outlet in outlets:
        lines.append("[[outlet]]")
        lines += [f"{key} = {toml_value(value)}" for key, value in outlet.items()]
    path = folder / "sources.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, len(outlets), servers


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sources, count, servers = sources_on_loopback(folder)
        figures = []
        for run in range(runs):
            FIRST.clear()
            db = folder / f"run{run}.db"
            started = time.monotonic()
            proc = subprocess.Popen(
                [sys.executable, "-m", "monitor.cli", "crawl", "--db", str(db), "--sources", str(sources)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            while not FIRST and proc.poll() is None and time.monotonic() - started < 60:
                time.sleep(0.005)
            proc.kill()
            proc.wait()
            if FIRST:
                figures.append(FIRST[0] - started)
        for server in servers:
            server.shutdown()
    print(
        json.dumps(
            {
                "outlets": count,
                "runs": len(figures),
                "first_request_s": {
                    "min": round(min(figures), 3),
                    "median": round(statistics.median(figures), 3),
                    "max": round(max(figures), 3),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
