"""``monitor prune`` at scale (issue #15): what made it slow on millions of articles stays fixed.

- FTS5 does not merge the index during the batches (each batch's segment of deletions piles up; one merge at the
  end), and its merge settings are never changed outside a batch's own transaction: after a prune, after an
  interrupted one and after one killed with SIGKILL the index's configuration is what it was.
- The wire-story sketches of pruned articles go after the bodies, by rewriting the table when many go and article
  by article when few go, and a prune run again drops those an interrupted run left behind.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from _archive_helpers import MONITOR, ROOT, run
from _env import ENV

from monitor.archive import prune as pruning
from monitor.archive.prune import merge_index, prune

CUT = datetime.fromisoformat("2026-11-29T12:00+01:00")


@pytest.fixture
def db(archive_1200_copy: Path) -> Path:
    return archive_1200_copy


def connect(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(db, isolation_level=None)


def segments(conn: sqlite3.Connection) -> int:
    """Segments of the full-text index (each has its rows in the index's ``_idx`` table)."""
    return conn.execute("SELECT count(DISTINCT segid) FROM articles_fts_idx").fetchone()[0]


def config(conn: sqlite3.Connection) -> list[tuple[str, object]]:
    return conn.execute("SELECT k, v FROM articles_fts_config ORDER BY k").fetchall()


def integrity(conn: sqlite3.Connection) -> None:
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")  # raises when not


def sketches(conn: sqlite3.Connection) -> set[tuple[int, int]]:
    return set(conn.execute("SELECT hash, article_id FROM article_sketches"))


def test_batches_do_not_merge_the_index_and_the_end_merges_it_once(db):
    conn = connect(db)
    merge_index(conn)  # one segment to start from
    assert segments(conn) == 1
    before = config(conn)
    seen: list[int] = []
    outside: list[list[tuple[str, object]]] = []
    other = connect(db)

    def progress(done: int, total: int) -> None:
        seen.append(segments(conn))
        outside.append(config(other))  # what any other connection sees between batches

    result = prune(conn, CUT, batch=25, progress=progress)
    batches = len(seen)
    assert result.articles > 25 * 20 and batches > 20  # more batches than FTS5's default thresholds (16)
    # one new segment per batch that dropped bodies, none merged away (FTS5 would merge at 16)
    assert seen == sorted(seen) and seen[-1] >= 1 + 20 and max(seen) == seen[-1]
    assert all(seen_config == before for seen_config in outside)
    assert result.merge_steps >= 1 and segments(conn) == 1  # merged once, at the end
    assert config(conn) == before
    integrity(conn)


def test_merge_settings_are_those_of_the_index_whatever_they_were(db):
    conn = connect(db)
    conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('crisismerge', 40)")
    conn.execute("DELETE FROM articles_fts_config WHERE k = 'automerge'")  # FTS5's default, no row
    before = config(conn)
    conn.close()
    conn = connect(db)
    assert prune(conn, CUT, batch=50).articles > 0
    assert config(conn) == before
    integrity(conn)


def test_an_interrupted_prune_leaves_the_index_consistent_and_its_settings_unchanged(db):
    conn = connect(db)
    before = config(conn)
    calls = 0

    def stop(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        prune(conn, CUT, batch=40, progress=stop)
    assert not conn.in_transaction and config(conn) == before
    dropped = conn.execute("SELECT count(*) FROM articles WHERE text IS NULL").fetchone()[0]
    assert 0 < dropped <= 5 * 40
    integrity(conn)
    # run again: it finishes, and the sketches of the bodies the first run dropped go too
    result = prune(conn, CUT, batch=40)
    assert result.articles > 0 and result.sketch_rows > 0
    assert (
        conn.execute(
            "SELECT count(*) FROM article_sketches s JOIN articles a ON a.id = s.article_id WHERE a.text IS NULL"
        ).fetchone()[0]
        == 0
    )
    assert config(conn) == before
    integrity(conn)


def test_a_prune_stopped_before_its_index_merge_merges_it_when_run_again(db):
    conn = connect(db)
    merge_index(conn)

    def stop(step: str) -> None:
        if step.startswith("merging"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        prune(conn, CUT, batch=100, note=stop)
    assert segments(conn) > 1  # the bodies' segments of deletions, not merged
    again = prune(conn, CUT)
    assert again.articles == 0 and again.merge_steps >= 1 and again.sketch_rows > 0
    assert segments(conn) == 1
    integrity(conn)
    assert prune(conn, CUT).merge_steps == 0  # nothing left to do: no merge


def test_a_prune_killed_mid_way_loses_nothing(db):
    conn = connect(db)
    before = config(conn)
    rows = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    conn.close()
    process = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "prune", "--db", str(db), "--older-than", "2026-11-29T12:00"]
        + ["--batch-size", "1"],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        reader = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if reader.execute("SELECT count(*) FROM articles WHERE text IS NULL").fetchone()[0] >= 20:
                    break
            except sqlite3.OperationalError:
                pass  # busy or not yet in WAL mode: look again
            time.sleep(0.05)
        reader.close()
        assert process.poll() is None, "the prune ended before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=60)
    conn = connect(db)
    assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == rows
    assert config(conn) == before
    integrity(conn)
    assert prune(conn, CUT).articles > 0
    assert config(conn) == before
    integrity(conn)


def test_many_sketches_go_by_rewriting_the_table_and_the_rest_stay_exactly(db):
    conn = connect(db)
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'article_sketches' ORDER BY name"
    ).fetchall()
    before = sketches(conn)
    result = prune(conn, CUT)
    pruned = {r[0] for r in conn.execute("SELECT id FROM articles WHERE text IS NULL")}
    assert result.sketches_rebuilt
    assert result.sketch_rows == len({row for row in before if row[1] in pruned}) > 0
    assert sketches(conn) == {row for row in before if row[1] not in pruned}
    assert (
        conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'article_sketches' "
            "ORDER BY name"
        ).fetchall()
        == indexes
    )
    assert conn.execute("SELECT name FROM sqlite_temp_master").fetchall() == []
    integrity(conn)


def test_few_sketches_go_article_by_article(db, monkeypatch):
    conn = connect(db)
    before = sketches(conn)
    monkeypatch.setattr(pruning, "SKETCH_REBUILD_SHARE", 2.0)  # never worth rewriting the table
    result = prune(conn, CUT, batch=30)
    pruned = {r[0] for r in conn.execute("SELECT id FROM articles WHERE text IS NULL")}
    assert not result.sketches_rebuilt and result.sketch_rows > 0
    assert sketches(conn) == {row for row in before if row[1] not in pruned}
    integrity(conn)


def test_the_sketch_step_reads_only_the_old_articles_that_still_have_sketch_rows(db):
    """A prune run again (weekly, over a year of old articles) reads from ``articles`` only the old articles the
    sketch index still holds, not every old article: the ones pruned before have no rows left."""
    conn = connect(db)
    prune(conn, CUT)
    old = pruning.old_articles(conn, CUT)
    assert conn.execute("SELECT count(*) FROM articles WHERE text IS NULL").fetchone()[0] > 0
    assert list(pruning._gone(conn, old)) == []
    read: list[str] = []
    conn.set_trace_callback(read.append)
    assert prune(conn, CUT).sketch_rows == 0
    conn.set_trace_callback(None)
    assert not [sql for sql in read if "text IS NULL" in sql]
    # an old article without a body whose sketch rows are still there (a prune stopped before its sketches
    # went) is found, and its rows go
    conn.execute("INSERT INTO article_sketches (hash, article_id) VALUES (12345, ?)", [old[7]])
    assert list(pruning._gone(conn, old)) == [[old[7]]]
    assert prune(conn, CUT).sketch_rows == 1
    assert (
        conn.execute("SELECT count(*) FROM article_sketches WHERE article_id = ?", [old[7]]).fetchone()[0]
        == 0
    )


def test_dry_run_counts_the_sketches_and_writes_nothing(db):
    conn = connect(db)
    before = sketches(conn)
    settings = config(conn)
    dry = prune(conn, CUT, dry_run=True)
    assert dry.sketch_rows > 0 and not dry.sketches_rebuilt and dry.merge_steps == 0
    assert sketches(conn) == before and config(conn) == settings
    assert conn.execute("SELECT count(*) FROM articles WHERE text IS NULL").fetchone()[0] == 0
    assert prune(conn, CUT).sketch_rows == dry.sketch_rows


def test_a_rewrite_of_the_sketches_stopped_half_way_changes_nothing(db, monkeypatch):
    conn = connect(db)
    before = sketches(conn)
    real = conn.execute

    class Stop(Exception):
        pass

    def stopping(conn_: sqlite3.Connection, sql: str, *args: object) -> sqlite3.Cursor:
        if sql.startswith("INSERT INTO article_sketches"):
            raise Stop
        return real(sql, *args)

    class Conn:
        in_transaction = property(lambda self: conn.in_transaction)

        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
            return stopping(conn, sql, *args)

        def executemany(self, sql: str, rows: object) -> sqlite3.Cursor:
            return conn.executemany(sql, rows)

    old = pruning.old_articles(conn, CUT)
    conn.execute(f"UPDATE articles SET text = NULL WHERE id IN ({', '.join(map(str, old[:600]))})")
    with pytest.raises(Stop):
        pruning.drop_sketches(Conn(), old, pruning.PruneResult(CUT))  # type: ignore[arg-type]
    assert not conn.in_transaction
    assert sketches(conn) == before  # rolled back: the table and its index as they were
    integrity(conn)


def test_the_command_says_what_it_did_after_the_bodies(db):
    dry = run([*MONITOR, "prune", "--db", str(db), "--older-than", "2026-11-29T12:00", "--dry-run"])
    assert dry.returncode == 0, dry.stderr
    assert "would drop" in dry.stdout and "wire-story sketch rows of articles without a body" in dry.stdout
    assert "took" not in dry.stdout and "prune: merging" not in dry.stderr
    result = run([*MONITOR, "prune", "--db", str(db), "--older-than", "2026-11-29T12:00"])
    assert result.returncode == 0, result.stderr
    assert "dropped" in result.stdout and "wire-story sketch rows of articles without a body" in result.stdout
    assert "full-text index merged in" in result.stdout
    assert "prune: dropping" in result.stderr and "prune: merging the full-text index" in result.stderr
    vacuum = run([*MONITOR, "prune", "--db", str(db), "--older-than", "2026-11-29T12:00", "--vacuum"])
    assert vacuum.returncode == 0, vacuum.stderr
    assert "dropped the bodies of 0 articles" in vacuum.stdout and " s (before prune:" in vacuum.stdout
    assert "wire-story sketch rows" not in vacuum.stdout  # none left to drop
    assert "no index merge needed" in vacuum.stdout and "full-text index merged" not in vacuum.stdout


def test_prune_leaves_a_gap_between_its_write_transactions_for_other_writers(db, monkeypatch):
    """SQLite's busy handler looks again every 100 ms once it has waited a while: a crawl's write waiting beside a
    prune gets in only if the lock is free that long between two of prune's transactions."""
    conn = connect(db)
    events: list[str] = []
    real_execute = conn.execute

    class Recording:
        in_transaction = property(lambda self: conn.in_transaction)
        total_changes = property(lambda self: conn.total_changes)

        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
            if sql in ("BEGIN IMMEDIATE", "COMMIT"):
                events.append(sql)
            return real_execute(sql, *args)

        def executemany(self, sql: str, rows: object) -> sqlite3.Cursor:
            return conn.executemany(sql, rows)

    monkeypatch.setattr(pruning.time, "sleep", lambda seconds: events.append(f"sleep {seconds}"))
    monkeypatch.setattr(pruning, "SKETCH_REBUILD_SHARE", 2.0)  # the sketches in short transactions too
    result = prune(Recording(), CUT, batch=100)  # type: ignore[arg-type]
    assert result.articles > 300 and result.merge_steps >= 1
    assert pruning.PAUSE >= 0.1
    # every write transaction but the last is followed by the pause before the next one begins
    assert events.count("BEGIN IMMEDIATE") > 8
    for position, event in enumerate(events):
        if event == "BEGIN IMMEDIATE" and position > 0:
            assert events[position - 1] == f"sleep {pruning.PAUSE}", events[
                max(0, position - 3) : position + 1
            ]
