"""The ``monitor`` command group: each command group lives in its own module and registers itself here."""

from __future__ import annotations

import click

from monitor.cli import archive, crawl, distributed, extract, prune, rules, schedule, sources, stories
from monitor.cli.common import MonitorGroup


@click.group(cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Monitor Polish news for Ukraine–Russia peace-talk stories."""


for module in (crawl, extract, rules, archive, schedule, sources, stories, prune, distributed):
    module.register(main)
