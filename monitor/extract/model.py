"""What extraction takes and gives: hints from discovery and the outlet, the article, the refusal."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


class NotAnArticle(ValueError):
    """The page is not an article with text (a video, gallery, section or empty page); message is the reason."""


@dataclass(frozen=True)
class SiteHints:
    """Per-outlet extraction hints from sources.toml, for the few outlets the general rules get wrong."""

    drop: tuple[str, ...] = ()  # CSS selectors of boxes that are never article text
    date_selector: str | None = None  # CSS selector of the element that shows the publication time


@dataclass(frozen=True)
class Hints:
    """What discovery said about the article (feed or news-sitemap entry)."""

    title: str | None = None
    published: str | None = None
    published_source: str | None = None  # "feed" or "sitemap"


@dataclass
class Article:
    url: str
    canonical_url: str
    title: str | None
    authors: list[str]
    published: str | None
    published_source: str | None
    modified: str | None
    date_candidates: list[dict[str, str]]
    lead: str | None
    text: str
    language: str | None
    paywalled: bool
    words: int
    fetched_at: str = field(default="")
    credits: list[str] = field(
        default_factory=list
    )  # sign-offs and sources that ended the body: "aja/PAP", "Źródło: PAP"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
