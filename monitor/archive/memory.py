"""What the archive remembers for the next crawl, read without writing: the stored articles with their newest
time, what discovery announced for each URL the crawl fetched, and the feeds' validators. The decisions taken on
them are pure (:mod:`monitor.discovery.memory`).

A crawl never loads the whole memory: :class:`Recall` asks the archive only about the URLs discovery finds, a feed
or sitemap at a time (a few indexed lookups per page of links), so its start-up time and memory do not grow with
the archive. :func:`load_memory` (the whole memory at once) is kept for inspection and tests.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from monitor.archive.database import BUSY_TIMEOUT_MS, StorageError, open_database, open_for_reading
from monitor.discovery.memory import FeedState, Memory

# One query per table and chunk of keys; SQLite allows 32,766 parameters, a feed page has at most a few thousand.
CHUNK = 500
_KNOWN = (
    "SELECT url, coalesce(modified, published) FROM articles WHERE url IN ({marks}) "
    "UNION ALL SELECT url, seen_at FROM non_articles WHERE url IN ({marks})"
)
_ANNOUNCED = "SELECT url, at FROM announced WHERE url IN ({marks})"


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
    """The whole memory at once (without writing to the archive); an archive that does not exist yet remembers
    nothing. It grows with the archive: the crawl asks :class:`Recall` instead."""
    if not db_path or not Path(db_path).exists():
        return Memory()
    database = open_for_reading(db_path)
    try:
        conn = database.conn
        return Memory(known_articles(conn), feed_states(conn), announced(conn))
    finally:
        database.conn.close()


class Recall:
    """The archive's memory for one crawl, asked for the URLs it discovers (``MONITOR_RECALL``, the default).

    The crawl's contract with its memory, kept stable for other back-ends (a shared one for distributed crawls):
    the spider builds it with ``load_object(crawler.settings["MONITOR_RECALL"]).from_crawler(crawler)`` once the
    run has started, on the reactor's thread, and calls only

    - ``recall(keys: Iterable[str]) -> Memory``: what is remembered of these canonical URLs (``known`` and
      ``announced`` hold entries for some of them and for no other URL; ``feeds`` is empty), asked once per
      feed, sitemap or section page with all the article URLs it lists that the crawl has not scheduled yet;
    - ``feed(url: str) -> FeedState | None``: the validators the last completed run saved for a feed or sitemap;
    - ``close() -> None``: when the spider closes.

    Errors are :class:`StorageError` (one line naming the file); the spider stops the crawl on one.

    This one reads the archive (``MONITOR_DB``) read-only, one short read per query, in batches of
    :data:`CHUNK` URLs on the primary keys' indexes. It holds no read transaction between queries: a snapshot
    for the whole crawl would keep the write-ahead log from being checkpointed until the crawl ends. Reading the
    archive as it is now is as right: the crawl asks about each canonical URL at most once per run (the spider
    schedules each once), so what it stored itself meanwhile can only answer "stored" for an article discovery
    finds again under its page's own canonical URL, which then needs no second fetch either. It counts its
    queries and the URLs asked in the crawl's stats (``monitor/recall/queries``, ``monitor/recall/urls``).
    """

    def __init__(self, db_path: str | Path | None, stats: Any = None, busy_timeout_ms: int = BUSY_TIMEOUT_MS):
        self.path = Path(db_path) if db_path else None
        self.stats = stats
        self.conn: sqlite3.Connection | None = None
        if self.path is None or not self.path.exists():
            return  # a new archive remembers nothing
        self.conn = open_database(
            self.path, readonly=True, create=False, busy_timeout_ms=busy_timeout_ms
        ).conn

    @classmethod
    def from_crawler(cls, crawler: Any) -> Recall:
        settings = crawler.settings
        timeout = settings.getfloat("MONITOR_BUSY_TIMEOUT", BUSY_TIMEOUT_MS / 1000)
        return cls(settings.get("MONITOR_DB") or None, crawler.stats, int(timeout * 1000))

    def _count(self, queries: int, urls: int) -> None:
        if self.stats is not None:
            self.stats.inc_value("monitor/recall/queries", queries)
            self.stats.inc_value("monitor/recall/urls", urls)

    def _rows(self, sql: str, keys: list[str], copies: int) -> list[tuple[str, str | None]]:
        assert self.conn is not None
        rows: list[tuple[str, str | None]] = []
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start : start + CHUNK]
            marks = ", ".join("?" * len(chunk))
            try:
                rows += self.conn.execute(sql.format(marks=marks), chunk * copies).fetchall()
            except sqlite3.Error as exc:
                raise StorageError(f"{self.path}: cannot read the crawl's memory: {exc}") from exc
            self._count(1, 0)
        return rows

    def recall(self, keys: Iterable[str]) -> Memory:
        """What the archive remembers of these canonical URLs (and of no other): one :class:`Memory` for
        :func:`monitor.discovery.memory.needs_fetch` to decide on."""
        wanted = sorted(set(keys))
        if self.conn is None or not wanted:
            return Memory()
        self._count(0, len(wanted))
        known = dict(self._rows(_KNOWN, wanted, 2))
        told = dict(self._rows(_ANNOUNCED, wanted, 1))
        return Memory(known=known, announced=told)

    def feed(self, url: str) -> FeedState | None:
        """The validators the last completed run saved for a feed or sitemap."""
        if self.conn is None:
            return None
        try:
            row = self.conn.execute(
                "SELECT url, etag, last_modified FROM feed_state WHERE url = ?", [url]
            ).fetchone()
        except sqlite3.Error as exc:
            raise StorageError(f"{self.path}: cannot read the crawl's memory: {exc}") from exc
        self._count(1, 0)
        return FeedState(*row) if row else None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
