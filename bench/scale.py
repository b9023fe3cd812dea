"""Archive figures at scale (issue #15), run by ``bench/bench_archive.py --scale N``: a year of crawls built by
``bench/make_archive.py``, then search latency, rescore throughput and the size before and after ``monitor prune``
on it, each with its target and a baseline measured in the same run. Not a test.

- build: the bulk path, wall time and CPU seconds of the writer and the text workers (a machine shared with other
  jobs stretches the wall time, not the CPU); baseline: the same plan written through ``Storage`` (20,000
  articles);
- search: p50 and p95 of 21 runs (after one to warm the cache) of the documented queries, a word in most articles
  and a rare one, in each order; baseline: bm25 (``relevance``);
- rescore: articles per second with 1 and with 2 processes over ``--rescore-seconds`` (start-up included), with
  the packaged rules made stricter (another version: every article is written); baseline: 1 process;
- prune: ``--older-than`` the publication date before which 80% of the articles lie (the archive's own 80th
  percentile, whatever its ``--until``), i.e. 80% of the bodies less the flagged ones kept, then VACUUM;
  baseline: the size before.

``bench/bench_archive.py --archive PATH`` measures an archive built before (``make_archive.py``, e.g. 5 million
articles: a build of most of an hour) instead of building one: size and search, and rescore and prune only when
asked (they change it).
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from figures import Figure, save, table

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
QUERIES = (
    "witkoff putin",
    "zelenski",
    "rozmowy pokojowe",
    '"gwarancje bezpieczenstwa"',
    "kreml OR kijow",
    "polska",
    "w",
)


def _run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False, **kwargs)


def _cpu_line(stdout: str) -> tuple[float, float]:
    """CPU seconds (writer, text workers) from make_archive's last line."""
    tail = stdout.strip().splitlines()[-1]
    writer = float(tail.split("writer ")[1].split(",")[0].replace(",", ""))
    workers = float(tail.split("text workers ")[1].replace(",", ""))
    return writer, workers


def build(db: Path, articles: int, days: float) -> list[Figure]:
    make = [PYTHON, str(ROOT / "bench" / "make_archive.py")]
    reference = db.with_name("storage-path.db")
    began = time.perf_counter()
    slow = _run([*make, "--articles", "20000", "--days", "2", "--db", str(reference), "--via", "storage"])
    slow_rate = 20000 / (time.perf_counter() - began)
    reference.unlink(missing_ok=True)
    if slow.returncode != 0:
        raise RuntimeError(slow.stderr)
    began = time.perf_counter()
    done = _run([*make, "--articles", str(articles), "--days", str(days), "--db", str(db)])
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    writer, workers = _cpu_line(done.stdout)
    idle = max(writer, (writer + workers) / 2)  # on two idle cores: the writer, or all the work over two
    five_million = idle * 5_000_000 / articles / 60
    return [
        Figure(
            f"build {articles:,} articles (bulk)",
            articles / wall,
            "articles/s",
            "5M in < 30 min",
            f"{slow_rate:,.0f}/s through Storage.store_batch",
        ),
        Figure("build: wall time", wall / 60, "min"),
        Figure(
            "build: CPU, writer + text workers",
            (writer + workers) * 1000 / articles,
            "ms/article",
            "",
            f"writer {writer:,.0f} s, workers {workers:,.0f} s",
        ),
        Figure("build: 5M on 2 idle cores, from CPU", five_million, "min", "< 30"),
    ]


def size_figures(db: Path) -> tuple[list[Figure], int]:
    conn = sqlite3.connect(db)
    raw = conn.execute(
        "SELECT sum(length(CAST(title AS BLOB)) + coalesce(length(CAST(lead AS BLOB)), 0) + "
        "length(CAST(text AS BLOB))) FROM articles"
    ).fetchone()[0]
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # The run history (a row per outlet and run: ~3.6 million rows a year at 104 outlets every 15 minutes) has the
    # same size whatever the number of articles; at a few thousand articles it is most of the file.
    history = conn.execute(
        "SELECT sum(pgsize) FROM dbstat WHERE name IN "
        "(SELECT name FROM sqlite_master WHERE tbl_name IN ('run_sources', 'crawl_runs'))"
    ).fetchone()[0]
    conn.close()
    size = db.stat().st_size
    return [
        Figure(
            "database size / raw text",
            size / raw,
            "×",
            "≤ 2.5",
            f"{size / 1e9:,.2f} GB / {raw / 1e9:,.2f} GB",
        ),
        Figure(
            "  the same without the run history",
            (size - history) / raw,
            "×",
            "≤ 2.5",
            f"run history {history / 1e9:,.2f} GB, fixed for a year of runs",
        ),
    ], size


def search_figures(db: Path, runs: int = 21, baseline_runs: int = 5) -> list[Figure]:
    """p50/p95 over ``runs`` of each query as ``monitor search`` shows it (auto) and in each order; bm25 of a query
    that auto shows newest first (it scores every match: seconds at millions) is the baseline, timed
    ``baseline_runs`` times."""
    from monitor.archive.search import RECENT_ABOVE, choose_order, fts_query, search

    conn = sqlite3.connect(db)
    figures = []
    for query in QUERIES:
        count = conn.execute(
            "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", [fts_query(query)]
        ).fetchone()[0]
        timings: dict[str, list[float]] = {}
        for order in ("relevance", "recent", "auto"):
            times = []
            many = order == "relevance" and count > RECENT_ABOVE
            for attempt in range((baseline_runs if many else runs) + 1):
                start = time.perf_counter()
                chosen = choose_order(conn, query, order) if order == "auto" else order
                search(conn, query, limit=20, order=chosen)
                if attempt:
                    times.append((time.perf_counter() - start) * 1000)
            timings[order] = sorted(times)
        p95 = {order: t[int(0.95 * (len(t) - 1))] for order, t in timings.items()}
        p50 = {order: statistics.median(t) for order, t in timings.items()}
        figures.append(
            Figure(
                f"search {query!r} ({count:,} matches), as shown (auto)",
                p50["auto"],
                "ms p50",
                "p95 ≤ 50 ms (recent)" if count > RECENT_ABOVE else "p95 ≤ 100 ms",
                f"p95 {p95['auto']:.1f}; relevance p50 {p50['relevance']:.1f} / p95 "
                f"{p95['relevance']:.1f} ({len(timings['relevance'])} runs); recent p50 {p50['recent']:.1f} / "
                f"p95 {p95['recent']:.1f}",
            )
        )
    conn.close()
    return figures


def stricter_rules(folder: Path) -> Path:
    from monitor.rules import default_rules_path

    text = default_rules_path().read_text(encoding="utf-8")
    path = folder / "stricter.toml"
    path.write_text(text.replace("\nprimary = 7.0", "\nprimary = 9.5", 1), encoding="utf-8")
    return path


def rescore_rate(db: Path, rules: Path, processes: int, seconds: float) -> float:
    """Articles re-scored per second in the first ``seconds`` (start-up included), then stopped with Ctrl-C."""
    args = [PYTHON, "-m", "monitor.cli", "rescore", "--db", str(db), "--rules", str(rules)]
    args += ["--processes", str(processes), "--restart"]
    began = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGINT)
        proc.wait(timeout=120)
    elapsed = time.perf_counter() - began
    conn = sqlite3.connect(db)
    done = conn.execute("SELECT done FROM rescores ORDER BY updated DESC LIMIT 1").fetchone()[0]
    conn.close()
    return done / elapsed


def rescore_figures(db: Path, seconds: float) -> list[Figure]:
    rules = stricter_rules(db.parent)
    one = rescore_rate(db, rules, 1, seconds)
    two = rescore_rate(db, rules, 2, seconds)
    conn = sqlite3.connect(db)
    total = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    conn.close()
    return [
        Figure("rescore, 1 process", one, "articles/s", "", f"over the first {seconds:g} s"),
        Figure(
            "rescore, 2 processes",
            two,
            "articles/s",
            "1M in ≤ 10 min (1,667/s)",
            f"{two / one:.2f}× 1 process",
        ),
        Figure(
            f"rescore of {total:,} articles, 2 processes", total / two / 60, "min (projected)", "≤ 10 for 1M"
        ),
    ]


def prune_cutoff(db: Path, share: float = 0.8) -> str:
    """The publication time before which ``share`` of the dated articles lie (read along its index)."""
    conn = sqlite3.connect(db)
    dated = conn.execute("SELECT count(*) FROM articles WHERE published IS NOT NULL").fetchone()[0]
    (cutoff,) = conn.execute(
        "SELECT published FROM articles WHERE published IS NOT NULL ORDER BY published LIMIT 1 OFFSET ?",
        [int(dated * share)],
    ).fetchone()
    conn.close()
    return str(cutoff)


def prune_figures(db: Path, size: int) -> list[Figure]:
    age = prune_cutoff(db)
    began = time.perf_counter()
    pruned = _run(
        [PYTHON, "-m", "monitor.cli", "prune", "--db", str(db), "--older-than", age, "--keep-flagged"]
    )
    prune_s = time.perf_counter() - began
    if pruned.returncode != 0:
        raise RuntimeError(pruned.stderr)
    conn = sqlite3.connect(db)
    share = conn.execute("SELECT avg(text IS NULL) FROM articles").fetchone()[0]
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    free = conn.execute("PRAGMA freelist_count").fetchone()[0] * page
    after = conn.execute("PRAGMA page_count").fetchone()[0] * page
    began = time.perf_counter()
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    vacuum_s = time.perf_counter() - began
    conn.close()
    vacuumed = db.stat().st_size
    return [
        Figure(
            f"prune --older-than {age} --keep-flagged: bodies dropped",
            share * 100,
            "%",
            "80%",
            f"{prune_s:,.0f} s, index merged",
        ),
        Figure(
            "size after prune (free pages reused)",
            after / size * 100,
            "% of before",
            "",
            f"{after / 1e9:,.2f} GB, {free / 1e9:,.2f} GB free; before {size / 1e9:,.2f} GB",
        ),
        Figure(
            "size after prune + VACUUM",
            vacuumed / size * 100,
            "% of before",
            "≤ 40%",
            f"{vacuumed / 1e9:,.2f} GB; VACUUM {vacuum_s:,.0f} s",
        ),
    ]


def measure(articles: int, days: float, folder: Path, rescore_seconds: float) -> list[Figure]:
    db = folder / f"year-{articles}.db"
    figures = build(db, articles, days)
    return figures + measure_built(db, rescore_seconds, prune=True)


def measure_built(db: Path, rescore_seconds: float, *, prune: bool) -> list[Figure]:
    """Size and search of a built archive; rescore when ``rescore_seconds`` (re-scoring every article with the
    stricter rules), prune and VACUUM when ``prune``: both change the archive, prune irreversibly."""
    sized, size = size_figures(db)
    figures = sized + search_figures(db)
    if rescore_seconds > 0:
        figures += rescore_figures(db, rescore_seconds)
    if prune:
        figures += prune_figures(db, size)
    return figures


def stored(db: Path) -> int:
    conn = sqlite3.connect(db)
    count = int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
    conn.close()
    return count


def report(figures: list[Figure], articles: int, given: Path | None = None) -> None:
    where = f"the archive {given}" if given else "bench/make_archive.py"
    print(f"\narchive at scale: {articles:,} articles over a year ({where})")
    print(table(figures))
    save(figures, f"archive_scale_{articles}")


def run_built(db: Path, rescore_seconds: float, *, prune: bool) -> None:
    """Measure and report an archive built before (``--archive``); the figures are keyed by its article count."""
    articles = stored(db)
    report(measure_built(db, rescore_seconds, prune=prune), articles, db)


def run_scale(articles: int, days: float, rescore_seconds: float, keep: Path | None = None) -> None:
    """Build, measure and report; the archive is deleted afterwards unless ``keep`` names a folder for it."""
    folder = keep or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        report(measure(articles, days, folder, rescore_seconds), articles)
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
