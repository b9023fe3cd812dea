"""The archive's memory for workers that cannot open it: the writer publishes it to Redis, workers read it.

The writer publishes, after each commit, the canonical URLs it stored (articles with their newest time, pages that
are not articles with the time they were seen), what discovery announced for each, and, when a run finishes, the
feed validators of that run; at its start it publishes what the archive holds from the last
``MONITOR_REDIS_MEMORY_DAYS`` (default 30) days, so a Redis that lost its data is filled again. The memory is
bounded: URLs not published again for that many days are dropped, and at most ``MONITOR_REDIS_MEMORY_MAX``
(default 1,000,000) URLs are kept, the most recently published. A URL the memory has dropped is fetched again if a
feed still lists it, and stored as unchanged: a bound costs a fetch, never an article.

:class:`RedisRecall` is the crawl's memory (``MONITOR_RECALL``, see :class:`monitor.archive.memory.Recall` for the
contract) read from there.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from typing import Any

import redis

from monitor.archive import StorageError
from monitor.discovery.memory import FeedState, Memory
from monitor.distributed import redis_url as names

KNOWN = "monitor:memory:known"  # hash: canonical URL → newest time stored ("" = none)
ANNOUNCED = (
    "monitor:memory:announced"  # hash: canonical URL → time discovery announced when fetched ("" = none)
)
FEEDS = "monitor:memory:feeds"  # hash: feed URL → JSON [ETag, Last-Modified]
AGE = "monitor:memory:age"  # sorted set: canonical URL → when it was last published (seconds)
CHUNK = 1000
DAYS = 30
MOST = 1_000_000


def _value(text: str | None) -> str:
    return text or ""


def _time(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    text = value.decode("utf-8") if isinstance(value, bytes) else value
    return text or None


def publish(
    client: redis.Redis,
    known: Mapping[str, str | None] | None = None,
    announced: Mapping[str, str | None] | None = None,
    feeds: Iterable[FeedState] = (),
) -> None:
    """Add what the archive now remembers (in chunks, one round trip each)."""
    now = time.time()
    known, announced = dict(known or {}), dict(announced or {})
    urls = sorted(set(known) | set(announced))
    for start in range(0, max(len(urls), 1), CHUNK):
        chunk = urls[start : start + CHUNK]
        if not chunk:
            break
        pipe = client.pipeline(transaction=False)
        stored = {url: _value(known[url]) for url in chunk if url in known}
        told = {url: _value(announced[url]) for url in chunk if url in announced}
        if stored:
            pipe.hset(KNOWN, mapping=stored)  # type: ignore[arg-type]
        if told:
            pipe.hset(ANNOUNCED, mapping=told)  # type: ignore[arg-type]
        pipe.zadd(AGE, dict.fromkeys(chunk, now))
        pipe.execute()
    states = {s.url: json.dumps([s.etag, s.last_modified]) for s in feeds}
    if states:
        client.hset(FEEDS, mapping=states)  # type: ignore[arg-type]


def trim(client: redis.Redis, days: float = DAYS, most: int = MOST) -> int:
    """Drop URLs not published for ``days`` days, then the oldest beyond ``most``; how many were dropped."""
    dropped = 0
    cutoff = time.time() - days * 86400
    while True:
        old = client.zrangebyscore(AGE, "-inf", cutoff, start=0, num=CHUNK)
        over = max(0, int(client.zcard(AGE)) - most)
        if not old and over:
            old = client.zrange(AGE, 0, min(over, CHUNK) - 1)
        if not old:
            return dropped
        pipe = client.pipeline(transaction=True)
        pipe.hdel(KNOWN, *old)
        pipe.hdel(ANNOUNCED, *old)
        pipe.zrem(AGE, *old)
        pipe.execute()
        dropped += len(old)


class RedisRecall:
    """The crawl's memory read from what the writer published in Redis (``REDIS_URL``): a worker's
    ``MONITOR_RECALL``. Each call is one round trip; a Redis error is a :class:`StorageError` naming Redis."""

    def __init__(self, client: redis.Redis, url: str, crawler: Any = None):
        self.client = client
        self.url = url
        self.crawler = crawler
        self.stats = crawler.stats if crawler is not None else None

    @classmethod
    def from_crawler(cls, crawler: Any) -> RedisRecall:
        url = crawler.settings.get("REDIS_URL")
        try:
            client = names.connect(url)
        except names.RedisUnavailable as exc:
            raise StorageError(str(exc)) from exc
        return cls(client, url, crawler)

    def _fail(self, exc: redis.RedisError) -> StorageError:
        if self.crawler is not None:
            from monitor.distributed.scheduler import stop_for_redis

            stop_for_redis(self.crawler, exc)
        return StorageError(f"{names.shown(self.url)}: cannot read the crawl's memory: {names.describe(exc)}")

    def recall(self, keys: Iterable[str]) -> Memory:
        wanted = sorted(set(keys))
        if not wanted:
            return Memory()
        try:
            pipe = self.client.pipeline(transaction=False)
            pipe.hmget(KNOWN, wanted)
            pipe.hmget(ANNOUNCED, wanted)
            stored, told = pipe.execute()
        except redis.RedisError as exc:
            raise self._fail(exc) from exc
        if self.stats is not None:
            self.stats.inc_value("monitor/recall/queries")
            self.stats.inc_value("monitor/recall/urls", len(wanted))
        return Memory(
            known={url: _time(v) for url, v in zip(wanted, stored, strict=True) if v is not None},
            announced={url: _time(v) for url, v in zip(wanted, told, strict=True) if v is not None},
        )

    def feed(self, url: str) -> FeedState | None:
        try:
            raw = self.client.hget(FEEDS, url)
        except redis.RedisError as exc:
            raise self._fail(exc) from exc
        if raw is None:
            return None
        try:
            etag, modified = json.loads(raw)
        except (ValueError, TypeError):
            return None  # not ours: the feed is read in full
        return FeedState(url, etag, modified)

    def close(self) -> None:
        self.client.close()
