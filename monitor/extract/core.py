"""The whole page: bytes in, :class:`Article` out."""

from __future__ import annotations

import codecs
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

import lxml.html
import trafilatura
import trafilatura.settings
from trafilatura.settings import Document

from monitor.discovery.urls import canonical_url
from monitor.extract.body import (
    drop_boilerplate,
    drop_link_boxes,
    drop_teasers,
    find_lead,
    read_layout_tables,
    take_summary,
)
from monitor.extract.dates import iso
from monitor.extract.decoding import decode_html, parse_html
from monitor.extract.language import count_words, detect_language, prose_words, unspaced_share
from monitor.extract.lines import clean_text, drop_leading_bylines, split_credits, with_lead_first
from monitor.extract.metadata import (
    byline_authors,
    canonical_link,
    clean_authors,
    is_paywalled,
    jsonld_authors,
    title_of,
)
from monitor.extract.model import Article, Hints, NotAnArticle, SiteHints
from monitor.extract.prose import (
    Block,
    continuation,
    first_block_of,
    main_run,
    read_prose,
    run_text,
    run_words,
)
from monitor.extract.published import choose_published, collect_dates, htmldate_candidates, site_dates
from monitor.extract.tree import drop, jsonld_objects, meta_values, named_elements, norm

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


# trafilatura falls back to a dump of the whole page when its result is shorter than MIN_EXTRACTED_SIZE
# characters (250): fine for spaced scripts, but 250 characters of Chinese or Japanese are 100 words of prose.
_DEFAULT_CONFIG = trafilatura.settings.use_config()
_DENSE_CONFIG = deepcopy(_DEFAULT_CONFIG)
_DENSE_CONFIG.set(
    "DEFAULT", "MIN_EXTRACTED_SIZE", str(_DEFAULT_CONFIG.getint("DEFAULT", "MIN_EXTRACTED_SIZE") // 3)
)
DENSE_SCRIPT_SHARE = 0.3  # pages whose prose is at least this share Chinese, Japanese, Thai … letters
LOOK_AGAIN = 0.8  # body text with less than this share of the largest run's prose gets the rest of its kind
REPLACE = 0.5  # body text outside the run with less than this share of the run's prose is replaced by the run


def look_again(text: str, run: list[Block], title: str | None) -> str:
    """trafilatura's body, or more of it when the page's largest run of prose holds much more.

    A body split over several boxes (trafilatura returns the first) gets the run's blocks of the same kind that
    follow what it returned; a shorter box returned while the body was lost (none of its text is in the run) is
    replaced by the run."""
    wanted = run_words(run)
    found = prose_words(text)
    if not wanted or found >= LOOK_AGAIN * wanted:
        return text
    flat = norm(text)
    returned = [i for i, block in enumerate(run) if block.words and block.text in flat]
    if returned:
        more = continuation(run, returned)
        return clean_text(text + "\n" + run_text(more), title) if more else text
    return clean_text(run_text(run), title) if found < REPLACE * wanted else text


def _extract(
    url: str,
    body: bytes,
    content_type: str | None,
    hints: Hints | None,
    now: datetime,
    min_words: int,
    site: SiteHints,
) -> Article:
    html = decode_html(body, content_type)
    try:
        tree = parse_html(html)
    except ValueError as exc:
        raise NotAnArticle(f"unreadable HTML: {exc}") from exc
    og_type = next((v for _k, v in meta_values(tree, ("og:type",))), "")
    if og_type.startswith("video"):
        raise NotAnArticle(f"a video page (og:type {og_type})")
    objects = jsonld_objects(tree)
    title = title_of(tree, hints.title if hints else None)
    canonical = canonical_link(tree, url) or url
    named = named_elements(tree)
    paywalled = is_paywalled(tree, objects, named)
    authors = clean_authors(jsonld_authors(objects) or byline_authors(tree))
    candidates, modified = collect_dates(tree, url, hints, now, named)
    candidates = site_dates(tree, site.date_selector, now) + candidates
    for selector in site.drop:
        for element in tree.cssselect(selector):
            drop(element)
    summary = take_summary(tree)
    read_layout_tables(tree)
    prose = read_prose(tree)
    drop_boilerplate(tree, prose, named)
    drop_teasers(tree, (url, canonical), prose)
    drop_link_boxes(tree)
    run = main_run(prose, tree)
    dense = unspaced_share(" ".join(block.text for block in prose.blocks[:200])[:3000]) >= DENSE_SCRIPT_SHARE
    document = trafilatura.bare_extraction(  # its own parse of the cleaned page keeps more than our tree does
        lxml.html.tostring(tree, encoding="unicode"),
        url=url,
        config=_DENSE_CONFIG if dense else _DEFAULT_CONFIG,
        include_comments=False,
        include_tables=True,
    )
    extracted = document.text if isinstance(document, Document) else None
    text = drop_leading_bylines(clean_text(extracted or "", title))
    text = look_again(text, run, title)
    lead_paragraph = find_lead(tree, first_block_of(text, prose, tree))
    text, credits = split_credits(with_lead_first(text, lead_paragraph))
    found = prose_words(text)
    if found < min_words:
        raise NotAnArticle(f"no article text ({found} words of prose)")
    if not candidates:  # nothing on the page the ways we look: htmldate searches it its own way
        candidates = htmldate_candidates(html, url, now, modified)
    published, published_source = choose_published(candidates, now)
    description = next((v for _k, v in meta_values(tree, ("description", "og:description"))), None)
    lead = summary or lead_paragraph or norm(description) or None
    return Article(
        url=url,
        canonical_url=canonical_url(canonical),
        title=title,
        authors=authors,
        published=published,
        published_source=published_source,
        modified=modified if modified != published else None,
        date_candidates=[{"value": c["value"], "source": c["source"]} for c in candidates],
        lead=lead,
        text=text,
        language=detect_language(text),
        paywalled=paywalled,
        words=count_words(text),
        fetched_at=iso(now) or "",
        credits=credits,
    )
