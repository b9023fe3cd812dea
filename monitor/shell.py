"""Helpers for ``scrapy shell``: ``from monitor.shell import *`` gives extract(), classify() and explain().

    $ scrapy shell ./fixtures/sites/interia/articles/kushner-witkoff-putin-moskwa.html
    >>> from monitor.shell import *
    >>> extract(response)      # fields, lead, body start, every date candidate with its source
    >>> classify(response)     # relevance, score and matched terms
    >>> explain(response)      # which rules fired, on which words, in which field, against which threshold

Each prints and returns its value (Article, Verdict, explanation text), so it can be inspected further.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from monitor.extract import Article, NotAnArticle, extract_article
from monitor.rules import Ruleset, Verdict, load_rules
from monitor.rules import classify as _classify
from monitor.rules import explain as _explain

__all__ = ["explain", "extract", "classify", "describe_article", "describe_verdict"]


@lru_cache(maxsize=1)
def _ruleset() -> Ruleset:
    from scrapy.utils.project import get_project_settings

    return load_rules(get_project_settings().get("MONITOR_RULES") or None)


def _from_response(response: Any) -> Article | None:
    """The extraction of a shell response, or None after printing why it is not an article."""
    content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or None
    try:
        return extract_article(
            response.url, response.body, content_type=content_type, fetched_at=datetime.now(UTC)
        )
    except NotAnArticle as exc:
        print(f"not an article: {exc}")
        return None


def describe_article(article: Article) -> str:
    lines = [
        f"title:      {article.title}",
        f"url:        {article.url}",
        f"canonical:  {article.canonical_url}",
        f"authors:    {', '.join(article.authors) or '-'}",
        f"published:  {article.published or '-'}  (from {article.published_source or 'nothing'})",
        f"modified:   {article.modified or '-'}",
        f"language:   {article.language}   words: {article.words}   paywalled: {article.paywalled}",
        "date candidates:",
        *(f"  {c['value']}  {c['source']}" for c in article.date_candidates),
        f"lead:       {(article.lead or '-')[:300]}",
        f"text:       {article.text[:500]}{'…' if len(article.text) > 500 else ''}",
    ]
    return "\n".join(lines)


def describe_verdict(verdict: Verdict) -> str:
    lines = [f"relevance: {verdict.relevance}   score: {verdict.score}   rules: {verdict.ruleset}"]
    lines += [f"  {m.field:<5} {m.rule:<28} {m.term:<24} {m.snippet}" for m in verdict.matches]
    return "\n".join(lines)


def extract(response: Any) -> Article | None:
    """Print and return the extraction of ``response`` (None with the reason when it is not an article)."""
    article = _from_response(response)
    if article is not None:
        print(describe_article(article))
    return article


def classify(response: Any) -> Verdict | None:
    """Print and return the peace-talk verdict for ``response``."""
    article = _from_response(response)
    if article is None:
        return None
    verdict = _classify(_ruleset(), article.title, article.lead, article.text)
    print(describe_verdict(verdict))
    return verdict


def explain(response: Any) -> str | None:
    """Print and return a readable explanation of the verdict: rules, words, fields, weights, thresholds."""
    article = _from_response(response)
    if article is None:
        return None
    ruleset = _ruleset()
    text = _explain(ruleset, _classify(ruleset, article.title, article.lead, article.text), article.title)
    print(text)
    return text
