"""Progress of a long command on stderr (``monitor rescore``, ``monitor prune``): on a terminal, one line redrawn
in place with a bar, the rate and the time left; otherwise (cron, a log file, a pipe) a plain line every
``every`` seconds and one at the end, so logs stay readable. Standard output is left to the command's results."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

WIDTH = 24


def duration(seconds: float) -> str:
    """``42s``, ``7m05s``, ``2h03m``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """``update(done)`` as work advances, ``close()`` at the end (or when stopped)."""

    def __init__(
        self,
        label: str,
        total: int,
        *,
        unit: str = "articles",
        stream: TextIO | None = None,
        every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every, self.clock = every, clock
        self.began = self.last = clock()
        self.done = 0
        self.drawn = False

    def text(self, now: float) -> str:
        elapsed = now - self.began
        rate = self.done / elapsed if elapsed > 0 else 0.0
        share = self.done / self.total if self.total else 1.0
        left = (self.total - self.done) / rate if rate > 0 else None
        eta = "?" if left is None else duration(left)
        counts = f"{self.done:,}/{self.total:,} {self.unit}"
        if self.terminal:
            filled = int(WIDTH * min(1.0, share))
            bar = "#" * filled + "-" * (WIDTH - filled)
            return f"{self.label} [{bar}] {share:4.0%} {counts} {rate:,.0f}/s ETA {eta}"
        return f"{self.label}: {counts} ({share:.0%}), {rate:,.0f}/s, about {eta} left"

    def update(self, done: int) -> None:
        self.done = done
        now = self.clock()
        if self.terminal:
            if now - self.last >= 0.2 or not self.drawn:
                self.stream.write("\r" + self.text(now) + "\x1b[K")
                self.stream.flush()
                self.last, self.drawn = now, True
        elif now - self.last >= self.every:
            self.stream.write(self.text(now) + "\n")
            self.stream.flush()
            self.last = now

    def close(self) -> None:
        """The last state, and the end of the line on a terminal."""
        now = self.clock()
        if self.terminal:
            self.stream.write("\r" + self.text(now) + "\x1b[K\n")
        elif now - self.began >= self.every:  # a quick run leaves no progress lines in the log
            self.stream.write(self.text(now) + "\n")
        self.stream.flush()
