"""Bad input for the archive's commands: one clear line, a non-zero exit, nothing overwritten."""

from __future__ import annotations

import sqlite3
import stat

import pytest
import sqlite_utils
from _archive_helpers import MONITOR, ROOT, demo_copy, run

from monitor.archive import known_migrations, migrations

COMMANDS = {
    "search": ["search", "zelenski"],
    "report": ["report"],
    "export atom": ["export", "atom"],
    "serve": ["serve", "--port", "0"],
}


def not_sqlite(path):
    path.write_bytes(b"<html>this is a saved page, not a database</html>\n" * 40)


def newer_schema(path):
    db = sqlite_utils.Database(path)
    migrations.apply(db)
    db["_sqlite_migrations"].insert(
        {"migration_set": "monitor", "name": "m042_from_the_future", "applied_at": "x"}
    )
    db.conn.close()


def old_and_read_only(path):
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m002_archive")
    db.conn.close()
    path.chmod(stat.S_IRUSR | stat.S_IRGRP)


PROBLEMS = {
    "not sqlite": (not_sqlite, "cannot use this database: not an SQLite database"),
    "newer schema": (newer_schema, "written by a newer version of the monitor (schema m042_from_the_future)"),
    "old and read-only": (old_and_read_only, "the schema is older than this monitor (m002_archive"),
}


@pytest.mark.parametrize("problem", sorted(PROBLEMS))
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_read_commands_refuse_an_unusable_database_in_one_line(tmp_path, command, problem):
    db = tmp_path / "bad.db"
    make, message = PROBLEMS[problem]
    make(db)
    before = db.read_bytes()
    try:
        result = run([*MONITOR, *COMMANDS[command], "--db", str(db)], timeout=60)
    finally:
        db.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {db}: {message}"), result.stderr
    assert result.stdout == ""
    assert db.read_bytes() == before
    assert not (tmp_path / "bad.db-wal").exists()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_read_commands_refuse_a_missing_database_without_creating_it(tmp_path, command):
    db = tmp_path / "missing.db"
    result = run([*MONITOR, *COMMANDS[command], "--db", str(db)], timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {db}: no such database") and len(result.stderr.splitlines()) == 1
    assert not db.exists()


def test_a_read_only_current_archive_can_still_be_queried(tmp_path_factory, tmp_path):
    db = demo_copy(tmp_path_factory, tmp_path / "demo.db")
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    db.chmod(stat.S_IRUSR | stat.S_IRGRP)
    before = db.read_bytes()
    try:
        report = run([*MONITOR, "report", "--db", str(db), "--limit", "3"])
        found = run([*MONITOR, "search", "witkoff", "--db", str(db), "--limit", "1"])
    finally:
        db.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("Flagged peace-talk stories (3)")
    assert found.returncode == 0 and found.stdout.startswith("  1.")
    assert db.read_bytes() == before


def test_an_older_writable_archive_is_upgraded_by_a_read_command(tmp_path):
    db = tmp_path / "old.db"
    old = sqlite_utils.Database(db)
    migrations.apply(old, stop_before="m002_archive")
    old.conn.close()
    result = run([*MONITOR, "report", "--db", str(db)])
    assert result.returncode == 0 and "No flagged peace-talk stories" in result.stdout
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == len(known_migrations())
    conn.close()


def test_export_atom_to_an_unwritable_place_is_one_line(tmp_path_factory, tmp_path):
    db = demo_copy(tmp_path_factory, tmp_path / "demo.db")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run([*MONITOR, "export", "atom", "--db", str(db), "-o", str(blocker / "feed.atom")])
    assert (
        result.returncode == 2
        and result.stderr.startswith("error: ")
        and len(result.stderr.splitlines()) == 1
    )


def test_every_archive_command_and_option_is_documented():
    import click

    from monitor.cli.archive import export, ingest, report, search, serve

    docs = (ROOT / "docs" / "archive.md").read_text(encoding="utf-8")
    commands = {
        "search": search,
        "report": report,
        "export atom": export.commands["atom"],
        "serve": serve,
        "ingest": ingest,
    }
    for name, command in commands.items():
        assert f"`monitor {name}" in docs, name
        for param in command.params:
            if isinstance(param, click.Option):
                assert any(opt in docs for opt in param.opts), f"monitor {name} {param.opts}"
