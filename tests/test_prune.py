"""``monitor prune`` (issue #15): old bodies go, URLs and metadata stay, the full-text index stays consistent,
and bad input is one line with exit status 2."""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from _archive_helpers import MONITOR, as_article, run

from monitor.archive import Storage, load_memory
from monitor.cli.prune import cutoff
from monitor.rules import Verdict

CUT = "2026-11-29T12:00"  # Warsaw time: 11:00 UTC
CUT_UTC = "2026-11-29T11:00:00+00:00"
COLUMNS = (
    "id, url, source, title, lead, published, first_seen, relevance, score, content_hash, words, story_id"
)


@pytest.fixture
def db(archive_1200_copy: Path) -> Path:
    return archive_1200_copy


def prune(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run([*MONITOR, "prune", "--db", str(db), *args])


def old() -> str:
    return (
        f"(julianday(published) < julianday('{CUT_UTC}') OR (published IS NULL AND first_seen < '{CUT_UTC}'))"
    )


def fts_ids(conn: sqlite3.Connection, word: str) -> list[int]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rowid", [word]
        )
    ]


def test_prune_drops_old_bodies_and_keeps_urls_metadata_and_flagged_bodies(db):
    conn = sqlite3.connect(db)
    before = conn.execute(f"SELECT {COLUMNS} FROM articles ORDER BY id").fetchall()
    doomed = [r[0] for r in conn.execute(f"SELECT id FROM articles WHERE {old()} AND relevance != 'primary'")]
    flagged_old = conn.execute(
        f"SELECT count(*) FROM articles WHERE {old()} AND relevance = 'primary'"
    ).fetchone()[0]
    revised = conn.execute(
        f"SELECT count(*) FROM article_revisions WHERE text_before IS NOT NULL AND article_id IN ({','.join(map(str, doomed))})"
    ).fetchone()[0]
    assert 300 < len(doomed) < 900 and flagged_old > 0 and revised > 0
    conn.close()

    result = prune(db, "--older-than", CUT, "--keep-flagged")
    assert result.returncode == 0, result.stderr
    assert f"dropped the bodies of {len(doomed):,} articles" in result.stdout
    assert f"{flagged_old:,} kept (primary)" in result.stdout

    conn = sqlite3.connect(db)
    assert conn.execute(f"SELECT {COLUMNS} FROM articles ORDER BY id").fetchall() == before  # metadata kept
    pruned = [r[0] for r in conn.execute("SELECT id FROM articles WHERE text IS NULL ORDER BY id")]
    assert pruned == sorted(doomed)
    assert (
        conn.execute("SELECT count(*) FROM articles WHERE relevance = 'primary' AND text IS NULL").fetchone()[
            0
        ]
        == 0
    )
    marks = ",".join(map(str, doomed))
    assert (
        conn.execute(f"SELECT count(*) FROM article_sketches WHERE article_id IN ({marks})").fetchone()[0]
        == 0
    )
    assert conn.execute("SELECT count(*) FROM article_sketches").fetchone()[0] > 0  # the others keep theirs
    assert (
        conn.execute(
            f"SELECT count(*) FROM article_revisions WHERE text_before IS NOT NULL AND article_id IN ({marks})"
        ).fetchone()[0]
        == 0
    )
    assert (
        conn.execute(f"SELECT count(*) FROM article_revisions WHERE article_id IN ({marks})").fetchone()[0]
        > 0
    )
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
    conn.close()
    # the crawl still knows every URL, so it does not fetch a pruned article again
    memory = load_memory(db)
    assert len(memory.known) >= len(before) and all(row[1] in memory.known for row in before)

    again = prune(db, "--older-than", CUT, "--keep-flagged")
    assert again.returncode == 0 and "dropped the bodies of 0 articles" in again.stdout


def test_the_index_after_prune_answers_as_one_built_from_what_is_left(db):
    assert prune(db, "--older-than", CUT).returncode == 0
    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE VIRTUAL TABLE temp.fresh USING fts5 (title, lead, text, content='', tokenize='unicode61 remove_diacritics 2')"
    )
    fold = "replace(replace({0}, 'ł', 'l'), 'Ł', 'L')"
    conn.execute(
        f"INSERT INTO temp.fresh (rowid, title, lead, text) SELECT id, {fold.format('title')}, "
        f"{fold.format('lead')}, {fold.format('text')} FROM articles"
    )
    heads = " ".join(
        t or ""
        for (t,) in conn.execute("SELECT title || ' ' || coalesce(lead, '') FROM articles WHERE id % 7 = 0")
    )
    vocabulary = sorted({w.strip(".,:").lower() for w in heads.split() if len(w.strip(".,:")) > 3})[:300]
    body_only = (
        conn.execute("SELECT text FROM articles WHERE text IS NOT NULL LIMIT 1").fetchone()[0].split()[:50]
    )
    assert len(vocabulary) > 100
    for word in [*vocabulary, *body_only, "putin", "rozmowy"]:
        query = '"' + word.strip(".,:").replace("ł", "l").replace('"', "") + '"'
        expected = [
            r[0]
            for r in conn.execute("SELECT rowid FROM temp.fresh WHERE fresh MATCH ? ORDER BY rowid", [query])
        ]
        assert fts_ids(conn, query) == expected, word
    # pruned articles are still found by their titles
    title = conn.execute("SELECT title FROM articles WHERE text IS NULL LIMIT 1").fetchone()[0]
    words = '"' + title.replace("ł", "l").replace('"', "") + '"'
    assert fts_ids(conn, words)


def test_a_pruned_article_fetched_again_unchanged_stays_pruned(db):
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    row = conn.execute(
        f"SELECT * FROM articles WHERE {old()} AND revisions = 0 AND relevance = 'none' LIMIT 1"
    ).fetchone()
    conn.close()
    article = as_article(row)
    assert prune(db, "--older-than", CUT).returncode == 0
    with Storage(db) as storage:
        (stored,) = storage.store_batch([(row["source"], article, Verdict("none", 0.0, row["ruleset"]))])
    assert stored.article_id == row["id"] and not stored.created and not stored.changed
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT text, revisions FROM articles WHERE id = ?", [row["id"]]).fetchone() == (
        None,
        0,
    )


def test_dry_run_writes_nothing_and_vacuum_gives_the_space_back(db):
    before = db.read_bytes()
    dry = prune(db, "--older-than", CUT, "--dry-run")
    assert dry.returncode == 0 and "would drop the bodies of" in dry.stdout
    assert db.read_bytes() == before
    size = db.stat().st_size
    result = prune(db, "--older-than", CUT, "--vacuum")
    assert result.returncode == 0, result.stderr
    assert "VACUUM:" in result.stdout
    assert db.stat().st_size < size * 0.8


@pytest.mark.parametrize(
    "value, problem",
    [
        ("6m", "days or weeks"),
        ("2h", "days or weeks"),
        ("abc", "days or weeks"),
        ("0d", "less than a day ago"),
    ],
)
def test_bad_older_than_is_one_line(db, value, problem):
    before = db.read_bytes()
    result = prune(db, "--older-than", value)
    assert result.returncode == 2
    assert result.stderr.startswith("error: --older-than") and problem in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert db.read_bytes() == before


def test_cutoff_ages_and_dates():
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert cutoff("180d", now) == datetime(2026, 6, 4, tzinfo=UTC)
    assert cutoff("2w", now) == datetime(2026, 11, 17, tzinfo=UTC)
    assert cutoff("2026-06-01", now) == datetime(2026, 5, 31, 22, tzinfo=UTC)  # Warsaw midnight
    with pytest.raises(ValueError, match="less than a day"):
        cutoff("2026-12-05", now)


@pytest.mark.parametrize("state", ["damaged", "not SQLite", "missing"])
def test_prune_refuses_an_unusable_archive_in_one_line(db, tmp_path, state):
    target = db
    if state == "damaged":
        size = db.stat().st_size
        with db.open("r+b") as handle:
            handle.seek(size // 2 // 4096 * 4096)
            handle.write(b"\xa5" * (size // 4))
    elif state == "not SQLite":
        db.write_bytes(b"hello" * 1000)
    else:
        target = tmp_path / "none.db"
    before = target.read_bytes() if target.exists() else None
    result = prune(target, "--older-than", "180d")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {target}: ")
    expected = {"damaged": "damaged", "not SQLite": "not an SQLite database", "missing": "no such database"}[
        state
    ]
    assert expected in line
    assert (target.read_bytes() if target.exists() else None) == before
