"""Distributed crawls on a real Redis (issue #16): `monitor seed`, two `monitor worker`s and one `monitor writer`
over the loopback mirror, each a subprocess; Redis is a `redis-server` of the test's own on a free loopback port.

The helpers here are shared with tests/test_distributed_faults.py (kill -9 of a worker, of the writer, of Redis).
"""

from __future__ import annotations

import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from _env import MONITOR_ENV
from test_end_to_end import expected_pages, mirrored

ROOT = Path(__file__).resolve().parent.parent
MONITOR = [sys.executable, "-m", "monitor.cli"]
ENV = MONITOR_ENV  # the monitor's own settings: workers extract in their pools, as a user runs them
FAST = [
    "-s",
    "AUTOTHROTTLE_START_DELAY=0",
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "RETRY_TIMES=0",
    "-s",
    "MONITOR_LEASE_SECONDS=4",
]
needs_redis = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A `redis-server` on a free loopback port; with ``persist``, an append-only file in ``folder`` that a
    restart reads back."""

    def __init__(self, folder: Path, persist: bool = False):
        self.folder = folder
        self.persist = persist
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        persistence = (
            ["--appendonly", "yes", "--appendfsync", "always"] if self.persist else ["--appendonly", "no"]
        )
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                str(self.folder),
            ]
            + persistence,
            stdout=(self.folder / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        import redis

        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def client(self):  # noqa: ANN201 - a redis.Redis
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)


@contextmanager
def redis_server(folder: Path, persist: bool = False) -> Iterator[RedisServer]:
    server = RedisServer(folder, persist)
    server.start()
    try:
        yield server
    finally:
        server.kill()


class Fleet:
    """Seeds, workers and a writer for one archive, as subprocesses logging to files in ``folder``."""

    def __init__(self, redis: RedisServer, sources: Path, db: Path, folder: Path):
        self.redis, self.sources, self.db, self.folder = redis, sources, db, folder
        self.procs: list[subprocess.Popen[str]] = []
        self.count = 0

    def start(self, name: str, *args: str) -> subprocess.Popen[str]:
        self.count += 1
        log = (self.folder / f"{self.count:02d}-{name}.log").open("w")
        proc = subprocess.Popen(
            [*MONITOR, *args], cwd=ROOT, env=ENV, stdout=log, stderr=subprocess.STDOUT, text=True
        )
        proc.log_path = Path(log.name)  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def writer(self, *extra: str) -> subprocess.Popen[str]:
        return self.start("writer", "writer", "--redis", self.redis.url, "--db", str(self.db), *extra)

    def worker(self, *extra: str) -> subprocess.Popen[str]:
        return self.start(
            "worker", "worker", "--redis", self.redis.url, "--sources", str(self.sources), *FAST, *extra
        )

    def seed(self) -> str:
        result = subprocess.run(
            [*MONITOR, "seed", "--redis", self.redis.url, "--sources", str(self.sources), *FAST],
            cwd=ROOT,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = [p for p in self.procs if p.returncode is None]


def log_of(proc: subprocess.Popen[str]) -> str:
    return proc.log_path.read_text(encoding="utf-8", errors="replace")  # type: ignore[attr-defined]


def query(db: Path, sql: str, *args: object) -> list[sqlite3.Row]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    except sqlite3.OperationalError:  # the writer has not created the tables yet
        return []
    finally:
        conn.close()


def wait_for(condition, timeout: float = 180, what: str = "the run to finish", procs=()) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    logs = "\n".join(log_of(p)[-2000:] for p in procs)
    raise AssertionError(f"timed out waiting for {what}\n{logs}")


def finished_runs(db: Path) -> int:
    return len(query(db, "SELECT id FROM crawl_runs WHERE status = 'finished'"))


def expected_articles(hosts: dict[str, str]) -> set[str]:
    return {mirrored(url, hosts) for _outlet, url, expect in expected_pages() if expect.get("article")}


def stored_urls(db: Path) -> list[str]:
    return [row["url"] for row in query(db, "SELECT url FROM articles")]


@pytest.fixture(scope="module")
def distributed(mirror, tmp_path_factory) -> Iterator[tuple[Fleet, dict[str, str]]]:
    """Two runs of two workers and a writer over the mirror: (the fleet, host → base URL)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    hosts, sources = mirror
    folder = tmp_path_factory.mktemp("distributed")
    with redis_server(folder / "redis") as redis:
        fleet = Fleet(redis, sources, folder / "archive.db", folder)
        try:
            writer = fleet.writer()
            for run in (1, 2):
                fleet.seed()
                workers = [fleet.worker(), fleet.worker()]
                wait_for(lambda run=run: finished_runs(fleet.db) >= run, procs=[writer, *workers])
                for proc in workers:
                    proc.send_signal(signal.SIGTERM)
                for proc in workers:
                    assert proc.wait(timeout=60) == 0, log_of(proc)[-3000:]
            yield fleet, hosts
        finally:
            fleet.stop()


def test_bad_redis_is_one_line_and_exit_2(tmp_path):
    port = free_port()  # nothing listens there
    for url, named in (
        (f"redis://127.0.0.1:{port}/0", "cannot reach Redis"),
        ("http://127.0.0.1/0", "not a Redis URL"),
    ):
        for command in (["worker"], ["seed"], ["writer", "--db", str(tmp_path / "a.db")]):
            result = subprocess.run(
                [*MONITOR, *command, "--redis", url],
                cwd=ROOT,
                env=ENV,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert result.returncode == 2, (command, result.stderr)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and url in lines[0] and named in lines[0], (command, result.stderr)
    assert not (tmp_path / "a.db").exists()


@pytest.mark.slow
@needs_redis
def test_two_workers_store_every_article_exactly_once(distributed):
    fleet, hosts = distributed
    urls = stored_urls(fleet.db)
    assert len(urls) == len(set(urls))
    assert set(urls) == expected_articles(hosts)
    first = query(fleet.db, "SELECT * FROM crawl_runs ORDER BY id")[0]
    assert first["status"] == "finished" and first["stored"] == len(urls)
    rows = query(fleet.db, "SELECT * FROM run_sources WHERE run_id = ?", first["id"])
    assert sum(r["new"] for r in rows) == len(urls)
    assert {r["source"] for r in rows} == {name for name, _url, _expect in expected_pages()}
    for row in rows:  # what a local crawl records: every discovered article has exactly one outcome
        outcomes = row["new"] + row["updated"] + row["unchanged"] + row["skipped"] + row["failed"]
        assert row["discovered"] == outcomes, dict(row)
        assert row["discovered"] >= row["fetched"] >= row["stored"] >= row["flagged"], dict(row)
    assert (
        sum(r["failed"] + r["feeds_failed"] for r in rows) >= 4
    )  # 404, 500, truncated and unreachable feeds
    assert query(fleet.db, "SELECT count(*) AS n FROM peace_talks")[0]["n"] >= 1


@needs_redis
def test_the_second_run_fetches_no_unchanged_article(distributed):
    fleet, _hosts = distributed
    runs = query(fleet.db, "SELECT * FROM crawl_runs ORDER BY id")
    assert [r["status"] for r in runs] == ["finished", "finished"]
    second = query(fleet.db, "SELECT * FROM run_sources WHERE run_id = ?", runs[1]["id"])
    assert sum(r["fetched"] for r in second) == 0
    first = {
        r["source"]: r for r in query(fleet.db, "SELECT * FROM run_sources WHERE run_id = ?", runs[0]["id"])
    }
    for row in second:  # every article is known (unchanged) but those that failed (404) and are asked again
        assert row["discovered"] == first[row["source"]]["discovered"], dict(row)
        assert row["unchanged"] + row["failed"] == row["discovered"], dict(row)
    assert sum(r["unchanged"] for r in second) >= runs[0]["stored"]


@needs_redis
def test_source_health_report_and_atom_read_the_distributed_runs(distributed):
    fleet, _hosts = distributed
    health = {r["outlet"]: r for r in query(fleet.db, "SELECT * FROM source_health")}
    assert {name for name, _url, _expect in expected_pages()} <= set(health)
    assert all(row["runs"] == 2 and row["stored_per_run"] for row in health.values()), health
    for command in (["report", "--db", str(fleet.db)], ["export", "atom", "--db", str(fleet.db)]):
        result = subprocess.run(
            [*MONITOR, *command], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, (command, result.stderr)
        assert "Kushner" in result.stdout, (command, result.stdout[-2000:])


@needs_redis
def test_garbage_on_the_item_stream_is_dead_lettered_in_one_line_each(tmp_path):
    garbage = [
        {"x": "no message field"},
        {"m": "not JSON {"},
        {"m": '["a list"]'},
        {"m": '{"kind": "nonsense", "run": "1"}'},
        {"m": '{"kind": "article", "run": "1", "source": "a", "article": {"url": "http://a/1"}}'},
        {"m": '{"kind": "counts", "run": "1", "counts": {"a": {"stored": "many"}}}'},
        {"m": b"\xff\xfe\x00"},
    ]
    page = '{"kind": "page", "run": "1", "source": "a", "key": "http://a/video", "reason": "video", "announced": null}'
    with redis_server(tmp_path / "redis") as redis:
        client = redis.client()
        for fields in garbage:
            client.xadd("monitor:items", fields)
        client.xadd("monitor:items", {"m": page})
        fleet = Fleet(redis, tmp_path / "none.toml", tmp_path / "archive.db", tmp_path)
        writer = fleet.writer()
        try:
            wait_for(
                lambda: query(fleet.db, "SELECT url FROM non_articles"),
                60,
                "the good message",
                procs=[writer],
            )
            wait_for(lambda: client.xlen("monitor:items:dead") == len(garbage), 30, "dead letters", [writer])
            assert writer.poll() is None
            assert client.xlen("monitor:items") == 0  # every message acknowledged and deleted
            (run,) = query(fleet.db, "SELECT * FROM crawl_runs")
            assert run["status"] == "running"  # no seed said run 1 was seeded: it is not finished by guess
            # a later run that is seeded and done finishes, and run 1, never seeded, is recorded as interrupted
            started = '"started": "2026-01-14T10:00:00+00:00"'
            client.xadd(
                "monitor:items",
                {"m": '{"kind": "run", "run": "2", "outlets": [{"name": "a"}], ' + started + "}"},
            )
            client.xadd("monitor:items", {"m": '{"kind": "seeded", "run": "2"}'})
            wait_for(
                lambda: (
                    [r["status"] for r in query(fleet.db, "SELECT status FROM crawl_runs ORDER BY id")]
                    == ["interrupted", "finished"]
                ),
                30,
                "the runs' ends",
                [writer],
            )
        finally:
            fleet.stop()
        assert writer.returncode == 0
        log = log_of(writer)
        assert "Traceback" not in log
        assert log.count("cannot be used") == len(garbage), log
        reasons = [entry[1][b"reason"].decode() for entry in client.xrange("monitor:items:dead")]
        assert any("not JSON" in r for r in reasons) and any("unknown kind" in r for r in reasons), reasons
        assert any("article lacks" in r for r in reasons), reasons


@needs_redis
def test_a_second_writer_on_one_archive_says_who_holds_it(tmp_path):
    with redis_server(tmp_path / "redis") as redis:
        fleet = Fleet(redis, tmp_path / "none.toml", tmp_path / "archive.db", tmp_path)
        first = fleet.writer()
        try:
            wait_for(lambda: "published the archive's memory" in log_of(first), 60, "the writer", [first])
            second = subprocess.run(
                [*MONITOR, "writer", "--redis", redis.url, "--db", str(fleet.db)],
                cwd=ROOT,
                env=ENV,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert second.returncode == 2
            lines = second.stderr.strip().splitlines()
            assert len(lines) == 1 and f"PID {first.pid}" in lines[0] and str(fleet.db) in lines[0], lines
            assert first.poll() is None
        finally:
            fleet.stop()


def test_bad_writer_options_are_one_line_and_exit_2(tmp_path):
    for options, named in (
        (["--batch", "0"], "--batch"),
        (["--memory-days", "0"], "--memory-days"),
        (["--rules", str(tmp_path / "missing.toml")], "missing.toml"),
    ):
        result = subprocess.run(
            [
                *MONITOR,
                "writer",
                "--redis",
                "redis://127.0.0.1:1/0",
                "--db",
                str(tmp_path / "a.db"),
                *options,
            ],
            cwd=ROOT,
            env=ENV,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and named in lines[0], result.stderr
