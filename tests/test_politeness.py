"""Politeness: Retry-After and back-off on 429/503, per-outlet delay and concurrency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from monitor.discovery.sources import SourcesError, parse_sources
from monitor.middlewares.politeness import backoff_delay, retry_after_seconds
from spiders.news import NewsSpider

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
SOURCE = """
[[outlet]]
name = "rp"
domains = ["rp.pl"]
feeds = ["https://www.rp.pl/rss_main"]
article_pattern = '/art\\d+-'
"""


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (b"7", 7.0),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        (format_datetime(NOW - timedelta(seconds=90), usegmt=True), 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after(header, seconds):
    assert retry_after_seconds(header, NOW) == seconds


def test_backoff_doubles_obeys_and_is_capped():
    assert backoff_delay(0.0, None, 300) == 1.0
    assert backoff_delay(4.0, None, 300) == 8.0
    assert backoff_delay(4.0, 60.0, 300) == 60.0
    assert backoff_delay(4.0, 1.0, 300) == 4.0  # never faster than we already go
    assert backoff_delay(200.0, None, 300) == 300.0
    assert backoff_delay(4.0, 86400.0, 300) == 300.0


def test_delay_and_concurrency_are_validated():
    (source,) = parse_sources(SOURCE + "delay = 2.5\nconcurrency = 1\n", "s.toml")
    assert (source.delay, source.concurrency) == (2.5, 1)
    with pytest.raises(SourcesError, match="field 'delay': -1 must be a number of seconds"):
        parse_sources(SOURCE + "delay = -1\n", "s.toml")
    with pytest.raises(SourcesError, match="field 'concurrency': 0 must be a whole number"):
        parse_sources(SOURCE + "concurrency = 0\n", "s.toml")


def test_outlet_with_its_own_pace_gets_its_own_slot(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        SOURCE + "delay = 3\nconcurrency = 1\n" + SOURCE.replace('"rp"', '"rp2"').replace("rp.pl", "rp2.pl")
    )
    crawler = get_crawler(NewsSpider, {"MONITOR_SOURCES": str(path)})
    spider = NewsSpider.from_crawler(crawler)
    fresh = Settings()
    spider.configure_slots(fresh)
    assert fresh.getdict("DOWNLOAD_SLOTS") == {"outlet:rp": {"delay": 3.0, "concurrency": 1}}
    assert spider.discovery_request("https://www.rp.pl/rss_main", "rp").meta["download_slot"] == "outlet:rp"
    assert "download_slot" not in spider.discovery_request("https://rp2.pl/rss_main", "rp2").meta


def test_a_host_that_answers_503_with_retry_after_is_slowed_down(tmp_path):
    from test_robots import crawl_site, make_site

    sites = make_site(tmp_path, None, feed_extra='status = 503\nheaders = { "Retry-After" = "1" }\n')
    row = crawl_site(tmp_path, sites, "-s", "RETRY_TIMES=1")
    assert "HTTP 503, slowing this host to one request per 1 s" in row["log"]
    assert row["feeds_failed"] == 1 and row["failed"] == 0 and "HTTP 503" in row["errors"]
