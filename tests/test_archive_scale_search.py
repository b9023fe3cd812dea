"""Search in recency order (issue #15): newest first without scoring every match, chosen automatically when a
query matches more than --recent-above articles, said in one line on stderr."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from _archive_helpers import MONITOR, run, synthetic_archive

from monitor.archive.search import choose_order, fts_query, matches_more_than, search


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("search") / "m.db"
    return synthetic_archive(path, 1500, workers=1)


def all_matches(
    conn: sqlite3.Connection, query: str, where: str = "", params: tuple[object, ...] = ()
) -> list[int]:
    sql = (
        "SELECT a.id FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid "
        f"WHERE articles_fts MATCH ? {where} ORDER BY a.id DESC"
    )
    return [r[0] for r in conn.execute(sql, [fts_query(query), *params])]


@pytest.mark.parametrize(
    "query", ["putin", "rozmowy", "w", "witkoff OR zelenski", "ukrainy -putin", "PHRASE"]
)
def test_recent_order_is_the_newest_matches(db, query):
    conn = sqlite3.connect(db)
    if query == "PHRASE":  # two words in a row of an article in the middle of the archive, as a phrase query
        text = conn.execute(
            "SELECT text FROM articles WHERE id = (SELECT max(id) / 2 FROM articles)"
        ).fetchone()[0]
        query = '"' + " ".join(text.split()[3:5]).strip(",.") + '"'
    expected = all_matches(conn, query)
    assert expected
    rows = search(conn, query, limit=15, order="recent")
    assert [r["id"] for r in rows] == expected[:15]
    assert all(r["snippet"] is not None and r["rank"] is None for r in rows)  # nothing scored
    flagged = all_matches(conn, query, "AND a.relevance = ?", ("primary",))
    assert [r["id"] for r in search(conn, query, limit=5, order="recent", relevance="primary")] == flagged[:5]
    outlet = conn.execute("SELECT source FROM articles WHERE id = ?", [expected[0]]).fetchone()[0]
    mine = all_matches(conn, query, "AND a.source = ?", (outlet,))
    assert [r["id"] for r in search(conn, query, limit=5, order="recent", outlet=outlet)] == mine[:5]


def test_the_order_is_recent_above_the_threshold_and_counting_stops_there(db):
    conn = sqlite3.connect(db)
    count = len(all_matches(conn, "polska"))
    assert count > 10
    assert matches_more_than(conn, "polska", count - 1) and not matches_more_than(conn, "polska", count)
    assert choose_order(conn, "polska", "auto", count - 1) == "recent"
    assert choose_order(conn, "polska", "auto", count) == "relevance"
    assert choose_order(conn, "polska", "relevance", 0) == "relevance"
    with pytest.raises(ValueError):
        search(conn, "polska", order="newest")


def test_monitor_search_says_when_it_shows_the_newest_first(db):
    conn = sqlite3.connect(db)
    newest = all_matches(conn, "polska")[:3]
    best = [r["id"] for r in search(conn, "polska", limit=3)]
    assert newest != best

    auto = run(
        [*MONITOR, "search", "polska", "--db", str(db), "--limit", "3", "--recent-above", "10", "--json"]
    )
    assert auto.returncode == 0, auto.stderr
    assert [json.loads(line)["id"] for line in auto.stdout.splitlines()] == newest
    (note,) = auto.stderr.splitlines()
    assert note.startswith("note: more than 10 articles match: newest first")

    ranked = run([*MONITOR, "search", "polska", "--db", str(db), "--limit", "3", "--json"])
    assert [json.loads(line)["id"] for line in ranked.stdout.splitlines()] == best and not ranked.stderr

    forced = run(
        [
            *MONITOR,
            "search",
            "polska",
            "--db",
            str(db),
            "--limit",
            "3",
            "--recent-above",
            "10",
            "--order",
            "relevance",
            "--json",
        ]
    )
    assert [json.loads(line)["id"] for line in forced.stdout.splitlines()] == best and not forced.stderr

    asked = run([*MONITOR, "search", "polska", "--db", str(db), "--limit", "3", "--order", "recent"])
    assert asked.returncode == 0 and not asked.stderr
    assert asked.stdout.startswith("  1. ")
