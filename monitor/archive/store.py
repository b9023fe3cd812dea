"""Writing the archive: article upserts keyed by canonical URL, revisions, matches, the FTS rows of new articles,
wire-story links, crawl runs, and what the next crawl needs to remember. No Scrapy.

- a re-run updates rows instead of duplicating them; a re-fetch that changes the title, lead or body leaves a row
  in ``article_revisions``;
- copies of one wire story (a PAP dispatch on several outlets) share a ``story_id`` (:mod:`monitor.archive.stories`);
- every batch is one ``BEGIN IMMEDIATE`` transaction in a WAL journal: readers (Datasette, ``sqlite3``) keep
  reading while a crawl writes, and a killed writer loses only the batch it had not committed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.archive import runs as runrecords
from monitor.archive.database import BUSY_TIMEOUT_MS, StorageError, _describe, _locked, now_iso, open_database
from monitor.archive.derived import Derived, usable
from monitor.archive.rows import (
    _ARTICLE_COLUMNS,
    _INSERT_ARTICLE,
    _INSERT_FTS,
    _INSERT_MATCH,
    _INSERT_REVISION,
    _REFRESHED,
    _UPDATE_CHANGED,
    _UPDATE_SEEN,
    _match_rows,
    _same,
    fts_fold,
    refreshed_values,
)
from monitor.archive.stories import content_hash, link_story
from monitor.archive.story_index import Computed, StoryIndex
from monitor.extract import Article
from monitor.rules import Verdict


@dataclass(frozen=True)
class StoredResult:
    article_id: int
    created: bool
    changed: bool = False  # an existing article whose title, lead or body changed (a revision was recorded)
    story_id: int | None = None


def _source_names(sources: Iterable[Any]) -> list[str]:
    return [s if isinstance(s, str) else s.name for s in sources]


# The page cache of the writer (a crawl's, an ingest's). Its batches are small (25 articles) and the pages they touch
# (the full-text index's, the sketches', the stories') are kept by the system's page cache anyway; the writing
# connections' 64 MiB (database.CACHE_KIB) filled up on a large archive and was the whole of a crawl's memory that
# grew with the archive (1,000,000 articles: crawl process 227 MB against 134 MB empty; 147 MB with 4 MiB, 144.5 MB
# with 2 MiB).
# Upserts of 10,000 new articles: the same rate with either.
WRITER_CACHE_KIB = 2_048


class Storage:
    """Writes and reads of the archive. One instance per process; each ``store_batch`` is one transaction."""

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        link_stories: bool = True,
        readonly: bool = False,
    ):
        """Open (and upgrade) the archive for writing; ``readonly`` opens an existing one for reading only."""
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self.link_stories = link_stories
        self.db = open_database(
            self.path, busy_timeout_ms=busy_timeout_ms, readonly=readonly, create=not readonly
        )
        self.conn = self.db.conn
        if not readonly:
            self.conn.execute(f"PRAGMA cache_size = -{WRITER_CACHE_KIB}")
        # Rows of new articles for the FTS index and the matches table, written by one executemany each
        # (see _flush) before anything that could read them and before the batch commits.
        self._pending_fts: list[tuple[int, str | None, str | None, str | None]] = []
        self._pending_matches: list[tuple[Any, ...]] = []
        # Story features of the batch's new articles, computed where they were extracted (their items).
        self._computed: dict[int, Computed] = {}
        self.stories = StoryIndex()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self, what: str) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: the write lock up front, all or nothing."""
        conn = self.conn
        try:
            if conn.in_transaction:
                conn.rollback()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        except sqlite3.Error as exc:
            if _locked(exc):
                raise StorageError(_describe(self.path, exc, self.busy_timeout_ms)) from exc
            hint = " (is the disk full?)" if "disk I/O error" in str(exc) else ""
            raise StorageError(f"{self.path}: {what} failed: {exc}{hint}") from exc

    def _register_sources(self, conn: sqlite3.Connection, sources: Iterable[Any], seen_at: str) -> None:
        for source in sources:
            if isinstance(source, str):
                conn.execute(
                    "INSERT OR IGNORE INTO sources (name, title, first_seen) VALUES (?, ?, ?)",
                    [source, source, seen_at],
                )
                continue
            domains = json.dumps(list(getattr(source, "domains", ())), ensure_ascii=False)
            title = getattr(source, "title", None) or source.name
            conn.execute(
                "INSERT INTO sources (name, title, domains, outlet_group, first_seen) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET title = excluded.title, domains = excluded.domains, "
                "outlet_group = coalesce(excluded.outlet_group, outlet_group)",
                [source.name, title, domains, getattr(source, "group", None), seen_at],
            )

    def _upsert(
        self,
        conn: sqlite3.Connection,
        source: str,
        article: Article,
        verdict: Verdict,
        derived: Derived | None = None,
    ) -> StoredResult:
        seen_at = now_iso()
        digest = content_hash(article.title, article.lead, article.text)
        refreshed = refreshed_values(source, article, verdict, seen_at)
        existing = conn.execute(
            "SELECT id, content_hash, ruleset, story_id FROM articles WHERE url = ?", [article.canonical_url]
        ).fetchone()
        if existing is None:
            article_id = (conn.execute("SELECT coalesce(max(id), 0) + 1 FROM articles").fetchone())[0]
            story_id = article_id
            if self.link_stories:
                sketched = derived.sketch if derived else None
                story_id = link_story(conn, article_id, article.text, new=True, sketched=sketched)
                if derived and derived.story:  # computed from the very title, lead and text stored here
                    self._computed[article_id] = derived.story
            values = dict(zip(_REFRESHED, refreshed, strict=True))
            values.update(
                url=article.canonical_url,
                title=article.title,
                lead=article.lead,
                text=article.text,
                first_seen=seen_at,
                content_hash=digest,
                story_id=story_id,
                changed_at=None,
            )
            conn.execute(_INSERT_ARTICLE, [article_id, *(values[c] for c in _ARTICLE_COLUMNS)])
            self._pending_fts.append(
                (article_id, fts_fold(article.title), fts_fold(article.lead), fts_fold(article.text))
            )
            self._pending_matches.extend(_match_rows(article_id, verdict))
            return StoredResult(article_id, True, False, story_id)
        # An existing article: what was queued for the batch so far goes in first (the FTS update trigger
        # deletes the entries its row had, and its matches may be replaced).
        self._flush(conn)
        article_id, old_digest, old_ruleset, story_id = existing
        self._computed.pop(article_id, None)  # stored earlier in this batch; what is stored now may differ
        if old_digest == digest:
            conn.execute(_UPDATE_SEEN, [*refreshed, article_id])
            if old_ruleset != verdict.ruleset:
                self._write_matches(conn, article_id, verdict, replace=True)
            return StoredResult(article_id, False, False, story_id)
        old_title, old_lead, old_text, old_words = conn.execute(
            "SELECT title, lead, text, words FROM articles WHERE id = ?", [article_id]
        ).fetchone()
        fields = [
            name
            for name, before, after in (
                ("title", old_title, article.title),
                ("lead", old_lead, article.lead),
                ("text", old_text, article.text),
            )
            if not _same(before, after)
        ]
        body_changed = "text" in fields
        if fields:
            conn.execute(
                _INSERT_REVISION,
                [
                    article_id,
                    seen_at,
                    ",".join(fields),
                    old_title,
                    article.title,
                    old_lead,
                    article.lead,
                    old_text if body_changed else None,
                    old_words,
                    article.words,
                    old_digest,
                    digest,
                ],
            )
        changed_at = seen_at if fields else None
        conn.execute(
            _UPDATE_CHANGED,
            [
                *refreshed,
                article.title,
                article.lead,
                article.text,
                digest,
                changed_at,
                int(bool(fields)),
                article_id,
            ],
        )
        if body_changed and self.link_stories:
            sketched = derived.sketch if derived else None
            alone = conn.execute(
                "SELECT count(*) FROM articles WHERE story_id = ? AND id != ?", [story_id, article_id]
            ).fetchone()[0]
            if story_id == article_id and not alone:
                story_id = link_story(conn, article_id, article.text, sketched=sketched)
                conn.execute("UPDATE articles SET story_id = ? WHERE id = ?", [story_id, article_id])
            else:  # a member of a story stays in it; only its sketch follows the new text
                link_story(conn, article_id, article.text, sketched=sketched)
        self._write_matches(conn, article_id, verdict, replace=True)
        return StoredResult(article_id, False, bool(fields), story_id)

    def _flush(self, conn: sqlite3.Connection) -> None:
        """Write the queued FTS entries and matches of new articles."""
        if self._pending_fts:
            conn.executemany(_INSERT_FTS, self._pending_fts)
            self._pending_fts.clear()
        if self._pending_matches:
            conn.executemany(_INSERT_MATCH, self._pending_matches)
            self._pending_matches.clear()

    @staticmethod
    def _write_matches(conn: sqlite3.Connection, article_id: int, verdict: Verdict, *, replace: bool) -> None:
        if replace:
            conn.execute("DELETE FROM matches WHERE article_id = ?", [article_id])
        conn.executemany(_INSERT_MATCH, _match_rows(article_id, verdict))

    def store_batch(
        self,
        batch: Iterable[tuple[str, Article, Verdict]],
        progress: Callable[[list[StoredResult]], tuple[int, dict[str, dict[str, Any]]]] | None = None,
        announced: Iterable[tuple[str, str | None]] = (),
        derived: Sequence[Derived | None] = (),
    ) -> list[StoredResult]:
        """Upsert articles with their verdicts in one transaction (all or nothing).

        ``progress``, given the batch's results, returns ``(run_id, counts per outlet)`` to write in the same
        transaction, so a run's recorded counts always match what it stored. ``announced`` pairs the URLs the
        crawl discovered with the time their feed or sitemap gave them (see :meth:`announced`). ``derived``, item
        by item (None or missing: computed here), what was derived from each article where it was extracted
        (:func:`monitor.archive.derived.derive`); used when this process's code would derive the same."""
        items = list(batch)
        if not items:
            return []
        given = [usable(found) for found in derived] + [None] * (len(items) - len(derived))
        self._pending_fts.clear()
        self._pending_matches.clear()
        self._computed.clear()
        with self._write("write") as conn:
            self._register_sources(conn, sorted({source for source, _a, _v in items}), now_iso())
            results = [
                self._upsert(conn, source, article, verdict, found)
                for (source, article, verdict), found in zip(items, given, strict=False)
            ]
            self._flush(conn)
            if self.link_stories:  # flagged and mention articles join their stories (issue #17)
                ids = [result.article_id for result in results]
                self.stories.place(conn, ids, self._computed)
            self._write_announced(conn, announced)
            if progress is not None:
                run_id, per_source = progress(results)
                runrecords.write_counts(conn, run_id, per_source, now_iso())
            return results

    def start_run(self, spider: str, sources: Sequence[Any]) -> int:
        """Record a run's start, with a row of zeros in ``run_sources`` for each of its outlets; ``sources`` are
        names or :class:`monitor.discovery.sources.Source` objects."""
        started = now_iso()
        with self._write("start of run") as conn:
            self._register_sources(conn, sources, started)
            return runrecords.start(conn, spider, _source_names(sources), started)

    def record_progress(self, run_id: int, per_source: dict[str, dict[str, Any]]) -> None:
        """A running run's counts so far (a run killed later is counted up to here)."""
        with self._write("run progress") as conn:
            runrecords.write_counts(conn, run_id, per_source, now_iso())

    def finish_run(self, run_id: int, status: str, per_source: dict[str, dict[str, Any]]) -> None:
        finished = now_iso()
        with self._write("end of run") as conn:
            self._register_sources(conn, list(per_source), finished)
            runrecords.finish(conn, run_id, status, per_source, finished)

    def mark_interrupted(self, current: int | None = None) -> list[int]:
        """Mark crawls left ``running`` by a killed process as ``interrupted``; call only while holding the run
        lock (no other crawl can be alive then). Returns their ids."""
        with self._write("interrupted runs") as conn:
            return runrecords.interrupt_abandoned(conn, current)

    # --- reading -----------------------------------------------------------------------------------------

    def run_summary(self, run_id: int) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM run_sources WHERE run_id = ? ORDER BY source", [run_id]))

    def latest_run_id(self) -> int | None:
        row = self.conn.execute("SELECT max(id) FROM crawl_runs").fetchone()
        return row[0] if row else None

    def flagged(self, limit: int = 50) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT published, outlet, title, url FROM peace_talks LIMIT ?", [limit]))

    def integrity(self) -> str:
        """``PRAGMA integrity_check`` in one string: ``ok`` for a healthy file."""
        return "; ".join(row[0] for row in self.conn.execute("PRAGMA integrity_check"))

    # --- re-scoring after a rule change (issue #4, owned by the rules) ------------------------------------

    def iter_verdict_inputs(self, batch_size: int = 500) -> Iterator[list[dict[str, Any]]]:
        """Stored articles in id order, a batch at a time: id, url, source, title, lead, text and the verdict."""
        last = 0
        while True:
            rows = list(
                self.db.query(
                    "SELECT id, url, source, title, lead, text, relevance, score, ruleset FROM articles "
                    "WHERE id > ? ORDER BY id LIMIT ?",
                    [last, batch_size],
                )
            )
            if not rows:
                return
            yield rows
            last = rows[-1]["id"]

    def replace_verdicts(self, verdicts: list[tuple[int, Verdict]]) -> None:
        """Rewrite stored verdicts (relevance, score, rule-set version and matches) in one transaction."""
        if not verdicts:
            return
        with self._write("rescore") as conn:
            for article_id, verdict in verdicts:
                conn.execute(
                    "UPDATE articles SET relevance = ?, score = ?, ruleset = ? WHERE id = ?",
                    [verdict.relevance, verdict.score, verdict.ruleset, article_id],
                )
                self._write_matches(conn, article_id, verdict, replace=True)

    # --- the crawl's memory (issue #6) -------------------------------------------------------------------

    @staticmethod
    def _write_announced(conn: sqlite3.Connection, announced: Iterable[tuple[str, str | None]]) -> None:
        conn.executemany(
            "INSERT OR REPLACE INTO announced (url, at, recorded) VALUES (?, ?, ?)",
            [(url, at, now_iso()) for url, at in announced],
        )

    def save_non_articles(
        self, pages: dict[str, tuple[str, str]], announced: dict[str, str | None] | None = None
    ) -> None:
        """Remember pages that are not articles (video, gallery, empty), by canonical URL: (source, reason),
        with what discovery announced for them (``announced``, by the same URL)."""
        if not pages:
            return
        seen = now_iso()
        with self._write("non-article pages") as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO non_articles (url, source, reason, seen_at) VALUES (?, ?, ?, ?)",
                [(url, source, reason, seen) for url, (source, reason) in pages.items()],
            )
            if announced:
                self._write_announced(conn, ((url, announced.get(url)) for url in pages if url in announced))

    def save_feed_states(self, states: Iterable[Any]) -> None:
        """Remember feed validators; called only when a run completed, so a crash never hides articles."""
        checked = now_iso()
        rows = [(s.url, s.etag, s.last_modified, checked) for s in states]
        if not rows:
            return
        with self._write("feed validators") as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO feed_state (url, etag, last_modified, checked_at) VALUES (?, ?, ?, ?)",
                rows,
            )

    def silent_sources(self, runs: int) -> list[str]:
        """Outlets that discovered nothing in each of their last ``runs`` runs (and took part in that many)."""
        from monitor.archive.queries import silent_outlets

        return [name for name, _why in silent_outlets(self.conn, runs=runs, hours=None)]
