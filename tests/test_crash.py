"""Crash safety: a crawl of the loopback mirror killed with SIGKILL at several points, then run again, stores
every article the mirror offers exactly once and leaves a consistent database. No JOBDIR is used."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _env import ENV

from monitor.devtools.mirror import load_sites

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "fixtures" / "sites"
EXPECTED = sum(1 for site in load_sites(SITES) for page in site.pages if page.expect.get("article"))


@pytest.fixture(scope="module")
def mirror_sources(mirror: tuple[dict[str, str], Path]) -> Path:
    return mirror[1]


def command(sources: Path, db: Path, *extra: str) -> list[str]:
    settings = [
        f"MONITOR_SOURCES={sources}",
        f"MONITOR_DB={db}",
        "RETRY_TIMES=0",
        "AUTOTHROTTLE_ENABLED=False",
        "DOWNLOAD_DELAY=0",
        *extra,
    ]
    return [sys.executable, "-m", "scrapy", "crawl", "news", *(x for s in settings for x in ("-s", s))]


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [0.0, 1.2, 2.5, 4.0])
def test_sigkill_at_any_moment_then_rerun_stores_every_article_once(mirror_sources, tmp_path, kill_after):
    db = tmp_path / "crash.db"
    # slow enough to be caught mid-crawl: one request at a time per host, a small delay, one article per commit
    slow = command(
        mirror_sources, db, "DOWNLOAD_DELAY=0.15", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "MONITOR_BATCH_SIZE=1"
    )
    victim = subprocess.Popen(slow, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(kill_after)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    rerun = subprocess.run(
        command(mirror_sources, db), cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    urls = [u for (u,) in conn.execute("SELECT url FROM articles")]
    assert len(urls) == len(set(urls)) == EXPECTED
    assert_every_run_accounted(conn)


def assert_every_run_accounted(conn: sqlite3.Connection) -> None:
    """The killed run (when it got as far as recording itself) is marked interrupted by the rerun, with its
    outlets' counts as of its last batch: the runs' new articles add up to the rows stored."""
    runs = conn.execute("SELECT id, status, finished FROM crawl_runs ORDER BY id").fetchall()
    statuses = [status for _id, status, _finished in runs]
    assert statuses in (["finished"], ["interrupted", "finished"]), statuses
    assert all(finished for _id, _status, finished in runs)
    outlets = conn.execute("SELECT count(*) FROM sources").fetchone()[0]
    for run_id, _status, _finished in runs:
        rows = conn.execute("SELECT count(*) FROM run_sources WHERE run_id = ?", [run_id]).fetchone()[0]
        assert rows == outlets, f"run {run_id} has {rows} run_sources rows for {outlets} outlets"
    new = conn.execute("SELECT sum(new) FROM run_sources").fetchone()[0]
    assert new == conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    totals = conn.execute(
        "SELECT r.stored, (SELECT sum(stored) FROM run_sources s WHERE s.run_id = r.id) FROM crawl_runs r"
    ).fetchall()
    assert all(a == b for a, b in totals), totals
