"""The run lock as a Scrapy extension: every way of starting a crawl (``monitor crawl``, ``scrapy crawl news``,
Scrapyd) takes ``<db>.lock`` before anything touches the archive, so two crawls never run over one archive.

The extension is built before the engine opens the spider, and takes the lock there (waiting for it with
``MONITOR_LOCK_WAIT``). A crawl that cannot take it records why in its stats (``monitor/lock_refused``); the
run recorder (:mod:`monitor.extensions.runs`) then closes the spider as its crawl begins, with the reason
``lock_held``, before the first request and before it opens the archive.
The lock is let go when the engine stops, after the run was recorded; the kernel lets it go when the process
dies, however it dies (see :mod:`monitor.extensions.lock`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from monitor.extensions.lock import LockError, LockFile, LockHeld

logger = logging.getLogger(__name__)
HELD = "monitor/lock"  # stats: the lock file this crawl holds
REFUSED = "monitor/lock_refused"  # stats: why this crawl could not take it (one line)
REFUSED_BY = "monitor/lock_refused_by"  # stats: "held" (another run has it) or "error" (no lock file)


def lock_path(settings: Any) -> Path:
    """``MONITOR_LOCK``, else the archive's name with ``.lock`` (``data/monitor.db`` → ``data/monitor.lock``)."""
    explicit = settings.get("MONITOR_LOCK")
    return Path(explicit) if explicit else Path(settings.get("MONITOR_DB")).with_suffix(".lock")


class RunLock:
    def __init__(self, crawler: Crawler, path: Path, wait: bool = False, timeout: float | None = None):
        self.crawler = crawler
        self.lock = LockFile(path)
        self.wait = wait
        self.timeout = timeout

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunLock:
        settings = crawler.settings
        if not settings.getbool("MONITOR_LOCK_ENABLED", True):
            raise NotConfigured
        timeout = settings.getfloat("MONITOR_LOCK_TIMEOUT", 0.0)
        extension = cls(crawler, lock_path(settings), settings.getbool("MONITOR_LOCK_WAIT"), timeout or None)
        extension.acquire()
        crawler.signals.connect(extension.release, signal=signals.engine_stopped)
        return extension

    def acquire(self) -> None:
        stats = self.crawler.stats
        assert stats is not None
        try:
            holder = self.lock.acquire(wait=self.wait, timeout=self.timeout)
        except (LockHeld, LockError) as exc:
            logger.error("not crawling: %s", exc)
            stats.set_value(REFUSED, str(exc))
            stats.set_value(REFUSED_BY, "held" if isinstance(exc, LockHeld) else "error")
            return
        stats.set_value(HELD, str(self.lock.path))
        logger.info("Holding the run lock %s (PID %s)", self.lock.path, holder.pid)

    def release(self) -> None:
        self.lock.release()


def refusal(crawler: Crawler) -> str | None:
    """Why this crawl may not run (another run holds the lock, or there is no lock file), or None."""
    return crawler.stats.get_value(REFUSED) if crawler.stats else None


def holds_lock(crawler: Crawler) -> bool:
    """True when this crawl holds the archive's run lock, so no other crawl can be running on it."""
    return bool(crawler.stats and crawler.stats.get_value(HELD))
