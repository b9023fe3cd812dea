"""Item pipeline: classify each article and derive what the writer needs of its text (unless an extraction worker
did both: :func:`monitor.archive.derived.derive`), then store articles and non-article pages in batches.

It stores in the transaction of each batch the run's counts, so a run killed at any moment is counted exactly up to
what it stored; the run itself is recorded by :class:`monitor.extensions.runs.RunRecorder`, through whose one
connection it writes. By default (``MONITOR_WRITER_THREAD``) a writer thread of the crawl writes the batches, so
that writing (full-text index, wire copies, stories) never holds up the reactor. The writer stays single: one
thread, one connection, one batch at a time and in order; from the first batch on, the recorder's progress writes
(``MONITOR_PROGRESS_INTERVAL``) go through that thread too, in place of the recorder's own ticker on the reactor,
which would otherwise wait there for the write lock. The item that fills a batch waits until its batch is written,
which holds its response in Scrapy's scraper slot: the batches waiting for the writer are bounded as the pages are.
Without the thread (the setting off, or a pipeline driven by hand) it writes on the caller's thread.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Coroutine, Sequence
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from monitor.archive import Storage, StorageError, StoredResult
from monitor.archive.derived import Derived, derive
from monitor.extensions.runs import RunRecorder, stat_key
from monitor.extract import Article
from monitor.items import ArticleItem, NonArticleItem
from monitor.rules import Ruleset, Verdict, classify, load_rules

SWITCH_INTERVAL = 0.001  # seconds: how long a thread may hold the GIL when another one waits for it


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
        recorder: RunRecorder,
        rules_path: str | None,
        batch_size: int,
        threaded: bool = False,
    ):
        self.crawler = crawler
        self.threaded = threaded
        self.threadpool: Any = None  # the writer thread (a Twisted thread pool of one)
        self.ticker: Any = None  # the run's progress writes, through the writer thread
        self.last: Deferred[Any] | None = None  # the last batch handed to the writer thread
        self.recorder = recorder
        self.rules_path = rules_path or None
        self.batch_size = max(1, batch_size)
        self.ruleset: Ruleset | None = None
        self.batch: list[tuple[str, Article, Verdict]] = []
        self.derived: list[Derived] = []  # what was derived from each article of the batch, in its order
        self.announced: list[tuple[str, str | None]] = []  # (discovered URL, announced time) of the batch
        self.pages: list[NonArticleItem] = []  # pages that are not articles, stored with the batch
        # The stats keys of batches committed but not yet added to the crawler's stats (that happens on the reactor
        # thread, after the writer thread's commit): every count the writer writes includes them, so no write of
        # the run's counts, a batch's or a progress tick's, is ever behind what is stored. Guarded by ``lock``.
        self.unapplied: dict[str, int] = {}
        self.lock = threading.Lock()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoragePipeline:
        recorder = crawler.get_extension(RunRecorder)
        if recorder is None:
            raise RuntimeError(
                "monitor.pipelines.StoragePipeline stores through the run recorder: enable "
                "monitor.extensions.runs.RunRecorder in EXTENSIONS"
            )
        settings = crawler.settings
        return cls(
            crawler,
            recorder,
            settings.get("MONITOR_RULES"),
            settings.getint("MONITOR_BATCH_SIZE"),
            settings.getbool("MONITOR_WRITER_THREAD", False),
        )

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
            # extracted in this process: derived here, with the text, as a worker does (the writer only writes)
            self.derived.append(item.derived or derive(article, verdict))
            if item.key:
                self.announced.append((item.key, item.announced))
        elif isinstance(item, NonArticleItem):
            self.pages.append(item)
        else:
            return item
        if len(self.batch) + len(self.pages) >= self.batch_size:
            written = self.flush()
            if written is not None:
                return self._after(written, item)
        return item

    async def _after(self, written: Deferred[Any], item: Any) -> Any:
        await maybe_deferred_to_future(written)
        return item

    def flush(self) -> Deferred[Any] | None:
        """Store the batch: now, or (with the writer thread) in the thread, returning when it is written."""
        if self.recorder.storage is None or self.recorder.run_id is None or self.recorder.failure:
            return None
        parts = (self.batch, self.announced, self.pages, self.derived)
        self.batch, self.announced, self.pages, self.derived = [], [], [], []
        if not self.threaded:
            try:
                delta = self._store(self.recorder.storage, *parts)
            except StorageError as exc:
                self._failed(exc)
                return None
            self._written(delta)
            return None
        from twisted.internet import reactor
        from twisted.internet.threads import deferToThreadPool
        from twisted.python.threadpool import ThreadPool

        if self.threadpool is None:
            # The writer thread is busy in Python (stories) while the reactor thread waits for the GIL after each
            # system call: a shorter switch interval than the 5 ms default keeps those waits short.
            sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
            self.threadpool = ThreadPool(1, 1, name="monitor-writer")
            self.threadpool.start()
            self.take_over_progress()
        written: Deferred[Any] = deferToThreadPool(reactor, self.threadpool, self._in_thread, *parts)
        written.addCallbacks(self._written, self._failed_write)
        self.last = written
        return written

    def take_over_progress(self) -> None:
        """From now on the run's progress is written by the writer thread, not on the reactor."""
        from scrapy.utils.asyncio import create_looping_call

        recorder = self.recorder
        if recorder.ticker is None or not recorder.ticker.running:
            return
        recorder.ticker.stop()
        self.ticker = create_looping_call(self.progress)
        self.ticker.start(recorder.progress_interval, now=False)

    def progress(self) -> None:
        """Hand the run's counts so far to the writer thread (after the batches before them)."""
        from twisted.internet import reactor
        from twisted.internet.threads import deferToThreadPool

        run_id, storage = self.recorder.run_id, self.recorder.storage
        if self.threadpool is None or storage is None or run_id is None or self.recorder.failure:
            return
        counts = self.recorder.counts()
        if counts == self.recorder.written:
            return
        self.recorder.written = counts
        wrote: Deferred[Any] = deferToThreadPool(
            reactor, self.threadpool, self._in_thread_progress, storage, run_id, counts
        )
        wrote.addErrback(self._failed_write)
        self.last = wrote

    def _in_thread_progress(self, storage: Storage, run_id: int, counts: dict[str, Any]) -> dict[str, int]:
        """Write the counts as they are now, with every batch committed before (``counts``, taken on the reactor
        when the tick was queued, may miss a batch committed since)."""
        if not self.recorder.failure:
            storage.record_progress(run_id, self.committed_counts())
        return {}

    def committed_counts(self, delta: dict[str, int] | None = None) -> dict[str, dict[str, Any]]:
        """The run's counts from the stats, the batches committed but not yet in the stats, and ``delta``."""
        with self.lock:
            pending = dict(self.unapplied)
            for key, value in (delta or {}).items():
                pending[key] = pending.get(key, 0) + value
            return self.recorder.counts(pending)

    def _in_thread(self, *parts: Any) -> dict[str, int]:
        storage = self.recorder.storage
        if self.recorder.failure or storage is None:  # an earlier batch failed: the run is stopping
            return {}
        return self._store(storage, *parts)

    def _store(
        self,
        storage: Storage,
        batch: list[tuple[str, Article, Verdict]],
        announced: list[tuple[str, str | None]],
        pages: list[NonArticleItem],
        derived: Sequence[Derived] = (),
    ) -> dict[str, int]:
        """Write one batch, with the run's counts in its transaction; the stats it adds, once committed."""
        run_id = self.recorder.run_id
        assert run_id is not None
        delta: dict[str, int] = {}

        def progress(results: list[StoredResult]) -> tuple[int, dict[str, dict[str, Any]]]:
            delta.update(batch_counts(batch, results))
            return run_id, self.committed_counts(delta)

        if pages:
            storage.save_non_articles(
                {page.key: (page.source, page.reason) for page in pages},
                {page.key: page.announced for page in pages},
            )
        storage.store_batch(batch, progress, announced, derived)
        with self.lock:
            for key, value in delta.items():
                self.unapplied[key] = self.unapplied.get(key, 0) + value
        return delta

    def _written(self, delta: dict[str, int]) -> None:
        with self.lock:
            for key, value in delta.items():  # counted only once the batch is committed
                self.crawler.stats.inc_value(key, value)
                left = self.unapplied.get(key, 0) - value
                if left:
                    self.unapplied[key] = left
                else:
                    self.unapplied.pop(key, None)

    def _failed(self, exc: StorageError) -> None:
        # Disk full, database locked for longer than the busy timeout…: stop the run; what is stored stays.
        if not self.recorder.failure:
            self.recorder.stop(str(exc))

    def _failed_write(self, failure: Any) -> None:
        failure.trap(StorageError)
        self._failed(failure.value)

    def close_spider(self) -> Coroutine[Any, Any, None] | None:
        self.flush()
        if self.threadpool is None:
            return None
        return self._close_writer()

    async def _close_writer(self) -> None:
        """Wait for what was handed to the writer thread, then end it (the recorder finishes the run)."""
        if self.ticker is not None and self.ticker.running:
            self.ticker.stop()
        if self.last is not None:
            await maybe_deferred_to_future(self.last)
        self.threadpool.stop()
        self.threadpool = None
