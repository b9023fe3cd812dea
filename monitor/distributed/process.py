"""Running a worker or a seed in this process: the project's settings with the distributed ones on top."""

from __future__ import annotations

import os
from typing import Any

from monitor.distributed.worker import seed_settings, worker_settings


class NotStarted(RuntimeError):
    """The crawl could not start (a bad setting, a component that failed); one line."""


def run_crawl(
    kind: str, url: str, sources_file: str | None, source: str | None, settings: dict[str, Any]
) -> dict[str, Any]:
    """Run a ``worker`` or a ``seed`` until it stops; its stats."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "monitor.settings")
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    project = get_project_settings()
    overrides = worker_settings(project, url) if kind == "worker" else seed_settings(project, url)
    if sources_file:
        overrides["MONITOR_SOURCES"] = sources_file
    overrides.update(settings)
    for key, value in overrides.items():
        project.set(key, value, priority="cmdline")
    process = CrawlerProcess(project)
    if kind == "worker":
        from monitor.distributed.worker import WorkerSpider

        crawler = process.create_crawler(WorkerSpider)
    else:
        crawler = process.create_crawler("news")
    failures: list[Any] = []
    process.crawl(crawler, source=source).addErrback(failures.append)
    process.start()
    if failures:
        error = failures[0].value
        text = " ".join(str(error).split()) or type(error).__name__
        raise NotStarted(f"the {kind} could not start: {type(error).__name__}: {text}")
    return crawler.stats.get_stats() if crawler.stats else {}
