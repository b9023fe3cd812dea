"""Spider middleware: an exception in one of the spider's callbacks (a bug, a page that breaks a parser) is a
failure of that page's outlet, in the run's counts and errors, with its traceback in the log.

Scrapy logs such an exception and drops the page, so the URL would land in no column of the run's summary;
here an article page counts as ``failed`` and a feed, sitemap or section page as ``feeds_failed``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError

logger = logging.getLogger(__name__)


class CallbackErrors:
    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CallbackErrors:
        return cls(crawler)

    def process_spider_exception(
        self, response: Response, exception: Exception, spider: Any = None
    ) -> Iterable[Any] | None:
        spider = self.crawler.spider
        request = response.request
        source = request.cb_kwargs.get("source") if request is not None else None
        if isinstance(exception, HttpError) or not source or not hasattr(spider, "problem"):
            return None  # Scrapy's own handling (HttpError goes to the request's errback)
        logger.error("%s: %s: internal error", source, response.url, exc_info=exception)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("spider_exceptions/count")
        article = request is not None and request.callback == getattr(spider, "parse_article", None)
        reason = " ".join(f"internal error: {type(exception).__name__}: {exception}".split())
        spider.problem(source, response.url, reason[:300], "failed" if article else "feeds_failed")
        return []
