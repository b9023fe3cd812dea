"""Alerts: the Atom feed of flagged stories, `monitor export atom`, `monitor report`, time windows."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from _archive_helpers import MONITOR, demo_db, run
from lxml import etree

from monitor.archive.atom import ATOM, atom_feed, rfc3339
from monitor.archive.queries import flagged_stories, format_report, parse_since
from monitor.discovery.feeds import parse_discovery

NOW = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
A = f"{{{ATOM}}}"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("24h", NOW - timedelta(hours=24)),
        ("7d", NOW - timedelta(days=7)),
        ("30m", NOW - timedelta(minutes=30)),
        ("2w", NOW - timedelta(weeks=2)),
        ("2026-01-14", datetime(2026, 1, 13, 23, 0, tzinfo=UTC)),  # midnight in Warsaw
        ("2026-01-14T10:32", datetime(2026, 1, 14, 9, 32, tzinfo=UTC)),
        ("2026-01-14T10:32:00+00:00", datetime(2026, 1, 14, 10, 32, tzinfo=UTC)),
        ("2026-01-14T10:32:00Z", datetime(2026, 1, 14, 10, 32, tzinfo=UTC)),
        ("2026-07-01 12:00", datetime(2026, 7, 1, 10, 0, tzinfo=UTC)),  # summer time
    ],
)
def test_since_accepts_relative_and_absolute_times(typed, expected):
    assert parse_since(typed, NOW) == expected


@pytest.mark.parametrize("typed", ["yesterday", "", "7 days ago", "2026-13-01", "-5h"])
def test_since_refuses_what_it_cannot_read(typed):
    with pytest.raises(ValueError, match="is not a time: use 24h, 7d"):
        parse_since(typed, NOW)


STORIES = [
    {
        "url": "https://rp.pl/art1",
        "title": "Witkoff i Kushner na Kremlu",
        "published": "2026-01-14T21:47:00+01:00",
        "updated": "2026-01-14T21:50:00+00:00",
        "outlet": "rp",
        "top_terms": "witkoff, kreml*",
        "lead": "Rozmowy trwały pięć godzin.",
        "also": ["wp", "onet"],
    },
    {
        "url": "https://tvn24.pl/x?a=1&b=<2>",
        "title": None,
        "published": None,
        "updated": None,
        "outlet": "tvn24",
    },
]


def test_atom_feed_is_valid_atom_with_every_story():
    feed = atom_feed(STORIES, generated=NOW)
    root = etree.fromstring(feed)
    assert root.tag == f"{A}feed"
    # RFC 4287: a feed has one id, title and updated, and an author unless every entry has one
    for name in ("id", "title", "updated", "author"):
        assert len(root.findall(f"{A}{name}")) == 1, name
    entries = root.findall(f"{A}entry")
    assert len(entries) == 2
    for entry in entries:
        for name in ("id", "title", "updated", "summary"):
            assert len(entry.findall(f"{A}{name}")) == 1, name
        alternate = entry.find(f"{A}link[@rel='alternate']")
        assert alternate is not None and alternate.get("href") == entry.findtext(f"{A}id")
        for stamp in entry.findall(f"{A}updated") + entry.findall(f"{A}published"):
            assert datetime.fromisoformat(stamp.text).tzinfo is not None
    first = entries[0]
    assert first.findtext(f"{A}title") == "Witkoff i Kushner na Kremlu"
    assert first.findtext(f"{A}published") == "2026-01-14T21:47:00+01:00"
    assert first.find(f"{A}category").get("term") == "rp"
    assert first.findtext(f"{A}author/{A}name") == "rp"
    assert first.findtext(f"{A}summary").startswith("rp · matched: witkoff, kreml* · also on: wp, onet")
    assert root.findtext(f"{A}updated") == "2026-01-20T12:00:00+00:00"  # the newest entry: the undated one
    assert entries[1].findtext(f"{A}title") == "https://tvn24.pl/x?a=1&b=<2>"
    # the project's own feed reader reads it back
    discovered = parse_discovery(feed, "https://example.org/feed.atom")
    assert [link.url for link in discovered.links] == ["https://rp.pl/art1", "https://tvn24.pl/x?a=1&b=<2>"]
    assert discovered.links[0].published == "2026-01-14T21:47:00+01:00"


def test_an_empty_feed_is_still_valid():
    root = etree.fromstring(atom_feed([], generated=NOW, self_url="https://example.org/peace.atom"))
    assert root.findtext(f"{A}updated") == "2026-01-20T12:00:00+00:00"
    assert root.find(f"{A}link[@rel='self']").get("href") == "https://example.org/peace.atom"
    assert root.findall(f"{A}entry") == []


def test_rfc3339():
    assert rfc3339("2026-01-14T10:32:00") == "2026-01-14T10:32:00+00:00"
    assert rfc3339("2026-01-14T10:32:00Z") == "2026-01-14T10:32:00+00:00"
    assert rfc3339(None) is None and rfc3339("") is None


def test_flagged_stories_since_compares_instants_across_offsets(tmp_path_factory):
    conn = sqlite3.connect(demo_db(tmp_path_factory))
    everything = flagged_stories(conn)
    assert len(everything) == 12 and everything[0]["published"].startswith("2026-01-19T18:30")
    # 2026-01-17T08:00+01:00 is 07:00 UTC: inside a window opening at 06:30 UTC, outside one at 07:30 UTC
    inside = flagged_stories(conn, since=datetime(2026, 1, 17, 6, 30, tzinfo=UTC))
    outside = flagged_stories(conn, since=datetime(2026, 1, 17, 7, 30, tzinfo=UTC))
    assert len(inside) == len(outside) + 1
    assert [s["title"] for s in flagged_stories(conn, limit=2)] == [s["title"] for s in everything[:2]]
    conn.close()


def test_format_report_lines():
    lines = format_report(
        [
            {
                "id": 1,
                "published": "2026-01-14T21:47:00+01:00",
                "outlet": "rp",
                "title": "T",
                "url": "U",
                "top_terms": "witkoff",
                "first_seen": None,
            }
        ],
        {1: ["wp"]},
    )
    assert lines[1] == "  2026-01-14 21:47  rp  T"
    assert lines[2].strip() == "terms: witkoff · also on wp" and lines[3].strip() == "U"
    assert format_report([]) == ["No flagged peace-talk stories in this window."]


def test_export_atom_and_report_commands(tmp_path_factory, tmp_path):
    db = demo_db(tmp_path_factory)
    feed = run([*MONITOR, "export", "atom", "--db", str(db), "--since", "2026-01-17"])
    assert feed.returncode == 0, feed.stderr
    entries = etree.fromstring(feed.stdout.encode()).findall(f"{A}entry")
    assert len(entries) == 5
    target = tmp_path / "out" / "peace.atom"
    written = run([*MONITOR, "export", "atom", "--db", str(db), "-o", str(target), "--limit", "3"])
    assert written.returncode == 0 and "3 flagged stories" in written.stderr
    assert len(etree.parse(str(target)).getroot().findall(f"{A}entry")) == 3
    report = run([*MONITOR, "report", "--db", str(db), "--since", "2026-01-19", "--limit", "5"])
    assert report.returncode == 0, report.stderr
    assert report.stdout.splitlines()[0] == "Flagged peace-talk stories (2), newest first:"
    assert "Zełenski: Gwarancje bezpieczeństwa" in report.stdout and "terms:" in report.stdout
    bad = run([*MONITOR, "report", "--db", str(db), "--since", "yesterday"])
    assert bad.returncode == 2 and "is not a time" in bad.stderr
