"""SQLite's WAL is copied back into the database file by a connection of its own, soon after commits, so that no
commit (and none of the replies waiting in the group commit) waits for the copy."""

from __future__ import annotations

import asyncio
import math
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fedblog.store import checkpoints
from fedblog.store.db import Database

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "wal.sqlite3")
    await database.connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    yield database
    await database.close()


def rows_in_the_file_alone(path: Path, copy: Path) -> int:
    """The notes a copy of the database file holds without its WAL: what was checkpointed."""
    shutil.copyfile(path, copy)
    other = sqlite3.connect(copy)
    try:
        return int(other.execute("SELECT COUNT(*) FROM notes").fetchone()[0])
    except sqlite3.OperationalError:  # not even the table is in the file yet
        return 0
    finally:
        other.close()


async def test_commits__are_checkpointed_soon_by_another_connection(db: Database, tmp_path: Path) -> None:
    # A few hundred small commits: far below SQLite's own 1,000-page threshold, so before this nothing was copied.
    for n in range(300):
        await db.run_transaction(lambda raw, n=n: raw.execute("INSERT INTO notes (text) VALUES (?)", (f"n{n}",)))
    await asyncio.sleep(checkpoints.INTERVAL_SECONDS * 2)

    assert rows_in_the_file_alone(tmp_path / "wal.sqlite3", tmp_path / "copy.sqlite3") == 300
    assert await db.fetch_value("SELECT COUNT(*) FROM notes") == 300


async def test_write_connection__checkpoints_itself_only_past_the_limit(db: Database) -> None:
    limit = await db.connection.fetch_value("PRAGMA wal_autocheckpoint")
    assert limit == checkpoints.WAL_LIMIT_PAGES


async def test_checkpoints__at_most_one_per_interval(db: Database) -> None:
    assert db._checkpoints is not None
    before, started = db._checkpoints.done, time.monotonic()
    for n in range(200):
        await db.run_transaction(lambda raw, n=n: raw.execute("INSERT INTO notes (text) VALUES (?)", (f"n{n}",)))
    await asyncio.sleep(checkpoints.INTERVAL_SECONDS * 2.5)
    intervals = (time.monotonic() - started) / checkpoints.INTERVAL_SECONDS
    # The first at once, then at most one per interval, and one for the last commits: not one per commit.
    assert 2 <= db._checkpoints.done - before <= math.ceil(intervals) + 1
