"""Item pipeline: classify each article, then store it in batches; record the crawl run."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.utils.defer import deferred_from_coro

from monitor.classify import Ruleset, Verdict, classify, load_rules
from monitor.extract import Article
from monitor.items import ArticleItem
from monitor.storage import Storage, StorageError

logger = logging.getLogger(__name__)
COUNTERS = ("discovered", "fetched", "new", "updated", "unchanged", "stored", "flagged", "failed", "skipped")


def stat_key(source: str, counter: str) -> str:
    return f"monitor/{source}/{counter}"


class StoragePipeline:
    def __init__(
        self, crawler: Crawler, db_path: str, rules_path: str, batch_size: int, busy_timeout: float = 10.0
    ):
        self.crawler = crawler
        self.busy_timeout = busy_timeout
        self.db_path = db_path
        self.rules_path = rules_path
        self.batch_size = max(1, batch_size)
        self.batch: list[tuple[str, Article, Verdict]] = []
        self.storage: Storage | None = None
        self.ruleset: Ruleset | None = None
        self.run_id: int | None = None
        self.failure: str | None = None  # a storage failure that stopped the run

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        settings = crawler.settings
        pipeline = cls(
            crawler,
            settings.get("MONITOR_DB"),
            settings.get("MONITOR_RULES"),
            settings.getint("MONITOR_BATCH_SIZE"),
            settings.getfloat("MONITOR_BUSY_TIMEOUT", 10.0),
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        self.ruleset = load_rules(self.rules_path or None)
        spider = self.crawler.spider
        try:
            self.storage = Storage(self.db_path, busy_timeout_ms=int(self.busy_timeout * 1000))
            # Source objects, so the archive's `sources` table gets each outlet's title and domains
            self.run_id = self.storage.start_run(
                spider.name if spider else "?", list(getattr(spider, "sources", []))
            )
        except StorageError as exc:
            self.stop(str(exc))
            return
        self.crawler.stats.set_value("monitor/run_id", self.run_id)
        logger.info("Storing into %s (run %s, rules %s)", self.db_path, self.run_id, self.ruleset.version)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem) or self.failure:
            return item
        assert self.ruleset is not None
        article = item.article
        verdict = classify(self.ruleset, article.title, article.lead, article.text)
        self.batch.append((item.source, article, verdict))
        if len(self.batch) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        if not self.batch or self.storage is None or self.failure:
            return
        batch, self.batch = self.batch, []
        try:
            results = self.storage.store_batch(batch)
        except StorageError as exc:
            # Disk full, database locked for longer than the busy timeout…: stop the run; what is stored stays.
            self.stop(str(exc))
            return
        stats = self.crawler.stats
        for (source, _article, verdict), result in zip(batch, results, strict=True):
            stats.inc_value(stat_key(source, "stored"))
            if result.created:
                stats.inc_value(stat_key(source, "new"))
            elif result.changed:
                stats.inc_value(stat_key(source, "updated"))
            if verdict.flagged:
                stats.inc_value(stat_key(source, "flagged"))

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
        if self.storage is None:
            return
        stats = self.crawler.stats
        per_source: dict[str, dict[str, Any]] = {}
        for source in getattr(spider, "sources", []):
            counts: dict[str, Any] = {c: stats.get_value(stat_key(source.name, c), 0) for c in COUNTERS}
            counts["errors"] = getattr(spider, "errors", {}).get(source.name, [])
            counts["duration"] = spider.duration(source.name) if hasattr(spider, "duration") else None
            per_source[source.name] = counts
        self.failure = self.failure or stats.get_value("monitor/storage_error")
        status = f"storage_error: {self.failure}" if self.failure else reason
        try:
            if self.run_id is not None:
                self.storage.finish_run(self.run_id, status, per_source)
            if not self.failure:
                self.storage.save_non_articles(getattr(spider, "non_articles", {}))
            if reason == "finished" and not self.failure and hasattr(spider, "feed_states_to_save"):
                self.storage.save_feed_states(spider.feed_states_to_save())
        except StorageError as exc:
            logger.error("could not record the run: %s", exc)
        finally:
            self.storage.close()
            self.storage = None
