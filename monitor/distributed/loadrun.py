"""One distributed run over a loopback mirror, timed: ``python -m monitor.distributed.loadrun --workers N``.

It starts a private ``redis-server`` on a free loopback port, the mirror of ``--sites`` (default
``fixtures/sites``; any folder the mirror serves, such as a generated big site), a writer on a new archive in a
temporary folder, ``monitor seed`` and N workers (with ``--workers 0``, one local ``monitor crawl`` instead, the
yardstick); waits until the writer has finished the run; stops everything
and prints one JSON line: workers, articles stored, seconds from the seed to the run's end as the archive records
them (the writer ends a run after a few quiet seconds), seconds to the last new article, and articles per second
up to it. Used for the throughput figures in docs/operations.md ("Scale-out on
scrapy-redis"); a whole-process timer around it counts the start-up of every process too.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from monitor.devtools.mirror import default_sites_dir

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_TIMES=0"]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _quiet(command: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _finished(db: Path) -> tuple[int, float, float] | None:
    """Articles stored, the run's seconds and the seconds to its last new article, once it is finished."""
    if not db.exists():
        return None
    conn = sqlite3.connect(db, timeout=30)
    try:
        row = conn.execute(
            "SELECT started, finished, stored, (SELECT max(first_seen) FROM articles) FROM crawl_runs "
            "WHERE status = 'finished'"
        ).fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()
    if row is None:
        return None
    started, finished, stored, last = row
    start = datetime.fromisoformat(started)
    return (
        int(stored),
        (datetime.fromisoformat(finished) - start).total_seconds(),
        (datetime.fromisoformat(last) - start).total_seconds() if last else 0.0,
    )


def run(workers: int, sites: Path, folder: Path, timeout: float, extra: list[str]) -> dict[str, float | None]:
    monitor = [sys.executable, "-m", "monitor.cli"]
    port = _port()
    url = f"redis://127.0.0.1:{port}/0"
    procs = [
        _quiet(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        )
    ]
    try:
        sources = folder / "sources.toml"
        mirror = subprocess.Popen(
            [sys.executable, "-m", "monitor.devtools.mirror", str(sites), "--sources-out", str(sources)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        procs.append(mirror)
        assert mirror.stdout is not None
        mirror.stdout.readline()  # serving
        db = folder / "archive.db"
        if workers == 0:  # the yardstick: one local crawl (`monitor crawl`) over the same mirror
            local = [*monitor, "crawl", "--db", str(db), "--sources", str(sources), *FAST, *extra]
            procs.append(_quiet(local))
        else:
            procs.append(_quiet([*monitor, "writer", "--redis", url, "--db", str(db)]))
            seed = [*monitor, "seed", "--redis", url, "--sources", str(sources), *FAST, *extra]
            for _attempt in range(50):  # the writer and Redis may still be starting
                if _quiet(seed).wait() == 0:
                    break
                time.sleep(0.2)
            for _ in range(workers):
                worker = [*monitor, "worker", "--redis", url, "--sources", str(sources), *FAST, *extra]
                procs.append(_quiet(worker))
        deadline = time.monotonic() + timeout
        while (done := _finished(db)) is None:
            if time.monotonic() > deadline:
                raise SystemExit(f"error: the run did not finish in {timeout:.0f} s")
            time.sleep(0.2)
        stored, seconds, to_last = done
        rate = round(stored / to_last, 1) if to_last else None
        return {
            "workers": workers,
            "stored": stored,
            "seconds": seconds,
            "to_last_article": to_last,
            "per_second": rate,
        }
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One timed distributed run over a loopback mirror.")
    parser.add_argument("--workers", type=int, default=2, help="0: one local `monitor crawl` instead")
    parser.add_argument("--sites", type=Path, default=default_sites_dir())
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument(
        "-s", "--set", dest="pairs", action="append", default=[], help="NAME=VALUE for workers"
    )
    args = parser.parse_args(argv)
    if shutil.which("redis-server") is None:
        print("error: redis-server is not installed", file=sys.stderr)
        return 2
    extra = [item for pair in args.pairs for item in ("-s", pair)]
    with tempfile.TemporaryDirectory(prefix="loadrun-") as folder:
        print(json.dumps(run(args.workers, args.sites, Path(folder), args.timeout, extra)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
