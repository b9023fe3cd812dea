"""Writing a new archive in bulk: the rows :class:`monitor.archive.store.Storage` would write for a series of crawl
runs, without its per-row lookups, for building archives of millions of articles (``bench/make_archive.py``).

The rows are made by the same functions and statements as a crawl's (the column lists and SQL of
:mod:`monitor.archive.rows`, :func:`monitor.archive.stories.content_hash` and the wire-story sketch, run records
by :mod:`monitor.archive.runs`); what differs is only how they reach the file:

- the file is new and nobody else reads it while it is built: no journal, no fsync, a large page cache;
- an article is written once, in its final state (a re-fetch that changed it leaves its ``article_revisions``
  row in the run that saw the change, as a crawl's would), and its wire story is known in advance;
- the sketch values are staged and sorted into their table at the end;
- stories (issue #17) are clustered once at the end by :func:`monitor.archive.story_rebuild.rebuild`, which builds
  what the incremental writer builds when articles arrive in time order.

``tests/test_archive_scale.py`` checks that a small archive written this way equals one written through
``Storage.store_batch`` run by run (every table, the views and the full-text answers).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.archive import integrity
from monitor.archive import runs as runrecords
from monitor.archive.database import open_database
from monitor.archive.rows import (
    _ARTICLE_COLUMNS,
    _INSERT_ARTICLE,
    _INSERT_FTS,
    _INSERT_MATCH,
    _INSERT_REVISION,
    _REFRESHED,
    _match_rows,
    _same,
    fts_fold,
    refreshed_values,
)
from monitor.archive.schema import FTS_HASHSIZE
from monitor.archive.stories import content_hash, wire_sketch
from monitor.extract import Article
from monitor.rules import Verdict

# While the archive is built, FTS5 flushes its pending terms every BULK_HASHSIZE bytes (fewer, larger segments to
# merge); the archive's own setting (FTS_HASHSIZE) is put back at the end.
BULK_HASHSIZE = 256 * 1024 * 1024
COMMIT_EVERY = 50_000  # articles per transaction
BULK_CACHE_KIB = 3 * 1_048_576  # 3 GiB of page cache: the indexes being filled stay in memory


def article_values(source: str, article: Article, verdict: Verdict, seen_at: str) -> dict[str, Any]:
    """The columns a store or a re-fetch refreshes (``Storage._upsert``'s ``refreshed``)."""
    values = refreshed_values(source, article, verdict, seen_at)
    return dict(zip(_REFRESHED, values, strict=True))


@dataclass
class ArticleRow:
    """An article as the archive holds it: its ``articles`` columns, revision count, verdict and sketch."""

    id: int
    columns: dict[str, Any]
    verdict: Verdict
    revisions: int = 0

    def values(self) -> tuple[Any, ...]:
        """The row for ``INSERT INTO articles (id, <_ARTICLE_COLUMNS>, revisions)``."""
        return (self.id, *(self.columns[c] for c in _ARTICLE_COLUMNS), self.revisions)

    def fts(self) -> tuple[int, str | None, str | None, str | None]:
        return fts_row(self.values())

    def matches(self) -> list[tuple[Any, ...]]:
        return _match_rows(self.id, self.verdict)

    def sketch(self) -> list[int]:
        """The wire-story sketch values the article keeps (``link_story``)."""
        return wire_sketch(self.columns["text"]).values


_TITLE = 1 + _ARTICLE_COLUMNS.index("title")  # where title, lead and text are in ArticleRow.values()
assert _ARTICLE_COLUMNS[_TITLE - 1 : _TITLE + 2] == ("title", "lead", "text")


def fts_row(values: tuple[Any, ...]) -> tuple[int, str | None, str | None, str | None]:
    """The full-text row of an article's ``articles`` row (:meth:`ArticleRow.values`): made by the writer from the
    row it writes anyway, so the text crosses from the process that made it once."""
    title, lead, text = values[_TITLE : _TITLE + 3]
    return (values[0], fts_fold(title), fts_fold(lead), fts_fold(text))


def new_article(
    article_id: int, source: str, article: Article, verdict: Verdict, seen_at: str, story_id: int
) -> ArticleRow:
    """An article stored for the first time at ``seen_at`` (``Storage._upsert``, new article)."""
    columns = article_values(source, article, verdict, seen_at)
    columns.update(
        url=article.canonical_url,
        title=article.title,
        lead=article.lead,
        text=article.text,
        first_seen=seen_at,
        content_hash=content_hash(article.title, article.lead, article.text),
        story_id=story_id,
        changed_at=None,
    )
    return ArticleRow(article_id, columns, verdict)


def refetch(
    row: ArticleRow, source: str, article: Article, verdict: Verdict, seen_at: str
) -> tuple[Any, ...] | None:
    """Apply a re-fetch whose content changed to ``row`` (``Storage._upsert``, changed article) and return its
    ``article_revisions`` row, or None when nothing a reader sees changed. The article keeps its story."""
    old = row.columns
    digest = content_hash(article.title, article.lead, article.text)
    if digest == old["content_hash"]:
        raise ValueError(f"article {row.id}: a re-fetch with the same content is not a revision")
    fields = [
        name
        for name, before, after in (
            ("title", old["title"], article.title),
            ("lead", old["lead"], article.lead),
            ("text", old["text"], article.text),
        )
        if not _same(before, after)
    ]
    revision = None
    if fields:
        revision = (
            row.id,
            seen_at,
            ",".join(fields),
            old["title"],
            article.title,
            old["lead"],
            article.lead,
            old["text"] if "text" in fields else None,
            old["words"],
            article.words,
            old["content_hash"],
            digest,
        )
    columns = {**old, **article_values(source, article, verdict, seen_at)}
    columns.update(title=article.title, lead=article.lead, text=article.text, content_hash=digest)
    if fields:
        columns["changed_at"] = seen_at
    row.columns, row.verdict, row.revisions = columns, verdict, row.revisions + int(bool(fields))
    return revision


def run_records(
    run_id: int,
    started: str,
    outlets: Sequence[str],
    per_source: dict[str, dict[str, Any]],
    *,
    status: str,
    finished: str | None = None,
    last_write: str | None = None,
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """A run's ``crawl_runs`` row and ``run_sources`` rows as :mod:`monitor.archive.runs` leaves them: a finished
    run with its final counts; an interrupted one as the next run marks it, with the counts its last batch wrote
    (at ``last_write``; zeros when it wrote none)."""
    interrupted = status == runrecords.INTERRUPTED
    written = not interrupted or last_write is not None
    at = finished if not interrupted else last_write
    columns = (*runrecords.COUNTERS, *runrecords.INCREMENTAL)
    sources = []
    totals = [0] * len(runrecords.COUNTERS)
    for name in outlets:
        counts = per_source.get(name, {}) if written else {}
        errors = json.dumps(list(counts["errors"]), ensure_ascii=False) if counts.get("errors") else "[]"
        values = [int(counts.get(c) or 0) for c in columns]
        totals = [a + b for a, b in zip(totals, values, strict=False)]
        sources.append((run_id, name, *values, errors, counts.get("duration"), started, at))
    ended = (last_write or started) if interrupted else finished
    return (run_id, started, ended, "news", ",".join(outlets), status, *totals), sources


_INSERT_RUN = (
    f"INSERT INTO crawl_runs (id, started, finished, spider, sources, status, {', '.join(runrecords.COUNTERS)}) "
    f"VALUES ({', '.join('?' * (6 + len(runrecords.COUNTERS)))})"
)


_RUN_SOURCE_COLUMNS = (
    *runrecords.COUNTERS,
    *runrecords.INCREMENTAL,
    "errors",
    "duration",
    "started",
    "finished",
)


_INSERT_RUN_SOURCES = (
    f"INSERT INTO run_sources (run_id, source, {', '.join(_RUN_SOURCE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (2 + len(_RUN_SOURCE_COLUMNS)))})"
)


@dataclass
class RunRows:
    """One crawl run as rows: its record, and what its batches stored, in the order they were stored.

    ``articles`` are new articles in their final state; ``revisions`` the changes this run's re-fetches saw (of
    articles stored in earlier runs); ``announced`` and ``non_articles`` as the crawl records them."""

    crawl_run: tuple[Any, ...]
    run_sources: list[tuple[Any, ...]]
    articles: list[tuple[Any, ...]] = field(default_factory=list)
    matches: list[tuple[Any, ...]] = field(default_factory=list)
    sketches: list[tuple[int, int]] = field(default_factory=list)
    revisions: list[tuple[Any, ...]] = field(default_factory=list)
    announced: list[tuple[str, str | None, str]] = field(default_factory=list)  # (url, at, recorded)
    non_articles: list[tuple[str, str, str, str]] = field(default_factory=list)  # (url, source, reason, at)

    def add(self, row: ArticleRow, sketch_values: list[int] | None = None) -> None:
        """A new article; ``sketch_values`` when the caller knows them (else they are computed)."""
        self.articles.append(row.values())
        self.matches.extend(row.matches())
        values = row.sketch() if sketch_values is None else sketch_values
        self.sketches.extend((value, row.id) for value in values)


_INSERT_NEW = _INSERT_ARTICLE.replace(") VALUES (?, ", ", revisions) VALUES (?, ?, ", 1)


@dataclass(frozen=True)
class Outlet:
    """An outlet as the archive's ``sources`` table holds it."""

    name: str
    title: str
    domains: tuple[str, ...]
    group: str | None


class BulkWriter:
    """Writes :class:`RunRows` into a new archive, in run order; :meth:`finish` completes and closes it.

    The file must not exist: it is created with the current schema, written without a journal (a build that
    stops half-way leaves a file to delete, not an archive), and left in WAL mode as ``Storage`` leaves it."""

    def __init__(self, path: str | Path, outlets: Sequence[Outlet]):
        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(f"{self.path}: exists; the bulk writer only builds new archives")
        open_database(self.path).conn.close()  # the schema, exactly as a crawl's first run creates it
        integrity.forget(self.path)  # written without a journal next: no note of a sound file until built
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        for pragma in (
            "journal_mode = OFF",
            "synchronous = OFF",
            f"cache_size = -{BULK_CACHE_KIB}",
            "temp_store = FILE",
            "threads = 2",  # sorting the sketches in and building their index at the end: in two threads
        ):
            self.conn.execute(f"PRAGMA {pragma}")
        self.conn.execute(
            f"INSERT INTO articles_fts (articles_fts, rank) VALUES ('hashsize', {BULK_HASHSIZE})"
        )
        self.conn.execute(
            "CREATE TEMP TABLE staged_sketches (hash INTEGER NOT NULL, article_id INTEGER NOT NULL)"
        )
        self.outlets = list(outlets)
        self._registered = False
        self._last_run: int | None = None  # the last finished run: every outlet's last_run_id
        self._pending = 0  # articles written in the open transaction
        self.timings: dict[str, float] = {}  # seconds of each step of finish()
        self._feed_states: dict[str, tuple[str | None, str | None, str]] = {}

    def _register(self, at: str) -> None:
        """The outlets, as the first run's start registers them (``Storage._register_sources``)."""
        self.conn.executemany(
            "INSERT INTO sources (name, title, domains, outlet_group, first_seen) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET title = excluded.title, domains = excluded.domains, "
            "outlet_group = coalesce(excluded.outlet_group, outlet_group)",
            [
                (o.name, o.title or o.name, json.dumps(list(o.domains), ensure_ascii=False), o.group, at)
                for o in self.outlets
            ],
        )
        self._registered = True

    def write(self, runs: Iterable[RunRows]) -> None:
        """Write runs, in order, each after the runs before it. A transaction spans COMMIT_EVERY articles: FTS5
        writes one index segment per transaction, and fewer, larger segments leave less to merge."""
        conn = self.conn
        if not conn.in_transaction:
            conn.execute("BEGIN")
        try:
            for run in runs:
                self._write_run(conn, run)
                self._pending += len(run.articles)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if self._pending >= COMMIT_EVERY:
            conn.execute("COMMIT")
            self._pending = 0

    def _write_run(self, conn: sqlite3.Connection, run: RunRows) -> None:
        if not self._registered:
            self._register(run.crawl_run[1])
        conn.execute(_INSERT_RUN, run.crawl_run)
        conn.executemany(_INSERT_RUN_SOURCES, run.run_sources)
        if run.crawl_run[5] == "finished":
            self._last_run = run.crawl_run[0]
        conn.executemany(
            "INSERT OR REPLACE INTO non_articles (url, source, reason, seen_at) VALUES (?, ?, ?, ?)",
            run.non_articles,
        )
        conn.executemany(_INSERT_NEW, run.articles)
        conn.executemany(_INSERT_FTS, map(fts_row, run.articles))
        conn.executemany(_INSERT_MATCH, run.matches)
        conn.executemany("INSERT INTO temp.staged_sketches (hash, article_id) VALUES (?, ?)", run.sketches)
        conn.executemany(_INSERT_REVISION, run.revisions)
        conn.executemany(
            "INSERT OR REPLACE INTO announced (url, at, recorded) VALUES (?, ?, ?)", run.announced
        )

    def save_feed_states(self, states: Iterable[tuple[str, str | None, str | None]], checked_at: str) -> None:
        """Feed validators as a finished run saves them; only the last state of each feed is written."""
        for url, etag, modified in states:
            self._feed_states[url] = (etag, modified, checked_at)

    def finish(self) -> None:
        """Sort the staged sketches in, put the FTS settings back, cluster the stories, leave a WAL archive."""
        from monitor.archive.story_rebuild import rebuild

        conn = self.conn
        clock = time.perf_counter()

        def step(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            self.timings[name] = now - clock
            clock = now

        if conn.in_transaction:
            conn.execute("COMMIT")
        step("last commit")
        conn.execute("BEGIN")
        conn.execute("UPDATE sources SET last_run_id = ?", [self._last_run])
        conn.executemany(
            "INSERT OR REPLACE INTO feed_state (url, etag, last_modified, checked_at) VALUES (?, ?, ?, ?)",
            [(url, *state) for url, state in self._feed_states.items()],
        )
        index = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'idx_article_sketches_article'"
        ).fetchone()
        if index:
            conn.execute("DROP INDEX idx_article_sketches_article")
        conn.execute(
            "INSERT OR IGNORE INTO article_sketches (hash, article_id) "
            "SELECT hash, article_id FROM temp.staged_sketches ORDER BY hash, article_id"
        )
        step("sketches sorted in")
        if index:
            conn.execute(index[0])
        conn.execute("DROP TABLE temp.staged_sketches")
        step("sketch index")
        conn.execute(f"INSERT INTO articles_fts (articles_fts, rank) VALUES ('hashsize', {FTS_HASHSIZE})")
        rebuild(conn)
        step("stories clustered")
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.close()
        step("closed")
