"""Story clustering cost (issue #17), not a test: store flagged and mention articles with and without the
clustering hook, and time `rebuild` over what was stored.

Articles are made of sentences of the labelled corpus (fixtures/corpus positives and mentions), three articles
mixed in each, spread evenly over ``--days`` days: mostly unrelated texts, so most stay alone and every article
is compared with every open story (the dear case). Run it under farm-bench with and without ``--no-stories``:

    farm-bench -n 3 --timeout 900 -- .venv/bin/python bench/bench_stories.py --articles 3000 \
        --vs '.venv/bin/python bench/bench_stories.py --articles 3000 --no-stories'

(the difference, over the articles, is what clustering adds to a crawl), and ``--rebuild`` prints the time of a
rebuild of what was stored. ``--db PATH`` keeps the archive (``--no-stories``: no stories in it), for timing
``monitor stories rebuild --db PATH`` under farm-bench; 100,000 articles over 365 days are as many flagged and
mention articles as a year of the crawl over 2 million articles holds (``bench/make_archive.py``: about 5%):

    .venv/bin/python bench/bench_stories.py --articles 100000 --days 365 --no-stories --db data/stories-100k.db
    farm-bench -n 3 --timeout 1800 -- .venv/bin/monitor stories rebuild --db data/stories-100k.db

``--figures`` (what ``make bench`` runs) takes both figures in one process and keeps them in bench/results.json:
what clustering adds per article (``--articles`` stored without the hook, then with it), and a rebuild of
``--rebuild-articles`` at the density of 100,000 a year, its time also given per 100,000 articles (the work per
article is the same at the same density: each is compared with the stories of the same window).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from os import cpu_count
from pathlib import Path

from figures import Figure, save, table

from monitor.archive import Storage
from monitor.archive.story_index import StoryIndex
from monitor.archive.story_rebuild import rebuild
from monitor.extract import Article
from monitor.rules import Match, Verdict

ROOT = Path(__file__).resolve().parent.parent
OUTLETS = ["interia", "onet", "rmf24", "tvn24", "wp", "rp", "polsatnews", "gazeta", "dziennik", "wprost"]


def sentences() -> list[tuple[list[str], list[str]]]:
    """(article sentences, entity ids) of the corpus's positives and mentions."""
    found = []
    for name in ("positives.jsonl", "mentions.jsonl"):
        for line in (ROOT / "fixtures" / "corpus" / name).read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            text = " ".join(filter(None, (item.get("title"), item.get("lead"), item.get("text"))))
            parts = [s for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 20]
            entities = sorted({w.lower()[:6] for w in re.findall(r"\b[A-ZŁŚŻ][a-ząćęłńóśźż]{4,}", text)})[:8]
            found.append((parts, entities))
    return found


def store(db: Path, articles: int, days: float, batch: int = 25, seed: int = 1) -> float:
    """Store ``articles`` flagged and mention articles spread over ``days`` days; the seconds it took (wall)."""
    rng = random.Random(seed)
    pool = sentences()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(days=days) / max(1, articles)
    began = time.perf_counter()
    with Storage(db) as storage:
        for first in range(0, articles, batch):
            rows = []
            for n in range(first, min(articles, first + batch)):
                mixed = rng.sample(pool, 3)
                parts = [s for item, _e in mixed for s in rng.sample(item, min(4, len(item)))]
                entities = sorted({e for _p, es in mixed for e in es})[:10]
                published = (start + step * n).isoformat(timespec="seconds")
                text = " ".join(parts[1:])
                article = Article(
                    url=f"https://example.pl/{n}",
                    canonical_url=f"https://example.pl/{n}",
                    title=parts[0][:120],
                    authors=[],
                    published=published,
                    published_source="bench",
                    modified=None,
                    date_candidates=[],
                    lead=None,
                    text=text,
                    language="pl",
                    paywalled=False,
                    words=len(text.split()),
                )
                matches = [
                    Match("r", "g", e, "body", i * 10, i * 10 + 5, e, e) for i, e in enumerate(entities)
                ]
                relevance = "primary" if n % 3 else "mention"
                rows.append((OUTLETS[n % len(OUTLETS)], article, Verdict(relevance, 9.0, "bench", matches)))
            storage.store_batch(rows)
    return time.perf_counter() - began


def timed_rebuild(db: Path) -> tuple[int, int, float]:
    """Rebuild the stories of an archive: articles, stories, wall seconds."""
    with Storage(db) as storage, storage.conn:
        done = rebuild(storage.conn)
    return done.articles, done.stories, done.seconds


def figures(articles: int, days: float, rebuilt: int) -> list[Figure]:
    """Both figures of ``make bench`` (see the module's docstring)."""
    place = StoryIndex.place
    with tempfile.TemporaryDirectory() as folder:
        StoryIndex.place = lambda self, conn, ids, computed=None: []  # type: ignore[method-assign,assignment,misc]
        try:
            without = store(Path(folder) / "without.db", articles, days)
            density = store(Path(folder) / "rebuild.db", rebuilt, rebuilt * 365 / 100_000)
        finally:
            StoryIndex.place = place  # type: ignore[method-assign]
        clustered = store(Path(folder) / "with.db", articles, days)
        count, stories, seconds = timed_rebuild(Path(folder) / "rebuild.db")
    print(f"stored {rebuilt} articles without stories in {density:.1f} s", file=sys.stderr)
    return [
        Figure(
            f"stories: clustering adds per article stored ({articles:,} articles, {articles / days:.0f} a day)",
            1000 * (clustered - without) / articles,
            "ms",
            "≤ 5 ms",
            f"{1000 * without / articles:.2f} ms stored without clustering",
        ),
        Figure(
            f"stories rebuild, {count:,} articles at {100_000 / 365:.0f} a day ({stories:,} stories)",
            seconds,
            "s",
            "",
            f"{cpu_count()} cores",
        ),
        Figure(
            "stories rebuild, per 100,000 articles at that density", seconds * 100_000 / count, "s", "≤ 120 s"
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument(
        "--days", type=float, default=10.0, help="the articles are spread over this many days"
    )
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--no-stories", action="store_true", help="the baseline: no clustering hook")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rebuild", action="store_true", help="then time a rebuild of what was stored")
    parser.add_argument("--db", type=Path, help="write the archive here and keep it (must not exist)")
    parser.add_argument(
        "--figures", action="store_true", help="both figures, into bench/results.json (make bench)"
    )
    parser.add_argument("--rebuild-articles", type=int, default=20_000, help="--figures: articles rebuilt")
    args = parser.parse_args()
    if args.figures:
        found = figures(args.articles, args.days, args.rebuild_articles)
        save(found, "stories")
        print(table(found))
        return
    if args.db is not None and args.db.exists():
        parser.error(f"--db: {args.db} exists")
    if args.no_stories:
        StoryIndex.place = lambda self, conn, ids, computed=None: []  # type: ignore[method-assign,assignment,misc]
    with tempfile.TemporaryDirectory() as folder:
        db = args.db or Path(folder) / "bench.db"
        stored = store(db, args.articles, args.days, args.batch, args.seed)
        print(
            f"stored {args.articles} articles in {stored:.2f} s ({1000 * stored / args.articles:.2f} ms each)"
        )
        if args.rebuild:
            count, stories, seconds = timed_rebuild(db)
            print(f"rebuild: {count} articles, {stories} stories, {seconds:.2f} s")


if __name__ == "__main__":
    main()
