"""A pool of worker processes that extract and classify pages (:mod:`monitor.pool.work`), fed from the crawl's
thread without blocking it.

Each worker is a ``python -m monitor.pool.work`` process with one thread of the crawl's process beside it: the
thread takes the next page from the pool's queue, writes it to its worker's stdin, waits for the outcome on its
stdout and hands the outcome back to the crawl's thread (``deliver``, e.g. ``reactor.callFromThread``). A worker
has one page at a time, so when one dies (killed, out of memory, a crash in a C library) or runs past
``timeout`` on a page, that page alone fails, with the reason, and the next page gets a new worker. Workers start
when the first pages arrive, load the rules once, and end when the pool closes or the crawl's process dies (their
stdin closes). Nothing here touches the archive: outcomes go back to the crawl, whose pipeline stores them.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from monitor.pool.work import HEADER, Outcome, Page

Done = Callable[[Outcome], None]
COMMAND = (sys.executable, "-m", "monitor.pool.work")  # one worker


def processes_setting(value: object, cores: int | None = None) -> int:
    """The number of worker processes ``MONITOR_POOL_PROCESSES`` asks for: a whole number ≥ 0 (0 and 1: no
    pool, pages are extracted in the crawl's process); empty or None: the machine's cores. A bad value raises
    :class:`ValueError` naming the setting."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return cores or os.cpu_count() or 1
    try:
        number = int(str(value).strip())
    except ValueError:
        number = -1
    if number < 0 or isinstance(value, float):
        raise ValueError(f"MONITOR_POOL_PROCESSES={value}: expects a whole number of processes, 0 or more")
    return number


class WorkerGone(Exception):
    """The worker died or was stopped; the message says why, in one line."""


def _reason(returncode: int | None) -> str:
    if returncode is None:
        return "stopped answering"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed ({name})"
    return f"exited with status {returncode}"


def worker_environment() -> dict[str, str]:
    """The crawl's environment, with its import path: a worker imports the same ``monitor`` (from a working tree,
    an installed wheel or Scrapyd's egg)."""
    paths = [entry if entry else os.getcwd() for entry in sys.path]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}


class Worker:
    """One worker process and the calls to it (from its thread only)."""

    def __init__(self, rules: str | None, start_timeout: float, command: tuple[str, ...] = COMMAND):
        self.proc = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            env=worker_environment(),
        )
        self.send(pickle.dumps(rules))
        try:
            answer = pickle.loads(self.receive(start_timeout))
        except TimeoutError:
            self.kill()
            raise WorkerGone(f"did not start within {start_timeout:g} s") from None
        if isinstance(answer, Outcome):  # the rules did not load
            self.stop()
            raise WorkerGone(f"could not start: {type(answer.error).__name__}: {answer.error}")

    def send(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(HEADER.pack(len(data)) + data)
        except OSError as exc:
            raise WorkerGone(self._ended()) from exc

    def receive(self, timeout: float) -> bytes:
        """The next frame; :class:`TimeoutError` when it takes longer than ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        header = self._read(HEADER.size, deadline)
        return self._read(HEADER.unpack(header)[0], deadline)

    def _read(self, size: int, deadline: float) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        chunks: list[bytes] = []
        while size > 0:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, min(size, 1 << 20))
            if not chunk:
                raise WorkerGone(self._ended())
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def _ended(self) -> str:
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "stopped answering and was killed"
        return _reason(self.proc.returncode)

    def process(self, page: Page, timeout: float) -> Outcome:
        try:
            self.send(pickle.dumps(page, protocol=pickle.HIGHEST_PROTOCOL))
            outcome = pickle.loads(self.receive(timeout))
        except TimeoutError:
            self.kill()
            raise WorkerGone(f"took longer than {timeout:g} s on this page and was stopped") from None
        except WorkerGone as exc:
            raise WorkerGone(f"{exc} while processing this page") from None
        assert isinstance(outcome, Outcome)
        return outcome

    def kill(self) -> None:
        self.proc.kill()
        self.stop()

    def stop(self) -> None:
        """End the worker: its input closes (it leaves), and it is killed if it does not within 5 s."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@dataclass
class PoolStats:
    pages: int = 0  # outcomes delivered
    failed: int = 0  # pages whose worker died or ran out of time
    restarts: int = 0  # workers started again after one died or was stopped
    most_in_flight: int = 0  # the most pages submitted and not yet delivered at once


class WorkerPool:
    """``processes`` workers. :meth:`submit` and ``done`` run on the owner's thread, which ``deliver`` is given
    functions to call on; :meth:`close` ends the workers."""

    def __init__(
        self,
        processes: int,
        rules: str | None,
        deliver: Callable[[Callable[[], None]], None],
        timeout: float = 60.0,
        start_timeout: float = 120.0,
        command: tuple[str, ...] = COMMAND,
    ):
        self.processes = max(1, processes)
        self.rules = rules
        self.deliver = deliver
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.command = command
        self.jobs: queue.SimpleQueue[tuple[Page, Done] | None] = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []
        self.in_flight = 0
        self.stats = PoolStats()
        self.closed = False
        self.pids: set[int] = set()  # the workers alive now

    def start(self) -> WorkerPool:
        for number in range(self.processes):
            thread = threading.Thread(target=self._serve, name=f"monitor-worker-{number}", daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def submit(self, page: Page, done: Done) -> None:
        if self.closed:
            done(Outcome(failure="the crawl stopped before this page was processed"))
            return
        self.in_flight += 1
        self.stats.most_in_flight = max(self.stats.most_in_flight, self.in_flight)
        self.jobs.put((page, done))

    def _finish(self, done: Done, outcome: Outcome) -> None:
        """On the owner's thread: count, then hand the outcome over."""
        self.in_flight -= 1
        self.stats.pages += 1
        if outcome.failure:
            self.stats.failed += 1
        done(outcome)

    def _serve(self) -> None:
        worker: Worker | None = None
        started = 0
        while (job := self.jobs.get()) is not None:
            page, done = job
            if (
                worker is not None and worker.proc.poll() is not None
            ):  # died while idle: this page is not to blame
                self.pids.discard(worker.proc.pid)
                worker.stop()
                worker = None
            try:
                if worker is None:
                    worker = Worker(self.rules, self.start_timeout, self.command)
                    self.pids.add(worker.proc.pid)
                    started += 1
                    if started > 1:
                        self.stats.restarts += 1
                outcome = worker.process(page, self.timeout)
            except WorkerGone as exc:
                outcome = Outcome(failure=f"the extraction worker {exc}")
                if worker is not None:
                    self.pids.discard(worker.proc.pid)
                    worker.stop()
                worker = None
            except OSError as exc:  # the worker could not be started at all
                outcome = Outcome(failure=f"no extraction worker could be started: {exc}")
            except Exception as exc:  # noqa: BLE001 - an answer that cannot be read: this page fails, not the pool
                outcome = Outcome(
                    failure=f"the extraction worker's answer was unreadable: {type(exc).__name__}: {exc}"
                )
                if worker is not None:
                    self.pids.discard(worker.proc.pid)
                    worker.kill()
                worker = None
            self.deliver(functools.partial(self._finish, done, outcome))
        if worker is not None:
            self.pids.discard(worker.proc.pid)
            worker.stop()

    def close(self, wait: bool = True) -> None:
        """Fail the pages still queued and end the workers after the pages they have; ``wait`` for their threads
        (10 s each at most). Without waiting, each thread ends its worker by itself (its input closes)."""
        if self.closed:
            return
        self.closed = True
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                self._finish(job[1], Outcome(failure="the crawl stopped before this page was processed"))
        for _ in self.threads:
            self.jobs.put(None)
        for thread in self.threads if wait else ():
            thread.join(timeout=10)
