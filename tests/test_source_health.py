"""Outlet groups in the archive, per-outlet health over 7 and 30 days, and silent outlets in `monitor report`."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from conftest import ROOT

from monitor.archive import Storage
from monitor.archive.queries import silent_outlets
from monitor.discovery.sources import Source
from monitor.extract import Article
from monitor.rules import Verdict


def outlet(name: str, group: str | None) -> Source:
    return Source(name, name.upper(), (f"{name}.pl",), re.compile("art"), group=group)


def article(url: str, published: str = "2026-01-14T10:32:00+01:00") -> Article:
    return Article(
        url=url,
        canonical_url=url,
        title="Rozmowy w Genewie",
        authors=[],
        published=published,
        published_source="jsonld:datePublished",
        modified=None,
        date_candidates=[],
        lead="Lead",
        text=f"Treść artykułu {url} " * 30,
        language="pl",
        paywalled=False,
        words=90,
    )


def ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="seconds")


def test_groups_are_stored_and_carried_by_the_views(tmp_path):
    storage = Storage(tmp_path / "a.db")
    storage.start_run("news", [outlet("rp", "national"), outlet("kurier", "regional")])
    storage.store_batch(
        [
            ("rp", article("https://rp.pl/art1-a"), Verdict("primary", 9.0, "r", [])),
            ("kurier", article("https://kurier.pl/art2-b"), Verdict("mention", 4.0, "r", [])),
        ]
    )
    db = storage.db
    assert dict(db.execute("SELECT name, outlet_group FROM sources").fetchall()) == {
        "rp": "national",
        "kurier": "regional",
    }
    assert db.execute("SELECT outlet, outlet_group FROM peace_talks").fetchall() == [("rp", "national")]
    assert db.execute("SELECT outlet_group FROM peace_talk_mentions").fetchall() == [("regional",)]
    assert set(db.execute("SELECT outlet, outlet_group FROM daily_counts").fetchall()) == {
        ("rp", "national"),
        ("kurier", "regional"),
    }
    # a run that names the outlet without its declaration keeps the group it has
    storage.start_run("news", ["rp"])
    assert db.execute("SELECT outlet_group FROM sources WHERE name = 'rp'").fetchone() == ("national",)
    storage.close()


def test_source_health_counts_the_last_7_and_30_days(tmp_path):
    storage = Storage(tmp_path / "a.db")
    storage.start_run("news", [outlet("rp", "national")])
    flagged, other = Verdict("primary", 9.0, "r", []), Verdict("none", 0.0, "r", [])
    batch = [
        ("rp", article(f"https://rp.pl/art{i}-x", published=f"2026-01-{10 + i}T10:00:00+01:00"), v)
        for i, v in enumerate([flagged, other, flagged, other, other])
    ]
    storage.store_batch(batch)
    # first seen: 2 days ago (ids 1, 2), 20 days ago (3, 4), 60 days ago (5)
    for article_id, days in ((1, 2), (2, 2), (3, 20), (4, 20), (5, 60)):
        storage.db.execute("UPDATE articles SET first_seen = ? WHERE id = ?", [ago(days), article_id])
    storage.db.conn.commit()
    (health,) = storage.db.query("SELECT * FROM source_health WHERE outlet = 'rp'")
    assert (health["stored_7d"], health["flagged_7d"], health["stored_30d"], health["flagged_30d"]) == (
        2,
        1,
        4,
        2,
    )
    assert health["last_published"] == "2026-01-14T10:00:00+01:00"
    assert health["outlet_group"] == "national"
    storage.close()


def _run(storage: Storage, name: str, discovered: int, started: str) -> None:
    run = storage.start_run("news", [name])
    storage.finish_run(run, "finished", {name: {"discovered": discovered}})
    storage.db.execute("UPDATE crawl_runs SET started = ? WHERE id = ?", [started, run])
    storage.db.conn.commit()


def test_silent_outlets_by_runs_and_by_hours(tmp_path):
    storage = Storage(tmp_path / "a.db")
    # quiet: discovers links but stores nothing new for two days
    storage.store_batch([("quiet", article("https://quiet.pl/art1-a"), Verdict("none", 0.0, "r", []))])
    storage.db.execute("UPDATE articles SET first_seen = ?", [ago(2)])
    storage.db.conn.commit()
    for hours in (40, 30, 1):
        _run(storage, "quiet", 5, ago(hours / 24))
    # dead: three runs, nothing discovered
    for hours in (3, 2, 1):
        _run(storage, "dead", 0, ago(hours / 24))
    # fresh: new article an hour ago; newcomer: watched for less than 24 hours
    storage.store_batch([("fresh", article("https://fresh.pl/art1-a"), Verdict("none", 0.0, "r", []))])
    for hours in (30, 1):
        _run(storage, "fresh", 5, ago(hours / 24))
    _run(storage, "newcomer", 5, ago(1 / 24))
    silent = dict(silent_outlets(storage.db.conn))
    assert set(silent) == {"quiet", "dead"}
    assert silent["dead"] == "nothing discovered in the last 3 runs"
    assert silent["quiet"].startswith("no new article for 24 hours (last ")
    assert storage.silent_sources(3) == ["dead"]
    storage.close()
    result = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "report", "--db", str(tmp_path / "a.db")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "Silent outlets (2)" in result.stdout
    assert "  dead: nothing discovered in the last 3 runs" in result.stdout
    assert "  quiet: no new article for 24 hours" in result.stdout


def test_health_counts_interrupted_runs_and_failed_feeds_and_skips_runs_in_progress(tmp_path):
    storage = Storage(tmp_path / "a.db")
    finished = storage.start_run("news", [outlet("rp", "national")])
    storage.finish_run(finished, "finished", {"rp": {"discovered": 4, "fetched": 4, "stored": 4}})
    broken = storage.start_run("news", ["rp"])
    storage.finish_run(
        broken, "finished", {"rp": {"discovered": 0, "feeds_failed": 1, "errors": ["feed: HTTP 500"]}}
    )
    killed = storage.start_run("news", ["rp"])
    storage.db.execute("UPDATE crawl_runs SET status = 'interrupted' WHERE id = ?", [killed])
    storage.db.conn.commit()
    storage.start_run("news", ["rp"])  # still running: not counted yet
    (health,) = storage.db.query("SELECT * FROM source_health WHERE outlet = 'rp'")
    assert health["runs"] == 3
    assert health["failed_runs_of_last_10"] == 1 and health["last_error"] == "feed: HTTP 500"
    assert health["interrupted_runs_of_last_10"] == 1
    storage.close()


def test_silent_outlets_read_each_outlets_runs_through_its_index(tmp_path):
    """A year of runs every 15 minutes is millions of run_sources rows: the silence queries must never scan them."""
    from monitor.archive.queries import SILENT_HOURS_SQL, SILENT_RUNS_SQL

    storage = Storage(tmp_path / "a.db")
    _run(storage, "rp", 1, ago(1))
    params = {"runs": 3, "cutoff": ago(0.5)}
    for sql in (SILENT_RUNS_SQL, SILENT_HOURS_SQL):
        plan = [row[3] for row in storage.db.conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
        assert not [
            step for step in plan if step.startswith("SCAN rs") or step.startswith("SCAN run_sources")
        ], plan
        assert any("idx_run_sources_source" in step for step in plan), plan
    storage.close()
