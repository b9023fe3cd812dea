"""Re-clustering the whole archive (``monitor stories rebuild``, after a rule or threshold change, and at the end
of a bulk build): every flagged and mention article placed again in the order of their times, the features
computed in a pool of processes for a large archive, the placing sequential."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.archive.clusters import Member, StoryState, features, member
from monitor.archive.story_engine import REACH, Engine
from monitor.archive.story_index import (
    PLACEMENT,
    STORY_ROW,
    VECTOR,
    Meta,
    article_time,
    entity_hits,
    marks,
    person_entities,
    placement_row,
    story_row,
    utc_iso,
    vector_row,
    venue_entities,
)
from monitor.archive.story_mention import MENTION, body_starts


@dataclass(frozen=True)
class Rebuilt:
    articles: int
    stories: int
    seconds: float


Work = tuple[int, str, str, str | None, str | None, str | None, dict[str, int], int | None, list[int] | None]


Done = tuple[
    list[Member], list[tuple[int, str, str, str]]
]  # members of a batch, and their story_vectors rows


def _features(batch: Sequence[Work], venues: frozenset[str], persons: frozenset[str]) -> Done:
    """Members of a batch of articles and their ``story_vectors`` rows (in a worker process during a rebuild)."""
    found = []
    for article_id, url, at, title, lead, text, hits, wire, starts in batch:
        moment = datetime.fromisoformat(at)
        computed = features(moment, title, lead, text, hits, venues, persons=persons, passages=starts)
        found.append(member(article_id, (at, url), computed, wire))
    return found, [vector_row(item) for item in found]


POOL_FROM = 4000  # articles from which a rebuild computes the features in a pool of processes
CHUNK = 400  # articles per unit of work


def rebuild(
    conn: sqlite3.Connection, progress: Callable[[int], None] | None = None, processes: int | None = None
) -> Rebuilt:
    """Cluster every flagged and mention article again, in the order of their times, inside the caller's
    transaction: what the incremental writer builds, whatever order it stored them in. The features are
    computed in ``processes`` worker processes (default: one per core, for a large archive); the placing is
    sequential."""
    began = time.perf_counter()
    for table in ("story_articles", "story_vectors", "story_terms", "stories"):
        conn.execute(f"DELETE FROM {table}")
    order = []
    for article_id, url, published, first_seen in conn.execute(
        "SELECT id, url, published, first_seen FROM articles WHERE relevance IN ('primary', 'mention')"
    ):
        order.append((utc_iso(article_time(published, first_seen)), url, article_id))
    order.sort()
    workers = processes if processes is not None else (os.cpu_count() or 1)
    pool: Executor | None = None
    if workers > 1 and len(order) >= POOL_FROM:
        pool = ProcessPoolExecutor(workers)
    try:
        count = _place_all(conn, order, pool, progress)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    stories = conn.execute("SELECT count(*) FROM stories").fetchone()[0]
    return Rebuilt(count, stories, time.perf_counter() - began)


def _work(
    conn: sqlite3.Connection, chunk: Sequence[tuple[str, str, int]]
) -> tuple[list[Work], dict[int, Meta]]:
    ids = [article_id for _at, _url, article_id in chunk]
    when = {article_id: at for at, _url, article_id in chunk}
    hits = entity_hits(conn, ids)
    rows = {
        row[0]: row
        for row in conn.execute(
            "SELECT id, url, title, lead, text, source, relevance, first_seen, story_id FROM articles "
            f"WHERE id IN ({marks(len(ids))})",
            ids,
        )
    }
    starts = body_starts(conn, [article_id for article_id, row in rows.items() if row[6] == MENTION])
    now = utc_iso(datetime.now(UTC))
    work: list[Work] = []
    meta: dict[int, Meta] = {}
    for article_id in ids:
        _id, url, title, lead, text, source, relevance, first_seen, wire = rows[article_id]
        passages = starts.get(article_id)  # a mention's (the only ones read)
        work.append(
            (article_id, url, when[article_id], title, lead, text, dict(hits[article_id]), wire, passages)
        )
        meta[article_id] = Meta(source, title, relevance, first_seen or now, frozenset(hits[article_id]))
    return work, meta


def _place_all(
    conn: sqlite3.Connection,
    order: Sequence[tuple[str, str, int]],
    pool: Executor | None,
    progress: Callable[[int], None] | None,
) -> int:
    engine = Engine()
    venues, persons = venue_entities(), person_entities()
    meta: dict[int, Meta] = {}
    chunks = [order[start : start + CHUNK] for start in range(0, len(order), CHUNK)]
    pending: list[tuple[Future[Done] | Done, dict[int, Meta]]] = []
    ahead = 4 if pool is not None else 1
    done = 0

    def submit(index: int) -> None:
        work, found = _work(conn, chunks[index])
        job: Future[Done] | Done = (
            pool.submit(_features, work, venues, persons)
            if pool is not None
            else _features(work, venues, persons)
        )
        pending.append((job, found))

    for index in range(min(ahead, len(chunks))):
        submit(index)
    for index in range(len(chunks)):
        job, found = pending.pop(0)
        if index + ahead < len(chunks):
            submit(index + ahead)
        members, vectors = job if isinstance(job, tuple) else job.result()
        meta.update(found)
        outcome = engine.insert(members)
        joined = {item.id: meta[item.id].joined for item in members}
        conn.executemany(VECTOR, vectors)
        conn.executemany(
            PLACEMENT,
            [placement_row(item, engine.placed[item.id], joined[item.id]) for item in members],
        )
        assert not outcome.decided or outcome.decided == len(members)
        horizon = members[-1].features.at - REACH - REACH
        _write_stories(conn, engine.evict(horizon), meta)
        done += len(members)
        if progress:
            progress(done)
    _write_stories(conn, [(story, engine.follows(story)) for story in engine.stories.values()], meta)
    return done


def _write_stories(
    conn: sqlite3.Connection, stories: Sequence[tuple[StoryState, int | None]], meta: dict[int, Meta]
) -> None:
    rows = []
    for story, follows in stories:
        rows.append(story_row(story, meta, follows))
        for item in story.members:
            meta.pop(item.id, None)
    conn.executemany(STORY_ROW, rows)
