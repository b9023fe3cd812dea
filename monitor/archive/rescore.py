"""Re-scoring the stored archive after a rule change (``monitor rescore``; issues #4 and #15).

One process reads the articles in id order and writes the new verdicts, one transaction per batch; a pool of
processes classifies the batches in between (``processes``; 1 classifies in the writer itself). A few batches are
in flight at most, so memory stays flat however large the archive is. Each batch's transaction also records how
far the rescore got for the rule-set version (table ``rescores``, migration ``m011``): a rescore that was killed
or stopped continues after the last article it wrote, and one that finished is not done again (only articles
stored since are scored). Articles whose body was pruned (``monitor prune``) keep their verdicts: without a body
they would be judged on title and lead alone.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from monitor.archive.database import now_iso
from monitor.archive.store import Storage
from monitor.rules import Match, Ruleset, Verdict, classify, load_rules

# (id, title, lead, text) in; (id, relevance, score, matches as tuples) out: what crosses between processes.
Row = tuple[int, str | None, str | None, str]
Scored = tuple[int, str, float, list[tuple[Any, ...]]]


@dataclass
class Moved:
    id: int
    title: str | None
    url: str
    before: str | None
    after: str
    score: float


@dataclass
class RescoreReport:
    """What a re-scoring changed, this time and (``earlier``) in the interrupted runs it continued."""

    ruleset: str
    total: int = 0  # articles re-scored this time
    unchanged: int = 0  # of which kept their relevance
    pruned: int = 0  # articles without a body, whose verdicts were kept
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    moved: dict[str, list[Moved]] = field(default_factory=dict)
    earlier: int = 0  # articles re-scored with these rules before this run
    earlier_changed: int = 0
    earlier_pruned: int = 0
    resumed_after: int = 0  # the last article id done before this run (0: from the start)
    finished_before: str | None = None  # a rescore with these rules had already finished then
    finished: bool = False  # reached the last article
    rules: str | None = None

    @staticmethod
    def kind(before: str | None, after: str) -> str:
        if after == "primary" and before != "primary":
            return "newly flagged"
        if before == "primary":
            return "unflagged"
        return "tier changed"


# --- the classifying side: plain functions, so that they run in a process pool -------------------------------

_RULES: dict[str, Ruleset] = {}


def _watch_parent() -> None:
    """Leave when the process that started the pool is gone (killed): nothing else would tell an idle worker."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _load(rules_path: str | None, version: str) -> None:
    """Pool initializer: the rules, once per process (the same file must give the same version). Ctrl-C is the
    writer's to handle: it stops the pool."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, daemon=True).start()
    ruleset = load_rules(rules_path)
    if ruleset.version != version:
        raise RuntimeError(
            f"{rules_path or 'the packaged rules'} changed while re-scoring ({version} → {ruleset.version})"
        )
    _RULES["rules"] = ruleset


def _match_tuple(m: Match) -> tuple[Any, ...]:
    return (m.rule, m.group, m.term, m.field, m.start, m.end, m.snippet, m.entity)


def classify_rows(rows: list[Row]) -> list[Scored]:
    """The verdicts of a batch, in a worker process (after :func:`_load`)."""
    ruleset = _RULES["rules"]
    scored = []
    for article_id, title, lead, text in rows:
        verdict = classify(ruleset, title, lead, text)
        scored.append(
            (article_id, verdict.relevance, verdict.score, [_match_tuple(m) for m in verdict.matches])
        )
    return scored


# --- the writing side ---------------------------------------------------------------------------------------

_READ = "SELECT id, url, title, lead, text, relevance, score, ruleset FROM articles WHERE id > ? ORDER BY id LIMIT ?"


def _batches(conn: sqlite3.Connection, after: int, size: int) -> Iterator[list[tuple[Any, ...]]]:
    last = after
    while True:
        rows = conn.execute(_READ, [last, size]).fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def progress_row(conn: sqlite3.Connection, version: str) -> dict[str, Any] | None:
    """How far re-scoring with rule-set ``version`` got (None: never started)."""
    cursor = conn.execute("SELECT * FROM rescores WHERE ruleset = ?", [version])
    row = cursor.fetchone()
    return dict(zip([d[0] for d in cursor.description], row, strict=True)) if row else None


class Rescorer:
    """Re-scores an archive with one rule set; :meth:`run` does it (see the module's description)."""

    def __init__(
        self,
        storage: Storage,
        ruleset: Ruleset,
        *,
        rules_path: str | None = None,
        processes: int = 1,
        batch_size: int = 500,
        dry_run: bool = False,
        show: int = 20,
    ):
        self.storage, self.ruleset, self.rules_path = storage, ruleset, rules_path
        self.processes, self.batch_size = max(1, processes), max(1, batch_size)
        self.dry_run, self.show = dry_run, show

    def restart(self) -> None:
        """Forget how far an earlier rescore with these rules got: the next run starts from the first article."""
        if not self.dry_run:
            with self.storage._write("rescore restart") as conn:
                conn.execute("DELETE FROM rescores WHERE ruleset = ?", [self.ruleset.version])

    def remaining(self) -> int:
        """About how many articles are left (ids are dense: the archive numbers new articles max + 1)."""
        state = progress_row(self.storage.conn, self.ruleset.version)
        last = state["last_id"] if state else 0
        top = self.storage.conn.execute("SELECT max(id) FROM articles").fetchone()[0] or 0
        return max(0, top - last)

    def run(self, progress: Callable[[int], None] | None = None) -> RescoreReport:
        conn = self.storage.conn
        report = RescoreReport(self.ruleset.version, rules=self.rules_path)
        state = progress_row(conn, self.ruleset.version)
        transitions: Counter[tuple[str, str]] = Counter()
        if state:
            report.resumed_after = state["last_id"]
            report.earlier, report.earlier_changed = state["done"], state["changed"]
            report.earlier_pruned = state["pruned"]
            report.finished_before = state["finished"]
            for key, count in json.loads(state["transitions"]).items():
                before, after = key.split("→")
                transitions[(before, after)] = count
        started = state["started"] if state else now_iso()
        batches = _batches(conn, report.resumed_after, self.batch_size)
        for rows, scored in self._scored(batches):
            updates = self._compare(rows, scored, report)
            if not self.dry_run:
                self._write(updates, rows[-1][0], report, transitions, started)
            if progress is not None:
                progress(report.total + report.pruned)
        report.finished = True
        if not self.dry_run and (state is None or not state["finished"] or report.total or report.pruned):
            with self.storage._write("rescore") as conn:
                conn.execute(
                    "UPDATE rescores SET finished = ? WHERE ruleset = ?", [now_iso(), self.ruleset.version]
                )
        return report

    def _scored(
        self, batches: Iterator[list[tuple[Any, ...]]]
    ) -> Iterator[tuple[list[tuple[Any, ...]], list[Scored]]]:
        """Each batch with its verdicts, in order: classified here, or by the pool with a few batches in flight."""
        if self.processes == 1:
            _RULES["rules"] = self.ruleset
            for rows in batches:
                yield rows, classify_rows([(r[0], r[2], r[3], r[4]) for r in rows if r[4] is not None])
            return
        pool = ProcessPoolExecutor(
            max_workers=self.processes, initializer=_load, initargs=(self.rules_path, self.ruleset.version)
        )
        pending: list[tuple[list[tuple[Any, ...]], Future[list[Scored]]]] = []
        try:
            for rows in batches:
                work = [(r[0], r[2], r[3], r[4]) for r in rows if r[4] is not None]
                pending.append((rows, pool.submit(classify_rows, work)))
                if len(pending) > 2 * self.processes:
                    done, future = pending.pop(0)
                    yield done, future.result()
            while pending:
                done, future = pending.pop(0)
                yield done, future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _compare(
        self, rows: list[tuple[Any, ...]], scored: list[Scored], report: RescoreReport
    ) -> list[tuple[int, Verdict]]:
        verdicts = {
            article_id: (relevance, score, matches) for article_id, relevance, score, matches in scored
        }
        updates = []
        for article_id, url, title, _lead, text, before, old_score, old_ruleset in rows:
            if text is None:
                report.pruned += 1
                continue
            relevance, score, matches = verdicts[article_id]
            verdict = Verdict(relevance, score, self.ruleset.version, [Match(*m) for m in matches])
            report.total += 1
            if before != relevance:
                report.transitions[(before or "unscored", relevance)] += 1
                moved = report.moved.setdefault(report.kind(before, relevance), [])
                moved.append(Moved(article_id, title, url, before, relevance, score))
            else:
                report.unchanged += 1
                if old_ruleset == verdict.ruleset and old_score == verdict.score:
                    continue  # already scored by these very rules
            updates.append((article_id, verdict))
        return updates

    def _write(
        self,
        updates: list[tuple[int, Verdict]],
        last_id: int,
        report: RescoreReport,
        transitions: Counter[tuple[str, str]],
        started: str,
    ) -> None:
        """The batch's verdicts (as ``Storage.replace_verdicts`` writes them) and how far the rescore got, in one
        transaction."""
        with self.storage._write("rescore") as conn:
            for article_id, verdict in updates:
                conn.execute(
                    "UPDATE articles SET relevance = ?, score = ?, ruleset = ? WHERE id = ?",
                    [verdict.relevance, verdict.score, verdict.ruleset, article_id],
                )
                Storage._write_matches(conn, article_id, verdict, replace=True)
            total = transitions + report.transitions
            conn.execute(
                "INSERT INTO rescores (ruleset, rules, started, updated, finished, last_id, done, changed, pruned, "
                "transitions) VALUES (:ruleset, :rules, :started, :now, NULL, :last, :done, :changed, :pruned, "
                ":transitions) ON CONFLICT (ruleset) DO UPDATE SET updated = :now, finished = NULL, last_id = :last, "
                "done = :done, changed = :changed, pruned = :pruned, transitions = :transitions",
                {
                    "ruleset": self.ruleset.version,
                    "rules": self.rules_path,
                    "started": started,
                    "now": now_iso(),
                    "last": last_id,
                    "done": report.earlier + report.total,
                    "changed": report.earlier_changed + report.total - report.unchanged,
                    "pruned": report.earlier_pruned + report.pruned,
                    "transitions": json.dumps(
                        {f"{a}→{b}": n for (a, b), n in sorted(total.items())}, ensure_ascii=False
                    ),
                },
            )
