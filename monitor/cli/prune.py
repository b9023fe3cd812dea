"""``monitor prune``: drop the bodies of old articles, keeping their URLs and metadata (issue #15).

A thin layer over :mod:`monitor.archive.prune`. The archive is checked like every writer checks it (not SQLite,
read-only, damaged, from a newer monitor: one ``error:`` line, exit status 2, nothing written).
"""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from monitor.archive import StorageError, check_writable, open_database
from monitor.archive.database import BUSY_TIMEOUT_MS, _describe
from monitor.cli.common import fail
from monitor.cli.progress import Progress

_AGE = re.compile(r"^\s*(\d+)\s*([dw])\s*$", re.IGNORECASE)


def cutoff(value: str, now: datetime | None = None) -> datetime:
    """The instant before which articles are pruned: ``180d``, ``26w``, a date (Warsaw midnight) or ISO 8601.
    Hours and minutes are refused (``6m`` is six minutes, not months), and so is a cutoff less than a day ago."""
    from monitor.archive.queries import parse_since

    now = now or datetime.now(UTC)
    age = _AGE.match(value or "")
    if age:
        amount, unit = int(age.group(1)), age.group(2).lower()
        moment = now - timedelta(days=amount * (7 if unit == "w" else 1))
    elif re.match(r"^\s*\d+\s*[a-zA-Z]+\s*$", value or ""):
        raise ValueError(f"{value!r}: give an age in days or weeks (180d, 26w) or a date (2026-06-01)")
    else:
        try:
            moment = parse_since(value, now)
        except ValueError:
            raise ValueError(
                f"{value!r}: give an age in days or weeks (180d, 26w), a date (2026-06-01) or ISO 8601"
            ) from None
    if moment > now - timedelta(days=1):
        raise ValueError(f"{value!r} is less than a day ago: prune keeps at least the last day")
    return moment


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


@click.command(name="prune")
@click.option(
    "--older-than", "older_than", required=True, help="Age or date: 180d, 26w, 2026-06-01, ISO 8601."
)
@click.option("--keep-flagged", is_flag=True, help="Keep the bodies of flagged stories (relevance primary).")
@click.option("--keep-mentions", is_flag=True, help="Keep the bodies of passing mentions too.")
@click.option("--db", default="data/monitor.db", show_default=True, help="SQLite archive.")
@click.option("--dry-run", is_flag=True, help="Say what would be dropped; write nothing.")
@click.option(
    "--vacuum", is_flag=True, help="Then VACUUM: give the freed space back to the disk (slow, exclusive)."
)
@click.option(
    "--batch-size", default=2000, show_default=True, type=click.IntRange(1), help="Articles per transaction."
)
def prune_command(
    older_than: str,
    keep_flagged: bool,
    keep_mentions: bool,
    db: str,
    dry_run: bool,
    vacuum: bool,
    batch_size: int,
) -> None:
    """Drop the bodies of articles published before --older-than, keeping their URLs and metadata.

    Kept: the row of every article (URL, outlet, title, lead, dates, authors, verdict, matches, story), so the
    crawl does not fetch it again and searches still find it by title and lead. Dropped: the body, its full-text
    entries, its wire-story sketch, the bodies its revisions kept and its date candidates (the chosen date
    stays); and discovery's memory of links last fetched before --older-than.
    """
    from monitor.archive.prune import file_size, prune

    try:
        moment = cutoff(older_than)
    except ValueError as exc:
        fail(f"--older-than {exc}")
    try:
        check_writable(db)
        database = open_database(db, create=False)
    except StorageError as exc:
        fail(str(exc))
    conn = database.conn
    conn.isolation_level = None  # prune runs its own short transactions
    keep = (("primary",) if keep_flagged else ()) + (("mention",) if keep_mentions else ())
    size_before, _free = file_size(conn)
    bar: Progress | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = Progress("prune", total, unit="old articles")
        bar.update(done)

    def note(step: str) -> None:
        click.echo(f"prune: {step}", err=True)

    try:
        result = prune(
            conn, moment, keep=keep, batch=batch_size, dry_run=dry_run, progress=progress, note=note
        )
    except KeyboardInterrupt:
        conn.close()
        fail("interrupted; the bodies dropped so far stay dropped, run it again to finish", 130)
    except sqlite3.Error as exc:  # damage a check before writing cannot see, or a writer holding the lock
        if bar is not None:
            bar.close()
            bar = None
        conn.close()
        fail(f"{_describe(Path(db), exc, BUSY_TIMEOUT_MS)}; what prune dropped before stays dropped")
    finally:
        if bar is not None:
            bar.close()
    when = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    kept = f"; {result.kept:,} kept ({', '.join(keep)})" if keep else ""
    verb = "would drop" if dry_run else "dropped"
    click.echo(
        f"{db}: {verb} the bodies of {result.articles:,} articles published before {when}{kept}: "
        f"{_mb(result.text_bytes)} of text (with {result.revisions:,} revisions' bodies); "
        "URLs, titles, leads, dates and verdicts kept"
    )
    if result.sketch_rows:
        click.echo(f"{verb} {result.sketch_rows:,} wire-story sketch rows of articles without a body")
    if result.candidates:
        click.echo(
            f"{verb} the date candidates of {result.candidates:,} dated articles without a body "
            f"({_mb(result.candidates_bytes)}); their chosen dates and sources kept"
        )
    if result.announced:
        click.echo(
            f"{'would forget' if dry_run else 'forgot'} {result.announced:,} links of discovery's memory "
            f"last fetched before {when} (met again, a link is decided by what is stored)"
        )
    if dry_run:
        conn.close()
        return
    click.echo(
        f"took {result.seconds:,.1f} s: bodies {result.bodies_seconds:,.1f} s, "
        + (
            f"full-text index merged in {result.merge_seconds:,.1f} s"
            if result.merge_steps
            else "no index merge needed"
        )
        + f", sketches {result.sketch_seconds:,.1f} s, discovery's memory {result.announced_seconds:,.1f} s"
    )
    size, free = file_size(conn)
    click.echo(f"file: {_mb(size)}, of which {_mb(free)} free inside (reused by new articles)")
    if vacuum:
        note("VACUUM (exclusive: the whole file is written again)")
        began = time.perf_counter()
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # VACUUM went through the WAL: give it back too
        after, _free = file_size(conn)
        click.echo(
            f"VACUUM: {_mb(size)} → {_mb(after)} in {time.perf_counter() - began:,.1f} s "
            f"(before prune: {_mb(size_before)})"
        )
    elif free:
        click.echo(
            f"to give the free space back to the disk: monitor prune --older-than {older_than} --vacuum"
        )
    conn.close()


def register(main: click.Group) -> None:
    """Add ``prune`` to the ``monitor`` group."""
    main.add_command(prune_command)
