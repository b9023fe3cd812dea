"""Exact run accounting (#13, item 5): a second run over an unchanged site fetches no article, and every
discovered article URL lands in exactly one column of the summary, in every run."""

from __future__ import annotations

import pytest
from _fault_helpers import adds_up, crawl, fault_server, outlet, query, run_sources

from monitor.devtools.faultserver import article_html

DATED = 10  # articles a sitemap dates a day after their own pages, which give no modified time


def spec() -> dict:
    dated = {
        f"/a/{i}.html": {"body": article_html(f"Artykuł {i}", published="2026-01-14T10:00:00+01:00")}
        for i in range(DATED)
    }
    dated["/sitemap.xml"] = {
        "generate": {
            "kind": "sitemap",
            "count": DATED,
            "pattern": "/a/{i}.html",
            "lastmod": "2026-01-15T08:00:00+01:00",
        },
        "content_type": "application/xml",
    }
    feed = "".join(
        f"<item><title>{t}</title><link>{{base}}{p}</link><pubDate>Wed, 14 Jan 2026 10:32:00 +0100</pubDate></item>"
        for t, p in [
            ("Jeden", "/a/1.html"),
            ("Jeden znowu", "/a/1.html?utm_source=rss"),
            ("Dwa", "/a/2.html"),
            ("Trzy", "/a/3.html"),
            ("Wideo", "/a/video.html"),
            ("Brak", "/a/missing.html"),
            ("Prywatny", "/a/private.html"),
        ]
    )
    mixed = {
        "/robots.txt": {"body": "User-agent: *\nDisallow: /a/private", "content_type": "text/plain"},
        "/feed.xml": {"body": f"<rss version='2.0'><channel>{feed}</channel></rss>", "etag": True},
        "/broken.xml": {"body": "<rss><channel><item><title>urwany"},
        "/a/video.html": {"body": "<html><body><h1>Wideo</h1><video src='x.mp4'></video></body></html>"},
        "/a/private.html": {"body": article_html("Prywatny")},
    }
    for i in (1, 2, 3):
        mixed[f"/a/{i}.html"] = {"body": article_html(f"Mieszany {i}", published="2026-01-14T10:32:00+01:00")}
    return {"sites": {"dated": {"routes": dated}, "mixed": {"routes": mixed}}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with fault_server(spec(), tmp_path_factory.mktemp("faults")) as running:
        yield running


def test_second_run_over_an_unchanged_site_fetches_no_article_and_every_url_is_counted_once(server, tmp_path):
    sources = tmp_path / "sources.toml"
    sources.write_text(
        outlet("dated", server.bases["dated"], sitemaps=["/sitemap.xml"])
        + outlet("mixed", server.bases["mixed"], feeds=["/feed.xml", "/broken.xml"])
    )
    db = tmp_path / "m.db"
    first = crawl(db, sources)
    assert first.returncode == 1, first.stderr  # mixed has a missing page and a broken feed
    rows = run_sources(db)
    assert all(adds_up(row) for row in rows.values()), rows
    assert (rows["dated"]["discovered"], rows["dated"]["new"]) == (DATED, DATED)
    mixed = rows["mixed"]
    assert [mixed[c] for c in ("discovered", "new", "skipped", "failed", "feeds_failed")] == [6, 3, 2, 1, 1]
    assert query(db, "SELECT count(*) FROM articles") == [(DATED + 3,)]

    server.clear_log()
    second = crawl(db, sources)
    articles = [r["path"] for r in server.requests() if r["path"].startswith("/a/")]
    assert [p for p in articles if r_site(server, p) == "dated"] == []
    assert articles == ["/a/missing.html"]  # only the failed one is tried again
    rows = run_sources(db)
    assert all(adds_up(row) for row in rows.values()), rows
    assert (rows["dated"]["discovered"], rows["dated"]["unchanged"]) == (DATED, DATED)
    assert [rows["mixed"][c] for c in ("discovered", "unchanged", "skipped", "failed")] == [6, 4, 1, 1]
    assert second.returncode == 1
    summary = second.stdout.splitlines()
    assert summary[0].split()[1:] == [
        "discovered",
        "new",
        "updated",
        "unchanged",
        "skipped",
        "failed",
        "feeds_failed",
        "flagged",
        "seconds",
    ]

    server.clear_log()
    changed = spec()
    changed["sites"]["dated"]["routes"]["/sitemap.xml"]["generate"]["lastmod"] = "2026-01-16T09:00:00+01:00"
    changed["sites"]["dated"]["routes"]["/a/0.html"]["body"] = article_html(
        "Artykuł 0 (aktualizacja)", published="2026-01-14T10:00:00+01:00"
    )
    server.update(changed)
    crawl(db, sources)
    dated = sorted(r["path"] for r in server.requests("dated") if r["path"].startswith("/a/"))
    assert len(dated) == DATED  # the sitemap announces every article as changed again: each fetched once
    rows = run_sources(db)
    assert (rows["dated"]["updated"], rows["dated"]["unchanged"]) == (1, DATED - 1)
    assert adds_up(rows["dated"])


def r_site(server, path: str) -> str:
    return next(r["site"] for r in server.requests() if r["path"] == path)


def test_the_refetch_decision_remembers_what_discovery_announced():
    from monitor.discovery.feeds import Link
    from monitor.discovery.memory import Memory, announced_time, needs_fetch

    url = "https://rp.pl/a/1"
    later = Link(url, published="2026-01-14T10:00:00+01:00", modified="2026-01-15T08:00:00+01:00")
    assert announced_time(later) == "2026-01-15T08:00:00+01:00"
    assert announced_time(Link(url)) is None
    stored = Memory(known={url: "2026-01-14T10:00:00+01:00"})
    assert needs_fetch(later, url, stored)  # dated after what is stored, and never fetched for this date
    seen = Memory(known=stored.known, announced={url: "2026-01-15T08:00:00+01:00"})
    assert not needs_fetch(later, url, seen)  # the same announcement again: not fetched again
    newer = Link(url, modified="2026-01-16T08:00:00+01:00")
    assert needs_fetch(newer, url, seen)
    assert not needs_fetch(Link(url), url, seen)  # no date: nothing says it changed
    undated = Memory(announced={url: None})
    assert needs_fetch(later, url, undated) and not needs_fetch(Link(url), url, undated)
    # Fetched from an undated section page, then announced by a sitemap with the time already stored: one URL
    # found by both in a run may be fetched from either, so the next run must not fetch it again for that.
    sectioned = Memory(known={url: "2026-01-15T08:00:00+01:00"}, announced={url: None})
    assert not needs_fetch(later, url, sectioned) and needs_fetch(newer, url, sectioned)
    assert needs_fetch(Link("https://rp.pl/a/2"), "https://rp.pl/a/2", seen)  # new
    naive = Link(url, modified="2026-01-16T08:00:00")
    assert not needs_fetch(naive, url, seen)  # an aware and a naive time cannot be compared: not fetched
