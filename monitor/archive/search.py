"""Full-text search of the archive: a user's words become a safe FTS5 query, results ranked by bm25 or newest
first.

The index (``articles_fts``, see :mod:`monitor.archive`) holds title, lead and body with Polish diacritics folded,
``ł`` included, so a query is folded the same way: ``Zełenski`` and ``zelenski`` find the same stories, and so do
``Białego`` and ``bialego``.

Query syntax (:func:`fts_query`): words are all required; ``"several words"`` is a phrase; ``word*`` a prefix;
``OR`` between two terms means either; ``-word`` excludes. Everything else a user types is quoted, so FTS5
operators, column filters and stray quotes in the input cannot break or change the query.

Two orders (issue #15): ``relevance`` scores every matching article with bm25 and keeps the best, which costs
1.5–3 µs per match (a word in most of a million articles: seconds); ``recent`` reads the index backwards from the
newest article and stops at ``limit``, whatever the number of matches. :func:`choose_order` picks ``recent``
when a query matches more than :data:`RECENT_ABOVE` articles, which it finds out by counting no further.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from monitor.rules.text import fold

# Title counts ten times the body, the lead five times.
BM25_WEIGHTS = (10.0, 5.0, 1.0)
_PART = re.compile(r'(-?)"([^"]*)"?(\*?)|(\S+)')


class QueryError(ValueError):
    """A search query with nothing to search for."""


def _quote(words: str) -> str | None:
    """One FTS5 string (a phrase) of the folded words, or None when nothing searchable is left."""
    folded = fold(words)
    if not re.search(r"\w", folded):
        return None
    return '"' + folded.replace('"', '""') + '"'


def fts_query(text: str) -> str:
    """Turn what a user typed into a safe FTS5 MATCH expression over folded text.

    >>> fts_query('Zełenski "rozmowy pokojowe" Putin* -Gaza')
    '("zelenski" "rozmowy pokojowe" "putin"*) NOT "gaza"'
    """
    positive: list[str] = []
    negative: list[str] = []
    pending_or = False
    for match in _PART.finditer(text or ""):
        minus, phrase, phrase_star, word = match.groups()
        if word is not None:
            if word == "OR":
                pending_or = bool(positive)
                continue
            minus = "-" if word.startswith("-") and len(word) > 1 else ""
            word = word[1:] if minus else word
            star = word.endswith("*")
            quoted = _quote(word.rstrip("*"))
        else:
            star = bool(phrase_star)
            quoted = _quote(phrase)
        if quoted is None:
            continue
        term = quoted + ("*" if star else "")
        if minus:
            negative.append(term)
        elif pending_or:
            positive[-1] = f"{positive[-1]} OR {term}"
            pending_or = False
        else:
            positive.append(term)
    if not positive:
        raise QueryError("nothing to search for: give at least one word that is not excluded with '-'")
    expression = " ".join(f"({p})" if " OR " in p and len(positive) > 1 else p for p in positive)
    if negative:
        expression = f"({expression})" + "".join(f" NOT {n}" for n in negative)
    return expression


# The best `limit` rows are chosen on bm25 alone (SQLite keeps only the best `limit` while FTS5 scores every
# match; at 100,000 articles this beats FTS5's own `ORDER BY rank` by up to 2x for a word in most articles); the
# snippet, which re-reads and re-tokenizes an article, is then made for those rows only (in one query SQLite would
# make it for every match before sorting). CROSS JOIN keeps `top` the outer loop, so the index is probed by rowid
# instead of scanning every match again. Filters join `articles` inside `top`.
SEARCH_SQL = """
WITH top AS (
    SELECT articles_fts.rowid AS id, bm25(articles_fts, {weights}) AS rank
    FROM articles_fts {join}
    WHERE articles_fts MATCH :query {filters}
    ORDER BY rank
    LIMIT :limit
)
SELECT a.id, a.published, a.source AS outlet, a.title, a.url, a.relevance, a.score, a.story_id, top.rank,
       snippet(articles_fts, 2, '[', ']', '…', 14) AS snippet
FROM top
CROSS JOIN articles_fts ON articles_fts.rowid = top.id AND articles_fts MATCH :query
JOIN articles a ON a.id = top.id
ORDER BY top.rank
"""


# Newest first: FTS5 walks its index from the highest rowid (an article's id: the order it was stored) and the
# outer query stops at :limit, so nothing is scored or sorted but the rows shown. CROSS JOIN keeps the index the
# outer loop when filters join `articles`. No bm25 here, not even for the rows shown: it counts every article
# that contains each term, the very cost this order avoids (rank is NULL).
RECENT_SQL = """
WITH top AS (
    SELECT articles_fts.rowid AS id
    FROM articles_fts {join}
    WHERE articles_fts MATCH :query {filters}
    ORDER BY articles_fts.rowid DESC
    LIMIT :limit
)
SELECT a.id, a.published, a.source AS outlet, a.title, a.url, a.relevance, a.score, a.story_id,
       NULL AS rank, snippet(articles_fts, 2, '[', ']', '…', 14) AS snippet
FROM top
CROSS JOIN articles_fts ON articles_fts.rowid = top.id AND articles_fts MATCH :query
JOIN articles a ON a.id = top.id
ORDER BY top.id DESC
"""


ORDERS = ("relevance", "recent")
RECENT_ABOVE = (
    10_000  # more matches than this and `monitor search` shows the newest first unless told otherwise
)


def matches_more_than(conn: sqlite3.Connection, text: str, count: int) -> bool:
    """Whether more than ``count`` articles match (counting stops at ``count + 1``)."""
    found = conn.execute(
        "SELECT count(*) FROM (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? LIMIT ?)",
        [fts_query(text), count + 1],
    ).fetchone()[0]
    return bool(found > count)


def choose_order(conn: sqlite3.Connection, text: str, order: str = "auto", above: int = RECENT_ABOVE) -> str:
    """The order to search in: ``order`` itself, or for ``auto`` ``recent`` when the query matches more than
    ``above`` articles (bm25 would score every one of them) and ``relevance`` otherwise."""
    if order in ORDERS:
        return order
    if order != "auto":
        raise ValueError(f"unknown order {order!r}: auto, {', '.join(ORDERS)}")
    return "recent" if matches_more_than(conn, text, above) else "relevance"


def search(
    conn: sqlite3.Connection,
    text: str,
    *,
    limit: int = 20,
    outlet: str | None = None,
    relevance: str | None = None,
    order: str = "relevance",
) -> list[dict[str, Any]]:
    """The articles matching what a user typed: best first (``relevance``: bm25, title and lead weighted up) or
    newest first (``recent``: the order the archive stored them)."""
    if order not in ORDERS:
        raise ValueError(f"unknown order {order!r}: {', '.join(ORDERS)}")
    filters = ""
    params: dict[str, Any] = {"query": fts_query(text), "limit": limit}
    if outlet:
        filters += " AND a.source = :outlet"
        params["outlet"] = outlet
    if relevance:
        filters += " AND a.relevance = :relevance"
        params["relevance"] = relevance
    recent = order == "recent"
    join = f"{'CROSS ' if recent else ''}JOIN articles a ON a.id = articles_fts.rowid" if filters else ""
    template = RECENT_SQL if recent else SEARCH_SQL
    sql = template.format(weights=", ".join(map(str, BM25_WEIGHTS)), join=join, filters=filters)
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]
