"""robots.txt as RFC 9309 says: 2xx is obeyed, 4xx allows everything, and a 5xx answer or an unreachable host
means the whole host is off limits for this run. Failures are logged in one line (Scrapy's stock middleware logs a
traceback and then crawls the host anyway)."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)


class DisallowAll(RobotParser):
    """Stands in for a robots.txt that could not be read: nothing on the host may be fetched."""

    def __init__(self, reason: str):
        self.reason = reason

    @classmethod
    def from_crawler(cls, crawler: Any, robotstxt_body: bytes) -> DisallowAll:
        return cls("")

    def allowed(self, url: str | bytes, user_agent: str | bytes) -> bool:
        return False


class RobotsTxtUnavailable(IgnoreRequest):
    """The host's robots.txt answered 5xx or could not be fetched."""


class ForbiddenByRobots(IgnoreRequest):
    """The host's robots.txt forbids this URL to us (a skip, not a failure, for an article)."""


class PoliteRobotsTxtMiddleware(RobotsTxtMiddleware):
    def process_request_2(self, rp: RobotParser | None, request: Request) -> None:
        if isinstance(rp, DisallowAll):
            self._stats.inc_value("robotstxt/host_unavailable")
            raise RobotsTxtUnavailable(f"robots.txt unavailable ({rp.reason}), host skipped in this run")
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest as exc:
            raise ForbiddenByRobots(str(exc)) from None

    async def robot_parser(self, request: Request) -> RobotParser | None:
        url = urlparse_cached(request)
        netloc = url.netloc
        if netloc not in self._parsers:
            self._parsers[netloc] = Deferred()
            robots_url = f"{url.scheme}://{netloc}/robots.txt"
            robots_request = Request(
                robots_url,
                priority=self.DOWNLOAD_PRIORITY,
                meta={"dont_obey_robotstxt": True, "handle_httpstatus_all": True},
                callback=NO_CALLBACK,
            )
            parser: RobotParser | None
            try:
                response = await self.crawler.engine.download_async(robots_request)
            except Exception as exc:  # any download failure: DNS, refused, timeout, TLS
                reason = " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
                logger.warning("%s: %s; not crawling %s in this run", robots_url, reason, netloc)
                self._stats.inc_value("robotstxt/exception_count")
                parser = DisallowAll(reason)
            else:
                self._stats.inc_value("robotstxt/response_count")
                self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
                if response.status >= 500:
                    logger.warning(
                        "%s: HTTP %s; not crawling %s in this run", robots_url, response.status, netloc
                    )
                    parser = DisallowAll(f"HTTP {response.status}")
                elif response.status >= 400:
                    parser = None  # no robots.txt: everything is allowed
                else:
                    await self._parse_robots(response, netloc, request)
                    parsed = self._parsers[netloc]  # set by _parse_robots
                    parser = None if isinstance(parsed, Deferred) else parsed
            self._stats.inc_value("robotstxt/request_count")
            pending = self._parsers[netloc]
            if isinstance(pending, Deferred):
                self._parsers[netloc] = parser
                pending.callback(parser)
        known = self._parsers[netloc]
        if isinstance(known, Deferred):
            return await maybe_deferred_to_future(known)
        return known
