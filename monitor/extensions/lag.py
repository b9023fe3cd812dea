"""The reactor's lag: how late a timer set on the crawl's event loop fires. Everything a crawl does on the reactor
thread (parsing a feed, storing a batch, extracting a page when no pool does it) delays every download and timer
behind it; this measures by how much.

Every ``MONITOR_LAG_INTERVAL`` seconds (0 = off) a timer notes how much later than asked it ran. At the end of the
crawl the worst delay and the 99th percentile go into the stats (``monitor/reactor_max_lag_ms``,
``monitor/reactor_lag_p99_ms``, with ``monitor/reactor_lag_samples``) and one line of the log. The delays are
kept as a count per millisecond, so a crawl of any length keeps a bounded table.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import call_later

logger = logging.getLogger(__name__)

MAX_LAG = "monitor/reactor_max_lag_ms"
P99_LAG = "monitor/reactor_lag_p99_ms"
SAMPLES = "monitor/reactor_lag_samples"


def percentile(counts: Counter[int], fraction: float) -> int:
    """The value below or at which ``fraction`` of the counted values lie (0 when nothing was counted)."""
    total = sum(counts.values())
    if not total:
        return 0
    rank = max(1, round(fraction * total + 0.4999))  # the nearest-rank method, rounding up
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    return max(counts)


class ReactorLag:
    def __init__(self, crawler: Crawler, interval: float):
        self.crawler = crawler
        self.interval = interval
        self.counts: Counter[int] = Counter()  # lag in whole milliseconds → how often
        self.expected = 0.0
        self.timer: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ReactorLag:
        interval = crawler.settings.getfloat("MONITOR_LAG_INTERVAL", 0.05)
        if interval <= 0:
            raise NotConfigured("MONITOR_LAG_INTERVAL is 0")
        extension = cls(crawler, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        self.schedule()

    def schedule(self) -> None:
        self.expected = time.monotonic() + self.interval
        self.timer = call_later(self.interval, self.tick)

    def tick(self) -> None:
        late = max(0.0, time.monotonic() - self.expected)
        self.counts[int(late * 1000)] += 1
        self.schedule()

    def spider_closed(self) -> None:
        if self.timer is not None:  # always pending: every tick sets the next
            self.timer.cancel()
        self.timer = None
        if not self.counts or self.crawler.stats is None:
            return
        worst, p99 = max(self.counts), percentile(self.counts, 0.99)
        samples = sum(self.counts.values())
        self.crawler.stats.set_value(MAX_LAG, worst)
        self.crawler.stats.set_value(P99_LAG, p99)
        self.crawler.stats.set_value(SAMPLES, samples)
        logger.info("Reactor lag: worst %d ms, p99 %d ms over %d samples", worst, p99, samples)
