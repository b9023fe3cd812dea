"""Back-off for servers that ask for it: ``Retry-After`` is honoured and 429/503 double the host's delay.

Scrapy's RetryMiddleware retries 429 and 503 but ignores ``Retry-After`` and keeps the pace; this middleware
(before it in the response chain) slows the request's download slot down, so the retry and every other request to
that host wait. The delay never exceeds ``MONITOR_MAX_BACKOFF`` seconds.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy.http import Request, Response

logger = logging.getLogger(__name__)
BACKOFF_STATUSES = (429, 503)


def retry_after_seconds(value: str | bytes | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(current: float, retry_after: float | None, ceiling: float, floor: float = 1.0) -> float:
    """The next delay for a host that answered 429/503: what it asked for, else double (at least ``floor``)."""
    wanted = retry_after if retry_after is not None else max(floor, current * 2)
    return min(ceiling, max(current, wanted))


class BackoffMiddleware:
    def __init__(self, crawler: Any, ceiling: float):
        self.crawler = crawler
        self.ceiling = ceiling

    @classmethod
    def from_crawler(cls, crawler: Any) -> BackoffMiddleware:
        return cls(crawler, crawler.settings.getfloat("MONITOR_MAX_BACKOFF", 300.0))

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if response.status not in BACKOFF_STATUSES:
            return response
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is None:
            return response
        asked = retry_after_seconds(response.headers.get(b"Retry-After"))
        new_delay = backoff_delay(slot.delay, asked, self.ceiling)
        if new_delay > slot.delay:
            logger.info(
                "%s: HTTP %s, slowing this host to one request per %.0f s",
                request.url,
                response.status,
                new_delay,
            )
            slot.delay = new_delay
        return response
