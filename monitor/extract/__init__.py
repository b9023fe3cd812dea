"""Article extraction: bytes in, :class:`Article` out. Pure: no Scrapy, no network, no database.

The steps, one module each, tested on stored pages:

- :mod:`.decoding` — page bytes to text (BOM, HTTP charset, ``<meta>`` charset, then detection between UTF-8,
  windows-1250 and ISO-8859-2; every declared charset is checked against the bytes before it is believed);
- :mod:`.published` and :mod:`.dates` — every date candidate with its source, and the publication time chosen by
  ``DATE_PRECEDENCE``;
- :mod:`.metadata` — title, authors, paywall, canonical address;
- :mod:`.body` — the "W skrócie" summary and the lead paragraph, outlet boilerplate removed, trafilatura's output
  cleaned line by line;
- :mod:`.language` — the language and the amount of running prose (pages without it are not articles);
- :mod:`.core` — the whole page, with the refusals (video pages, empty, binary, too large, too slow).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.lazy import exports

if TYPE_CHECKING:
    from monitor.extract.body import drop_boilerplate, drop_teasers, find_lead, take_summary
    from monitor.extract.core import MAX_BYTES, MIN_WORDS, TIME_LIMIT, extract_article, time_limit
    from monitor.extract.decoding import decode_html
    from monitor.extract.language import count_words, detect_language, prose_words
    from monitor.extract.lines import clean_text, split_credits
    from monitor.extract.metadata import clean_authors, is_paywalled
    from monitor.extract.model import Article, Hints, NotAnArticle, SiteHints
    from monitor.extract.published import DATE_PRECEDENCE, choose_published, collect_dates

# Imported when first used (monitor.lazy): the archive and the reading commands need only the data model.
__getattr__ = exports(
    __name__,
    {
        "body": ["drop_boilerplate", "drop_teasers", "find_lead", "take_summary"],
        "core": ["MAX_BYTES", "MIN_WORDS", "TIME_LIMIT", "extract_article", "time_limit"],
        "decoding": ["decode_html"],
        "language": ["count_words", "detect_language", "prose_words"],
        "lines": ["clean_text", "split_credits"],
        "metadata": ["clean_authors", "is_paywalled"],
        "model": ["Article", "Hints", "NotAnArticle", "SiteHints"],
        "published": ["DATE_PRECEDENCE", "choose_published", "collect_dates"],
    },
)

__all__ = [
    "DATE_PRECEDENCE",
    "MAX_BYTES",
    "MIN_WORDS",
    "TIME_LIMIT",
    "Article",
    "Hints",
    "NotAnArticle",
    "SiteHints",
    "choose_published",
    "clean_authors",
    "clean_text",
    "count_words",
    "collect_dates",
    "decode_html",
    "detect_language",
    "drop_boilerplate",
    "drop_teasers",
    "extract_article",
    "find_lead",
    "is_paywalled",
    "prose_words",
    "split_credits",
    "take_summary",
    "time_limit",
]
