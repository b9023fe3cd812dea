"""scrapy-redis's scheduler (its queue, its serialisation, its duplicate filter), with the two things a crawl
of many workers needs besides:

- a **lease** on each request taken from the queue (:mod:`monitor.distributed.lease`), released once Scrapy is
  done with the request, renewed while it works on it, and put back on the queue when its worker dies;
- **one request per article and run** across workers: the spider asks for each canonical URL once per run in its
  own process; here an article request is queued only if no worker queued the same URL for the same run (one
  Redis script adds the URL to the run's set and queues the request). The worker that finds it taken does not
  count it as discovered again.

A lost Redis stops the worker cleanly (finish reason ``redis_lost``): what it stored is stored, what it held
goes back on the queue when its leases expire (if Redis kept the queue), and the next seed starts afresh.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.utils.asyncio import AsyncioLoopingCall, create_looping_call
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall

from monitor.distributed import redis_url as names
from monitor.distributed.lease import Leases
from monitor.distributed.runs import LEASE, REDIS_LOST, RUN, RunStats, current_run, run_of

logger = logging.getLogger(__name__)
SEED_RUN = "monitor/seed_run"  # stats: the run a seed is putting on the queue


def requeued(back: int) -> None:
    if back:
        logger.warning("%d request(s) of expired leases (a worker died) are back on the queue", back)


def stop_for_redis(crawler: Crawler, exc: Exception) -> None:
    """Redis cannot be used: stop the crawl, once, with one line naming why. From then on nothing more is
    released or sent: what the crawl held goes back on the queue when its leases expire."""
    stats = crawler.stats
    if stats is None or stats.get_value(REDIS_LOST):
        return
    message = f"lost Redis: {names.describe(exc)}"
    logger.error("stopping: %s", message)
    stats.set_value(REDIS_LOST, message)
    engine = crawler.engine
    if engine is not None and engine.spider is not None:
        deferred_from_coro(engine.close_spider_async(reason="redis_lost"))


class LeasedScheduler(Scheduler):  # type: ignore[misc]  # scrapy-redis ships no types
    crawler: Crawler
    leases: Leases
    held: dict[str, Request]
    ticker: AsyncioLoopingCall | LoopingCall | None
    run_days: int

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeasedScheduler:
        instance: LeasedScheduler = super().from_crawler(crawler)
        settings = crawler.settings
        instance.crawler = crawler
        instance.leases = Leases(instance.server, settings.getfloat("MONITOR_LEASE_SECONDS", 60.0))
        instance.run_days = settings.getint("MONITOR_REDIS_RUN_DAYS", 7)
        instance.held = {}
        instance.ticker = None
        return instance

    @property
    def lost(self) -> bool:
        return bool(self.stats.get_value(REDIS_LOST))

    def open(self, spider: Any) -> None:
        super().open(spider)
        spider.claim_for_run = self.claim  # asked for each discovered article the spider does not request
        try:
            back = self.leases.requeue_expired()
        except redis.RedisError as exc:
            self.redis_lost(exc)
            return
        requeued(back)
        self.ticker = create_looping_call(self.tick)
        self.ticker.start(min(1.0, self.leases.ttl / 3), now=False)

    # --- the queue ---------------------------------------------------------------------------------------
    def default_run(self) -> str | None:
        return current_run.get()

    def claim(self, key: str) -> bool:
        """Whether this worker is the first to find article ``key`` in the current run, for an article it will
        not request (already stored, unchanged): a URL two workers find on two pages of one outlet is counted
        once, as :meth:`enqueue_request` does for the articles it queues."""
        run = self.default_run()
        if run is None or self.lost:
            return True
        try:
            return self.leases.claim(names.run_articles_key(run), key, self.run_days * 86400)
        except redis.RedisError as exc:
            self.redis_lost(exc)
            return True

    def enqueue_request(self, request: Request) -> bool:
        if self.lost:
            return False
        run = run_of(request.meta) or self.default_run()
        if run is not None:
            request.meta[RUN] = run
        key = request.meta.get("key")
        try:
            if run is None or not key or LEASE in request.meta:  # a retry or redirect goes on as it is
                return bool(super().enqueue_request(request))
            data = self.queue._encode_request(request)
            keep = self.run_days * 86400
            if self.leases.push_once(names.run_articles_key(run), key, -request.priority, data, keep):
                self.stats.inc_value("scheduler/enqueued/redis")
                return True
        except redis.RedisError as exc:
            self.redis_lost(exc)
            return False
        source = request.cb_kwargs.get("source")
        if source and isinstance(self.stats, RunStats):  # another worker discovered and counted it
            self.stats.count(run, source, "discovered", -1)
        return False

    def next_request(self) -> Request | None:
        if self.lost:
            return None
        try:
            popped = self.leases.pop()
        except redis.RedisError as exc:
            self.redis_lost(exc)
            return None
        if popped is None:
            return None
        lease, data = popped
        try:
            request: Request = self.queue._decode_request(data)
        except Exception as exc:  # noqa: BLE001 - anything on the queue that is not a request of ours
            logger.error(
                "a request on the queue cannot be read (%s: %s); moved to %s",
                type(exc).__name__,
                " ".join(str(exc).split())[:200],
                names.BAD_REQUESTS,
            )
            self._quietly(lambda: self.server.rpush(names.BAD_REQUESTS, data))
            self._quietly(lambda: self.leases.release([lease]))
            return None
        request.meta[LEASE] = lease
        self.held[lease] = request
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self) -> bool:
        if self.lost:
            return False
        try:
            return len(self) > 0
        except redis.RedisError as exc:
            self.redis_lost(exc)
            return False

    # --- leases ------------------------------------------------------------------------------------------
    def in_progress(self) -> set[Request] | None:
        """The requests Scrapy's engine is working on (downloading, or handling the response or failure)."""
        slot = getattr(self.crawler.engine, "_slot", None)
        return getattr(slot, "inprogress", None)

    def tick(self) -> None:
        """Release the leases of requests Scrapy is done with, renew the others, re-queue expired ones, and
        wake the engine when the queue has work (its own heartbeat is 5 s)."""
        if self.lost:
            return
        working = self.in_progress()
        if working is None:
            return
        done = [lease for lease, request in self.held.items() if request not in working]
        try:
            self.leases.release(done)
            for lease in done:
                del self.held[lease]
            self.leases.renew(self.held)
            back = self.leases.requeue_expired()
            pending = self.has_pending_requests()
        except redis.RedisError as exc:
            self.redis_lost(exc)
            return
        requeued(back)
        slot = getattr(self.crawler.engine, "_slot", None)
        if pending and slot is not None:
            slot.nextcall.schedule()

    def close(self, reason: str) -> None:
        if self.ticker is not None and self.ticker.running:
            self.ticker.stop()
        if not self.lost and self.held:
            working = self.in_progress() or set()
            done = [lease for lease, request in self.held.items() if request not in working]
            unhandled = [lease for lease in self.held if lease not in done]
            self._quietly(lambda: self.leases.release(done))
            self._quietly(lambda: self.leases.requeue(unhandled))
        super().close(reason)

    # --- Redis lost --------------------------------------------------------------------------------------
    def redis_lost(self, exc: Exception) -> None:
        stop_for_redis(self.crawler, exc)

    def _quietly(self, call: Any) -> None:
        try:
            call()
        except redis.RedisError as exc:
            logger.warning("Redis: %s", names.describe(exc))


class SeedScheduler(LeasedScheduler):
    """``monitor seed``: the spider's start requests go on the shared queue, for the seed's run; the seed itself
    downloads nothing, and re-queues the requests of expired leases first."""

    def default_run(self) -> str | None:
        run = self.stats.get_value(SEED_RUN)
        return str(run) if run is not None else None

    def open(self, spider: Any) -> None:
        Scheduler.open(self, spider)
        try:
            back = self.leases.requeue_expired()
        except redis.RedisError as exc:
            self.redis_lost(exc)
            return
        requeued(back)

    def next_request(self) -> Request | None:
        return None

    def has_pending_requests(self) -> bool:
        return False
