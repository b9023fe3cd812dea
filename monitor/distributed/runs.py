"""Which run a request, an item or a counter of a worker belongs to.

A worker runs continuously and handles the requests of every run a seed starts. Each request carries its run's
id in ``meta["monitor_run"]`` (the seed sets it; the scheduler gives it to every request a callback yields), and
while Scrapy handles a response or a failure, :data:`current_run` holds that run: Scrapy handles each in its own
asyncio task, so the value is the task's own. :class:`RunContext` sets it before the callback runs,
:class:`monitor.distributed.worker.WorkerSpider` before its errback runs.

:class:`RunStats` (the worker's ``STATS_CLASS``) keeps the spider's per-outlet counters (``monitor/<outlet>/…``)
per run as well as in Scrapy's stats, so the worker can send each run's counters to the writer.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from contextvars import ContextVar
from typing import Any

from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.statscollectors import MemoryStatsCollector

from monitor.archive import StorageError
from monitor.distributed.messages import Message
from monitor.extensions.runs import COLUMNS, ERRORS, SECONDS

RUN = "monitor_run"  # request meta: the run's id
LEASE = "monitor_lease"  # request meta: the lease of a request taken from the queue
REDIS_LOST = "monitor/redis_lost"  # stats: why Redis could not be used (one line); the worker is stopping
current_run: ContextVar[str | None] = ContextVar("monitor_run", default=None)
KEPT_RUNS = 16  # runs a worker keeps its per-run state for (older runs are long finished)


def run_of(meta: dict[str, Any]) -> str | None:
    run = meta.get(RUN)
    return str(run) if run is not None else None


class RunContext:
    """Spider middleware (first in the chain): the run of the response being handled, for what its callback
    counts, yields and stores."""

    def process_spider_input(self, response: Response) -> None:
        current_run.set(run_of(response.meta))


class RedisLostInCallback:
    """Spider middleware (next to the spider): a callback that failed because Redis was lost (the crawl's memory
    could not be asked) is not an internal error of its page: the worker is stopping and said why in one line,
    and the request's lease brings the page back to another worker."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisLostInCallback:
        return cls(crawler)

    def process_spider_exception(self, response: Response, exception: Exception) -> list[Any] | None:
        stats = self.crawler.stats
        if isinstance(exception, StorageError) and stats is not None and stats.get_value(REDIS_LOST):
            return []
        return None


class RunStats(MemoryStatsCollector):
    """Scrapy's stats, with the outlet counters of run records also kept per run (see the module)."""

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        self.errors: OrderedDict[str, dict[str, list[str]]] = OrderedDict()  # run → outlet → error lines
        self.pending: dict[str, dict[str, dict[str, int]]] = {}  # run → outlet → counter → since last sent
        self.new_errors: dict[str, dict[str, list[str]]] = {}
        self.active: dict[str, dict[str, float]] = {}  # run → outlet → last time it counted something

    @staticmethod
    def _routed(key: str) -> tuple[str, str, str] | None:
        run = current_run.get()
        parts = key.split("/")
        if run is None or len(parts) != 3 or parts[0] != "monitor":
            return None
        if parts[2] not in COLUMNS and parts[2] not in (ERRORS, SECONDS):
            return None
        return run, parts[1], parts[2]

    def count(self, run: str, outlet: str, counter: str, by: int = 1) -> None:
        """Count for a given run (the scheduler, which may act outside the run's task)."""
        outlet_counts = self.pending.setdefault(run, {}).setdefault(outlet, {})
        outlet_counts[counter] = outlet_counts.get(counter, 0) + by
        self.active.setdefault(run, {})[outlet] = time.time()

    def inc_value(self, key: str, count: int = 1, start: int = 0, spider: Any = None) -> None:
        super().inc_value(key, count, start)
        routed = self._routed(key)
        if routed and routed[2] in COLUMNS:
            self.count(routed[0], routed[1], routed[2], count)

    def set_value(self, key: str, value: Any, spider: Any = None) -> None:
        routed = self._routed(key)
        if routed is None:
            super().set_value(key, value)
            return
        run, outlet, counter = routed
        if counter == SECONDS:
            self.active.setdefault(run, {})[outlet] = time.time()
        elif counter == ERRORS:
            kept = self._errors(run).setdefault(outlet, [])
            lines = list(value or [])
            self.new_errors.setdefault(run, {}).setdefault(outlet, []).extend(lines[len(kept) :])
            kept[:] = lines
        else:
            super().set_value(key, value)

    def get_value(self, key: str, default: Any = None, spider: Any = None) -> Any:
        routed = self._routed(key)
        if routed is not None and routed[2] == ERRORS:
            return list(self._errors(routed[0]).get(routed[1], [])) or default
        return super().get_value(key, default)

    def _errors(self, run: str) -> dict[str, list[str]]:
        if run not in self.errors:
            self.errors[run] = {}
            while len(self.errors) > KEPT_RUNS:
                self.errors.popitem(last=False)
        return self.errors[run]

    def drain(self) -> list[Message]:
        """The counters, new error lines and activity of each run since the last call, as messages."""
        runs = set(self.pending) | set(self.new_errors) | set(self.active)
        messages = [
            Message(
                "counts",
                run,
                {
                    "counts": self.pending.get(run, {}),
                    "errors": self.new_errors.get(run, {}),
                    "active": self.active.get(run, {}),
                },
            )
            for run in sorted(runs)
        ]
        self.pending, self.new_errors, self.active = {}, {}, {}
        return messages
