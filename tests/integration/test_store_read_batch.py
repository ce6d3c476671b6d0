"""ReadBatch: concurrent reads share trips to the database thread, each gets its own answer, a failing one fails
alone, and a read queued after a commit sees it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from fedblog.store.db import Database, DatabaseError, SyncConnection
from fedblog.store.read_batch import ReadBatch
from tests.postgres import backend, id_column, open_database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(tmp_path / "reads.sqlite3")
    await database.connection.execute(f"CREATE TABLE notes (id {id_column()}, text TEXT)")
    await database.run_transaction(
        lambda raw: raw.executemany("INSERT INTO notes (text) VALUES (?)", [(f"note {n}",) for n in range(1, 31)])
    )
    yield database
    await database.close()


def text_of(note_id: int) -> Callable[[SyncConnection], str | None]:
    def work(raw: SyncConnection) -> str | None:
        row = raw.execute("SELECT text FROM notes WHERE id = ?", (note_id,)).fetchone()
        return None if row is None else str(row[0])

    return work


def broken(raw: SyncConnection) -> None:
    raw.execute("SELECT nothing FROM nowhere")


async def test_read_batch__concurrent_reads_each_get_their_own_answer_in_fewer_trips(db: Database) -> None:
    batch = ReadBatch(db)
    trips = 0
    run = db.run

    async def counted(work: Callable[[SyncConnection], object]) -> object:
        nonlocal trips
        trips += 1
        return await run(work)

    db.run = counted  # type: ignore[method-assign]
    answers = await asyncio.gather(*(batch.run(text_of(n)) for n in range(1, 31)), batch.run(text_of(99)))

    assert answers == [f"note {n}" for n in range(1, 31)] + [None]
    assert trips < 31


async def test_read_batch__a_failing_read_fails_alone(db: Database) -> None:
    batch = ReadBatch(db)
    outcomes = await asyncio.gather(
        batch.run(text_of(1)), batch.run(broken), batch.run(text_of(2)), return_exceptions=True
    )

    assert outcomes[0] == "note 1" and outcomes[2] == "note 2"
    assert isinstance(outcomes[1], DatabaseError)
    assert await batch.run(text_of(3)) == "note 3"  # the batch still works afterwards


async def test_read_batch__sees_what_was_committed_before(db: Database) -> None:
    batch = ReadBatch(db)
    assert await batch.run(text_of(31)) is None

    await db.run_transaction(lambda raw: raw.execute("INSERT INTO notes (id, text) VALUES (31, 'late')"))

    assert await batch.run(text_of(31)) == "late"


async def test_database__the_dialect_is_known_to_the_database_and_to_the_raw_connection(db: Database) -> None:
    seen = await db.run(lambda raw: raw.dialect)
    written = await db.run_transaction(lambda raw: raw.dialect)
    assert seen == written == db.dialect == backend()
