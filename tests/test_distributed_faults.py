"""Processes of a distributed crawl dying mid-run (issue #16): a worker killed with SIGKILL while it holds leased
requests, the writer killed with SIGKILL and started again, Redis killed and restarted. Every time, every article
of the mirror ends up stored exactly once and the run finishes (a rerun, after Redis was lost)."""

from __future__ import annotations

import re
import signal
import time

import pytest
from test_distributed import (
    Fleet,
    expected_articles,
    finished_runs,
    log_of,
    needs_redis,
    query,
    redis_server,
    stored_urls,
    wait_for,
)

pytestmark = [needs_redis, pytest.mark.slow]
SLOW = [
    "-s",
    "DOWNLOAD_DELAY=0.4",
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=1",
]


def worker(fleet: Fleet, *extra: str):  # noqa: ANN201 - a Popen
    """A worker that extracts in its own process (``MONITOR_POOL_PROCESSES=1``): these tests are about what
    happens to runs, leases and the archive when processes die; the extraction pool's own faults are
    tests/test_pool.py's, and tests/test_distributed.py runs workers with their pools."""
    return fleet.worker("-s", "MONITOR_POOL_PROCESSES=1", *extra)


def articles(fleet: Fleet) -> int:
    return len(stored_urls(fleet.db))


def assert_every_article_once(fleet: Fleet, hosts: dict[str, str]) -> None:
    urls = stored_urls(fleet.db)
    assert len(urls) == len(set(urls))
    assert set(urls) == expected_articles(hosts)


def test_a_worker_killed_mid_crawl_loses_nothing(mirror, tmp_path):
    hosts, sources = mirror
    with redis_server(tmp_path / "redis") as redis:
        fleet = Fleet(redis, sources, tmp_path / "archive.db", tmp_path)
        try:
            writer = fleet.writer()
            fleet.seed()
            victim = worker(fleet, *SLOW)
            client = redis.client()
            wait_for(
                lambda: articles(fleet) >= 3 and client.hlen("news:leases") > 0,
                120,
                "the worker to be mid-crawl",
                [victim, writer],
            )
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            held = client.hlen("news:leases")  # the dead worker's requests, in its leases
            assert held > 0 and articles(fleet) < len(expected_articles(hosts))
            survivor = worker(fleet)
            wait_for(lambda: finished_runs(fleet.db) == 1, 180, "the run to finish", [survivor, writer])
            back = re.findall(r"(\d+) request\(s\) of expired leases", log_of(survivor))
            assert sum(map(int, back)) == held  # every one of them back on the queue
            assert client.hlen("news:leases") == 0 and client.zcard("news:requests") == 0
        finally:
            fleet.stop()
    assert_every_article_once(fleet, hosts)


def test_the_writer_killed_mid_run_and_restarted_loses_nothing(mirror, tmp_path):
    hosts, sources = mirror
    with redis_server(tmp_path / "redis") as redis:
        fleet = Fleet(redis, sources, tmp_path / "archive.db", tmp_path)
        try:
            writer = fleet.writer("--batch", "1")
            fleet.seed()
            workers = [worker(fleet, *SLOW), worker(fleet, *SLOW)]
            wait_for(lambda: articles(fleet) >= 4, 120, "articles", [writer, *workers])
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=10)
            assert articles(fleet) < len(expected_articles(hosts))
            time.sleep(2)  # the workers go on sending to the stream meanwhile
            restarted = fleet.writer()
            wait_for(lambda: finished_runs(fleet.db) == 1, 180, "the run to finish", [restarted, *workers])
            assert re.search(r"going on with open run\(s\) \d+", log_of(restarted))
            client = redis.client()
            assert (
                client.xlen("monitor:items") == 0
                and client.xpending("monitor:items", "writer")["pending"] == 0
            )
        finally:
            fleet.stop()
    assert_every_article_once(fleet, hosts)
    (run,) = query(fleet.db, "SELECT * FROM crawl_runs")  # one run, continued by the restarted writer
    assert run["status"] == "finished" and run["stored"] >= len(expected_articles(hosts))


def test_redis_restarted_mid_run_then_a_rerun_completes(mirror, tmp_path):
    hosts, sources = mirror
    with redis_server(tmp_path / "redis", persist=True) as redis:
        fleet = Fleet(redis, sources, tmp_path / "archive.db", tmp_path)
        try:
            writer = fleet.writer()
            fleet.seed()
            workers = [worker(fleet, *SLOW), worker(fleet, *SLOW)]
            wait_for(lambda: articles(fleet) >= 4, 120, "articles", [writer, *workers])
            redis.kill()
            for proc in workers:  # they stop cleanly: one line, exit 1
                assert proc.wait(timeout=60) == 1, log_of(proc)[-3000:]
                assert "lost Redis" in log_of(proc) and "Traceback" not in log_of(proc)
            redis.start()
            wait_for(lambda: "Redis is back" in log_of(writer), 60, "the writer to reconnect", [writer])
            assert writer.poll() is None
            stored_before = articles(fleet)
            fleet.seed()  # the rerun
            workers = [worker(fleet), worker(fleet)]
            wait_for(
                lambda: finished_runs(fleet.db) >= 1 and articles(fleet) == len(expected_articles(hosts)),
                180,
                "the rerun",
                [writer, *workers],
            )
            assert stored_before <= articles(fleet)
            assert "Traceback" not in log_of(writer)
        finally:
            fleet.stop()
    assert_every_article_once(fleet, hosts)


def test_an_archive_the_writer_cannot_write_stops_it_and_loses_nothing(tmp_path):
    import sqlite3

    page = '{"kind": "page", "run": "1", "source": "a", "key": "http://a/video", "reason": "video", "announced": null}'
    with redis_server(tmp_path / "redis") as redis:
        fleet = Fleet(redis, tmp_path / "none.toml", tmp_path / "archive.db", tmp_path)
        try:
            writer = fleet.writer()
            wait_for(lambda: "published the archive's memory" in log_of(writer), 60, "the writer", [writer])
            blocker = sqlite3.connect(fleet.db, timeout=1)
            blocker.execute("BEGIN EXCLUSIVE")  # another process holds the archive past the busy timeout
            redis.client().xadd("monitor:items", {"m": page})
            assert writer.wait(timeout=60) == 1
            blocker.rollback()
            blocker.close()
            lines = [line for line in log_of(writer).splitlines() if "stopping:" in line]
            assert len(lines) == 1 and str(fleet.db) in lines[0] and "Traceback" not in log_of(writer)
            assert not query(fleet.db, "SELECT url FROM non_articles")
            restarted = fleet.writer()  # the message waited on the stream
            wait_for(lambda: query(fleet.db, "SELECT url FROM non_articles"), 60, "the message", [restarted])
        finally:
            fleet.stop()


def test_redis_restarted_without_its_data_interrupts_the_run_and_a_rerun_completes(mirror, tmp_path):
    hosts, sources = mirror
    with redis_server(tmp_path / "redis") as redis:  # no persistence: a restart starts empty
        fleet = Fleet(redis, sources, tmp_path / "archive.db", tmp_path)
        try:
            writer = fleet.writer()
            fleet.seed()
            workers = [worker(fleet, *SLOW), worker(fleet, *SLOW)]
            wait_for(lambda: articles(fleet) >= 4, 120, "articles", [writer, *workers])
            redis.kill()
            for proc in workers:
                assert proc.wait(timeout=60) == 1, log_of(proc)[-3000:]
            redis.start()
            wait_for(lambda: "lost its queue" in log_of(writer), 60, "the writer to reconnect", [writer])
            assert [r["status"] for r in query(fleet.db, "SELECT status FROM crawl_runs")] == ["interrupted"]
            stored_before = articles(fleet)
            fleet.seed()  # the rerun: the memory the writer published again spares what was stored
            workers = [worker(fleet), worker(fleet)]
            wait_for(lambda: finished_runs(fleet.db) == 1, 180, "the rerun", [writer, *workers])
            rerun = query(fleet.db, "SELECT * FROM crawl_runs ORDER BY id")[1]
            assert rerun["status"] == "finished"
            assert (
                rerun["stored"] <= len(expected_articles(hosts)) - stored_before
            )  # stored ones not fetched again
        finally:
            fleet.stop()
    assert_every_article_once(fleet, hosts)
