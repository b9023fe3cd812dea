"""The worker's and the seed's Scrapy components, and the settings that put them in place of the local crawl's.

A worker runs :class:`WorkerSpider` (the ``news`` spider, unchanged but for what a long-lived process handling
many runs needs) with scrapy-redis's scheduler and duplicate filter (:mod:`monitor.distributed.scheduler`), sends
its items and counters to the writer through the item stream (:class:`RedisItems`, :class:`WorkerReport`), and
reads the archive's memory from Redis (:class:`monitor.distributed.memory.RedisRecall`). It has no database: the
run lock and the run recorder are off, the writer records runs.

A seed runs the plain ``news`` spider's ``start()`` with :class:`monitor.distributed.scheduler.SeedScheduler`: its
feed, sitemap and section requests go on the shared queue for a new run, announced by :class:`SeedReport`.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import redis
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DontCloseSpider, DropItem
from scrapy.utils.asyncio import AsyncioLoopingCall, create_looping_call
from twisted.internet.task import LoopingCall
from twisted.python.failure import Failure

from monitor import signals as monitor_signals
from monitor.discovery.memory import FeedState
from monitor.discovery.sources import SourcesError, load_sources
from monitor.distributed import redis_url as names
from monitor.distributed.messages import Message, article_message, page_message
from monitor.distributed.runs import KEPT_RUNS, REDIS_LOST, RunStats, current_run, run_of
from monitor.distributed.scheduler import SEED_RUN, stop_for_redis
from monitor.extensions.runs import OUTLETS
from monitor.items import ArticleItem, NonArticleItem
from spiders.news import NewsSpider

logger = logging.getLogger(__name__)
NO_RUN = "0"  # the run of an item whose request carried none (queued by hand): the writer records it as run 0


def _per_run(store: OrderedDict[str, Any], factory: type) -> Any:
    run = current_run.get() or NO_RUN
    if run not in store:
        store[run] = factory()
        while len(store) > KEPT_RUNS:
            store.popitem(last=False)
    return store[run]


class WorkerSpider(NewsSpider):
    """The ``news`` spider in a worker: what it remembers within a run (the article URLs it scheduled, the
    feeds and sitemaps it read per outlet) is kept per run, its errback counts for the failed request's run, and
    its ``start()`` opens the crawl's memory but puts nothing on the queue: ``monitor seed`` does."""

    def __init__(self, *args: Any, **kwargs: Any):
        self._scheduled_by_run: OrderedDict[str, set[str]] = OrderedDict()
        self._seen_by_run: OrderedDict[str, dict[str, set[str]]] = OrderedDict()
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def scheduled(self) -> set[str]:
        return _per_run(self._scheduled_by_run, set)  # type: ignore[no-any-return]

    @scheduled.setter
    def scheduled(self, value: set[str]) -> None:
        pass  # set per run

    @property  # type: ignore[override]
    def discovery_seen(self) -> dict[str, set[str]]:
        return _per_run(self._seen_by_run, dict)  # type: ignore[no-any-return]

    @discovery_seen.setter
    def discovery_seen(self, value: dict[str, set[str]]) -> None:
        pass  # set per run

    async def start(self) -> AsyncIterator[Any]:
        async for _request in super().start():
            pass  # the seed's requests: a worker only opens the memory here
        return
        yield  # an async generator, as Scrapy expects

    def request_failed(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        token = current_run.set(run_of(request.meta) if request is not None else None)
        try:
            super().request_failed(failure)
        finally:
            current_run.reset(token)


class RedisItems:
    """Item pipeline of a worker: each article and non-article page goes on the item stream, for the writer to
    classify and store (in place of :class:`monitor.pipelines.StoragePipeline`)."""

    def __init__(self, crawler: Crawler, client: redis.Redis):
        self.crawler = crawler
        self.client = client

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisItems:
        return cls(crawler, names.connect(crawler.settings.get("REDIS_URL"), check=False))

    def process_item(self, item: Any) -> Any:
        run = current_run.get() or NO_RUN
        if isinstance(item, ArticleItem):
            verdict = getattr(
                item, "verdict", None
            )  # classified by an extraction process (MONITOR_POOL_PROCESSES)
            derived = getattr(item, "derived", None)
            message = article_message(
                run, item.source, item.article, item.key, item.announced, verdict, derived
            )
        elif isinstance(item, NonArticleItem):
            message = page_message(run, item.source, item.key, item.reason, item.announced)
        else:
            return item
        try:
            self.client.xadd(names.ITEMS, message.encode())  # type: ignore[arg-type]
        except redis.RedisError as exc:  # its request's lease is kept: another worker fetches it again
            stop_for_redis(self.crawler, exc)
            raise DropItem(f"not sent to the writer: {names.describe(exc)}") from exc
        return item


class _Reporter:
    """What the worker's and the seed's extensions share: a client, and stopping cleanly when Redis is lost."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler
        self.client = names.connect(crawler.settings.get("REDIS_URL"), check=False)

    def send(self, *messages: Message) -> bool:
        if not messages:
            return True
        try:
            pipe = self.client.pipeline(transaction=False)
            for message in messages:
                pipe.xadd(names.ITEMS, message.encode())  # type: ignore[arg-type]
            pipe.execute()
        except redis.RedisError as exc:
            self.lost(exc)
            return False
        return True

    def lost(self, exc: Exception) -> None:
        stop_for_redis(self.crawler, exc)


class WorkerReport(_Reporter):
    """Extension of a worker: sends each run's counters every second and feed validators as they come, and keeps
    the spider open when the queue is empty (workers run continuously), unless ``MONITOR_WORKER_IDLE_EXIT`` says
    after how many idle seconds (an empty queue and no request held by any worker) to stop."""

    def __init__(self, crawler: Crawler, idle_exit: float):
        super().__init__(crawler)
        self.idle_exit = idle_exit
        self.idle_since: float | None = None
        self.ticker: AsyncioLoopingCall | LoopingCall | None = None
        if not isinstance(crawler.stats, RunStats):
            raise RuntimeError("a worker needs STATS_CLASS = monitor.distributed.runs.RunStats")
        self.stats: RunStats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WorkerReport:
        report = cls(crawler, crawler.settings.getfloat("MONITOR_WORKER_IDLE_EXIT", 0.0))
        crawler.signals.connect(report.opened, signal=signals.spider_opened)
        crawler.signals.connect(report.closed, signal=signals.spider_closed)
        crawler.signals.connect(report.idle, signal=signals.spider_idle)
        crawler.signals.connect(report.feed_validated, signal=monitor_signals.feed_validated)
        crawler.signals.connect(report.feed_incomplete, signal=monitor_signals.feed_incomplete)
        return report

    def opened(self) -> None:
        self.ticker = create_looping_call(self.flush)
        self.ticker.start(names.PROGRESS_INTERVAL, now=False)

    def flush(self) -> None:
        self.send(*self.stats.drain())

    def closed(self) -> None:
        if self.ticker is not None and self.ticker.running:
            self.ticker.stop()
        if not self.stats.get_value(REDIS_LOST):
            self.flush()

    def idle(self) -> None:
        if self.stats.get_value(REDIS_LOST):
            return
        if self.idle_exit > 0:
            try:
                busy = self.client.zcard(names.QUEUE) or self.client.hlen(names.LEASES)
            except redis.RedisError as exc:
                self.lost(exc)
                return
            now = time.monotonic()
            if busy:
                self.idle_since = None
            elif self.idle_since is None:
                self.idle_since = now
            elif now - self.idle_since >= self.idle_exit:
                logger.info("nothing to do for %.0f s: stopping (MONITOR_WORKER_IDLE_EXIT)", self.idle_exit)
                return
        raise DontCloseSpider

    def feed_validated(self, state: FeedState) -> None:
        run = current_run.get() or NO_RUN
        self.send(
            Message("feed", run, {"url": state.url, "etag": state.etag, "modified": state.last_modified})
        )

    def feed_incomplete(self, url: str) -> None:
        self.send(Message("incomplete", current_run.get() or NO_RUN, {"url": url}))


class SeedReport(_Reporter):
    """Extension of a seed: as the spider begins, a new run (its id from Redis, its outlets as the sources file
    declares them) is announced on the item stream; once every start request is on the queue, ``seeded``."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeedReport:
        report = cls(crawler)
        crawler.signals.connect(report.crawl_started, signal=monitor_signals.crawl_started)
        crawler.signals.connect(report.closed, signal=signals.spider_closed)
        return report

    def crawl_started(self) -> None:
        stats = self.crawler.stats
        assert stats is not None
        names_ = list(stats.get_value(OUTLETS) or [])
        try:
            declared = {s.name: s for s in load_sources(self.crawler.settings.get("MONITOR_SOURCES") or None)}
        except (SourcesError, OSError):
            declared = {}
        outlets = []
        for name in names_:
            source = declared.get(name)
            outlets.append(
                {
                    "name": name,
                    "title": source.title if source else name,
                    "domains": list(source.domains) if source else [],
                    "group": source.group if source else None,
                }
            )
        started = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            # run ids count on from the first seed's clock: a Redis that lost its data does not give an id again
            self.client.set(names.RUN_NEXT, int(time.time()), nx=True)
            run = str(self.client.incr(names.RUN_NEXT))
            self.client.hset(
                names.run_key(run),
                mapping={"started": started, "by": f"{socket.gethostname()}:{os.getpid()}"},
            )
        except redis.RedisError as exc:
            self.lost(exc)
            return
        stats.set_value(SEED_RUN, run)
        self.send(Message("run", run, {"started": started, "outlets": outlets}))
        logger.info("run %s: seeding %d outlet(s)", run, len(outlets))

    def closed(self, reason: str) -> None:
        stats = self.crawler.stats
        run = stats.get_value(SEED_RUN) if stats is not None else None
        if run is not None and reason == "finished" and self.send(Message("seeded", str(run))):
            logger.info("run %s: every start request is on the queue", run)


def _middlewares(project: Any, name: str, extra: dict[str, int | None]) -> dict[str, int | None]:
    merged: dict[str, int | None] = dict(project.getdict(name))
    merged.update(extra)
    return merged


def common_settings(project: Any, url: str) -> dict[str, Any]:
    """What a seed and a worker change in the project's settings: Redis, no database, no run lock."""
    return {
        "REDIS_URL": url,
        "REDIS_PARAMS": names.client_options(),
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "SCHEDULER_PERSIST": True,  # the queue belongs to every worker: never cleared when one stops
        "MONITOR_RECALL": "monitor.distributed.memory.RedisRecall",
        "MONITOR_DB": "",
        "MONITOR_LOCK_ENABLED": False,
        "ITEM_PIPELINES": _middlewares(
            project, "ITEM_PIPELINES", {"monitor.pipelines.StoragePipeline": None}
        ),
    }


def worker_settings(project: Any, url: str) -> dict[str, Any]:
    settings = common_settings(project, url)
    settings["ITEM_PIPELINES"]["monitor.distributed.worker.RedisItems"] = 300
    settings.update(
        SCHEDULER="monitor.distributed.scheduler.LeasedScheduler",
        STATS_CLASS="monitor.distributed.runs.RunStats",
        SPIDER_MIDDLEWARES=_middlewares(
            project,
            "SPIDER_MIDDLEWARES",
            {"monitor.distributed.runs.RunContext": 1, "monitor.distributed.runs.RedisLostInCallback": 990},
        ),
        EXTENSIONS=_middlewares(
            project,
            "EXTENSIONS",
            {
                "monitor.extensions.runlock.RunLock": None,
                "monitor.extensions.runs.RunRecorder": None,
                "monitor.distributed.worker.WorkerReport": 10,
            },
        ),
    )
    return settings


def seed_settings(project: Any, url: str) -> dict[str, Any]:
    settings = common_settings(project, url)
    settings.update(
        SCHEDULER="monitor.distributed.scheduler.SeedScheduler",
        ROBOTSTXT_OBEY=False,  # the seed fetches nothing; the workers obey robots.txt
        EXTENSIONS=_middlewares(
            project,
            "EXTENSIONS",
            {
                "monitor.extensions.runlock.RunLock": None,
                "monitor.extensions.runs.RunRecorder": None,
                "monitor.distributed.worker.SeedReport": 10,
            },
        ),
    )
    return settings
