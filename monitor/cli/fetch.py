"""One page over HTTP for the interactive commands (``monitor extract URL``). Crawls go through Scrapy."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from monitor import settings

MAX_BYTES = 20 * 1024 * 1024


class FetchError(RuntimeError):
    """The page could not be fetched; the message is one line naming the URL (``status``: the HTTP status)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Page:
    url: str  # where the body came from, after redirects
    body: bytes
    content_type: str | None
    redirects: tuple[tuple[int, str], ...] = ()  # each redirect followed: (status, the address it led to)


class _RecordingRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self) -> None:
        self.followed: list[tuple[int, str]] = []

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        self.followed.append((code, newurl))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_page(url: str, timeout: float = 30.0, max_bytes: int = MAX_BYTES) -> Page:
    """GET ``url`` with the monitor's User-Agent; HTTP errors, timeouts and oversized bodies raise FetchError."""
    request = urllib.request.Request(url, headers={"User-Agent": settings.user_agent()})
    redirects = _RecordingRedirects()
    opener = urllib.request.build_opener(redirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            body = response.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise FetchError(f"{url}: larger than {max_bytes // (1024 * 1024)} MB")
            return Page(
                response.geturl(), body, response.headers.get("Content-Type"), tuple(redirects.followed)
            )
    except urllib.error.HTTPError as exc:
        raise FetchError(f"{url}: HTTP {exc.code}", exc.code) from exc
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(f"{url}: {' '.join(str(reason).split())}") from exc
