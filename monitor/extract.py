"""Article extraction: bytes in, :class:`Article` out. Pure: no Scrapy, no network, no database.

trafilatura pulls the body, title, authors and description; this module decodes the bytes, collects every date
candidate with its source, chooses the publication time by a fixed precedence, reads the language with a seeded
langdetect on a bounded prefix, and decides whether the page is an article at all.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import lxml.html
import trafilatura
from langdetect import DetectorFactory, LangDetectException, detect
from w3lib.encoding import html_to_unicode

from monitor.dates import date_from_url, has_time, iso, not_in_future, parse_date
from monitor.urls import absolute, canonical_url, host_of, on_domains

DetectorFactory.seed = 0  # langdetect is random unless seeded
LANGUAGE_PREFIX = 2000  # characters given to langdetect
MIN_WORDS = 40  # fewer words of running prose: not an article (video, gallery, stub)
PROSE_SENTENCE_WORDS = 5  # a sentence of at least this many words is prose, not a caption or a label
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])[\"”'»)]*\s+|\n+")
_SENTENCE_END = re.compile(r"[.!?…][\"”'»)]*\s*$")

# Page parts that are never article text, whatever the outlet: consent dialogs, navigation, page chrome.
_CLASS_OR_ID = "contains(translate(@class,'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz'),'{0}') or contains(translate(@id,'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz'),'{0}')"
PRUNE_XPATH = [
    "//*[" + " or ".join(_CLASS_OR_ID.format(w) for w in ("cookie", "consent", "rodo", "gdpr", "cmp")) + "]",
    "//nav",
    "//header[not(ancestor::article)]",
    "//footer",
]

# Where a publication date came from, best first. Modification times are never publication times.
DATE_PRECEDENCE = (
    "jsonld:datePublished",
    "meta:article:published_time",
    "sitemap",
    "feed",
    "meta:date",
    "time[datetime]",
    "text",
    "url",
    "trafilatura",
)
_META_PUBLISHED = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "datepublished",
    "publishdate",
    "pubdate",
    "dc.date.issued",
    "date",
)
_META_MODIFIED = ("article:modified_time", "og:updated_time", "datemodified", "lastmod")


class NotAnArticle(ValueError):
    """The page is not an article with text (a video, gallery, section or empty page); message is the reason."""


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode page bytes: BOM, then the HTTP charset, then ``<meta charset>``, then detection."""
    _, text = html_to_unicode(content_type, body)
    return text


def prose_words(text: str) -> int:
    """Words in sentences: runs of at least ``PROSE_SENTENCE_WORDS`` words ending in . ! ? or … .

    Captions, menus, labels and photo credits are not sentences, so a gallery or video page has almost none.
    """
    total = 0
    for sentence in _SENTENCE_SPLIT.split(text):
        words = len(sentence.split())
        if words >= PROSE_SENTENCE_WORDS and _SENTENCE_END.search(sentence):
            total += words
    return total


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, deterministic; None for text without letters."""
    sample = text[:LANGUAGE_PREFIX]
    if not re.search(r"[^\W\d_]", sample):
        return None
    try:
        return detect(sample)
    except LangDetectException:
        return None


def _jsonld_objects(tree: lxml.html.HtmlElement) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            found.append(node)
            for key in ("@graph", "mainEntity", "mainEntityOfPage"):
                if isinstance(node.get(key), list | dict):
                    walk(node[key])

    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            walk(json.loads(script.text_content() or "null", strict=False))
        except ValueError:
            continue
    return found


def _is_article_type(node: dict[str, Any]) -> bool:
    kinds = node.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(k, str) and ("Article" in k or k == "Report") for k in kinds)


def _meta(tree: lxml.html.HtmlElement, names: tuple[str, ...]) -> list[tuple[str, str]]:
    values = []
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        content = meta.get("content")
        if key in names and content:
            values.append((key, content))
    return values


def collect_dates(
    tree: lxml.html.HtmlElement, url: str, hints: Hints | None, trafilatura_date: str | None
) -> tuple[list[dict[str, str]], str | None]:
    """Every date candidate with its source (publication ones), plus the modification time when given."""
    candidates: list[dict[str, str]] = []
    modified: str | None = None

    def add(value: str | None, source: str) -> None:
        parsed = parse_date(value)
        if parsed is not None:
            candidates.append({"value": iso(parsed) or "", "source": source, "raw": value or ""})

    for node in _jsonld_objects(tree):
        if _is_article_type(node) or "datePublished" in node:
            if isinstance(node.get("datePublished"), str):
                add(node["datePublished"], "jsonld:datePublished")
            if isinstance(node.get("dateModified"), str) and modified is None:
                modified = iso(parse_date(node["dateModified"]))
    for key, value in _meta(tree, _META_PUBLISHED):
        add(value, "meta:article:published_time" if "published_time" in key else "meta:date")
    for _key, value in _meta(tree, _META_MODIFIED):
        if modified is None:
            modified = iso(parse_date(value))
    if hints and hints.published:
        add(hints.published, hints.published_source or "feed")
    for element in tree.xpath("//time[@datetime]")[:3]:
        add(element.get("datetime"), "time[datetime]")
    url_date = date_from_url(url)
    if url_date is not None:
        candidates.append({"value": iso(url_date) or "", "source": "url", "raw": url})
    if trafilatura_date:
        add(trafilatura_date, "trafilatura")
    return candidates, modified


def choose_published(candidates: list[dict[str, str]], now: datetime) -> tuple[str | None, str | None]:
    """The publication time: the best-ranked source that is not in the future; a time beats a bare day."""
    usable = [c for c in candidates if not_in_future(datetime.fromisoformat(c["value"]), now)]
    ranked = sorted(
        usable,
        key=lambda c: (
            DATE_PRECEDENCE.index(c["source"]) if c["source"] in DATE_PRECEDENCE else 99,
            not has_time(c["raw"]),
        ),
    )
    with_time = [c for c in ranked if has_time(c["raw"])]
    best = with_time[0] if with_time else (ranked[0] if ranked else None)
    return (best["value"], best["source"]) if best else (None, None)


def _authors(value: str | None) -> list[str]:
    if not value:
        return []
    names = [n.strip() for n in re.split(r";|,| i ", value) if n.strip()]
    return [n for n in names if not re.match(r"(?i)^(oprac\.|źródło|zrodlo|pap$)", n)]


def _canonical_link(tree: lxml.html.HtmlElement, url: str) -> str | None:
    """The page's ``<link rel=canonical>`` when it stays on the page's own site (a wrong one elsewhere is ignored)."""
    site = host_of(url).removeprefix("www.")
    for link in tree.xpath('//link[@rel="canonical"][@href]'):
        target = absolute(url, link.get("href"))
        if target and on_domains(target, (site,)):
            return target
    return None


def extract_article(
    url: str,
    body: bytes,
    *,
    content_type: str | None = None,
    hints: Hints | None = None,
    fetched_at: datetime | None = None,
    min_words: int = MIN_WORDS,
) -> Article:
    """Extract one article from page bytes. Raises :class:`NotAnArticle` when there is no article text."""
    now = fetched_at or datetime.now(UTC)
    if not body or not body.strip():
        raise NotAnArticle("empty page")
    html = decode_html(body, content_type)
    try:
        tree = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise NotAnArticle(f"unreadable HTML: {exc}") from exc
    og_type = next((v for _k, v in _meta(tree, ("og:type",))), "")
    if og_type.startswith("video"):
        raise NotAnArticle(f"a video page (og:type {og_type})")
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        prune_xpath=PRUNE_XPATH,
    )
    text = (document.text if document is not None else "") or ""
    words = len(text.split())
    prose = prose_words(text)
    if prose < min_words:
        raise NotAnArticle(f"no article text ({prose} words of prose)")
    candidates, modified = collect_dates(tree, url, hints, document.date if document else None)
    published, published_source = choose_published(candidates, now)
    title = (document.title if document else None) or (hints.title if hints else None)
    canonical = _canonical_link(tree, url) or url
    return Article(
        url=url,
        canonical_url=canonical_url(canonical),
        title=title,
        authors=_authors(document.author if document else None),
        published=published,
        published_source=published_source,
        modified=modified,
        date_candidates=[{"value": c["value"], "source": c["source"]} for c in candidates],
        lead=(document.description if document else None) or None,
        text=text,
        language=detect_language(text),
        paywalled=False,
        words=words,
        fetched_at=iso(now) or "",
    )
