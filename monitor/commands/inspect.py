"""``scrapy inspect URL|FILE…``: what the monitor makes of a page, without the shell."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from monitor.cli.fetch import FetchError, fetch_page
from monitor.extract import NotAnArticle, extract_article
from monitor.rules import classify, explain, load_rules
from monitor.shell import describe_article


class Command(ScrapyCommand):
    requires_project = True
    default_settings = {"LOG_LEVEL": "WARNING"}

    def syntax(self) -> str:
        return "URL|FILE [URL|FILE ...]"

    def short_desc(self) -> str:
        return "Print the extraction, date candidates and peace-talk verdict of pages"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not args:
            raise UsageError("give at least one URL or saved page")
        assert self.settings is not None
        ruleset = load_rules(self.settings.get("MONITOR_RULES") or None)
        failures = 0
        for target in args:
            try:
                if target.startswith(("http://", "https://")):
                    page = fetch_page(target)
                    url, body, content_type = page.url, page.body, page.content_type
                else:
                    path = Path(target)
                    url, body, content_type = path.resolve().as_uri(), path.read_bytes(), None
                article = extract_article(url, body, content_type=content_type, fetched_at=datetime.now(UTC))
            except (FetchError, OSError, NotAnArticle) as exc:
                failures += 1
                reason = f"not an article: {exc}" if isinstance(exc, NotAnArticle) else str(exc)
                print(f"{target}: {reason}")
                continue
            verdict = classify(ruleset, article.title, article.lead, article.text)
            print(describe_article(article))
            print(explain(ruleset, verdict, article.title))
            print()
        self.exitcode = 1 if failures else 0
