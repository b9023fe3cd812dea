"""Keeping a large source list healthy: what a saved or fetched page says about an outlet (its feeds, sitemaps
and article links), an ``article_pattern`` proposed from samples, and the verdict on one address of
``sources.toml``. Pure functions: bytes and strings in, values out; the ``monitor sources`` commands fetch.

Feed links in HTML come from trafilatura's feed finder; sitemaps and rules in robots.txt from Protego (already
installed with Scrapy), which reads robots.txt files of any size (trafilatura's reader ignores files over 10 kB,
and many news outlets' robots.txt files are larger).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

from monitor.discovery.feeds import Discovery, FeedError, parse_discovery
from monitor.discovery.urls import absolute, on_domains, pattern_target

# Where outlets commonly publish feeds and news sitemaps, tried by `monitor sources discover URL` when the home
# page names none (WordPress /feed/, Ringier Axel Springer /.feed, Agora /pub/rss/, Polska Press /rss/...).
COMMON_FEED_PATHS = ("/feed", "/feed/", "/rss", "/rss/", "/rss.xml", "/.feed", "/feed.xml", "/atom.xml")
COMMON_SITEMAP_PATHS = ("/sitemap_news.xml", "/news-sitemap.xml", "/sitemap-news.xml", "/sitemap.xml")
VERDICTS = ("ok", "moved", "stale", "empty", "broken")  # from best to worst
_FEED_TYPES = ("rss", "atom", "urlset", "sitemapindex")


# --- reading what an outlet publishes ------------------------------------------------------------------------


def page_links(html: str | bytes, url: str) -> list[str]:
    """Every http(s) link of an HTML page, absolute, without fragment, once each, in page order."""
    try:
        tree = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return []
    seen: dict[str, None] = {}
    for anchor in tree.iter("a"):
        href = absolute(url, anchor.get("href") or "")
        if href:
            seen.setdefault(href, None)
    return list(seen)


def feed_links(html: str, url: str) -> list[str]:
    """Feeds an HTML page announces (``<link rel="alternate" type="application/rss+xml">``, else links that
    look like feeds), read with trafilatura's feed finder."""
    from trafilatura.feeds import FeedParameters, determine_feed

    host = urlsplit(url).hostname or ""
    return determine_feed(html, FeedParameters(url, host, url, external=True))


def robots_sitemaps(robots_txt: str) -> list[str]:
    """The ``Sitemap:`` lines of a robots.txt file."""
    from protego import Protego

    return list(dict.fromkeys(Protego.parse(robots_txt).sitemaps))


def read_discovery(body: bytes, url: str) -> Discovery | None:
    """The links of a feed or sitemap document, or None when the bytes are not one (an HTML page, garbage)."""
    try:
        found = parse_discovery(body, url)
    except FeedError:
        return None
    return found if found.kind in _FEED_TYPES else None


def newest(found: Discovery) -> str | None:
    """The latest publication or modification date a feed or sitemap gives its items (ISO 8601)."""
    dates = [d for link in found.links for d in (link.published, link.modified) if d]
    return max(dates, key=lambda d: datetime.fromisoformat(d), default=None)


# --- proposing an article pattern --------------------------------------------------------------------------

_SLUG = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+){3,}")
_ID = re.compile(r"\d{5,}")


# Last path segments of the sections worth crawling for this monitor (world news, the war, politics, defence).
SECTION_WORDS = frozenset(
    [
        "swiat",
        "zagranica",
        "wojna",
        "ukraina",
        "rosja",
        "polityka",
        "wiadomosci",
        "kraj",
        "wydarzenia",
        "aktualnosci",
        "news",
        "world",
        "konflikty",
        "konflikty-zbrojne",
        "bezpieczenstwo",
        "obronnosc",
        "europa",
        "wojna-w-ukrainie",
    ]
)


def looks_like_section(url: str) -> bool:
    """A link to a section about world news, the war or politics (by its last path segment)."""
    segments = [s for s in urlsplit(url).path.lower().split("/") if s]
    return bool(segments) and segments[-1] in SECTION_WORDS and not urlsplit(url).query


# Path segments (before the last) of pages that are not articles: galleries, video, tags, authors, search.
NOT_ARTICLE_SEGMENTS = frozenset(
    [
        "galeria",
        "galerie",
        "gallery",
        "foto",
        "zdjecia",
        "wideo",
        "video",
        "wideos",
        "vod",
        "tv",
        "podcast",
        "podcasty",
        "tag",
        "tagi",
        "temat",
        "tematy",
        "autor",
        "autorzy",
        "author",
        "authors",
        "kategoria",
        "category",
        "szukaj",
        "search",
    ]
)


def looks_like_article(url: str) -> bool:
    """A guess from the shape alone: a long slug (four words or more) or a long number in the path, and no
    segment before the last that names a gallery, video, tag, author or search page."""
    path = urlsplit(url).path.lower()
    if any(segment in NOT_ARTICLE_SEGMENTS for segment in path.split("/")[:-1]):
        return False
    return bool(_SLUG.search(path) or _ID.search(path))


@dataclass(frozen=True)
class Proposal:
    pattern: str
    articles_matched: int
    articles: int
    others_matched: int
    others: int


def _digits_pattern(lengths: Iterable[int]) -> str:
    """At least as many digits as the shortest sample: ids only grow."""
    return rf"\d{{{min(lengths)},}}"


def _id_candidates(paths: Sequence[str]) -> list[str]:
    """Patterns around the last long number of each path, with the literal text just before and after it
    (``,nId,7888850``, ``-st9271157``, ``/art41234567-``, ``-6981374125472416a.html``)."""
    shapes: dict[tuple[str, str, bool], list[int]] = {}
    for path in paths:
        numbers = list(re.finditer(r"\d{4,}", path))
        if not numbers:
            continue
        last = numbers[-1]
        before = re.search(r"[^a-z0-9]?[A-Za-z]{0,4}[^a-z0-9]?$", path[: last.start()])
        prefix = before.group(0) if before else ""
        rest = path[last.end() :]
        suffix_match = re.match(r"[a-z]{0,2}(?:\.[a-z]{3,5})?/?", rest)
        suffix = suffix_match.group(0) if suffix_match else ""
        at_end = rest == suffix
        shapes.setdefault((prefix, suffix if at_end else rest[:1], at_end), []).append(len(last.group(0)))
    candidates = []
    for (prefix, suffix, at_end), lengths in shapes.items():
        digits = _digits_pattern(lengths)
        tail = r"(?:\?|$)" if at_end else ""
        candidates.append(re.escape(prefix) + digits + re.escape(suffix) + tail)
        if prefix and prefix[-1] in "-/,_":  # the same without the letters before the number
            candidates.append(re.escape(prefix[-1]) + digits + re.escape(suffix) + tail)
    return candidates


def _prefix_candidates(paths: Sequence[str], inner: Sequence[str]) -> list[str]:
    """Each inner pattern behind the first path segment most articles share (``^/wiadomosc/``)."""
    firsts = Counter(p.split("/")[1] for p in paths if p.count("/") >= 2)
    candidates = []
    for segment, count in firsts.most_common(2):
        if count * 10 >= len(paths) * 9 and segment:
            for pattern in inner:
                candidates.append(f"^/{re.escape(segment)}/" + (f".*{pattern}" if pattern else ""))
    return candidates


def propose_pattern(articles: Sequence[str], others: Sequence[str]) -> Proposal | None:
    """An ``article_pattern`` that matches the article URLs and as few of the other URLs as possible.

    Candidates are built from the articles' own shapes (a long number with the text around it, a date in the
    path, a long slug, a first path segment they share) and scored on both samples: most articles matched, then
    fewest others matched, then the most specific pattern. None when there are no articles to learn from.
    """
    paths = [pattern_target(u) for u in dict.fromkeys(articles)]
    other_paths = [pattern_target(u) for u in dict.fromkeys(others) if u not in set(articles)]
    if not paths:
        return None
    inner = [
        *_id_candidates(paths),
        r"/\d{4}/\d{2}/\d{2}/",
        r"/\d{4}-\d{2}-\d{2}/",
        r"/[a-z0-9]+(?:-[a-z0-9]+){3,}/?(?:\?|$)",
        r"/[a-z0-9]+(?:-[a-z0-9]+){3,}\.html?(?:\?|$)",
    ]
    candidates = [*inner, *_prefix_candidates(paths, inner)]
    best: tuple[tuple[int, int, int], Proposal] | None = None
    for pattern in dict.fromkeys(candidates):
        compiled = re.compile(pattern)
        hits = sum(1 for p in paths if compiled.search(p))
        if not hits:
            continue
        false = sum(1 for p in other_paths if compiled.search(p))
        key = (hits, -false, len(pattern))
        if best is None or key > best[0]:
            best = (key, Proposal(pattern, hits, len(paths), false, len(other_paths)))
    return best[1] if best else None


# --- judging one address of sources.toml -----------------------------------------------------------------------


@dataclass
class AddressCheck:
    """What fetching one feed, sitemap or section address showed, and the verdict."""

    outlet: str
    kind: str  # feeds / sitemaps / sections
    url: str
    verdict: str = "ok"
    status: int | None = None
    final_url: str | None = None
    redirects: list[tuple[int, str]] = field(default_factory=list)
    items: int = 0
    articles: int = 0  # items on the outlet's domains that match its article_pattern
    newest: str | None = None
    reason: str | None = None

    @property
    def share(self) -> float | None:
        return round(self.articles / self.items, 2) if self.items else None


def judge(
    check: AddressCheck,
    body: bytes | None,
    *,
    domains: Sequence[str],
    pattern: re.Pattern[str],
    now: datetime,
    stale_after: timedelta,
) -> AddressCheck:
    """Fill in items, article share, newest date and the verdict from a fetched body (``check`` already holds
    the status, redirects and, for a failed fetch, the reason and ``broken``)."""
    if check.verdict == "broken" or body is None:
        check.verdict = "broken"
        return check
    if check.kind == "sections":
        links = [u for u in page_links(body, check.final_url or check.url) if on_domains(u, domains)]
        if not links:
            check.verdict, check.reason = "broken", "not an HTML page with links"
            return check
    else:
        found = read_discovery(body, check.final_url or check.url)
        if found is None:
            check.verdict, check.reason = "broken", "not a feed or sitemap"
            return check
        links = [link.url for link in found.links]
        check.newest = newest(found)
        if found.kind == "sitemapindex":  # its items are sitemaps: fine when it lists any
            check.items = check.articles = len(links)
            return _finish(check, now, stale_after)
    check.items = len(links)
    check.articles = sum(
        1 for u in links if on_domains(u, domains) and pattern.search(pattern_target(u)) is not None
    )
    return _finish(check, now, stale_after)


def _finish(check: AddressCheck, now: datetime, stale_after: timedelta) -> AddressCheck:
    if check.items == 0 or check.articles == 0:
        what = (
            "no items" if check.items == 0 else f"none of its {check.items} links match the article_pattern"
        )
        check.verdict, check.reason = "empty", what
    elif check.newest and datetime.fromisoformat(check.newest) < now - stale_after:
        check.verdict, check.reason = "stale", f"newest item {check.newest[:10]}"
    elif check.final_url and check.final_url != check.url:
        code = check.redirects[0][0] if check.redirects else None
        check.verdict, check.reason = "moved", f"redirects ({code}) to {check.final_url}"
    else:
        check.verdict = "ok"
    return check


def worst(verdicts: Iterable[str]) -> str:
    """The outlet's verdict: the worst of its addresses'."""
    return max(verdicts, key=VERDICTS.index, default="broken")
