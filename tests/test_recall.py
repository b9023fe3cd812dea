"""The crawl asks the archive only about the URLs it discovers (monitor.archive.memory.Recall, issue #15): the
same decisions as the whole memory loaded at once, in batched lookups whose number follows the discovery pages,
not the archive's size."""

from __future__ import annotations

import ast
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from _archive_helpers import synthetic_archive
from _fault_helpers import crawl
from conftest import ROOT, SITES, running_mirror

from monitor.archive.memory import CHUNK, Recall, load_memory
from monitor.discovery.feeds import Link
from monitor.discovery.memory import FeedState, needs_fetch


class Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, by: int = 1) -> None:
        self.values[key] = self.values.get(key, 0) + by


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A synthetic archive of 3,000 articles as crawls leave it (bench/make_archive.py)."""
    return synthetic_archive(
        tmp_path_factory.mktemp("recall") / "synthetic.db", 3000, workers=1, days=3, run_every=15
    )


def test_recall_answers_as_the_whole_memory_for_the_urls_asked_and_for_no_other(synthetic):
    whole = load_memory(synthetic)
    conn = sqlite3.connect(synthetic)
    pages = [url for (url,) in conn.execute("SELECT url FROM non_articles LIMIT 50")]
    conn.close()
    stored = sorted(whole.known)[::7]
    told = sorted(whole.announced)[::5]
    unknown = [f"https://www.example.pl/nowy/{n}" for n in range(40)]
    keys = stored + told + unknown + pages
    assert pages and told and len(keys) > CHUNK  # more than one batch
    stats = Stats()
    recall = Recall(synthetic, stats)
    try:
        memory = recall.recall(keys + keys[:30])  # asked twice: asked once
    finally:
        recall.close()
    assert memory.known == {k: whole.known[k] for k in set(keys) if k in whole.known}
    assert memory.announced == {k: whole.announced[k] for k in set(keys) if k in whole.announced}
    assert memory.feeds == {}
    batches = -(-len(set(keys)) // CHUNK)
    assert stats.values == {"monitor/recall/queries": 2 * batches, "monitor/recall/urls": len(set(keys))}
    # and every decision is the one the whole memory takes, for links dated before, after and not at all
    for key in keys:
        for when in (None, "2020-01-01T00:00:00+00:00", "2030-01-01T00:00:00+00:00"):
            link = Link(url=key, published=when)
            assert needs_fetch(link, key, memory) == needs_fetch(link, key, whole), (key, when)


def test_recall_reads_a_feeds_validators_one_at_a_time(tmp_path):
    from monitor.archive import Storage

    db = tmp_path / "m.db"
    storage = Storage(db)
    storage.save_feed_states([FeedState("https://x.example.pl/rss", '"v1"', "Tue, 13 Jan 2026 08:00:00 GMT")])
    storage.close()
    recall = Recall(db)
    try:
        assert recall.feed("https://x.example.pl/rss") == FeedState(
            "https://x.example.pl/rss", '"v1"', "Tue, 13 Jan 2026 08:00:00 GMT"
        )
        assert recall.feed("https://x.example.pl/other") is None
    finally:
        recall.close()


def test_an_archive_that_does_not_exist_yet_remembers_nothing(tmp_path):
    recall = Recall(tmp_path / "none.db")
    assert recall.recall(["https://x.example.pl/a/1"]).known == {}
    assert recall.feed("https://x.example.pl/rss") is None
    recall.close()
    assert not (tmp_path / "none.db").exists()


def test_recall_holds_no_snapshot_so_the_writer_can_checkpoint(tmp_path):
    """Between lookups no read transaction stays open: the write-ahead log can be checkpointed in full."""
    from monitor.archive import Storage

    db = tmp_path / "m.db"
    storage = Storage(db)
    recall = Recall(db)
    try:
        recall.recall(["https://x.example.pl/a/1"])
        storage.save_feed_states([FeedState("https://x.example.pl/rss", '"v2"', None)])
        busy, _log, _done = storage.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0
        assert recall.feed("https://x.example.pl/rss") == FeedState("https://x.example.pl/rss", '"v2"', None)
    finally:
        recall.close()
        storage.close()


def test_the_spider_never_loads_the_whole_memory():
    tree = ast.parse((ROOT / "spiders" / "news.py").read_text(encoding="utf-8"))
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names |= {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    assert not names & {"load_memory", "known_articles", "announced", "feed_states"}


def stat(log: str, key: str) -> int:
    found = re.findall(rf"'{re.escape(key)}': (\d+)", log)
    return int(found[-1]) if found else 0


@pytest.mark.slow
def test_a_crawl_asks_as_often_whatever_the_archives_size_and_a_rerun_fetches_no_article(synthetic, tmp_path):
    sources = tmp_path / "sources.toml"
    empty, big = tmp_path / "empty.db", tmp_path / "big.db"
    shutil.copy(synthetic, big)
    settings = {"CONCURRENT_REQUESTS": "1", "DOWNLOAD_TIMEOUT": "30", "MONITOR_POOL_PROCESSES": "1"}
    with running_mirror(SITES, sources):
        results = {db: crawl(db, sources, settings=settings) for db in (empty, big)}
        for _db, result in results.items():
            assert result.returncode in (0, 1), result.stderr[-2000:]
        logs = {db: db.with_suffix(".log").read_text(encoding="utf-8") for db in (empty, big)}
        again = crawl(big, sources, settings=settings)
    assert again.returncode in (0, 1), again.stderr[-2000:]
    rerun = big.with_suffix(".log").read_text(encoding="utf-8")[len(logs[big]) :]
    queries = {db: stat(log, "monitor/recall/queries") for db, log in logs.items()}
    asked = {db: stat(log, "monitor/recall/urls") for db, log in logs.items()}
    discovery = stat(logs[empty], "response_received_count") - stat(logs[empty], "item_scraped_count")
    assert queries[empty] == queries[big] > 0  # 3,000 articles more: not one query more
    assert asked[empty] == asked[big] > 0
    # a feed's validators and two lookups per discovery page at most (its new article URLs in one batch each)
    assert queries[empty] <= 3 * discovery
    # the rerun asks again, and fetches no article but those that failed the first time
    failed = sum(
        stat(logs[big], f"monitor/{name}/failed")
        for name in set(re.findall(r"monitor/(\w+)/failed", logs[big]))
    )
    assert stat(rerun, "monitor/recall/queries") > 0
    assert stat(rerun, "item_scraped_count") <= failed
