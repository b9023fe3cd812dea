"""Crawl start-up to the first request and the crawl's peak memory, with an empty archive and with big ones (#15).
Not a test.

Each crawl is ``monitor crawl`` of the fixture mirror (fixtures/sites on loopback), as ``bench/bench_crawl.py``
runs it (its ``crawl``: seconds from the command's start to the mirror's first request; peak resident memory of
the crawl and its extraction workers together, sampled, and of the crawl process alone). Every crawl gets a new
mirror, on new ports: its article URLs are new to the archive, so every crawl does the same work, and the archive
is left as a crawl leaves it (closed cleanly; nothing else edits it between crawls). A crawl adds about 40
articles to an archive of millions.

    python bench/bench_startup_scale.py [--sizes 20000] [--runs 2] [--archives DIR] [--root TREE]
        figures for an empty archive and archives of --sizes articles (built once by bench/make_archive.py and
        kept in --archives), baseline the empty archive; the table, and bench/results.json (key "crawl_startup")
    python bench/bench_startup_scale.py --once --db ARCHIVE | --once --empty
        one crawl, one JSON line: for whole-process timing, e.g. under a timer that runs it several times

``--root TREE`` crawls with the code of another checkout (``git archive <commit> | tar -x -C TREE``), for
before/after figures. docs/performance.md gives the figures at 1,000,000 and 5,000,000 articles and the commands.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

from bench_crawl import ROOT, Run, WatchedMirror, archive, crawl
from figures import Figure, save, table

from monitor.devtools.mirror import load_sites


def once(root: Path, db: Path) -> Run:
    """One crawl of a new mirror (new ports, so new URLs) into ``db``."""
    with tempfile.TemporaryDirectory() as tmp, WatchedMirror(load_sites(ROOT / "fixtures/sites")) as mirror:
        sources = Path(tmp) / "sources.toml"
        sources.write_text(mirror.sources_toml(), encoding="utf-8")
        return crawl(root, mirror, sources, db, {})


def summary(runs: list[Run]) -> dict[str, float]:
    return {
        "first_request": statistics.median(r.first_request for r in runs),
        "first_min": min(r.first_request for r in runs),
        "first_max": max(r.first_request for r in runs),
        "tree": statistics.median(r.peak_tree_mb for r in runs),
        "own": statistics.median(r.peak_own_mb for r in runs),
    }


def figures_for(size: int, runs: list[Run], empty: dict[str, float] | None) -> list[Figure]:
    got = summary(runs)
    label = f"{size:,} stored" if size else "empty archive"
    spread = f"min {got['first_min']:.2f} max {got['first_max']:.2f} over {len(runs)} runs"
    if empty is None:
        return [
            Figure(f"crawl start-up to first request, {label}", got["first_request"], "s", "", spread),
            Figure(f"crawl peak RSS, crawl + workers, {label}", got["tree"], "MB"),
            Figure(f"crawl peak RSS, crawl process, {label}", got["own"], "MB"),
        ]
    tree_change = (got["tree"] / empty["tree"] - 1) * 100
    own_change = (got["own"] / empty["own"] - 1) * 100
    return [
        Figure(
            f"crawl start-up to first request, {label}",
            got["first_request"],
            "s",
            "≤ 3 s at 5M",
            f"{empty['first_request']:.2f} s empty; {spread}",
        ),
        Figure(
            f"crawl peak RSS, crawl + workers, {label}",
            got["tree"],
            "MB",
            "≤ 400 MB, within 10% of empty",
            f"{empty['tree']:.0f} MB empty ({tree_change:+.0f}%)",
        ),
        Figure(
            f"crawl peak RSS, crawl process, {label}",
            got["own"],
            "MB",
            "within 10% of empty",
            f"{empty['own']:.0f} MB empty ({own_change:+.0f}%)",
        ),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000", help="archive sizes besides empty, comma-separated")
    parser.add_argument("--runs", type=int, default=2, help="crawls per archive size")
    parser.add_argument("--archives", type=Path, help="where built archives are kept (default: a temp dir)")
    parser.add_argument("--days", type=float, default=365.0, help="the span of the built archives")
    parser.add_argument("--root", type=Path, default=ROOT, help="the tree whose code crawls")
    parser.add_argument("--once", action="store_true", help="one crawl, one JSON line")
    parser.add_argument("--db", type=Path, help="--once: the archive to crawl into")
    parser.add_argument("--empty", action="store_true", help="--once: into a new, empty archive")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.once:
        if bool(args.db) == args.empty:
            parser.error("--once needs either --db ARCHIVE or --empty")
        with tempfile.TemporaryDirectory() as tmp:
            run = once(root, args.db or Path(tmp) / "empty.db")
        print(
            json.dumps(
                {"first_request_s": round(run.first_request, 3), "seconds": round(run.seconds, 2)}
                | {"peak_tree_mb": round(run.peak_tree_mb, 1), "peak_own_mb": round(run.peak_own_mb, 1)}
                | {"returncode": run.returncode, **run.extra}
            )
        )
        return 0 if run.returncode in (0, 1) else 1
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip() and int(s)]
    except ValueError:
        parser.error(f"--sizes: whole numbers separated by commas, got {args.sizes!r}")
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.archives or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        empty: dict[str, float] | None = None
        for size in [0, *sizes]:
            runs = []
            for attempt in range(args.runs):
                db = Path(tmp) / f"empty-{attempt}.db" if size == 0 else archive(size, folder, args.days)
                runs.append(once(root, db))
                print(f"{size:,} stored, crawl {attempt + 1}: {runs[-1]}", file=sys.stderr, flush=True)
            figures += figures_for(size, runs, empty)
            empty = empty or summary(runs)
    where = "" if root == ROOT else f" (code of {args.root})"
    print(f"crawl start-up and memory against the archive's size{where}")
    print(table(figures))
    save(figures, "crawl_startup" if root == ROOT else "crawl_startup_before")
    return 0


if __name__ == "__main__":
    sys.exit(main())
