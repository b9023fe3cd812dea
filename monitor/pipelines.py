"""Item pipeline: classify each article, then store it in batches; record the crawl run."""

from __future__ import annotations

import logging
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler

from monitor.classify import Ruleset, Verdict, classify, load_rules
from monitor.extract import Article
from monitor.items import ArticleItem
from monitor.storage import Storage

logger = logging.getLogger(__name__)
COUNTERS = ("discovered", "fetched", "stored", "flagged", "failed", "skipped")


def stat_key(source: str, counter: str) -> str:
    return f"monitor/{source}/{counter}"


class StoragePipeline:
    def __init__(self, crawler: Crawler, db_path: str, rules_path: str, batch_size: int):
        self.crawler = crawler
        self.db_path = db_path
        self.rules_path = rules_path
        self.batch_size = max(1, batch_size)
        self.batch: list[tuple[str, Article, Verdict]] = []
        self.storage: Storage | None = None
        self.ruleset: Ruleset | None = None
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        settings = crawler.settings
        pipeline = cls(
            crawler,
            settings.get("MONITOR_DB"),
            settings.get("MONITOR_RULES"),
            settings.getint("MONITOR_BATCH_SIZE"),
        )
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        self.ruleset = load_rules(self.rules_path or None)
        self.storage = Storage(self.db_path)
        spider = self.crawler.spider
        names = [s.name for s in getattr(spider, "sources", [])]
        self.run_id = self.storage.start_run(spider.name if spider else "?", names)
        logger.info("Storing into %s (run %s, rules %s)", self.db_path, self.run_id, self.ruleset.version)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        assert self.ruleset is not None
        article = item.article
        verdict = classify(self.ruleset, article.title, article.lead, article.text)
        self.batch.append((item.source, article, verdict))
        if len(self.batch) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        if not self.batch or self.storage is None:
            return
        batch, self.batch = self.batch, []
        self.storage.store_batch(batch)
        stats = self.crawler.stats
        for source, _article, verdict in batch:
            stats.inc_value(stat_key(source, "stored"))
            if verdict.flagged:
                stats.inc_value(stat_key(source, "flagged"))

    def close_spider(self) -> None:
        self.flush()

    def spider_closed(self, spider: Any, reason: str) -> None:
        """Record the run once the spider is done (after the last flush), with Scrapy's finish reason."""
        if self.storage is None:
            return
        stats = self.crawler.stats
        per_source: dict[str, dict[str, Any]] = {}
        for source in getattr(spider, "sources", []):
            counts: dict[str, Any] = {c: stats.get_value(stat_key(source.name, c), 0) for c in COUNTERS}
            counts["errors"] = getattr(spider, "errors", {}).get(source.name, [])
            per_source[source.name] = counts
        try:
            if self.run_id is not None:
                self.storage.finish_run(self.run_id, reason, per_source)
        finally:
            self.storage.close()
            self.storage = None
