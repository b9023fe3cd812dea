"""The ``monitor`` command: a thin layer over the package's functions and the ``news`` spider."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from monitor.classify import RulesError, classify, load_rules
from monitor.extract import NotAnArticle, extract_article
from monitor.sources import SourcesError, load_sources, select
from monitor.storage import Storage, StorageError

COLUMNS = ("discovered", "fetched", "stored", "flagged", "failed", "skipped")
EXIT_OK, EXIT_SOME_FAILED, EXIT_NOTHING_RAN = 0, 1, 2


def _fail(message: str, code: int = EXIT_NOTHING_RAN) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def run_spider(
    db: str, sources_file: str | None, source: str | None, settings: dict[str, Any], verbose: bool
) -> None:
    """Run the ``news`` spider in this process (Scrapy's reactor runs once per process)."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "monitor.settings")
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

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
    process.crawl(crawler, source=source)
    process.start()
    internal = crawler.stats.get_value("spider_exceptions/count", 0) if crawler.stats else 0
    if internal:
        where = project.get("LOG_FILE") or "the log above"
        click.echo(f"warning: {internal} page(s) hit an internal error in the spider; see {where}", err=True)


def summarize(db: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The latest run's per-source rows and the flagged stories, from the database."""
    storage = Storage(db)
    try:
        run_id = storage.latest_run_id()
        rows = storage.run_summary(run_id) if run_id else []
        return rows, storage.flagged()
    finally:
        storage.close()


def print_summary(rows: list[dict[str, Any]], flagged: list[dict[str, Any]]) -> None:
    width = max([len("outlet"), *(len(r["source"]) for r in rows)])
    click.echo(f"{'outlet':<{width}}  " + "  ".join(f"{c:>10}" for c in COLUMNS))
    for row in rows:
        click.echo(f"{row['source']:<{width}}  " + "  ".join(f"{row[c]:>10}" for c in COLUMNS))
    totals = {c: sum(r[c] for r in rows) for c in COLUMNS}
    click.echo(f"{'total':<{width}}  " + "  ".join(f"{totals[c]:>10}" for c in COLUMNS))
    click.echo("")
    click.echo(f"Flagged peace-talk stories ({len(flagged)}), newest first:")
    for story in flagged:
        published = (story["published"] or "????-??-??T??:??")[:16].replace("T", " ")
        click.echo(f"  {published}  {story['outlet']:<{width}}  {story['title']}")


def source_problems(rows: list[dict[str, Any]]) -> list[str]:
    """One line per source that had problems; an unreachable one says so."""
    lines = []
    for row in rows:
        errors = json.loads(row.get("errors") or "[]")
        if not row["failed"] or not errors:
            continue
        if row["fetched"] == 0 and row["discovered"] == 0:
            lines.append(f"{row['source']}: unreachable or empty — {errors[0]}")
        else:
            lines.append(f"{row['source']}: {row['failed']} failed request(s) — first: {errors[0]}")
    return lines


def _check_config(sources_file: str | None, source: str | None, rules_file: str | None) -> None:
    try:
        select(load_sources(sources_file), source)
        load_rules(rules_file)
    except (SourcesError, RulesError) as exc:
        _fail(str(exc))


def _settings_pairs(pairs: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        if "=" not in pair:
            _fail(f"-s expects NAME=VALUE, got {pair!r}")
        key, value = pair.split("=", 1)
        settings[key.strip()] = value
    return settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Monitor Polish news for Ukraine–Russia peace-talk stories."""


@main.command()
@click.option("--db", default="data/monitor.db", show_default=True, help="SQLite archive to write.")
@click.option("--source", help="Only these outlets (comma-separated names from sources.toml).")
@click.option("--sources", "sources_file", help="Your own sources.toml (default: the packaged one).")
@click.option("--rules", "rules_file", help="Your own rules file (default: the packaged one).")
@click.option("-s", "--set", "pairs", multiple=True, help="Any Scrapy or MONITOR_* setting, NAME=VALUE.")
@click.option("-v", "--verbose", is_flag=True, help="Scrapy's log on stderr instead of <db>.log.")
def crawl(
    db: str,
    source: str | None,
    sources_file: str | None,
    rules_file: str | None,
    pairs: tuple[str, ...],
    verbose: bool,
) -> None:
    """Crawl the real outlets into the archive.

    Exit status: 0 every source fine, 1 some sources failed, 2 nothing could run (configuration error, or every
    source failed).
    """
    _check_config(sources_file, source, rules_file)
    settings = _settings_pairs(pairs)
    if rules_file:
        settings["MONITOR_RULES"] = rules_file
    try:
        run_spider(db, sources_file, source, settings, verbose)
        rows, flagged = summarize(db)
    except StorageError as exc:
        _fail(str(exc))
    print_summary(rows, flagged)
    problems = source_problems(rows)
    for line in problems:
        click.echo(line, err=True)
    broken = [r for r in rows if r["failed"] and r["fetched"] == 0]
    if rows and len(broken) == len(rows):
        sys.exit(EXIT_NOTHING_RAN)
    sys.exit(EXIT_SOME_FAILED if problems else EXIT_OK)


@main.command()
@click.option("--db", default="data/demo.db", show_default=True, help="SQLite archive to write.")
@click.option(
    "--sites", type=click.Path(exists=True, file_okay=False), help="Fixture sites (default: fixtures/sites)."
)
@click.option("-v", "--verbose", is_flag=True, help="Scrapy's log on stderr instead of <db>.log.")
def demo(db: str, sites: str | None, verbose: bool) -> None:
    """Crawl the offline fixture mirror on loopback with the real spider, and show what was flagged."""
    from monitor.mirror import Mirror, default_sites_dir, load_sites

    root = Path(sites) if sites else default_sites_dir()
    if not root.is_dir():
        _fail(f"{root}: no fixture sites here (run from a clone of the project)")
    with Mirror(load_sites(root)) as mirror:
        sources_file = Path(db).with_suffix(".sources.toml")
        sources_file.parent.mkdir(parents=True, exist_ok=True)
        sources_file.write_text(mirror.sources_toml(), encoding="utf-8")
        click.echo(f"Mirror of {len(mirror.sites)} outlets on {len(mirror.bases)} loopback ports; crawling…")
        settings = {"AUTOTHROTTLE_START_DELAY": 0.0, "DOWNLOAD_DELAY": 0.0, "RETRY_TIMES": 0}
        try:
            run_spider(db, str(sources_file), None, settings, verbose)
            rows, flagged = summarize(db)
        except StorageError as exc:
            _fail(str(exc))
    print_summary(rows, flagged)
    for line in source_problems(rows):
        click.echo(f"  (expected in the demo) {line}")
    click.echo(f"\nDatabase: {db} — try: sqlite3 {db} 'SELECT * FROM peace_talks'")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--url", help="The page's URL (default: file://PATH).")
def extract(paths: tuple[str, ...], url: str | None) -> None:
    """Extract saved pages; print one JSON object per page."""
    status = EXIT_OK
    for path in paths:
        page_url = url or Path(path).resolve().as_uri()
        try:
            article = extract_article(page_url, Path(path).read_bytes())
        except NotAnArticle as exc:
            click.echo(f"{path}: not an article: {exc}", err=True)
            status = EXIT_SOME_FAILED
            continue
        click.echo(json.dumps(article.to_dict(), ensure_ascii=False))
    sys.exit(status)


@main.command(name="classify")
@click.argument("file", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--rules", "rules_file", help="Your own rules file (default: the packaged one).")
def classify_command(file: Any, rules_file: str | None) -> None:
    """Classify JSON lines {"id","title","lead","text"} (stdin when no FILE); print one verdict per line."""
    try:
        ruleset = load_rules(rules_file)
    except RulesError as exc:
        _fail(str(exc))
    for number, line in enumerate(file, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            _fail(f"{getattr(file, 'name', '<stdin>')}:{number}: {exc}")
        verdict = classify(ruleset, record.get("title"), record.get("lead"), record.get("text"))
        out = {"id": record.get("id"), **verdict.to_dict()}
        click.echo(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
