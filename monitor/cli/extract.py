"""``monitor extract``: saved pages or URLs through the crawl's extraction, one JSON object a line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from monitor.cli.common import EXIT_OK, EXIT_SOME_FAILED, fail


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--url", help="The URL a saved page was fetched from (for one file; default: file://PATH).")
def extract(targets: tuple[str, ...], url: str | None) -> None:
    """Extract saved pages or http(s) URLs; print one JSON object per page, one per line.

    Exit status 0 when every page was an article, 1 otherwise (each failure is one line on stderr).
    """
    from monitor.cli.fetch import FetchError, fetch_page
    from monitor.extract import NotAnArticle, extract_article

    if url and len(targets) > 1:
        fail("--url names the address of one saved page; give one file with it")
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


def register(group: click.Group) -> None:
    group.add_command(extract)
