"""The ``monitor`` command: a thin layer over the package's functions and the ``news`` spider."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import click

from monitor.classify import RulesError, classify, load_rules
from monitor.extract import NotAnArticle, extract_article
from monitor.sources import SourcesError, load_sources, select
from monitor.storage import Storage, StorageError

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
EXIT_OK, EXIT_SOME_FAILED, EXIT_NOTHING_RAN = 0, 1, 2


def _fail(message: str, code: int = EXIT_NOTHING_RAN) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


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

    from monitor.settings_check import culprit

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


def db_argument(args: list[str], default: str = "data/monitor.db") -> str:
    """The ``--db`` a command line names (the default when it names none)."""
    for index, arg in enumerate(args):
        if arg == "--db" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--db="):
            return arg.removeprefix("--db=")
    return default


class MonitorGroup(click.Group):
    """The ``monitor`` group: a database that fails under any command (damaged pages, text that is not UTF-8)
    is one line naming the file and exit status 2, never a traceback."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        ctx.meta["monitor.args"] = list(args)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StorageError as exc:
            _fail(str(exc))
        except sqlite3.Error as exc:
            db = db_argument(ctx.meta.get("monitor.args", []))
            _fail(f"{db}: cannot use this database: {' '.join(str(exc).split())}")


@click.group(cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Monitor Polish news for Ukraine–Russia peace-talk stories."""


@main.command()
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
    from monitor.runlock import REFUSED, REFUSED_BY
    from monitor.settings_check import check_values
    from monitor.storage import check_writable

    _check_config(sources_file, source, rules_file)
    settings = _settings_pairs(pairs)
    for problem in check_values(settings)[:1]:
        _fail(problem)
    try:
        check_writable(db)
    except StorageError as exc:
        _fail(str(exc))
    if rules_file:
        settings["MONITOR_RULES"] = rules_file
    if wait:
        settings["MONITOR_LOCK_WAIT"] = "True"
    try:
        stats = run_spider(db, sources_file, source, settings, verbose)
    except (StorageError, CrawlNotStarted) as exc:
        _fail(str(exc))
    if stats.get(REFUSED):  # the run lock: another run holds it (not an error for cron), or no lock file
        if stats.get(REFUSED_BY) == "held":
            click.echo(stats[REFUSED])
            sys.exit(EXIT_OK)
        _fail(stats[REFUSED])
    run_id = stats.get("monitor/run_id")
    if not run_id:
        _fail("the crawl stopped before it started a run; see the log")
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
        _fail(
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
            _fail(str(exc))
    print_summary(rows, flagged)
    for line in source_problems(rows):
        click.echo(f"  (expected in the demo) {line}")
    click.echo(f"\nDatabase: {db} — try: sqlite3 {db} 'SELECT * FROM peace_talks'")


@main.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--url", help="The URL a saved page was fetched from (for one file; default: file://PATH).")
def extract(targets: tuple[str, ...], url: str | None) -> None:
    """Extract saved pages or http(s) URLs; print one JSON object per page, one per line.

    Exit status 0 when every page was an article, 1 otherwise (each failure is one line on stderr).
    """
    from monitor.fetch import FetchError, fetch_page

    if url and len(targets) > 1:
        _fail("--url names the address of one saved page; give one file with it")
    status = EXIT_OK
    for target in targets:
        try:
            if target.startswith(("http://", "https://")):
                page = fetch_page(target)
                article = extract_article(page.url, page.body, content_type=page.content_type)
            else:
                path = Path(target)
                article = extract_article(url or path.resolve().as_uri(), path.read_bytes())
        except (FetchError, OSError) as exc:
            message = str(exc) if isinstance(exc, FetchError) else f"{target}: {exc.strerror or exc}"
            click.echo(message, err=True)
            status = EXIT_SOME_FAILED
            continue
        except NotAnArticle as exc:
            click.echo(f"{target}: not an article: {exc}", err=True)
            status = EXIT_SOME_FAILED
            continue
        click.echo(json.dumps(article.to_dict(), ensure_ascii=False))
    sys.exit(status)


TEXT_FIELDS = ("title", "lead", "text")


def classify_input(line: bytes) -> dict[str, Any]:
    """One JSON line of ``monitor classify``'s input: an object whose title, lead and text are strings or null.
    Raises ValueError saying what is wrong."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start + 1})") from None
    record = json.loads(text)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    for name in TEXT_FIELDS:
        if record.get(name) is not None and not isinstance(record[name], str):
            raise ValueError(f"field {name!r} must be a string or null, not {type(record[name]).__name__}")
    return record


@main.command(name="classify")
@click.argument("file", type=click.File("rb"), default="-")
@click.option("--rules", "rules_file", help="Your own rules file (default: the packaged one).")
@click.option(
    "--explain",
    "explain_target",
    metavar="PAGE.html|URL",
    help="Explain the verdict on one saved page or URL (fetched only because you gave it) instead.",
)
def classify_command(file: Any, rules_file: str | None, explain_target: str | None) -> None:
    """Classify JSON lines {"id","title","lead","text","url"} (stdin when no FILE); print one verdict per line.

    A bad line (not JSON, not UTF-8, a field that is not a string) is one error line naming its number; the
    others are still classified. Exit status 0 all lines read, 1 some were bad, 2 none could be read.

    With --explain, print which rules fired on one page, on which words, in which field, with what weight,
    against which threshold.
    """
    try:
        ruleset = load_rules(rules_file)
    except RulesError as exc:
        _fail(str(exc))
    if explain_target:
        from monitor.rules_cli import ExplainError, explain_page

        try:
            click.echo(explain_page(ruleset, explain_target))
        except ExplainError as exc:
            _fail(str(exc))
        return
    name = "<stdin>" if getattr(file, "name", "-") in ("-", "<stdin>") else file.name
    good = bad = 0
    for number, line in enumerate(file, start=1):
        if not line.strip():
            continue
        try:
            record = classify_input(line)
        except ValueError as exc:
            click.echo(f"error: {name}:{number}: {' '.join(str(exc).split())}", err=True)
            bad += 1
            continue
        verdict = classify(ruleset, record.get("title"), record.get("lead"), record.get("text"))
        click.echo(json.dumps({"id": record.get("id"), **verdict.to_dict()}, ensure_ascii=False))
        good += 1
    if bad:
        sys.exit(EXIT_SOME_FAILED if good else EXIT_NOTHING_RAN)


from monitor.rules_cli import register as register_rules  # noqa: E402

register_rules(main)


from monitor.archive_cli import register  # noqa: E402

register(main)

from monitor.ops_cli import register as register_ops  # noqa: E402

register_ops(main)


from monitor.sources_cli import register as register_sources  # noqa: E402

register_sources(main)

if __name__ == "__main__":
    main()
