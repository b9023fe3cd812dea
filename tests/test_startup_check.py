"""The damage check before a write (#15, keeping #13's guarantees): ``PRAGMA quick_check`` reads the whole archive,
minutes at millions of articles, so a writer skips it when the file is exactly as a writer left it at a clean close
(or as a passing check found it), and runs it once per crawl otherwise. Damage done after a clean close by anyone
else is still found."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from _archive_helpers import ENV, MONITOR, ROOT, article, store_many, verdict
from _fault_helpers import own_lines

import monitor.archive.database as database
from monitor.archive import Storage, StorageError, check_writable, integrity, open_database, open_for_reading


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every full check (``damage``) made in this process, by file."""
    calls: list[Path] = []
    original = database.damage

    def counted(conn):
        calls.append(Path(conn.execute("PRAGMA database_list").fetchone()[2]))
        return original(conn)

    monkeypatch.setattr(database, "damage", counted)
    return calls


def build(db: Path, batches: int = 4) -> Path:
    """An archive of a few hundred articles, written and closed by Storage as a crawl does."""
    storage = Storage(db)
    store_many(storage, batches, per_batch=60, words=150)
    storage.close()
    return db


def overwrite_middle(db: Path) -> None:
    """Random bytes over a quarter of the pages in the middle; the file keeps its size."""
    size = db.stat().st_size
    with db.open("r+b") as handle:
        handle.seek(size * 3 // 8 // 4096 * 4096)
        handle.write(random.Random(2).randbytes(size // 4))
    assert db.stat().st_size == size


def test_a_cleanly_closed_archive_is_not_read_again_by_the_next_writers(tmp_path, checks):
    db = build(tmp_path / "a.db")
    assert integrity.recorded(db)["how"] == "clean close"
    check_writable(db)
    Storage(db).close()
    open_for_reading(db).conn.close()
    open_database(db, create=False).conn.close()
    assert checks == []
    assert integrity.unchanged(db)  # reopening without writing left the file as it was


def test_an_archive_without_a_record_is_checked_once_by_check_then_writer(tmp_path, checks):
    db = build(tmp_path / "a.db")
    integrity.record_path(db).unlink()  # an archive from before the record, or copied without it
    check_writable(db)  # what monitor crawl, prune and writer do first
    assert checks == [db]
    assert integrity.recorded(db)["how"] == "quick_check"
    storage = Storage(db)  # then the run's writer: not again
    storage.store_batch([("rp", article(url="https://rp.pl/swiat/nowy-1"), verdict())])
    storage.close()
    assert checks == [db]
    assert integrity.unchanged(db)


@pytest.mark.parametrize("times", ["changed", "set back"])
def test_damage_after_a_clean_close_at_the_same_size_is_found(tmp_path, checks, times):
    db = build(tmp_path / "a.db")
    before = db.stat()
    overwrite_middle(db)  # at once: the record waited for the file's clock to tick on
    if times == "set back":  # mtime as it was; the status-change time cannot be set back
        os.utime(db, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert db.stat().st_mtime_ns == before.st_mtime_ns
    assert not integrity.unchanged(db)
    damaged = db.read_bytes()
    with pytest.raises(StorageError, match=r"the database is damaged .*nothing was written"):
        check_writable(db)
    with pytest.raises(StorageError, match=r"the database is damaged"):
        Storage(db)
    assert checks == [db, db]
    assert db.read_bytes() == damaged
    assert not integrity.record_path(db).exists()


def test_a_copy_or_a_restored_file_is_checked_in_full(tmp_path, checks):
    db = build(tmp_path / "a.db")
    copy = tmp_path / "copy" / "a.db"
    copy.parent.mkdir()
    shutil.copy2(db, copy)  # times kept, record copied too: another inode
    shutil.copy2(integrity.record_path(db), integrity.record_path(copy))
    check_writable(copy)
    assert checks == [copy]


def test_a_writer_killed_after_writing_leaves_its_log_and_the_next_one_checks_in_full(tmp_path, checks):
    db = build(tmp_path / "a.db")
    script = (
        "import os, sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1])\n"
        "conn.execute(\"UPDATE articles SET title = 'zmieniony' WHERE id = 1\")\n"
        "conn.commit()\n"
        "os._exit(0)\n"  # killed: no close, the write-ahead log stays
    )
    subprocess.run([sys.executable, "-c", script, str(db)], check=True, timeout=60)
    assert integrity.wal_path(db).stat().st_size > 0
    assert not integrity.unchanged(db)
    check_writable(db)
    assert checks == [db]


def test_full_check_when_asked_even_when_the_file_is_unchanged(tmp_path, checks):
    db = build(tmp_path / "a.db")
    check_writable(db, full=True)
    open_database(db, create=False, full_check=True).conn.close()
    assert checks == [db, db]


def forge(db: Path) -> None:
    """Damage the file, then write a record that matches it (damage no fingerprint can see, such as a disk's)."""
    overwrite_middle(db)
    assert integrity.record(db, "forged")


def test_a_header_that_does_not_hold_is_refused_even_with_a_matching_record(tmp_path, checks):
    db = build(tmp_path / "a.db")
    with db.open("r+b") as handle:
        handle.seek(16)
        handle.write(b"\x00\x07")  # page size 7
    assert integrity.record(db, "forged")
    with pytest.raises(StorageError, match=r"damaged \(its header gives an impossible page size \(7\)\)"):
        check_writable(db)
    assert checks == []


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"size": "x"}', ""])
def test_a_record_that_cannot_be_read_means_a_full_check(tmp_path, checks, content):
    db = build(tmp_path / "a.db")
    integrity.record_path(db).write_text(content, encoding="utf-8")
    check_writable(db)
    assert checks == [db]
    assert json.loads(integrity.record_path(db).read_text(encoding="utf-8"))["how"] == "quick_check"


def test_no_record_while_another_connection_keeps_a_log_with_content(tmp_path):
    db = build(tmp_path / "a.db")
    import sqlite3

    other = sqlite3.connect(db)
    try:
        other.execute("UPDATE articles SET title = 'x' WHERE id = 1")
        other.commit()
        assert not integrity.record(db, "test")
        assert not integrity.record_path(db).exists()
    finally:
        other.close()


def test_the_header_check_on_its_own():
    assert integrity.header_problem(Path("/nonexistent/x.db"))
    assert integrity.header_problem(ROOT / "README.md") == "its header is not an SQLite header"


def crawl(db: Path, tmp_path: Path, *settings: str) -> subprocess.CompletedProcess[str]:
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[outlet]]\nname = "x"\ndomains = ["127.0.0.1:9"]\nfeeds = ["http://127.0.0.1:9/f"]\n'
        'article_pattern = "a"\n'
    )
    extra = [x for pair in settings for x in ("-s", pair)]
    command = [*MONITOR, "crawl", "--db", str(db), "--sources", str(sources), "-s", "RETRY_TIMES=0", *extra]
    return subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=180)


def test_a_crawl_leaves_the_archive_noted_sound(tmp_path):
    db = build(tmp_path / "a.db")
    integrity.record_path(db).unlink()
    result = crawl(db, tmp_path)
    assert result.returncode == 2, result.stderr  # its only source is unreachable
    assert "damaged" not in result.stderr
    assert integrity.unchanged(db)  # the run's writer closed cleanly, after a run was recorded
    assert integrity.recorded(db)["how"] == "clean close"


def test_monitor_crawl_with_the_full_check_finds_what_the_record_hides(tmp_path):
    db = build(tmp_path / "a.db")
    forge(db)
    before = db.read_bytes()
    result = crawl(db, tmp_path, "MONITOR_FULL_CHECK=True")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    (line,) = own_lines(result.stderr)
    assert line.startswith(f"error: {db}: the database is damaged")
    assert db.read_bytes() == before
    assert not db.with_suffix(".lock").exists()


def test_scrapy_crawl_with_the_full_check_stops_before_writing(tmp_path):
    db = build(tmp_path / "a.db")
    forge(db)
    before = db.read_bytes()
    sources = tmp_path / "sources.toml"
    sources.write_text(
        '[[outlet]]\nname = "x"\ndomains = ["127.0.0.1:9"]\nfeeds = ["http://127.0.0.1:9/f"]\n'
        'article_pattern = "a"\n'
    )
    command = ["scrapy", "crawl", "news", "-s", f"MONITOR_DB={db}", "-s", f"MONITOR_SOURCES={sources}"]
    command += ["-s", "MONITOR_FULL_CHECK=True", "-s", "RETRY_TIMES=0"]
    result = subprocess.run(
        [sys.executable, "-m", "scrapy.cmdline", *command[1:]],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert "the database is damaged" in result.stderr
    assert db.read_bytes() == before


def test_a_record_is_written_only_once_the_files_clock_has_moved_past_its_times(tmp_path):
    import time

    db = build(tmp_path / "a.db")
    with db.open("r+b") as handle:  # written just now
        handle.seek(0, os.SEEK_END)
        handle.write(bytes(16384))
    assert integrity.record(db, "test")
    stat = db.stat()
    assert time.time_ns() >= max(stat.st_mtime_ns, stat.st_ctime_ns) + integrity.TICK_MARGIN_NS


def test_a_new_archive_killed_before_its_first_write_is_opened_again(tmp_path, checks):
    """kill -9 between a new archive's check (which notes the empty file sound) and its first write leaves an empty
    file: an empty database, not a damaged one. The next writer opens it and creates the tables."""
    db = tmp_path / "new.db"
    db.touch()
    if not integrity.record(db, "quick_check"):
        pytest.skip("this filesystem's times are too coarse for a record")
    assert integrity.unchanged(db)
    check_writable(db)
    with Storage(db) as storage:
        storage.store_batch([("rp", article(), verdict())])
    assert open_for_reading(db).conn.execute("SELECT count(*) FROM articles").fetchone() == (1,)
