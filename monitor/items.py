"""The items the spider yields (never a response): an extracted article with its outlet, and a page that turned
out not to be an article. The storage pipeline stores both, in batches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.extract import Article
from monitor.rules import Verdict

if TYPE_CHECKING:  # not imported by the spider at start-up
    from monitor.archive.derived import Derived


@dataclass
class ArticleItem:
    source: str
    article: Article
    key: str | None = None  # the canonical URL discovery found it under (may differ from the page's own)
    announced: str | None = None  # the newest time its feed or sitemap gave it
    verdict: Verdict | None = (
        None  # the rules' verdict when an extraction worker classified it; else the pipeline
    )
    derived: Derived | None = None  # its wire sketch and story features, when a worker derived them


@dataclass
class NonArticleItem:
    """A fetched page that is not an article (video, gallery, no text): remembered in ``non_articles`` so the
    next run does not fetch it again unless discovery says it changed."""

    source: str
    key: str  # canonical URL (the one discovery found it under)
    reason: str  # why it is not an article, as extraction said
    announced: str | None = None  # the newest time its feed or sitemap gave it
