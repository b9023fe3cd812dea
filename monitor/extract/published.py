"""Publication time with provenance: every candidate on the page (and from discovery) with its source, and the
choice among them by ``DATE_PRECEDENCE``."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import htmldate
import lxml.html

from monitor.extract.dates import WARSAW, date_from_url, has_time, iso, parse_date, plausible, text_dates
from monitor.extract.model import Hints
from monitor.extract.tree import Named, is_article_type, jsonld_objects, marked, meta_values, norm

# Where a publication date came from, best first. Modification times are never publication times.
DATE_PRECEDENCE = (
    "site:date_selector",
    "jsonld:datePublished",
    "meta:article:published_time",
    "sitemap",
    "feed",
    "meta:date",
    "time[datetime]",
    "text",
    "url",
    "htmldate",  # only when none of the above is on the page: htmldate's own search of the page
)
_META_PUBLISHED = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "datepublished",
    "publishdate",
    "pubdate",
    "dc.date.issued",
    "dcterms.created",
    "date",
)
_META_MODIFIED = ("article:modified_time", "og:updated_time", "datemodified", "lastmod", "dcterms.modified")

_DATE_MARKERS = re.compile(r"date|time|publi|data|byline|meta|info|when|signature|stamp|czas|posted")


def _text_after_headline(tree: lxml.html.HtmlElement, limit: int = 400) -> str:
    """The page text that follows the headline, where bylines and dates sit."""
    h1 = next(tree.iter("h1"), None)
    if h1 is None:
        return ""
    parts: list[str] = []
    size = 0
    node: lxml.html.HtmlElement | None = h1
    while node is not None and size < limit:
        for sibling in node.itersiblings():
            if not isinstance(sibling.tag, str) or sibling.tag in ("script", "style"):
                continue
            text = norm(sibling.text_content())
            parts.append(text)
            size += len(text)
            if size >= limit:
                break
        node = node.getparent()
    return " ".join(parts)[:limit]


def collect_dates(
    tree: lxml.html.HtmlElement,
    url: str,
    hints: Hints | None,
    now: datetime,
    named: Named | None = None,
) -> tuple[list[dict[str, str]], str | None]:
    """Every publication-date candidate with its source, plus the modification time when one is given."""
    candidates: list[dict[str, str]] = []
    modified: list[datetime] = []

    def add(value: datetime | str | None, source: str, raw: str | None = None) -> None:
        parsed = parse_date(value) if isinstance(value, str) or value is None else value
        if parsed is not None and plausible(parsed, now):
            stamp = iso(parsed.astimezone(WARSAW)) or ""
            timed = has_time(raw if raw is not None else str(value))
            candidates.append({"value": stamp, "source": source, "timed": "1" if timed else ""})

    def add_modified(value: str | None) -> None:
        parsed = parse_date(value)
        if parsed is not None and plausible(parsed, now):
            modified.append(parsed)

    for node in jsonld_objects(tree):
        if is_article_type(node) or "datePublished" in node:
            if isinstance(node.get("datePublished"), str):
                add(node["datePublished"], "jsonld:datePublished")
            if isinstance(node.get("dateModified"), str):
                add_modified(node["dateModified"])
    for key, value in meta_values(tree, _META_PUBLISHED):
        add(value, "meta:article:published_time" if "published" in key else "meta:date")
    for _key, value in meta_values(tree, _META_MODIFIED):
        add_modified(value)
    if hints and hints.published:
        add(hints.published, hints.published_source or "feed")
    for element in tree.xpath("//time[@datetime]")[:5]:
        label = " ".join(
            filter(
                None,
                (
                    element.get("itemprop"),
                    element.get("class"),
                    element.getparent().get("class") if element.getparent() is not None else None,
                ),
            )
        ).lower()
        if any(word in label for word in ("modif", "updat", "aktualiz")):
            add_modified(element.get("datetime"))
        else:
            add(element.get("datetime"), "time[datetime]")
    seen_text: set[str] = set()
    for element in marked(tree, _DATE_MARKERS, named)[:60]:
        text = norm(element.text_content())
        if not text or len(text) > 200 or text in seen_text:
            continue
        seen_text.add(text)
        for when, kind in text_dates(text, now):
            if kind == "modified":
                if plausible(when, now):
                    modified.append(when)
            else:
                add(when, "text", raw=when.strftime("%H:%M") if (when.hour or when.minute) else "")
    if not any(c["source"] == "text" for c in candidates):
        for when, kind in text_dates(_text_after_headline(tree), now):
            if kind == "published":
                add(when, "text", raw=when.strftime("%H:%M") if (when.hour or when.minute) else "")
                break
    url_date = date_from_url(url)
    if url_date is not None:
        add(url_date, "url", raw="")
    latest_modified = max(modified) if modified else None
    return candidates, iso(latest_modified.astimezone(WARSAW)) if latest_modified else None


def choose_published(
    candidates: list[dict[str, str]], now: datetime | None = None
) -> tuple[str | None, str | None]:
    """The publication time: the best-ranked source; when it gives only a day, a candidate with a time on the
    same day refines it to the minute."""
    if not candidates:
        return None, None

    def rank(c: dict[str, str]) -> int:
        return DATE_PRECEDENCE.index(c["source"]) if c["source"] in DATE_PRECEDENCE else len(DATE_PRECEDENCE)

    ranked = sorted(candidates, key=lambda c: (rank(c), not c.get("timed")))
    best = ranked[0]
    if not best.get("timed"):
        day = best["value"][:10]
        for other in ranked[1:]:
            if other.get("timed") and other["value"][:10] == day:
                return other["value"], other["source"]
    return best["value"], best["source"]


def site_dates(tree: lxml.html.HtmlElement, selector: str | None, now: datetime) -> list[dict[str, str]]:
    if not selector:
        return []
    for element in tree.cssselect(selector)[:3]:
        value = element.get("datetime") or element.get("content") or norm(element.text_content())
        parsed = parse_date(value)
        if parsed is None:
            found = [d for d, kind in text_dates(value, now) if kind == "published"]
            parsed = found[0] if found else None
        if parsed is not None and plausible(parsed, now):
            timed = "1" if (parsed.hour or parsed.minute) else ""
            return [
                {
                    "value": iso(parsed.astimezone(WARSAW)) or "",
                    "source": "site:date_selector",
                    "timed": timed,
                }
            ]
    return []


def _new_year_written(html: str, year: int) -> bool:
    """The page writes 1 January of ``year`` as a date (htmldate answers a bare year, such as a copyright year,
    with 1 January of it)."""
    y = str(year)
    pattern = (
        rf"{y}[-/.]0?1[-/.]0?1(?!\d)|(?<!\d)0?1[-/.]0?1[-/.]{y}"
        rf"|(?<!\d)0?1\.?\s*(?:st\s+|er\s+|de\s+)?(?:stycznia|styczeń|jan\w*|ene\w*|genn\w*)\s*,?\s*(?:de\s+)?{y}"
        rf"|jan\w*\s+0?1(?:st)?\s*,?\s*{y}"
    )
    return re.search(pattern, html, re.IGNORECASE) is not None


def htmldate_candidates(
    html: str, url: str, now: datetime, modified: str | None = None
) -> list[dict[str, str]]:
    """The publication day htmldate finds on the page (its extensive search of the markup and text, in any
    language), as a candidate with its own provenance; asked only when the page gives no date the ways above.

    Not taken: a bare year (htmldate gives 1 January of a copyright year when it finds nothing better) and the
    day of the page's modification time (htmldate falls back to it; it is never the publication time)."""
    try:
        found = htmldate.find_date(
            html,
            url=url,
            extensive_search=True,
            original_date=True,
            max_date=(now + timedelta(days=1)).date().isoformat(),
        )
    except ValueError:
        return []
    parsed = parse_date(found)
    if parsed is None or not plausible(parsed, now):
        return []
    if (parsed.month, parsed.day) == (1, 1) and not _new_year_written(html, parsed.year):
        return []
    value = iso(parsed.astimezone(WARSAW)) or ""
    if modified and modified[:10] == value[:10]:
        return []
    return [{"value": value, "source": "htmldate", "timed": ""}]
