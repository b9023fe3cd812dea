"""A synthetic archive built in bulk (bench/make_archive.py, monitor/archive/bulk.py) is the archive a crawl
would have written (issue #15): the same small plan written run by run through ``Storage`` (start_run,
store_batch, finish_run, as the crawl's recorder and pipeline call them) and written in bulk gives the same rows
in every table and view and the same full-text answers."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from _archive_helpers import ENV, ROOT

from monitor.archive import known_migrations
from monitor.archive.search import search

MAKE = [sys.executable, str(ROOT / "bench" / "make_archive.py")]
PLAN = [
    "--articles",
    "1500",
    "--days",
    "2",
    "--run-every",
    "30",
    "--until",
    "2026-11-30T12:00",
    "--seed",
    "7",
]


def make(db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MAKE, "--db", str(db), *PLAN, *extra],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("scale")
    crawl, bulk = folder / "crawl.db", folder / "bulk.db"
    for db, via in ((crawl, "storage"), (bulk, "bulk")):
        result = make(db, "--via", via, "--interrupted", "0.05", "--workers", "2")
        assert result.returncode == 0, result.stderr
        assert "1,500 articles, 96 runs over 2 days" in result.stdout
    return crawl, bulk


def relations(conn: sqlite3.Connection) -> list[str]:
    return [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE 'articles_fts%' AND name != '_sqlite_migrations' ORDER BY name"
        )
    ]


def rows(conn: sqlite3.Connection, name: str) -> list[tuple[object, ...]]:
    columns = [row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')]
    order = ", ".join(f'"{c}"' for c in columns)
    return conn.execute(f'SELECT * FROM "{name}" ORDER BY {order}').fetchall()


def test_bulk_archive_has_the_rows_a_crawl_writes(archives):
    crawl, bulk = (sqlite3.connect(db) for db in archives)
    names = relations(crawl)
    assert names == relations(bulk)
    assert {
        "articles",
        "matches",
        "article_revisions",
        "article_sketches",
        "crawl_runs",
        "run_sources",
    } <= set(names)
    for name in names:
        assert rows(bulk, name) == rows(crawl, name), name
    for conn in (crawl, bulk):
        assert [
            r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")
        ] == known_migrations()
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(known_migrations())
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert (
            conn.execute("SELECT v FROM articles_fts_config WHERE k = 'hashsize'").fetchone()[0]
            == 32 * 1024 * 1024
        )
    assert bulk.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    bulk.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")


def test_bulk_archive_answers_searches_as_the_crawl_written_one(archives):
    crawl, bulk = (sqlite3.connect(db) for db in archives)
    texts = [t for (t,) in crawl.execute("SELECT title || ' ' || text FROM articles ORDER BY id")]
    rng = random.Random(3)
    words = {w.strip(".,:") for text in rng.sample(texts, 40) for w in rng.sample(text.split(), 5)}
    queries = sorted(w for w in words if w.isalpha()) + ["putin", "rozmowy pokojowe", "zelenski OR witkoff"]
    for query in queries:
        fts = "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid"
        folded = query.replace("ł", "l").replace("Ł", "L").lower()
        if " " not in folded:
            folded = f'"{folded}"'
        assert bulk.execute(fts, [folded]).fetchall() == crawl.execute(fts, [folded]).fetchall(), query
        assert search(bulk, query, limit=10) == search(crawl, query, limit=10), query
    assert search(bulk, "putin")  # the flagged stories carry the talks' vocabulary


def test_the_synthetic_archive_looks_like_a_year_of_crawls(archives):
    conn = sqlite3.connect(archives[1])
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    assert one("SELECT count(*) FROM articles") == 1500
    assert one("SELECT count(DISTINCT source) FROM articles") >= 70
    assert one("SELECT count(*) FROM sources") >= 70
    assert 0.005 < one("SELECT avg(relevance = 'primary') FROM articles") < 0.05
    assert one("SELECT count(*) FROM matches") > 0
    assert one("SELECT count(*) FROM wire_stories") > 0
    assert one("SELECT count(*) FROM article_revisions") > 0
    assert 1500 < one("SELECT avg(length(text)) FROM articles") < 4000
    # every run's counts add up to what it stored; interrupted runs were marked by the next one
    assert one("SELECT sum(new) FROM run_sources") == 1500
    assert one("SELECT sum(updated) FROM run_sources") == one("SELECT count(*) FROM article_revisions")
    assert one("SELECT count(*) FROM crawl_runs WHERE status = 'interrupted'") > 0
    assert one("SELECT count(*) FROM crawl_runs WHERE status NOT IN ('finished', 'interrupted')") == 0
    assert (
        one(
            "SELECT count(*) FROM run_sources WHERE discovered != new + updated + unchanged + skipped + failed"
        )
        == 0
    )
    # the crawl's memory: every stored article was announced
    assert one("SELECT count(*) FROM articles WHERE url NOT IN (SELECT url FROM announced)") == 0
    assert one(
        "SELECT min(first_seen) >= '2026-11-28' AND max(first_seen) <= '2026-11-30T12:10' FROM articles"
    )


def test_make_archive_refuses_an_existing_file(tmp_path):
    db = tmp_path / "there.db"
    db.write_bytes(b"")
    result = make(db)
    assert result.returncode == 2 and "exists" in result.stderr
    assert db.read_bytes() == b""
