"""The run recorder extension (monitor.extensions.runs): the run's record built from the crawler's stats and the
monitor's signals, the storage pipeline writing through it, and no component reading the spider's attributes."""

from __future__ import annotations

import ast
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from _env import ENV
from scrapy.exceptions import CloseSpider
from scrapy.http import HtmlResponse, Request, XmlResponse
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from monitor import settings as project
from monitor import signals as monitor_signals
from monitor.discovery.memory import FeedState
from monitor.discovery.sources import load_sources
from monitor.extensions.lock import run_lock
from monitor.extensions.runlock import RunLock
from monitor.extensions.runs import RunRecorder
from monitor.pipelines import StoragePipeline
from spiders.news import NewsSpider

ROOT = Path(__file__).resolve().parent.parent
SOURCES = """
[[outlet]]
name = "rmf24"
title = "RMF24"
group = "broadcaster"
domains = ["rmf24.pl"]
feeds = ["https://www.rmf24.pl/fakty/feed"]
article_pattern = ',nId,\\d+$'

[[outlet]]
name = "onet"
domains = ["onet.pl"]
feeds = ["https://wiadomosci.onet.pl/feed"]
article_pattern = '/[a-z0-9]{7}$'
"""
FEED = "https://www.rmf24.pl/fakty/feed"
ARTICLE = (
    "<html><body><article><h1>Rozmowy w Genewie</h1>"
    + "".join(f"<p>To jest zdanie numer {n} artykułu o rozmowach pokojowych w Genewie.</p>" for n in range(8))
    + "</article></body></html>"
)


def query(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


class Crawl:
    """A crawler with the project's extensions and pipeline, driven by hand: no reactor, no network."""

    def __init__(self, tmp_path: Path, **settings: Any):
        sources = tmp_path / "sources.toml"
        sources.write_text(SOURCES, encoding="utf-8")
        self.db = tmp_path / "m.db"
        self.crawler = get_crawler(
            NewsSpider,
            {
                "EXTENSIONS": project.EXTENSIONS,
                "MONITOR_DB": str(self.db),
                "MONITOR_SOURCES": str(sources),
                "MONITOR_MIN_WORDS": 10,
                "MONITOR_PROGRESS_INTERVAL": 0,
                "MONITOR_LOCK_ENABLED": False,
                **settings,
            },
        )
        self.spider = NewsSpider.from_crawler(self.crawler)
        self.crawler.spider = self.spider
        recorder = self.crawler.get_extension(RunRecorder)
        assert recorder is not None
        self.recorder = recorder
        self.pipeline = StoragePipeline.from_crawler(self.crawler)

    def open(self) -> None:
        """What Scrapy does as the crawl opens and begins: the pipeline and the extension open, then the
        spider's ``start()`` announces the run."""
        self.pipeline.open_spider()
        self.spider.begin_run()

    def article(self, n: int) -> None:
        url = f"https://www.rmf24.pl/fakty/news-{n},nId,{n}"
        page = HtmlResponse(
            url, body=ARTICLE.replace("Genewie", f"Genewie {n}").encode(), request=Request(url)
        )
        page.meta.update(key=url.replace("www.", ""), announced="2026-01-14T10:00:00+01:00", feed=FEED)
        self.spider.count("rmf24", "discovered")
        for item in self.spider.parse_article(page, source="rmf24"):
            self.pipeline.process_item(item)

    def close(self, reason: str = "finished") -> None:
        self.pipeline.close_spider()
        self.recorder.spider_closed(self.spider, reason)

    def run_sources(self) -> dict[str, dict[str, Any]]:
        conn = sqlite3.connect(self.db)
        conn.row_factory = sqlite3.Row
        try:
            return {r["source"]: dict(r) for r in conn.execute("SELECT * FROM run_sources ORDER BY source")}
        finally:
            conn.close()


def test_the_run_is_recorded_from_the_stats_with_every_outlet_from_its_start(tmp_path):
    crawl = Crawl(tmp_path)
    crawl.open()
    assert crawl.crawler.stats.get_value("monitor/run_id") == 1
    assert crawl.crawler.stats.get_value("monitor/outlets") == ["rmf24", "onet"]
    assert query(crawl.db, "SELECT spider, sources, status FROM crawl_runs") == [
        ("news", "rmf24,onet", "running")
    ]
    assert {name: row["discovered"] for name, row in crawl.run_sources().items()} == {"onet": 0, "rmf24": 0}
    # the declarations of the sources file the run uses: title, domains, group
    assert query(crawl.db, "SELECT name, title, domains, outlet_group FROM sources ORDER BY name") == [
        ("onet", "onet", '["onet.pl"]', None),
        ("rmf24", "RMF24", '["rmf24.pl"]', "broadcaster"),
    ]
    crawl.spider.count("onet", "discovered", 3)
    crawl.spider.problem("onet", "https://wiadomosci.onet.pl/a", "HTTP 500")
    crawl.spider.problem("onet", "https://wiadomosci.onet.pl/feed", "malformed XML", "feeds_failed")
    crawl.spider.problem("onet", "https://wiadomosci.onet.pl/b", "not an article", "skipped")  # no error line
    crawl.recorder.record_progress()
    onet = crawl.run_sources()["onet"]
    assert (onet["discovered"], onet["failed"], onet["feeds_failed"], onet["skipped"]) == (3, 1, 1, 1)
    assert json.loads(onet["errors"]) == [
        "https://wiadomosci.onet.pl/a: HTTP 500",
        "https://wiadomosci.onet.pl/feed: malformed XML",
    ]
    assert onet["duration"] == crawl.crawler.stats.get_value("monitor/onet/seconds") >= 0
    crawl.close()
    assert query(crawl.db, "SELECT status, discovered, failed FROM crawl_runs") == [("finished", 3, 1)]


def test_error_lines_are_capped_by_max_errors_kept(tmp_path):
    crawl = Crawl(tmp_path, MONITOR_MAX_ERRORS_KEPT=2)
    crawl.open()
    for n in range(5):
        crawl.spider.problem("rmf24", f"https://www.rmf24.pl/{n}", "HTTP 404")
    crawl.close()
    row = crawl.run_sources()["rmf24"]
    assert row["failed"] == 5 and len(json.loads(row["errors"])) == 2


def test_each_batch_carries_the_counts_of_what_it_stored_so_a_killed_run_matches_its_rows(tmp_path):
    crawl = Crawl(tmp_path, MONITOR_BATCH_SIZE=2, MONITOR_LOCK_ENABLED=True)
    crawl.open()
    for n in range(5):
        crawl.article(n)
    # the process dies here: 4 articles in two committed batches, the fifth in memory; no close
    assert query(crawl.db, "SELECT count(*) FROM articles") == [(4,)]
    row = crawl.run_sources()["rmf24"]
    assert (row["stored"], row["new"], row["fetched"]) == (4, 4, 4)  # fetched: as of the last batch
    crawl.recorder.storage.close()
    lock = crawl.crawler.get_extension(RunLock)
    assert lock is not None
    lock.release()  # the kernel does this when the process dies

    again = Crawl(tmp_path, MONITOR_LOCK_ENABLED=True)  # the next run holds the lock
    again.open()
    assert query(again.db, "SELECT id, status, stored FROM crawl_runs ORDER BY id") == [
        (1, "interrupted", 4),
        (2, "running", None),  # totals are summed when a run ends
    ]
    again.close()
    again.crawler.get_extension(RunLock).release()


def test_a_run_without_the_lock_marks_no_run_interrupted(tmp_path):
    first = Crawl(tmp_path)
    first.open()  # left running: for all this crawl knows, it is alive
    second = Crawl(tmp_path)
    second.open()
    assert query(second.db, "SELECT status FROM crawl_runs ORDER BY id") == [("running",), ("running",)]
    first.close()
    second.close()


def test_non_article_pages_are_stored_with_the_next_batch_not_at_the_end(tmp_path):
    crawl = Crawl(tmp_path, MONITOR_BATCH_SIZE=2)
    crawl.open()
    url = "https://www.rmf24.pl/fakty/wideo-1,nId,9"
    video = HtmlResponse(url, body=b"<html><body><h1>Wideo</h1></body></html>", request=Request(url))
    video.meta.update(key="https://rmf24.pl/fakty/wideo-1,nId,9", announced="2026-01-14T09:00:00+01:00")
    for item in crawl.spider.parse_article(video, source="rmf24"):
        crawl.pipeline.process_item(item)
    assert query(crawl.db, "SELECT count(*) FROM non_articles") == [(0,)]  # waits for its batch
    crawl.article(1)  # the batch is full: both are written, no close needed
    assert query(crawl.db, "SELECT url, source FROM non_articles") == [
        ("https://rmf24.pl/fakty/wideo-1,nId,9", "rmf24")
    ]
    assert ("https://rmf24.pl/fakty/wideo-1,nId,9", "2026-01-14T09:00:00+01:00") in query(
        crawl.db, "SELECT url, at FROM announced"
    )
    assert query(crawl.db, "SELECT count(*) FROM articles") == [(1,)]


ONET_FEED = "https://wiadomosci.onet.pl/feed"


def feeds_read(crawl: Crawl) -> None:
    """Both outlets' feeds answer with an ETag."""
    for source, url, etag in (("rmf24", FEED, '"r1"'), ("onet", ONET_FEED, '"o1"')):
        response = XmlResponse(
            url, body=b"<rss><channel></channel></rss>", headers={"ETag": etag}, request=Request(url)
        )
        list(crawl.spider.parse_discovery(response, source=source))


def test_feed_validators_are_saved_for_a_finished_run_except_feeds_with_a_failed_article(tmp_path):
    crawl = Crawl(tmp_path)
    crawl.open()
    feeds_read(crawl)
    failed = Request(
        "https://www.rmf24.pl/fakty/a,nId,1",
        callback=crawl.spider.parse_article,
        meta={"feed": FEED},
        cb_kwargs={"source": "rmf24"},
    )
    error = Failure(ConnectionRefusedError("refused"))
    error.request = failed  # type: ignore[attr-defined]
    crawl.spider.request_failed(error)  # an article of the rmf24 feed failed
    crawl.close("finished")
    assert query(crawl.db, "SELECT url, etag FROM feed_state") == [(ONET_FEED, '"o1"')]


@pytest.mark.parametrize("reason", ["shutdown", "closespider_timeout"])
def test_feed_validators_are_not_saved_for_a_run_that_did_not_finish(tmp_path, reason):
    crawl = Crawl(tmp_path)
    crawl.open()
    feeds_read(crawl)
    crawl.close(reason)
    assert query(crawl.db, "SELECT count(*) FROM feed_state") == [(0,)]
    assert query(crawl.db, "SELECT status FROM crawl_runs") == [(reason,)]


def test_validators_reach_the_recorder_by_signal(tmp_path):
    crawl = Crawl(tmp_path)
    state = FeedState("https://x/feed", '"1"', None)
    crawl.crawler.signals.send_catch_log(signal=monitor_signals.feed_validated, state=state)
    crawl.crawler.signals.send_catch_log(signal=monitor_signals.feed_incomplete, url="https://y/feed")
    assert crawl.recorder.validators == {"https://x/feed": state}
    assert crawl.recorder.incomplete == {"https://y/feed"}


def test_the_run_begins_with_the_spiders_crawl_not_when_it_opens(tmp_path):
    crawl = Crawl(tmp_path)
    crawl.pipeline.open_spider()  # scrapy parse, check and shell open the spider, but do not run its start()
    crawl.close()
    assert not crawl.db.exists()  # nothing was written: no run with every outlet at zero
    assert crawl.crawler.stats.get_value("monitor/run_id") is None


def test_a_crawl_refused_the_lock_closes_before_opening_the_archive(tmp_path):
    crawl = Crawl(tmp_path)
    crawl.crawler.stats.set_value("monitor/lock_refused", "another run holds the lock x since y, PID 1")
    crawl.crawler.stats.set_value("monitor/lock_refused_by", "held")
    with pytest.raises(CloseSpider) as closed:
        crawl.spider.begin_run()  # raised on from the spider's start(): Scrapy closes with the reason
    assert closed.value.reason == "lock_held"
    crawl.close("lock_held")
    assert not crawl.db.exists()


def test_an_archive_that_cannot_be_used_closes_the_crawl_with_one_line(tmp_path):
    garbage = b"this is not a database, just bytes " * 200
    (tmp_path / "m.db").write_bytes(garbage)
    crawl = Crawl(tmp_path)
    with pytest.raises(CloseSpider) as closed:
        crawl.spider.begin_run()
    assert closed.value.reason == "storage_error"
    error = crawl.crawler.stats.get_value("monitor/storage_error")
    assert error.startswith(f"{crawl.db}: ") and "\n" not in error
    crawl.close("storage_error")  # nothing more to record, nothing raised
    assert crawl.recorder.storage is None and crawl.db.read_bytes() == garbage


def test_the_pipeline_needs_the_recorder():
    crawler = get_crawler(
        NewsSpider,
        {
            "EXTENSIONS": {**project.EXTENSIONS, "monitor.extensions.runs.RunRecorder": None},
            "MONITOR_LOCK_ENABLED": False,
        },
    )
    with pytest.raises(RuntimeError, match=r"enable monitor\.extensions\.runs\.RunRecorder in EXTENSIONS"):
        StoragePipeline.from_crawler(crawler)


def spider_attributes_read(path: Path) -> set[str]:
    """Attributes a module reads off a spider (``spider.x``, ``….spider.x``) and names passed to getattr/hasattr."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    read: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            value = node.value
            if (isinstance(value, ast.Name) and value.id == "spider") or (
                isinstance(value, ast.Attribute) and value.attr == "spider"
            ):
                read.add(node.attr)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr", "setattr")
        ):
            read.add(f"{node.func.id}()")
    return read


def test_neither_the_pipeline_nor_the_recorder_reads_the_spiders_attributes():
    assert spider_attributes_read(ROOT / "monitor" / "pipelines.py") == set()
    assert spider_attributes_read(ROOT / "monitor" / "extensions" / "runs.py") <= {"name"}  # Spider.name


def test_a_crawl_without_the_storage_pipeline_is_still_recorded(tmp_path, mirror):
    """The run's record is the extension's: with the pipeline disabled, scrapy crawl news stores no article
    but records the run and each outlet's counts, errors and seconds."""
    _hosts, sources = mirror
    db = tmp_path / "m.db"
    command = [
        sys.executable,
        "-m",
        "scrapy",
        "crawl",
        "news",
        "-a",
        "source=rmf24,onet",
        *("-s", f"MONITOR_SOURCES={sources}", "-s", f"MONITOR_DB={db}", "-s", "ITEM_PIPELINES={}"),
        *("-s", "AUTOTHROTTLE_START_DELAY=0", "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_TIMES=0"),
    ]
    env = ENV
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "StoragePipeline" not in result.stderr
    assert query(db, "SELECT spider, sources, status, stored FROM crawl_runs") == [
        ("news", "rmf24,onet", "finished", 0)
    ]
    assert query(db, "SELECT count(*) FROM articles") == [(0,)]
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = {r["source"]: dict(r) for r in conn.execute("SELECT * FROM run_sources")}
    conn.close()
    assert set(rows) == {"rmf24", "onet"}
    for row in rows.values():
        assert row["discovered"] > 0 and row["fetched"] > 0 and row["stored"] == 0
        assert row["duration"] > 0
    assert rows["rmf24"]["feeds_failed"] >= 1 and json.loads(rows["rmf24"]["errors"])  # its truncated feed
    declared = {o.name: o for o in load_sources(sources)}
    titles = dict(query(db, "SELECT name, title FROM sources"))
    assert titles == {name: declared[name].title for name in ("rmf24", "onet")}


def scrapy(*args: str) -> subprocess.CompletedProcess[str]:
    env = ENV
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_scrapy_parse_and_check_record_no_run_and_need_no_lock(tmp_path):
    db = tmp_path / "m.db"
    page = (ROOT / "fixtures/sites/rmf24/articles/witkoff-kushner-na-kremlu.html").as_uri()
    parsed = scrapy("parse", "--spider", "news", "-c", "parse_article", page, "-s", f"MONITOR_DB={db}")
    assert parsed.returncode == 0 and "Witkoff i Kushner na Kremlu" in parsed.stdout, parsed.stderr[-2000:]
    checked = scrapy("check", "news", "-s", f"MONITOR_DB={db}")
    assert checked.returncode == 0 and "OK" in checked.stderr, checked.stderr[-2000:]
    ran = re.search(r"Ran (\d+) contracts", checked.stderr)
    assert ran and int(ran.group(1)) > 0
    with run_lock(db.with_suffix(".lock")):  # a crawl of this archive is running: the contracts still run
        locked = scrapy("check", "news", "-s", f"MONITOR_DB={db}")
    assert locked.returncode == 0 and ran.group(0) in locked.stderr, locked.stderr[-2000:]
    assert not db.exists()


def test_an_archive_that_cannot_be_used_stops_scrapy_crawl_before_any_request(tmp_path, mirror):
    _hosts, sources = mirror
    db = tmp_path / "m.db"
    db.write_bytes(b"not a database at all " * 300)
    result = scrapy(
        "crawl", "news", "-a", "source=rmf24", "-s", f"MONITOR_SOURCES={sources}", "-s", f"MONITOR_DB={db}"
    )
    log = result.stderr
    assert "stopping the crawl: " in log and "Closing spider (storage_error)" in log, log[-3000:]
    assert "'monitor/storage_error'" in log and "downloader/request_count" not in log
    assert "Traceback" not in log
    assert db.read_bytes() == b"not a database at all " * 300
