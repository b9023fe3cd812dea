"""Operations commands: ``monitor schedule``."""

from __future__ import annotations

import sys

import click

from monitor.schedule import Scheduler, crawl_command, parse_interval


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--every", default="15m", show_default=True, help="Interval between run starts: 90s, 15m, 1h.")
@click.option("--jitter", default="60s", show_default=True, help="Random shift of each start, plus or minus.")
@click.option("--runs", type=int, help="Stop after this many runs (default: until SIGTERM/SIGINT).")
@click.pass_context
def schedule(ctx: click.Context, every: str, jitter: str, runs: int | None) -> None:
    """Run `monitor crawl` every interval in the foreground; extra options go to crawl (e.g. --db, --source).

    A failing run is reported and the schedule goes on; SIGTERM or SIGINT stops the current crawl cleanly and exits 0.
    """
    try:
        interval, spread = parse_interval(every), parse_interval(jitter) if jitter not in ("0", "0s") else 0.0
    except ValueError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    scheduler = Scheduler(crawl_command(ctx.args), interval, spread, runs, echo=click.echo)
    sys.exit(scheduler.run())


def register(group: click.Group) -> None:
    group.add_command(schedule)
