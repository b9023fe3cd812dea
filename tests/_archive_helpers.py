"""Shared by the archive tests (issue #5): the demo database, built once per test session, and sample rows."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from _env import ENV, MONITOR_ENV

from monitor.extract import Article
from monitor.rules import Match, Verdict

ROOT = Path(__file__).resolve().parent.parent
MONITOR = [sys.executable, "-m", "monitor.cli"]
_DEMO: dict[str, Path] = {}


def run(args: list[str], timeout: float = 300, **kwargs) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("env", ENV)
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout, **kwargs)


def synthetic_archive(db: Path, articles: int, workers: int, days: int = 2, run_every: int = 30) -> Path:
    """A synthetic archive built by bench/make_archive.py: ``days`` days up to 2026-11-30 12:00, a run every
    ``run_every`` minutes."""
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "make_archive.py"),
            "--articles",
            str(articles),
            "--days",
            str(days),
        ]
        + ["--run-every", str(run_every), "--until", "2026-11-30T12:00", "--db", str(db)]
        + ["--workers", str(workers)],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return db


def demo_run(tmp_path_factory) -> tuple[Path, str, str]:
    """The demo crawl (``monitor demo`` in a subprocess, ~4 s of CPU): its database, standard output and standard
    error. Run once per test session and shared read-only: the xdist workers run it under a lock in the session's
    common temporary folder and keep what it printed beside the database."""
    if "db" not in _DEMO:
        root = tmp_path_factory.getbasetemp()
        if os.environ.get("PYTEST_XDIST_WORKER"):
            root = root.parent  # pytest-N/popen-gwK: pytest-N is the session's, shared by its workers
        folder = root / "demo-shared"
        folder.mkdir(exist_ok=True)
        db = folder / "demo.db"
        with (root / "demo-shared.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (folder / "built").exists():
                result = run([*MONITOR, "demo", "--db", str(db)], env=MONITOR_ENV)  # as a user runs it
                assert result.returncode == 0, result.stderr
                (folder / "stdout.txt").write_text(result.stdout, encoding="utf-8")
                (folder / "stderr.txt").write_text(result.stderr, encoding="utf-8")
                (folder / "built").touch()
        _DEMO["db"] = db
    folder = _DEMO["db"].parent
    return (
        _DEMO["db"],
        (folder / "stdout.txt").read_text(encoding="utf-8"),
        (folder / "stderr.txt").read_text(encoding="utf-8"),
    )


def demo_db(tmp_path_factory) -> Path:
    """The demo crawl's database (:func:`demo_run`), shared read-only."""
    return demo_run(tmp_path_factory)[0]


def demo_copy(tmp_path_factory, target: Path) -> Path:
    """A private copy of the demo database, for tests that write."""
    source = demo_db(tmp_path_factory)
    shutil.copy(source, target)
    for suffix in ("-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copy(f"{source}{suffix}", f"{target}{suffix}")
    return target


def article(
    url: str = "https://rp.pl/swiat/art1-rozmowy",
    title: str | None = "Rozmowy w Genewie",
    text: str = "Treść " * 50,
    lead: str | None = "Lead",
    published: str | None = "2026-01-14T10:32:00+01:00",
) -> Article:
    return Article(
        url=url + "?utm_source=x",
        canonical_url=url,
        title=title,
        authors=["Anna Nowak"],
        published=published,
        published_source="jsonld:datePublished",
        modified=None,
        date_candidates=[{"value": published or "", "source": "jsonld:datePublished"}],
        lead=lead,
        text=text,
        language="pl",
        paywalled=False,
        words=len(text.split()),
    )


def verdict(relevance: str = "primary", ruleset: str = "abc123") -> Verdict:
    match = Match("talks", "talks", "rozmow*", "title", 0, 7, "[Rozmowy] w Genewie")
    return Verdict(
        relevance, 9.0 if relevance == "primary" else 0.0, ruleset, [match] if relevance != "none" else []
    )


def store_many(storage: Any, batches: int, per_batch: int, words: int) -> None:
    """``batches`` batches of ``per_batch`` distinct rp.pl articles of ``words`` words each, stored as a crawl does."""
    for batch in range(batches):
        rows = [
            (
                "rp",
                article(
                    url=f"https://rp.pl/swiat/art{batch}-{i}",
                    title=f"Rozmowy {i}",
                    text=" ".join(f"słowo{i}x{j} Zełenski" for j in range(words)),
                ),
                verdict(),
            )
            for i in range(per_batch)
        ]
        storage.store_batch(rows)


def move_in_time(db: Path, times: dict[str, str]) -> None:
    """Give stored articles (by URL) new times, in their row and their story, after they were clustered at their
    own: a test of what the views show "in the last 48 hours" keeps the stories the labelled texts make, whose
    "w czwartek" means the day it meant when written, whatever day the test runs on."""
    conn = sqlite3.connect(db)
    with conn:
        for url, when in times.items():
            (article_id,) = conn.execute("SELECT id FROM articles WHERE url = ?", [url]).fetchone()
            conn.execute("UPDATE articles SET published = ? WHERE id = ?", [when, article_id])
            conn.execute("UPDATE story_articles SET at = ? WHERE article_id = ?", [when, article_id])
        conn.execute(
            "UPDATE stories SET first_seen = (SELECT min(at) FROM story_articles WHERE story_id = stories.id),"
            " last_seen = (SELECT max(at) FROM story_articles WHERE story_id = stories.id)"
        )
    conn.close()


def as_article(row: sqlite3.Row) -> Article:
    """The article a crawl would extract again from an unchanged page (the row as stored before the prune)."""
    return Article(
        url=row["fetched_url"],
        canonical_url=row["url"],
        title=row["title"],
        authors=json.loads(row["authors"]),
        published=row["published"],
        published_source=row["published_source"],
        modified=row["modified"],
        date_candidates=json.loads(row["date_candidates"]),
        lead=row["lead"],
        text=row["text"],
        language="pl",
        paywalled=bool(row["paywalled"]),
        words=row["words"],
        credits=json.loads(row["credits"]),
    )
