"""Opening the archive: WAL and a busy timeout, an upgrade to the current schema, and refusals in one line (not
SQLite, read-only, damaged, locked, written by a newer monitor), without writing anything to a file it refuses.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from monitor.archive import integrity
from monitor.archive.errors import StorageError
from monitor.archive.schema import MIGRATION_SET, known_migrations, migrations
from monitor.archive.sqlitelib import sqlite_utils

BUSY_TIMEOUT_MS = 10_000


CACHE_KIB = 65_536  # page cache of a writing connection (SQLite's default is 2 MiB)
# Page size of a new archive. An article row is ~3 kB: on SQLite's default 4 kB pages one row fits a page and a
# fifth of the articles table is left empty; on 16 kB pages rows pack tightly (a synthetic 50,000-article archive:
# the part that grows with the articles went from 2.63x to 2.42x the raw text, the whole file from 939 to 842 MB).
PAGE_SIZE = 16_384


CLOSE_WAIT_MS = 200  # how long a closing writer waits for readers to let it checkpoint the write-ahead log


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _writable(file: Path) -> bool:
    """Writable for us and not marked read-only (root may write anything; a file without write bits is not)."""
    mode = file.stat().st_mode
    return os.access(file, os.W_OK) and bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _check_file(file: Path, *, write: bool, create: bool) -> None:
    """Refuse, before SQLite touches it, a path that is not a usable SQLite file."""
    if file.is_dir():
        raise StorageError(f"{file}: is a directory, not a database file")
    if not file.exists():
        if not create:
            raise StorageError(
                f"{file}: no such database (run `monitor crawl`, `monitor demo` or `monitor ingest`)"
            )
        return
    with file.open("rb") as handle:
        header = handle.read(len(integrity.HEADER))
    if header and header != integrity.HEADER:
        raise StorageError(f"{file}: cannot use this database: not an SQLite database")
    if write and not _writable(file):
        raise StorageError(f"{file}: cannot use this database: the file is read-only")
    if write and not os.access(file.parent, os.W_OK):
        raise StorageError(
            f"{file}: cannot use this database: its directory is read-only (WAL needs to write there)"
        )


def damage(conn: sqlite3.Connection) -> str | None:
    """What ``PRAGMA quick_check`` finds wrong with the file (its first line), or None for a sound one.

    It reads every page once (about 0.1 s per 200 MB from the page cache, minutes for millions of articles
    on disk) but not the text inside the rows; writers run it through :func:`verify` before their first write
    and refuse a damaged file."""
    try:
        rows = conn.execute("PRAGMA quick_check(1)").fetchall()
    except sqlite3.DatabaseError as exc:
        if _locked(exc):
            raise
        return str(exc)
    first = rows[0][0] if rows else "no answer"
    return None if first == "ok" else " ".join(str(first).replace("*** in database main ***", "").split())


def verify(file: Path, conn: sqlite3.Connection, *, full: bool = False) -> bool:
    """Refuse a damaged archive before a writer's first write: ``PRAGMA quick_check`` over the whole file, unless
    the file is exactly as it was when it was last known sound (:mod:`monitor.archive.integrity`) and ``full`` is
    false; then only its header is read (the caller reads the schema). Returns whether the full check ran."""
    if not full and integrity.unchanged(file):
        problem = integrity.header_problem(file)
        if problem:
            raise StorageError(damaged_message(file, problem))
        return False
    problem = damage(conn)
    if problem:
        integrity.forget(file)
        raise StorageError(damaged_message(file, problem))
    return True


class ArchiveConnection(sqlite3.Connection):
    """A writer's connection: closed cleanly, it checkpoints the write-ahead log into the main file and notes
    beside the archive that the file is sound as it is (so the next writer need not read all of it)."""

    archive: Path | None = None  # set once the archive has been opened, verified and upgraded

    def close(self) -> None:
        file, self.archive = self.archive, None
        clean = False
        if file is not None and not self.in_transaction:
            try:
                # A reader in the middle of a long read would make the checkpoint wait: give up soon instead
                # (no note then, and the next writer checks the whole file).
                self.execute(f"PRAGMA busy_timeout = {CLOSE_WAIT_MS}")
                busy, _log, _done = self.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                clean = busy == 0
            except sqlite3.Error:
                clean = False
        super().close()
        if clean and file is not None:
            integrity.record(file, "clean close")


def damaged_message(file: Path, problem: str) -> str:
    return (
        f"{file}: the database is damaged ({problem}); nothing was written. Restore a backup, or recover "
        f"what is readable with: sqlite3 {file} .recover | sqlite3 recovered.db"
    )


def _locked(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _describe(file: Path, exc: sqlite3.Error, busy_timeout_ms: int) -> str:
    if _locked(exc):
        return f"{file}: the database is locked by another writer (waited {busy_timeout_ms / 1000:g} s)"
    if "readonly" in str(exc).lower() or "read-only" in str(exc).lower():
        return f"{file}: cannot use this database: the file is read-only"
    return f"{file}: cannot use this database: {exc}"


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'"
    ).fetchone()
    if not exists:
        return []
    rows = conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid", [MIGRATION_SET]
    )
    return [name for (name,) in rows]


def _check_schema(file: Path, conn: sqlite3.Connection, *, upgrade: bool) -> None:
    applied = applied_migrations(conn)
    known = known_migrations()
    unknown = [name for name in applied if name not in known]
    user_version = conn.execute("PRAGMA user_version").fetchone()[0]
    if unknown or user_version > len(known):
        newer = ", ".join(unknown) or f"user_version {user_version}"
        raise StorageError(
            f"{file}: written by a newer version of the monitor (schema {newer}); upgrade pl-peace-monitor"
        )
    pending = [name for name in known if name not in applied]
    if pending and not upgrade:
        raise StorageError(
            f"{file}: the schema is older than this monitor ({', '.join(pending)} pending) and the file is "
            "read-only, so it cannot be upgraded; make it writable once and run any monitor command on it"
        )


def _connect_readonly(file: Path, busy_timeout_ms: int) -> sqlite3.Connection:
    """A read-only connection. A WAL archive in a folder we cannot write, with no ``-shm`` file left beside it,
    cannot even be read that way (SQLite needs the shared-memory file), so it is opened as immutable: nobody can
    be writing it there, since writing needs the same folder."""
    base = f"file:{quote(str(file.resolve()))}"
    timeout = busy_timeout_ms / 1000
    conn = sqlite3.connect(f"{base}?mode=ro", uri=True, timeout=timeout, check_same_thread=False)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        if os.access(file.parent, os.W_OK) or _locked(exc):
            raise
    return sqlite3.connect(f"{base}?immutable=1", uri=True, timeout=timeout, check_same_thread=False)


def open_database(
    path: str | Path,
    *,
    readonly: bool = False,
    create: bool = True,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    full_check: bool = False,
) -> sqlite_utils.Database:
    """Open the archive: WAL journal, a busy timeout, pending migrations applied.

    ``readonly`` opens the file without writing anything (no migration, no journal change); ``create=False``
    refuses a missing file. Every problem is a :class:`StorageError` with one line naming the file. A writable
    archive is checked for damage first (:func:`verify`; ``full_check`` reads the whole file in any case), and
    closing its connection notes that it was left sound.
    """
    file = Path(path)
    _check_file(file, write=not readonly, create=create and not readonly)
    existed = file.exists()
    if not readonly:
        file.parent.mkdir(parents=True, exist_ok=True)
    conn: sqlite3.Connection | None = None
    try:
        if readonly:
            conn = _connect_readonly(file, busy_timeout_ms)
        else:
            conn = sqlite3.connect(
                str(file),
                timeout=busy_timeout_ms / 1000,
                check_same_thread=False,
                factory=ArchiveConnection,
            )
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        if not existed and not readonly:
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # only before the first table is created
        if existed and not readonly:
            verify(file, conn, full=full_check)
        _check_schema(file, conn, upgrade=not readonly)
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # in WAL: durable across a killed process
            conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")  # the FTS index and sketches stay in memory
            conn.execute("PRAGMA foreign_keys = ON")
        db = sqlite_utils.Database(conn)
        if not readonly:
            migrations.apply(db)
            count = len(known_migrations())
            if conn.execute("PRAGMA user_version").fetchone()[0] != count:
                conn.execute(f"PRAGMA user_version = {count}")
            assert isinstance(conn, ArchiveConnection)
            conn.archive = file
    except StorageError:
        if conn is not None:
            conn.close()
        raise
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise StorageError(_describe(file, exc, busy_timeout_ms)) from exc
    return db


def check_writable(path: str | Path, *, full: bool = False) -> None:
    """Refuse, without writing anything, an archive a writer could not use: not SQLite, read-only (file or
    folder), damaged, or from a newer monitor. A missing file passes when its folder can be created or written.

    The damage check is :func:`verify`'s (the whole file unless it is as it was last known sound, or ``full``);
    a full check that passes is noted beside the archive, so that the writer opening it next does not repeat
    it."""
    file = Path(path)
    if not file.exists() and not file.is_dir():
        folder = next((p for p in file.absolute().parents if p.exists()), Path("/"))
        if not os.access(folder, os.W_OK):
            raise StorageError(f"{file}: cannot create this database: {folder} is read-only")
        return
    _check_file(file, write=True, create=False)
    # A writable connection that writes nothing: unlike a read-only one, it removes the WAL files it opened.
    conn = sqlite3.connect(str(file), timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        checked = verify(file, conn, full=full)
        _check_schema(file, conn, upgrade=True)
    except sqlite3.Error as exc:
        raise StorageError(_describe(file, exc, BUSY_TIMEOUT_MS)) from exc
    finally:
        conn.close()
    if checked:
        integrity.record(file, "quick_check")


def open_for_reading(path: str | Path, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite_utils.Database:
    """Open an existing archive for queries: upgraded in place when writable, read-only otherwise."""
    file = Path(path)
    _check_file(file, write=False, create=False)
    if _writable(file) and os.access(file.parent, os.W_OK):
        return open_database(file, create=False, busy_timeout_ms=busy_timeout_ms)
    return open_database(file, readonly=True, create=False, busy_timeout_ms=busy_timeout_ms)
