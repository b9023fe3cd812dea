"""Extraction CPU time per page against plain trafilatura, measured in the same run on the same pages.

Target (issue #12): this extractor at or below plain ``trafilatura.bare_extraction`` (ratio ≤ 1.0) on the golden
pages, the extraction-case pages and, when ../shared is there, the real pages. Run: ``python bench/bench_extract.py``
(or ``make bench``); for figures to quote, compare the two extractors as whole processes with farm-bench:

    farm-bench -n 7 -- .venv/bin/python bench/bench_extract.py --only monitor \
        --vs '.venv/bin/python bench/bench_extract.py --only trafilatura'
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.devtools.eval_extraction import MECHANISMS, golden_cases, realpage_cases  # noqa: E402
from monitor.extract import NotAnArticle, extract_article  # noqa: E402


def cpu(fn: Callable[[], object], repeat: int) -> float:
    best = []
    for _ in range(repeat):
        started = time.process_time()
        fn()
        best.append(time.process_time() - started)
    return statistics.median(best)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only",
        choices=("monitor", "trafilatura"),
        help="run one extractor over the pages (--rounds times) and print nothing: for farm-bench --vs",
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    cases = golden_cases() + golden_cases(MECHANISMS) + realpage_cases()
    repeat = 5

    def ours() -> None:
        for case in cases:
            with contextlib.suppress(NotAnArticle):
                extract_article(
                    case.url,
                    case.body,
                    content_type=case.content_type,
                    fetched_at=case.fetched_at,
                    min_words=0,
                )

    def plain() -> None:
        for case in cases:
            trafilatura.bare_extraction(case.body, url=case.url, with_metadata=True)

    if args.only:
        for _ in range(args.rounds):
            (ours if args.only == "monitor" else plain)()
        return 0
    ours()  # warm up caches, langdetect profiles
    plain()
    t_ours, t_plain = cpu(ours, repeat), cpu(plain, repeat)
    n = len(cases)
    print(f"pages: {n}")
    print(f"plain trafilatura: {1000 * t_plain / n:.1f} ms CPU per page")
    print(f"monitor extract:   {1000 * t_ours / n:.1f} ms CPU per page")
    print(f"ratio: {t_ours / t_plain:.2f}× (target ≤ 1.00×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
