"""Dropping the bodies of old articles (``monitor prune``, issue #15), so that an archive that runs for years
stays the size of what its users keep.

An article older than the cutoff (by its publication instant; by when it was first seen when it has no date)
keeps its row: URL, outlet, title, lead, dates, authors, verdict, matches, story links and content hash, so the
crawl still knows it and does not fetch it again, counts and views still hold it, and a search still finds it by
title and lead. What goes: its body (``text`` becomes NULL), the body's entries in the full-text index (the
update trigger re-indexes title and lead alone), its wire-story sketch, and the bodies its revisions kept
(``article_revisions.text_before``). ``keep`` names relevances whose bodies stay (``primary`` for
``--keep-flagged``).

Each batch is one short transaction, so a crawl can write between them; a prune stopped half-way is simply run
again. FTS5 keeps deleted entries until it merges the segments that hold them, so the index is then merged in
small steps; the file keeps its size (its free pages are reused by new articles) until ``VACUUM``.
"""

from __future__ import annotations

import sqlite3
import time
from array import array
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# Pages of index written per merge step (a few MB: one short transaction each).
MERGE_PAGES = 2000


@dataclass
class PruneResult:
    cutoff: datetime
    articles: int = 0  # bodies dropped
    kept: int = 0  # old articles whose bodies were kept (their relevance is in ``keep``)
    revisions: int = 0  # revision rows whose replaced body was dropped
    text_bytes: int = 0  # bytes of text dropped, bodies and revisions' bodies
    sketch_rows: int = 0
    merge_steps: int = 0
    seconds: float = 0.0
    kept_relevance: tuple[str, ...] = field(default_factory=tuple)


_OLD = (
    "SELECT id FROM articles WHERE published < :upper AND julianday(published) < julianday(:instant) "
    "UNION ALL SELECT id FROM articles WHERE published IS NULL AND first_seen < :instant"
)


def old_articles(conn: sqlite3.Connection, cutoff: datetime) -> array[int]:
    """Ids of articles published before ``cutoff`` (undated ones: first seen before it), ascending. Read from the
    indexes of ``published`` and ``first_seen`` (the string range is a superset, the instant compared exactly)."""
    instant = cutoff.astimezone(UTC).isoformat(timespec="seconds")
    upper = (cutoff.astimezone(UTC) + timedelta(hours=15)).isoformat(
        timespec="seconds"
    )  # any offset's local time
    return array("q", sorted(row[0] for row in conn.execute(_OLD, {"upper": upper, "instant": instant})))


def _marks(ids: Sequence[int]) -> str:
    return ", ".join("?" * len(ids))


def _sizes(conn: sqlite3.Connection, ids: list[int], result: PruneResult) -> None:
    marks = _marks(ids)
    result.text_bytes += conn.execute(
        f"SELECT coalesce(sum(length(CAST(text AS BLOB))), 0) FROM articles WHERE id IN ({marks})", ids
    ).fetchone()[0]
    revised = conn.execute(
        f"SELECT count(*), coalesce(sum(length(CAST(text_before AS BLOB))), 0) FROM article_revisions "
        f"WHERE article_id IN ({marks}) AND text_before IS NOT NULL",
        ids,
    ).fetchone()
    result.revisions += revised[0]
    result.text_bytes += revised[1]
    result.articles += len(ids)


def _drop(conn: sqlite3.Connection, ids: list[int], result: PruneResult) -> None:
    _sizes(conn, ids, result)
    marks = _marks(ids)
    conn.execute(f"UPDATE articles SET text = NULL WHERE id IN ({marks})", ids)  # the trigger re-indexes
    conn.execute(
        f"UPDATE article_revisions SET text_before = NULL WHERE article_id IN ({marks}) AND text_before IS NOT NULL",
        ids,
    )
    result.sketch_rows += conn.execute(
        f"DELETE FROM article_sketches WHERE article_id IN ({marks})", ids
    ).rowcount


def _with_bodies(
    conn: sqlite3.Connection, ids: Sequence[int], keep: tuple[str, ...], result: PruneResult
) -> list[int]:
    """The articles among ``ids`` that still have a body and whose relevance is not kept (counting the kept)."""
    rows = conn.execute(
        f"SELECT id, relevance FROM articles WHERE id IN ({_marks(ids)}) AND text IS NOT NULL", list(ids)
    ).fetchall()
    chosen = [article_id for article_id, relevance in rows if relevance not in keep]
    result.kept += len(rows) - len(chosen)
    return chosen


def prune(
    conn: sqlite3.Connection,
    cutoff: datetime,
    *,
    keep: Iterable[str] = (),
    batch: int = 2000,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> PruneResult:
    """Drop the bodies of articles older than ``cutoff`` whose relevance is not in ``keep`` (one transaction per
    batch), then merge the full-text index so that the space their entries held can be reused. ``dry_run``
    counts what would go and writes nothing. ``progress(done, total)`` is told how far it got, in old articles."""
    began = time.perf_counter()
    kept = tuple(sorted(set(keep)))
    result = PruneResult(cutoff, kept_relevance=kept)
    old = old_articles(conn, cutoff)
    for start in range(0, len(old), batch):
        if dry_run:
            ids = _with_bodies(conn, old[start : start + batch], kept, result)
            if ids:
                _sizes(conn, ids, result)
        else:
            conn.execute("BEGIN IMMEDIATE")
            try:
                ids = _with_bodies(conn, old[start : start + batch], kept, result)
                if ids:
                    _drop(conn, ids, result)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        if progress is not None:
            progress(min(len(old), start + batch), len(old))
    if result.articles and not dry_run:
        result.merge_steps = merge_index(conn)
    result.seconds = time.perf_counter() - began
    return result


def merge_index(conn: sqlite3.Connection, pages: int = MERGE_PAGES) -> int:
    """Merge the full-text index into one segment, MERGE_PAGES pages per transaction, dropping deleted entries
    (FTS5's ``merge`` with a negative count; done when a step changes nothing). Returns the steps taken."""
    steps = 0
    while True:
        conn.execute("BEGIN IMMEDIATE")
        before = conn.total_changes
        try:
            conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('merge', ?)", [-pages])
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        steps += 1
        if conn.total_changes - before < 2:
            return steps


def file_size(conn: sqlite3.Connection) -> tuple[int, int]:
    """The database's pages in bytes, and the free pages among them (reused before the file grows)."""
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    return (
        conn.execute("PRAGMA page_count").fetchone()[0] * page,
        conn.execute("PRAGMA freelist_count").fetchone()[0] * page,
    )
