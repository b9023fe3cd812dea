"""Discovery documents (RSS 2.0, Atom, Google News sitemaps, sitemap indexes, section pages) → links.

Pure functions over bytes: no Scrapy, no network. Scrapy's stock SitemapSpider drops the ``news:`` elements, so
news sitemaps are read here, keeping ``news:publication_date`` and ``news:title`` for the article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import lxml.etree as etree
import lxml.html

from monitor.discovery.urls import absolute
from monitor.extract.dates import iso, parse_date

Kind = Literal["rss", "atom", "urlset", "sitemapindex", "html"]


class FeedError(ValueError):
    """A discovery document that yields nothing usable; the message says why, with a line number."""


@dataclass(frozen=True)
class Link:
    """An article (or child sitemap) URL with what the discovery document said about it."""

    url: str
    title: str | None = None
    published: str | None = None  # ISO 8601 with offset
    published_source: str | None = None  # "feed", "sitemap"
    modified: str | None = None
    is_sitemap: bool = False


@dataclass(frozen=True)
class Discovery:
    kind: Kind
    links: list[Link]
    problem: str | None = None  # set when the document was damaged and only partly read


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    text = "".join(element.itertext()).strip()
    return re.sub(r"\s+", " ", text) or None


def _child(element: etree._Element, *names: str) -> etree._Element | None:
    for child in element:
        if _local(child.tag) in names:
            return child
    return None


def _descendant(element: etree._Element, name: str) -> etree._Element | None:
    for child in element.iter():
        if _local(child.tag) == name:
            return child
    return None


def _date(value: str | None) -> str | None:
    return iso(parse_date(value))


def _parse_xml(body: bytes, url: str) -> tuple[etree._Element, str | None]:
    if not body or not body.strip():
        raise FeedError(f"{url}: empty document")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(body.lstrip(), parser=parser), None
    except etree.XMLSyntaxError as exc:
        problem = f"malformed XML at line {exc.lineno}: {' '.join(str(exc.msg).split())}"
        recovering = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
        try:
            root = etree.fromstring(body.lstrip(), parser=recovering)
        except etree.XMLSyntaxError:
            root = None
        if root is None:
            raise FeedError(f"{url}: {problem}") from exc
        return root, problem


def _rss_links(root: etree._Element, base: str) -> list[Link]:
    links = []
    for item in root.iter():
        if _local(item.tag) != "item":
            continue
        href = _text(_child(item, "link"))
        if not href:
            guid = _child(item, "guid")
            if guid is not None and guid.get("isPermaLink", "true") != "false":
                href = _text(guid)
        url = absolute(base, href or "")
        if not url:
            continue
        date = _date(_text(_child(item, "pubDate", "date", "published")))
        links.append(Link(url, _text(_child(item, "title")), date, "feed" if date else None))
    return links


def _atom_links(root: etree._Element, base: str) -> list[Link]:
    links = []
    for entry in root:
        if _local(entry.tag) != "entry":
            continue
        href = None
        for link in entry:
            if _local(link.tag) == "link" and link.get("rel", "alternate") == "alternate":
                href = link.get("href")
                break
        url = absolute(base, href or "")
        if not url:
            continue
        published = _date(_text(_child(entry, "published")))
        updated = _date(_text(_child(entry, "updated")))
        links.append(
            Link(
                url,
                _text(_child(entry, "title")),
                published,
                "feed" if published else None,
                modified=updated,
            )
        )
    return links


def _sitemap_links(root: etree._Element, base: str, index: bool) -> list[Link]:
    links = []
    for entry in root:
        if _local(entry.tag) not in ("url", "sitemap"):
            continue
        url = absolute(base, _text(_child(entry, "loc")) or "")
        if not url:
            continue
        if index:
            links.append(Link(url, is_sitemap=True))
            continue
        news = _child(entry, "news")
        published = _date(_text(_descendant(news, "publication_date"))) if news is not None else None
        title = _text(_descendant(news, "title")) if news is not None else None
        lastmod = _date(_text(_child(entry, "lastmod")))
        links.append(Link(url, title, published, "sitemap" if published else None, modified=lastmod))
    return links


def parse_discovery(body: bytes, url: str) -> Discovery:
    """Read an RSS 2.0 / Atom feed, a (news) sitemap or a sitemap index.

    Raises :class:`FeedError` for an empty, unreadable or non-feed document. A damaged document that still
    yields entries returns them with ``problem`` set, so one broken tail does not hide the good items.
    """
    root, problem = _parse_xml(body, url)
    name = _local(root.tag)
    if name == "rss" or name == "RDF":
        kind: Kind = "rss"
        links = _rss_links(root, url)
    elif name == "feed":
        kind = "atom"
        links = _atom_links(root, url)
    elif name == "urlset":
        kind = "urlset"
        links = _sitemap_links(root, url, index=False)
    elif name == "sitemapindex":
        kind = "sitemapindex"
        links = _sitemap_links(root, url, index=True)
    elif name == "html":
        raise FeedError(f"{url}: an HTML page, not a feed or sitemap")
    else:
        raise FeedError(f"{url}: unknown document type <{name}>")
    if problem and not links:
        raise FeedError(f"{url}: {problem}")
    return Discovery(kind, links, problem)


def parse_section(html: str | bytes, url: str, article_pattern: re.Pattern[str]) -> list[Link]:
    """Links on a section page whose path matches the outlet's article pattern, in page order, once each."""
    from monitor.discovery.urls import pattern_target

    if not html or not html.strip():
        raise FeedError(f"{url}: empty section page")
    try:
        tree = lxml.html.fromstring(html)
    except (etree.ParserError, ValueError) as exc:
        raise FeedError(f"{url}: unreadable HTML: {exc}") from exc
    links: list[Link] = []
    seen: set[str] = set()
    for anchor in tree.iter("a"):
        href = absolute(url, anchor.get("href") or "")
        if not href or href in seen or not article_pattern.search(pattern_target(href)):
            continue
        seen.add(href)
        title = re.sub(r"\s+", " ", anchor.text_content()).strip() or None
        links.append(Link(href, title))
    return links
