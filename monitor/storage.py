"""The SQLite archive: schema migrations, article upserts, revisions, wire-story links, crawl runs. No Scrapy.

The database is the crawl's memory and the analysts' main interface:

- articles are keyed by canonical URL, so a re-run updates rows instead of duplicating them; a re-fetch that
  changes the title, lead or body leaves a row in ``article_revisions``;
- copies of one wire story (a PAP dispatch on several outlets) share a ``story_id`` (see :mod:`monitor.dedup`);
- ``articles_fts`` (FTS5) indexes title, lead and body with every Polish diacritic folded, ``ł`` included:
  ``unicode61 remove_diacritics 2`` folds ą ć ę ń ó ś ź ż, and the triggers that feed the index replace ``ł``
  with ``l`` (FTS5 leaves it alone). The index is fed by triggers, so writes from ``sqlite3`` or
  ``sqlite-utils`` keep it current too;
- every batch is one ``BEGIN IMMEDIATE`` transaction in a WAL journal: readers (Datasette, ``sqlite3``) keep
  reading while a crawl writes, and a killed writer loses only the batch it had not committed.

Schema changes are sqlite-utils migrations recorded in ``_sqlite_migrations``; opening an older database
upgrades it in place, and a database written by a newer version of the monitor is refused without a write.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlite_utils
from sqlite_utils import Migrations

from monitor import runrecords
from monitor.classify import Verdict
from monitor.dedup import (
    MIN_ANCHORED,
    MIN_SHARED,
    anchored_shingles,
    content_hash,
    resemblance,
    shingles,
    sketch,
)
from monitor.extract import Article

BUSY_TIMEOUT_MS = 10_000
CACHE_KIB = 65_536  # page cache of a writing connection (SQLite's default is 2 MiB)
SQLITE_HEADER = b"SQLite format 3\x00"
MIGRATION_SET = "monitor"
migrations = Migrations(MIGRATION_SET)


class StorageError(RuntimeError):
    """The database cannot be used; the message names the file and the reason in one line."""


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db.table("articles").create(
        {
            "id": int,
            "url": str,
            "fetched_url": str,
            "source": str,
            "title": str,
            "lead": str,
            "text": str,
            "authors": str,
            "published": str,
            "published_source": str,
            "modified": str,
            "date_candidates": str,
            "language": str,
            "words": int,
            "paywalled": int,
            "relevance": str,
            "score": float,
            "ruleset": str,
            "first_seen": str,
            "last_seen": str,
            "fetched_at": str,
        },
        pk="id",
        not_null={"url", "source"},
    )
    db.table("articles").create_index(["url"], unique=True)
    db.table("articles").create_index(["published"])
    db.table("articles").create_index(["relevance", "published"])
    db.table("articles").create_index(["source", "published"])
    db.table("matches").create(
        {
            "article_id": int,
            "rule": str,
            "grp": str,
            "term": str,
            "entity": str,
            "field": str,
            "start": int,
            "end": int,
            "snippet": str,
        },
        foreign_keys=[("article_id", "articles", "id")],
    )
    db.table("matches").create_index(["article_id"])
    db.table("matches").create_index(["term"])
    db.table("crawl_runs").create(
        {
            "id": int,
            "started": str,
            "finished": str,
            "spider": str,
            "sources": str,
            "status": str,
            "discovered": int,
            "fetched": int,
            "stored": int,
            "flagged": int,
            "failed": int,
            "skipped": int,
        },
        pk="id",
    )
    db.table("run_sources").create(
        {
            "run_id": int,
            "source": str,
            "discovered": int,
            "fetched": int,
            "stored": int,
            "flagged": int,
            "failed": int,
            "skipped": int,
            "errors": str,
        },
        pk=("run_id", "source"),
        foreign_keys=[("run_id", "crawl_runs", "id")],
    )
    db.create_view(
        "peace_talks",
        """
        SELECT a.published, a.source AS outlet, a.title, a.url, a.score,
               (SELECT group_concat(term, ', ') FROM (
                    SELECT m.term FROM matches m WHERE m.article_id = a.id
                    GROUP BY m.term ORDER BY count(*) DESC, m.term LIMIT 5)) AS top_terms
        FROM articles a
        WHERE a.relevance = 'primary'
        ORDER BY a.published DESC
        """,
    )


# --- m002: the archive analysts query -------------------------------------------------------------------

# What the FTS index receives for a text: FTS5's unicode61 folds the other Polish letters itself.
# New articles are indexed by Storage (an INSERT trigger would make FTS5 flush its buffer at every row,
# halving the write rate); updates and deletes, rare and possibly made by hand, by these triggers.
_FTS_FOLD = "replace(replace({0}, 'ł', 'l'), 'Ł', 'L')"
FTS_TRIGGERS = {
    "articles_fts_delete": """
        CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
          INSERT INTO articles_fts (articles_fts, rowid, title, lead, text)
          VALUES ('delete', old.id, {old_title}, {old_lead}, {old_text});
        END""",
    "articles_fts_update": """
        CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, lead, text ON articles BEGIN
          INSERT INTO articles_fts (articles_fts, rowid, title, lead, text)
          VALUES ('delete', old.id, {old_title}, {old_lead}, {old_text});
          INSERT INTO articles_fts (rowid, title, lead, text)
          VALUES (new.id, {new_title}, {new_lead}, {new_text});
        END""",
}
_FTS_VALUES = {
    f"{age}_{column}": _FTS_FOLD.format(f"{age}.{column}")
    for age in ("new", "old")
    for column in ("title", "lead", "text")
}

_TOP_TERMS = """(SELECT group_concat(term, ', ') FROM (
                    SELECT m.term FROM matches m WHERE m.article_id = a.id
                    GROUP BY m.term ORDER BY count(*) DESC, m.term LIMIT 5))"""
_STORY_OUTLETS = "(SELECT count(DISTINCT s.source) FROM articles s WHERE s.story_id = a.story_id)"
_GROUP = "(SELECT g.outlet_group FROM sources g WHERE g.name = a.source)"

VIEWS = {
    # Columns published, outlet, title, url, score, top_terms come first and stay: scripts rely on them.
    "peace_talks": f"""
        SELECT a.published, a.source AS outlet, a.title, a.url, a.score,
               {_TOP_TERMS} AS top_terms,
               a.lead, a.story_id, {_STORY_OUTLETS} AS story_outlets, a.first_seen, a.id AS article_id,
               {_GROUP} AS outlet_group
        FROM articles a
        WHERE a.relevance = 'primary'
        ORDER BY julianday(a.published) DESC, a.id DESC""",
    "peace_talk_mentions": f"""
        SELECT a.published, a.source AS outlet, a.title, a.url, a.score,
               {_TOP_TERMS} AS top_terms,
               a.lead, a.story_id, {_STORY_OUTLETS} AS story_outlets, a.first_seen, a.id AS article_id,
               {_GROUP} AS outlet_group
        FROM articles a
        WHERE a.relevance = 'mention'
        ORDER BY julianday(a.published) DESC, a.id DESC""",
    "daily_counts": f"""
        SELECT coalesce(substr(a.published, 1, 10), substr(a.first_seen, 1, 10)) AS day,
               a.source AS outlet,
               count(*) AS articles,
               sum(a.relevance = 'primary') AS flagged,
               sum(a.relevance = 'mention') AS mentions,
               {_GROUP} AS outlet_group
        FROM articles a
        GROUP BY day, outlet
        ORDER BY day DESC, outlet""",
    # One pass over the run history (a crawl every 15 minutes is 35,000 runs a year per outlet).
    "source_health": """
        WITH runs AS (
            SELECT rs.source, rs.run_id, rs.discovered, rs.fetched, rs.stored, rs.flagged,
                   rs.failed + rs.feeds_failed AS failed, r.status,
                   coalesce(r.finished, r.started) AS at,
                   row_number() OVER (PARTITION BY rs.source ORDER BY rs.run_id DESC) AS recent
            FROM run_sources rs JOIN crawl_runs r ON r.id = rs.run_id
            WHERE r.spider IS NOT 'ingest' AND r.status IS NOT 'running'
        ),
        per AS (
            SELECT source,
                   count(*) AS runs,
                   max(at) AS last_run,
                   max(CASE WHEN fetched > 0 OR (discovered > 0 AND failed = 0) THEN at END) AS last_success,
                   sum(recent <= 10 AND failed > 0) AS failed_runs_of_last_10,
                   round(avg(CASE WHEN recent <= 10 THEN stored END), 2) AS stored_per_run,
                   round(avg(CASE WHEN recent <= 10 THEN flagged END), 2) AS flagged_per_run,
                   coalesce(min(CASE WHEN stored > 0 THEN recent END) - 1, count(*)) AS runs_since_last_stored,
                   max(CASE WHEN failed > 0 THEN run_id END) AS last_failed_run,
                   sum(recent <= 10 AND status = 'interrupted') AS interrupted_runs_of_last_10
            FROM runs GROUP BY source
        ),
        -- articles stored (first seen) in the last 30 days, read through idx_articles_first_seen
        recent AS (
            SELECT source,
                   sum(first_seen >= strftime('%Y-%m-%dT%H:%M:%S', 'now', '-7 days')) AS stored_7d,
                   sum(first_seen >= strftime('%Y-%m-%dT%H:%M:%S', 'now', '-7 days') AND relevance = 'primary')
                     AS flagged_7d,
                   count(*) AS stored_30d,
                   sum(relevance = 'primary') AS flagged_30d
            FROM articles
            WHERE first_seen >= strftime('%Y-%m-%dT%H:%M:%S', 'now', '-30 days')
            GROUP BY source
        )
        SELECT s.name AS outlet,
               coalesce(per.runs, 0) AS runs,
               per.last_run,
               per.last_success,
               coalesce(per.failed_runs_of_last_10, 0) AS failed_runs_of_last_10,
               per.stored_per_run,
               per.flagged_per_run,
               coalesce(per.runs_since_last_stored, 0) AS runs_since_last_stored,
               (SELECT max(a.first_seen) FROM articles a WHERE a.source = s.name) AS last_new_article,
               (SELECT json_extract(e.errors, '$[0]') FROM run_sources e
                 WHERE e.run_id = per.last_failed_run AND e.source = s.name) AS last_error,
               s.outlet_group,
               coalesce(recent.stored_7d, 0) AS stored_7d,
               coalesce(recent.flagged_7d, 0) AS flagged_7d,
               coalesce(recent.stored_30d, 0) AS stored_30d,
               coalesce(recent.flagged_30d, 0) AS flagged_30d,
               (SELECT max(a.published) FROM articles a WHERE a.source = s.name) AS last_published,
               coalesce(per.interrupted_runs_of_last_10, 0) AS interrupted_runs_of_last_10
        FROM sources s LEFT JOIN per ON per.source = s.name LEFT JOIN recent ON recent.source = s.name
        ORDER BY s.name""",
    "wire_stories": """
        SELECT a.story_id,
               count(DISTINCT a.source) AS outlets,
               count(*) AS copies,
               group_concat(DISTINCT a.source) AS outlet_names,
               min(a.published) AS first_published,
               (SELECT f.title FROM articles f WHERE f.story_id = a.story_id ORDER BY f.published, f.id LIMIT 1)
                 AS title,
               max(a.relevance = 'primary') AS flagged
        FROM articles a
        GROUP BY a.story_id
        HAVING count(DISTINCT a.source) > 1
        ORDER BY first_published DESC""",
}


# No executescript() here: it would COMMIT the migration's transaction half-way.
M002_SCHEMA = (
    """CREATE TABLE sources (
        name TEXT PRIMARY KEY,
        title TEXT,
        domains TEXT,           -- JSON list, from sources.toml
        first_seen TEXT,
        last_run_id INTEGER
    )""",
    """CREATE TABLE article_revisions (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        changed_at TEXT NOT NULL,   -- when the re-fetch saw the change
        fields TEXT NOT NULL,       -- what changed: title, lead, text (comma-separated)
        title_before TEXT, title_after TEXT,
        lead_before TEXT, lead_after TEXT,
        text_before TEXT,           -- the replaced body, only when the body changed
        words_before INTEGER, words_after INTEGER,
        hash_before TEXT, hash_after TEXT
    )""",
    "CREATE INDEX idx_article_revisions_article ON article_revisions (article_id, changed_at)",
    "CREATE INDEX idx_article_revisions_changed ON article_revisions (changed_at)",
    """CREATE TABLE article_sketches (
        hash INTEGER NOT NULL,
        article_id INTEGER NOT NULL,
        PRIMARY KEY (hash, article_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX idx_article_sketches_article ON article_sketches (article_id)",
    "CREATE INDEX idx_articles_story ON articles (story_id)",
    "CREATE INDEX idx_articles_first_seen ON articles (first_seen)",
    "CREATE INDEX idx_articles_source_first_seen ON articles (source, first_seen)",
    "CREATE INDEX idx_articles_content_hash ON articles (content_hash)",
    "CREATE INDEX idx_matches_rule ON matches (rule)",
    "CREATE INDEX idx_run_sources_source ON run_sources (source, run_id)",
    """CREATE VIRTUAL TABLE articles_fts USING fts5 (
        title, lead, text,
        content="articles", content_rowid="id",
        tokenize="unicode61 remove_diacritics 2"
    )""",
    # Deleting an article takes its matches, revisions and sketch with it.
    """CREATE TRIGGER articles_cleanup BEFORE DELETE ON articles BEGIN
        DELETE FROM matches WHERE article_id = old.id;
        DELETE FROM article_revisions WHERE article_id = old.id;
        DELETE FROM article_sketches WHERE article_id = old.id;
    END""",
)


@migrations()
def m002_archive(db: sqlite_utils.Database) -> None:
    """Sources, revisions, content hashes, wire-story links, FTS5 with folded diacritics, the analysts' views."""
    conn = db.conn
    for column, kind in (("content_hash", str), ("story_id", int), ("changed_at", str)):
        db.table("articles").add_column(column, kind)
    db.table("articles").add_column("revisions", int, not_null_default=0)
    db.table("run_sources").add_column("started", str)
    db.table("run_sources").add_column("finished", str)
    for statement in M002_SCHEMA:
        conn.execute(statement)
    for sql in FTS_TRIGGERS.values():
        conn.execute(sql.format(**_FTS_VALUES))
    fold = {column: _FTS_FOLD.format(column) for column in ("title", "lead", "text")}
    conn.execute(
        f"INSERT INTO articles_fts (rowid, title, lead, text) "
        f"SELECT id, {fold['title']}, {fold['lead']}, {fold['text']} FROM articles"
    )
    conn.execute(
        """
        INSERT OR IGNORE INTO sources (name, first_seen)
        SELECT source, min(seen) FROM (
            SELECT source, first_seen AS seen FROM articles
            UNION ALL
            SELECT rs.source, r.started FROM run_sources rs JOIN crawl_runs r ON r.id = rs.run_id)
        GROUP BY source
        """
    )
    conn.execute(
        "UPDATE run_sources SET started = (SELECT started FROM crawl_runs WHERE id = run_id), "
        "finished = (SELECT finished FROM crawl_runs WHERE id = run_id)"
    )
    rows = conn.execute("SELECT id, title, lead, text, source FROM articles ORDER BY id").fetchall()
    for article_id, title, lead, text, _source in rows:
        story = _link_story(conn, article_id, text)
        conn.execute(
            "UPDATE articles SET content_hash = ?, story_id = ? WHERE id = ?",
            [content_hash(title, lead, text), story, article_id],
        )
    _replace_views(conn)


def _replace_views(conn: sqlite3.Connection) -> None:
    """Drop the analysts' views and create them as :data:`VIEWS` defines them now (a migration that changes a
    view, or a column a view reads, calls this last)."""
    for name in ("peace_talks", *VIEWS):
        conn.execute(f"DROP VIEW IF EXISTS {name}")
    for name, sql in VIEWS.items():
        conn.execute(f"CREATE VIEW {name} AS {sql}")


@migrations()
def m003_incremental(db: sqlite_utils.Database) -> None:
    """The crawl's memory (issue #6): feed validators for conditional requests, and the per-run counts of new,
    updated and unchanged articles with each outlet's duration."""
    for column, kind in (("new", int), ("updated", int), ("unchanged", int)):
        db.table("run_sources").add_column(column, kind, not_null_default=0)
    db.table("run_sources").add_column("duration", float)
    db.conn.execute(
        "CREATE TABLE IF NOT EXISTS feed_state (url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, "
        "checked_at TEXT NOT NULL)"
    )
    db.conn.execute(
        "CREATE TABLE IF NOT EXISTS non_articles (url TEXT PRIMARY KEY, source TEXT, reason TEXT, seen_at TEXT NOT NULL)"
    )


# How FTS5 writes its index (bench/bench_archive.py measures both, at 100,000 articles of 3,000 characters):
# - it merges segments when AUTOMERGE of them pile up on one level (4 by default); with 16 a bare index takes
#   new articles about 40% faster, and queries stay as fast;
# - it flushes pending terms to a new segment whenever they pass HASHSIZE bytes (1 MiB by default, about 300
#   articles); with 32 MiB a batch of up to a few thousand articles makes one segment, so there is less to merge.
#   The memory is only taken by a transaction that writes that much.
FTS_AUTOMERGE = 16
FTS_HASHSIZE = 32 * 1024 * 1024
FTS_SETTINGS = {"automerge": FTS_AUTOMERGE, "hashsize": FTS_HASHSIZE}


@migrations()
def m004_fts_merge(db: sqlite_utils.Database) -> None:
    """FTS5 writes fewer, larger segments and merges them less eagerly (stored in the index's own configuration,
    so every writer of the file uses it)."""
    for key, value in FTS_SETTINGS.items():
        db.conn.execute(f"INSERT INTO articles_fts (articles_fts, rank) VALUES ('{key}', {value})")


@migrations()
def m005_outlets(db: sqlite_utils.Database) -> None:
    """Outlet groups (issue #11): ``sources.outlet_group``, carried by the views; ``source_health`` counts the
    articles stored and flagged in the last 7 and 30 days and gives the last article's date."""
    for name in VIEWS:
        db.conn.execute(f"DROP VIEW IF EXISTS {name}")
    db.table("sources").add_column("outlet_group", str)
    _replace_views(db.conn)


@migrations()
def m006_canonical_urls(db: sqlite_utils.Database) -> None:
    """Stored keys in today's canonical form (issue #14): a raw and a percent-encoded form of one Polish URL were
    two keys. Where both forms were stored, the row already under the canonical form stays and the other copy
    goes (with its matches, revisions and sketch)."""
    from monitor.urls import canonical_url

    conn = db.conn
    for table, key in (("articles", "id"), ("non_articles", "url")):
        rows = conn.execute(f"SELECT {key}, url FROM {table} ORDER BY {key}").fetchall()
        for row_key, url in rows:
            canonical = canonical_url(url)
            if canonical == url:
                continue
            if conn.execute(f"SELECT 1 FROM {table} WHERE url = ?", [canonical]).fetchone():
                conn.execute(f"DELETE FROM {table} WHERE {key} = ?", [row_key])
            else:
                conn.execute(f"UPDATE {table} SET url = ? WHERE {key} = ?", [canonical, row_key])


@migrations()
def m006_accounting(db: sqlite_utils.Database) -> None:
    """Exact run accounting (issue #13): what discovery last announced for each URL the crawl fetched, so an
    article dated later in a sitemap than on its page is fetched once, not on every run; and failed feeds,
    sitemaps and section pages counted apart from failed articles (``feeds_failed``)."""
    db.conn.execute(
        "CREATE TABLE IF NOT EXISTS announced (url TEXT PRIMARY KEY, at TEXT, recorded TEXT NOT NULL)"
    )
    db.table("run_sources").add_column("feeds_failed", int, not_null_default=0)
    db.table("crawl_runs").add_column("feeds_failed", int, not_null_default=0)


@migrations()
def m007_credits(db: sqlite_utils.Database) -> None:
    """``articles.credits`` (issue #12): the sign-offs and sources extraction takes off the end of the body
    ("aja/PAP", "Źródło: PAP"), as a JSON list; how wire copies can be told apart from an outlet's own stories."""
    db.table("articles").add_column("credits", str)


@migrations()
def m008_health(db: sqlite_utils.Database) -> None:
    """``source_health`` after exact run accounting (#13): runs still going are left out, a failed feed, sitemap
    or section (``feeds_failed``) makes a failed run as a failed article does, and interrupted runs are counted
    (``interrupted_runs_of_last_10``)."""
    _replace_views(db.conn)


def known_migrations() -> list[str]:
    """The names of every migration this code knows, in order (read from the registered set itself)."""
    return [migration.name for migration in migrations.pending(sqlite_utils.Database(memory=True))]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# --- wire stories ----------------------------------------------------------------------------------------


# Articles sharing at least MIN_SHARED sketch values with a new one. A value that many articles share comes from
# boilerplate, not from one story, so values with COMMON_SKETCH_VALUE postings or more are left out (and counting
# them stops there, so the lookup stays cheap however large the archive grows).
COMMON_SKETCH_VALUE = 64
_CANDIDATES = """
WITH sketch (hash) AS (VALUES {values}),
rare AS (SELECT hash FROM sketch
         WHERE (SELECT count(*) FROM (SELECT 1 FROM article_sketches s WHERE s.hash = sketch.hash LIMIT :common))
               < :common)
SELECT article_id, count(*) AS shared FROM article_sketches
WHERE hash IN (SELECT hash FROM rare) AND article_id != :me
GROUP BY article_id HAVING shared >= :shared
ORDER BY shared DESC, article_id LIMIT 5
"""
# The same question answered in Python from the postings of the sketch values, which is one index probe per
# value: a sketch of n values has at most n * COMMON_SKETCH_VALUE postings to read before some value is
# common for sure, and when the lookup hits that limit the SQL above answers instead.
CANDIDATES = 5


@functools.cache
def _postings_sql(count: int) -> str:
    return f"SELECT hash, article_id FROM article_sketches WHERE hash IN ({', '.join('?' * count)}) LIMIT ?"


@functools.cache
def _insert_sketch_sql(count: int) -> str:
    return f"INSERT OR IGNORE INTO article_sketches (hash, article_id) VALUES {', '.join(['(?, ?)'] * count)}"


def _candidates(conn: sqlite3.Connection, article_id: int, values: list[int]) -> list[tuple[int, int]]:
    """Articles sharing at least MIN_SHARED rare sketch values with ``values``: (article_id, shared), best first."""
    limit = len(values) * COMMON_SKETCH_VALUE
    postings = conn.execute(_postings_sql(len(values)), [*values, limit]).fetchall()
    if len(postings) >= limit:
        params: dict[str, int] = {f"v{i}": value for i, value in enumerate(values)}
        params.update(common=COMMON_SKETCH_VALUE, me=article_id, shared=MIN_SHARED)
        marks = ", ".join(f"(:v{i})" for i in range(len(values)))
        return conn.execute(_CANDIDATES.format(values=marks), params).fetchall()
    per_value = Counter(value for value, _article in postings)
    shared = Counter(
        other for value, other in postings if other != article_id and per_value[value] < COMMON_SKETCH_VALUE
    )
    found = sorted(((-n, other) for other, n in shared.items() if n >= MIN_SHARED))[:CANDIDATES]
    return [(other, -n) for n, other in found]


def _link_story(conn: sqlite3.Connection, article_id: int, text: str | None, *, new: bool = False) -> int:
    """Store the article's sketch and return the story it belongs to: an earlier copy's, else its own id."""
    sample = anchored_shingles(text)
    values = sketch(sample)
    if not new:
        conn.execute("DELETE FROM article_sketches WHERE article_id = ?", [article_id])
    if values:
        conn.execute(_insert_sketch_sql(len(values)), [v for value in values for v in (value, article_id)])
    if len(sample) < MIN_ANCHORED:
        return article_id
    candidates = _candidates(conn, article_id, values)
    if not candidates:
        return article_id
    own = shingles(text)
    best: tuple[float, int] | None = None
    for candidate_id, _shared in candidates:
        row = conn.execute("SELECT text, story_id FROM articles WHERE id = ?", [candidate_id]).fetchone()
        if row is None or row[1] is None:
            continue
        found = resemblance(own, shingles(row[0]))
        if found.same_story and (best is None or found.overlap > best[0]):
            best = (found.overlap, row[1])
    return best[1] if best else article_id


# --- opening ---------------------------------------------------------------------------------------------


def _writable(file: Path) -> bool:
    """Writable for us and not marked read-only (root may write anything; a file without write bits is not)."""
    mode = file.stat().st_mode
    return os.access(file, os.W_OK) and bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _check_file(file: Path, *, write: bool, create: bool) -> None:
    """Refuse, before SQLite touches it, a path that is not a usable SQLite file."""
    if file.is_dir():
        raise StorageError(f"{file}: is a directory, not a database file")
    if not file.exists():
        if not create:
            raise StorageError(
                f"{file}: no such database (run `monitor crawl`, `monitor demo` or `monitor ingest`)"
            )
        return
    with file.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header and header != SQLITE_HEADER:
        raise StorageError(f"{file}: cannot use this database: not an SQLite database")
    if write and not _writable(file):
        raise StorageError(f"{file}: cannot use this database: the file is read-only")
    if write and not os.access(file.parent, os.W_OK):
        raise StorageError(
            f"{file}: cannot use this database: its directory is read-only (WAL needs to write there)"
        )


def damage(conn: sqlite3.Connection) -> str | None:
    """What ``PRAGMA quick_check`` finds wrong with the file (its first line), or None for a sound one.

    It reads every page once (about 0.1 s per 200 MB from the page cache) but not the text inside the rows,
    so writers run it before their first write and refuse a damaged file."""
    try:
        rows = conn.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.DatabaseError as exc:
        if _locked(exc):
            raise
        return str(exc)
    first = rows[0][0] if rows else "no answer"
    return None if first == "ok" else " ".join(str(first).replace("*** in database main ***", "").split())


def damaged_message(file: Path, problem: str) -> str:
    return (
        f"{file}: the database is damaged ({problem}); nothing was written. Restore a backup, or recover "
        f"what is readable with: sqlite3 {file} .recover | sqlite3 recovered.db"
    )


def _locked(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _describe(file: Path, exc: sqlite3.Error, busy_timeout_ms: int) -> str:
    if _locked(exc):
        return f"{file}: the database is locked by another writer (waited {busy_timeout_ms / 1000:g} s)"
    if "readonly" in str(exc).lower() or "read-only" in str(exc).lower():
        return f"{file}: cannot use this database: the file is read-only"
    return f"{file}: cannot use this database: {exc}"


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'"
    ).fetchone()
    if not exists:
        return []
    rows = conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid", [MIGRATION_SET]
    )
    return [name for (name,) in rows]


def _check_schema(file: Path, conn: sqlite3.Connection, *, upgrade: bool) -> None:
    applied = applied_migrations(conn)
    known = known_migrations()
    unknown = [name for name in applied if name not in known]
    user_version = conn.execute("PRAGMA user_version").fetchone()[0]
    if unknown or user_version > len(known):
        newer = ", ".join(unknown) or f"user_version {user_version}"
        raise StorageError(
            f"{file}: written by a newer version of the monitor (schema {newer}); upgrade pl-peace-monitor"
        )
    pending = [name for name in known if name not in applied]
    if pending and not upgrade:
        raise StorageError(
            f"{file}: the schema is older than this monitor ({', '.join(pending)} pending) and the file is "
            "read-only, so it cannot be upgraded; make it writable once and run any monitor command on it"
        )


def _connect_readonly(file: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """A read-only connection. A WAL archive in a folder we cannot write, with no ``-shm`` file left beside it,
    cannot even be read that way (SQLite needs the shared-memory file), so it is opened as immutable: nobody can
    be writing it there, since writing needs the same folder."""
    base = f"file:{quote(str(file.resolve()))}"
    timeout = busy_timeout_ms / 1000
    conn = sqlite3.connect(f"{base}?mode=ro", uri=True, timeout=timeout, check_same_thread=False)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        if os.access(file.parent, os.W_OK) or _locked(exc):
            raise
    return sqlite3.connect(f"{base}?immutable=1", uri=True, timeout=timeout, check_same_thread=False)


def open_database(
    path: str | Path,
    *,
    readonly: bool = False,
    create: bool = True,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
) -> sqlite_utils.Database:
    """Open the archive: WAL journal, a busy timeout, pending migrations applied.

    ``readonly`` opens the file without writing anything (no migration, no journal change); ``create=False``
    refuses a missing file. Every problem is a :class:`StorageError` with one line naming the file.
    """
    file = Path(path)
    _check_file(file, write=not readonly, create=create and not readonly)
    existed = file.exists()
    if not readonly:
        file.parent.mkdir(parents=True, exist_ok=True)
    conn: sqlite3.Connection | None = None
    try:
        if readonly:
            conn = _connect_readonly(file, busy_timeout_ms)
        else:
            conn = sqlite3.connect(str(file), timeout=busy_timeout_ms / 1000, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if existed and not readonly:
            problem = damage(conn)
            if problem:
                raise StorageError(damaged_message(file, problem))
        _check_schema(file, conn, upgrade=not readonly)
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # in WAL: durable across a killed process
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")  # the FTS index and sketches stay in memory
            conn.execute("PRAGMA foreign_keys = ON")
        db = sqlite_utils.Database(conn)
        if not readonly:
            migrations.apply(db)
            count = len(known_migrations())
            if conn.execute("PRAGMA user_version").fetchone()[0] != count:
                conn.execute(f"PRAGMA user_version = {count}")
    except StorageError:
        if conn is not None:
            conn.close()
        raise
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise StorageError(_describe(file, exc, busy_timeout_ms)) from exc
    return db


def check_writable(path: str | Path) -> None:
    """Refuse, without writing anything, an archive a writer could not use: not SQLite, read-only (file or
    folder), damaged, or from a newer monitor. A missing file passes when its folder can be created or written."""
    file = Path(path)
    if not file.exists() and not file.is_dir():
        folder = next((p for p in file.absolute().parents if p.exists()), Path("/"))
        if not os.access(folder, os.W_OK):
            raise StorageError(f"{file}: cannot create this database: {folder} is read-only")
        return
    _check_file(file, write=True, create=False)
    # A writable connection that writes nothing: unlike a read-only one, it removes the WAL files it opened.
    conn = sqlite3.connect(str(file), timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        problem = damage(conn)
        if problem:
            raise StorageError(damaged_message(file, problem))
        _check_schema(file, conn, upgrade=True)
    except sqlite3.Error as exc:
        raise StorageError(_describe(file, exc, BUSY_TIMEOUT_MS)) from exc
    finally:
        conn.close()


def open_for_reading(path: str | Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite_utils.Database:
    """Open an existing archive for queries: upgraded in place when writable, read-only otherwise."""
    file = Path(path)
    _check_file(file, write=False, create=False)
    if _writable(file) and os.access(file.parent, os.W_OK):
        return open_database(file, create=False, busy_timeout_ms=busy_timeout_ms)
    return open_database(file, readonly=True, create=False, busy_timeout_ms=busy_timeout_ms)


# --- writing ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredResult:
    article_id: int
    created: bool
    changed: bool = False  # an existing article whose title, lead or body changed (a revision was recorded)
    story_id: int | None = None


_ARTICLE_COLUMNS = (
    "url",
    "fetched_url",
    "source",
    "title",
    "lead",
    "text",
    "authors",
    "credits",
    "published",
    "published_source",
    "modified",
    "date_candidates",
    "language",
    "words",
    "paywalled",
    "relevance",
    "score",
    "ruleset",
    "first_seen",
    "last_seen",
    "fetched_at",
    "content_hash",
    "story_id",
    "changed_at",
)
_INSERT_ARTICLE = (
    f"INSERT INTO articles (id, {', '.join(_ARTICLE_COLUMNS)}) "
    f"VALUES (?, {', '.join('?' * len(_ARTICLE_COLUMNS))})"
)
# Columns refreshed on every re-fetch; title, lead and text only when the content hash changed.
_REFRESHED = (
    "fetched_url",
    "source",
    "authors",
    "credits",
    "published",
    "published_source",
    "modified",
    "date_candidates",
    "language",
    "words",
    "paywalled",
    "relevance",
    "score",
    "ruleset",
    "last_seen",
    "fetched_at",
)
_UPDATE_SEEN = f"UPDATE articles SET {', '.join(f'{c} = ?' for c in _REFRESHED)} WHERE id = ?"
_UPDATE_CHANGED = (
    f"UPDATE articles SET {', '.join(f'{c} = ?' for c in _REFRESHED)}, title = ?, lead = ?, text = ?, "
    "content_hash = ?, changed_at = coalesce(?, changed_at), revisions = revisions + ? WHERE id = ?"
)
_INSERT_MATCH = (
    'INSERT INTO matches (article_id, rule, grp, term, entity, field, start, "end", snippet) '
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_REVISION = (
    "INSERT INTO article_revisions (article_id, changed_at, fields, title_before, title_after, lead_before, "
    "lead_after, text_before, words_before, words_after, hash_before, hash_after) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


_INSERT_FTS = "INSERT INTO articles_fts (rowid, title, lead, text) VALUES (?, ?, ?, ?)"


def fts_fold(value: str | None) -> str | None:
    """What the FTS index receives for a text (Python twin of ``_FTS_FOLD``; both must stay identical)."""
    return value.replace("ł", "l").replace("Ł", "L") if value else value


def _match_rows(article_id: int, verdict: Verdict) -> list[tuple[Any, ...]]:
    return [
        (article_id, m.rule, m.group, m.term, m.entity, m.field, m.start, m.end, m.snippet)
        for m in verdict.matches
    ]


def _same(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").split()) == " ".join((b or "").split())


def _source_names(sources: Iterable[Any]) -> list[str]:
    return [s if isinstance(s, str) else s.name for s in sources]


class Storage:
    """Writes and reads of the archive. One instance per process; each ``store_batch`` is one transaction."""

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        link_stories: bool = True,
        readonly: bool = False,
    ):
        """Open (and upgrade) the archive for writing; ``readonly`` opens an existing one for reading only."""
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self.link_stories = link_stories
        self.db = open_database(
            self.path, busy_timeout_ms=busy_timeout_ms, readonly=readonly, create=not readonly
        )
        self.conn = self.db.conn
        # Rows of new articles for the FTS index and the matches table, written by one executemany each
        # (see _flush) before anything that could read them and before the batch commits.
        self._pending_fts: list[tuple[int, str | None, str | None, str | None]] = []
        self._pending_matches: list[tuple[Any, ...]] = []

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self, what: str) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: the write lock up front, all or nothing."""
        conn = self.conn
        try:
            if conn.in_transaction:
                conn.rollback()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        except sqlite3.Error as exc:
            if _locked(exc):
                raise StorageError(_describe(self.path, exc, self.busy_timeout_ms)) from exc
            hint = " (is the disk full?)" if "disk I/O error" in str(exc) else ""
            raise StorageError(f"{self.path}: {what} failed: {exc}{hint}") from exc

    def _register_sources(self, conn: sqlite3.Connection, sources: Iterable[Any], seen_at: str) -> None:
        for source in sources:
            if isinstance(source, str):
                conn.execute(
                    "INSERT OR IGNORE INTO sources (name, title, first_seen) VALUES (?, ?, ?)",
                    [source, source, seen_at],
                )
                continue
            domains = json.dumps(list(getattr(source, "domains", ())), ensure_ascii=False)
            title = getattr(source, "title", None) or source.name
            conn.execute(
                "INSERT INTO sources (name, title, domains, outlet_group, first_seen) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET title = excluded.title, domains = excluded.domains, "
                "outlet_group = coalesce(excluded.outlet_group, outlet_group)",
                [source.name, title, domains, getattr(source, "group", None), seen_at],
            )

    def _upsert(
        self, conn: sqlite3.Connection, source: str, article: Article, verdict: Verdict
    ) -> StoredResult:
        seen_at = now_iso()
        digest = content_hash(article.title, article.lead, article.text)
        refreshed = [
            article.url,
            source,
            json.dumps(article.authors, ensure_ascii=False),
            json.dumps(article.credits, ensure_ascii=False),
            article.published,
            article.published_source,
            article.modified,
            json.dumps(article.date_candidates, ensure_ascii=False),
            article.language,
            article.words,
            int(article.paywalled),
            verdict.relevance,
            verdict.score,
            verdict.ruleset,
            seen_at,
            article.fetched_at or seen_at,
        ]
        existing = conn.execute(
            "SELECT id, content_hash, ruleset, story_id FROM articles WHERE url = ?", [article.canonical_url]
        ).fetchone()
        if existing is None:
            article_id = (conn.execute("SELECT coalesce(max(id), 0) + 1 FROM articles").fetchone())[0]
            story_id = article_id
            if self.link_stories:
                story_id = _link_story(conn, article_id, article.text, new=True)
            values = dict(zip(_REFRESHED, refreshed, strict=True))
            values.update(
                url=article.canonical_url,
                title=article.title,
                lead=article.lead,
                text=article.text,
                first_seen=seen_at,
                content_hash=digest,
                story_id=story_id,
                changed_at=None,
            )
            conn.execute(_INSERT_ARTICLE, [article_id, *(values[c] for c in _ARTICLE_COLUMNS)])
            self._pending_fts.append(
                (article_id, fts_fold(article.title), fts_fold(article.lead), fts_fold(article.text))
            )
            self._pending_matches.extend(_match_rows(article_id, verdict))
            return StoredResult(article_id, True, False, story_id)
        # An existing article: what was queued for the batch so far goes in first (the FTS update trigger
        # deletes the entries its row had, and its matches may be replaced).
        self._flush(conn)
        article_id, old_digest, old_ruleset, story_id = existing
        if old_digest == digest:
            conn.execute(_UPDATE_SEEN, [*refreshed, article_id])
            if old_ruleset != verdict.ruleset:
                self._write_matches(conn, article_id, verdict, replace=True)
            return StoredResult(article_id, False, False, story_id)
        old_title, old_lead, old_text, old_words = conn.execute(
            "SELECT title, lead, text, words FROM articles WHERE id = ?", [article_id]
        ).fetchone()
        fields = [
            name
            for name, before, after in (
                ("title", old_title, article.title),
                ("lead", old_lead, article.lead),
                ("text", old_text, article.text),
            )
            if not _same(before, after)
        ]
        body_changed = "text" in fields
        if fields:
            conn.execute(
                _INSERT_REVISION,
                [
                    article_id,
                    seen_at,
                    ",".join(fields),
                    old_title,
                    article.title,
                    old_lead,
                    article.lead,
                    old_text if body_changed else None,
                    old_words,
                    article.words,
                    old_digest,
                    digest,
                ],
            )
        changed_at = seen_at if fields else None
        conn.execute(
            _UPDATE_CHANGED,
            [
                *refreshed,
                article.title,
                article.lead,
                article.text,
                digest,
                changed_at,
                int(bool(fields)),
                article_id,
            ],
        )
        if body_changed and self.link_stories:
            alone = conn.execute(
                "SELECT count(*) FROM articles WHERE story_id = ? AND id != ?", [story_id, article_id]
            ).fetchone()[0]
            if story_id == article_id and not alone:
                story_id = _link_story(conn, article_id, article.text)
                conn.execute("UPDATE articles SET story_id = ? WHERE id = ?", [story_id, article_id])
            else:  # a member of a story stays in it; only its sketch follows the new text
                _link_story(conn, article_id, article.text)
        self._write_matches(conn, article_id, verdict, replace=True)
        return StoredResult(article_id, False, bool(fields), story_id)

    def _flush(self, conn: sqlite3.Connection) -> None:
        """Write the queued FTS entries and matches of new articles."""
        if self._pending_fts:
            conn.executemany(_INSERT_FTS, self._pending_fts)
            self._pending_fts.clear()
        if self._pending_matches:
            conn.executemany(_INSERT_MATCH, self._pending_matches)
            self._pending_matches.clear()

    @staticmethod
    def _write_matches(conn: sqlite3.Connection, article_id: int, verdict: Verdict, *, replace: bool) -> None:
        if replace:
            conn.execute("DELETE FROM matches WHERE article_id = ?", [article_id])
        conn.executemany(_INSERT_MATCH, _match_rows(article_id, verdict))

    def store_batch(
        self,
        batch: Iterable[tuple[str, Article, Verdict]],
        progress: Callable[[list[StoredResult]], tuple[int, dict[str, dict[str, Any]]]] | None = None,
        announced: Iterable[tuple[str, str | None]] = (),
    ) -> list[StoredResult]:
        """Upsert articles with their verdicts in one transaction (all or nothing).

        ``progress``, given the batch's results, returns ``(run_id, counts per outlet)`` to write in the same
        transaction, so a run's recorded counts always match what it stored. ``announced`` pairs the URLs the
        crawl discovered with the time their feed or sitemap gave them (see :meth:`announced`)."""
        items = list(batch)
        if not items:
            return []
        self._pending_fts.clear()
        self._pending_matches.clear()
        with self._write("write") as conn:
            self._register_sources(conn, sorted({source for source, _a, _v in items}), now_iso())
            results = [self._upsert(conn, source, article, verdict) for source, article, verdict in items]
            self._flush(conn)
            self._write_announced(conn, announced)
            if progress is not None:
                run_id, per_source = progress(results)
                runrecords.write_counts(conn, run_id, per_source, now_iso())
            return results

    def start_run(self, spider: str, sources: Sequence[Any]) -> int:
        """Record a run's start, with a row of zeros in ``run_sources`` for each of its outlets; ``sources`` are
        names or :class:`monitor.sources.Source` objects."""
        started = now_iso()
        with self._write("start of run") as conn:
            self._register_sources(conn, sources, started)
            return runrecords.start(conn, spider, _source_names(sources), started)

    def record_progress(self, run_id: int, per_source: dict[str, dict[str, Any]]) -> None:
        """A running run's counts so far (a run killed later is counted up to here)."""
        with self._write("run progress") as conn:
            runrecords.write_counts(conn, run_id, per_source, now_iso())

    def finish_run(self, run_id: int, status: str, per_source: dict[str, dict[str, Any]]) -> None:
        finished = now_iso()
        with self._write("end of run") as conn:
            self._register_sources(conn, list(per_source), finished)
            runrecords.finish(conn, run_id, status, per_source, finished)

    def mark_interrupted(self, current: int | None = None) -> list[int]:
        """Mark crawls left ``running`` by a killed process as ``interrupted``; call only while holding the run
        lock (no other crawl can be alive then). Returns their ids."""
        with self._write("interrupted runs") as conn:
            return runrecords.interrupt_abandoned(conn, current)

    # --- reading -----------------------------------------------------------------------------------------

    def run_summary(self, run_id: int) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM run_sources WHERE run_id = ? ORDER BY source", [run_id]))

    def latest_run_id(self) -> int | None:
        row = self.conn.execute("SELECT max(id) FROM crawl_runs").fetchone()
        return row[0] if row else None

    def flagged(self, limit: int = 50) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT published, outlet, title, url FROM peace_talks LIMIT ?", [limit]))

    def integrity(self) -> str:
        """``PRAGMA integrity_check`` in one string: ``ok`` for a healthy file."""
        return "; ".join(row[0] for row in self.conn.execute("PRAGMA integrity_check"))

    # --- re-scoring after a rule change (issue #4, owned by the rules) ------------------------------------

    def iter_verdict_inputs(self, batch_size: int = 500) -> Iterator[list[dict[str, Any]]]:
        """Stored articles in id order, a batch at a time: id, url, source, title, lead, text and the verdict."""
        last = 0
        while True:
            rows = list(
                self.db.query(
                    "SELECT id, url, source, title, lead, text, relevance, score, ruleset FROM articles "
                    "WHERE id > ? ORDER BY id LIMIT ?",
                    [last, batch_size],
                )
            )
            if not rows:
                return
            yield rows
            last = rows[-1]["id"]

    def replace_verdicts(self, verdicts: list[tuple[int, Verdict]]) -> None:
        """Rewrite stored verdicts (relevance, score, rule-set version and matches) in one transaction."""
        if not verdicts:
            return
        with self._write("rescore") as conn:
            for article_id, verdict in verdicts:
                conn.execute(
                    "UPDATE articles SET relevance = ?, score = ?, ruleset = ? WHERE id = ?",
                    [verdict.relevance, verdict.score, verdict.ruleset, article_id],
                )
                self._write_matches(conn, article_id, verdict, replace=True)

    # --- the crawl's memory (issue #6) -------------------------------------------------------------------

    def known_articles(self) -> dict[str, str | None]:
        """Stored canonical URLs with the newest time the archive has for each (modified, else published)."""
        rows = self.conn.execute(
            "SELECT url, coalesce(modified, published) FROM articles UNION ALL SELECT url, seen_at FROM non_articles"
        )
        return {url: stamp for url, stamp in rows}

    def announced(self) -> dict[str, str | None]:
        """For each URL the crawl fetched (canonical form of the discovered link): the newest time its feed or
        sitemap gave it then (None when it gave none)."""
        return dict(self.conn.execute("SELECT url, at FROM announced"))

    @staticmethod
    def _write_announced(conn: sqlite3.Connection, announced: Iterable[tuple[str, str | None]]) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO announced (url, at, recorded) VALUES (?, ?, ?)",
            [(url, at, now_iso()) for url, at in announced],
        )

    def save_non_articles(
        self, pages: dict[str, tuple[str, str]], announced: dict[str, str | None] | None = None
    ) -> None:
        """Remember pages that are not articles (video, gallery, empty), by canonical URL: (source, reason),
        with what discovery announced for them (``announced``, by the same URL)."""
        if not pages:
            return
        seen = now_iso()
        with self._write("non-article pages") as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO non_articles (url, source, reason, seen_at) VALUES (?, ?, ?, ?)",
                [(url, source, reason, seen) for url, (source, reason) in pages.items()],
            )
            if announced:
                self._write_announced(conn, ((url, announced.get(url)) for url in pages if url in announced))

    def feed_states(self) -> dict[str, Any]:
        """ETag and Last-Modified of each feed or sitemap as the last completed run saw them."""
        from monitor.memory import FeedState

        rows = self.conn.execute("SELECT url, etag, last_modified FROM feed_state")
        return {url: FeedState(url, etag, modified) for url, etag, modified in rows}

    def save_feed_states(self, states: Iterable[Any]) -> None:
        """Remember feed validators; called only when a run completed, so a crash never hides articles."""
        checked = now_iso()
        rows = [(s.url, s.etag, s.last_modified, checked) for s in states]
        if not rows:
            return
        with self._write("feed validators") as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO feed_state (url, etag, last_modified, checked_at) VALUES (?, ?, ?, ?)",
                rows,
            )

    def silent_sources(self, runs: int) -> list[str]:
        """Outlets that discovered nothing in each of their last ``runs`` runs (and took part in that many)."""
        from monitor.archive import silent_outlets

        return [name for name, _why in silent_outlets(self.conn, runs=runs, hours=None)]
