"""Every packaged outlet checked on real URLs: its article_pattern takes its real article URLs and none of its
real section, tag, author, video or gallery URLs (fixtures/source_urls.tsv), every address says where it was
seen, and a crawl of a mirror built from those URLs stores each outlet's articles and nothing else."""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
from collections import Counter

import pytest
from _env import ENV
from _outlet_sites import read_urls, write_sites
from conftest import FIXTURES, ROOT, running_mirror

from monitor.discovery.sources import GROUPS, default_sources_path, load_sources
from monitor.discovery.urls import canonical_url

TSV = FIXTURES / "source_urls.tsv"
SOURCES = load_sources()
URLS = read_urls(TSV)


def test_the_list_covers_the_polish_press():
    assert len(SOURCES) >= 70
    groups = Counter(s.group for s in SOURCES)
    assert set(groups) <= set(GROUPS) and None not in groups
    for group in (
        "national",
        "broadcaster",
        "weekly",
        "business",
        "defence",
        "analysis",
        "international",
        "catholic",
        "regional",
    ):
        assert groups[group] >= 1, group


def test_every_address_says_where_it_was_seen():
    for source in SOURCES:
        for address in source.addresses:
            assert address.grade and address.seen, (source.name, address.url)


def test_the_tsv_is_well_formed():
    with TSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert rows and set(rows[0]) == {"outlet", "kind", "url", "seen"}
    kinds = {
        "article",
        "section",
        "tag",
        "author",
        "video",
        "gallery",
        "podcast",
        "live",
        "home",
        "feed",
        "other",
    }
    names = {s.name for s in SOURCES}
    for row in rows:
        assert row["outlet"] in names, row
        assert row["kind"] in kinds, row
        assert row["url"].startswith(("http://", "https://")) and row["seen"].strip(), row
    assert len({r["url"] for r in rows}) == len(rows), "a URL is listed twice"


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.name)
def test_pattern_on_real_urls(source):
    urls = URLS.get(source.name, {"article": [], "other": []})
    assert len(set(urls["article"])) >= 3, "needs at least 3 real article URLs"
    assert len(set(urls["other"])) >= 2, "needs at least 2 real non-article URLs"
    for url in urls["article"]:
        assert source.owns(url), f"article {url} is not on {source.domains}"
        assert source.is_article(url), f"article_pattern misses the article {url}"
    for url in urls["other"]:
        assert not (source.owns(url) and source.is_article(url)), (
            f"article_pattern takes the non-article {url}"
        )


@pytest.mark.slow
def test_every_outlet_yields_its_articles_in_the_mirror(tmp_path):
    """Feeds, sitemaps and sections list each outlet's real article and non-article URLs: a crawl stores every
    article of every outlet and nothing else."""
    expected = write_sites(default_sources_path(), TSV, tmp_path / "sites")
    assert len(expected) == len(SOURCES)
    sources, db = tmp_path / "sources.toml", tmp_path / "all.db"
    with running_mirror(tmp_path / "sites", sources) as hosts:
        command = [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "news",
            "-s",
            f"MONITOR_SOURCES={sources}",
            "-s",
            f"MONITOR_DB={db}",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "RETRY_TIMES=0",
            "-s",
            "CONCURRENT_REQUESTS=32",
            "-s",
            "LOG_LEVEL=INFO",
        ]
        env = ENV
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-3000:]
        conn = sqlite3.connect(db)
        stored: dict[str, set[str]] = {}
        for source, url in conn.execute("SELECT source, url FROM articles"):
            stored.setdefault(source, set()).add(url)
        conn.close()

    def mirrored(url: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        return canonical_url(hosts[parts.hostname] + parts.path + (f"?{parts.query}" if parts.query else ""))

    missing = {
        name: sorted({mirrored(u) for u in urls} - stored.get(name, set()))
        for name, urls in expected.items()
        if {mirrored(u) for u in urls} - stored.get(name, set())
    }
    extra = {
        name: sorted(stored[name] - {mirrored(u) for u in expected.get(name, [])})
        for name in stored
        if stored[name] - {mirrored(u) for u in expected.get(name, [])}
    }
    assert not missing, missing
    assert not extra, extra
