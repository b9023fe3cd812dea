"""The Redis names shared by seeds, workers and the writer, and opening a connection with a one-line error."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis

SPIDER = "news"
QUEUE = f"{SPIDER}:requests"  # scrapy-redis's priority queue (SCHEDULER_QUEUE_KEY's default for the spider)
DUPEFILTER = f"{SPIDER}:dupefilter"  # scrapy-redis's duplicate filter
LEASES = f"{SPIDER}:leases"  # hash: lease id → the serialised request a worker is handling
LEASE_SCORES = f"{SPIDER}:leases:score"  # hash: lease id → its score in the queue (priority), to put it back
LEASE_EXPIRY = f"{SPIDER}:leases:expiry"  # sorted set: lease id → when it expires (Redis clock, seconds)
BAD_REQUESTS = f"{SPIDER}:requests:dead"  # list: queue entries that could not be read back, kept for a person
ITEMS = "monitor:items"  # stream of items, counters and run events, from seeds and workers to the writer
GROUP = "writer"  # the stream's consumer group; its one consumer is the writer
DEAD = "monitor:items:dead"  # stream: messages the writer could not read, with why
RUN_NEXT = "monitor:run:next"  # counter: the id of the last run a seed started (from the first seed's clock)
RUN_PREFIX = "monitor:run:"  # monitor:run:<id> hash (started, outlets, seeded, db_run, finished)
WRITER = "monitor:writer"  # who writes (host, PID, database), while a writer runs
PROGRESS_INTERVAL = 1.0  # seconds between a worker's messages of counters


class RedisUnavailable(RuntimeError):
    """Redis cannot be used (a bad URL, no server, a lost connection); the message is one line naming it."""


def shown(url: str) -> str:
    """The URL as it may be printed: without its password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def client_options(timeout: float = 10.0) -> dict[str, Any]:
    """Timeouts for every connection (scrapy-redis's own default waits 30 s on a dead server)."""
    return {"socket_timeout": timeout, "socket_connect_timeout": timeout, "health_check_interval": 30}


def connect(url: str, timeout: float = 10.0, check: bool = True) -> redis.Redis:
    """A client for ``url`` (``redis://HOST:PORT/N``), answering a PING unless ``check`` is false.

    Raises :class:`RedisUnavailable` with one line naming the URL."""
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise RedisUnavailable(f"{shown(url)}: not a Redis URL (expected redis://HOST:PORT/N)")
    try:
        client = redis.Redis.from_url(url, **client_options(timeout))
    except ValueError as exc:
        raise RedisUnavailable(f"{shown(url)}: not a Redis URL: {' '.join(str(exc).split())}") from exc
    if check:
        try:
            client.ping()
        except redis.RedisError as exc:
            raise RedisUnavailable(f"{shown(url)}: cannot reach Redis: {describe(exc)}") from exc
    return client


def describe(exc: BaseException) -> str:
    """One line for a Redis error."""
    return " ".join(str(exc).split()) or type(exc).__name__


def run_key(run: str | int) -> str:
    return f"{RUN_PREFIX}{run}"


def run_articles_key(run: str | int) -> str:
    """Set of the canonical URLs a run has put on the queue (a URL is requested once per run)."""
    return f"{RUN_PREFIX}{run}:articles"
