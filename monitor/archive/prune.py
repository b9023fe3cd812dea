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
again. What made it slow at scale (measured on 200,000 and 1,000,000 articles, docs/performance.md) was not the
bodies but two writes whose cost grows with the archive:
- the sketches: ``article_sketches`` is keyed by hash, so the 24,000 rows of 2,000 consecutive articles sit on
  as many pages spread over the whole table (all of it at 200,000 articles, a third of it at 5 million), and
  deleting them batch by batch rewrote that much of the table at every batch. They are
  dropped after the bodies and the index merge instead: when many go, by copying the rows that stay into the
  emptied table (one transaction, the table's size in writes); when few go, by article in short transactions.
- FTS5's own merges: every batch leaves a small segment of deletions, and FTS5 merged whole levels of the index
  (the build's large segments with them) every 16 batches. During each batch merges are switched off inside the
  batch's own transaction (``automerge`` 0, ``crisismerge`` raised, the settings put back before it commits, so
  nothing of it outlives the transaction, whatever stops the process), and the index is merged once at the end.
FTS5 keeps deleted entries until it merges the segments that hold them, so the index is then merged in small
steps; the file keeps its size (its free pages are reused by new articles) until ``VACUUM``.

Two more things go with the bodies, so that 80% of the bodies gone leaves the archive under 40% of its size:
- the date candidates of a pruned article (``date_candidates``: every date its page offered, with their sources).
  Nothing reads them but a person checking a date extraction on a page that is still there to read; the date
  chosen and where it came from (``published``, ``published_source``, ``modified``) stay. An undated article
  keeps them (they say why it has no date). Dropped in the bodies' batches, also for articles pruned by an
  earlier prune (whose bodies are already gone).
- discovery's memory of the links the crawl last fetched before the cutoff (rows of ``announced`` recorded
  before it). A forgotten link met again is decided by what the archive stores: a stored article is fetched
  again only if discovery dates it after the time stored for it (at most once: the fetch records the link
  again, and an unchanged page leaves the pruned article as it was); a link stored under another URL, or not
  stored, is fetched once. The crawl asks about the links it meets, in batches (``Recall`` in
  :mod:`monitor.archive.memory`), so the memory it keeps costs it nothing at start-up either way.
Measured at 5 million articles: 43.3% of the built size after ``VACUUM`` without them, 39.0% with them.
"""

from __future__ import annotations

import sqlite3
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# Pages of index written per merge step (a few MB: one short transaction each).
MERGE_PAGES = 2000

# Seconds between two of prune's write transactions. A crawl's write that finds the archive busy waits in
# SQLite's busy handler, which looks again every 100 ms once it has waited a while: without a gap that long it
# would find the next batch holding the lock nearly every time (measured beside a prune of 200,000 articles:
# waits of 2-4 s for a write every 50 ms).
PAUSE = 0.1

# FTS5's merge settings inside a batch's transaction: no automatic merge, and a crisis merge of the newest level
# only once this many small segments of deletions pile up there (FTS5 allows 2,000 segments in all; a query
# reads every segment, so they are not left to grow without bound).
QUIET_MERGES = {"automerge": 0, "crisismerge": 64}
FTS5_DEFAULTS = {"automerge": 4, "crisismerge": 16}  # what FTS5 uses when its configuration has no row

# Sketch rows dropped by copying the rest into the emptied table when at least this share of the table goes;
# fewer are deleted article by article (each such delete lands on its own page: the table is keyed by hash).
SKETCH_REBUILD_SHARE = 1 / 8


@dataclass
class PruneResult:
    cutoff: datetime
    articles: int = 0  # bodies dropped
    kept: int = 0  # old articles whose bodies were kept (their relevance is in ``keep``)
    revisions: int = 0  # revision rows whose replaced body was dropped
    text_bytes: int = 0  # bytes of text dropped, bodies and revisions' bodies
    candidates: int = 0  # articles without a body (now or before) whose date candidates were dropped
    candidates_bytes: int = 0
    announced: int = 0  # rows of discovery's memory forgotten (links last fetched before the cutoff)
    sketch_rows: int = 0
    sketches_rebuilt: bool = False  # the sketch table was rewritten with the rows that stay
    merge_steps: int = 0
    seconds: float = 0.0
    bodies_seconds: float = 0.0
    sketch_seconds: float = 0.0
    merge_seconds: float = 0.0
    announced_seconds: float = 0.0
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


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One short write transaction (the write lock up front), rolled back by whatever stops it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _sizes(conn: sqlite3.Connection, ids: list[int], candidates: list[int], result: PruneResult) -> None:
    if ids:
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
    if candidates:
        result.candidates_bytes += conn.execute(
            f"SELECT coalesce(sum(length(CAST(date_candidates AS BLOB))), 0) FROM articles "
            f"WHERE id IN ({_marks(candidates)})",
            candidates,
        ).fetchone()[0]
        result.candidates += len(candidates)


def _drop(conn: sqlite3.Connection, ids: list[int], candidates: list[int], result: PruneResult) -> None:
    _sizes(conn, ids, candidates, result)
    if ids:
        marks = _marks(ids)
        conn.execute(f"UPDATE articles SET text = NULL WHERE id IN ({marks})", ids)  # the trigger re-indexes
        conn.execute(
            f"UPDATE article_revisions SET text_before = NULL WHERE article_id IN ({marks}) "
            "AND text_before IS NOT NULL",
            ids,
        )
    if candidates:  # not a column of the full-text index: no trigger
        conn.execute(
            f"UPDATE articles SET date_candidates = NULL WHERE id IN ({_marks(candidates)})", candidates
        )


def _fts_settings(conn: sqlite3.Connection) -> dict[str, int | None]:
    """The index's own values of the QUIET_MERGES settings (None: no row, FTS5's default applies)."""
    rows = dict(conn.execute("SELECT k, v FROM articles_fts_config"))
    return {key: rows.get(key) for key in QUIET_MERGES}


def _set_fts(conn: sqlite3.Connection, key: str, value: int) -> None:
    # Setting a value makes FTS5 first write out the terms pending in this transaction, under the old value.
    conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES (?, ?)", [key, int(value)])


def _quiet_merges(conn: sqlite3.Connection) -> None:
    for key, value in QUIET_MERGES.items():
        _set_fts(conn, key, value)


def _restore_merges(conn: sqlite3.Connection, saved: dict[str, int | None]) -> None:
    """Put the merge settings back, in the same transaction: FTS5 writes the batch's pending entries first, with
    merges still off. A setting that had no row gets FTS5's default in memory and loses its row again."""
    for key, value in saved.items():
        _set_fts(conn, key, FTS5_DEFAULTS[key] if value is None else value)
        if value is None:
            conn.execute("DELETE FROM articles_fts_config WHERE k = ?", [key])


# An old article with something to drop: its body, or the date candidates of a dated article without a body.
_DROPPABLE = (
    "SELECT id, relevance, text IS NOT NULL, date_candidates IS NOT NULL AND published IS NOT NULL "
    "FROM articles WHERE id IN ({marks}) "
    "AND (text IS NOT NULL OR (date_candidates IS NOT NULL AND published IS NOT NULL))"
)


def _droppable(
    conn: sqlite3.Connection, ids: Sequence[int], keep: tuple[str, ...], result: PruneResult
) -> tuple[list[int], list[int]]:
    """Among ``ids``, whose relevance is not kept: the articles that still have a body, and those whose date
    candidates go (the former's, and those left by a prune before this one); the kept bodies are counted."""
    bodies: list[int] = []
    candidates: list[int] = []
    for article_id, relevance, body, dated in conn.execute(_DROPPABLE.format(marks=_marks(ids)), list(ids)):
        if relevance in keep:
            result.kept += bool(body)
            continue
        if body:
            bodies.append(article_id)
        if dated:
            candidates.append(article_id)
    return bodies, candidates


def prune(
    conn: sqlite3.Connection,
    cutoff: datetime,
    *,
    keep: Iterable[str] = (),
    batch: int = 2000,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    note: Callable[[str], None] | None = None,
    pause: float = PAUSE,
) -> PruneResult:
    """Drop the bodies of articles older than ``cutoff`` whose relevance is not in ``keep`` (one transaction per
    batch; with them the date candidates of dated articles without a body), then merge the full-text index so
    that the space their entries held can be reused, drop the wire-story sketches of articles without a body and
    forget discovery's memory of links last fetched before ``cutoff`` (:func:`forget_announced`). ``dry_run``
    counts what would go and writes nothing. ``progress(done, total)`` is told how far it got, in old articles;
    ``note(what)`` is told of the steps after the bodies (they have no progress of their own). ``pause``: seconds
    between two write transactions, so that another writer gets in."""
    began = time.perf_counter()
    kept = tuple(sorted(set(keep)))
    result = PruneResult(cutoff, kept_relevance=kept)
    old = old_articles(conn, cutoff)
    saved = _fts_settings(conn)
    for start in range(0, len(old), batch):
        chunk = old[start : start + batch]
        if dry_run:
            ids, candidates = _droppable(conn, chunk, kept, result)
            _sizes(conn, ids, candidates, result)
            if ids:
                result.sketch_rows += conn.execute(
                    f"SELECT count(*) FROM article_sketches WHERE article_id IN ({_marks(ids)})", ids
                ).fetchone()[0]
        elif not any(_droppable(conn, chunk, kept, probe := PruneResult(cutoff))):
            result.kept += probe.kept  # nothing to drop (a prune run again): no transaction
        else:
            with _transaction(conn):
                # again, now that nobody else can write
                ids, candidates = _droppable(conn, chunk, kept, result)
                if ids:
                    _quiet_merges(conn)
                _drop(conn, ids, candidates, result)
                if ids:
                    _restore_merges(conn, saved)
            time.sleep(pause)
        if progress is not None:
            progress(min(len(old), start + batch), len(old))
    result.bodies_seconds = time.perf_counter() - began
    # Sketches left by bodies dropped before (this run's, or a run stopped before its sketches went) also say
    # that the index may not have been merged since: a prune stopped during its merge is merged when run again.
    left = sketch_rows(conn, old)
    merging = time.perf_counter()
    if (result.articles or left) and not dry_run:
        if note is not None:
            note("merging the full-text index")
        result.merge_steps = merge_index(conn, pause=pause)
    result.merge_seconds = time.perf_counter() - merging
    drop_sketches(conn, old, result, batch=batch, dry_run=dry_run, note=note, count=left, pause=pause)
    result.sketch_seconds = time.perf_counter() - began - result.bodies_seconds - result.merge_seconds
    forgetting = time.perf_counter()
    forget_announced(conn, cutoff, result, batch=batch, dry_run=dry_run, note=note, pause=pause)
    result.announced_seconds = time.perf_counter() - forgetting
    result.seconds = time.perf_counter() - began
    return result


_STALE = "julianday(recorded) < julianday(?)"


def forget_announced(
    conn: sqlite3.Connection,
    cutoff: datetime,
    result: PruneResult,
    *,
    batch: int = 2000,
    dry_run: bool = False,
    note: Callable[[str], None] | None = None,
    pause: float = PAUSE,
) -> None:
    """Forget what discovery announced for the links the crawl last fetched before ``cutoff`` (rows of
    ``announced`` recorded before it), ``batch`` rows per transaction, counted in ``result.announced``. The
    table has no index on ``recorded``: one read of it finds them (a few seconds at 5 million rows), and each
    transaction deletes by row id and checks the time again, so a link a crawl fetched again meanwhile stays."""
    instant = cutoff.astimezone(UTC).isoformat(timespec="seconds")
    stale = array(
        "q", (row[0] for row in conn.execute(f"SELECT rowid FROM announced WHERE {_STALE}", [instant]))
    )
    if dry_run or not stale:
        result.announced += len(stale)
        return
    if note is not None:
        note(f"forgetting {len(stale):,} links of discovery's memory last fetched before the cutoff")
    for start in range(0, len(stale), batch):
        rowids = list(stale[start : start + batch])
        with _transaction(conn):
            gone = conn.execute(
                f"DELETE FROM announced WHERE rowid IN ({_marks(rowids)}) AND {_STALE}", [*rowids, instant]
            ).rowcount
        result.announced += gone
        time.sleep(pause)


_SKETCHED = "SELECT DISTINCT article_id FROM article_sketches WHERE article_id BETWEEN ? AND ?"
_GONE = "SELECT id FROM articles WHERE id IN ({marks}) AND text IS NULL"


def _gone(conn: sqlite3.Connection, old: Sequence[int], chunk: int = 5000) -> Iterable[list[int]]:
    """The old articles without a body (pruned now or before) that still have sketch rows, ``chunk`` old articles
    at a time. Only those are read from ``articles``: the sketch index says which old articles have rows (after
    the first prune, the kept bodies and the newly pruned), so a prune does not read every old article again."""
    for start in range(0, len(old), chunk):
        ids = old[start : start + chunk]
        wanted = set(ids)
        sketched = [row[0] for row in conn.execute(_SKETCHED, [ids[0], ids[-1]]) if row[0] in wanted]
        gone = (
            [row[0] for row in conn.execute(_GONE.format(marks=_marks(sketched)), sketched)]
            if sketched
            else []
        )
        if gone:
            yield gone


def sketch_rows(conn: sqlite3.Connection, old: Sequence[int]) -> int:
    """Sketch rows of the old articles that have no body."""
    count = 0
    for gone in _gone(conn, old):
        count += conn.execute(
            f"SELECT count(*) FROM article_sketches WHERE article_id IN ({_marks(gone)})", gone
        ).fetchone()[0]
    return count


def drop_sketches(
    conn: sqlite3.Connection,
    old: Sequence[int],
    result: PruneResult,
    *,
    batch: int = 2000,
    dry_run: bool = False,
    note: Callable[[str], None] | None = None,
    count: int | None = None,
    pause: float = PAUSE,
) -> None:
    """Drop the wire-story sketches of the old articles that have no body (this run's and any an interrupted run
    left), counted in ``result.sketch_rows`` (``count``: :func:`sketch_rows`, when the caller has it). Many go by
    copying the rows that stay into the emptied table in one transaction; few go article by article, ``batch``
    articles per transaction."""
    if count is None:
        count = sketch_rows(conn, old)
    result.sketch_rows += count
    if not count or dry_run:
        return
    total = conn.execute("SELECT count(*) FROM article_sketches").fetchone()[0]
    if count >= total * SKETCH_REBUILD_SHARE:
        if note is not None:
            note(f"dropping {count:,} of {total:,} wire-story sketch rows (one transaction)")
        _rebuild_sketches(conn, old)
        result.sketches_rebuilt = True
        return
    for gone in _gone(conn, old, batch):
        with _transaction(conn):
            conn.execute(f"DELETE FROM article_sketches WHERE article_id IN ({_marks(gone)})", gone)
        time.sleep(pause)


def _rebuild_sketches(conn: sqlite3.Connection, old: Sequence[int]) -> None:
    """Empty ``article_sketches`` and put back, in key order, the rows of articles that keep their body; its
    indexes are dropped and made again from their own definitions (a sorted build instead of a row at a time)."""
    conn.execute("DROP TABLE IF EXISTS temp.prune_gone")
    conn.execute("CREATE TEMP TABLE prune_gone (id INTEGER PRIMARY KEY)")
    conn.execute("DROP TABLE IF EXISTS temp.prune_kept")
    with _transaction(conn):
        for gone in _gone(conn, old):  # read again inside the transaction: a crawl may have written meanwhile
            conn.executemany("INSERT INTO temp.prune_gone (id) VALUES (?)", [(i,) for i in gone])
        conn.execute(
            "CREATE TEMP TABLE prune_kept AS SELECT hash, article_id FROM article_sketches "
            "WHERE article_id NOT IN (SELECT id FROM temp.prune_gone)"
        )
        indexes = [
            (name, sql)
            for name, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'article_sketches' "
                "AND sql IS NOT NULL"
            )
        ]
        for name, _sql in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.execute("DELETE FROM article_sketches")
        conn.execute(
            "INSERT INTO article_sketches (hash, article_id) "
            "SELECT hash, article_id FROM temp.prune_kept ORDER BY hash, article_id"
        )
        for _name, sql in indexes:
            conn.execute(sql)
    conn.execute("DROP TABLE temp.prune_kept")
    conn.execute("DROP TABLE temp.prune_gone")


def merge_index(conn: sqlite3.Connection, pages: int = MERGE_PAGES, pause: float = PAUSE) -> int:
    """Merge the full-text index into one segment, MERGE_PAGES pages per transaction, dropping deleted entries
    (FTS5's ``merge`` with a negative count; done when a step changes nothing). Returns the steps taken."""
    steps = 0
    while True:
        before = conn.total_changes
        with _transaction(conn):
            conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('merge', ?)", [-pages])
        steps += 1
        time.sleep(pause)
        if conn.total_changes - before < 2:
            return steps


def file_size(conn: sqlite3.Connection) -> tuple[int, int]:
    """The database's pages in bytes, and the free pages among them (reused before the file grows)."""
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    return (
        conn.execute("PRAGMA page_count").fetchone()[0] * page,
        conn.execute("PRAGMA freelist_count").fetchone()[0] * page,
    )
