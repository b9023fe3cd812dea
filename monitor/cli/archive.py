"""The archive's commands: ``monitor search``, ``serve``, ``report``, ``export atom``, ``ingest``.

A thin layer over :mod:`monitor.archive.search`, :mod:`monitor.archive.queries`, :mod:`monitor.archive.atom` and :mod:`monitor.archive.ingest`,
registered on the ``monitor`` group by :func:`register`. Every problem with the database (not SQLite, read-only,
locked, from a newer monitor) is one ``error:`` line on stderr and exit status 2, with nothing written.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import click

from monitor.archive import BUSY_TIMEOUT_MS, StorageError, open_for_reading
from monitor.cli.common import EXIT_NOTHING_RAN, EXIT_OK, EXIT_SOME_FAILED, fail

DEFAULT_DB = "data/monitor.db"

db_option = click.option("--db", default=DEFAULT_DB, show_default=True, help="SQLite archive.")


def _since(value: str | None) -> datetime | None:
    from monitor.archive.queries import parse_since

    if value is None:
        return None
    try:
        return parse_since(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None


def _reader(db: str) -> Any:
    try:
        return open_for_reading(db)
    except StorageError as exc:
        fail(str(exc))


@click.command()
@click.argument("query")
@db_option
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--outlet", help="Only this outlet.")
@click.option(
    "--relevance", type=click.Choice(["primary", "mention", "none"]), help="Only articles with this verdict."
)
@click.option(
    "--order",
    type=click.Choice(["auto", "recent", "relevance"]),
    default="auto",
    show_default=True,
    help="relevance: best match first (bm25); recent: newest first; auto: recent when more than --recent-above "
    "articles match.",
)
@click.option(
    "--recent-above",
    default=10_000,
    show_default=True,
    type=click.IntRange(0),
    help="With --order auto: how many matches make it newest first.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per result.")
def search(
    query: str,
    db: str,
    limit: int,
    outlet: str | None,
    relevance: str | None,
    order: str,
    recent_above: int,
    as_json: bool,
) -> None:
    """Full-text search of the archive, best match first (bm25), or newest first for common words.

    Words are all required, "quoted words" are a phrase, word* a prefix, OR between words means either, -word
    excludes. Polish letters are optional: zelenski finds Zełenski, bialego finds Białego. A query that matches
    more than --recent-above articles is shown newest first (ranking them all would take seconds); --order
    relevance ranks them anyway.
    """
    from monitor.archive.search import QueryError, choose_order
    from monitor.archive.search import search as run_search

    database = _reader(db)
    try:
        chosen = choose_order(database.conn, query, order, recent_above)
        results = run_search(
            database.conn, query, limit=limit, outlet=outlet, relevance=relevance, order=chosen
        )
    except QueryError as exc:
        fail(str(exc))
    finally:
        database.conn.close()
    if order == "auto" and chosen == "recent":
        click.echo(
            f"note: more than {recent_above:,} articles match: newest first "
            "(--order relevance ranks them all, more slowly)",
            err=True,
        )
    if as_json:
        for row in results:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if not results:
        click.echo("No articles match.")
        return
    for number, row in enumerate(results, start=1):
        when = (row["published"] or "????-??-??T??:??")[:16].replace("T", " ")
        click.echo(
            f"{number:>3}. {when}  {row['outlet']}  [{row['relevance']}]  {row['title'] or '(no title)'}"
        )
        if row["snippet"]:
            click.echo(f"     {' '.join(row['snippet'].split())}")
        click.echo(f"     {row['url']}")


@click.command()
@db_option
@click.option("--since", help="Only stories published since: 24h, 7d, 2026-01-14, or ISO 8601.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
def report(db: str, since: str | None, limit: int) -> None:
    """Print the newest flagged peace-talk stories, with their matched terms and the outlets that also ran them;
    then the outlets that went silent (nothing discovered in 3 runs, or no new article for 24 hours)."""
    from monitor.archive.queries import flagged_stories, format_report, other_outlets, silent_outlets

    window = _since(since)
    database = _reader(db)
    try:
        stories = flagged_stories(database.conn, since=window, limit=limit)
        wire = {s["id"]: other_outlets(database.conn, s["story_id"], s["outlet"]) for s in stories}
        silent = silent_outlets(database.conn)
    finally:
        database.conn.close()
    for line in format_report(stories, wire):
        click.echo(line)
    if silent:
        click.echo(f"\nSilent outlets ({len(silent)}): check them with `monitor sources check --source NAME`")
        for name, why in silent:
            click.echo(f"  {name}: {why}")


@click.group()
def export() -> None:
    """Export from the archive."""


@export.command()
@db_option
@click.option("--since", help="Only stories published since: 24h, 7d, 2026-01-14, or ISO 8601.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write the feed here (default: stdout)."
)
@click.option("--self-url", help="The URL the feed will be served from (its rel=self link).")
@click.option(
    "--stories", "by_story", is_flag=True, help="One entry per story across outlets, updated as it grows."
)
def atom(
    db: str, since: str | None, limit: int, output: str | None, self_url: str | None, by_story: bool
) -> None:
    """An Atom feed of flagged stories: title, link, published, outlet and matched terms as summary."""
    from monitor.archive.atom import atom_feed
    from monitor.archive.queries import flagged_stories, other_outlets

    window = _since(since)
    database = _reader(db)
    try:
        if by_story:  # issue #17: one entry per story (monitor/archive/brief.py, atom.story_feed)
            from monitor.archive.atom import story_feed
            from monitor.archive.brief import entity_names, feed_stories

            stories = feed_stories(database.conn, since=window, limit=limit, entities=entity_names())
            feed = story_feed(stories, generated=datetime.now(UTC), self_url=self_url)
        else:
            stories = flagged_stories(database.conn, since=window, limit=limit)
            for story in stories:
                story["also"] = other_outlets(database.conn, story["story_id"], story["outlet"])
            feed = atom_feed(stories, generated=datetime.now(UTC), self_url=self_url)
    finally:
        database.conn.close()
    if not output:
        sys.stdout.buffer.write(feed)
        sys.stdout.buffer.flush()
        return
    target = Path(output)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(feed)
        os.replace(temporary, target)  # a feed reader never sees half a file
    except OSError as exc:
        fail(f"{target}: cannot write the feed: {exc.strerror or exc}")
    click.echo(f"{target}: {len(stories)} flagged stories", err=True)


def datasette_metadata(db: Path) -> dict[str, Any]:
    """The shipped metadata, with its archive block named after the database file (Datasette's database name)."""
    import yaml

    text = (resources.files("monitor") / "data" / "datasette" / "metadata.yml").read_text(encoding="utf-8")
    metadata = yaml.safe_load(text)
    archive = metadata["databases"]["monitor"]
    metadata["databases"] = {db.stem: archive}
    return metadata


def plugins_dir() -> Path:
    return Path(str(resources.files("monitor") / "data" / "datasette" / "plugins"))


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535))
def serve(db: str, host: str, port: int) -> None:
    """Browse the archive in Datasette: titled tables and views, facets, canned queries, folded search.

    Datasette runs any read-only SQL it is sent: beyond 127.0.0.1 (--host 0.0.0.0), anyone who can reach the
    port reads the whole archive. Put it behind a reverse proxy that asks for a password (docs/archive.md).
    """
    import asyncio

    import uvicorn
    from datasette.app import Datasette

    file = Path(db)
    _reader(db).conn.close()  # one clear line for a bad file, and an older schema upgraded first
    if not is_loopback(host):
        click.echo(
            f"warning: listening on {host}:{port}: anyone who can reach it can read the whole archive and run any "
            "read-only SQL on it; put it behind a reverse proxy with authentication (see docs/archive.md)",
            err=True,
        )
    # A WAL archive in a folder we cannot write can only be read as immutable (nobody can be writing it there).
    immutable = not os.access(file.parent, os.W_OK)
    datasette = Datasette(
        [] if immutable else [str(file)],
        immutables=[str(file)] if immutable else [],
        metadata=datasette_metadata(file),
        plugins_dir=str(plugins_dir()),
    )
    asyncio.run(datasette.invoke_startup())
    # No temporary files: the metadata is passed in memory, so nothing is left behind however the server stops.
    uvicorn.run(datasette.app(), host=host, port=port, log_level="info", lifespan="on")


@click.command()
@click.argument("paths", nargs=-1, required=True)
@db_option
@click.option("--source", help="Store every page under this outlet (default: by domain from sources.toml).")
@click.option("--sources", "sources_file", help="Your own sources.toml, to recognise outlets by domain.")
@click.option("--rules", "rules_file", help="Your own rules file (default: the packaged one).")
@click.option("--url", help="The page's URL, for a single HTML file without <link rel=canonical>.")
@click.option(
    "--min-words", default=None, type=click.IntRange(0), help="Fewer words of prose: not an article."
)
@click.option(
    "--busy-timeout",
    default=BUSY_TIMEOUT_MS / 1000,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds to wait for another writer.",
)
def ingest(
    paths: tuple[str, ...],
    db: str,
    source: str | None,
    sources_file: str | None,
    rules_file: str | None,
    url: str | None,
    min_words: int | None,
    busy_timeout: float,
) -> None:
    """Put saved pages (HTML files, WARC files, directories of them) through extraction, rules and storage.

    Exit status: 0 every input read, 1 some inputs could not be read, 2 nothing could run (database or
    configuration error, or no input could be read). Pages that are not articles are skipped, not failures.
    """
    from monitor.archive import Storage
    from monitor.archive.ingest import ingest as run_ingest
    from monitor.archive.ingest import pages
    from monitor.discovery.sources import SourcesError, load_sources
    from monitor.extract import MIN_WORDS
    from monitor.rules import RulesError, load_rules

    if url and len(paths) > 1:
        raise click.UsageError("--url names one page: give a single HTML file with it")
    try:
        ruleset = load_rules(rules_file)
        known = load_sources(sources_file)
    except (RulesError, SourcesError) as exc:
        fail(str(exc))
    try:
        storage = Storage(db, busy_timeout_ms=int(busy_timeout * 1000))
    except StorageError as exc:
        fail(str(exc))
    try:
        summary = run_ingest(
            storage,
            ruleset,
            pages(paths, url),
            sources=known,
            source=source,
            min_words=MIN_WORDS if min_words is None else min_words,
        )
    except StorageError as exc:
        fail(f"{exc} (batches stored before this one are kept)")
    finally:
        storage.close()
    for line in summary.problems:
        click.echo(line, err=True)
    click.echo(
        f"{summary.pages} pages: {summary.stored} stored ({summary.new} new, {summary.changed} changed), "
        f"{summary.flagged} flagged, {summary.skipped} skipped, {summary.failed} inputs failed"
    )
    if summary.failed and not summary.pages:
        sys.exit(EXIT_NOTHING_RAN)
    sys.exit(EXIT_SOME_FAILED if summary.failed else EXIT_OK)


def register(main: click.Group) -> None:
    """Add the archive's commands to the ``monitor`` group."""
    for command in (search, report, export, serve, ingest):
        main.add_command(command)
