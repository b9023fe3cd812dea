"""Full crawls of the loopback fixture mirror: `scrapy crawl news` in a subprocess, then the database is read."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from _env import ENV

from monitor.devtools.mirror import load_sites
from monitor.discovery.urls import canonical_url

ROOT = Path(__file__).resolve().parent.parent
SITES = ROOT / "fixtures" / "sites"
SCRAPY = [sys.executable, "-m", "scrapy"]
FAST = [
    "-s",
    "AUTOTHROTTLE_START_DELAY=0",
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "RETRY_TIMES=0",
    "-s",
    "LOG_LEVEL=INFO",
]


def crawl(sources: Path, db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        *SCRAPY,
        "crawl",
        "news",
        "-s",
        f"MONITOR_SOURCES={sources}",
        "-s",
        f"MONITOR_DB={db}",
        *FAST,
        *extra,
    ]
    env = ENV
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def mirrored(url: str, hosts: dict[str, str]) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return canonical_url(hosts[parts.hostname] + parts.path + (f"?{parts.query}" if parts.query else ""))


def expected_pages() -> list[tuple[str, str, dict]]:
    return [
        (site.source["name"], page.url, page.expect)
        for site in load_sites(SITES)
        for page in site.pages
        if page.expect
    ]


@pytest.fixture(scope="module")
def crawled(mirror, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    _, sources = mirror
    db = tmp_path_factory.mktemp("db") / "e2e.db"
    return db, crawl(sources, db)


def rows(db: Path, sql: str, *args) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def test_mirror_has_six_outlets_with_the_seed_story():
    sites = load_sites(SITES)
    assert len(sites) >= 6
    for site in sites:
        articles = [p for p in site.pages if p.expect.get("article")]
        assert len(articles) >= 5, site.source["name"]
    kinds = {p.expect.get("kind") for s in sites for p in s.pages}
    assert {"peace", "war", "other-peace", "unrelated"} <= kinds
    titles = [p.expect.get("title", "") for s in sites for p in s.pages]
    assert any("Kushner i Witkoff" in t and "Putinem" in t for t in titles)


def test_every_article_is_stored_once_with_the_right_verdict(mirror, crawled):
    hosts, _ = mirror
    db, _ = crawled
    stored = {
        r["url"]: r
        for r in rows(db, "SELECT url, source, title, relevance, language, published FROM articles")
    }
    for outlet, url, expect in expected_pages():
        key = mirrored(url, hosts)
        if not expect.get("article"):
            assert key not in stored, f"non-article stored: {url}"
            continue
        assert key in stored, f"article not stored: {url}"
        row = stored[key]
        assert row["source"] == outlet
        assert row["title"] == expect["title"], url
        assert row["language"] == "pl", url
        assert row["published"], url
        assert (row["relevance"] == "primary") == expect["flagged"], f"{url}: {row['relevance']}"
    assert len(stored) == sum(1 for _, _, e in expected_pages() if e.get("article"))


def test_seed_story_is_in_the_peace_talks_view(crawled):
    db, _ = crawled
    titles = [r["title"] for r in rows(db, "SELECT title FROM peace_talks")]
    assert any("Kushner i Witkoff" in t for t in titles)
    published = [r["published"] for r in rows(db, "SELECT published FROM peace_talks")]
    assert published == sorted(published, reverse=True)


def test_run_is_recorded_per_source_with_failures_counted(crawled):
    db, result = crawled
    (run,) = rows(db, "SELECT * FROM crawl_runs")
    assert run["status"] == "finished"
    per_source = {r["source"]: r for r in rows(db, "SELECT * FROM run_sources WHERE run_id = ?", run["id"])}
    assert len(per_source) == len(load_sites(SITES))
    for name, row in per_source.items():
        assert row["stored"] >= 5, name
        assert row["discovered"] >= row["fetched"] >= row["stored"] >= row["flagged"], name
    assert (
        sum(r["failed"] + r["feeds_failed"] for r in per_source.values()) >= 4
    )  # 404, 500, truncated feed, unreachable feed
    assert sum(r["skipped"] for r in per_source.values()) >= 1  # a page with no article text
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.count("youtube.com/watch") == 1
    )  # the off-domain feed link: logged once, not followed
    assert "offdomain" in result.stderr and "monitor/interia/offdomain': 1" in result.stderr


def test_second_run_updates_instead_of_duplicating(mirror, crawled):
    _, sources = mirror
    db, _ = crawled
    before = rows(db, "SELECT count(*) AS n FROM articles")[0]["n"]
    result = crawl(sources, db)
    assert rows(db, "SELECT count(*) AS n FROM articles")[0]["n"] == before
    assert rows(db, "SELECT count(*) AS n FROM crawl_runs")[0]["n"] == 2
    # The database is the memory: nothing new, so no article is fetched; unchanged feeds answer 304.
    second = rows(db, "SELECT * FROM run_sources WHERE run_id = 2")
    assert sum(r["fetched"] for r in second) == 0 and sum(r["new"] for r in second) == 0
    remembered = rows(db, "SELECT count(*) AS n FROM non_articles")[0]["n"]  # videos, galleries, empty pages
    assert remembered >= 4
    assert sum(r["unchanged"] for r in second) == before + remembered
    assert "not modified since the last run" in result.stderr


def test_source_argument_limits_the_run(mirror, tmp_path):
    _, sources = mirror
    db = tmp_path / "one.db"
    crawl(sources, db, "-a", "source=rmf24")
    assert {r["source"] for r in rows(db, "SELECT DISTINCT source FROM articles")} == {"rmf24"}
