"""The archive's stories (issue #17): thin SQL around the decisions of :mod:`monitor.archive.clusters`.

Every flagged (``primary``) or ``mention`` article joins a story when it is stored (:class:`StoryIndex`, called by
:class:`monitor.archive.store.Storage` inside the batch's transaction); :func:`rebuild` clusters the whole archive
again, in the order of the articles' times, after a rule or threshold change. Tables (migration ``m009_stories``):

- ``stories``: one row per story, named by the id of the article that started it;
- ``story_articles``: which story each clustered article is in, its time, how it joined and with what score;
- ``story_vectors`` and ``story_terms`` (hidden): each article's features and the document frequencies, so an
  incremental writer decides as :func:`rebuild` would, without reading the articles' texts again.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from monitor.archive.clusters import (
    FOLLOW_SPAN,
    WINDOW,
    Decision,
    Features,
    StoryState,
    central,
    choose,
    cosine,
    features,
    start,
    warsaw_day,
)
from monitor.extract.dates import WARSAW

CLUSTERED = ("primary", "mention")
SEEDS = 20  # an article's heaviest tokens that find the stories it is compared with


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def article_time(published: str | None, first_seen: str | None) -> datetime:
    """An article's time: its publication instant, else when the monitor first saw it (UTC when naive)."""
    for value, zone in ((published, WARSAW), (first_seen, UTC)):
        if not value:
            continue
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    return datetime.now(UTC)


@functools.cache
def venue_entities() -> frozenset[str]:
    """Entities of the packaged rules whose role is ``venue`` (Genewa, Abu Zabi …)."""
    from monitor.rules import RulesError, load_rules

    try:
        ruleset = load_rules()
    except RulesError:
        return frozenset()
    return frozenset(e.id for e in ruleset.entities.values() if e.role == "venue")


def entity_hits(conn: sqlite3.Connection, article_id: int) -> Counter[str]:
    """How many distinct passages name each entity in an article's stored matches."""
    rows = conn.execute(
        "SELECT DISTINCT entity, field, start FROM matches WHERE article_id = ? AND entity IS NOT NULL",
        [article_id],
    )
    return Counter(entity for entity, _field, _start in rows)


_ARTICLE = "SELECT id, source, title, lead, text, published, first_seen, relevance, story_id FROM articles WHERE id = ?"


_WIRE = (
    "SELECT sa.story_id FROM articles w JOIN story_articles sa ON sa.article_id = w.id "
    "WHERE w.story_id = ? AND w.id != ? ORDER BY w.id LIMIT 1"
)


_CANDIDATES = (
    "SELECT id FROM stories WHERE first_seen <= :hi AND "
    "(last_seen >= :open OR (articles >= 2 AND last_seen >= :quiet))"
)


@dataclass(frozen=True)
class Placed:
    article_id: int
    story_id: int
    at: datetime
    decision: Decision


class StoryIndex:
    """Places articles in stories inside the caller's transaction, keeping the stories it has read in memory.

    The memory is dropped whenever another connection has written the archive (``PRAGMA data_version``) or the
    stored features no longer match it (a batch rolled back), and read again as needed."""

    def __init__(self, *, in_memory: bool = False):
        self.in_memory = in_memory  # rebuild: every story is in memory, nothing is read back
        self._stories: dict[int, StoryState] = {}
        self._postings: dict[str, set[int]] = {}  # token -> stories in memory whose centroid has it
        self._posted: set[int] = set()  # the stories in the postings (the others are read one by one)
        self._df: dict[str, int] | None = None
        self._docs = 0
        self._version: int | None = None

    def _sync(self, conn: sqlite3.Connection) -> None:
        if self.in_memory:
            if self._df is None:
                self._df = {}
            return
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        docs = conn.execute("SELECT count(*) FROM story_vectors").fetchone()[0]
        if self._df is None or version != self._version or docs != self._docs:
            self._stories.clear()
            self._postings.clear()
            self._posted.clear()
            self._df = dict(conn.execute("SELECT token, df FROM story_terms"))
            self._docs = docs
            self._version = version

    def place(self, conn: sqlite3.Connection, article_ids: Iterable[int]) -> list[Placed]:
        """Put each flagged or mention article that is in no story yet into one; take articles that are no longer
        flagged or mentions out of theirs. Refreshes the stories it touched. An article joins now; in a rebuild,
        when the monitor first saw it."""
        now = utc_iso(datetime.now(UTC))
        self._sync(conn)
        placed: list[Placed] = []
        touched: set[int] = set()
        for article_id in article_ids:
            row = conn.execute(_ARTICLE, [article_id]).fetchone()
            if row is None:
                continue
            current = conn.execute(
                "SELECT story_id FROM story_articles WHERE article_id = ?", [article_id]
            ).fetchone()
            if row[7] not in CLUSTERED:
                if current:
                    self._remove(conn, article_id, current[0])
                    touched.add(current[0])
                continue
            if current:
                continue  # a re-fetched article stays in its story
            done = self._place(conn, row, (row[6] or now) if self.in_memory else now)
            placed.append(done)
            touched.add(done.story_id)
        if not self.in_memory:
            for story_id in sorted(touched):
                self.refresh(conn, story_id)
        return placed

    def _place(self, conn: sqlite3.Connection, row: Sequence[object], joined: str) -> Placed:
        article_id, _source, title, lead, text, published, first_seen, _relevance, wire = row
        assert isinstance(article_id, int) and self._df is not None
        at = article_time(published if isinstance(published, str) else None, str(first_seen or ""))
        hits = entity_hits(conn, article_id)
        found, tokens = features(
            at, _text(title), _text(lead), _text(text), hits, venue_entities(), self._df, self._docs
        )
        wire_story = None
        if isinstance(wire, int) and wire != article_id:
            hit = conn.execute(_WIRE, [wire, article_id]).fetchone()
            wire_story = hit[0] if hit else None
        open_stories, quiet = self._candidates(conn, at)
        texts = self._cosines(found)
        decision = choose(found, open_stories, wire_story=wire_story, texts=texts)
        if decision.story is None and quiet:  # a new story: which quiet one, if any, it follows
            texts.update((story.id, cosine(found.vector, story)) for story in quiet)
            decision = choose(found, open_stories, quiet=quiet, texts=texts)
        story_id = article_id if decision.story is None else decision.story
        self._record(conn, article_id, story_id, found, decision, joined)
        for token in tokens:
            self._df[token] = self._df.get(token, 0) + 1
        self._docs += 1
        if not self.in_memory:
            conn.executemany(
                "INSERT INTO story_terms (token, df) VALUES (?, 1) ON CONFLICT (token) DO UPDATE SET df = df + 1",
                [(token,) for token in tokens],
            )
        return Placed(article_id, story_id, at, decision)

    def _cosines(self, article: Features) -> dict[int, float]:
        """The cosine of an article with the stories in the postings that share one of its ``SEEDS`` heaviest
        tokens (its rarest words and entities: a story that shares none of them is nowhere near ``JOIN``)."""
        seeds = list(article.vector)[:SEEDS]  # weigh() orders a vector heaviest first
        found: set[int] = set()
        for token in seeds:
            found.update(self._postings.get(token, ()))
        return {i: cosine(article.vector, self._stories[i]) for i in found}

    def _grow(self, story: StoryState, tokens: Iterable[str]) -> None:
        if story.id in self._posted:
            for token in tokens:
                self._postings.setdefault(token, set()).add(story.id)
        else:
            self._posted.add(story.id)
            for token in story.centroid:
                self._postings.setdefault(token, set()).add(story.id)

    def _unpost(self, story: StoryState) -> None:
        if story.id not in self._posted:
            return
        self._posted.discard(story.id)
        for token in story.centroid:
            holders = self._postings.get(token)
            if holders is not None:
                holders.discard(story.id)
                if not holders:
                    del self._postings[token]

    def _forget(self, story_id: int) -> None:
        story = self._stories.pop(story_id, None)
        if story is not None:
            self._unpost(story)

    def close(self, before: datetime) -> None:
        """Take the stories whose last article is before ``before`` out of the postings (they stay in memory
        for the stories that may follow them, read one by one)."""
        for story in self._stories.values():
            if story.last < before:
                self._unpost(story)

    def _candidates(
        self, conn: sqlite3.Connection, at: datetime
    ) -> tuple[list[StoryState], list[StoryState]]:
        if self.in_memory:
            states = list(self._stories.values())
        else:
            ids = [
                story_id
                for (story_id,) in conn.execute(
                    _CANDIDATES,
                    {
                        "hi": utc_iso(at + WINDOW),
                        "open": utc_iso(at - WINDOW),
                        "quiet": utc_iso(at - WINDOW - FOLLOW_SPAN),
                    },
                )
            ]
            self._load(conn, [i for i in ids if i not in self._stories])
            states = [self._stories[i] for i in ids if i in self._stories]
        open_stories = [s for s in states if s.open_at(at)]
        quiet = [s for s in states if s.size >= 2 and not s.open_at(at)]
        for story in open_stories:  # the postings hold the open stories: quiet ones are read one by one
            self._grow(story, ())
        for story in quiet:
            self._unpost(story)
        return open_stories, quiet

    def _load(self, conn: sqlite3.Connection, story_ids: list[int]) -> None:
        for chunk in range(0, len(story_ids), 500):
            ids = story_ids[chunk : chunk + 500]
            rows = conn.execute(
                "SELECT sa.story_id, sa.article_id, sa.at, v.vector, v.dates, v.venues FROM story_articles sa "
                f"JOIN story_vectors v ON v.article_id = sa.article_id WHERE sa.story_id IN ({', '.join('?' * len(ids))}) "
                "ORDER BY sa.story_id, sa.at, sa.article_id",
                ids,
            )
            for story_id, article_id, at, vector, dates, venues in rows:
                found = Features(
                    datetime.fromisoformat(at),
                    json.loads(vector),
                    venues=frozenset(json.loads(venues)),
                    dates=frozenset(json.loads(dates)),
                )
                story = self._stories.get(story_id)
                if story is None:
                    story = self._stories[story_id] = StoryState(story_id, found.at, found.at)
                story.add(article_id, found)
                self._grow(story, found.vector)

    def _record(
        self,
        conn: sqlite3.Connection,
        article_id: int,
        story_id: int,
        found: Features,
        decision: Decision,
        joined: str,
    ) -> None:
        at = utc_iso(found.at)
        conn.execute(
            "INSERT OR REPLACE INTO story_vectors (article_id, vector, dates, venues) VALUES (?, ?, ?, ?)",
            [
                article_id,
                json.dumps(found.vector, separators=(",", ":")),
                json.dumps(sorted(found.dates)),
                json.dumps(sorted(found.venues)),
            ],
        )
        if decision.story is None:
            conn.execute(
                "INSERT OR REPLACE INTO stories (id, first_seen, last_seen, first_article_id, follows, updated, "
                "articles) VALUES (?, ?, ?, ?, ?, ?, 1)",
                [story_id, at, at, article_id, decision.follows, joined],
            )
            self._stories[story_id] = start(story_id, found)
            self._grow(self._stories[story_id], found.vector)
        else:  # the span now, for the next article of the batch to find it (the rest waits for refresh)
            conn.execute(
                "UPDATE stories SET first_seen = min(first_seen, :at), last_seen = max(last_seen, :at), "
                "articles = articles + 1 WHERE id = :id",
                {"at": at, "id": story_id},
            )
            story = self._stories.get(story_id)
            if story is None and not self.in_memory:
                self._load(conn, [story_id])
                story = self._stories.get(story_id)
            if story is not None:
                story.add(article_id, found)
                self._grow(story, found.vector)
        conn.execute(
            "INSERT OR REPLACE INTO story_articles (article_id, story_id, at, how, score, joined) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [article_id, story_id, at, decision.how, decision.score, joined],
        )

    def _remove(self, conn: sqlite3.Connection, article_id: int, story_id: int) -> None:
        conn.execute("DELETE FROM story_articles WHERE article_id = ?", [article_id])
        conn.execute("DELETE FROM story_vectors WHERE article_id = ?", [article_id])
        self._forget(story_id)
        self._docs -= 1

    def evict(self, conn: sqlite3.Connection, before: datetime) -> None:
        """Refresh and forget the stories whose last article is before ``before`` (rebuild, in time order)."""
        for story_id in [i for i, s in self._stories.items() if s.last < before]:
            self.refresh(conn, story_id)
            self._forget(story_id)

    def refresh(self, conn: sqlite3.Connection, story_id: int) -> None:
        """Recompute a story's row from its articles (or delete it when none is left)."""
        rows = conn.execute(
            "SELECT sa.article_id, sa.at, a.source, a.title, a.relevance, sa.joined FROM story_articles sa "
            "JOIN articles a ON a.id = sa.article_id WHERE sa.story_id = ? ORDER BY sa.at, sa.article_id",
            [story_id],
        ).fetchall()
        if not rows:
            conn.execute("DELETE FROM stories WHERE id = ?", [story_id])
            conn.execute("UPDATE stories SET follows = NULL WHERE follows = ?", [story_id])
            return
        state = self._stories.get(story_id)
        if state is None and not self.in_memory:
            self._load(conn, [story_id])
            state = self._stories.get(story_id)
        flagged = [r[0] for r in rows if r[4] == "primary"]
        chosen = central(state, flagged or [r[0] for r in rows]) if state else None
        titles = {r[0]: r[3] for r in rows}
        headline_id = chosen if chosen is not None else rows[0][0]
        outlets = list(dict.fromkeys(r[2] for r in rows))
        days = Counter(warsaw_day(datetime.fromisoformat(r[1])).isoformat() for r in rows)
        peak = min(days, key=lambda day: (-days[day], day))
        entities = [
            entity
            for entity, _n in conn.execute(
                "SELECT entity, count(DISTINCT article_id) AS n FROM matches WHERE entity IS NOT NULL AND "
                "article_id IN (SELECT article_id FROM story_articles WHERE story_id = ?) "
                "GROUP BY entity ORDER BY n DESC, entity",
                [story_id],
            )
        ]
        conn.execute(
            "UPDATE stories SET first_seen = ?, last_seen = ?, headline = ?, headline_article_id = ?, "
            "first_article_id = ?, first_outlet = ?, outlets = ?, outlet_names = ?, articles = ?, flagged = ?, "
            "entities = ?, peak_day = ?, updated = ? WHERE id = ?",
            [
                rows[0][1],
                max(r[1] for r in rows),
                titles[headline_id],
                headline_id,
                rows[0][0],
                rows[0][2],
                len(outlets),
                json.dumps(outlets, ensure_ascii=False),
                len(rows),
                len(flagged),
                json.dumps(entities),
                peak,
                max(r[5] for r in rows),
                story_id,
            ],
        )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class Rebuilt:
    articles: int
    stories: int
    seconds: float


def rebuild(conn: sqlite3.Connection, progress: Callable[[int], None] | None = None) -> Rebuilt:
    """Cluster every flagged and mention article again, in the order of their times, inside the caller's
    transaction: what an incremental writer would have built had it stored them in that order."""
    import time

    began = time.perf_counter()
    for table in ("story_articles", "story_vectors", "story_terms", "stories"):
        conn.execute(f"DELETE FROM {table}")
    ids = [
        article_id
        for (article_id,) in conn.execute(
            "SELECT id FROM articles WHERE relevance IN ('primary', 'mention') "
            "ORDER BY julianday(coalesce(published, first_seen)), id"
        )
    ]
    index = StoryIndex(in_memory=True)
    horizon = WINDOW + FOLLOW_SPAN + timedelta(hours=1)
    for count, article_id in enumerate(ids, start=1):
        placed = index.place(conn, [article_id])
        if placed and count % 200 == 0:
            index.evict(conn, placed[0].at - horizon)
            index.close(placed[0].at - 2 * WINDOW)
        if progress and count % 1000 == 0:
            progress(count)
    index.evict(conn, datetime.max.replace(tzinfo=UTC))
    if index._df:
        conn.executemany("INSERT INTO story_terms (token, df) VALUES (?, ?)", sorted(index._df.items()))
    stories = conn.execute("SELECT count(*) FROM stories").fetchone()[0]
    return Rebuilt(len(ids), stories, time.perf_counter() - began)
