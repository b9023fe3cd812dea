"""The schema of the archive's stories (issue #17): the tables migration ``m009_stories`` creates and the views
``story_timeline`` and ``active_stories`` (docs/stories.md). Kept apart from :mod:`monitor.archive.schema`, whose
views older migrations rebuild before these tables exist."""

from __future__ import annotations

M009_SCHEMA = (
    """CREATE TABLE stories (
        id INTEGER PRIMARY KEY,       -- the id of the article that started the story
        first_seen TEXT NOT NULL,     -- its earliest article's time (published, else first seen), UTC
        last_seen TEXT NOT NULL,      -- its latest article's time, UTC
        headline TEXT,                -- the title of its most central flagged article
        headline_article_id INTEGER,
        first_article_id INTEGER,
        first_outlet TEXT,
        outlets INTEGER NOT NULL DEFAULT 0,
        outlet_names TEXT,            -- JSON, in the order they joined the coverage
        articles INTEGER NOT NULL DEFAULT 0,
        flagged INTEGER NOT NULL DEFAULT 0,
        entities TEXT,                -- JSON entity ids, most articles first
        peak_day TEXT,                -- the Warsaw day with most articles
        follows INTEGER,              -- an earlier story on the subject that had gone quiet
        updated TEXT                  -- when an article last joined (UTC)
    )""",
    "CREATE INDEX idx_stories_last_seen ON stories (last_seen)",
    "CREATE INDEX idx_stories_updated ON stories (updated)",
    """CREATE TABLE story_articles (
        article_id INTEGER PRIMARY KEY,
        story_id INTEGER NOT NULL,
        at TEXT NOT NULL,             -- the article's time, UTC
        how TEXT NOT NULL,            -- new, similar, wire
        score REAL,                   -- its score with the story when it joined
        joined TEXT NOT NULL          -- when it joined (UTC; the article's first_seen after a rebuild)
    )""",
    "CREATE INDEX idx_story_articles_story ON story_articles (story_id, at)",
    "CREATE INDEX idx_story_articles_at ON story_articles (at)",
    """CREATE TABLE story_vectors (
        article_id INTEGER PRIMARY KEY,
        vector TEXT NOT NULL,         -- JSON {token: weight}
        dates TEXT NOT NULL,          -- JSON event days (ordinals)
        venues TEXT NOT NULL          -- JSON venue entity ids
    )""",
    "CREATE TABLE story_terms (token TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID",
    """CREATE TRIGGER story_cleanup BEFORE DELETE ON articles BEGIN
        DELETE FROM story_articles WHERE article_id = old.id;
        DELETE FROM story_vectors WHERE article_id = old.id;
    END""",
)


# The story views (issue #17), apart from VIEWS: older archives build VIEWS in migrations that run before the
# story tables exist. "What it added": the entities and terms of an article's matches that no earlier article
# of its story had.
_ADDED = """(SELECT group_concat({column}, ', ') FROM (
            SELECT DISTINCT m.{column} FROM matches m
            WHERE m.article_id = sa.article_id AND m.entity IS {null}
              AND NOT EXISTS (
                  SELECT 1 FROM story_articles e JOIN matches em ON em.article_id = e.article_id
                  WHERE e.story_id = sa.story_id AND em.{column} = m.{column}
                    AND (e.at < sa.at OR (e.at = sa.at AND e.article_id < sa.article_id)))
            ORDER BY m.{column}))"""


_SINCE = "strftime('%Y-%m-%dT%H:%M:%S', 'now', '{}')"


STORY_VIEWS = {
    "story_timeline": f"""
        SELECT sa.story_id, s.headline AS story, sa.at, a.published, a.source AS outlet, a.title, a.url,
               a.relevance, sa.how, round(sa.score, 3) AS score,
               {_ADDED.format(column="entity", null="NOT NULL")} AS new_entities,
               {_ADDED.format(column="term", null="NULL")} AS new_terms,
               sa.article_id
        FROM story_articles sa
        JOIN stories s ON s.id = sa.story_id
        JOIN articles a ON a.id = sa.article_id
        ORDER BY s.last_seen DESC, sa.story_id DESC, sa.at, sa.article_id""",
    "active_stories": f"""
        WITH recent AS (
            SELECT sa.story_id,
                   count(*) AS articles_48h,
                   count(DISTINCT a.source) AS outlets_48h,
                   sum(sa.at >= {_SINCE.format("-24 hours")}) AS last_24h,
                   sum(sa.at < {_SINCE.format("-24 hours")}) AS previous_24h
            FROM story_articles sa JOIN articles a ON a.id = sa.article_id
            WHERE sa.at >= {_SINCE.format("-48 hours")}
            GROUP BY sa.story_id
        )
        SELECT s.id AS story_id, s.headline, r.outlets_48h, r.articles_48h, r.last_24h, r.previous_24h,
               r.last_24h - r.previous_24h AS growth, s.outlets, s.articles, s.flagged, s.first_seen,
               s.first_outlet, s.last_seen, s.peak_day, s.entities, s.follows
        FROM recent r JOIN stories s ON s.id = r.story_id
        ORDER BY r.outlets_48h DESC, growth DESC, s.last_seen DESC, s.id DESC""",
}
