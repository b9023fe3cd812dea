"""``monitor writer``: the one process that owns the SQLite archive in a distributed crawl.

It reads the item stream (a Redis stream with the consumer group ``writer``) in batches, classifies articles
with the same rules (a verdict a worker's extraction process gave is kept when it is of the writer's rule-set
version, as a local crawl keeps its pool's) and stores them with the same code as a local crawl (:meth:`Storage.store_batch`, with the
run's counts in the same transaction), and acknowledges (and deletes) the batch's messages only once it is
committed. A writer killed at any moment loses nothing: what it had read but not committed is delivered again to
the next writer (its pending entries are read first), and storing an article twice stores it once (an upsert on
the canonical URL; the second delivery only counts as unchanged). A message it cannot read is logged in one line
and moved to ``monitor:items:dead`` with the reason.

It records each seed's run as a run of the archive (:mod:`monitor.distributed.ledger`) and finishes it once the
seed is done, the queue is empty, no request is leased and nothing more came for a few quiet seconds; then it
saves and publishes the feed validators of the run. After each commit it publishes what the archive now
remembers (:mod:`monitor.distributed.memory`).

A lost Redis: the writer has committed every batch it acknowledged; it retries for ``reconnect`` seconds, then
stops (exit 1) with one line. An archive it cannot write (disk full, locked past the busy timeout) stops it the
same way; what it had not committed stays on the stream. It holds the archive's run lock (``<db>.lock``) while it runs: a second writer, or
a local crawl, on the same archive says who holds it and stops.
"""

from __future__ import annotations

import logging
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import redis

from monitor.archive import Storage, StorageError, StoredResult
from monitor.archive.derived import Derived
from monitor.archive.memory import feed_states
from monitor.discovery.memory import FeedState
from monitor.distributed import memory
from monitor.distributed import redis_url as names
from monitor.distributed.ledger import Ledger, Run
from monitor.distributed.messages import FIELD, Message, MessageError, decode
from monitor.extract import Article
from monitor.pipelines import batch_counts
from monitor.rules import Ruleset, Verdict, classify

logger = logging.getLogger("monitor.writer")
Entry = tuple[str, dict[Any, Any]]


def _id(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


class Writer:
    def __init__(
        self,
        client: redis.Redis,
        storage: Storage,
        ruleset: Ruleset,
        *,
        batch: int = 200,
        quiet: float = 3.0,
        reconnect: float = 60.0,
        memory_days: float = memory.DAYS,
        memory_most: int = memory.MOST,
    ):
        self.client = client
        self.storage = storage
        self.ruleset = ruleset
        self.batch = batch
        self.quiet = quiet
        self.reconnect = reconnect
        self.memory_days = memory_days
        self.memory_most = memory_most
        self.ledger = Ledger(client, storage)
        self.stopping = False
        self.stored = 0
        self.dead = 0
        self._checked = 0.0

    # --- start ------------------------------------------------------------------------------------------
    def prepare(self) -> None:
        """The consumer group, the open runs, and the archive's memory in Redis (when Redis lost it)."""
        try:
            self.client.xgroup_create(names.ITEMS, names.GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        else:  # a new stream: a Redis that lost its data took the queue of the runs this writer had open
            for state in list(self.ledger.runs.values()):
                self.ledger.finish(state, "interrupted")
                logger.warning("run %s lost its queue with Redis's data: recorded as interrupted", state.run)
        runs = self.ledger.restore()
        if runs:
            logger.info("going on with open run(s) %s", ", ".join(runs))
        if not self.client.exists(memory.AGE):
            self.publish_archive()

    def publish_archive(self) -> None:
        """Publish what the archive remembers from the last ``memory_days`` days (and every feed validator)."""
        cutoff = (datetime.now(UTC) - timedelta(days=self.memory_days)).isoformat(timespec="seconds")
        conn = self.storage.conn
        known = dict(
            conn.execute(
                "SELECT url, coalesce(modified, published) FROM articles WHERE last_seen >= ? "
                "UNION ALL SELECT url, seen_at FROM non_articles WHERE seen_at >= ?",
                [cutoff, cutoff],
            )
        )
        told = dict(conn.execute("SELECT url, at FROM announced WHERE recorded >= ?", [cutoff]))
        memory.publish(self.client, known, told, feed_states(conn).values())
        memory.trim(self.client, self.memory_days, self.memory_most)
        logger.info("published the archive's memory: %d URLs, %d announced", len(known), len(told))

    # --- the loop ---------------------------------------------------------------------------------------
    def run(self, stop_after: float | None = None) -> int:
        """Write until stopped (SIGTERM, SIGINT, or ``stop_after`` seconds); the exit status."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._stop)
        deadline = time.monotonic() + stop_after if stop_after else None
        backlog = True  # first what a previous writer read and did not acknowledge
        lost_since: float | None = None
        while not self.stopping and (deadline is None or time.monotonic() < deadline):
            try:
                if lost_since is not None:
                    self.client.ping()
                    logger.warning("Redis is back")
                    lost_since, backlog = None, True
                    self.prepare()
                entries = self.read(backlog)
                if backlog and not entries:
                    backlog = False
                    continue
                if entries:
                    self.handle(entries)
                self.check_runs()
            except (
                StorageError
            ) as exc:  # disk full, locked past the busy timeout…: nothing of it was acknowledged
                logger.error("stopping: %s; what is not stored stays on the stream", exc)
                return 1
            except redis.RedisError as exc:
                now = time.monotonic()
                if lost_since is None:
                    lost_since = now
                    logger.error("lost Redis: %s; retrying for %.0f s", names.describe(exc), self.reconnect)
                elif now - lost_since > self.reconnect:
                    logger.error("stopping: lost Redis for %.0f s: %s", self.reconnect, names.describe(exc))
                    return 1
                time.sleep(0.5)
        logger.info("stopped: %d article(s) stored, %d message(s) dead-lettered", self.stored, self.dead)
        return 0

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def read(self, backlog: bool) -> list[Entry]:
        answer = self.client.xreadgroup(
            names.GROUP,
            names.GROUP,
            {names.ITEMS: "0" if backlog else ">"},
            count=self.batch,
            block=None if backlog else 1000,
        )
        entries: list[Entry] = []
        streams: list[Any] = list(answer or [])  # type: ignore[arg-type]
        for _stream, rows in streams:
            entries.extend((_id(entry_id), fields or {}) for entry_id, fields in rows)
        return entries

    # --- one batch --------------------------------------------------------------------------------------
    def handle(self, entries: list[Entry]) -> None:
        """Store a batch of messages, then acknowledge them."""
        if not entries:
            return
        per_run: dict[str, list[Message]] = {}
        for entry_id, fields in entries:
            try:
                message = decode(fields)
            except MessageError as exc:
                self.dead_letter(entry_id, fields, str(exc))
                continue
            per_run.setdefault(message.run, []).append(message)
        for run, messages in per_run.items():
            self.apply(run, messages)
        ids = [entry_id for entry_id, _fields in entries]
        pipe = self.client.pipeline(transaction=True)
        pipe.xack(names.ITEMS, names.GROUP, *ids)
        pipe.xdel(names.ITEMS, *ids)
        pipe.execute()

    def dead_letter(self, entry_id: str, fields: dict[Any, Any], reason: str) -> None:
        raw = fields.get(FIELD, fields.get(FIELD.encode(), b""))
        logger.error(
            "message %s on %s cannot be used (%s): moved to %s", entry_id, names.ITEMS, reason, names.DEAD
        )
        self.client.xadd(names.DEAD, {"id": entry_id, "reason": reason, FIELD: raw or b""})
        self.dead += 1

    def apply(self, run: str, messages: list[Message]) -> None:
        """One run's messages of a batch: its start, its articles and pages in one transaction with its counts."""
        start = next((m for m in messages if m.kind == "run"), None)
        first_source = next((m.data["source"] for m in messages if m.kind in ("article", "page")), None)
        outlets = start.data["outlets"] if start else [{"name": first_source}] if first_source else []
        state = self.ledger.get(run, outlets, start.data["started"] if start else None)
        state.last_message = time.monotonic()
        batch: list[tuple[str, Article, Verdict]] = []
        derived: list[Derived | None] = []
        announced: list[tuple[str, str | None]] = []
        pages: dict[str, tuple[str, str]] = {}
        pages_announced: dict[str, str | None] = {}
        counted = False
        for message in messages:
            data = message.data
            if message.kind == "article":
                article: Article = data["article"]
                verdict = data.get("verdict")
                if verdict is None or verdict.ruleset != self.ruleset.version:  # the writer's rules decide
                    verdict = classify(self.ruleset, article.title, article.lead, article.text)
                batch.append((data["source"], article, verdict))
                derived.append(data.get("derived"))
                if data.get("key"):
                    announced.append((data["key"], data.get("announced")))
            elif message.kind == "page":
                pages[data["key"]] = (data["source"], data["reason"])
                pages_announced[data["key"]] = data.get("announced")
            elif message.kind == "counts":
                state.add(data["counts"])
                state.note(data["errors"], data["active"], self.ledger.most_errors)
                counted = True
            elif message.kind == "feed":
                state.validators[data["url"]] = FeedState(data["url"], data.get("etag"), data.get("modified"))
            elif message.kind == "incomplete":
                state.incomplete.add(data["url"])
            elif message.kind == "seeded":
                self.ledger.seeded(run)
        if pages:
            self.storage.save_non_articles(pages, pages_announced)
        if batch:
            self.store(state, batch, announced, derived)
        elif counted:
            self.storage.record_progress(state.db_run, state.counts)
        if run in self.ledger.finished and (batch or counted):
            self.ledger.finish(state)  # counters that came after the run finished: its record is rewritten
        now = datetime.now(UTC).isoformat(timespec="seconds")
        memory.publish(
            self.client,
            {
                **{key: now for key in pages},
                **{a.canonical_url: a.modified or a.published for _s, a, _v in batch},
            },
            {**dict(announced), **pages_announced},
        )

    def store(
        self,
        state: Run,
        batch: list[tuple[str, Article, Verdict]],
        announced: list[Any],
        derived: list[Derived | None],
    ) -> None:
        delta: dict[str, dict[str, int]] = {}

        def progress(results: list[StoredResult]) -> tuple[int, dict[str, dict[str, Any]]]:
            delta.clear()
            for key, value in batch_counts(batch, results).items():
                _prefix, outlet, counter = key.split("/", 2)
                delta.setdefault(outlet, {})[counter] = value
            return state.db_run, state.with_delta(delta)

        self.storage.store_batch(batch, progress, announced, derived)
        state.add(delta)
        self.stored += len(batch)

    # --- finishing runs ---------------------------------------------------------------------------------
    def check_runs(self) -> None:
        """Finish the runs that are done: seeded, nothing queued, leased or on the stream, and quiet."""
        now = time.monotonic()
        if now - self._checked < 0.5 or not self.ledger.runs:
            return
        self._checked = now
        ready = [s for s in self.ledger.runs.values() if s.seeded and now - s.last_message >= self.quiet]
        if not ready:
            return
        pipe = self.client.pipeline(transaction=False)
        pipe.zcard(names.QUEUE)
        pipe.hlen(names.LEASES)
        pipe.xlen(names.ITEMS)
        queued, leased, waiting = pipe.execute()
        if queued or leased or waiting:
            return
        for state in ready:
            self.ledger.finish(state)
            memory.publish(
                self.client,
                feeds=(s for url, s in state.validators.items() if url not in state.incomplete),
            )
            logger.info("run %s finished (archive run %s)", state.run, state.db_run)
        # A run whose seed never said it was done (the seed was killed) has nothing left to wait for either.
        newest = max(state.db_run for state in ready)
        for state in [s for s in self.ledger.runs.values() if not s.seeded and s.db_run < newest]:
            self.ledger.finish(state, "interrupted")
            logger.warning("run %s was never fully seeded: recorded as interrupted", state.run)
        memory.trim(self.client, self.memory_days, self.memory_most)


def open_writer(
    client: redis.Redis, db: str | Path, ruleset: Ruleset, **options: Any
) -> tuple[Writer, Storage]:
    """A writer on an archive (opened, upgraded and checked); :class:`StorageError` when it cannot be used."""
    storage = Storage(db)
    try:
        writer = Writer(client, storage, ruleset, **options)
        writer.prepare()
    except (StorageError, redis.RedisError):
        storage.close()
        raise
    return writer, storage
