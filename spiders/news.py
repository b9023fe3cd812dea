"""The one spider: discovers article URLs from each outlet's feeds, news sitemaps and section pages, follows them,
and hands each page to the pure extraction function. It decides nothing itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from monitor import settings as monitor_settings
from monitor.extract import Hints, NotAnArticle, extract_article
from monitor.feeds import FeedError, Link, parse_discovery, parse_section
from monitor.items import ArticleItem
from monitor.pipelines import stat_key
from monitor.robots import RobotsTxtUnavailable
from monitor.sources import Source, load_sources, select
from monitor.urls import canonical_url, pattern_target


def failure_reason(failure: Failure) -> str:
    """One line saying why a request failed (HTTP status, DNS, refused connection, timeout …)."""
    value = failure.value
    response = getattr(value, "response", None)
    if response is not None:
        return f"HTTP {response.status}"
    name = type(value).__name__
    text = str(value).strip().splitlines()[0] if str(value).strip() else ""
    return f"{name}: {text}" if text else name


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, source: str | None = None, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.source_filter = source
        self.sources: list[Source] = []
        self.by_name: dict[str, Source] = {}
        self.scheduled: set[str] = set()
        self.errors: dict[str, list[str]] = {}
        self.min_words = 40
        self.max_errors = 20

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """Name the project and a contact URL in the User-Agent, unless the user set their own."""
        super().update_settings(settings)
        current = settings.get("USER_AGENT") or ""
        if not current or current.startswith("Scrapy/"):
            bot = settings.get("MONITOR_BOT_NAME") or monitor_settings.MONITOR_BOT_NAME
            contact = settings.get("MONITOR_CONTACT_URL") or monitor_settings.MONITOR_CONTACT_URL
            settings.set("USER_AGENT", f"{bot} (+{contact})", priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.sources = select(load_sources(settings.get("MONITOR_SOURCES") or None), spider.source_filter)
        spider.by_name = {s.name: s for s in spider.sources}
        spider.min_words = settings.getint("MONITOR_MIN_WORDS", monitor_settings.MONITOR_MIN_WORDS)
        spider.max_errors = settings.getint(
            "MONITOR_MAX_ERRORS_KEPT", monitor_settings.MONITOR_MAX_ERRORS_KEPT
        )
        return spider

    # --- bookkeeping ------------------------------------------------------------------------
    def count(self, source: str, counter: str, by: int = 1) -> None:
        self.crawler.stats.inc_value(stat_key(source, counter), by)

    def problem(self, source: str, url: str, reason: str, counter: str | None = "failed") -> None:
        """Log a problem once, with its URL, and count it; failures are also kept for the run's record."""
        reason = " ".join(reason.split())
        self.logger.warning("%s: %s: %s", source, url, reason)
        if counter == "failed":
            kept = self.errors.setdefault(source, [])
            if len(kept) < self.max_errors:
                kept.append(f"{url}: {reason}")
        if counter:
            self.count(source, counter)

    # --- discovery --------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        for source in self.sources:
            for url in (*source.feeds, *source.sitemaps):
                yield self.discovery_request(url, source.name)
            for url in source.sections:
                yield scrapy.Request(
                    url,
                    callback=self.parse_section,
                    errback=self.request_failed,
                    cb_kwargs={"source": source.name},
                    dont_filter=True,
                )

    def discovery_request(self, url: str, source: str) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_discovery,
            errback=self.request_failed,
            cb_kwargs={"source": source},
            dont_filter=True,
        )

    def parse_discovery(self, response: Response, source: str) -> Iterator[scrapy.Request]:
        """Read a feed, news sitemap or sitemap index and follow its article links."""
        try:
            discovery = parse_discovery(response.body, response.url)
        except FeedError as exc:
            self.problem(source, response.url, str(exc).removeprefix(f"{response.url}: "))
            return
        if discovery.problem:
            self.problem(source, response.url, f"{discovery.problem} (kept {len(discovery.links)} entries)")
        if not discovery.links:
            self.logger.info("%s: %s: empty %s", source, response.url, discovery.kind)
        outlet = self.by_name[source]
        for link in discovery.links:
            if not outlet.owns(link.url):
                self.problem(
                    source, link.url, f"off-domain link in {response.url}, not followed", "offdomain"
                )
            elif link.is_sitemap:
                yield self.discovery_request(link.url, source)
            else:
                yield from self.follow(outlet, link)

    def is_article_url(self, outlet: Source, url: str) -> bool:
        """The outlet's article pattern decides, for every discovery kind; other URLs are counted, not fetched."""
        if outlet.article_pattern.search(pattern_target(url)):
            return True
        self.logger.debug("%s: %s: not an article URL, ignored", outlet.name, url)
        self.count(outlet.name, "ignored")
        return False

    def parse_section(self, response: Response, source: str) -> Iterator[scrapy.Request]:
        """Follow the links of a section page that match the outlet's article pattern."""
        outlet = self.by_name[source]
        if not isinstance(response, TextResponse):
            self.problem(source, response.url, "section page is not HTML")
            return
        try:
            links = parse_section(response.text, response.url, outlet.article_pattern)
        except FeedError as exc:
            self.problem(source, response.url, str(exc).removeprefix(f"{response.url}: "))
            return
        for link in links:
            if outlet.owns(link.url):
                yield from self.follow(outlet, link)

    def follow(self, outlet: Source, link: Link) -> Iterator[scrapy.Request]:
        key = canonical_url(link.url)
        if key in self.scheduled or not self.is_article_url(outlet, link.url):
            return
        self.scheduled.add(key)
        self.count(outlet.name, "discovered")
        hints = {"title": link.title, "published": link.published, "published_source": link.published_source}
        yield scrapy.Request(
            link.url,
            callback=self.parse_article,
            errback=self.request_failed,
            cb_kwargs={"source": outlet.name, "hints": hints},
        )

    def request_failed(self, failure: Failure) -> None:
        """A request that got no usable response: robots.txt refusals are skips, everything else a failure."""
        request = failure.request
        source = request.cb_kwargs.get("source", "?")
        forbidden = failure.check(IgnoreRequest) and not failure.check(HttpError, RobotsTxtUnavailable)
        self.problem(source, request.url, failure_reason(failure), "skipped" if forbidden else "failed")

    # --- articles ---------------------------------------------------------------------------
    def parse_article(
        self, response: Response, source: str, hints: dict[str, Any] | None = None
    ) -> Iterator[ArticleItem]:
        """Extract one article page into an item."""
        self.count(source, "fetched")
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
        if not isinstance(response, TextResponse):
            self.problem(source, response.url, f"not an HTML page ({content_type})", "skipped")
            return
        try:
            article = extract_article(
                response.url,
                response.body,
                content_type=content_type,
                hints=Hints(**hints) if hints else None,
                min_words=self.min_words,
                site=self.by_name[source].extract,
            )
        except NotAnArticle as exc:
            self.problem(source, response.url, f"not an article: {exc}", "skipped")
            return
        yield ArticleItem(source=source, article=article)
