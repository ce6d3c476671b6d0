"""Readers never see another coroutine's uncommitted rows: reads outside a transaction use a connection of their
own (WAL), the transaction's body reads its own rows, and the write path is one queue of turns and batches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from fedblog.models import CommentOrigin, CommentStatus
from fedblog.services.posts import PostInput, PostService
from fedblog.store.comments import NewComment, VisitorAuthor
from fedblog.store.db import Database, DatabaseError, SyncConnection
from tests.conftest import LiveSite
from tests.postgres import id_column, open_database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await open_database(tmp_path / "isolation.sqlite3")
    async with database.transaction() as conn:
        await conn.execute(f"CREATE TABLE notes (id {id_column()}, text TEXT)")
    yield database
    await database.close()


async def texts(db: Database) -> list[str]:
    return [row[0] for row in await db.fetch_all("SELECT text FROM notes ORDER BY id")]


async def test_read__another_coroutine_sees_only_committed_rows(db: Database) -> None:
    # Given a transaction that has written a row and has not committed yet
    written = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> list[str]:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO notes (text) VALUES ('draft')")
            seen_inside = await texts(db)  # the body reads its own row
            written.set()
            await release.wait()
        return seen_inside

    task = asyncio.create_task(writer())
    await asyncio.wait_for(written.wait(), 10)

    # When another coroutine reads meanwhile, Then the row is not there; once committed, it is
    assert await texts(db) == []
    assert await db.run(lambda raw: raw.execute("SELECT COUNT(*) FROM notes").fetchone()[0]) == 0
    release.set()
    assert await asyncio.wait_for(task, 10) == ["draft"]
    assert await texts(db) == ["draft"]


async def test_read__a_rolled_back_row_was_never_visible(db: Database) -> None:
    written = asyncio.Event()
    seen: list[list[str]] = []

    async def reader() -> None:
        await written.wait()
        seen.append(await texts(db))

    async def failing_writer() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO notes (text) VALUES ('undone')")
            written.set()
            await asyncio.sleep(0.05)  # the reader runs while the row is written
            raise RuntimeError("changed my mind")

    results = await asyncio.gather(reader(), failing_writer(), return_exceptions=True)
    assert isinstance(results[1], RuntimeError)
    assert seen == [[]]
    assert await texts(db) == []


async def test_read__the_read_connection_refuses_writes(db: Database) -> None:
    # A write sent down the read path by mistake fails loudly instead of committing outside the write path
    with pytest.raises(DatabaseError, match=r"readonly|read-only"):
        await db.fetch_all("INSERT INTO notes (text) VALUES ('stray')")
    assert await texts(db) == []


async def test_write_queue__turns_and_batches_keep_their_order(db: Database) -> None:
    order: list[str] = []
    inside = asyncio.Event()
    release = asyncio.Event()

    async def long_turn() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO notes (text) VALUES ('turn 1')")
            inside.set()
            await release.wait()
        order.append("turn 1")

    async def second_turn() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO notes (text) VALUES ('turn 2')")
        order.append("turn 2")

    def batch_work(raw: SyncConnection) -> None:
        raw.execute("INSERT INTO notes (text) VALUES ('batch')")

    async def batched() -> None:
        await db.run_transaction(batch_work)
        order.append("batch")

    first = asyncio.create_task(long_turn())
    await asyncio.wait_for(inside.wait(), 10)
    # Queued while the first turn holds the connection: a batch, then another turn
    queued = [asyncio.create_task(batched()), asyncio.create_task(second_turn())]
    await asyncio.sleep(0.05)
    assert order == []  # nothing jumps the turn that holds the connection
    release.set()
    await asyncio.wait_for(asyncio.gather(first, *queued), 10)
    assert order == ["turn 1", "batch", "turn 2"]
    assert await texts(db) == ["turn 1", "batch", "turn 2"]


async def test_write_queue__a_turn_cancelled_while_waiting_does_not_block_the_next(db: Database) -> None:
    inside = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with db.transaction():
            inside.set()
            await release.wait()

    async def waiter() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO notes (text) VALUES ('never')")

    first = asyncio.create_task(holder())
    await asyncio.wait_for(inside.wait(), 10)
    cancelled = asyncio.create_task(waiter())
    await asyncio.sleep(0.01)
    cancelled.cancel()
    release.set()
    await asyncio.wait_for(first, 10)
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    async with asyncio.timeout(10), db.transaction() as conn:
        await conn.execute("INSERT INTO notes (text) VALUES ('after')")
    assert await texts(db) == ["after"]


async def test_post_page__an_uncommitted_comment_is_not_shown(site: LiveSite) -> None:
    # Given a published post and an approved comment written inside a transaction still open
    post = await PostService(site.ctx).publish(PostInput(title="Quiet", body_markdown="Body."))
    url = f"{site.url}/posts/{post.slug}"
    new = NewComment(post.id, None, 0, CommentOrigin.WEB, CommentStatus.APPROVED, "<p>Not yet said</p>")
    async with aiohttp.ClientSession() as session:
        async with site.ctx.db.transaction() as conn:
            await site.ctx.comments.add_comment(conn, new, VisitorAuthor("Ada", "ada@example.org", None))
            # When a visitor loads the page meanwhile, Then the comment is not on it
            async with session.get(url) as response:
                assert response.status == 200
                assert "Not yet said" not in await response.text()
        # And once committed, it is (the page cached meanwhile is retired)
        async with session.get(url) as response:
            assert "Not yet said" in await response.text()


async def test_closed_database__writes_and_reads_fail_with_the_store_error(tmp_path: Path) -> None:
    # A process whose database went away (closed under it) gets the store's own error, never the driver's
    db = await open_database(tmp_path / "closed.sqlite3")
    await db.close()
    with pytest.raises(DatabaseError, match="closed"):
        async with db.transaction() as conn:
            await conn.execute("SELECT 1")
    with pytest.raises(DatabaseError, match="closed"):
        await db.run_transaction(lambda raw: raw.execute("SELECT 1"))
    with pytest.raises(DatabaseError, match="closed"):
        await db.fetch_all("SELECT 1")
