"""What the archive remembers for the next crawl: stored articles and the validators of each feed.

Pure decisions (``needs_fetch``, ``conditional_headers``) plus one loader that asks the storage. The crawl
fetches an article again only when discovery says it changed after what is stored; feeds and sitemaps are
fetched with ``If-None-Match`` / ``If-Modified-Since``, and their validators are saved only at the end of a
completed run, so a run killed half-way is simply repeated by the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from monitor.feeds import Link


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


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def needs_fetch(link: Link, canonical: str, memory: Memory) -> bool:
    """New URLs are fetched; stored ones only when the feed or sitemap dates them after what is stored."""
    if canonical not in memory.known:
        return True
    stored = _instant(memory.known[canonical])
    announced = [t for t in (_instant(link.modified), _instant(link.published)) if t is not None]
    if stored is None or not announced:
        return False
    try:
        return max(announced) > stored
    except TypeError:  # an aware and a naive time: treat as unknown
        return False


def conditional_headers(state: FeedState | None) -> dict[str, str]:
    if state is None:
        return {}
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def load_memory(db_path: str | Path | None) -> Memory:
    """Read the archive's memory (without writing to it); an archive that does not exist yet remembers nothing."""
    from monitor.storage import Storage

    if not db_path or not Path(db_path).exists():
        return Memory()
    storage = Storage(db_path, readonly=True)
    try:
        return Memory(storage.known_articles(), storage.feed_states())
    finally:
        storage.close()
