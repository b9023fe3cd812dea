"""The crawl's run record as a Scrapy extension: one row of ``crawl_runs`` per crawl and one row of
``run_sources`` per outlet, kept true from the run's start to its end, killed runs included.

:class:`RunRecorder` owns the crawl's one connection to the archive (one writer per crawl). When the spider begins
its crawl (:data:`monitor.signals.crawl_started`, sent from its ``start()``: ``scrapy parse``, ``check`` and
``shell`` open the spider but write nothing), it closes a crawl the run lock (:mod:`monitor.extensions.runlock`)
refused, and otherwise opens the archive, marks runs left ``running`` by killed crawls as ``interrupted`` (only while
this crawl holds the lock, so none of them can be alive), and starts the run with a row of zeros for each outlet.
Every ``MONITOR_PROGRESS_INTERVAL`` seconds it writes the counts so far; the storage pipeline writes them too,
through :meth:`RunRecorder.counts`, in the same transaction as each batch of articles, so a run killed at any
moment is counted exactly up to what it stored. At ``spider_closed`` it finishes the run with Scrapy's reason (or
``storage_error: …``) and, for a run that finished, saves the feed validators.

Everything it records comes from the crawler's stats, which the spider fills (see the keys below), and from the
monitor's signals (:mod:`monitor.signals`); of the spider it reads only its name.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider
from scrapy.utils.asyncio import AsyncioLoopingCall, create_looping_call
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.task import LoopingCall

from monitor import signals as monitor_signals
from monitor.archive import Storage, StorageError, check_writable
from monitor.archive.runs import COUNTERS, INCREMENTAL
from monitor.discovery.memory import FeedState
from monitor.discovery.sources import Source, SourcesError, load_sources
from monitor.extensions.runlock import REFUSED_BY, holds_lock, refusal

logger = logging.getLogger(__name__)

# Stats the spider fills and the recorder reads.
OUTLETS = "monitor/outlets"  # the run's outlet names, in order (set by the spider when it opens)
ERRORS = "errors"  # monitor/<outlet>/errors: the outlet's first error lines ("URL: reason")
SECONDS = "seconds"  # monitor/<outlet>/seconds: from the start of the run to the outlet's last response
# Stats the recorder (and whoever stops the run for the archive's sake) sets.
RUN_ID = "monitor/run_id"  # the run's id in crawl_runs
STORAGE_ERROR = "monitor/storage_error"  # why the archive could not be used; the run stops
COLUMNS = (*COUNTERS, *INCREMENTAL)  # the counters of a run_sources row


def stat_key(source: str, counter: str) -> str:
    """The stats key of one outlet's counter: ``monitor/<outlet>/<counter>``."""
    return f"monitor/{source}/{counter}"


class RunRecorder:
    def __init__(
        self,
        crawler: Crawler,
        db_path: str,
        sources_path: str | None = None,
        busy_timeout: float = 10.0,
        progress_interval: float = 15.0,
    ):
        self.crawler = crawler
        self.db_path = db_path
        self.sources_path = sources_path or None
        self.busy_timeout = busy_timeout
        self.progress_interval = progress_interval
        self.storage: Storage | None = None  # open from the run's start to its end
        self.run_id: int | None = None
        self.failure: str | None = None  # the storage failure that stopped the run
        self.ticker: AsyncioLoopingCall | LoopingCall | None = None
        self.written: dict[str, Any] = {}  # the counts last written by the ticker, to skip writing them again
        self.validators: dict[str, FeedState] = {}  # feed URL → validators seen in this run
        self.incomplete: set[str] = set()  # feeds with an article that failed: read them in full next time
        self.full_check = False  # MONITOR_FULL_CHECK

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        settings = crawler.settings
        recorder = cls(
            crawler,
            settings.get("MONITOR_DB"),
            settings.get("MONITOR_SOURCES"),
            settings.getfloat("MONITOR_BUSY_TIMEOUT", 10.0),
            settings.getfloat("MONITOR_PROGRESS_INTERVAL", 15.0),
        )
        recorder.full_check = settings.getbool("MONITOR_FULL_CHECK")
        crawler.signals.connect(recorder.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(recorder.crawl_started, signal=monitor_signals.crawl_started)
        crawler.signals.connect(recorder.feed_validated, signal=monitor_signals.feed_validated)
        crawler.signals.connect(recorder.feed_incomplete, signal=monitor_signals.feed_incomplete)
        return recorder

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    # --- the run's start ---------------------------------------------------------------------------------
    def crawl_started(self, spider: Spider) -> None:
        """Open the archive and record the run's start, with the outlets the spider named in the stats.

        Raises :class:`CloseSpider` when the run may not go on: another run holds the archive's lock (or there
        is no lock file), or the archive cannot be used; the spider raises it on, before its first request."""
        if refusal(self.crawler):
            raise CloseSpider("lock_held" if self.stats.get_value(REFUSED_BY) == "held" else "lock_error")
        if self.storage is not None:
            return
        try:
            if self.full_check:  # MONITOR_FULL_CHECK: the whole file, even as the last writer left it
                check_writable(self.db_path, full=True)
            self.storage = Storage(self.db_path, busy_timeout_ms=int(self.busy_timeout * 1000))
            if holds_lock(self.crawler):
                for run_id in self.storage.mark_interrupted():
                    logger.warning("run %s was interrupted (killed or crashed); marked so", run_id)
            self.run_id = self.storage.start_run(spider.name, self.declarations())
        except StorageError as exc:
            self.failed(str(exc))
            raise CloseSpider("storage_error") from exc
        self.stats.set_value(RUN_ID, self.run_id)
        if self.progress_interval > 0:
            self.ticker = create_looping_call(self.record_progress)
            self.ticker.start(self.progress_interval, now=False)
        logger.info("Recording run %s in %s", self.run_id, self.db_path)

    def outlets(self) -> list[str]:
        """The run's outlet names, as the spider put them in the stats."""
        return list(self.stats.get_value(OUTLETS) or [])

    def declarations(self) -> list[Source | str]:
        """The run's outlets as the sources file declares them (title, domains, group for the ``sources``
        table); an outlet the file does not declare is registered by its name."""
        names = self.outlets()
        declared: dict[str, Source] = {}
        if names:
            try:
                declared = {outlet.name: outlet for outlet in load_sources(self.sources_path)}
            except (SourcesError, OSError) as exc:  # the spider loaded it moments ago; registered by name
                logger.warning("outlets registered by name only: %s", exc)
        return [declared.get(name, name) for name in names]

    # --- the run's counts --------------------------------------------------------------------------------
    def counts(self, delta: Mapping[str, int] | None = None) -> dict[str, dict[str, Any]]:
        """Each outlet's ``run_sources`` values from the stats: its counters (plus ``delta``, the stats keys a
        batch not yet committed adds), its first error lines and its seconds to the last response."""
        extra = delta or {}
        rows: dict[str, dict[str, Any]] = {}
        for name in self.outlets():
            row: dict[str, Any] = {}
            for column in COLUMNS:
                key = stat_key(name, column)
                row[column] = self.stats.get_value(key, 0) + extra.get(key, 0)
            row["errors"] = list(self.stats.get_value(stat_key(name, ERRORS)) or [])
            row["duration"] = self.stats.get_value(stat_key(name, SECONDS), 0.0)
            rows[name] = row
        return rows

    def record_progress(self) -> None:
        """Write the counts so far when they changed (feeds read, pages skipped or failed between batches)."""
        if self.storage is None or self.run_id is None or self.failure:
            return
        counts = self.counts()
        if counts == self.written:
            return
        try:
            self.storage.record_progress(self.run_id, counts)
        except StorageError as exc:
            self.stop(str(exc))
            return
        self.written = counts

    # --- what the spider reports by signal --------------------------------------------------------------
    def feed_validated(self, state: FeedState) -> None:
        self.validators[state.url] = state

    def feed_incomplete(self, url: str) -> None:
        self.incomplete.add(url)

    # --- failures and the end ----------------------------------------------------------------------------
    def failed(self, message: str) -> None:
        """The archive cannot be written: remember why, for the log, the run's status and the CLI."""
        self.failure = message
        logger.error("stopping the crawl: %s", message)
        self.stats.set_value(STORAGE_ERROR, message)

    def stop(self, message: str) -> None:
        """Stop the crawl because the archive cannot be written (disk full, locked past the busy timeout…);
        what is stored stays."""
        self.failed(message)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="storage_error"))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Finish the run once the spider is done (the pipeline has stored its last batch by then), with
        Scrapy's finish reason.

        Feed validators (ETag, Last-Modified) are saved only for a run that finished, and not for a feed one of
        whose articles failed: after a crash or a stop the next run reads every feed in full and so finds
        whatever this one did not store.
        """
        if self.ticker is not None and self.ticker.running:
            self.ticker.stop()
        if self.storage is None:
            return
        self.failure = self.failure or self.stats.get_value(STORAGE_ERROR)
        status = f"storage_error: {self.failure}" if self.failure else reason
        try:
            if self.run_id is not None:
                self.storage.finish_run(self.run_id, status, self.counts())
            if reason == "finished" and not self.failure:
                self.storage.save_feed_states(
                    state for url, state in self.validators.items() if url not in self.incomplete
                )
        except StorageError as exc:
            logger.error("could not record the run: %s", exc)
        finally:
            self.storage.close()
            self.storage = None
