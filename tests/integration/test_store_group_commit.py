"""Database.run_transaction: concurrent writes share one commit, and one that fails is undone alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from fedblog.store.db import Conflict, Database, SyncConnection
from tests.postgres import id_column, open_database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(tmp_path / "group.sqlite3")
    await database.connection.execute(f"CREATE TABLE notes (id {id_column()}, text TEXT UNIQUE)")
    yield database
    await database.close()


def insert(text: str) -> Callable[[SyncConnection], int]:
    def work(raw: SyncConnection) -> int:
        return int(raw.execute("INSERT INTO notes (text) VALUES (?) RETURNING id", (text,)).fetchone()[0])

    return work


def insert_then_fail(raw: SyncConnection) -> None:
    raw.execute("INSERT INTO notes (text) VALUES ('half done')")
    raise ValueError("failed midway")


async def stored(db: Database) -> list[str]:
    return [row[0] for row in await db.fetch_all("SELECT text FROM notes ORDER BY id")]


async def test_run_transaction__concurrent_writes_all_commit(db: Database) -> None:
    ids = await asyncio.gather(*(db.run_transaction(insert(f"note {n}")) for n in range(20)))

    assert sorted(ids) == list(range(1, 21))
    assert await stored(db) == [f"note {n}" for n in range(20)]


async def test_run_transaction__a_failing_write_is_undone_alone(db: Database) -> None:
    outcomes = await asyncio.gather(
        db.run_transaction(insert("first")),
        db.run_transaction(insert_then_fail),
        db.run_transaction(insert("first")),  # a duplicate: the store's Conflict
        db.run_transaction(insert("last")),
        return_exceptions=True,
    )

    assert isinstance(outcomes[1], ValueError) and isinstance(outcomes[2], Conflict)
    assert await stored(db) == ["first", "last"]
    with pytest.raises(Conflict):  # alone, too
        await db.run_transaction(insert("last"))
    assert await stored(db) == ["first", "last"]
    assert not db.connection.in_transaction


async def test_transaction__cancelled_while_beginning_leaves_the_write_path_usable(tmp_path: Path) -> None:
    """BEGIN runs on the database thread even when its caller is cancelled: the transaction must not stay open."""
    db = await open_database(tmp_path / "cancel.sqlite3")
    try:
        entered = False

        async def write() -> None:
            nonlocal entered
            async with db.transaction():
                entered = True

        for _ in range(3):
            task = asyncio.create_task(write())
            await asyncio.sleep(0)  # the task holds the lock and waits for BEGIN
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert not entered
        async with asyncio.timeout(10):
            async with db.transaction() as conn:
                await conn.execute("CREATE TABLE probe (x INTEGER)")
            assert await db.run_transaction(lambda raw: raw.execute("INSERT INTO probe VALUES (1)").rowcount) == 1
    finally:
        await db.close()


async def test_executemany__counts_the_rows_it_changed_and_one_that_changed_none_keeps_the_caches(db: Database) -> None:
    # Given two notes
    await db.run_transaction(insert("a"))
    await db.run_transaction(insert("b"))
    version = db.version
    # When a batch of updates matches none of them
    async with db.transaction() as conn:
        done = await conn.executemany("UPDATE notes SET text = 'x' WHERE text = ?", [("nobody",), ("nothing",)])
    # Then it counts none, and the commit retires no cached page (in this process or, by NOTIFY, another)
    assert done.rowcount == 0
    assert db.version == version
    # When batches change some of their rows, each counts those only
    async with db.transaction() as conn:
        deleted = await conn.executemany("DELETE FROM notes WHERE text = ?", [("a",), ("nobody",)])
        inserted = await conn.executemany(
            "INSERT INTO notes (text) VALUES (?) ON CONFLICT DO NOTHING", [("b",), ("c",), ("d",)]
        )
    assert (deleted.rowcount, inserted.rowcount) == (1, 2)
    assert db.version == version + 1
    assert await stored(db) == ["b", "c", "d"]
