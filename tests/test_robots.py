"""robots.txt handling (RFC 9309) against a tiny mirror: 5xx keeps the host out of the run, 404 allows it,
a Disallow line is obeyed."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from _env import ENV
from conftest import running_mirror

ROOT = Path(__file__).resolve().parent.parent
PARAGRAPHS = "".join(
    f"<p>Delegacje Ukrainy i Rosji rozmawiały w Genewie po raz {n}. o wymianie jeńców i o zawieszeniu broni.</p>"
    for n in range(1, 8)
)


def make_site(root: Path, robots_status: int | None, robots_body: str = "", feed_extra: str = "") -> Path:
    site = root / "sites" / "probe"
    (site / "a").mkdir(parents=True)
    feed = (
        "<rss version='2.0'><channel><title>x</title>"
        "<item><title>A</title><link>https://probe.example.pl/a/one,nId,1</link></item>"
        "<item><title>B</title><link>https://probe.example.pl/private/two,nId,2</link></item>"
        "</channel></rss>"
    )
    (site / "feed.xml").write_text(feed)
    page = f"<html><head><title>Artykuł</title></head><body><article><h1>Artykuł</h1>{PARAGRAPHS}</article></body></html>"
    (site / "a" / "page.html").write_text(page)
    (site / "robots.txt").write_text(robots_body)
    pages = [
        f'[[page]]\nurl = "https://probe.example.pl/feed"\nfile = "feed.xml"\n{feed_extra}',
        '[[page]]\nurl = "https://probe.example.pl/a/one,nId,1"\nfile = "a/page.html"\n',
        '[[page]]\nurl = "https://probe.example.pl/private/two,nId,2"\nfile = "a/page.html"\n',
    ]
    if robots_status is not None:
        pages.append(
            f'[[page]]\nurl = "https://probe.example.pl/robots.txt"\nfile = "robots.txt"\nstatus = {robots_status}\n'
        )
    (site / "site.toml").write_text(
        '[source]\nname = "probe"\ndomains = ["probe.example.pl"]\nfeeds = ["https://probe.example.pl/feed"]\n'
        "article_pattern = ',nId,\\d+$'\n\n" + "\n".join(pages)
    )
    return root / "sites"


def crawl_site(tmp_path: Path, sites: Path, *settings: str) -> dict[str, int]:
    sources = tmp_path / "sources.toml"
    with running_mirror(sites, sources):
        db = tmp_path / "r.db"
        env = ENV
        command = [sys.executable, "-m", "scrapy", "crawl", "news", "-s", f"MONITOR_SOURCES={sources}"]
        command += [
            "-s",
            f"MONITOR_DB={db}",
            "-s",
            "RETRY_TIMES=0",
            "-s",
            "AUTOTHROTTLE_START_DELAY=0",
            *settings,
        ]
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "Traceback" not in result.stderr
        conn = sqlite3.connect(db)
        conn.row_factory = sqlite3.Row
        return {**dict(conn.execute("SELECT * FROM run_sources").fetchone()), "log": result.stderr}


@pytest.mark.parametrize(
    ("status", "body", "stored", "feeds_failed", "skipped"),
    [
        (503, "", 0, 1, 0),  # server error: the host is not crawled at all in this run (its feed fails)
        (None, "", 2, 0, 0),  # no robots.txt (404): everything allowed
        (200, "User-agent: *\nDisallow: /private/\n", 1, 0, 1),  # obeyed
    ],
)
def test_robots_txt(tmp_path, status, body, stored, feeds_failed, skipped):
    row = crawl_site(tmp_path, make_site(tmp_path, status, body))
    assert (row["stored"], row["feeds_failed"], row["skipped"], row["failed"]) == (
        stored,
        feeds_failed,
        skipped,
        0,
    )
    if status == 503:
        assert "robots.txt unavailable (HTTP 503)" in row["errors"]
