"""When a writer must read the whole archive before its first write, and when the file is as a sound one was left.

``PRAGMA quick_check`` reads every page of the file: minutes for an archive of millions of articles. A writer
runs it only when the file may have changed since it was last known sound. Each time the archive is known sound
(a full check passed, or a writer closed it cleanly with everything checkpointed into the main file), a small
record is written beside it (``<db>.checked``): the file's size, modification and status-change times (ns), device
and inode. The next writer skips the full check when the file still has exactly that fingerprint and no
write-ahead log with content lies beside it; it still reads the header and the schema.

Anything that writes the file changes its modification time and its status-change time (the latter cannot be set
back by ``touch`` or ``os.utime``); a copy or a restored backup has another inode; a killed writer leaves its
write-ahead log behind. Each of these runs the full check again. A record is written only when the file's times
are far enough in the past that a later write cannot fall into the same clock tick (file times move in ticks of a
few milliseconds), and never on a file system whose times have no sub-millisecond part.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

SUFFIX = ".checked"
# A later write must land in a later tick of the file system's clock than the recorded times: file times are
# taken from a coarse clock (one tick is at most 10 ms on Linux), so a record waits until its file's times are
# this far in the past.
TICK_MARGIN_NS = 30_000_000
FIELDS = ("size", "mtime_ns", "ctime_ns", "dev", "ino")
HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


def record_path(file: Path) -> Path:
    """Where the fingerprint of ``file`` is kept: beside it, its name with ``.checked`` added."""
    return file.with_name(file.name + SUFFIX)


def wal_path(file: Path) -> Path:
    return file.with_name(file.name + "-wal")


def fingerprint(file: Path) -> dict[str, int]:
    stat = file.stat()
    return {
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "ctime_ns": stat.st_ctime_ns,
        "dev": stat.st_dev,
        "ino": stat.st_ino,
    }


def _wal_empty(file: Path) -> bool:
    """No write-ahead log with content beside the file: everything committed is in the main file."""
    try:
        return wal_path(file).stat().st_size == 0
    except FileNotFoundError:
        return True


def forget(file: Path) -> None:
    """Drop the record, so that the next writer checks the whole file."""
    with contextlib.suppress(OSError):
        record_path(file).unlink()


def record(file: Path, how: str) -> bool:
    """Note that ``file`` is sound as it is now (``how``: what showed it). Nothing is written, and an older
    record is dropped, when everything committed is not in the main file yet (another connection keeps a
    write-ahead log with content) or its times cannot be trusted to move on the next write. Returns whether the
    record was written; a folder that cannot be written is not an error (the next writer checks in full)."""
    target = record_path(file)
    scratch = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        if not _wal_empty(file):
            forget(file)
            return False
        now = fingerprint(file)
        if now["mtime_ns"] % 1_000_000 == 0 and now["ctime_ns"] % 1_000_000 == 0:
            forget(file)  # times in whole milliseconds or coarser: two writes may leave the same times
            return False
        newest = max(now["mtime_ns"], now["ctime_ns"])
        wait = newest + TICK_MARGIN_NS - time.time_ns()
        if wait > 0:
            time.sleep(wait / 1e9)
        scratch.write_text(
            json.dumps({**now, "how": how, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}) + "\n",
            encoding="utf-8",
        )
        os.replace(scratch, target)
        if fingerprint(file) != now:  # written meanwhile (by another process): the record would be stale
            forget(file)
            return False
    except OSError:
        with contextlib.suppress(OSError):
            scratch.unlink()
        return False
    return True


def recorded(file: Path) -> dict[str, Any] | None:
    """The record beside ``file``, or None when there is none or it cannot be read."""
    try:
        data = json.loads(record_path(file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def unchanged(file: Path) -> bool:
    """True when ``file`` is exactly as it was when it was last known sound: its fingerprint equals the record
    and no write-ahead log with content lies beside it."""
    data = recorded(file)
    if data is None or not _wal_empty(file):
        return False
    try:
        now = fingerprint(file)
    except OSError:
        return False
    return all(data.get(name) == now[name] for name in FIELDS)


def header_problem(file: Path) -> str | None:
    """What is wrong with the file's 100-byte header (the magic string, the page size, the page count against
    the file's size), or None. Cheap: read when the full check is skipped."""
    try:
        with file.open("rb") as handle:
            head = handle.read(100)
        size = file.stat().st_size
    except OSError as exc:
        return str(exc)
    if size == 0:  # an empty database: SQLite writes the header with the first table (a writer killed before)
        return None
    if len(head) < 100 or not head.startswith(HEADER):
        return "its header is not an SQLite header"
    page = int.from_bytes(head[16:18], "big")
    page = 65_536 if page == 1 else page
    if page < 512 or page & (page - 1):
        return f"its header gives an impossible page size ({page})"
    if size % page:
        return f"its size ({size} bytes) is not a whole number of {page}-byte pages"
    pages = int.from_bytes(head[28:32], "big")
    counter, valid_for = head[24:28], head[92:96]
    if counter == valid_for and pages != size // page:
        return f"its header counts {pages} pages, the file holds {size // page}"
    return None
