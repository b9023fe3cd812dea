"""The spider's callbacks on stored bytes, without a network: what it follows, what it carries, what it counts."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request, Response, TextResponse, XmlResponse
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from monitor.discovery.feeds import parse_discovery
from monitor.discovery.urls import canonical_url
from monitor.items import ArticleItem, NonArticleItem
from spiders.news import NewsSpider

SOURCES = """
[[outlet]]
name = "rmf24"
domains = ["rmf24.pl"]
feeds = ["https://www.rmf24.pl/fakty/feed"]
article_pattern = ',nId,\\d+$'
"""
FEED = b"""<rss version="2.0"><channel>
<item><title>Rozmowy</title><link>https://www.rmf24.pl/fakty/news-a,nId,1</link><pubDate>Wed, 14 Jan 2026 10:32:00 +0100</pubDate></item>
<item><title>Znowu</title><link>https://www.rmf24.pl/fakty/news-a,nId,1?utm_source=rss</link></item>
<item><title>Obcy</title><link>https://www.youtube.com/watch?v=x</link></item>
<item><title>Tag</title><link>https://www.rmf24.pl/tagi/ukraina</link></item>
</channel></rss>"""


@pytest.fixture
def spider(tmp_path: Path) -> NewsSpider:
    path = tmp_path / "sources.toml"
    path.write_text(SOURCES)
    crawler = get_crawler(NewsSpider, {"MONITOR_SOURCES": str(path), "MONITOR_MIN_WORDS": 10})
    return NewsSpider.from_crawler(crawler)


def stat(spider: NewsSpider, name: str) -> int:
    return spider.crawler.stats.get_value(f"monitor/rmf24/{name}", 0)


def errors(spider: NewsSpider) -> list[str]:
    return spider.crawler.stats.get_value("monitor/rmf24/errors")


def test_feed_links_are_followed_once_on_domain_with_hints(spider):
    response = XmlResponse(
        "https://www.rmf24.pl/fakty/feed", body=FEED, request=Request("https://www.rmf24.pl/fakty/feed")
    )
    requests = list(spider.parse_discovery(response, source="rmf24"))
    assert [r.url for r in requests] == ["https://www.rmf24.pl/fakty/news-a,nId,1"]
    hints = requests[0].cb_kwargs["hints"]
    assert hints == {"title": "Rozmowy", "published": "2026-01-14T10:32:00+01:00", "published_source": "feed"}
    assert requests[0].errback == spider.request_failed
    assert (stat(spider, "discovered"), stat(spider, "offdomain"), stat(spider, "ignored")) == (1, 1, 1)


def test_broken_feed_is_counted_and_kept(spider):
    response = XmlResponse(
        "https://www.rmf24.pl/fakty/feed", body=b"<rss><channel><item>", request=Request("https://x")
    )
    assert list(spider.parse_discovery(response, source="rmf24")) == []
    assert (stat(spider, "feeds_failed"), stat(spider, "failed")) == (1, 0)
    assert errors(spider)[0].startswith("https://www.rmf24.pl/fakty/feed: malformed XML at line 1")


def test_article_page_becomes_an_item_and_non_article_is_skipped(spider):
    body = (
        "<html><body><article><h1>Tytuł</h1>"
        + "".join(f"<p>To jest zdanie numer {n} artykułu o rozmowach w Genewie.</p>" for n in range(8))
        + "</article></body></html>"
    )
    url = "https://www.rmf24.pl/fakty/news-a,nId,1"
    page = HtmlResponse(url, body=body.encode(), encoding="utf-8", request=Request(url))
    (item,) = spider.parse_article(
        page, source="rmf24", hints={"title": None, "published": None, "published_source": None}
    )
    assert (
        isinstance(item, ArticleItem)
        and item.source == "rmf24"
        and item.article.canonical_url == "https://rmf24.pl/fakty/news-a,nId,1"
    )
    empty = HtmlResponse(url, body=b"<html><body><h1>Wideo</h1></body></html>", request=Request(url))
    empty.meta.update(key="https://rmf24.pl/fakty/news-a,nId,1", announced="2026-01-14T10:32:00+01:00")
    (remembered,) = spider.parse_article(empty, source="rmf24")
    assert isinstance(remembered, NonArticleItem) and remembered.source == "rmf24"
    assert (remembered.key, remembered.announced) == (
        "https://rmf24.pl/fakty/news-a,nId,1",
        "2026-01-14T10:32:00+01:00",
    )
    assert remembered.reason  # what extraction said (no text, a video page …)
    mislabelled = TextResponse(url, body=b"%PDF-1.4", encoding="latin-1", request=Request(url))
    assert [type(i) for i in spider.parse_article(mislabelled, source="rmf24")] == [NonArticleItem]
    pdf = Response(url, body=b"%PDF-1.4", headers={"Content-Type": "application/pdf"}, request=Request(url))
    assert list(spider.parse_article(pdf, source="rmf24")) == []  # not HTML: skipped, not remembered
    assert stat(spider, "skipped") == 3 and stat(spider, "fetched") == 4


def test_user_agent_names_the_project_and_contact_url():
    settings = Settings(
        {"MONITOR_CONTACT_URL": "https://example.org/kontakt", "MONITOR_BOT_NAME": "pl-peace-monitor/9"}
    )
    NewsSpider.update_settings(settings)
    assert settings["USER_AGENT"] == "pl-peace-monitor/9 (+https://example.org/kontakt)"
    own = Settings({"USER_AGENT": "mine"}, priority="cmdline")
    NewsSpider.update_settings(own)
    assert own["USER_AGENT"] == "mine"


def test_project_settings_are_polite():
    from monitor import settings

    assert settings.ROBOTSTXT_OBEY and settings.AUTOTHROTTLE_ENABLED
    assert settings.CONCURRENT_REQUESTS_PER_DOMAIN == 2
    assert settings.SPIDER_MODULES == ["spiders"]


def test_an_exception_in_a_callback_is_a_counted_failure_of_its_outlet(spider):
    from monitor.middlewares.callbacks import CallbackErrors

    middleware = CallbackErrors(spider.crawler)
    spider.crawler.spider = spider
    url = "https://www.rmf24.pl/fakty/news-a,nId,1"
    article = HtmlResponse(
        url,
        body=b"<html></html>",
        request=Request(url, callback=spider.parse_article, cb_kwargs={"source": "rmf24"}),
    )
    assert middleware.process_spider_exception(article, RecursionError("too deep"), spider) == []
    feed = XmlResponse(
        url,
        body=b"<rss/>",
        request=Request(url, callback=spider.parse_discovery, cb_kwargs={"source": "rmf24"}),
    )
    assert middleware.process_spider_exception(feed, ValueError("bad"), spider) == []
    assert (stat(spider, "failed"), stat(spider, "feeds_failed")) == (1, 1)
    assert errors(spider)[0] == f"{url}: internal error: RecursionError: too deep"
    assert spider.crawler.stats.get_value("spider_exceptions/count") == 2
    unknown = HtmlResponse(url, body=b"", request=Request(url))
    assert middleware.process_spider_exception(unknown, ValueError("x"), spider) is None


def test_per_outlet_limits_are_validated_and_override_the_settings(tmp_path):
    from monitor.discovery.sources import SourcesError, load_sources

    path = tmp_path / "s.toml"
    for bad in ("-1", "true", "2.5", '"10"'):
        path.write_text(SOURCES + f"max_links = {bad}\n")
        with pytest.raises(SourcesError, match=r"outlet 'rmf24' \(entry 1\), field 'max_links'"):
            load_sources(path)
    path.write_text(SOURCES + "max_links = 1\nmax_sitemaps = 0\n")
    (outlet,) = load_sources(path)
    assert (outlet.max_links, outlet.max_sitemaps) == (1, 0)
    crawler = get_crawler(NewsSpider, {"MONITOR_SOURCES": str(path), "MONITOR_MAX_LINKS": 500})
    spider = NewsSpider.from_crawler(crawler)
    response = XmlResponse(
        "https://www.rmf24.pl/fakty/feed", body=FEED, request=Request("https://www.rmf24.pl/fakty/feed")
    )
    links = parse_discovery(FEED, response.url).links
    (kept,) = spider.bounded("rmf24", response.url, links)
    assert kept == links[0]  # the only dated link is the newest


class Stored:
    """A recall that knows every URL it is asked about, stored as the feed announces it (so: unchanged)."""

    def recall(self, fresh):
        from monitor.discovery.memory import Memory

        when = "2026-01-14T10:32:00+01:00"
        return Memory(known=dict.fromkeys(fresh, when), announced=dict.fromkeys(fresh, when))


@pytest.mark.parametrize("first", [True, False])
def test_an_unchanged_article_is_counted_only_by_the_worker_that_claims_it_first(spider, first):
    """Distributed: the scheduler gives the spider ``claim_for_run``; an unchanged article another worker already
    found in this run is neither discovered nor unchanged again here."""
    spider.recall = Stored()
    asked = []
    spider.claim_for_run = lambda key: asked.append(key) or first
    response = XmlResponse(
        "https://www.rmf24.pl/fakty/feed", body=FEED, request=Request("https://www.rmf24.pl/fakty/feed")
    )
    assert list(spider.parse_discovery(response, source="rmf24")) == []  # stored and unchanged: not requested
    assert asked == [canonical_url("https://www.rmf24.pl/fakty/news-a,nId,1")]
    assert (stat(spider, "discovered"), stat(spider, "unchanged")) == ((1, 1) if first else (0, 0))
