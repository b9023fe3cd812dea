"""``monitor crawl`` and ``monitor demo``: run the ``news`` spider in this process and print the run's summary."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from monitor.archive import Storage, StorageError
from monitor.cli.common import EXIT_NOTHING_RAN, EXIT_OK, EXIT_SOME_FAILED, fail
from monitor.discovery.sources import SourcesError, load_sources, select
from monitor.rules import RulesError, load_rules

# Each discovered article URL is in exactly one of new, updated, unchanged, skipped and failed (they add up to
# discovered); feeds_failed counts feeds, sitemaps and section pages, flagged the stored peace-talk stories.
COLUMNS = (
    "discovered",
    "new",
    "updated",
    "unchanged",
    "skipped",
    "failed",
    "feeds_failed",
    "flagged",
    "seconds",
)
OUTCOMES = ("new", "updated", "unchanged", "skipped", "failed")


class CrawlNotStarted(RuntimeError):
    """The crawl failed before its first request (a bad setting, a component that cannot load); one line."""


def run_spider(
    db: str, sources_file: str | None, source: str | None, settings: dict[str, Any], verbose: bool
) -> dict[str, Any]:
    """Run the ``news`` spider in this process (Scrapy's reactor runs once per process); return its stats.

    Raises :class:`CrawlNotStarted` when the crawl could not start, and :class:`StorageError` when the archive
    could not be written and the run stopped.
    """
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "monitor.settings")
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from monitor.cli.settings_check import culprit

    project = get_project_settings()
    project.set("MONITOR_DB", db, priority="cmdline")
    if sources_file:
        project.set("MONITOR_SOURCES", sources_file, priority="cmdline")
    if not verbose:
        log_file = Path(db).with_suffix(".log")
        log_file.parent.mkdir(parents=True, exist_ok=True)
        project.set("LOG_FILE", str(log_file), priority="cmdline")
        project.set("LOG_FILE_APPEND", True, priority="cmdline")
    for key, value in settings.items():
        project.set(key, value, priority="cmdline")
    process = CrawlerProcess(project)
    crawler = process.create_crawler("news")
    failures: list[Any] = []
    process.crawl(crawler, source=source).addErrback(failures.append)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    if failures:
        error = failures[0].value
        name = culprit(error, settings)
        where = f" (-s {name}={settings[name]})" if name else ""
        text = " ".join(str(error).split()) or type(error).__name__
        raise CrawlNotStarted(f"the crawl could not start{where}: {type(error).__name__}: {text}")
    internal = stats.get("spider_exceptions/count", 0)
    if internal:
        where = project.get("LOG_FILE") or "the log above"
        click.echo(f"warning: {internal} page(s) hit an internal error in the spider; see {where}", err=True)
    if stats.get("monitor/storage_error"):
        raise StorageError(
            f"the run stopped: {stats['monitor/storage_error']}; everything stored before is kept"
        )
    return stats


def summarize(
    db: str, run_id: int | None, silent_after: int = 3
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """This run's per-source rows, the flagged stories and the outlets silent for ``silent_after`` runs."""
    storage = Storage(db)
    try:
        rows = storage.run_summary(run_id) if run_id else []
        return rows, storage.flagged(), storage.silent_sources(silent_after)
    finally:
        storage.close()


def _cell(row: dict[str, Any], column: str) -> str:
    value = row.get("duration") if column == "seconds" else row.get(column)
    if value is None:
        return "-"
    return f"{value:.0f}" if isinstance(value, float) else str(value)


def print_summary(rows: list[dict[str, Any]], flagged: list[dict[str, Any]]) -> None:
    """Per outlet: articles discovered; what became of each (stored new, updated, unchanged or not fetched
    again, skipped as not an article or refused by robots.txt, failed); failed feeds, sitemaps and section
    pages; flagged stories and seconds; then the flagged stories."""
    width = max([len("outlet"), *(len(r["source"]) for r in rows)])
    widths = {c: max(10, len(c)) for c in COLUMNS}
    click.echo(f"{'outlet':<{width}}  " + "  ".join(f"{c:>{widths[c]}}" for c in COLUMNS))
    for row in rows:
        cells = "  ".join(f"{_cell(row, c):>{widths[c]}}" for c in COLUMNS)
        click.echo(f"{row['source']:<{width}}  {cells}")
    totals = {c: sum(int(r.get(c) or 0) for r in rows) for c in COLUMNS if c != "seconds"}
    click.echo(f"{'total':<{width}}  " + "  ".join(f"{totals.get(c, ''):>{widths[c]}}" for c in COLUMNS))
    click.echo("")
    click.echo(f"Flagged peace-talk stories ({len(flagged)}), newest first:")
    for story in flagged:
        published = (story["published"] or "????-??-??T??:??")[:16].replace("T", " ")
        click.echo(f"  {published}  {story['outlet']:<{width}}  {story['title']}")


def print_stories(db: str) -> None:
    """The stories behind the flagged articles (one line each: first seen, outlets, headline)."""
    from datetime import UTC, datetime

    from monitor.archive import open_for_reading
    from monitor.archive.brief import brief_stories, local

    database = open_for_reading(db)
    try:
        stories = brief_stories(database.conn, datetime(1970, 1, 1, tzinfo=UTC), limit=100)
    finally:
        database.conn.close()
    click.echo(f"\nStories ({len(stories)}): the same event on several outlets is one story (monitor brief):")
    for story in stories:
        outlets = f"{story['outlets']} outlet{'s' if story['outlets'] != 1 else ''}"
        click.echo(f"  {local(story['first_seen'])}  {outlets:<10}  {story['headline']}")


def unaccounted(row: dict[str, Any]) -> int:
    """Discovered article URLs of a row with no outcome: requests still queued when the run stopped early."""
    return int(row.get("discovered") or 0) - sum(int(row.get(c) or 0) for c in OUTCOMES)


def source_problems(rows: list[dict[str, Any]]) -> list[str]:
    """One line per source that had problems; an unreachable one says so."""
    lines = []
    for row in rows:
        errors = json.loads(row.get("errors") or "[]")
        failures = int(row.get("failed") or 0) + int(row.get("feeds_failed") or 0)
        if not failures or not errors:
            continue
        if row["fetched"] == 0 and row["discovered"] == 0:
            lines.append(f"{row['source']}: unreachable or empty — {errors[0]}")
        else:
            lines.append(f"{row['source']}: {failures} failed request(s) — first: {errors[0]}")
    return lines


def check_config(sources_file: str | None, source: str | None, rules_file: str | None) -> None:
    try:
        select(load_sources(sources_file), source)
        load_rules(rules_file)
    except (SourcesError, RulesError) as exc:
        fail(str(exc))


def full_check(settings: dict[str, str]) -> bool:
    """``MONITOR_FULL_CHECK`` as the crawl will read it: given with ``-s``, else the project's settings."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "monitor.settings")
    from scrapy.utils.project import get_project_settings

    project = get_project_settings()
    project.setdict(settings, priority="cmdline")
    return project.getbool("MONITOR_FULL_CHECK")


def settings_pairs(pairs: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        if "=" not in pair:
            fail(f"-s expects NAME=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        settings[key.strip()] = value
    return settings


@click.command()
@click.option("--db", default="data/monitor.db", show_default=True, help="SQLite archive to write.")
@click.option("--source", help="Only these outlets (comma-separated names from sources.toml).")
@click.option("--sources", "sources_file", help="Your own sources.toml (default: the packaged one).")
@click.option("--rules", "rules_file", help="Your own rules file (default: the packaged one).")
@click.option("-s", "--set", "pairs", multiple=True, help="Any Scrapy or MONITOR_* setting, NAME=VALUE.")
@click.option("-v", "--verbose", is_flag=True, help="Scrapy's log on stderr instead of <db>.log.")
@click.option("--wait", is_flag=True, help="If another run holds the lock, wait for it instead of exiting.")
def crawl(
    db: str,
    source: str | None,
    sources_file: str | None,
    rules_file: str | None,
    pairs: tuple[str, ...],
    verbose: bool,
    wait: bool,
) -> None:
    """Crawl the real outlets into the archive.

    Safe to run from cron: a lock file (<db>.lock) keeps a second overlapping run out — it prints one line and exits
    0, or waits with --wait; a lock left by a killed run is taken over.

    Exit status: 0 every source fine, 1 some sources failed, 2 nothing could run (configuration error, or every
    source failed).
    """
    from monitor.archive import check_writable
    from monitor.cli.settings_check import check_values
    from monitor.extensions.runlock import REFUSED, REFUSED_BY

    check_config(sources_file, source, rules_file)
    settings = settings_pairs(pairs)
    for problem in check_values(settings)[:1]:
        fail(problem)
    try:
        check_writable(db, full=full_check(settings))
    except StorageError as exc:
        fail(str(exc))
    settings["MONITOR_FULL_CHECK"] = (
        "False"  # done: the run's writer finds the archive as it was just checked
    )
    if rules_file:
        settings["MONITOR_RULES"] = rules_file
    if wait:
        settings["MONITOR_LOCK_WAIT"] = "True"
    try:
        stats = run_spider(db, sources_file, source, settings, verbose)
    except (StorageError, CrawlNotStarted) as exc:
        fail(str(exc))
    if stats.get(REFUSED):  # the run lock: another run holds it (not an error for cron), or no lock file
        if stats.get(REFUSED_BY) == "held":
            click.echo(stats[REFUSED])
            sys.exit(EXIT_OK)
        fail(stats[REFUSED])
    run_id = stats.get("monitor/run_id")
    if not run_id:
        fail("the crawl stopped before it started a run; see the log")
    rows, flagged, silent = summarize(db, run_id, int(settings.get("MONITOR_SILENT_RUNS", 3)))
    print_summary(rows, flagged)
    problems = source_problems(rows) + [
        f"{row['source']}: {unaccounted(row)} discovered article(s) not fetched: the run stopped early"
        for row in rows
        if unaccounted(row) > 0
    ]
    for line in problems:
        click.echo(line, err=True)
    for name in silent:
        click.echo(
            f"{name}: silent — nothing discovered in the last {settings.get('MONITOR_SILENT_RUNS', 3)} runs",
            err=True,
        )
    broken = [r for r in rows if (r["failed"] or r.get("feeds_failed")) and r["fetched"] == 0]
    if rows and len(broken) == len(rows):
        sys.exit(EXIT_NOTHING_RAN)
    sys.exit(EXIT_SOME_FAILED if problems else EXIT_OK)


@click.command()
@click.option("--db", default="data/demo.db", show_default=True, help="SQLite archive to write.")
@click.option(
    "--sites", type=click.Path(exists=True, file_okay=False), help="Fixture sites (default: fixtures/sites)."
)
@click.option("-v", "--verbose", is_flag=True, help="Scrapy's log on stderr instead of <db>.log.")
def demo(db: str, sites: str | None, verbose: bool) -> None:
    """Crawl the offline fixture mirror on loopback with the real spider, and show what was flagged."""
    from monitor.devtools.mirror import Mirror, default_sites_dir, load_sites

    root = Path(sites) if sites else default_sites_dir()
    if not root.is_dir():
        fail(
            f"{root}: the demo's fixture mirror is not installed with the package; in a clone of the project "
            "run `make demo`, or give --sites DIR"
        )
    # The mirror listens on new ports each time, so its URLs differ between runs: start from a fresh database.
    for leftover in (Path(db), Path(f"{db}-wal"), Path(f"{db}-shm")):
        leftover.unlink(missing_ok=True)
    with Mirror(load_sites(root)) as mirror:
        sources_file = Path(db).with_suffix(".sources.toml")
        sources_file.parent.mkdir(parents=True, exist_ok=True)
        sources_file.write_text(mirror.sources_toml(), encoding="utf-8")
        click.echo(f"Mirror of {len(mirror.sites)} outlets on {len(mirror.bases)} loopback ports; crawling…")
        settings = {"AUTOTHROTTLE_START_DELAY": 0.0, "DOWNLOAD_DELAY": 0.0, "RETRY_TIMES": 0}
        try:
            stats = run_spider(db, str(sources_file), None, settings, verbose)
            rows, flagged, _silent = summarize(db, stats.get("monitor/run_id"))
        except (StorageError, CrawlNotStarted) as exc:
            fail(str(exc))
    print_summary(rows, flagged)
    for line in source_problems(rows):
        click.echo(f"  (expected in the demo) {line}")
    print_stories(db)
    click.echo(f"\nDatabase: {db} — try: sqlite3 {db} 'SELECT * FROM peace_talks'")


def register(group: click.Group) -> None:
    group.add_command(crawl)
    group.add_command(demo)
