"""The whole page: bytes in, :class:`Article` out."""

from __future__ import annotations

import codecs
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import lxml.html
import trafilatura

from monitor.extract.body import (
    clean_text,
    drop_boilerplate,
    find_lead,
    read_layout_tables,
    take_summary,
    with_lead_first,
)
from monitor.extract.dates import iso
from monitor.extract.decoding import decode_html, parse_html
from monitor.extract.language import detect_language, prose_words
from monitor.extract.metadata import (
    byline_authors,
    canonical_link,
    clean_authors,
    is_paywalled,
    jsonld_authors,
    title_of,
)
from monitor.extract.model import Article, Hints, NotAnArticle, SiteHints
from monitor.extract.published import choose_published, collect_dates, site_dates
from monitor.extract.tree import drop, jsonld_objects, meta_values, norm
from monitor.urls import canonical_url

MIN_WORDS = 40  # fewer words of running prose: not an article (video, gallery, stub)
MAX_BYTES = 8 * 1024 * 1024  # larger pages are refused, not parsed
TIME_LIMIT = 10.0  # seconds for one page, where the platform allows a timer


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`NotAnArticle` when the block runs longer than ``seconds`` (main thread on Unix only)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or seconds <= 0:
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise NotAnArticle(f"extraction took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def extract_article(
    url: str,
    body: bytes,
    *,
    content_type: str | None = None,
    hints: Hints | None = None,
    fetched_at: datetime | None = None,
    min_words: int = MIN_WORDS,
    max_bytes: int = MAX_BYTES,
    timeout: float = TIME_LIMIT,
    site: SiteHints | None = None,
) -> Article:
    """Extract one article from page bytes. Raises :class:`NotAnArticle` with the reason when there is none."""
    now = fetched_at or datetime.now(UTC)
    if not body or not body.strip():
        raise NotAnArticle("empty page")
    if len(body) > max_bytes:
        raise NotAnArticle(f"page too large ({len(body) / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB)")
    if b"\x00" in body[:2048] and not body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise NotAnArticle("binary content, not HTML")
    with time_limit(timeout):
        return _extract(url, body, content_type, hints, now, min_words, site or SiteHints())


def _extract(
    url: str,
    body: bytes,
    content_type: str | None,
    hints: Hints | None,
    now: datetime,
    min_words: int,
    site: SiteHints,
) -> Article:
    try:
        tree = parse_html(decode_html(body, content_type))
    except ValueError as exc:
        raise NotAnArticle(f"unreadable HTML: {exc}") from exc
    og_type = next((v for _k, v in meta_values(tree, ("og:type",))), "")
    if og_type.startswith("video"):
        raise NotAnArticle(f"a video page (og:type {og_type})")
    objects = jsonld_objects(tree)
    title = title_of(tree, hints.title if hints else None)
    canonical = canonical_link(tree, url) or url
    paywalled = is_paywalled(tree, objects)
    authors = clean_authors(jsonld_authors(objects) or byline_authors(tree))
    candidates, modified = collect_dates(tree, url, hints, now)
    candidates = site_dates(tree, site.date_selector, now) + candidates
    for selector in site.drop:
        for element in tree.cssselect(selector):
            drop(element)
    summary = take_summary(tree)
    read_layout_tables(tree)
    drop_boilerplate(tree)
    lead_paragraph = find_lead(tree)
    # trafilatura's own parse of the cleaned page keeps more of the body than handing it our tree
    document = trafilatura.bare_extraction(
        lxml.html.tostring(tree, encoding="unicode"),
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        date_extraction_params={
            "extensive_search": False,
            "original_date": True,
            "max_date": now.date().isoformat(),
        },
    )
    text = clean_text((document.text if document is not None else "") or "", title)
    text = with_lead_first(text, lead_paragraph)
    prose = prose_words(text)
    if prose < min_words:
        raise NotAnArticle(f"no article text ({prose} words of prose)")
    published, published_source = choose_published(candidates, now)
    if not authors and document is not None and document.author:
        authors = clean_authors([document.author])
    description = next((v for _k, v in meta_values(tree, ("description", "og:description"))), None)
    lead = summary or lead_paragraph or norm(description) or None
    return Article(
        url=url,
        canonical_url=canonical_url(canonical),
        title=title or (document.title if document else None),
        authors=authors,
        published=published,
        published_source=published_source,
        modified=modified if modified != published else None,
        date_candidates=[{"value": c["value"], "source": c["source"]} for c in candidates],
        lead=lead,
        text=text,
        language=detect_language(text),
        paywalled=paywalled,
        words=len(text.split()),
        fetched_at=iso(now) or "",
    )
