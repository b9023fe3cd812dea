"""``monitor schedule``: crawls at a fixed interval in the foreground, for a terminal, tmux or a container.

Each run is a ``monitor crawl`` subprocess (Scrapy's reactor runs once per process), so a failing run cannot take
the scheduler down. SIGTERM or SIGINT stops it cleanly: the running crawl gets SIGTERM (Scrapy finishes the
requests in flight and writes what it has), the scheduler waits for it and exits 0.
"""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import click

from monitor.cli.common import fail

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    """'90s', '15m', '1h', '1h30m' or plain seconds → seconds; ValueError names the bad text."""
    value = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        seconds = float(value)
    else:
        parts = re.findall(r"(\d+(?:\.\d+)?)([smhd])", value)
        if not parts or "".join(n + u for n, u in parts) != value:
            raise ValueError(f"{text!r} is not an interval (examples: 90s, 15m, 1h, 1h30m)")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError(f"{text!r}: the interval must be positive")
    return seconds


def next_delay(every: float, jitter: float, elapsed: float, rng: random.Random) -> float:
    """Seconds to sleep after a run that took ``elapsed``: the rest of the interval plus or minus the jitter."""
    return max(0.0, every - elapsed + rng.uniform(-jitter, jitter))


class Scheduler:
    def __init__(
        self,
        command: Sequence[str],
        every: float,
        jitter: float,
        runs: int | None = None,
        echo: Callable[[str], None] = print,
        seed: int | None = None,
    ):
        self.command = list(command)
        self.every = every
        self.jitter = jitter
        self.runs = runs
        self.echo = echo
        self.rng = random.Random(seed)
        self.stopping = threading.Event()
        self.child: subprocess.Popen[bytes] | None = None

    def stop(self, signum: int | None = None, frame: object = None) -> None:
        if not self.stopping.is_set():
            self.echo("schedule: stopping after the current run")
        self.stopping.set()
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        done = 0
        while not self.stopping.is_set():
            started = time.monotonic()
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            self.echo(f"schedule: run {done + 1} at {stamp}")
            try:
                self.child = subprocess.Popen(self.command)
                code = self.child.wait()
            except OSError as exc:
                code = -1
                self.echo(f"schedule: could not start the crawl: {exc}")
            finally:
                self.child = None
            self.echo(
                f"schedule: run {done + 1} finished with exit status {code} in {time.monotonic() - started:.0f} s"
            )
            done += 1
            if self.runs is not None and done >= self.runs:
                break
            delay = next_delay(self.every, self.jitter, time.monotonic() - started, self.rng)
            self.echo(f"schedule: next run in {delay:.0f} s")
            self.stopping.wait(delay)
        return 0


def crawl_command(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "monitor.cli", "crawl", *args]


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--every", default="15m", show_default=True, help="Interval between run starts: 90s, 15m, 1h.")
@click.option("--jitter", default="60s", show_default=True, help="Random shift of each start, plus or minus.")
@click.option("--runs", type=int, help="Stop after this many runs (default: until SIGTERM/SIGINT).")
@click.pass_context
def schedule(ctx: click.Context, every: str, jitter: str, runs: int | None) -> None:
    """Run `monitor crawl` every interval in the foreground; extra options go to crawl (e.g. --db, --source).

    A failing run is reported and the schedule goes on; SIGTERM or SIGINT stops the current crawl cleanly and exits 0.
    """
    try:
        interval, spread = parse_interval(every), parse_interval(jitter) if jitter not in ("0", "0s") else 0.0
    except ValueError as exc:
        fail(str(exc))
    scheduler = Scheduler(crawl_command(ctx.args), interval, spread, runs, echo=click.echo)
    sys.exit(scheduler.run())


def register(group: click.Group) -> None:
    group.add_command(schedule)
