"""``monitor rescore`` at scale (issue #15): a pool of processes gives the same verdicts as one, a killed rescore
continues where it stopped, a finished one is not done again, pruned articles keep their verdicts, and the
progress goes to stderr (a bar on a terminal, plain lines otherwise)."""

from __future__ import annotations

import io
import os
import pty
import select
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest
from _archive_helpers import ENV, MONITOR, ROOT, run, synthetic_archive

from monitor.cli.progress import Progress, duration
from monitor.rules import default_rules_path, load_rules

ARTICLES = 2000  # several batches for each of two processes, and a rescore long enough to be killed mid-way


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("rescore") / "base.db"
    return synthetic_archive(db, ARTICLES, workers=2)


@pytest.fixture(scope="module")
def stricter(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packaged rules with a higher bar for a story: another version, and some verdicts change."""
    text = default_rules_path().read_text(encoding="utf-8")
    assert "\nprimary = 7.0" in text
    path = tmp_path_factory.mktemp("rules") / "stricter.toml"
    path.write_text(text.replace("\nprimary = 7.0", "\nprimary = 9.5", 1), encoding="utf-8")
    return path


def copy(archive: Path, target: Path) -> Path:
    shutil.copy(archive, target)
    return target


def verdicts(db: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    conn = sqlite3.connect(db)
    try:
        articles = conn.execute("SELECT id, relevance, score, ruleset FROM articles ORDER BY id").fetchall()
        matches = conn.execute(
            'SELECT article_id, rule, grp, term, entity, field, start, "end", snippet FROM matches '
            'ORDER BY article_id, field, start, "end", rule, term'
        ).fetchall()
        return articles, matches
    finally:
        conn.close()


def rescore(db: Path, rules: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run([*MONITOR, "rescore", "--db", str(db), "--rules", str(rules), *args])


@pytest.mark.slow  # its fixture builds a synthetic archive; two full rescores
def test_two_processes_give_the_same_verdicts_as_one(archive, stricter, tmp_path):
    one = copy(archive, tmp_path / "one.db")
    two = copy(archive, tmp_path / "two.db")
    first = rescore(one, stricter, "--processes", "1")
    second = rescore(two, stricter, "--processes", "2", "--batch-size", "100")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert f"Re-scored {ARTICLES:,} article(s)" in first.stdout and "unflagged: " in first.stdout
    assert first.stdout == second.stdout
    assert verdicts(one) == verdicts(two)
    articles, _matches = verdicts(one)
    version = load_rules(stricter).version
    assert {row[3] for row in articles} == {version}
    assert articles != verdicts(archive)[0]  # the stricter rules did change verdicts


def test_a_killed_rescore_continues_where_it_stopped(archive, stricter, tmp_path):
    reference = copy(archive, tmp_path / "reference.db")
    assert rescore(reference, stricter, "--processes", "1").returncode == 0
    db = copy(archive, tmp_path / "m.db")
    proc = subprocess.Popen(
        [
            *MONITOR,
            "rescore",
            "--db",
            str(db),
            "--rules",
            str(stricter),
            "--processes",
            "2",
            "--batch-size",
            "20",
        ],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    conn = sqlite3.connect(db, timeout=30)
    deadline = time.monotonic() + 120
    last = 0
    while time.monotonic() < deadline and not last:
        time.sleep(0.05)
        try:
            row = conn.execute("SELECT last_id FROM rescores").fetchone()
        except sqlite3.OperationalError:  # the table is not there until the rescore opened the archive
            continue
        last = row[0] if row else 0
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    stopped = conn.execute("SELECT last_id, done, finished FROM rescores").fetchone()
    version = load_rules(stricter).version
    done = conn.execute("SELECT count(*) FROM articles WHERE ruleset = ?", [version]).fetchone()[0]
    conn.close()
    assert stopped is not None and 0 < stopped[0] < ARTICLES and stopped[2] is None, stopped
    assert done == stopped[0] == stopped[1]  # exactly the articles up to last_id, committed with it

    again = rescore(db, stricter, "--processes", "2")
    assert again.returncode == 0, again.stderr
    assert f"Re-scored {ARTICLES - stopped[0]:,} article(s)" in again.stdout
    assert f"continued after article {stopped[0]:,}: {stopped[0]:,} re-scored before" in again.stdout
    assert verdicts(db) == verdicts(reference)
    _wait_for_no_workers(db)


def _wait_for_no_workers(db: Path) -> None:
    """The pool's workers leave once the rescore that started them is gone (killed or done)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        if str(db) not in ps:
            return
        time.sleep(0.5)
    raise AssertionError(f"processes of a rescore of {db} are still running")


def test_a_finished_rescore_only_scores_the_articles_stored_since(archive, stricter, tmp_path):
    from _archive_helpers import article, verdict

    from monitor.archive import Storage

    db = copy(archive, tmp_path / "m.db")
    assert rescore(db, stricter).returncode == 0
    again = rescore(db, stricter)
    assert again.returncode == 0 and "Nothing to do" in again.stdout
    with Storage(db) as storage:
        storage.store_batch(
            [
                ("rp", article(url=f"https://rp.pl/swiat/art{i}", text="Rozmowy pokojowe " * 40), verdict())
                for i in range(3)
            ]
        )
    later = rescore(db, stricter)
    assert "Re-scored 3 article(s)" in later.stdout and "stored since it finished" in later.stdout
    version = load_rules(stricter).version
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM articles WHERE ruleset != ?", [version]).fetchone()[0] == 0
    restarted = rescore(db, stricter, "--restart")
    assert (
        f"Re-scored {ARTICLES + 3:,} article(s)" in restarted.stdout
        and "0 changed relevance" in restarted.stdout
    )


def test_pruned_articles_keep_their_verdicts_and_a_dry_run_writes_nothing(archive, stricter, tmp_path):
    db = copy(archive, tmp_path / "m.db")
    assert run([*MONITOR, "prune", "--db", str(db), "--older-than", "2026-11-29T12:00"]).returncode == 0
    conn = sqlite3.connect(db)
    pruned = conn.execute(
        "SELECT id, relevance, score, ruleset FROM articles WHERE text IS NULL ORDER BY id"
    ).fetchall()
    conn.close()
    assert pruned
    before = db.read_bytes()
    dry = rescore(db, stricter, "--dry-run")
    assert dry.returncode == 0 and "Would re-score" in dry.stdout
    assert db.read_bytes() == before
    result = rescore(db, stricter)
    assert f"{len(pruned):,} article(s) without a body (pruned) kept their verdicts" in result.stdout
    assert f"Re-scored {ARTICLES - len(pruned):,} article(s)" in result.stdout
    conn = sqlite3.connect(db)
    assert (
        conn.execute(
            "SELECT id, relevance, score, ruleset FROM articles WHERE text IS NULL ORDER BY id"
        ).fetchall()
        == pruned
    )


def test_the_progress_bar_is_drawn_on_a_terminal(archive, stricter, tmp_path):
    db = copy(archive, tmp_path / "m.db")
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*MONITOR, "rescore", "--db", str(db), "--rules", str(stricter), "--processes", "1"],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    drawn = b""
    while True:
        ready, _w, _x = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        drawn += chunk
    proc.wait(timeout=60)
    os.close(master)
    text = drawn.decode()
    assert proc.returncode == 0
    assert "\rrescore [" in text and "ETA" in text and f"/{ARTICLES:,} articles" in text
    assert "100%" in text


class FakeStream(io.StringIO):
    def __init__(self, terminal: bool):
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


def test_progress_is_plain_lines_off_a_terminal_and_a_bar_on_one():
    now = [0.0]
    plain = FakeStream(False)
    progress = Progress("rescore", 1000, stream=plain, every=10, clock=lambda: now[0])
    for step in range(1, 11):
        now[0] = step * 3.0
        progress.update(step * 100)
    progress.close()
    lines = plain.getvalue().splitlines()
    assert lines == [
        "rescore: 400/1,000 articles (40%), 33/s, about 18s left",
        "rescore: 800/1,000 articles (80%), 33/s, about 6s left",
        "rescore: 1,000/1,000 articles (100%), 33/s, about 0s left",
    ]
    assert "\r" not in plain.getvalue()

    now[0] = 0.0
    terminal = FakeStream(True)
    bar = Progress("rescore", 1000, stream=terminal, clock=lambda: now[0])
    now[0] = 5.0
    bar.update(250)
    bar.close()
    assert terminal.getvalue().startswith(
        "\rrescore [######------------------]  25% 250/1,000 articles 50/s ETA 15s"
    )
    assert terminal.getvalue().endswith("\n")

    quick = FakeStream(False)
    now[0] = 0.0
    short = Progress("prune", 10, stream=quick, clock=lambda: now[0])
    short.update(10)
    short.close()
    assert quick.getvalue() == ""  # a run shorter than the interval leaves no progress lines


def test_durations_read_well():
    assert [duration(s) for s in (0, 42, 425, 7380)] == ["0s", "42s", "7m05s", "2h03m"]
