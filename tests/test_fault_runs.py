"""Faults of the run itself (#13): two crawls at once, kill -9 at random moments, a full disk. Each case checks what
is stored, what each run recorded and what the command said."""

from __future__ import annotations

import json
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from _env import MONITOR_ENV
from _fault_helpers import (
    ENV,
    FAST,
    ROOT,
    adds_up,
    crawl,
    fault_server,
    outlet,
    own_lines,
    query,
    record,
    run_sources,
)

from monitor.devtools.faultserver import article_html


def site(count: int, delay: float = 0.0, first: int = 0, paragraphs: int = 12) -> dict:
    routes = {
        f"/a/{i}.html": {"body": article_html(f"Artykuł {i}", paragraphs=paragraphs), "delay": delay}
        for i in range(first, first + count)
    }
    items = "".join(f"<item><title>{i}</title><link>{{base}}{p}</link></item>" for i, p in enumerate(routes))
    routes["/feed.xml"] = {"body": f"<rss version='2.0'><channel>{items}</channel></rss>"}
    return {"sites": {"slow": {"routes": routes}}}


def settings(**extra: str) -> list[str]:
    return [x for key, value in {**FAST, **extra}.items() for x in ("-s", f"{key}={value}")]


def wait_for_lock(lock: Path, proc: subprocess.Popen, timeout: float = 60) -> int:
    """Wait until ``proc`` (a crawl) holds the run lock; the PID the lock file names then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the crawl ended before taking the lock"
        try:
            pid = int(json.loads(lock.read_text() or "{}")["pid"])
        except (OSError, ValueError, KeyError):
            pid = None
        if pid == proc.pid:
            return pid
        time.sleep(0.02)
    raise AssertionError("the lock was never taken")


def wait_for_run(db: Path, after: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until ``proc`` (a crawl) has recorded its run (a crawl_runs row after ``after``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return  # ended (or died) first: the caller's checks say what that means
        try:
            if db.exists() and query(db, "SELECT count(*) FROM crawl_runs WHERE id > ?", after)[0][0]:
                return
        except sqlite3.Error:
            pass  # the archive is being created
        time.sleep(0.02)
    raise AssertionError("the run was never recorded")


@pytest.mark.slow
def test_two_crawls_at_once_one_runs_the_others_say_who_holds_the_lock(tmp_path):
    # The first crawl's feed is held until the two others have ended, however slow the machine: the lock is
    # certainly held all the while they run. Its read timeout outlasts the hold.
    release = tmp_path / "release"
    spec = site(12)
    spec["sites"]["slow"]["routes"]["/feed.xml"]["hold"] = str(release)
    with fault_server(spec, tmp_path / "server") as server:
        sources = tmp_path / "sources.toml"
        sources.write_text(outlet("slow", server.bases["slow"], feeds=["/feed.xml"], concurrency=1))
        db = tmp_path / "m.db"
        first = subprocess.Popen(
            [*_monitor_crawl(db, sources, "-s", "DOWNLOAD_TIMEOUT=600")],
            cwd=ROOT,
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        pid = wait_for_lock(db.with_suffix(".lock"), first)
        beside = [
            subprocess.Popen(
                command, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for command in (
                [
                    sys.executable,
                    "-m",
                    "scrapy",
                    "crawl",
                    "news",
                    "-s",
                    f"MONITOR_DB={db}",
                    "-s",
                    f"MONITOR_SOURCES={sources}",
                ],
                _monitor_crawl(db, sources),
            )
        ]
        scrapy, second = (subprocess.CompletedProcess(p.args, p.wait(120), *p.communicate()) for p in beside)
        assert first.poll() is None, "the first crawl must still be running"
        release.touch()
        out, err = first.communicate(timeout=120)
        requests = [r["path"] for r in server.requests() if r["path"].startswith("/a/")]
    assert first.returncode == 0, err
    assert pid == first.pid
    assert scrapy.returncode == 0 and "not crawling: another run holds the lock" in scrapy.stderr
    assert second.returncode == 0 and second.stdout.strip().startswith("another run holds the lock")
    assert f"PID {first.pid}" in second.stdout and len(second.stdout.strip().splitlines()) == 1
    assert query(db, "SELECT status FROM crawl_runs") == [("finished",)]
    assert query(db, "SELECT count(*) FROM articles") == [(12,)]
    assert sorted(requests) == sorted(set(requests)) and len(requests) == 12  # each article fetched once
    record(
        "two crawls at once (monitor crawl running; scrapy crawl news and monitor crawl started beside it)",
        "one crawl runs; the others say who holds the lock, exit 0 and write nothing",
        f"exits {first.returncode}/{scrapy.returncode}/{second.returncode}; 1 run recorded; each article fetched once",
        stored=12,
        expected_rows=12,
    )


def count_rows(db: Path) -> int:
    """Articles stored; a crawl killed while it was creating the archive leaves a file with no tables yet."""
    if not db.exists() or not query(db, "SELECT 1 FROM sqlite_master WHERE name = 'articles'"):
        return 0
    return query(db, "SELECT count(*) FROM articles")[0][0]


def _monitor_crawl(db: Path, sources: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "monitor.cli",
        "crawl",
        "--db",
        str(db),
        "--sources",
        str(sources),
        *settings(),
        *extra,
    ]


KILLS = 10
PER_ROUND = 24
DELAY = 0.2  # seconds per article page: a round's crawl takes about 4 s


@pytest.mark.slow
def test_kill_9_at_ten_random_moments_loses_nothing_and_accounts_for_every_run(tmp_path):
    """Each round publishes new articles, starts a crawl, kills it with SIGKILL at a random moment, then runs
    the next crawl to the end: nothing lost, nothing twice, every run recorded, integrity ok."""
    rng = random.Random(13)
    moments = sorted(round(rng.uniform(0.0, 2.5), 2) for _ in range(KILLS))  # seconds after the lock
    db = tmp_path / "m.db"
    stored_by_killed = []
    killed = 0  # crawls that were still running when the signal came
    with fault_server(site(PER_ROUND, delay=DELAY), tmp_path / "server") as server:
        sources = tmp_path / "sources.toml"
        sources.write_text(outlet("slow", server.bases["slow"], feeds=["/feed.xml"], concurrency=2))
        # The reruns fetch the same outlet 8 pages at a time and extract in their own process: only the victims
        # need to be slow. Every other victim runs with the default extraction pool (its workers die with it);
        # the others extract in their own process, as the tests' crawls do (a pool costs a crawl about 1 s of CPU).
        rerun_sources = tmp_path / "rerun.toml"
        rerun_sources.write_text(outlet("slow", server.bases["slow"], feeds=["/feed.xml"], concurrency=8))
        extra = ["-s", "MONITOR_BATCH_SIZE=3", "-s", "MONITOR_PROGRESS_INTERVAL=0.3"]
        for round_ in range(KILLS):
            server.update(site(PER_ROUND * (round_ + 1), delay=DELAY))
            before = count_rows(db)
            last_run = query(db, "SELECT coalesce(max(id), 0) FROM crawl_runs")[0][0] if db.exists() else 0
            victim = subprocess.Popen(
                _monitor_crawl(db, sources, *extra),
                cwd=ROOT,
                env=ENV if round_ % 2 else MONITOR_ENV,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            wait_for_lock(db.with_suffix(".lock"), victim)  # the crawl has started (not Python importing)
            if round_ % 2:  # every other signal after the run is recorded, however slow the machine is today
                wait_for_run(db, last_run, victim)
            time.sleep(moments[round_])
            victim.send_signal(signal.SIGKILL)
            killed += victim.wait() == -signal.SIGKILL
            stored = count_rows(db) - before
            # The rerun must fetch everything: a page slowed by a loaded machine is not what this test is about.
            rerun = crawl(
                db,
                rerun_sources,
                settings={"MONITOR_BATCH_SIZE": "3", "DOWNLOAD_TIMEOUT": "60", "MONITOR_POOL_PROCESSES": "1"},
            )
            assert rerun.returncode == 0, rerun.stderr[-2000:]
            expected = PER_ROUND * (round_ + 1)
            assert query(db, "SELECT count(*), count(DISTINCT url) FROM articles") == [(expected, expected)]
            assert query(db, "PRAGMA integrity_check") == [("ok",)]
            victims = query(db, "SELECT id, status FROM crawl_runs WHERE id > ? ORDER BY id", last_run)[:-1]
            if not victims:  # killed before it recorded its start: it stored nothing
                assert stored == 0
                continue
            ((run_id, status),) = victims
            assert status in ("interrupted", "finished")
            row = run_sources(db, str(run_id))["slow"]
            assert row["new"] == row["stored"] == stored, (row, stored)  # its counts are what it stored
            stored_by_killed.append(stored)
    runs = query(db, "SELECT id, status, stored FROM crawl_runs ORDER BY id")
    statuses = [status for _id, status, _stored in runs]
    assert killed >= KILLS - 2, "most signals must land while the crawl runs"
    assert "running" not in statuses and statuses.count("finished") >= KILLS
    interrupted = [run_id for run_id, status, _stored in runs if status == "interrupted"]
    assert len(interrupted) >= KILLS // 2, statuses  # most signals came after the run had recorded its start
    assert query(db, "SELECT sum(new) FROM run_sources") == [(PER_ROUND * KILLS,)]
    record(
        f"kill -9 at {KILLS} random moments ({moments[0]}–{moments[-1]} s into the run), each followed by a rerun",
        "nothing lost, nothing twice, integrity ok, every run accounted",
        f"{len(interrupted)} runs interrupted (they had stored {sum(stored_by_killed)}), "
        f"{statuses.count('finished')} finished, "
        f"none left running; rows {PER_ROUND * KILLS}, distinct URLs {PER_ROUND * KILLS}; integrity ok",
        stored=PER_ROUND * KILLS,
        expected_rows=PER_ROUND * KILLS,
    )


LIMIT = 3_000_000  # bytes a file may grow to: room for the schema on 16 kB pages and a few batches


def _limit_file_size(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.slow
def test_a_full_disk_stops_the_run_with_one_line_and_keeps_what_was_stored(tmp_path):
    """The disk fills up mid-run (a file size limit stands in for it): one line, exit 2, the batches stored
    before are kept, and the next run with room stores the rest and marks the stopped run."""
    count = 60
    with fault_server(site(count, paragraphs=80), tmp_path / "server") as server:
        sources = tmp_path / "sources.toml"
        sources.write_text(outlet("slow", server.bases["slow"], feeds=["/feed.xml"]))
        db = tmp_path / "m.db"
        full = subprocess.run(
            _monitor_crawl(db, sources, "-s", "MONITOR_BATCH_SIZE=5", "-s", "LOG_FILE=/dev/null"),
            cwd=ROOT,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=_limit_file_size(LIMIT),
        )
        assert full.returncode == 2, full.stdout + full.stderr
        (line,) = own_lines(full.stderr)
        assert line.startswith(f"error: the run stopped: {db}: write failed: ")
        assert line.endswith("; everything stored before is kept")
        assert "database or disk is full" in line or "disk I/O error (is the disk full?)" in line
        assert full.stdout == ""
        kept = query(db, "SELECT count(*) FROM articles")[0][0]
        assert 0 < kept < count and kept % 5 == 0  # whole batches
        assert query(db, "PRAGMA integrity_check") == [("ok",)]
        rerun = crawl(db, sources)
    assert rerun.returncode == 0, rerun.stderr
    assert query(db, "SELECT count(*), count(DISTINCT url) FROM articles") == [(count, count)]
    statuses = [s for (s,) in query(db, "SELECT status FROM crawl_runs ORDER BY id")]
    assert statuses[-1] == "finished"
    assert statuses[0] == "interrupted" or statuses[0].startswith("storage_error: "), statuses
    assert adds_up(run_sources(db)["slow"])
    record(
        f"the disk fills up mid-run (a {LIMIT // 1000} kB file size limit)",
        "one line, exit 2, whole batches kept; the next run stores the rest",
        f"exit {full.returncode}: {line}; {kept} of {count} kept, integrity ok; rerun: {count}",
        stored=kept,
        expected_rows=kept,
    )
