"""The SQLite archive: schema and migrations, opening, writes, runs, wire stories, search, Atom, ingest. No Scrapy.

The database is the crawl's memory and the analysts' main interface (docs/archive.md). Modules:
:mod:`~monitor.archive.schema` (tables, views, migrations), :mod:`~monitor.archive.database` (opening and
refusing), :mod:`~monitor.archive.store` (writes and what the next crawl remembers), :mod:`~monitor.archive.runs`
(run records), :mod:`~monitor.archive.stories` (wire copies), :mod:`~monitor.archive.queries`,
:mod:`~monitor.archive.search`, :mod:`~monitor.archive.atom`, :mod:`~monitor.archive.ingest`.
"""

from typing import TYPE_CHECKING

from monitor.lazy import exports

if TYPE_CHECKING:
    from monitor.archive.database import (
        BUSY_TIMEOUT_MS,
        check_writable,
        open_database,
        open_for_reading,
    )
    from monitor.archive.errors import StorageError
    from monitor.archive.memory import load_memory
    from monitor.archive.schema import FTS_AUTOMERGE, FTS_HASHSIZE, FTS_SETTINGS, known_migrations, migrations
    from monitor.archive.store import Storage, StoredResult

# Imported when first used (monitor.lazy): a reading command never loads the writer's clustering.
__getattr__ = exports(
    __name__,
    {
        "database": [
            "BUSY_TIMEOUT_MS",
            "check_writable",
            "open_database",
            "open_for_reading",
        ],
        "errors": ["StorageError"],
        "memory": ["load_memory"],
        "schema": ["FTS_AUTOMERGE", "FTS_HASHSIZE", "FTS_SETTINGS", "known_migrations", "migrations"],
        "store": ["Storage", "StoredResult"],
    },
)

__all__ = [
    "BUSY_TIMEOUT_MS",
    "FTS_AUTOMERGE",
    "FTS_HASHSIZE",
    "FTS_SETTINGS",
    "Storage",
    "StorageError",
    "StoredResult",
    "check_writable",
    "known_migrations",
    "load_memory",
    "migrations",
    "open_database",
    "open_for_reading",
]
