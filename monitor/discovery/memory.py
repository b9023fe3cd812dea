"""What the archive remembers for the next crawl: stored articles and the validators of each feed.

Pure decisions (``needs_fetch``, ``conditional_headers``); :func:`monitor.archive.load_memory` reads what the
archive remembers. The crawl
fetches an article again only when discovery says it changed after what is stored; feeds and sitemaps are
fetched with ``If-None-Match`` / ``If-Modified-Since``, and their validators are saved only at the end of a
completed run, so a run killed half-way is simply repeated by the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from monitor.discovery.feeds import Link


@dataclass(frozen=True)
class FeedState:
    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Memory:
    known: dict[str, str | None] = field(
        default_factory=dict
    )  # canonical URL → stored publication/update time
    feeds: dict[str, FeedState] = field(default_factory=dict)
    # canonical URL of a discovered link → the newest time discovery gave it when the crawl last fetched it
    announced: dict[str, str | None] = field(default_factory=dict)


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _later(a: datetime, b: datetime) -> bool:
    try:
        return a > b
    except TypeError:  # an aware and a naive time: treat as unknown
        return False


def announced_time(link: Link) -> str | None:
    """The newest time a feed or sitemap gives a link (modified or published), as it gave it."""
    dated = [(t, v) for v in (link.modified, link.published) if (t := _instant(v)) is not None]
    if not dated:
        return None
    newest = dated[0]
    for candidate in dated[1:]:
        if _later(candidate[0], newest[0]):
            newest = candidate
    return newest[1]


def needs_fetch(link: Link, canonical: str, memory: Memory) -> bool:
    """New URLs are fetched; known ones only when discovery announces them as changed since the crawl last
    fetched them (what it announced then is remembered), or, when nothing dated was announced then (an article
    stored before that was remembered, or first found on an undated section page), dated after the time stored
    for them."""
    announced = _instant(announced_time(link))
    if canonical in memory.announced:
        before = _instant(memory.announced[canonical])
        if announced is None:
            return False
        if before is not None:
            return _later(announced, before)
    if canonical not in memory.known:
        return True
    stored = _instant(memory.known[canonical])
    if stored is None or announced is None:
        return False
    return _later(announced, stored)


def conditional_headers(state: FeedState | None) -> dict[str, str]:
    if state is None:
        return {}
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers
