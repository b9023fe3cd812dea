"""Stories, not articles (issue #17): ``monitor brief`` and ``monitor stories rebuild | show``.

A thin layer over :mod:`monitor.archive.brief` and :mod:`monitor.archive.story_index`. ``brief`` and ``show`` only
read (they work on a read-only archive); ``rebuild`` writes in one transaction, all or nothing. A database that
cannot be used is one ``error:`` line naming the file, exit status 2.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

import click

from monitor.archive import StorageError, open_database
from monitor.cli.archive import _reader, _since, db_option
from monitor.cli.common import fail


def _entities(rules: str | None) -> dict:
    from monitor.archive.brief import entity_names
    from monitor.rules import RulesError

    try:
        return entity_names(rules)
    except RulesError as exc:
        fail(str(exc))


def write_atomically(output: str, data: bytes) -> None:
    """Replace ``output`` with ``data`` at once (a reader never sees half a file); one error line otherwise."""
    target = Path(output)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, target)
    except OSError as exc:
        fail(f"{target}: cannot write: {exc.strerror or exc}")


@click.command()
@db_option
@click.option(
    "--since", default="24h", show_default=True, help="Coverage since: 24h, 7d, 2026-01-22, ISO 8601."
)
@click.option("--until", help="Coverage before this time (default: now), same forms as --since.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "markdown", "html", "json"]),
    default="text",
    show_default=True,
    help="html is a self-contained page fit to e-mail.",
)
@click.option(
    "--limit", default=30, show_default=True, type=click.IntRange(1, 10_000), help="Stories at most."
)
@click.option("--mentions", is_flag=True, help="Also stories made only of passing mentions of the talks.")
@click.option("--rules", "rules_file", help="Rules file whose entities name the people and places.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write the brief here (default: stdout)."
)
def brief(
    db: str,
    since: str,
    until: str | None,
    fmt: str,
    limit: int,
    mentions: bool,
    rules_file: str | None,
    output: str | None,
) -> None:
    """The day's peace-talk stories, ranked by the outlets that covered them in the window: each with its
    headline, where and when it broke, how many outlets carried it, key people and places, and its articles."""
    from monitor.archive.brief import RENDERERS, brief_stories

    start = _since(since)
    end = _since(until) if until else None
    assert start is not None
    if end is not None and end <= start:
        raise click.BadParameter(f"{until!r} is not after --since {since!r}", param_hint="--until")
    entities = _entities(rules_file)
    database = _reader(db)
    try:
        stories = brief_stories(database.conn, start, end, mentions=mentions, limit=limit, entities=entities)
    finally:
        database.conn.close()
    page = RENDERERS[fmt](stories, start, end)
    if output:
        write_atomically(output, page.encode("utf-8"))
        click.echo(f"{output}: {len(stories)} stories", err=True)
        return
    click.echo(page, nl=False)


@click.group()
def stories() -> None:
    """Stories across outlets: re-cluster the archive, show one story's timeline."""


@stories.command()
@db_option
def rebuild(db: str) -> None:
    """Cluster every flagged and mention article again (after a rule or threshold change), in one transaction."""
    from monitor.archive.story_rebuild import rebuild as run_rebuild

    if not Path(db).exists():
        fail(f"{db}: no such database (run `monitor crawl`, `monitor demo` or `monitor ingest`)")
    try:
        database = open_database(db, create=False)
    except StorageError as exc:
        fail(str(exc))
    conn = database.conn
    try:
        conn.execute("BEGIN IMMEDIATE")
        done = run_rebuild(conn)
        conn.commit()
    except sqlite3.Error as exc:
        conn.rollback()
        fail(f"{db}: rebuilding the stories failed, nothing was changed: {' '.join(str(exc).split())}")
    finally:
        conn.close()
    click.echo(f"{done.articles} articles in {done.stories} stories ({done.seconds:.1f} s)")


@stories.command()
@click.argument("story_id", type=int)
@db_option
def show(story_id: int, db: str) -> None:
    """One story's timeline: each article with its time, outlet, headline and what it added."""
    from monitor.archive.brief import local

    database = _reader(db)
    try:
        head = database.conn.execute(
            "SELECT headline, outlets, articles, follows FROM stories WHERE id = ?", [story_id]
        ).fetchone()
        rows = database.conn.execute(
            "SELECT at, outlet, title, url, new_entities, new_terms FROM story_timeline WHERE story_id = ?",
            [story_id],
        ).fetchall()
    finally:
        database.conn.close()
    if head is None:
        fail(f"{db}: no story {story_id} (see the stories table, or `monitor brief`)", code=1)
    click.echo(
        f"{head[0]}  ({head[1]} outlets, {head[2]} articles{f', follows story {head[3]}' if head[3] else ''})"
    )
    for at, outlet, title, url, new_entities, new_terms in rows:
        click.echo(f"  {local(at)}  {outlet}  {title or '(no title)'}")
        added = [part for part in (new_entities, new_terms) if part]
        if added:
            click.echo(f"      new: {'; '.join(added)}")
        click.echo(f"      {url}")


def register(main: click.Group) -> None:
    """Add ``brief`` and ``stories`` to the ``monitor`` group."""
    main.add_command(brief)
    main.add_command(stories)
