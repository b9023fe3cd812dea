"""What the archive remembers for the next crawl, read without writing: the stored articles with their newest
time, what discovery announced for each URL the crawl fetched, and the feeds' validators. The decisions taken on
them are pure (:mod:`monitor.discovery.memory`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from monitor.archive.database import open_for_reading
from monitor.discovery.memory import FeedState, Memory


def known_articles(conn: sqlite3.Connection) -> dict[str, str | None]:
    """Stored canonical URLs with the newest time the archive has for each (modified, else published); known
    non-article pages with the time they were seen."""
    rows = conn.execute(
        "SELECT url, coalesce(modified, published) FROM articles UNION ALL SELECT url, seen_at FROM non_articles"
    )
    return {url: stamp for url, stamp in rows}


def announced(conn: sqlite3.Connection) -> dict[str, str | None]:
    """For each URL the crawl fetched (canonical form of the discovered link): the newest time its feed or
    sitemap gave it then (None when it gave none)."""
    return dict(conn.execute("SELECT url, at FROM announced"))


def feed_states(conn: sqlite3.Connection) -> dict[str, FeedState]:
    """ETag and Last-Modified of each feed or sitemap as the last completed run saw them."""
    rows = conn.execute("SELECT url, etag, last_modified FROM feed_state")
    return {url: FeedState(url, etag, modified) for url, etag, modified in rows}


def load_memory(db_path: str | Path | None) -> Memory:
    """Read the archive's memory (without writing to it); an archive that does not exist yet remembers nothing."""
    if not db_path or not Path(db_path).exists():
        return Memory()
    database = open_for_reading(db_path)
    try:
        conn = database.conn
        return Memory(known_articles(conn), feed_states(conn), announced(conn))
    finally:
        database.conn.close()
