"""What every command shares: the exit codes, the one-line failure, and the group that turns a database error
under any command into one line naming the file."""

from __future__ import annotations

import sqlite3
import sys
from typing import Any, NoReturn

import click

from monitor.archive import StorageError

# The exit codes every command documents: 0 all fine, 1 some sources, pages or lines failed, 2 nothing could run.
EXIT_OK, EXIT_SOME_FAILED, EXIT_NOTHING_RAN = 0, 1, 2


def fail(message: str, code: int = EXIT_NOTHING_RAN) -> NoReturn:
    """Print one error line and exit (2 unless told otherwise)."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


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
            fail(str(exc))
        except sqlite3.Error as exc:
            db = db_argument(ctx.meta.get("monitor.args", []))
            fail(f"{db}: cannot use this database: {' '.join(str(exc).split())}")
