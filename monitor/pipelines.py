"""Item pipeline: classify each article, then store it in batches; record the crawl run as it goes.

The run is recorded from its start: ``run_sources`` gets each outlet's counts in the same transaction as each
batch of articles, and every ``MONITOR_PROGRESS_INTERVAL`` seconds in between, so a run killed at any moment is
counted up to what it stored. The next run, holding the run lock, marks it ``interrupted``.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import task

from monitor.archive import Storage, StorageError, StoredResult
from monitor.extensions.runlock import REFUSED_BY, holds_lock, refusal
from monitor.extract import Article
from monitor.items import ArticleItem
from monitor.rules import Ruleset, Verdict, classify, load_rules

logger = logging.getLogger(__name__)
COUNTERS = (
    "discovered",
    "fetched",
    "new",
    "updated",
    "unchanged",
    "stored",
    "flagged",
    "failed",
    "skipped",
    "feeds_failed",
)


def stat_key(source: str, counter: str) -> str:
    return f"monitor/{source}/{counter}"


def batch_counts(batch: list[tuple[str, Article, Verdict]], results: list[StoredResult]) -> dict[str, int]:
    """What a stored batch adds to the run's counters, as stat keys: stored, new, updated (the text changed),
    unchanged (fetched again, same text) and flagged, per outlet."""
    delta: dict[str, int] = {}

    def add(source: str, counter: str) -> None:
        key = stat_key(source, counter)
        delta[key] = delta.get(key, 0) + 1

    for (source, _article, verdict), result in zip(batch, results, strict=True):
        add(source, "stored")
        add(source, "new" if result.created else "updated" if result.changed else "unchanged")
        if verdict.flagged:
            add(source, "flagged")
    return delta


class StoragePipeline:
    def __init__(
        self,
        crawler: Crawler,
        db_path: str,
        rules_path: str,
        batch_size: int,
        busy_timeout: float = 10.0,
        progress_interval: float = 15.0,
    ):
        self.crawler = crawler
        self.busy_timeout = busy_timeout
        self.db_path = db_path
        self.rules_path = rules_path
        self.batch_size = max(1, batch_size)
        self.progress_interval = progress_interval
        self.batch: list[tuple[str, Article, Verdict]] = []
        self.announced: list[tuple[str, str | None]] = []  # (discovered URL, announced time) of the batch
        self.storage: Storage | None = None
        self.ruleset: Ruleset | None = None
        self.run_id: int | None = None
        self.failure: str | None = None  # a storage failure that stopped the run
        self.ticker: task.LoopingCall | None = None
        self.written: dict[str, Any] = {}  # the counts last written, to skip writing the same again

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        settings = crawler.settings
        pipeline = cls(
            crawler,
            settings.get("MONITOR_DB"),
            settings.get("MONITOR_RULES"),
            settings.getint("MONITOR_BATCH_SIZE"),
            settings.getfloat("MONITOR_BUSY_TIMEOUT", 10.0),
            settings.getfloat("MONITOR_PROGRESS_INTERVAL", 15.0),
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        refused = refusal(self.crawler)
        if refused:  # another run holds the archive's lock: close before writing anything
            held = self.crawler.stats.get_value(REFUSED_BY) == "held"
            raise CloseSpider("lock_held" if held else "lock_error")
        self.ruleset = load_rules(self.rules_path or None)
        spider = self.crawler.spider
        try:
            self.storage = Storage(self.db_path, busy_timeout_ms=int(self.busy_timeout * 1000))
            if holds_lock(self.crawler):
                for run_id in self.storage.mark_interrupted():
                    logger.warning("run %s was interrupted (killed or crashed); marked so", run_id)
            # Source objects, so the archive's `sources` table gets each outlet's title and domains
            self.run_id = self.storage.start_run(
                spider.name if spider else "?", list(getattr(spider, "sources", []))
            )
        except StorageError as exc:
            self.stop(str(exc))
            return
        self.crawler.stats.set_value("monitor/run_id", self.run_id)
        if self.progress_interval > 0:
            self.ticker = task.LoopingCall(self.record_progress)
            self.ticker.start(self.progress_interval, now=False)
        logger.info("Storing into %s (run %s, rules %s)", self.db_path, self.run_id, self.ruleset.version)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem) or self.failure:
            return item
        assert self.ruleset is not None
        article = item.article
        verdict = classify(self.ruleset, article.title, article.lead, article.text)
        self.batch.append((item.source, article, verdict))
        if item.key:
            self.announced.append((item.key, item.announced))
        if len(self.batch) >= self.batch_size:
            self.flush()
        return item

    def per_source(self, delta: dict[str, int] | None = None) -> dict[str, dict[str, Any]]:
        """Each outlet's counters (plus ``delta``, a batch not yet committed), errors and duration."""
        spider = self.crawler.spider
        stats = self.crawler.stats
        extra = delta or {}
        counts: dict[str, dict[str, Any]] = {}
        for source in getattr(spider, "sources", []):
            row: dict[str, Any] = {
                c: stats.get_value(stat_key(source.name, c), 0) + extra.get(stat_key(source.name, c), 0)
                for c in COUNTERS
            }
            row["errors"] = list(getattr(spider, "errors", {}).get(source.name, []))
            duration = getattr(spider, "duration", None)
            row["duration"] = duration(source.name) if duration else None
            counts[source.name] = row
        return counts

    def flush(self) -> None:
        if not self.batch or self.storage is None or self.failure or self.run_id is None:
            return
        batch, self.batch = self.batch, []
        announced, self.announced = self.announced, []
        run_id = self.run_id
        delta: dict[str, int] = {}

        def progress(results: list[StoredResult]) -> tuple[int, dict[str, dict[str, Any]]]:
            delta.update(batch_counts(batch, results))
            return run_id, self.per_source(delta)

        try:
            self.storage.store_batch(batch, progress, announced)
        except StorageError as exc:
            # Disk full, database locked for longer than the busy timeout…: stop the run; what is stored stays.
            self.stop(str(exc))
            return
        for key, value in delta.items():  # counted only once the batch is committed
            self.crawler.stats.inc_value(key, value)

    def record_progress(self) -> None:
        """Write the counts so far when they changed (feeds read, pages skipped or failed between batches)."""
        if self.storage is None or self.run_id is None or self.failure:
            return
        counts = self.per_source()
        if counts == self.written:
            return
        try:
            self.storage.record_progress(self.run_id, counts)
        except StorageError as exc:
            self.stop(str(exc))
            return
        self.written = counts

    def stop(self, message: str) -> None:
        """Stop the crawl because the archive cannot be written; the message reaches the log and the CLI."""
        self.failure = message
        logger.error("stopping the crawl: %s", message)
        self.crawler.stats.set_value("monitor/storage_error", message)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="storage_error"))

    def close_spider(self) -> None:
        self.flush()

    def spider_closed(self, spider: Any, reason: str) -> None:
        """Record the run once the spider is done (after the last flush), with Scrapy's finish reason.

        Feed validators (ETag, Last-Modified) are saved only for a run that finished: after a crash or a stop the
        next run reads every feed in full and so finds whatever this one did not store.
        """
        if self.ticker is not None and self.ticker.running:
            self.ticker.stop()
        if self.storage is None:
            return
        self.failure = self.failure or self.crawler.stats.get_value("monitor/storage_error")
        status = f"storage_error: {self.failure}" if self.failure else reason
        try:
            if self.run_id is not None:
                self.storage.finish_run(self.run_id, status, self.per_source())
            if not self.failure:
                self.storage.save_non_articles(
                    getattr(spider, "non_articles", {}), getattr(spider, "announced", {})
                )
            if reason == "finished" and not self.failure and hasattr(spider, "feed_states_to_save"):
                self.storage.save_feed_states(spider.feed_states_to_save())
        except StorageError as exc:
            logger.error("could not record the run: %s", exc)
        finally:
            self.storage.close()
            self.storage = None
