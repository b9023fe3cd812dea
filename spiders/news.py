"""The one spider: discovers article URLs from each outlet's feeds, news sitemaps and section pages, follows them,
and hands each page to the pure extraction function. It decides nothing itself."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import datetime
from typing import Any

import scrapy
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.settings import BaseSettings
from scrapy.utils.misc import load_object
from twisted.python.failure import Failure

from monitor import settings as monitor_settings
from monitor import signals as monitor_signals
from monitor.archive import StorageError
from monitor.discovery.feeds import FeedError, Link, parse_discovery, parse_section
from monitor.discovery.memory import (
    FeedState,
    Memory,
    announced_time,
    conditional_headers,
    needs_fetch,
)
from monitor.discovery.sources import Source, load_sources, select
from monitor.discovery.urls import canonical_url, pattern_target
from monitor.extensions.runs import ERRORS, OUTLETS, SECONDS, STORAGE_ERROR, stat_key
from monitor.extract import Hints, SiteHints
from monitor.items import ArticleItem, NonArticleItem
from monitor.middlewares.robots import ForbiddenByRobots
from monitor.pool.reactor import ReactorPool, pool_for
from monitor.pool.work import Outcome, Page, RemoteTraceback, extract
from monitor.pool.workers import processes_setting

FEEDS_FAILED = "feeds_failed"  # feeds, sitemaps and section pages that could not be fetched or read


def failure_reason(failure: Failure) -> str:
    """One line saying why a request failed (HTTP status, DNS, refused connection, timeout …)."""
    value = failure.value
    response = getattr(value, "response", None)
    if response is not None:
        return f"HTTP {response.status}"
    name = type(value).__name__
    if "DataLoss" in name:
        return "the connection closed before the whole body arrived (data loss)"
    text = " ".join(str(value).split()).rstrip(".")
    if isinstance(value, IgnoreRequest) or not text:
        return text or name  # our own refusals say it all
    return f"{name}: {text}"


class NewsSpider(scrapy.Spider):
    """What the run's record needs, the spider reports in the crawler's stats (``monitor/outlets``, and per
    outlet ``monitor/<outlet>/<counter>``, ``…/errors``, ``…/seconds``), as items (articles, pages that are not
    articles) and as signals (the run's start, feed validators: :mod:`monitor.signals`); the run recorder and the
    pipeline read none of its attributes."""

    name = "news"

    def __init__(self, source: str | None = None, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.source_filter = source
        self.sources: list[Source] = []
        self.by_name: dict[str, Source] = {}
        self.scheduled: set[str] = set()
        self.min_words = 40
        self.max_errors = 20
        self.max_page_bytes = monitor_settings.MONITOR_MAX_PAGE_BYTES
        self.max_links = monitor_settings.MONITOR_MAX_LINKS
        self.max_sitemaps = monitor_settings.MONITOR_MAX_SITEMAPS
        self.discovery_seen: dict[str, set[str]] = {}  # per outlet: feeds and sitemaps requested in this run
        self.recall: Any = None  # what the archive remembers (MONITOR_RECALL), asked by discovery
        self.pool: ReactorPool | None = None  # extraction workers, when the crawl has them
        self.incremental = True
        self.db_path: str | None = None
        self.started = time.monotonic()

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """Name the project and a contact URL in the User-Agent, unless the user set their own."""
        super().update_settings(settings)
        current = settings.get("USER_AGENT") or ""
        if not current or current.startswith("Scrapy/"):
            agent = monitor_settings.user_agent(
                settings.get("MONITOR_BOT_NAME"), settings.get("MONITOR_CONTACT_URL")
            )
            settings.set("USER_AGENT", agent, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.sources = select(load_sources(settings.get("MONITOR_SOURCES") or None), spider.source_filter)
        spider.by_name = {s.name: s for s in spider.sources}
        spider.configure_slots(settings)
        spider.incremental = settings.getbool("MONITOR_INCREMENTAL", True)
        processes_setting(settings.get("MONITOR_POOL_PROCESSES"))  # a bad value stops the crawl here
        spider.db_path = settings.get("MONITOR_DB")
        spider.min_words = settings.getint("MONITOR_MIN_WORDS", monitor_settings.MONITOR_MIN_WORDS)
        spider.max_page_bytes = settings.getint("MONITOR_MAX_PAGE_BYTES", spider.max_page_bytes)
        spider.max_links = settings.getint("MONITOR_MAX_LINKS", spider.max_links)
        spider.max_sitemaps = settings.getint("MONITOR_MAX_SITEMAPS", spider.max_sitemaps)
        spider.max_errors = settings.getint(
            "MONITOR_MAX_ERRORS_KEPT", monitor_settings.MONITOR_MAX_ERRORS_KEPT
        )
        return spider

    def configure_slots(self, settings: BaseSettings) -> None:
        """Outlets with their own ``delay``/``concurrency`` get one download slot for all their hosts."""
        slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
        for outlet in self.sources:
            if outlet.delay is None and outlet.concurrency is None:
                continue
            slot: dict[str, Any] = {}
            if outlet.delay is not None:
                slot["delay"] = outlet.delay
            if outlet.concurrency is not None:
                slot["concurrency"] = outlet.concurrency
            slots[self.slot_name(outlet.name)] = slot
        if slots and not settings.frozen:
            settings.set("DOWNLOAD_SLOTS", slots, priority="spider")

    @staticmethod
    def slot_name(source: str) -> str:
        return f"outlet:{source}"

    def request(self, url: str, source: str, **kwargs: Any) -> scrapy.Request:
        """A request of an outlet, in the outlet's own download slot when it declares delay or concurrency."""
        outlet = self.by_name[source]
        meta = dict(kwargs.pop("meta", {}))
        if outlet.delay is not None or outlet.concurrency is not None:
            meta["download_slot"] = self.slot_name(source)
        return scrapy.Request(url, meta=meta, **kwargs)

    # --- bookkeeping ------------------------------------------------------------------------
    def count(self, source: str, counter: str, by: int = 1) -> None:
        """Count in the stats, and note the seconds from the start of the run to the outlet's last response."""
        stats = self.crawler.stats
        stats.inc_value(stat_key(source, counter), by)
        stats.set_value(stat_key(source, SECONDS), round(time.monotonic() - self.started, 1))

    def problem(self, source: str, url: str, reason: str, counter: str | None = "failed") -> None:
        """Log a problem once, with its URL, and count it; failures (of articles, or of feeds, sitemaps and
        section pages) also go to the outlet's error lines in the stats (the first ``MONITOR_MAX_ERRORS_KEPT``),
        for the run's record."""
        reason = " ".join(reason.split())
        self.logger.warning("%s: %s: %s", source, url, reason)
        if counter in ("failed", FEEDS_FAILED):
            key = stat_key(source, ERRORS)
            kept = self.crawler.stats.get_value(key) or []
            if len(kept) < self.max_errors:
                self.crawler.stats.set_value(key, [*kept, f"{url}: {reason}"])
        if counter:
            self.count(source, counter)

    # --- discovery --------------------------------------------------------------------------
    def begin_run(self) -> None:
        """The crawl begins: name its outlets in the stats and announce it (:data:`monitor.signals.crawl_started`),
        so the run recorder records the run's start. A handler that refuses the run (another run holds the lock,
        the archive cannot be used) raises :class:`CloseSpider`, raised on here as Scrapy does for
        ``spider_opened``: from :meth:`start`, it closes the spider with its reason before any request.

        Called by :meth:`start` only: ``scrapy parse``, ``scrapy check`` and ``scrapy shell``, which replace or
        skip it, record no run."""
        self.crawler.stats.set_value(OUTLETS, [source.name for source in self.sources])
        results = self.crawler.signals.send_catch_log(
            signal=monitor_signals.crawl_started, spider=self, dont_log=CloseSpider
        )
        for _receiver, result in results:
            if isinstance(result, Failure) and isinstance(result.value, CloseSpider):
                raise result.value

    async def start(self) -> AsyncIterator[Any]:
        self.begin_run()
        if self.incremental:
            # Opened once the run recorder has opened (and upgraded) the archive.
            try:
                recall = load_object(self.crawler.settings.get("MONITOR_RECALL"))
                self.recall = recall.from_crawler(self.crawler)
            except StorageError as exc:
                self.logger.error("stopping the crawl: %s", exc)
                self.crawler.stats.set_value(STORAGE_ERROR, str(exc))
                return
        # Only a crawl has workers: scrapy parse, check and shell extract in their own process.
        self.pool = pool_for(self.crawler.settings)
        for source in self.sources:
            for url in (*source.feeds, *source.sitemaps):
                yield self.discovery_request(url, source.name)
            for url in source.sections:
                yield self.request(
                    url,
                    source.name,
                    callback=self.parse_section,
                    errback=self.request_failed,
                    cb_kwargs={"source": source.name},
                    dont_filter=True,
                )

    def closed(self, reason: str) -> None:
        if self.pool is not None:
            self.pool.close(self.crawler.stats)
            self.pool = None
        if self.recall is not None:
            self.recall.close()
            self.recall = None

    def discovery_request(self, url: str, source: str) -> scrapy.Request:
        """A feed or sitemap request, conditional on the validators the last completed run saw."""
        self.discovery_seen.setdefault(source, set()).add(canonical_url(url))
        return self.request(
            url,
            source,
            headers=conditional_headers(self.recall.feed(url) if self.recall is not None else None),
            meta={"handle_httpstatus_list": [304]},
            callback=self.parse_discovery,
            errback=self.request_failed,
            cb_kwargs={"source": source},
            dont_filter=True,
        )

    def outlet_for(self, url: str, source: str | None, quiet: bool = False) -> str | None:
        """The outlet a callback works for: given by discovery, or (``scrapy parse``) found by the URL's domain."""
        if source:
            return source
        for outlet in self.sources:
            if outlet.owns(url):
                return outlet.name
        if not quiet:
            self.logger.warning(
                '%s: on no outlet\'s domains; give one with --cbkwargs \'{"source": "NAME"}\'', url
            )
        return None

    def parse_discovery(self, response: Response, source: str | None = None) -> Iterator[scrapy.Request]:
        """Read a feed, news sitemap or sitemap index and follow its article links.

        @fixture fixtures/sites/rmf24/feed-fakty.xml
        @cb_kwargs {"source": "rmf24"}
        @returns requests 6 6
        @returns items 0 0
        """
        source = self.outlet_for(response.url, source)
        if source is None:
            return
        requested = response.meta.get("redirect_urls", [response.url])[0]
        if response.status == 304:
            self.logger.info("%s: %s: not modified since the last run", source, requested)
            self.count(source, "not_modified")
            return
        etag = response.headers.get(b"ETag")
        modified = response.headers.get(b"Last-Modified")
        if etag or modified:  # saved by the run recorder if the run finishes
            state = FeedState(
                requested,
                etag.decode("latin-1") if etag else None,
                modified.decode("latin-1") if modified else None,
            )
            self.crawler.signals.send_catch_log(signal=monitor_signals.feed_validated, state=state)
        try:
            discovery = parse_discovery(response.body, response.url)
        except FeedError as exc:
            self.problem(source, response.url, str(exc).removeprefix(f"{response.url}: "), FEEDS_FAILED)
            return
        if discovery.problem:
            self.problem(
                source,
                response.url,
                f"{discovery.problem} (kept {len(discovery.links)} entries)",
                FEEDS_FAILED,
            )
        if not discovery.links:
            self.logger.info("%s: %s: empty %s", source, response.url, discovery.kind)
        outlet = self.by_name[source]
        articles = []
        for link in self.bounded(source, response.url, discovery.links):
            if not outlet.owns(link.url):
                self.problem(
                    source, link.url, f"off-domain link in {response.url}, not followed", "offdomain"
                )
            elif link.is_sitemap:
                yield from self.child_sitemap(source, link.url, response.url)
            else:
                articles.append(link)
        yield from self.follow(outlet, articles, requested)

    def bounded(self, source: str, url: str, links: list[Link]) -> list[Link]:
        """At most the outlet's ``max_links`` (else ``MONITOR_MAX_LINKS``) links of one feed or sitemap: the
        newest (undated ones last), in the document's order."""
        outlet = self.by_name[source]
        most = self.max_links if outlet.max_links is None else outlet.max_links
        if most <= 0 or len(links) <= most:
            return links

        def newest_first(index: int) -> float:
            when = announced_time(links[index])
            try:
                return -datetime.fromisoformat(when).timestamp() if when else float("inf")
            except ValueError:
                return float("inf")

        keep = sorted(sorted(range(len(links)), key=newest_first)[:most])
        self.logger.warning(
            "%s: %s: %d links, following the newest %d (max_links, MONITOR_MAX_LINKS)",
            source,
            url,
            len(links),
            len(keep),
        )
        self.count(source, "links_dropped", len(links) - len(keep))
        return [links[i] for i in keep]

    def child_sitemap(self, source: str, url: str, index: str) -> Iterator[scrapy.Request]:
        """A sitemap listed by a sitemap index: once per run, and at most the outlet's ``max_sitemaps`` (else
        ``MONITOR_MAX_SITEMAPS``) feeds and sitemaps per outlet."""
        seen = self.discovery_seen.setdefault(source, set())
        outlet = self.by_name[source]
        most = self.max_sitemaps if outlet.max_sitemaps is None else outlet.max_sitemaps
        if canonical_url(url) in seen:
            self.problem(
                source, url, f"listed again by {index} (a sitemap index loop), not read twice", FEEDS_FAILED
            )
        elif len(seen) >= most > 0:
            self.problem(
                source, url, f"more than {most} feeds and sitemaps (max_sitemaps), not read", FEEDS_FAILED
            )
        else:
            yield self.discovery_request(url, source)

    def is_article_url(self, outlet: Source, url: str) -> bool:
        """The outlet's article pattern decides, for every discovery kind; other URLs are counted, not fetched."""
        if outlet.article_pattern.search(pattern_target(url)):
            return True
        self.logger.debug("%s: %s: not an article URL, ignored", outlet.name, url)
        self.count(outlet.name, "ignored")
        return False

    def parse_section(self, response: Response, source: str | None = None) -> Iterator[scrapy.Request]:
        """Follow the links of a section page that match the outlet's article pattern.

        @fixture fixtures/sites/rp/section-konflikty-zbrojne.html
        @cb_kwargs {"source": "rp"}
        @returns requests 5
        @returns items 0 0
        """
        source = self.outlet_for(response.url, source)
        if source is None:
            return
        outlet = self.by_name[source]
        if not isinstance(response, TextResponse):
            self.problem(source, response.url, "section page is not HTML", FEEDS_FAILED)
            return
        try:
            links = parse_section(response.text, response.url, outlet.article_pattern)
        except FeedError as exc:
            self.problem(source, response.url, str(exc).removeprefix(f"{response.url}: "), FEEDS_FAILED)
            return
        yield from self.follow(outlet, [link for link in links if outlet.owns(link.url)], None)

    def follow(self, outlet: Source, links: list[Link], feed: str | None) -> Iterator[scrapy.Request]:
        """Request each article once per run, and only when it is new or discovery says it changed: the archive is
        asked about the page's new article URLs together."""
        fresh: dict[str, Link] = {}
        for link in links:
            key = canonical_url(link.url)
            if key in self.scheduled or key in fresh or not self.is_article_url(outlet, link.url):
                continue
            fresh[key] = link
        self.scheduled.update(fresh)
        memory = (
            self.recall.recall(fresh) if fresh and self.recall is not None else Memory()
        )  # None: full crawl
        claim = getattr(self, "claim_for_run", None)  # distributed: an article two workers find counts once
        for key, link in fresh.items():
            if needs_fetch(link, key, memory):
                self.count(outlet.name, "discovered")
                yield self.article_request(outlet, link, key, feed)
            elif claim is None or claim(key):
                self.count(outlet.name, "discovered")
                self.count(outlet.name, "unchanged")

    def article_request(self, outlet: Source, link: Link, key: str, feed: str | None) -> scrapy.Request:
        hints = {"title": link.title, "published": link.published, "published_source": link.published_source}
        return self.request(
            link.url,
            outlet.name,
            callback=self.parse_article,
            errback=self.request_failed,
            cb_kwargs={"source": outlet.name, "hints": hints},
            meta={
                "feed": feed,
                "key": key,
                "announced": announced_time(link),
                "download_maxsize": self.max_page_bytes,
            },
            # the spider requests each canonical URL once itself; past the duplicate filter, a redirect back
            # into its own chain is reported (monitor.middlewares.downloads.RedirectLoops) instead of vanishing
            dont_filter=True,
        )

    def request_failed(self, failure: Failure) -> None:
        """A request that got no usable response. An article refused by robots.txt is a skip, any other article
        a failure; a feed, sitemap or section page that could not be read is a failed feed, whatever the
        reason (robots.txt included: nothing can be discovered from it)."""
        request = getattr(failure, "request", None)
        if request is None:
            return
        source = request.cb_kwargs.get("source", "?")
        if request.callback not in (self.parse_article, None):
            self.problem(source, request.url, failure_reason(failure), FEEDS_FAILED)
            return
        forbidden = bool(failure.check(ForbiddenByRobots))
        feed = request.meta.get("feed")
        if feed and not forbidden:  # its validators are not saved: the next run reads it in full
            self.crawler.signals.send_catch_log(signal=monitor_signals.feed_incomplete, url=feed)
        self.problem(source, request.url, failure_reason(failure), "skipped" if forbidden else "failed")

    # --- articles ---------------------------------------------------------------------------
    def parse_article(
        self, response: Response, source: str | None = None, hints: dict[str, Any] | None = None
    ) -> Iterable[ArticleItem | NonArticleItem] | AsyncIterator[ArticleItem | NonArticleItem]:
        """Extract one article page into the item the pipeline classifies and stores (a page that is not an
        article into the item that remembers it). In a crawl with extraction workers, a worker extracts and
        classifies the page while the reactor goes on (the callback's items come asynchronously).

        @fixture fixtures/sites/interia/articles/kushner-witkoff-putin-moskwa.html
        @cb_kwargs {"source": "interia"}
        @returns items 1 1
        @returns requests 0 0
        @scrapes source article
        """
        # A saved page (scrapy parse file://…) names its outlet through its canonical link.
        source = self.outlet_for(response.url, source, quiet=response.url.startswith("file:"))
        outlet = self.by_name.get(source) if source else None
        content_type = (response.headers.get(b"Content-Type") or b"").decode("latin-1") or None
        if not isinstance(response, TextResponse):
            if source:
                self.count(source, "fetched")
            self.problem(source or "?", response.url, f"not an HTML page ({content_type})", "skipped")
            return []
        page = Page(
            response.url,
            response.body,
            content_type,
            Hints(**hints) if hints else None,
            outlet.extract if outlet else SiteHints(),
            self.min_words,
        )
        if self.pool is not None:
            return self.extracted_by_worker(response, source, page, self.pool)
        return self.items(response, source, extract(page))

    async def extracted_by_worker(
        self, response: Response, source: str | None, page: Page, pool: ReactorPool
    ) -> AsyncIterator[ArticleItem | NonArticleItem]:
        outcome = await pool.process(page)
        for level, name, message in outcome.logs:
            logging.getLogger(name).log(level, "%s (%s)", message, response.url)
        if outcome.failure:  # the worker died or ran out of time: this page failed, the crawl goes on
            feed = response.meta.get("feed")
            if feed:  # its validators are not saved: the next run reads it in full
                self.crawler.signals.send_catch_log(signal=monitor_signals.feed_incomplete, url=feed)
            self.problem(source or "?", response.url, outcome.failure, "failed")
            return
        if outcome.error is not None:  # raised by extraction or the rules: an internal error of this page
            raise outcome.error from RemoteTraceback(outcome.details)
        for item in self.items(response, source, outcome):
            yield item

    def items(self, response: Response, source: str | None, outcome: Outcome) -> Iterator[Any]:
        """An extracted page's item: an article (with a worker's verdict), or a page that is not an article."""
        if outcome.not_article is not None or outcome.article is None:
            reason = outcome.not_article or "no article"
            self.problem(source or "?", response.url, f"not an article: {reason}", "skipped")
            if source:
                self.count(source, "fetched")
                yield NonArticleItem(
                    source=source,
                    key=response.meta.get("key") or canonical_url(response.url),
                    reason=reason,
                    announced=response.meta.get("announced"),
                )
            return
        source = source or self.outlet_for(outcome.article.canonical_url, None)
        if source is None:
            return
        self.count(source, "fetched")
        yield ArticleItem(
            source=source,
            article=outcome.article,
            key=response.meta.get("key"),
            announced=response.meta.get("announced"),
            verdict=outcome.verdict,
            derived=outcome.derived,
        )
