"""One page over HTTP for the interactive commands (``monitor extract URL``). Crawls go through Scrapy."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from monitor import settings

MAX_BYTES = 20 * 1024 * 1024


class FetchError(RuntimeError):
    """The page could not be fetched; the message is one line naming the URL."""


@dataclass(frozen=True)
class Page:
    url: str
    body: bytes
    content_type: str | None


def fetch_page(url: str, timeout: float = 30.0, max_bytes: int = MAX_BYTES) -> Page:
    """GET ``url`` with the monitor's User-Agent; HTTP errors, timeouts and oversized bodies raise FetchError."""
    agent = f"{settings.MONITOR_BOT_NAME} (+{settings.MONITOR_CONTACT_URL})"
    request = urllib.request.Request(url, headers={"User-Agent": agent})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the user asked for it
            body = response.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise FetchError(f"{url}: larger than {max_bytes // (1024 * 1024)} MB")
            return Page(response.geturl(), body, response.headers.get("Content-Type"))
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"{url}: {' '.join(str(reason).split())}") from exc
