"""kill -9 in the middle of a write: the archive stays consistent and the next run completes the work."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest
from _archive_helpers import ROOT

BATCH = 150
TOTAL = 1500

WRITER = textwrap.dedent(
    f"""
    import sys
    sys.path.insert(0, {str(ROOT / "tests")!r})
    from _archive_helpers import article, verdict
    from monitor.archive import Storage

    storage = Storage(sys.argv[1])
    rows = [
        ("rp", article(url=f"https://rp.pl/swiat/art{{i}}", title=f"Rozmowy {{i}}",
                       text=" ".join(f"słowo{{i}}x{{j}} Zełenski" for j in range(300))), verdict())
        for i in range({TOTAL})
    ]
    for start in range(0, {TOTAL}, {BATCH}):
        storage.store_batch(rows[start:start + {BATCH}])
        print("committed", start + {BATCH}, flush=True)
    storage.close()
    print("done", flush=True)
    """
)


def writer(db) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def check(db) -> int:
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 0)")
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        assert articles % BATCH == 0, "a batch is all or nothing"
        assert conn.execute("SELECT count(*) FROM articles_fts_docsize").fetchone()[0] == articles
        assert conn.execute("SELECT count(DISTINCT article_id) FROM matches").fetchone()[0] == articles
        assert conn.execute("SELECT count(DISTINCT url) FROM articles").fetchone()[0] == articles
        return articles
    finally:
        conn.close()


@pytest.mark.slow
def test_kill_9_mid_batch_leaves_a_consistent_archive_and_the_next_run_completes(tmp_path):
    db = tmp_path / "crash.db"
    stored = 0
    for delay in (0.0, 0.05, 0.15):
        process = writer(db)
        line = process.stdout.readline()  # one more batch committed by this run...
        assert line.startswith("committed"), process.stderr.read()
        time.sleep(delay)  # ...and the next one under way
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        assert process.returncode == -signal.SIGKILL
        now = check(db)
        assert now >= max(stored, int(line.split()[1]))
        stored = now
    assert stored < TOTAL, "the runs were killed before finishing"
    finished = writer(db)
    out, err = finished.communicate(timeout=300)
    assert finished.returncode == 0, err
    assert check(db) == TOTAL
