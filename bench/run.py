"""``make bench``: every benchmark in one run, with small sizes by default (about ten minutes on two cores), then ONE
table of figures (figure, value, target, baseline measured in the same run) and ``bench/results.json``.

The benchmarks run one after the other as they would alone (their own output goes to stderr, as progress):
``bench_archive.py`` (new-article upserts against the bare FTS5 ceiling, and a year-long synthetic archive:
build, size, search, rescore, prune), ``bench_startup_scale.py`` (crawl start-up to the first request and peak
memory, empty archive against archives of ``--sizes`` articles) and ``bench_crawl.py --only throughput``
(throughput with 1 and 2 processes, the reactor's lag) write their figures into ``bench/results.json``
themselves; the figures of ``bench_rules.py --json``, ``bench_extract.py`` and ``bench_startup.py`` and the upsert
lines of ``bench_archive.py`` are read from their output here (``bench_stories.py --figures`` writes its own: clustering per article, rebuild). A benchmark that fails is named in the table, and the exit
status is 1.

Bigger runs: ``--scale 1000000`` (archive), ``--sizes 1000000,5000000 --archives DIR`` (crawl start-up; archives
are built once and kept), ``--archive DIR/archive-5000000.db`` (size and search measured on that archive instead
of a built one; not pruned: ``bench_archive.py --archive PATH --prune`` does that), ``--pages 5000`` (crawl
throughput). Timing figures for docs are taken with farm-bench.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from figures import RESULTS, Figure, save, table

ROOT = Path(__file__).resolve().parent.parent
UPSERTS = re.compile(r"new articles, FTS \+ revisions \+ wire-story links:\s+([0-9,.]+) upserts/s")
CEILING = re.compile(r"FTS5 alone .*?:\s+([0-9,.]+) rows/s")
EXTRACT = re.compile(
    r"plain trafilatura: ([0-9.]+) ms CPU per page\nmonitor extract:\s+([0-9.]+) ms CPU per page"
)


def number(text: str) -> float:
    return float(text.replace(",", ""))


def run(name: str, command: list[str]) -> tuple[int, str]:
    """Run one benchmark; its output goes to stderr as it comes, and is returned."""
    print(f"== {name}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        sys.stderr.write(line)
        lines.append(line)
    return proc.wait(), "".join(lines)


def upsert_figures(output: str) -> list[Figure]:
    """The upsert rate with FTS against the bare FTS5 ceiling of the same texts, from bench_archive's lines."""
    upserts, ceiling = UPSERTS.search(output), CEILING.search(output)
    if not upserts or not ceiling:
        return []
    rate, top = number(upserts.group(1)), number(ceiling.group(1))
    return [
        Figure(
            "new-article upserts with FTS, share of the bare FTS5 ceiling",
            rate / top * 100,
            "%",
            "≥ 60%",
            f"{rate:,.0f}/s against {top:,.0f}/s",
        )
    ]


def rules_figures(output: str) -> list[Figure]:
    result = json.loads(output.strip().splitlines()[-1])
    return [
        Figure(
            "rules: articles of 5,000 chars classified per CPU second",
            result["articles_per_second_cpu"],
            "articles/s",
            "≥ 1,000 on one core",
            f"naive regex {result['naive_regex_articles_per_second']:,}/s",
        ),
        Figure("rules: first load", result["load_seconds_first"], "s", "< 1 s"),
    ]


def startup_figures(output: str) -> list[Figure]:
    result = json.loads(output.strip().splitlines()[-1])
    first = result["first_request_s"]
    return [
        Figure(
            f"monitor crawl to first request, {result['outlets']} outlets, empty archive",
            first["median"],
            "s",
            "",
            f"min {first['min']} max {first['max']} over {result['runs']} runs",
        )
    ]


def extract_figures(output: str) -> list[Figure]:
    found = EXTRACT.search(output)
    if not found:
        raise ValueError("no CPU figures in its output")
    plain, ours = number(found.group(1)), number(found.group(2))
    return [
        Figure(
            "extraction: CPU per page, against plain trafilatura",
            ours / plain,
            "×",
            "≤ 1.00×",
            f"{ours:.1f} ms against {plain:.1f} ms",
        )
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000, help="upserts benchmark: articles")
    parser.add_argument("--scale", type=int, default=20_000, help="year-long archive: articles (0: skip)")
    parser.add_argument(
        "--sizes", default="20000", help="crawl start-up: archive sizes besides empty (e.g. 1000000,5000000)"
    )
    parser.add_argument("--archives", type=Path, help="crawl start-up: keep the built archives here")
    parser.add_argument(
        "--pages", type=int, default=600, help="crawl throughput: pages of the generated site"
    )
    parser.add_argument("--runs", type=int, default=2, help="crawl start-up: crawls per archive size")
    parser.add_argument(
        "--archive", type=Path, help="year-long archive: measure this one (built before) instead of --scale"
    )
    args = parser.parse_args(argv)
    python = sys.executable
    RESULTS.unlink(missing_ok=True)  # the figures of this run only
    crawl = [python, "bench/bench_crawl.py", "--only", "throughput", "--pages", str(args.pages)]
    startup = [python, "bench/bench_startup_scale.py", "--sizes", args.sizes, "--runs", str(args.runs)]
    startup += ["--archives", str(args.archives)] if args.archives else []
    steps: list[tuple[str, list[str], Any]] = [
        ("rules", [python, "bench/bench_rules.py", "--json", "--articles", "2000"], rules_figures),
        ("extract", [python, "bench/bench_extract.py"], extract_figures),
        ("startup", [python, "bench/bench_startup.py", "3"], startup_figures),
        (
            "archive",
            [python, "bench/bench_archive.py", "--articles", str(args.articles), "--scale", str(args.scale)]
            + ["--rescore-seconds", "0" if args.archive else "10"]
            + (["--archive", str(args.archive)] if args.archive else []),
            upsert_figures,
        ),
        ("crawl start-up", startup, None),
        ("crawl", crawl, None),
        ("stories", [python, "bench/bench_stories.py", "--figures"], None),
    ]
    parsed: dict[str, list[Figure]] = {}
    failed = []
    for name, command, read in steps:
        status, output = run(name, command)
        if status != 0:
            failed.append(
                Figure(f"{name}: the benchmark failed (exit {status}); see its output above", 0, "")
            )
            continue
        if read is not None:
            try:
                parsed[name] = read(output)
            except (ValueError, KeyError, IndexError) as exc:
                failed.append(Figure(f"{name}: its output could not be read ({exc})", 0, ""))
    for name, figures in parsed.items():
        save(figures, name)
    results = json.loads(RESULTS.read_text(encoding="utf-8")) if RESULTS.exists() else {}
    figures = [Figure(**f) for group in results.values() for f in group] + failed
    print(table(figures))
    print(f"(written to {RESULTS.relative_to(ROOT)})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
