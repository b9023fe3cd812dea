"""``monitor worker``, ``monitor seed`` and ``monitor writer``: the crawl on many machines over one Redis
(scrapy-redis), with one writer owning the archive (docs/operations.md, "Scale-out on scrapy-redis")."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from monitor.cli.common import EXIT_OK, EXIT_SOME_FAILED, fail
from monitor.cli.crawl import check_config, settings_pairs

REDIS_HELP = "The shared Redis, redis://HOST:PORT/N."


def _redis(url: str) -> None:
    """Refuse a bad or unreachable Redis in one line, exit 2."""
    try:
        from monitor.distributed.redis_url import RedisUnavailable, connect
    except ImportError as exc:  # scrapy-redis and redis are the optional extra [distributed]
        fail(f"{exc.name or 'redis'} is not installed: pip install 'pl-peace-monitor[distributed]'")
    try:
        connect(url).close()
    except RedisUnavailable as exc:
        fail(str(exc))


def _crawl(
    kind: str, redis: str, sources_file: str | None, source: str | None, pairs: tuple[str, ...]
) -> dict:
    from monitor.cli.settings_check import check_values

    check_config(sources_file, source, None)
    settings = settings_pairs(pairs)
    for problem in check_values(settings)[:1]:
        fail(problem)
    _redis(redis)
    from monitor.distributed.process import NotStarted, run_crawl

    try:
        return run_crawl(kind, redis, sources_file, source, settings)
    except NotStarted as exc:
        fail(str(exc))


@click.command()
@click.option("--redis", required=True, help=REDIS_HELP)
@click.option("--source", help="Only these outlets (comma-separated names from sources.toml).")
@click.option("--sources", "sources_file", help="Your own sources.toml (the same file on every machine).")
@click.option("-s", "--set", "pairs", multiple=True, help="Any Scrapy or MONITOR_* setting, NAME=VALUE.")
def worker(redis: str, source: str | None, sources_file: str | None, pairs: tuple[str, ...]) -> None:
    """Crawl from the shared queue until stopped (SIGTERM or Ctrl-C); items go to the writer through Redis.

    Run any number, on any machines. With -s MONITOR_WORKER_IDLE_EXIT=N a worker stops after N idle seconds
    (an empty queue and no request held by any worker), for a backfill.

    Exit status: 0 stopped, 1 stopped because Redis was lost, 2 could not start.
    """
    stats = _crawl("worker", redis, sources_file, source, pairs)
    from monitor.distributed.runs import REDIS_LOST

    if stats.get(REDIS_LOST):
        click.echo(f"error: {stats[REDIS_LOST]}", err=True)
        sys.exit(EXIT_SOME_FAILED)
    sys.exit(EXIT_OK)


@click.command()
@click.option("--redis", required=True, help=REDIS_HELP)
@click.option("--source", help="Only these outlets (comma-separated names from sources.toml).")
@click.option("--sources", "sources_file", help="Your own sources.toml (default: the packaged one).")
@click.option("-s", "--set", "pairs", multiple=True, help="Any Scrapy or MONITOR_* setting, NAME=VALUE.")
def seed(redis: str, source: str | None, sources_file: str | None, pairs: tuple[str, ...]) -> None:
    """Start a run: put the outlets' feeds, sitemaps and section pages on the shared queue (conditional on the
    validators of the last finished run), and re-queue the requests of expired leases. Schedule it like a crawl.

    Exit status: 0 seeded, 2 nothing could be seeded (configuration, Redis).
    """
    stats = _crawl("seed", redis, sources_file, source, pairs)
    from monitor.distributed.runs import REDIS_LOST
    from monitor.distributed.scheduler import SEED_RUN

    if stats.get(REDIS_LOST) or not stats.get(SEED_RUN):
        fail(stats.get(REDIS_LOST) or "the seed stopped before it started a run; see the log")
    queued = stats.get("scheduler/enqueued/redis", 0)
    click.echo(f"run {stats[SEED_RUN]}: {queued} request(s) on the queue")
    sys.exit(EXIT_OK)


@click.command()
@click.option("--redis", required=True, help=REDIS_HELP)
@click.option("--db", required=True, help="The SQLite archive this writer owns (a local disk, never NFS).")
@click.option("--rules", "rules_file", help="Your own rules file (default: the packaged one).")
@click.option("--batch", default=200, show_default=True, help="Messages stored per transaction, at most.")
@click.option("--reconnect", default=60.0, show_default=True, help="Seconds to wait for a lost Redis.")
@click.option(
    "--memory-days",
    default=30.0,
    show_default=True,
    help="URLs the workers' memory keeps: published this recently.",
)
@click.option(
    "--memory-max", default=1_000_000, show_default=True, help="URLs the workers' memory keeps, at most."
)
def writer(
    redis: str,
    db: str,
    rules_file: str | None,
    batch: int,
    reconnect: float,
    memory_days: float,
    memory_max: int,
) -> None:
    """Store what the workers send: classify, store, record runs, publish the archive's memory to Redis.

    One writer per archive: it holds the archive's run lock (<db>.lock) while it runs.

    Exit status: 0 stopped (SIGTERM or Ctrl-C), 1 Redis lost for longer than --reconnect, 2 could not start.
    """
    from monitor.archive import StorageError, check_writable
    from monitor.extensions.lock import LockError, LockFile, LockHeld
    from monitor.rules import RulesError, load_rules

    try:
        ruleset = load_rules(rules_file)
    except RulesError as exc:
        fail(str(exc))
    if batch < 1:
        fail(f"--batch must be at least 1, got {batch}")
    if memory_days <= 0 or memory_max < 1:
        fail("--memory-days and --memory-max must be positive")
    _redis(redis)
    try:
        check_writable(db)
    except StorageError as exc:
        fail(str(exc))
    lock = LockFile(Path(db).with_suffix(".lock"))
    try:
        lock.acquire()
    except (LockHeld, LockError) as exc:
        fail(f"{db}: {exc}; one writer per archive")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    from redis import RedisError

    from monitor.distributed.redis_url import connect
    from monitor.distributed.writer import open_writer

    try:
        process, storage = open_writer(
            connect(redis),
            db,
            ruleset,
            batch=batch,
            reconnect=reconnect,
            memory_days=memory_days,
            memory_most=memory_max,
        )
    except (StorageError, RedisError) as exc:
        lock.release()
        fail(str(exc))
    try:
        code = process.run()
    finally:
        storage.close()
        lock.release()
    sys.exit(code if code != 1 else EXIT_SOME_FAILED)


def register(group: click.Group) -> None:
    for command in (worker, seed, writer):
        group.add_command(command)
