"""Build a realistic synthetic archive of N articles, as a year of crawls every 15 minutes would leave it.

    python bench/make_archive.py --articles 1000000 --db data/bench-1m.db [--days 365] [--run-every 15]
        [--until 2026-12-01T00:00] [--seed 15] [--workers 2] [--via bulk|storage]

What is in it: the packaged outlets (104, weighted by kind: national portals publish most), one crawl run every
``--run-every`` minutes over ``--days`` days (``crawl_runs`` and a ``run_sources`` row per outlet and run, whose
counts add up to what the run stored; a few runs interrupted and marked by the next one), articles stored in
batches of 25 as they appeared (Polish-like text of realistic length, see ``bench/synthetic.py``; authors, dates
with their sources, Warsaw offsets, a few paywalled ones), about 2% flagged by the packaged rules and 3% passing
mentions (their verdicts and matches are the rules' own), wire dispatches copied by 1–3 other outlets within
hours (one ``story_id``), revisions of 1.5% of the articles (``article_revisions``), non-article pages, the
discovery memory (``announced``, ``feed_state``) and the stories of #17.

``--via storage`` writes every run through ``Storage`` as the crawl does (start_run, store_batch, finish_run,
with the clock set to the run's time): slow, the reference. ``--via bulk`` (the default) writes the same rows
with :class:`monitor.archive.bulk.BulkWriter`, the text made in ``--workers`` processes;
``tests/test_archive_scale.py`` checks that both give the same archive.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic import quick_sketch  # noqa: E402
from synthetic_crawl import (  # noqa: E402
    CHUNK_RUNS,
    INTERRUPTED_SHARE,
    ChunkMaker,
    Plan,
    PlannedRun,
    make_chunk,
    outlets,
    setup,
)

from monitor.archive import integrity  # noqa: E402
from monitor.archive.bulk import ArticleRow, BulkWriter, RunRows, run_records  # noqa: E402
from monitor.archive.runs import INTERRUPTED  # noqa: E402


def sketch_values(row: ArticleRow) -> list[int]:
    """The article's wire-story sketch, by :func:`synthetic.quick_sketch` (checked against the real one for one
    article in 500)."""
    text = row.columns["text"]
    values = quick_sketch(text)
    if values is None:
        return row.sketch()
    if row.id % 500 == 0 and values != row.sketch():
        raise RuntimeError(f"article {row.id}: the quick sketch differs from the archive's")
    return values


def bulk_chunk(
    chunk: int,
) -> tuple[list[RunRows], list[tuple[list[tuple[str, str | None, str | None]], str]]]:
    """A chunk as rows for the bulk writer (made in a worker process), with each finished run's feed states."""
    maker = ChunkMaker(chunk)
    made = maker.make()
    runs, feeds = [], []
    for planned, new_ids, revisions in made:
        record, per_outlet = run_records(
            planned.run_id,
            planned.started,
            list(planned.per_source),
            planned.per_source,
            status=planned.status,
            finished=planned.finished,
            last_write=planned.batches[-1].at if planned.batches else None,
        )
        rows = RunRows(record, per_outlet, revisions=revisions)
        for article_id in new_ids:
            row = maker.rows[article_id]
            rows.add(row, sketch_values(row))
        for batch in planned.batches:
            rows.non_articles.extend(
                (url, s, reason, batch.at) for url, (s, reason) in batch.non_articles.items()
            )
            rows.announced.extend((url, None, batch.at) for url in batch.non_articles)
            rows.announced.extend((url, at, batch.at) for url, at in batch.announced)
        runs.append(rows)
        if planned.feeds:
            feeds.append((planned.feeds, planned.finished))
    return runs, feeds


def _init_worker(plan: Plan) -> None:
    setup(plan)


@contextmanager
def clock(at: str) -> Iterator[None]:
    """Storage's clock set to ``at``: the rows say when the crawl would have written them."""
    from monitor.archive import store

    original = store.now_iso
    store.now_iso = lambda: at
    try:
        yield
    finally:
        store.now_iso = original


def via_storage(plan: Plan, path: Path) -> int:
    """Every run through ``Storage``, as the crawl's recorder and pipeline call it; then the stories rebuilt."""
    from monitor.archive import Storage
    from monitor.archive.story_rebuild import rebuild
    from monitor.discovery.memory import FeedState

    setup(plan)
    declared = outlets()
    storage = Storage(path)
    abandoned = False
    for chunk in range(math.ceil(plan.runs / CHUNK_RUNS)):
        for planned, _ids, _revisions in make_chunk(chunk):
            if abandoned:
                storage.mark_interrupted()
            with clock(planned.started):
                run_id = storage.start_run("news", declared)
            assert run_id == planned.run_id, (run_id, planned.run_id)
            interrupted = planned.status == INTERRUPTED

            def counts(_results: list[Any], run: int = run_id, made: PlannedRun = planned) -> tuple[int, Any]:
                return run, made.per_source  # what an interrupted run's last batch wrote

            for batch in planned.batches:
                with clock(batch.at):
                    if batch.non_articles:
                        storage.save_non_articles(batch.non_articles, dict.fromkeys(batch.non_articles))
                    storage.store_batch(batch.items, counts if interrupted else None, batch.announced)
            abandoned = interrupted
            if not interrupted:
                with clock(planned.finished):
                    storage.finish_run(run_id, planned.status, planned.per_source)
                    storage.save_feed_states(FeedState(*feed) for feed in planned.feeds)
    with storage.conn:
        rebuild(storage.conn)
    storage.close()
    return plan.articles


def via_bulk(plan: Plan, path: Path, workers: int) -> int:
    """Chunks made in ``workers`` processes (a few ahead at most), written in order by one writer."""
    writer = BulkWriter(path, outlets())
    chunks = math.ceil(plan.runs / CHUNK_RUNS)
    report = Progress(plan.articles)
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker, initargs=(plan,)) as pool:
        pending: list[Future[Any]] = []
        submitted = 0
        for _ in range(chunks):
            while submitted < chunks and len(pending) < workers + 1:
                pending.append(pool.submit(bulk_chunk, submitted))
                submitted += 1
            runs, feeds = pending.pop(0).result()
            writer.write(runs)
            for states, at in feeds:
                writer.save_feed_states(states, at)
            report.tick(sum(len(run.articles) for run in runs))
    writing = resource.getrusage(resource.RUSAGE_SELF)
    report.say(
        f"written in {time.perf_counter() - report.began:,.0f} s (writer CPU "
        f"{writing.ru_utime + writing.ru_stime:,.0f} s); sorting sketches in, clustering stories …"
    )
    writer.finish()
    report.say(
        "finished: " + ", ".join(f"{name} {seconds:,.1f} s" for name, seconds in writer.timings.items())
    )
    return plan.articles


class Progress:
    """A line on stderr every 30 seconds: articles written, rate, time left."""

    def __init__(self, total: int):
        self.total, self.done = total, 0
        self.began = self.last = time.perf_counter()

    def say(self, text: str) -> None:
        print(f"make_archive: {text}", file=sys.stderr, flush=True)

    def tick(self, count: int) -> None:
        self.done += count
        now = time.perf_counter()
        if now - self.last < 30:
            return
        self.last = now
        rate = self.done / (now - self.began)
        left = (self.total - self.done) / rate if rate else 0
        self.say(f"{self.done:,} of {self.total:,} articles, {rate:,.0f}/s, about {left / 60:.0f} min left")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, required=True)
    parser.add_argument("--db", required=True, help="the archive to create (must not exist)")
    parser.add_argument("--days", type=float, default=365.0, help="the span the runs cover, up to --until")
    parser.add_argument("--run-every", type=int, default=15, help="minutes between runs")
    parser.add_argument("--until", help="when the last run started (ISO 8601 UTC; default: now)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--interrupted", type=float, default=INTERRUPTED_SHARE, help="share of runs killed before they ended"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes making text")
    parser.add_argument("--via", choices=("bulk", "storage"), default="bulk")
    args = parser.parse_args(argv)
    path = Path(args.db)
    if path.exists():
        parser.error(f"{path}: exists; give a new file")
    until = datetime.fromisoformat(args.until) if args.until else datetime.now(UTC)
    until = (until if until.tzinfo else until.replace(tzinfo=UTC)).replace(second=0, microsecond=0)
    plan = Plan(args.articles, args.days, args.run_every, until, args.seed, args.interrupted)
    building = path.with_name(path.name + ".building")
    for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        leftover.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    try:
        if args.via == "storage":
            count = via_storage(plan, building)
        else:
            count = via_bulk(plan, building, max(1, args.workers))
    except BaseException:
        for leftover in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
            leftover.unlink(missing_ok=True)
        raise
    building.rename(path)
    integrity.record(path, "built by make_archive")  # closed cleanly: the first crawl need not read it all
    seconds = time.perf_counter() - began
    size = path.stat().st_size
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"{path}: {count:,} articles, {plan.runs:,} runs over {plan.days:g} days, {size / 1e6:,.1f} MB, "
        f"{seconds:,.1f} s ({count / seconds:,.0f} articles/s, via {args.via}); CPU seconds: writer "
        f"{own.ru_utime + own.ru_stime:,.1f}, text workers {workers.ru_utime + workers.ru_stime:,.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
