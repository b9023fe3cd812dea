"""Archive benchmarks (``make bench``; not a test): upserts per second with FTS, bm25 latency, size on disk.

Synthetic articles are drawn from the words of the labelled corpus (``fixtures/corpus``) with a Zipf-like
distribution, so term frequencies look like news text. Figures are printed, with the baseline measured in the
same run (a plain INSERT of the same rows into a table without FTS, triggers or links), because the machine's
speed varies more than the code's.

    python bench/bench_archive.py [--articles 100000] [--chars 3000] [--batch 500]
        [--scale 1000000] [--scale-days 365] [--rescore-seconds 60] [--keep DIR]
    python bench/bench_archive.py --no-upserts --archive PATH [--rescore-seconds 0] [--prune]

Then, at ``--scale`` articles (0: not at all), a year of crawls built by bench/make_archive.py: build rate, size
against the raw text, search latency in both orders, rescore with 1 and 2 processes, size after prune and VACUUM
(``bench/scale.py``; figures also in bench/results.json). ``--archive PATH`` measures an archive built before
(e.g. ``make_archive.py --articles 5000000``) instead of building one: size and search, rescore when
``--rescore-seconds`` is not 0, prune and VACUUM with ``--prune`` (irreversible: bodies are dropped).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path

from monitor.archive import FTS_SETTINGS, Storage
from monitor.archive.derived import derive
from monitor.archive.search import search
from monitor.extract import Article
from monitor.rules import Match, Verdict

ROOT = Path(__file__).resolve().parent.parent
QUERIES = (
    "witkoff putin",
    "zelenski",
    "rozmowy pokojowe",
    '"gwarancje bezpieczenstwa"',
    "kreml OR kijow",
    "polska",
)


def vocabulary() -> list[str]:
    words: dict[str, int] = {}
    for file in sorted((ROOT / "fixtures" / "corpus").glob("*.jsonl")):
        for line in file.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            for field in ("title", "lead", "text"):
                for word in (record.get(field) or "").split():
                    words[word] = words.get(word, 0) + 1
    return [w for w, _n in sorted(words.items(), key=lambda item: (-item[1], item[0]))]


# Stems of the peace-talk vocabulary: only TOPIC_SHARE of the synthetic articles use them, as in a news archive
# where most stories are about something else.
TOPIC_STEMS = (
    "witkoff",
    "putin",
    "zelensk",
    "zełensk",
    "kreml",
    "kijow",
    "kijów",
    "pieskow",
    "rozmow",
    "rozmów",
    "negocj",
    "pokoj",
    "rozejm",
    "gwaranc",
    "ukrain",
    "rosj",
    "moskw",
    "kushner",
    "dmitrijew",
    "umierow",
    "ławrow",
    "trump",
)
TOPIC_SHARE = 0.1
# Articles are published in the order they are stored, at the Polish press's rate (15,000-20,000 a day), so a
# batch of 500 spans about 40 minutes, as a crawl's batches do: the story placement reads the weeks around them.
PER_DAY = 17_500
START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def articles(count: int, chars: int, seed: int = 5) -> Iterator[tuple[str, Article, Verdict]]:
    rng = random.Random(seed)
    topic = vocabulary()
    general = [w for w in topic if not w.lower().lstrip('„"(').startswith(TOPIC_STEMS)]
    cumulative = {id(v): list(accumulate(1 / (rank + 1) for rank in range(len(v)))) for v in (topic, general)}
    outlets = ("pap", "onet", "wp", "interia", "tvn24", "rmf24", "rp", "polsatnews")
    for i in range(count):
        flagged = rng.random() < TOPIC_SHARE
        vocab = topic if flagged else general
        cum = cumulative[id(vocab)]
        body = " ".join(rng.choices(vocab, cum_weights=cum, k=chars // 7))[:chars]
        title = " ".join(rng.choices(vocab, cum_weights=cum, k=9))
        lead = " ".join(rng.choices(vocab, cum_weights=cum, k=30))
        url = f"https://example-{i % len(outlets)}.pl/wiadomosci/{i}"
        article = Article(
            url=url,
            canonical_url=url,
            title=title,
            authors=["Redakcja"],
            published=(START + timedelta(seconds=i * 86_400 / PER_DAY)).isoformat(timespec="seconds"),
            published_source="jsonld:datePublished",
            modified=None,
            date_candidates=[],
            lead=lead,
            text=body,
            language="pl",
            paywalled=False,
            words=len(body.split()),
            fetched_at="2026-11-25T10:00:00+00:00",
        )
        matches = [Match("talks", "talks", "rozmow*", "body", 0, 7, "[rozmowy]")] if flagged else []
        relevance = "primary" if flagged else "none"
        yield (
            outlets[i % len(outlets)],
            article,
            Verdict(relevance, 9.0 if flagged else 0.0, "bench", matches),
        )


def raw_bytes(rows: list[tuple[str, Article, Verdict]]) -> int:
    return sum(
        len((a.title or "").encode()) + len((a.lead or "").encode()) + len(a.text.encode())
        for _s, a, _v in rows
    )


def baseline(rows: list[tuple[str, Article, Verdict]], path: Path) -> float:
    """Plain INSERTs of the same texts into a bare table: the speed of this machine's SQLite today."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, url TEXT UNIQUE, title TEXT, lead TEXT, text TEXT)")
    start = time.perf_counter()
    with conn:
        conn.executemany(
            "INSERT INTO t (url, title, lead, text) VALUES (?, ?, ?, ?)",
            [(a.canonical_url, a.title, a.lead, a.text) for _s, a, _v in rows],
        )
    elapsed = time.perf_counter() - start
    conn.close()
    return len(rows) / elapsed


def fts_alone(rows: list[tuple[str, Article, Verdict]], path: Path, batch: int) -> float:
    """The same texts into a bare contentless FTS5 table (same tokenizer and settings, nothing else): the ceiling
    this machine's SQLite puts on any upsert that keeps a full-text index."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute(
        "CREATE VIRTUAL TABLE f USING fts5 (title, lead, text, content='', "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    for key, value in FTS_SETTINGS.items():
        conn.execute(f"INSERT INTO f (f, rank) VALUES ('{key}', {value})")
    start = time.perf_counter()
    for i in range(0, len(rows), batch):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO f (rowid, title, lead, text) VALUES (?, ?, ?, ?)",
            [(i + k + 1, a.title, a.lead, a.text) for k, (_s, a, _v) in enumerate(rows[i : i + batch])],
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return len(rows) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--chars", type=int, default=3000, help="body characters per article")
    parser.add_argument("--batch", type=int, default=500, help="articles per transaction")
    parser.add_argument(
        "--scale", type=int, default=1_000_000, help="articles of the year-long archive (0: skip)"
    )
    parser.add_argument("--scale-days", type=float, default=365.0)
    parser.add_argument("--rescore-seconds", type=float, default=60.0, help="how long each rescore is timed")
    parser.add_argument("--keep", type=Path, help="build the year-long archive in this folder and keep it")
    parser.add_argument("--no-upserts", action="store_true", help="only the year-long archive")
    parser.add_argument(
        "--archive", type=Path, help="measure this archive (built before) instead of building one"
    )
    parser.add_argument("--prune", action="store_true", help="--archive: prune it and VACUUM (drops bodies)")
    args = parser.parse_args()
    if args.archive and not args.archive.is_file():
        parser.error(f"--archive: {args.archive}: no such file")
    if args.prune and not args.archive:
        parser.error("--prune: only with --archive (a built archive is always pruned)")
    if not args.no_upserts:
        upserts(args)
    if args.archive:
        from scale import run_built

        run_built(args.archive, args.rescore_seconds, prune=args.prune)
    elif args.scale:
        from scale import run_scale

        run_scale(args.scale, args.scale_days, args.rescore_seconds, args.keep)


def upserts(args: argparse.Namespace) -> None:
    """Upserts per second with FTS, re-fetches, bm25 latency and size at ``--articles`` (issue #5)."""

    with tempfile.TemporaryDirectory() as tmp:
        rows = list(articles(args.articles, args.chars))
        raw = raw_bytes(rows)
        base = baseline(rows[: min(len(rows), 20_000)], Path(tmp) / "baseline.db")
        began = time.process_time()
        ceiling = fts_alone(rows, Path(tmp) / "fts.db", args.batch)
        ceiling_cpu = time.process_time() - began
        (Path(tmp) / "fts.db").unlink()

        # The writer deriving the wire sketches and story features itself (as every writer did before #15, and as
        # it still does for an item without them), then given them as a crawl's extraction workers derive them.
        began = time.process_time()
        derived = [derive(article, verdict) for _s, article, verdict in rows]
        derive_cpu = time.process_time() - began
        alone = Storage(Path(tmp) / "deriving.db")
        began, start = time.process_time(), time.perf_counter()
        for i in range(0, len(rows), args.batch):
            alone.store_batch(rows[i : i + args.batch])
        deriving_s, deriving_cpu = time.perf_counter() - start, time.process_time() - began
        alone.close()
        (Path(tmp) / "deriving.db").unlink()

        path = Path(tmp) / "bench.db"
        storage = Storage(path)
        began, start = time.process_time(), time.perf_counter()
        for i in range(0, len(rows), args.batch):
            storage.store_batch(rows[i : i + args.batch], derived=derived[i : i + args.batch])
        insert_s, insert_cpu = time.perf_counter() - start, time.process_time() - began

        sample = rows[: min(len(rows), 20_000)]
        start = time.perf_counter()
        for i in range(0, len(sample), args.batch):
            storage.store_batch(sample[i : i + args.batch])
        refetch_s = time.perf_counter() - start
        storage.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        storage.close()
        size = path.stat().st_size

        # The same writes without the story placement: the unflagged articles alone (none is clustered).
        kept = [k for k, row in enumerate(rows) if not row[2].flagged]
        plain, plain_derived = [rows[k] for k in kept], [derived[k] for k in kept]
        unclustered = Storage(Path(tmp) / "plain.db")
        start = time.perf_counter()
        for i in range(0, len(plain), args.batch):
            unclustered.store_batch(plain[i : i + args.batch], derived=plain_derived[i : i + args.batch])
        plain_s = time.perf_counter() - start
        unclustered.close()

        conn = sqlite3.connect(path)
        latencies: dict[str, float] = {}
        for query in QUERIES:
            search(conn, query, limit=20)  # warm the page cache once
            times = []
            for _ in range(7):
                start = time.perf_counter()
                search(conn, query, limit=20)
                times.append(time.perf_counter() - start)
            latencies[query] = statistics.median(times) * 1000
        hits = {
            word: conn.execute(
                "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?", [word]
            ).fetchone()[0]
            for word in ("witkoff", "zelenski", "rozmowy", "polska")
        }
        conn.close()

    print(f"articles: {len(rows):,} of ~{args.chars:,} body characters; batches of {args.batch}")
    print(f"baseline (bare INSERT, no FTS):  {base:,.0f} rows/s")
    n = len(rows)
    print(
        f"FTS5 alone (bare contentless index of the same texts, same batches):  {ceiling:,.0f} rows/s, "
        f"{ceiling_cpu / n * 1e6:,.0f} µs of CPU per article"
    )
    print(
        f"new articles, the writer deriving sketches and story features itself (as before #15):  "
        f"{n / deriving_s:,.0f} upserts/s ({n / deriving_s / ceiling:.0%} of the FTS5 ceiling), "
        f"{deriving_cpu / n * 1e6:,.0f} µs of CPU per article ({ceiling_cpu / deriving_cpu:.0%} of the ceiling by CPU)"
    )
    print(
        f"new articles, FTS + revisions + wire-story links:  {n / insert_s:,.0f} upserts/s ({n / insert_s / ceiling:.0%} of the FTS5 ceiling, "
        f"{n / insert_s / base:.2f}× baseline; the sketches and story features given, as a crawl's extraction workers "
        f"derive them), {insert_cpu / n * 1e6:,.0f} µs of CPU per article ({ceiling_cpu / insert_cpu:.0%} of the "
        f"ceiling by CPU); deriving them: "
        f"{derive_cpu / n * 1e6:,.0f} µs of CPU per article"
    )
    print(
        f"new unflagged articles only (no story placement):  {len(plain) / plain_s:,.0f} upserts/s "
        f"({len(plain) / plain_s / ceiling:.0%} of the FTS5 ceiling)"
    )
    print(f"re-fetch of unchanged articles:  {len(sample) / refetch_s:,.0f} upserts/s")
    for query, ms in latencies.items():
        print(f"bm25 search {query!r}: {ms:.1f} ms (median of 7, top 20)")
    print("articles containing: " + ", ".join(f"{word} {n:,}" for word, n in hits.items()))
    print(f"database {size / 1e6:,.1f} MB for {raw / 1e6:,.1f} MB of raw text: {size / raw:.2f}×")


if __name__ == "__main__":
    main()
