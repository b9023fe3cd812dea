"""What ``monitor prune`` drops besides the bodies (issue #15): discovery's memory of links last fetched before the
cutoff, and the date candidates of dated articles without a body. A forgotten link met again is decided by what
the archive stores; the prune stays resumable and a dry run writes nothing."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from _archive_helpers import MONITOR, as_article, run

from monitor.archive import Storage
from monitor.archive import prune as pruning
from monitor.archive.memory import Recall
from monitor.archive.prune import prune
from monitor.discovery.feeds import Link
from monitor.discovery.memory import needs_fetch
from monitor.rules import Verdict

CUT = datetime.fromisoformat("2026-11-29T12:00+01:00")
CUT_UTC = "2026-11-29T11:00:00+00:00"
OLD_RECORD = "2026-11-28T20:00:00+00:00"  # a crawl fetched the link then, before the cutoff
OLD = f"(julianday(published) < julianday('{CUT_UTC}') OR (published IS NULL AND first_seen < '{CUT_UTC}'))"
STALE = f"julianday(recorded) < julianday('{CUT_UTC}')"


@pytest.fixture
def db(archive_1200_copy: Path) -> Path:
    return archive_1200_copy


def connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


def announced(conn: sqlite3.Connection) -> set[tuple[str, str | None, str]]:
    return {tuple(row) for row in conn.execute("SELECT url, at, recorded FROM announced")}


def later(stamp: str, days: float) -> str:
    return (datetime.fromisoformat(stamp) + timedelta(days=days)).isoformat()


def decisions(db: Path, url: str, times: list[str | None]) -> list[bool]:
    """What the crawl decides for a link to ``url`` that discovery dates at each of ``times``, asking the archive
    as a crawl does (one recall for the URLs it meets)."""
    recall = Recall(db)
    try:
        memory = recall.recall([url])
    finally:
        recall.close()
    return [needs_fetch(Link(url, modified=time), url, memory) for time in times]


def test_prune_forgets_the_links_last_fetched_before_the_cutoff_and_keeps_the_rest(db):
    conn = connect(db)
    rows = announced(conn)
    stale = {row for row in rows if row[2] < CUT_UTC}
    assert 100 < len(stale) < len(rows) - 100  # the synthetic runs span the cutoff
    conn.close()
    result = run([*MONITOR, "prune", "--db", str(db), "--older-than", "2026-11-29T12:00"])
    assert result.returncode == 0, result.stderr
    assert f"forgot {len(stale):,} links of discovery's memory last fetched before 2026-11-29 11:00 UTC" in (
        result.stdout
    )
    conn = connect(db)
    assert announced(conn) == rows - stale
    again = run([*MONITOR, "prune", "--db", str(db), "--older-than", "2026-11-29T12:00"])
    assert again.returncode == 0 and "forgot" not in again.stdout


def test_a_forgotten_link_met_again_is_decided_by_what_is_stored(db):
    conn = connect(db)
    # an old unflagged article a sitemap dates two days after its page; the crawl fetched it before the cutoff
    row = conn.execute(
        f"SELECT * FROM articles WHERE {OLD} AND relevance = 'none' AND revisions = 0 AND published IS NOT NULL "
        "ORDER BY id LIMIT 1"
    ).fetchone()
    url, stored = row["url"], row["modified"] or row["published"]
    told = later(stored, 2)
    # another whose feed gave the page's own time, and a link whose page is stored under another URL
    same = conn.execute(
        f"SELECT url, coalesce(modified, published) FROM articles WHERE {OLD} AND published IS NOT NULL "
        "AND id != ? ORDER BY id LIMIT 1",
        [row["id"]],
    ).fetchone()
    elsewhere, elsewhere_told = (
        "https://www.example.invalid/wiadomosci/stary-link,1",
        "2026-11-20T10:00:00+01:00",
    )
    # and one fetched after the cutoff, whose memory stays
    recent = conn.execute(f"SELECT url, at FROM announced WHERE NOT {STALE} ORDER BY url LIMIT 1").fetchone()
    conn.executemany(
        "INSERT OR REPLACE INTO announced (url, at, recorded) VALUES (?, ?, ?)",
        [(url, told, OLD_RECORD), (same[0], same[1], OLD_RECORD), (elsewhere, elsewhere_told, OLD_RECORD)],
    )
    conn.close()
    times = [None, later(stored, -1), stored, told, later(stored, 3)]
    assert decisions(db, url, times) == [False, False, False, False, True]
    assert decisions(db, elsewhere, [None, elsewhere_told]) == [False, False]
    same_times = [None, later(same[1], -1), same[1], later(same[1], 1)]
    same_before = decisions(db, same[0], same_times)
    recent_times = [None, recent[1], later(recent[1] or stored, 1)]
    recent_before = decisions(db, recent[0], recent_times)

    conn = connect(db)
    result = prune(conn, CUT, pause=0)
    assert result.articles > 0 and result.announced > 0
    assert not conn.execute(
        "SELECT count(*) FROM announced WHERE url IN (?, ?, ?)", [url, same[0], elsewhere]
    ).fetchone()[0]
    assert conn.execute("SELECT text FROM articles WHERE id = ?", [row["id"]]).fetchone()[0] is None
    conn.close()

    # the stored time decides: only a link dated after it is fetched, once
    assert decisions(db, url, times) == [False, False, False, True, True]
    # where discovery gave the page's own time, forgetting changes no decision
    assert decisions(db, same[0], same_times) == same_before
    # a link whose page is stored under another URL: fetched once
    assert decisions(db, elsewhere, [None, elsewhere_told]) == [True, True]
    assert decisions(db, recent[0], recent_times) == recent_before

    # the crawl fetches both again; the page is unchanged: the pruned article stays as it was, and the links
    # are remembered again
    with Storage(db) as storage:
        (again,) = storage.store_batch(
            [(row["source"], as_article(row), Verdict("none", 0.0, row["ruleset"]))],
            announced=[(url, told), (elsewhere, elsewhere_told)],
        )
    assert again.article_id == row["id"] and not again.created and not again.changed
    conn = connect(db)
    assert tuple(
        conn.execute("SELECT text, revisions FROM articles WHERE id = ?", [row["id"]]).fetchone()
    ) == (
        None,
        0,
    )
    conn.close()
    assert decisions(db, url, times) == [False, False, False, False, True]
    assert decisions(db, elsewhere, [None, elsewhere_told]) == [False, False]


def test_date_candidates_go_with_the_body_and_stay_where_they_explain_something(db):
    conn = connect(db)
    undated = conn.execute(
        f"SELECT id FROM articles WHERE {OLD} AND relevance = 'none' ORDER BY id DESC LIMIT 1"
    ).fetchone()[0]
    conn.execute("UPDATE articles SET published = NULL, first_seen = ? WHERE id = ?", [OLD_RECORD, undated])
    # bodies dropped by an earlier prune, which kept their candidates
    earlier = [
        r[0]
        for r in conn.execute(
            f"SELECT id FROM articles WHERE {OLD} AND relevance = 'none' AND id != ? ORDER BY id LIMIT 5",
            [undated],
        )
    ]
    conn.execute(f"UPDATE articles SET text = NULL WHERE id IN ({','.join(map(str, earlier))})")
    candidates = dict(conn.execute("SELECT id, date_candidates FROM articles"))
    assert all(json.loads(candidates[i]) for i in earlier) and candidates[undated] is not None
    doomed = {r[0] for r in conn.execute(f"SELECT id FROM articles WHERE {OLD} AND relevance != 'primary'")}
    dated = {
        r[0]
        for r in conn.execute(
            f"SELECT id FROM articles WHERE {OLD} AND relevance != 'primary' AND published IS NOT NULL"
        )
    }
    assert undated in doomed - dated and set(earlier) <= dated
    dropped = sum(len(candidates[i].encode()) for i in dated)
    conn.close()

    result = run([*MONITOR, "prune", "--db", str(db), "--older-than", "2026-11-29T12:00", "--keep-flagged"])
    assert result.returncode == 0, result.stderr
    assert f"dropped the bodies of {len(doomed) - len(earlier):,} articles" in result.stdout
    assert f"dropped the date candidates of {len(dated):,} dated articles without a body" in result.stdout
    assert f"({dropped / 1e6:,.1f} MB)" in result.stdout
    conn = connect(db)
    after = dict(conn.execute("SELECT id, date_candidates FROM articles"))
    assert all(after[i] is None for i in dated)
    # the undated article keeps them (they say why it has no date); kept bodies and recent articles keep theirs
    assert {i: v for i, v in after.items() if i not in dated} == {
        i: v for i, v in candidates.items() if i not in dated
    }
    # the chosen date and its source stay
    assert not conn.execute(
        f"SELECT count(*) FROM articles WHERE id IN ({','.join(map(str, dated))}) AND (published IS NULL "
        "OR published_source IS NULL)"
    ).fetchone()[0]
    conn.close()


def test_a_prune_stopped_while_forgetting_finishes_when_run_again(db, monkeypatch):
    conn = connect(db)
    rows = announced(conn)
    stale = {row for row in rows if row[2] < CUT_UTC}
    steps: list[str] = []
    sleeps = 0

    def sleep(seconds: float) -> None:
        nonlocal sleeps
        if steps and steps[-1].startswith("forgetting"):
            sleeps += 1
            if sleeps == 2:
                raise KeyboardInterrupt

    monkeypatch.setattr(pruning.time, "sleep", sleep)
    with pytest.raises(KeyboardInterrupt):
        prune(conn, CUT, batch=20, note=steps.append)
    assert not conn.in_transaction
    left = announced(conn)
    assert left > rows - stale and len(rows) - len(left) == 2 * 20  # two batches of 20 forgotten
    again = prune(conn, CUT, batch=20, note=steps.append)
    assert again.articles == 0 and again.announced == len(stale) - 2 * 20
    assert announced(conn) == rows - stale
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_link_fetched_again_during_the_prune_is_not_forgotten(db, monkeypatch):
    """Rows are chosen before their transactions: one a crawl records again meanwhile stays."""
    conn = connect(db)
    stale = sorted(row[0] for row in announced(conn) if row[2] < CUT_UTC)
    other = connect(db)
    written = False

    def note(step: str) -> None:
        nonlocal written
        if step.startswith("forgetting") and not written:  # the rows are chosen: a crawl writes now
            other.execute(
                "UPDATE announced SET recorded = '2026-12-01T08:00:00+00:00' WHERE url = ?", [stale[-1]]
            )
            written = True

    result = prune(conn, CUT, batch=50, note=note, pause=0)
    assert written and result.announced == len(stale) - 1
    assert [r[0] for r in conn.execute("SELECT url FROM announced WHERE url = ?", [stale[-1]])] == [stale[-1]]


def test_dry_run_counts_what_would_go_and_writes_nothing(db):
    conn = connect(db)
    stale = conn.execute(f"SELECT count(*) FROM announced WHERE {STALE}").fetchone()[0]
    conn.close()
    before = db.read_bytes()
    dry = run([*MONITOR, "prune", "--db", str(db), "--older-than", "2026-11-29T12:00", "--dry-run"])
    assert dry.returncode == 0, dry.stderr
    assert f"would forget {stale:,} links of discovery's memory" in dry.stdout
    assert "would drop the date candidates of" in dry.stdout
    assert db.read_bytes() == before


def test_an_archive_without_discovery_memory_is_one_error_line(db):
    """A table the archive's schema has is missing (damaged by hand): one line naming the file, exit 2."""
    conn = connect(db)
    conn.execute("DROP TABLE announced")
    conn.close()
    result = run([*MONITOR, "prune", "--db", str(db), "--older-than", "2026-11-29T12:00"])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    (line,) = [text for text in lines if "error" in text]  # the steps' notes before it, then one error line
    assert line == lines[-1] and line.startswith(f"error: {db}: ") and "no such table: announced" in line
