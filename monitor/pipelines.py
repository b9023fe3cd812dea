"""Item pipeline: classify each article (unless an extraction worker did), then store articles and non-article pages in batches.

It stores through the archive connection of the crawl's run recorder (:class:`monitor.extensions.runs.RunRecorder`,
which records the run itself), and writes the run's counts in the same transaction as each batch of articles, so
a run killed at any moment is counted exactly up to what it stored.
"""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler

from monitor.archive import StorageError, StoredResult
from monitor.extensions.runs import RunRecorder, stat_key
from monitor.extract import Article
from monitor.items import ArticleItem, NonArticleItem
from monitor.rules import Ruleset, Verdict, classify, load_rules


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
    def __init__(self, crawler: Crawler, recorder: RunRecorder, rules_path: str | None, batch_size: int):
        self.crawler = crawler
        self.recorder = recorder
        self.rules_path = rules_path or None
        self.batch_size = max(1, batch_size)
        self.ruleset: Ruleset | None = None
        self.batch: list[tuple[str, Article, Verdict]] = []
        self.announced: list[tuple[str, str | None]] = []  # (discovered URL, announced time) of the batch
        self.pages: list[NonArticleItem] = []  # pages that are not articles, stored with the batch

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        recorder = crawler.get_extension(RunRecorder)
        if recorder is None:
            raise RuntimeError(
                "monitor.pipelines.StoragePipeline stores through the run recorder: enable "
                "monitor.extensions.runs.RunRecorder in EXTENSIONS"
            )
        settings = crawler.settings
        return cls(crawler, recorder, settings.get("MONITOR_RULES"), settings.getint("MONITOR_BATCH_SIZE"))

    def open_spider(self) -> None:
        self.ruleset = load_rules(self.rules_path)

    def process_item(self, item: Any) -> Any:
        if self.recorder.failure:  # the archive cannot be written: the run is stopping
            return item
        if isinstance(item, ArticleItem):
            article = item.article
            verdict = item.verdict
            if verdict is None:  # not classified by an extraction worker
                assert self.ruleset is not None
                verdict = classify(self.ruleset, article.title, article.lead, article.text)
            self.batch.append((item.source, article, verdict))
            if item.key:
                self.announced.append((item.key, item.announced))
        elif isinstance(item, NonArticleItem):
            self.pages.append(item)
        else:
            return item
        if len(self.batch) + len(self.pages) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        storage, run_id = self.recorder.storage, self.recorder.run_id
        if storage is None or run_id is None or self.recorder.failure:
            return
        batch, self.batch = self.batch, []
        announced, self.announced = self.announced, []
        pages, self.pages = self.pages, []
        delta: dict[str, int] = {}

        def progress(results: list[StoredResult]) -> tuple[int, dict[str, dict[str, Any]]]:
            delta.update(batch_counts(batch, results))
            return run_id, self.recorder.counts(delta)

        try:
            if pages:
                storage.save_non_articles(
                    {page.key: (page.source, page.reason) for page in pages},
                    {page.key: page.announced for page in pages},
                )
            storage.store_batch(batch, progress, announced)
        except StorageError as exc:
            # Disk full, database locked for longer than the busy timeout…: stop the run; what is stored stays.
            self.recorder.stop(str(exc))
            return
        for key, value in delta.items():  # counted only once the batch is committed
            self.crawler.stats.inc_value(key, value)

    def close_spider(self) -> None:
        self.flush()
