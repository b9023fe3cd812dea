"""The ``monitor`` command group: each command group lives in its own module and registers itself here.

A command's module is imported when the command is called (or listed by ``--help``): ``monitor report`` does not
load the crawl, the extraction or the distributed runner, whose imports are most of a short command's time."""

from __future__ import annotations

import importlib

import click

from monitor.cli.common import MonitorGroup

# command → the module of monitor.cli that registers it (tests/test_cli.py checks this against the modules)
COMMANDS = {
    "crawl": "crawl",
    "demo": "crawl",
    "extract": "extract",
    "classify": "rules",
    "rescore": "rules",
    "rules": "rules",
    "export": "archive",
    "ingest": "archive",
    "report": "archive",
    "search": "archive",
    "serve": "archive",
    "schedule": "schedule",
    "sources": "sources",
    "brief": "stories",
    "stories": "stories",
    "prune": "prune",
    "seed": "distributed",
    "worker": "distributed",
    "writer": "distributed",
}


class LazyGroup(MonitorGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(f"monitor.cli.{COMMANDS[cmd_name]}").register(self)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Monitor Polish news for Ukraine–Russia peace-talk stories."""
