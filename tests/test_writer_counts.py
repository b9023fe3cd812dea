"""The run's counts written by the writer thread are never behind what is stored (issue #13): a batch is committed
in the writer thread, but added to the crawler's stats later, on the reactor thread; a progress tick that runs
in between must not write counts without that batch (a kill -9 right after would leave the run's record short)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from _archive_helpers import article, verdict
from scrapy.utils.test import get_crawler

from monitor.archive import Storage
from monitor.extensions.runs import OUTLETS, RunRecorder
from monitor.pipelines import StoragePipeline


def recorded(db: Path) -> tuple[int, int]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT new, stored FROM run_sources WHERE source = 'rp'").fetchone()
    finally:
        conn.close()


def test_a_progress_tick_between_a_commit_and_its_stats_writes_the_committed_batch(tmp_path):
    db = tmp_path / "m.db"
    crawler = get_crawler(settings_dict={"MONITOR_DB": str(db)})
    crawler.stats.open_spider()
    crawler.stats.set_value(OUTLETS, ["rp"])
    recorder = RunRecorder(crawler, str(db))
    storage = Storage(db)
    recorder.storage, recorder.run_id = storage, storage.start_run("news", ["rp"])
    pipeline = StoragePipeline(crawler, recorder, None, batch_size=3, threaded=True)
    rows = [("rp", article(url=f"https://rp.pl/swiat/art{i}-rozmowy"), verdict()) for i in range(3)]

    delta = pipeline._store(storage, rows, [], [])  # committed by the writer thread ...
    assert recorded(db) == (3, 3)
    stale = recorder.counts()  # ... while the reactor, not yet told, queues a progress tick
    pipeline._in_thread_progress(storage, recorder.run_id, stale)
    assert recorded(db) == (3, 3)
    more = [("rp", article(url=f"https://rp.pl/swiat/art{i}-rozmowy"), verdict()) for i in range(3, 5)]
    later = pipeline._store(storage, more, [], [])  # the next batch, before the first one reached the stats
    assert recorded(db) == (5, 5)

    pipeline._written(delta)  # the reactor adds the first batch to the stats: counted once, not twice
    pipeline._in_thread_progress(storage, recorder.run_id, recorder.counts())
    assert recorded(db) == (5, 5)
    pipeline._written(later)
    assert pipeline.unapplied == {} and recorder.counts()["rp"]["new"] == 5
    storage.close()
