"""The rows an article becomes in the archive: the ``articles`` columns a store writes and a re-fetch refreshes, the
statements that write them, the full-text index's folding and the ``matches`` rows of a verdict. Used by the writer
(:mod:`monitor.archive.store`) and by the bulk builder (:mod:`monitor.archive.bulk`), which must write the same
rows. No Scrapy.
"""

from __future__ import annotations

import json
from typing import Any

from monitor.extract import Article
from monitor.rules import Verdict

_ARTICLE_COLUMNS = (
    "url",
    "fetched_url",
    "source",
    "title",
    "lead",
    "text",
    "authors",
    "credits",
    "published",
    "published_source",
    "modified",
    "date_candidates",
    "language",
    "words",
    "paywalled",
    "relevance",
    "score",
    "ruleset",
    "first_seen",
    "last_seen",
    "fetched_at",
    "content_hash",
    "story_id",
    "changed_at",
)


_INSERT_ARTICLE = (
    f"INSERT INTO articles (id, {', '.join(_ARTICLE_COLUMNS)}) "
    f"VALUES (?, {', '.join('?' * len(_ARTICLE_COLUMNS))})"
)


# Columns refreshed on every re-fetch; title, lead and text only when the content hash changed.
_REFRESHED = (
    "fetched_url",
    "source",
    "authors",
    "credits",
    "published",
    "published_source",
    "modified",
    "date_candidates",
    "language",
    "words",
    "paywalled",
    "relevance",
    "score",
    "ruleset",
    "last_seen",
    "fetched_at",
)


def refreshed_values(source: str, article: Article, verdict: Verdict, seen_at: str) -> list[Any]:
    """The values of ``_REFRESHED``, in its order, for a stored or re-fetched article."""
    return [
        article.url,
        source,
        json.dumps(article.authors, ensure_ascii=False),
        json.dumps(article.credits, ensure_ascii=False),
        article.published,
        article.published_source,
        article.modified,
        json.dumps(article.date_candidates, ensure_ascii=False),
        article.language,
        article.words,
        int(article.paywalled),
        verdict.relevance,
        verdict.score,
        verdict.ruleset,
        seen_at,
        article.fetched_at or seen_at,
    ]


_UPDATE_SEEN = f"UPDATE articles SET {', '.join(f'{c} = ?' for c in _REFRESHED)} WHERE id = ?"


_UPDATE_CHANGED = (
    f"UPDATE articles SET {', '.join(f'{c} = ?' for c in _REFRESHED)}, title = ?, lead = ?, text = ?, "
    "content_hash = ?, changed_at = coalesce(?, changed_at), revisions = revisions + ? WHERE id = ?"
)


_INSERT_MATCH = (
    'INSERT INTO matches (article_id, rule, grp, term, entity, field, start, "end", snippet) '
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


_INSERT_REVISION = (
    "INSERT INTO article_revisions (article_id, changed_at, fields, title_before, title_after, lead_before, "
    "lead_after, text_before, words_before, words_after, hash_before, hash_after) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


_INSERT_FTS = "INSERT INTO articles_fts (rowid, title, lead, text) VALUES (?, ?, ?, ?)"


def fts_fold(value: str | None) -> str | None:
    """What the FTS index receives for a text (Python twin of ``_FTS_FOLD``; both must stay identical)."""
    return value.replace("ł", "l").replace("Ł", "L") if value else value


def _match_rows(article_id: int, verdict: Verdict) -> list[tuple[Any, ...]]:
    return [
        (article_id, m.rule, m.group, m.term, m.entity, m.field, m.start, m.end, m.snippet)
        for m in verdict.matches
    ]


def _same(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").split()) == " ".join((b or "").split())
