"""The worker pool (:mod:`monitor.pool.workers`) on a crawl's reactor: a page goes in, an awaitable outcome comes
back on the reactor's thread, so the spider's callback waits for its page without blocking anything else.

Back-pressure comes from Scrapy itself: a response stays in the scraper's slot until its callback has handed on
what it made, and the engine fetches nothing new while the responses there weigh more than
``SCRAPER_SLOT_MAX_ACTIVE_SIZE`` (5 MB by default). The pages waiting for a worker are bounded by that, whatever
the number of requests queued; the pool's stats say how many there were at most.
"""

from __future__ import annotations

from typing import Any

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred

from monitor.pool.work import Outcome, Page
from monitor.pool.workers import WorkerPool, processes_setting


class ReactorPool:
    """``processes`` extraction workers whose outcomes are delivered on the reactor's thread."""

    def __init__(self, processes: int, rules: str | None, timeout: float):
        from twisted.internet import reactor

        self.pool = WorkerPool(processes, rules, reactor.callFromThread, timeout=timeout).start()

    async def process(self, page: Page) -> Outcome:
        """Extract and classify ``page`` in a worker; its outcome (a failure when the worker died on it)."""
        done: Deferred[Outcome] = Deferred()
        self.pool.submit(page, done.callback)
        return await maybe_deferred_to_future(done)

    def close(self, stats: Any = None) -> None:
        """End the workers (without waiting for them on the reactor), and put what the pool did in the stats."""
        self.pool.close(wait=False)
        if stats is not None:
            stats.set_value("monitor/pool/processes", self.pool.processes)
            stats.set_value("monitor/pool/pages", self.pool.stats.pages)
            stats.set_value("monitor/pool/failed", self.pool.stats.failed)
            stats.set_value("monitor/pool/restarts", self.pool.stats.restarts)
            stats.set_value("monitor/pool/most_in_flight", self.pool.stats.most_in_flight)


def pool_for(settings: Any) -> ReactorPool | None:
    """The pool a crawl's settings ask for (``MONITOR_POOL_PROCESSES`` > 1), or None: extract in this process."""
    processes = processes_setting(settings.get("MONITOR_POOL_PROCESSES"))
    if processes <= 1:
        return None
    timeout = settings.getfloat("MONITOR_POOL_TIMEOUT", 60.0)
    return ReactorPool(processes, settings.get("MONITOR_RULES") or None, timeout)
