"""Unusable archives (#13, item 2): every command refuses them in one line naming the file, exit status 2, and
writes nothing; commands that only read still work on a read-only file or folder (archives are shared that way).

As root (CI), permission bits do not stop a process: the commands run with the capabilities that bypass them
dropped (``setpriv``), as an ordinary user would.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from _archive_helpers import ENV, MONITOR, ROOT, store_many
from _fault_helpers import own_lines, unprivileged

from monitor.archive import Storage, StorageError, check_writable

PAGE = next((ROOT / "fixtures" / "sites" / "rmf24" / "articles").glob("*.html"))
STATES = ("read-only file", "read-only folder", "random bytes", "damaged in the middle")
READERS = {
    "search": ["search", "rozmowy"],
    "report": ["report"],
    "export": ["export", "atom"],
}


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of 1,000 articles and one finished run, checkpointed into the main file."""
    db = tmp_path_factory.mktemp("archive") / "base.db"
    storage = Storage(db)
    store_many(storage, 10, per_batch=100, words=200)
    run_id = storage.start_run("news", ["rp"])
    storage.finish_run(run_id, "finished", {"rp": {"discovered": 1000, "fetched": 1000, "new": 1000}})
    storage.close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db


def make(state: str, healthy: Path, folder: Path) -> Path:
    folder.mkdir()
    db = folder / "m.db"
    shutil.copy(healthy, db)
    if state == "read-only file":
        db.chmod(0o444)
    elif state == "read-only folder":
        folder.chmod(0o555)
    elif state == "random bytes":
        db.write_bytes(random.Random(1).randbytes(200_000))
    elif state == "damaged in the middle":
        size = db.stat().st_size
        with db.open("r+b") as handle:  # a quarter of the pages, in the middle, overwritten
            handle.seek(size * 3 // 8 // 4096 * 4096)
            handle.write(random.Random(2).randbytes(size // 4))
    return db


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def monitor(args: list[str], prefix: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*prefix, *MONITOR, *args], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=120
    )


def writer_args(name: str, db: Path, tmp_path: Path) -> list[str]:
    if name == "crawl":
        sources = tmp_path / "sources.toml"
        sources.write_text(
            '[[outlet]]\nname = "x"\ndomains = ["127.0.0.1:9"]\nfeeds = ["http://127.0.0.1:9/f"]\n'
            'article_pattern = "a"\n'
        )
        return ["crawl", "--db", str(db), "--sources", str(sources), "-s", "RETRY_TIMES=0"]
    if name == "ingest":
        return ["ingest", str(PAGE), "--db", str(db)]
    return ["rescore", "--db", str(db)]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("command", ["crawl", "ingest", "rescore"])
def test_writers_refuse_an_unusable_archive_in_one_line_and_write_nothing(healthy, tmp_path, state, command):
    folder = tmp_path / "archive"
    db = make(state, healthy, folder)
    before = snapshot(folder)
    result = monitor(writer_args(command, db, tmp_path), unprivileged())
    folder.chmod(0o755)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    (line,) = own_lines(result.stderr)
    assert line.startswith(f"error: {db}: ")
    expected = {
        "read-only file": "the file is read-only",
        "read-only folder": "directory is read-only",
        "random bytes": "not an SQLite database",
        "damaged in the middle": "the database is damaged",
    }[state]
    assert expected in line
    assert snapshot(folder) == before  # nothing written, no journal left beside it
    assert not db.with_suffix(".lock").exists()


@pytest.mark.parametrize("state", ["read-only file", "read-only folder"])
@pytest.mark.parametrize("command", sorted(READERS))
def test_readers_work_on_a_read_only_archive(healthy, tmp_path, state, command):
    folder = tmp_path / "archive"
    db = make(state, healthy, folder)
    before = snapshot(folder)
    result = monitor([*READERS[command], "--db", str(db)], unprivileged())
    folder.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert "Rozmowy" in result.stdout
    assert db.read_bytes() == before["m.db"]  # (SQLite may leave its empty -wal/-shm beside a read-only file)


@pytest.mark.parametrize("state", ["random bytes", "damaged in the middle", "text that is not UTF-8"])
@pytest.mark.parametrize("command", sorted(READERS))
def test_readers_refuse_a_damaged_archive_in_one_line(healthy, tmp_path, state, command):
    folder = tmp_path / "archive"
    if state == "text that is not UTF-8":
        folder.mkdir()
        db = folder / "m.db"
        shutil.copy(healthy, db)
        conn = sqlite3.connect(db)
        conn.execute("UPDATE articles SET title = CAST(X'FFFE41' AS TEXT) WHERE id % 7 = 0")
        conn.commit()
        conn.close()
    else:
        db = make(state, healthy, folder)
    result = monitor([*READERS[command], "--db", str(db)], [])
    assert "Traceback" not in result.stderr
    if command == "search" and state == "text that is not UTF-8":
        assert result.returncode == 0  # the best matches do not include a damaged row
        return
    assert result.returncode == 2, result.stdout
    (line,) = own_lines(result.stderr)
    assert line.startswith(f"error: {db}: ")


def test_check_writable_refuses_without_creating_anything(healthy, tmp_path):
    damaged = make("damaged in the middle", healthy, tmp_path / "damaged")
    with pytest.raises(StorageError, match="the database is damaged"):
        check_writable(damaged)
    with pytest.raises(StorageError, match="is a directory"):
        check_writable(tmp_path)
    check_writable(tmp_path / "new" / "m.db")  # a new archive in a folder that can be made
    assert not (tmp_path / "new").exists()
    check_writable(healthy)


def test_a_damaged_archive_is_refused_by_storage_before_any_write(healthy, tmp_path):
    db = make("damaged in the middle", healthy, tmp_path / "damaged")
    before = db.read_bytes()
    with pytest.raises(StorageError, match=r"damaged .*nothing was written.*\.recover"):
        Storage(db)
    assert db.read_bytes() == before


def test_running_as_root_still_tests_permissions(tmp_path):
    """The permission tests above are not skipped as root: they drop its capabilities instead."""
    secret = tmp_path / "secret"
    secret.write_text("x")
    secret.chmod(0)
    probe = subprocess.run(
        [*unprivileged(), sys.executable, "-c", f"import os; print(os.access({str(secret)!r}, os.R_OK))"],
        capture_output=True,
        text=True,
    )
    assert probe.stdout.strip() == "False"


def test_serve_works_on_an_archive_in_a_read_only_folder(healthy, tmp_path):
    import re
    import signal
    import time
    import urllib.request

    folder = tmp_path / "archive"
    db = make("read-only folder", healthy, folder)
    proc = subprocess.Popen(
        [*unprivileged(), *MONITOR, "serve", "--db", str(db), "--port", "0"],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        address, deadline = None, time.monotonic() + 60
        while address is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            assert line or proc.poll() is None, "serve ended early"
            found = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", line)
            address = found.group(1) if found else None
        with urllib.request.urlopen(f"{address}/m/articles.json?_size=1&_shape=array") as response:
            assert "Rozmowy" in response.read().decode()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        folder.chmod(0o755)
    assert sorted(p.name for p in folder.iterdir()) == ["m.db"]
