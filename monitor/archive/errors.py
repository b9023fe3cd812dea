"""The archive's one error, in a module of its own: a command names it in its error handling without importing
sqlite-utils and the schema (``monitor classify``, ``monitor extract`` and ``--help`` never open an archive)."""

from __future__ import annotations


class StorageError(RuntimeError):
    """The database cannot be used; the message names the file and the reason in one line."""
