"""Datasette plugin of the monitor: SQL functions that fold and quote search input like ``monitor search``.

``fts_query(text)`` turns what a user typed into a safe FTS5 query over the folded index (``Zełenski`` →
``"zelenski"``); an empty or unusable input becomes ``""``, which matches nothing. ``fold(text)`` is the folding
itself. ``monitor serve`` loads this plugin; with plain ``datasette`` pass
``--plugins-dir monitor/data/datasette/plugins``.
"""

from __future__ import annotations

import sqlite3

from datasette import hookimpl

from monitor.archive.search import QueryError, fts_query
from monitor.rules.text import fold


def sql_fts_query(text: str | None) -> str:
    try:
        return fts_query(text or "")
    except QueryError:
        return '""'


def sql_fold(text: str | None) -> str | None:
    return fold(text) if text is not None else None


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.create_function("fts_query", 1, sql_fts_query, deterministic=True)
    conn.create_function("fold", 1, sql_fold, deterministic=True)
