"""Shared by the fault suite: the loopback fault server in a subprocess, sources files for its sites, crawls in a
subprocess with their peak memory, and what the archive holds afterwards."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _env import ENV

from monitor.devtools.faultserver import requests_logged

ROOT = Path(__file__).resolve().parent.parent
FAST = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "RETRY_TIMES": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "DOWNLOAD_TIMEOUT": "10",
    "MONITOR_PROGRESS_INTERVAL": "1",
}


@dataclass
class Server:
    bases: dict[str, str]
    spec_path: Path
    log: Path
    spec: dict[str, Any]

    def update(self, spec: dict[str, Any]) -> None:
        """Change the sites (the server reads the spec again when the file changes)."""
        self.spec = spec
        time.sleep(0.01)  # a new modification time even on coarse file systems
        self.spec_path.write_text(json.dumps(spec), encoding="utf-8")

    def requests(self, site: str | None = None) -> list[dict[str, Any]]:
        return [r for r in requests_logged(self.log) if site is None or r["site"] == site]

    def clear_log(self) -> None:
        self.log.write_text("")


@contextmanager
def fault_server(spec: dict[str, Any], folder: Path) -> Iterator[Server]:
    folder.mkdir(parents=True, exist_ok=True)
    spec_path, log = folder / "spec.json", folder / "requests.jsonl"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor.devtools.faultserver", str(spec_path), "--log", str(log)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        bases = json.loads(proc.stdout.readline())["sites"]
        yield Server(bases, spec_path, log, spec)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def outlet(name: str, base: str, *, feeds=(), sitemaps=(), sections=(), pattern=r"/a/", **extra) -> str:
    """One ``[[outlet]]`` block for a fault-server site (addresses are paths on its base URL).

    Every site is on 127.0.0.1, and Scrapy keys download slots (delays, back-off) by host name, not port: the
    outlet's own ``concurrency`` gives it a slot of its own, as distinct hosts have on the web."""
    extra.setdefault("concurrency", 4)
    netloc = base.removeprefix("http://")
    lines = [
        "[[outlet]]",
        f'name = "{name}"',
        f'domains = ["{netloc}"]',
        f"feeds = {json.dumps([base + p for p in feeds])}",
        f"sitemaps = {json.dumps([base + p for p in sitemaps])}",
        f"sections = {json.dumps([base + p for p in sections])}",
        f"article_pattern = {json.dumps(pattern)}",
    ]
    lines += [f"{key} = {json.dumps(value)}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


@dataclass
class Crawl:
    returncode: int
    stdout: str
    stderr: str
    peak_rss_mb: float
    seconds: float


def crawl(
    db: Path, sources: Path, *args: str, settings: dict[str, str] | None = None, timeout: float = 300
) -> Crawl:
    """``monitor crawl`` in a subprocess; its peak resident memory from the kernel's accounting (wait4)."""
    merged = {**FAST, **(settings or {})}
    command = [
        sys.executable,
        "-m",
        "monitor.cli",
        "crawl",
        "--db",
        str(db),
        "--sources",
        str(sources),
        *args,
    ]
    command += [x for key, value in merged.items() for x in ("-s", f"{key}={value}")]
    return run_measured(command, timeout)


def run_measured(command: list[str], timeout: float = 300) -> Crawl:
    """Run ``command``; its exit status, output and peak resident memory (``wait4``: this child alone)."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, cwd=ROOT, env=ENV, stdout=out, stderr=err)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _pid, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode == -9 and time.monotonic() - started >= timeout:
        raise AssertionError(f"{command} did not finish in {timeout} s: {stderr[-2000:]}")
    return Crawl(proc.returncode, stdout, stderr, usage.ru_maxrss / 1024, time.monotonic() - started)


def run_sources(db: Path, run: str = "last") -> dict[str, dict[str, Any]]:
    """The run's ``run_sources`` rows by outlet (``last`` run, or a run id)."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        run_id = conn.execute("SELECT max(id) FROM crawl_runs").fetchone()[0] if run == "last" else int(run)
        rows = conn.execute("SELECT * FROM run_sources WHERE run_id = ?", [run_id]).fetchall()
        return {row["source"]: dict(row) for row in rows}
    finally:
        conn.close()


def query(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


OUTCOMES = ("new", "updated", "unchanged", "skipped", "failed")


def adds_up(row: dict[str, Any]) -> bool:
    """Every discovered article URL is in exactly one outcome column."""
    return row["discovered"] == sum(row[c] for c in OUTCOMES)


def record(
    fault: str,
    expected: str,
    observed: str,
    *,
    peak_mb: float | None = None,
    stored: int | None = None,
    expected_rows: int | None = None,
) -> None:
    """One row of docs/reliability.md: what the fault suite saw, appended to ``$MONITOR_RELIABILITY_OUT`` when
    ``python -m monitor.devtools.reliability`` runs the suite (nothing is written otherwise)."""
    target = os.environ.get("MONITOR_RELIABILITY_OUT")
    if not target:
        return
    row = {
        "fault": fault,
        "expected": expected,
        # loopback addresses and temporary paths change every run: keep the paths of the pages only
        "observed": re.sub(r"(/tmp|/var)/\S*/", "…/", re.sub(r"http://127\.0\.0\.1:\d+", "", observed)),
        "peak_mb": None if peak_mb is None else round(peak_mb, 1),
        "stored": stored,
        "expected_rows": expected_rows,
    }
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def own_lines(stderr: str) -> list[str]:
    """The lines a command wrote itself on stderr: without the rules engine's notice that its compiled copy is
    stale (logged at import in a working tree whose engine source changed since the last build)."""
    return [line for line in stderr.strip().splitlines() if "changed since compiled" not in line]


DROP = "-dac_override,-dac_read_search,-fowner"
SETPRIV = ["setpriv", "--inh-caps", DROP, "--bounding-set", DROP]


def unprivileged() -> list[str]:
    """A prefix that runs a command without root's power to ignore file permissions (CI runs as root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.fail("running as root without setpriv: permission tests cannot drop root's capabilities")
    return SETPRIV
