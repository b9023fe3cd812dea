"""The archive's schema: tables, indexes, the FTS5 index with folded diacritics, the analysts' views, and the
migrations that build them, recorded in ``_sqlite_migrations`` (sqlite-utils). Opening an older database applies
what it lacks (:mod:`monitor.archive.database`).
"""

from __future__ import annotations

import sqlite3

from monitor.archive.sqlitelib import sqlite_utils
from monitor.archive.stories import content_hash, link_story
from monitor.archive.story_schema import M009_SCHEMA, STORY_VIEWS

MIGRATION_SET = "monitor"


migrations = sqlite_utils.Migrations(MIGRATION_SET)


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
        story = link_story(conn, article_id, text)
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
    from monitor.discovery.urls import canonical_url

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


@migrations()
def m009_stories(db: sqlite_utils.Database) -> None:
    """Stories across outlets (issue #17): ``stories``, ``story_articles``, the features clustering keeps
    (``story_vectors``, ``story_terms``), the views ``story_timeline`` and ``active_stories``; the archive's
    flagged and mention articles are clustered at once (:func:`monitor.archive.story_rebuild.rebuild`)."""
    for statement in M009_SCHEMA:
        db.conn.execute(statement)
    for name, sql in STORY_VIEWS.items():
        db.conn.execute(f"CREATE VIEW {name} AS {sql}")
    # A new archive has nothing to cluster: the clustering (and the rules it reads) is loaded only to upgrade one
    # that has (a third of the time a new archive takes to create).
    if db.conn.execute("SELECT 1 FROM articles WHERE relevance IN ('primary', 'mention') LIMIT 1").fetchone():
        from monitor.archive.story_rebuild import rebuild

        rebuild(db.conn)


@migrations()
def m011_rescores(db: sqlite_utils.Database) -> None:
    """How far ``monitor rescore`` got with each rule-set version (issue #15): the last article re-scored, written
    in the same transaction as each batch of verdicts, so a killed rescore continues where it stopped and a
    finished one is not done again."""
    db.conn.execute(
        """CREATE TABLE IF NOT EXISTS rescores (
            ruleset TEXT PRIMARY KEY,     -- the rule-set version
            rules TEXT,                   -- the rules file it was loaded from
            started TEXT NOT NULL,
            updated TEXT NOT NULL,        -- when the last batch was written
            finished TEXT,                -- when it reached the last article (NULL while unfinished)
            last_id INTEGER NOT NULL,     -- every article up to this id has been re-scored with these rules
            done INTEGER NOT NULL,        -- articles re-scored
            changed INTEGER NOT NULL,     -- of which changed relevance
            pruned INTEGER NOT NULL,      -- articles without a body (monitor prune): verdicts kept
            transitions TEXT NOT NULL     -- JSON: {"none→primary": n, …}
        )"""
    )


def known_migrations() -> list[str]:
    """The names of every migration this code knows, in order (read from the registered set itself)."""
    return [migration.name for migration in migrations.pending(sqlite_utils.Database(memory=True))]
