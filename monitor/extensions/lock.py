"""A lock file that keeps overlapping scheduled runs apart.

``flock`` holds the lock, so the kernel releases it when its process dies, however it dies: a lock left by a
killed run is stale by construction and the next run simply takes it. The file records who holds it (PID and
start time) for the message the second run prints.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class Holder:
    pid: int | None
    since: str | None


class LockError(RuntimeError):
    """The lock file cannot be created or opened (a read-only folder); the message names it."""


class LockHeld(RuntimeError):
    """Another live run holds the lock."""

    def __init__(self, path: Path, holder: Holder):
        self.path = path
        self.holder = holder
        super().__init__(
            f"another run holds the lock {path} since {holder.since or 'an unknown time'}, PID {holder.pid or '?'}"
        )


def read_holder(path: Path) -> Holder:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return Holder(None, None)
    return Holder(data.get("pid"), data.get("since"))


def _try_lock(handle: IO[str]) -> bool:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class LockFile:
    """The lock as an object, for holders that take it in one place and let it go in another (a Scrapy
    extension); :func:`run_lock` is the same for a ``with`` block."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._handle: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self, wait: bool = False, poll: float = 1.0, timeout: float | None = None) -> Holder:
        """Take the lock. Raises :class:`LockHeld` at once (or, with ``wait``, after ``timeout``) and
        :class:`LockError` when the file cannot be opened."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held open until release()
        except OSError as exc:
            raise LockError(f"{self.path}: cannot open the lock file: {exc.strerror or exc}") from exc
        try:
            started = time.monotonic()
            while not _try_lock(handle):
                if not wait or (timeout is not None and time.monotonic() - started >= timeout):
                    raise LockHeld(self.path, read_holder(self.path))
                time.sleep(poll)
            me = Holder(os.getpid(), datetime.now(UTC).isoformat(timespec="seconds"))
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"pid": me.pid, "since": me.since}))
            handle.flush()
        except BaseException:
            handle.close()
            raise
        self._handle = handle
        return me

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        finally:
            handle.close()


@contextmanager
def run_lock(
    path: str | Path, wait: bool = False, poll: float = 1.0, timeout: float | None = None
) -> Iterator[Holder]:
    """Hold the lock for the block. Raises :class:`LockHeld` at once (or, with ``wait``, after ``timeout``)."""
    lock = LockFile(path)
    me = lock.acquire(wait, poll, timeout)
    try:
        yield me
    finally:
        lock.release()
