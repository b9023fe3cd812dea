"""The SQLite archive: schema migrations, article upserts, verdicts, crawl runs. No Scrapy imports.

The database is the crawl's memory: articles are keyed by canonical URL, so a re-run updates rows instead of
duplicating them, and every batch is one transaction, so a killed run loses nothing it had stored.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils
from sqlite_utils import Migrations

from monitor.classify import Verdict
from monitor.extract import Article

BUSY_TIMEOUT_MS = 10_000
migrations = Migrations("monitor")


class StorageError(RuntimeError):
    """The database cannot be used; the message names the file and the reason in one line."""


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["articles"].create(
        {
            "id": int,
            "url": str,
            "fetched_url": str,
            "source": str,
            "title": str,
            "lead": str,
            "text": str,
            "authors": str,
            "published": str,
            "published_source": str,
            "modified": str,
            "date_candidates": str,
            "language": str,
            "words": int,
            "paywalled": int,
            "relevance": str,
            "score": float,
            "ruleset": str,
            "first_seen": str,
            "last_seen": str,
            "fetched_at": str,
        },
        pk="id",
        not_null={"url", "source"},
    )
    db["articles"].create_index(["url"], unique=True)
    db["articles"].create_index(["published"])
    db["articles"].create_index(["relevance", "published"])
    db["articles"].create_index(["source", "published"])
    db["matches"].create(
        {
            "article_id": int,
            "rule": str,
            "grp": str,
            "term": str,
            "entity": str,
            "field": str,
            "start": int,
            "end": int,
            "snippet": str,
        },
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["matches"].create_index(["article_id"])
    db["matches"].create_index(["term"])
    db["crawl_runs"].create(
        {
            "id": int,
            "started": str,
            "finished": str,
            "spider": str,
            "sources": str,
            "status": str,
            "discovered": int,
            "fetched": int,
            "stored": int,
            "flagged": int,
            "failed": int,
            "skipped": int,
        },
        pk="id",
    )
    db["run_sources"].create(
        {
            "run_id": int,
            "source": str,
            "discovered": int,
            "fetched": int,
            "stored": int,
            "flagged": int,
            "failed": int,
            "skipped": int,
            "errors": str,
        },
        pk=("run_id", "source"),
        foreign_keys=[("run_id", "crawl_runs", "id")],
    )
    db.create_view(
        "peace_talks",
        """
        SELECT a.published, a.source AS outlet, a.title, a.url, a.score,
               (SELECT group_concat(term, ', ') FROM (
                    SELECT m.term FROM matches m WHERE m.article_id = a.id
                    GROUP BY m.term ORDER BY count(*) DESC, m.term LIMIT 5)) AS top_terms
        FROM articles a
        WHERE a.relevance = 'primary'
        ORDER BY a.published DESC
        """,
    )


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def open_database(path: str | Path) -> sqlite_utils.Database:
    """Open (creating when missing) and migrate the archive; WAL journal and a busy timeout."""
    file = Path(path)
    if file.parent and not file.parent.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(str(file), timeout=BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        db = sqlite_utils.Database(conn)
        migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{file}: cannot use this database: {exc}") from exc
    return db


@dataclass(frozen=True)
class StoredResult:
    article_id: int
    created: bool


class Storage:
    """Writes and reads of the archive. One instance per process; each ``store_batch`` is one transaction."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = open_database(self.path)

    def close(self) -> None:
        self.db.conn.close()

    def _upsert(self, source: str, article: Article, verdict: Verdict) -> StoredResult:
        seen_at = now_iso()
        row: dict[str, Any] = {
            "url": article.canonical_url,
            "fetched_url": article.url,
            "source": source,
            "title": article.title,
            "lead": article.lead,
            "text": article.text,
            "authors": json.dumps(article.authors, ensure_ascii=False),
            "published": article.published,
            "published_source": article.published_source,
            "modified": article.modified,
            "date_candidates": json.dumps(article.date_candidates, ensure_ascii=False),
            "language": article.language,
            "words": article.words,
            "paywalled": int(article.paywalled),
            "relevance": verdict.relevance,
            "score": verdict.score,
            "ruleset": verdict.ruleset,
            "last_seen": seen_at,
            "fetched_at": article.fetched_at or seen_at,
        }
        existing = self.db.execute(
            "SELECT id FROM articles WHERE url = ?", [article.canonical_url]
        ).fetchone()
        if existing:
            article_id = existing[0]
            self.db["articles"].update(article_id, row)
            self.db.execute("DELETE FROM matches WHERE article_id = ?", [article_id])
            created = False
        else:
            row["first_seen"] = seen_at
            article_id = self.db["articles"].insert(row).last_pk
            created = True
        self.db["matches"].insert_all(
            {
                "article_id": article_id,
                "rule": m.rule,
                "grp": m.group,
                "term": m.term,
                "entity": m.entity,
                "field": m.field,
                "start": m.start,
                "end": m.end,
                "snippet": m.snippet,
            }
            for m in verdict.matches
        )
        return StoredResult(article_id, created)

    def store_batch(self, batch: Iterable[tuple[str, Article, Verdict]]) -> list[StoredResult]:
        """Upsert articles with their verdicts in one transaction (all or nothing)."""
        try:
            with self.db.atomic():
                return [self._upsert(source, article, verdict) for source, article, verdict in batch]
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{self.path}: write failed: {exc}") from exc

    def start_run(self, spider: str, sources: list[str]) -> int:
        with self.db.atomic():
            return (
                self.db["crawl_runs"]
                .insert(
                    {
                        "started": now_iso(),
                        "spider": spider,
                        "sources": ",".join(sources),
                        "status": "running",
                    }
                )
                .last_pk
            )

    def finish_run(self, run_id: int, status: str, per_source: dict[str, dict[str, Any]]) -> None:
        counters = ("discovered", "fetched", "stored", "flagged", "failed", "skipped")
        totals = {k: sum(int(c.get(k, 0)) for c in per_source.values()) for k in counters}
        with self.db.atomic():
            self.db["crawl_runs"].update(run_id, {"finished": now_iso(), "status": status, **totals})
            self.db["run_sources"].upsert_all(
                (
                    {
                        "run_id": run_id,
                        "source": name,
                        **{k: int(counts.get(k, 0)) for k in counters},
                        "errors": json.dumps(counts.get("errors", []), ensure_ascii=False),
                    }
                    for name, counts in per_source.items()
                ),
                pk=("run_id", "source"),
            )

    def run_summary(self, run_id: int) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM run_sources WHERE run_id = ? ORDER BY source", [run_id]))

    def latest_run_id(self) -> int | None:
        row = self.db.execute("SELECT max(id) FROM crawl_runs").fetchone()
        return row[0] if row else None

    def flagged(self, limit: int = 50) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT published, outlet, title, url FROM peace_talks LIMIT ?", [limit]))
