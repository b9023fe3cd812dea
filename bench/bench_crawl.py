"""Crawl throughput at scale (issue #15), with its target and a baseline measured in the same run. Not a test.

- **throughput**: a generated site (:mod:`monitor.devtools.bigsite`, ``--pages`` pages over 8 outlets) crawled
  with politeness off, with ``MONITOR_POOL_PROCESSES=1`` (extraction and rules on the reactor thread) and with
  ``--processes`` (default 2) worker processes, each into a fresh archive: articles stored per second from the
  first request to the end of the run, the reactor's worst lag and its 99th percentile (from the run's log).
  Baseline: 1 process.

``--root DIR`` runs the crawls with the code of another tree (e.g. ``git archive <commit> | tar -x -C DIR``), for
before/after figures; the mirror and the measuring stay this tree's. Writes ``bench/results.json`` (key
``crawl``) as well as the table. ``make bench`` runs it with small sizes (bench/run.py); docs/performance.md says
which sizes its figures come from. Start-up and memory against the archive's size: ``bench/bench_startup_scale.py``
(it uses :func:`crawl` and :func:`archive` from here).
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from figures import Figure, save, table  # noqa: E402

from monitor.devtools.bigsite import write_site  # noqa: E402
from monitor.devtools.mirror import Mirror, load_sites  # noqa: E402

FAST = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "RETRY_TIMES": "0",
    "ROBOTSTXT_OBEY": "False",
    "CONCURRENT_REQUESTS": "32",
    # The mirror serves every outlet from one host (127.0.0.1), where the web has a host, and a download slot, per
    # outlet: per-domain concurrency as high as the total lets 8 outlets download as 8 hosts would. With 16, the
    # one slot starved the extraction workers (they waited for pages 42% of a crawl; docs/performance.md).
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    "MONITOR_MAX_LINKS": "0",
    "MONITOR_MAX_SITEMAPS": "0",
}
LAG = re.compile(r"'monitor/reactor_(max_lag|lag_p99)_ms': ([0-9.]+)")


class WatchedMirror(Mirror):
    """The loopback mirror, noting when the first request arrives."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.first: float | None = None
        self.requests = 0

    def __enter__(self) -> WatchedMirror:
        super().__enter__()
        return self

    def _handler(self, host: str) -> type[BaseHTTPRequestHandler]:
        base = super()._handler(host)
        mirror = self

        class Watched(base):  # type: ignore[valid-type, misc]
            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                if mirror.first is None:
                    mirror.first = time.monotonic()
                mirror.requests += 1
                super().do_GET()

        return Watched


def tree_rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc (KiB)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status", encoding="ascii") as handle:
                total += next((int(line.split()[1]) for line in handle if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as handle:
                    todo += [int(child) for child in handle.read().split()]
        except (OSError, ValueError):
            continue
    return total


@dataclass
class Run:
    seconds: float  # the command, start to exit
    first_request: float  # from the command's start
    peak_tree_mb: float  # the crawl and its workers, sampled
    peak_own_mb: float  # the crawl process's own high-water mark
    stored: int
    lag_max_ms: float | None = None
    lag_p99_ms: float | None = None
    returncode: int = 0
    extra: dict[str, object] = field(default_factory=dict)


def crawl(root: Path, mirror: WatchedMirror, sources: Path, db: Path, settings: dict[str, str]) -> Run:
    command = [sys.executable, "-m", "monitor.cli", "crawl", "--db", str(db), "--sources", str(sources)]
    command += [x for key, value in {**FAST, **settings}.items() for x in ("-s", f"{key}={value}")]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "monitor.settings", "PYTHONPATH": str(root)}
    mirror.first = None
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    own = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, own
        while not done.is_set():
            peak = max(peak, tree_rss_kib(proc.pid))
            try:
                with open(f"/proc/{proc.pid}/status", encoding="ascii") as handle:
                    own = max(own, *(int(x.split()[1]) for x in handle if x.startswith("VmHWM:")))
            except (OSError, ValueError, TypeError):
                pass
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = proc.communicate(timeout=3600)
    seconds = time.monotonic() - started
    done.set()
    sampler.join()
    log = (
        db.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
        if db.with_suffix(".log").exists()
        else ""
    )
    lags = {name: float(value) for name, value in LAG.findall(log)}
    stored = 0
    if db.exists():
        conn = sqlite3.connect(db)
        try:
            query = "SELECT count(*) FROM articles WHERE url LIKE 'http://127.0.0.1:%' AND url NOT LIKE '%#bench-%'"
            stored = conn.execute(query).fetchone()[0]
        except sqlite3.Error:
            pass
        finally:
            conn.close()
    return Run(
        seconds,
        (mirror.first - started) if mirror.first else float("nan"),
        peak / 1024,
        own / 1024,
        stored,
        lags.get("max_lag"),
        lags.get("lag_p99"),
        proc.returncode,
        {"stderr": stderr.decode(errors="replace")[-500:]} if proc.returncode not in (0, 1) else {},
    )


def archive(size: int, folder: Path, days: float) -> Path:
    """An archive of ``size`` articles, built once by bench/make_archive.py and reused (crawls add to it)."""
    path = folder / f"archive-{size}.db"
    if not path.exists():
        print(f"building {path} ({size:,} articles) …", file=sys.stderr, flush=True)
        subprocess.run(
            [sys.executable, str(ROOT / "bench/make_archive.py"), "--articles", str(size), "--db", str(path)]
            + ["--days", str(days)],
            check=True,
            cwd=ROOT,
        )
    return path


def throughput_figures(root: Path, pages: int, processes: int) -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_site(folder / "site", articles=pages, outlets=8)
        runs: dict[int, Run] = {}
        with WatchedMirror(load_sites(folder / "site")) as mirror:
            sources = folder / "sources.toml"
            sources.write_text(mirror.sources_toml(), encoding="utf-8")
            for count in (1, processes):
                db = folder / f"pool-{count}.db"
                runs[count] = crawl(root, mirror, sources, db, {"MONITOR_POOL_PROCESSES": str(count)})
    figures = []
    rates = {}
    for count, run in runs.items():
        rates[count] = run.stored / max(run.seconds - run.first_request, 1e-9)
    for count, run in runs.items():
        label = "1 process (on the reactor thread)" if count == 1 else f"{count} worker processes"
        figures.append(
            Figure(
                f"articles/s over {pages:,} pages, {label}",
                rates[count],
                "pages/s",
                "" if count == 1 else "≥ 1.7× 1 process",
                "" if count == 1 else f"{rates[1]:.1f}/s with 1 ({rates[count] / rates[1]:.2f}×)",
            )
        )
        if run.lag_max_ms is not None:
            figures.append(
                Figure(
                    f"reactor lag, worst, {label}",
                    run.lag_max_ms,
                    "ms",
                    "p99 ≤ 100 ms",
                    f"p99 {run.lag_p99_ms} ms",
                )
            )
        figures.append(Figure(f"peak RSS, crawl + workers, {label}", run.peak_tree_mb, "MB"))
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000, help="pages of the generated site")
    parser.add_argument("--processes", type=int, default=2, help="worker processes against 1")
    parser.add_argument("--root", type=Path, default=ROOT, help="the tree whose code crawls")
    parser.add_argument(
        "--only", choices=("throughput",), help="kept for older commands: throughput is all it runs"
    )
    args = parser.parse_args(argv)
    figures = throughput_figures(args.root.resolve(), args.pages, args.processes)
    where = "" if args.root.resolve() == ROOT else f" (code of {args.root})"
    print(f"crawl at scale{where}")
    print(table(figures))
    save(figures, "crawl" if args.root.resolve() == ROOT else "crawl_before")
    return 0


if __name__ == "__main__":
    sys.exit(main())
