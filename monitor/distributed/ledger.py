"""The writer's book of distributed runs: which archive run (``crawl_runs``) each seed's run is, and its counts
per outlet as the archive records them (``run_sources``), kept up to date from the workers' counters and the
writer's own (stored, new, updated, unchanged, flagged).

A run is mapped once: the archive's run id is kept in Redis (``monitor:run:<id>`` ``db_run``) and the open runs
in ``monitor:runs:open``, so a restarted writer goes on with the same archive run and reads its counts back from
``run_sources``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import redis

from monitor.archive import Storage
from monitor.discovery.memory import FeedState
from monitor.distributed import redis_url as names
from monitor.extensions.runs import COLUMNS

OPEN = "monitor:runs:open"  # set: runs the writer started in the archive and has not finished
SPIDER = "news"


@dataclass(frozen=True)
class Outlet:
    """An outlet as a seed's sources file declares it (what ``Storage.start_run`` registers)."""

    name: str
    title: str
    domains: tuple[str, ...] = ()
    group: str | None = None


@dataclass
class Run:
    run: str  # the seed's run id
    db_run: int  # the archive's run id
    started: float  # seconds since the epoch
    counts: dict[str, dict[str, Any]] = field(default_factory=dict)
    validators: dict[str, FeedState] = field(default_factory=dict)
    incomplete: set[str] = field(default_factory=set)
    seeded: bool = False
    last_message: float = field(default_factory=time.monotonic)

    def outlet(self, name: str) -> dict[str, Any]:
        if name not in self.counts:
            self.counts[name] = {**dict.fromkeys(COLUMNS, 0), "errors": [], "duration": 0.0}
        return self.counts[name]

    def add(self, delta: dict[str, dict[str, int]]) -> None:
        for name, counters in delta.items():
            row = self.outlet(name)
            for counter, value in counters.items():
                if counter in COLUMNS:
                    row[counter] = int(row.get(counter) or 0) + int(value)

    def note(self, errors: dict[str, list[str]], active: dict[str, float], most_errors: int) -> None:
        for name, lines in errors.items():
            kept = self.outlet(name)["errors"]
            kept.extend(str(line) for line in lines[: max(0, most_errors - len(kept))])
        for name, at in active.items():
            row = self.outlet(name)
            row["duration"] = round(max(float(row.get("duration") or 0.0), float(at) - self.started), 1)

    def with_delta(self, delta: dict[str, dict[str, int]]) -> dict[str, dict[str, Any]]:
        """The counts with a batch's not yet committed counters added."""
        copy = {name: {**row, "errors": list(row["errors"])} for name, row in self.counts.items()}
        for name, counters in delta.items():
            row = copy.setdefault(name, {**dict.fromkeys(COLUMNS, 0), "errors": [], "duration": 0.0})
            for counter, value in counters.items():
                row[counter] = int(row.get(counter) or 0) + value
        return copy


def _epoch(started: str | None) -> float:
    try:
        return datetime.fromisoformat(started).timestamp() if started else time.time()
    except ValueError:
        return time.time()


class Ledger:
    def __init__(self, client: redis.Redis, storage: Storage, most_errors: int = 20):
        self.client = client
        self.storage = storage
        self.most_errors = most_errors
        self.runs: dict[str, Run] = {}
        self.finished: set[str] = set()

    def restore(self) -> list[str]:
        """The open runs a previous writer left, with their counts as the archive has them."""
        self.runs.clear()
        for raw in sorted(self.client.smembers(OPEN)):  # type: ignore[union-attr]
            run = raw.decode() if isinstance(raw, bytes) else str(raw)
            info = self._info(run)
            if info.get("db_run"):
                self.runs[run] = self._load(run, info)
        return sorted(self.runs)

    def _load(self, run: str, info: dict[str, str]) -> Run:
        state = Run(run, int(info["db_run"]), _epoch(info.get("started")), seeded=bool(info.get("seeded")))
        for row in self.storage.run_summary(state.db_run):
            state.counts[row["source"]] = {
                **{c: int(row.get(c) or 0) for c in COLUMNS},
                "errors": json.loads(row.get("errors") or "[]"),
                "duration": float(row.get("duration") or 0.0),
            }
        return state

    def _info(self, run: str) -> dict[str, str]:
        raw = self.client.hgetall(names.run_key(run))
        return {
            (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()  # type: ignore[union-attr]
        }

    def get(self, run: str, outlets: list[dict[str, Any]] | None = None, started: str | None = None) -> Run:
        """The run, started in the archive on its first message (a ``run`` message names its outlets; a run
        whose announcement was lost is started with the outlets its items name)."""
        if run in self.runs:
            return self.runs[run]
        info = self._info(run)
        started = started or info.get("started")
        if info.get("db_run"):  # a run a previous writer started (or finished: late counters finish it again)
            state = self.runs[run] = self._load(run, info)
            self.client.sadd(OPEN, run)
            return state
        declared = [
            Outlet(o["name"], o.get("title") or o["name"], tuple(o.get("domains") or ()), o.get("group"))
            for o in outlets or []
        ]
        db_run = self.storage.start_run(SPIDER, declared)
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(names.run_key(run), mapping={"db_run": db_run, "started": started or ""})
        pipe.sadd(OPEN, run)
        pipe.execute()
        state = Run(run, db_run, _epoch(started))
        for outlet in declared:
            state.outlet(outlet.name)
        self.runs[run] = state
        return state

    def seeded(self, run: str) -> None:
        self.get(run).seeded = True
        self.client.hset(names.run_key(run), "seeded", 1)

    def finish(self, state: Run, status: str = "finished") -> None:
        """Finish the run in the archive; a finished run saves the validators of its feeds read in full."""
        self.storage.finish_run(state.db_run, status, state.counts)
        if status == "finished":
            self.storage.save_feed_states(
                s for url, s in state.validators.items() if url not in state.incomplete
            )
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(names.run_key(state.run), "finished", status)
        pipe.srem(OPEN, state.run)
        pipe.execute()
        self.runs.pop(state.run, None)
        self.finished.add(state.run)
