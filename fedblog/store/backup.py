"""A consistent copy of the live database with SQLite's online backup API: pages copied while the site serves,
the copy being the database as of one moment (a write during the copy restarts it)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from fedblog.store.db import Database, DatabaseError, SyncConnection


async def copy_database(db: Database, target: Path) -> None:
    """Write a consistent snapshot of `db` to the new file `target` (a single file: no -wal beside it)."""

    def copy(raw: SyncConnection) -> None:
        if not isinstance(raw, sqlite3.Connection):
            raise DatabaseError("the online backup copies a SQLite database only")
        destination = sqlite3.connect(target)
        try:
            raw.backup(destination)
            destination.execute("PRAGMA journal_mode = DELETE")  # the copy stands alone, as one file
        finally:
            destination.close()

    await db.run(copy)


def check_database_file(path: Path) -> str | None:
    """Why `path` is not a usable SQLite database (None when it is): read before it replaces a site's own."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA quick_check").fetchone()
            connection.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as error:
        return str(error)
    return None if result and result[0] == "ok" else f"integrity check: {result[0] if result else 'no answer'}"
