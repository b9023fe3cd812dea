"""Unattended operation: the run lock, `monitor crawl` under cron, and `monitor schedule`."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _env import ENV

from monitor.cli.schedule import next_delay, parse_interval
from monitor.extensions.lock import LockHeld, run_lock

ROOT = Path(__file__).resolve().parent.parent
HOLD = "import sys, time; from monitor.extensions.lock import run_lock\nwith run_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)"


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("15m", 900), ("1h30m", 5400), ("2", 2), ("0.5s", 0.5)]
)
def test_intervals(text, seconds):
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "15 minutes", "0", "-5m", "m15"])
def test_bad_intervals_name_the_text(text):
    with pytest.raises(ValueError, match="interval"):
        parse_interval(text)


def test_delay_keeps_the_interval_between_starts():
    rng = random.Random(1)
    assert next_delay(900, 0, 100, rng) == 800
    assert next_delay(900, 0, 1000, rng) == 0
    delays = [next_delay(900, 60, 0, rng) for _ in range(200)]
    assert min(delays) >= 840 and max(delays) <= 960 and len(set(delays)) > 100


def hold_lock(path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_lock_keeps_a_second_run_out_and_a_killed_holder_leaves_no_stale_lock(tmp_path):
    path = tmp_path / "m.lock"
    holder = hold_lock(path)
    try:
        with pytest.raises(LockHeld, match=rf"PID {holder.pid}") as info, run_lock(path):
            pass
        assert "since 20" in str(info.value)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with run_lock(path) as me:  # the kernel released the dead run's lock
        assert me.pid == os.getpid()


def test_wait_gives_up_after_a_timeout(tmp_path):
    path = tmp_path / "m.lock"
    holder = hold_lock(path)
    try:
        started = time.monotonic()
        with pytest.raises(LockHeld), run_lock(path, wait=True, poll=0.1, timeout=0.5):
            pass
        assert time.monotonic() - started >= 0.5
    finally:
        holder.kill()
        holder.wait()


def test_crawl_prints_one_line_and_exits_0_while_another_run_holds_the_lock(tmp_path):
    db = tmp_path / "m.db"
    holder = hold_lock(db.with_suffix(".lock"))
    try:
        result = subprocess.run(
            [sys.executable, "-m", "monitor.cli", "crawl", "--db", str(db)],
            cwd=ROOT,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 0
    assert result.stdout.strip().splitlines() == [
        f"another run holds the lock {db.with_suffix('.lock')} since {result.stdout.split('since ')[1].split(',')[0]}, PID {holder.pid}"
    ]
    assert not db.exists()


def dead_sources(tmp_path: Path) -> Path:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sources = tmp_path / "sources.toml"
    sources.write_text(
        f'[[outlet]]\nname = "x"\ndomains = ["127.0.0.1:{port}"]\nfeeds = ["http://127.0.0.1:{port}/f"]\narticle_pattern = "a"\n'
    )
    return sources


def test_schedule_survives_failing_runs(tmp_path):
    args = [
        "--every",
        "1s",
        "--jitter",
        "0",
        "--runs",
        "2",
        "--db",
        str(tmp_path / "m.db"),
        "--sources",
        str(dead_sources(tmp_path)),
        "-s",
        "RETRY_TIMES=0",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "schedule", *args],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("finished with exit status 2") == 2


def test_schedule_stops_cleanly_on_sigterm(tmp_path):
    args = [
        "--every",
        "1h",
        "--jitter",
        "0",
        "--db",
        str(tmp_path / "m.db"),
        "--sources",
        str(dead_sources(tmp_path)),
        "-s",
        "RETRY_TIMES=0",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "schedule", *args],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in proc.stdout:
        if "next run in" in line:
            break
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert "stopping" in proc.stdout.read()


def test_a_database_locked_by_another_writer_stops_the_run_with_one_line_and_keeps_its_rows(tmp_path):
    import sqlite3

    from monitor.archive import Storage

    db = tmp_path / "m.db"
    Storage(db).close()  # an existing archive
    before = sqlite3.connect(db).execute("SELECT count(*) FROM crawl_runs").fetchone()[0]
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer keeps the write lock
    try:
        args = [
            "crawl",
            "--db",
            str(db),
            "--sources",
            str(dead_sources(tmp_path)),
            "-s",
            "MONITOR_BUSY_TIMEOUT=0.5",
        ]
        result = subprocess.run(
            [sys.executable, "-m", "monitor.cli", *args],
            cwd=ROOT,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "locked by another writer" in lines[0] and "the run stopped" in lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM crawl_runs").fetchone()[0] == before


def test_a_broken_rules_file_refuses_the_run_before_it_touches_the_database(tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text("[ruleset\n")
    db = tmp_path / "m.db"
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "crawl", "--db", str(db), "--rules", str(rules)],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {rules}") and len(result.stderr.strip().splitlines()) == 1
    assert not db.exists()


def test_scrapy_crawl_honours_the_run_lock_and_writes_nothing(tmp_path):
    db = tmp_path / "m.db"
    holder = hold_lock(db.with_suffix(".lock"))
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "scrapy",
                "crawl",
                "news",
                "-s",
                f"MONITOR_DB={db}",
                "-s",
                f"MONITOR_SOURCES={dead_sources(tmp_path)}",
            ],
            cwd=ROOT,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 0
    assert f"not crawling: another run holds the lock {db.with_suffix('.lock')}" in result.stderr
    assert f"PID {holder.pid}" in result.stderr and "(lock_held)" in result.stderr
    assert "Traceback" not in result.stderr
    assert not db.exists()


def test_crawl_wait_runs_once_the_holder_lets_go(tmp_path):
    db = tmp_path / "m.db"
    lock = db.with_suffix(".lock")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD.replace("time.sleep(60)", "time.sleep(2)"), str(lock)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    args = [
        "crawl",
        "--db",
        str(db),
        "--sources",
        str(dead_sources(tmp_path)),
        "--wait",
        "-s",
        "RETRY_TIMES=0",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    holder.wait()
    assert result.returncode == 2  # it ran: its only outlet is unreachable
    assert "x: unreachable" in result.stderr
    import sqlite3

    assert sqlite3.connect(db).execute("SELECT status FROM crawl_runs").fetchall() == [("finished",)]
