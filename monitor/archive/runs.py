"""What the archive records about each run: ``crawl_runs`` (one row per run) and ``run_sources`` (one row per
run and outlet). SQL on a connection inside the caller's transaction; no Scrapy.

A run's ``run_sources`` rows exist from its start and carry its counts as of its last write: the crawl's run
recorder (:mod:`monitor.extensions.runs`) gives them to the storage pipeline to write in the same transaction as
each batch of articles, so after ``kill -9`` the counts of the dead run match what it stored, exactly. The next crawl, which holds the run lock and so knows that no other
crawl is alive, marks a run still ``running`` as ``interrupted`` and sums its counts into ``crawl_runs``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from typing import Any

# Per outlet and in crawl_runs' totals.
COUNTERS = ("discovered", "fetched", "stored", "flagged", "failed", "skipped", "feeds_failed")
# Per outlet only.
INCREMENTAL = ("new", "updated", "unchanged")
RUNNING, INTERRUPTED = "running", "interrupted"


def _count(counts: Mapping[str, Any], name: str) -> int:
    return int(counts.get(name) or 0)


def start(conn: sqlite3.Connection, spider: str, sources: Iterable[str], started: str) -> int:
    """A new run, ``running``, with a row of zeros for each of its outlets."""
    names = list(sources)
    cursor = conn.execute(
        "INSERT INTO crawl_runs (started, spider, sources, status) VALUES (?, ?, ?, ?)",
        [started, spider, ",".join(names), RUNNING],
    )
    run_id = int(cursor.lastrowid or 0)
    columns = (*COUNTERS, *INCREMENTAL)
    conn.executemany(
        f"INSERT OR IGNORE INTO run_sources (run_id, source, {', '.join(columns)}, errors, started) "
        f"VALUES (?, ?, {', '.join('0' * len(columns))}, '[]', ?)",
        [(run_id, name, started) for name in names],
    )
    return run_id


def write_counts(
    conn: sqlite3.Connection, run_id: int, per_source: Mapping[str, Mapping[str, Any]], at: str
) -> None:
    """The run's counts per outlet as of ``at`` (kept in ``run_sources.finished`` until the run ends)."""
    started = conn.execute("SELECT started FROM crawl_runs WHERE id = ?", [run_id]).fetchone()
    columns = (*COUNTERS, *INCREMENTAL)
    conn.executemany(
        f"""INSERT INTO run_sources (run_id, source, {", ".join(columns)}, errors, duration, started, finished)
            VALUES (?, ?, {", ".join("?" * len(columns))}, ?, ?, ?, ?)
            ON CONFLICT (run_id, source) DO UPDATE SET
            {", ".join(f"{c} = excluded.{c}" for c in columns)}, errors = excluded.errors,
            duration = excluded.duration, finished = excluded.finished""",
        [
            (
                run_id,
                name,
                *(_count(counts, c) for c in columns),
                json.dumps(list(counts.get("errors") or []), ensure_ascii=False),
                counts.get("duration"),
                started[0] if started else at,
                at,
            )
            for name, counts in per_source.items()
        ],
    )


def _sum_totals(conn: sqlite3.Connection, run_id: int) -> None:
    conn.execute(
        f"UPDATE crawl_runs SET {', '.join(f'{c} = coalesce(t.{c}, 0)' for c in COUNTERS)} "
        f"FROM (SELECT {', '.join(f'sum({c}) AS {c}' for c in COUNTERS)} FROM run_sources WHERE run_id = ?) "
        "AS t WHERE crawl_runs.id = ?",
        [run_id, run_id],
    )


def finish(
    conn: sqlite3.Connection,
    run_id: int,
    status: str,
    per_source: Mapping[str, Mapping[str, Any]],
    at: str,
) -> None:
    """The run's final counts, status and end; its outlets remember it as their last run."""
    write_counts(conn, run_id, per_source, at)
    conn.execute("UPDATE crawl_runs SET finished = ?, status = ? WHERE id = ?", [at, status, run_id])
    _sum_totals(conn, run_id)
    conn.executemany(
        "UPDATE sources SET last_run_id = ? WHERE name = ?", [(run_id, name) for name in per_source]
    )


def interrupt_abandoned(conn: sqlite3.Connection, current: int | None = None) -> list[int]:
    """Crawls still ``running`` other than ``current`` were killed (only call this while holding the run lock):
    mark them ``interrupted``, ended at their last write, with the totals of the counts they wrote."""
    rows = conn.execute(
        "SELECT id FROM crawl_runs WHERE status = ? AND spider IS NOT 'ingest' AND id IS NOT ?",
        [RUNNING, current],
    ).fetchall()
    for (run_id,) in rows:
        conn.execute(
            "UPDATE crawl_runs SET status = ?, finished = coalesce("
            "(SELECT max(finished) FROM run_sources WHERE run_id = ?), started) WHERE id = ?",
            [INTERRUPTED, run_id, run_id],
        )
        _sum_totals(conn, run_id)
    return [run_id for (run_id,) in rows]
