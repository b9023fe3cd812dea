"""Scrapy contracts for ``scrapy check news``, offline: ``@fixture PATH`` points a callback at a stored page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy.contracts import Contract

ROOT = Path(__file__).resolve().parent.parent


class FixtureContract(Contract):
    """``@fixture fixtures/sites/rmf24/feed-fakty.xml``: the request reads that file (relative to the project)."""

    name = "fixture"

    def adjust_request_args(self, args: dict[str, Any]) -> dict[str, Any]:
        args["url"] = (ROOT / self.args[0]).resolve().as_uri()
        return args
