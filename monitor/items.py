"""The item the spider yields: an extracted article and the outlet it came from (never a response)."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.extract import Article


@dataclass
class ArticleItem:
    source: str
    article: Article
    key: str | None = None  # the canonical URL discovery found it under (may differ from the page's own)
    announced: str | None = None  # the newest time its feed or sitemap gave it
