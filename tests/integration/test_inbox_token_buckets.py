"""The inbox's token buckets, kept in the database (store/token_buckets.py): burst then rate, all or none, shared
by every connection to the database (on PostgreSQL too, where two transactions run side by side); and the inbox's
fetch slots per host."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fedblog.services import inbox_limits
from fedblog.services.inbox_limits import FETCHES_PER_HOST, InboxLimits, Limit
from fedblog.store.db import Database
from fedblog.store.postgresql.database import PostgresDatabase
from fedblog.store.token_buckets import Bucket, TokenBucketStore
from tests import postgres

SLOW = Limit("test_slow", capacity=2, rate=0.5)


@pytest.fixture
def place(tmp_path: Path) -> str:
    """Where the database is: a SQLite file, or on PostgreSQL (FEDBLOG_TEST_BACKEND) a fresh database's URL."""
    if postgres.backend() == "postgresql":
        return postgres.cluster().fresh_database()
    return str(tmp_path / "buckets.sqlite3")


async def open_at(place: str) -> Database:
    if place.startswith("postgresql://"):
        return await PostgresDatabase.connect(place)
    return await Database.open(place)


@pytest.fixture
async def db(place: str) -> AsyncIterator[Database]:
    database = await open_at(place)
    yield database
    await database.close()


async def test_token_buckets__burst_then_rate(db: Database) -> None:
    store = TokenBucketStore(db)
    bucket = SLOW.bucket("a")
    assert await store.take_all([bucket], now=100.0) == [0.0]
    assert await store.take_all([bucket], now=100.0) == [0.0]
    assert await store.take_all([bucket], now=100.0) == [2.0]  # one token every 2 s
    assert await store.take_all([SLOW.bucket("b")], now=100.0) == [0.0]  # another key has its own bucket
    assert await store.take_all([bucket], now=102.0) == [0.0]


async def test_token_buckets__take_from_every_bucket_or_from_none(db: Database) -> None:
    store = TokenBucketStore(db)
    roomy, tight = Bucket("roomy", "x", 5, 1), Bucket("tight", "y", 1, 0.1)
    assert await store.take_all([roomy, tight], now=0.0) == [0.0, 0.0]
    assert await store.take_all([roomy, tight], now=0.0) == [0.0, pytest.approx(10.0)]
    assert await store.levels([roomy, tight], now=0.0) == [4.0, 0.0]  # the refused request cost the roomy one nothing


async def test_token_buckets__a_full_bucket_leaves_no_row(db: Database) -> None:
    store = TokenBucketStore(db)
    await store.take_all([SLOW.bucket("gone"), SLOW.bucket("kept")], now=0.0)
    await store.take_all([SLOW.bucket("kept")], now=1.0)
    await store.take_all([SLOW.bucket("other")], now=2.5)  # "gone" is full again at 2.0, "kept" at 3.0
    keys = [row[0] for row in await db.fetch_all("SELECT bucket_key FROM token_buckets ORDER BY bucket_key")]
    assert keys == ["kept", "other"]


async def test_token_buckets__two_connections_to_one_database_take_from_the_same_buckets(
    db: Database, place: str
) -> None:
    other = await open_at(place)
    try:
        first, second = TokenBucketStore(db), TokenBucketStore(other)
        results = await asyncio.gather(*(store.take_all([SLOW.bucket("h")], now=0.0) for store in [first, second] * 2))
    finally:
        await other.close()
    assert sorted(wait for [wait] in results) == [0.0, 0.0, 2.0, 2.0]  # capacity 2, whichever process asks


async def test_inbox_limits__an_empty_bucket_is_refused_until_it_holds_a_token(db: Database) -> None:
    now = [1000.0]
    limits = InboxLimits(TokenBucketStore(db), clock=lambda: now[0])
    capacity = int(inbox_limits.UNKNOWN_KEY.capacity)
    answers = [await limits.admit_unknown("h.example", "h.example/k", "Create", None) for _ in range(capacity + 1)]
    assert answers[:capacity] == [0] * capacity
    assert answers[capacity] == 12  # one try every 12 s for an unknown key
    now[0] += 6
    assert await limits.admit_unknown("h.example", "h.example/k", "Create", None) == 6
    assert await limits.admit_unknown("h.example", "h.example/other", "Create", None) == 0
    now[0] += 6
    assert await limits.admit_unknown("h.example", "h.example/k", "Create", None) == 0


async def test_fetch_slots__at_most_a_few_per_host_and_a_bounded_wait(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_limits, "SLOT_WAIT_SECONDS", 0.2)
    limits = InboxLimits(TokenBucketStore(db))
    release = asyncio.Event()
    holding = 0

    async def hold() -> bool:
        nonlocal holding
        async with limits.fetch_slot("busy.example") as got:
            if got:
                holding += 1
                await release.wait()
            return got

    holders = [asyncio.create_task(hold()) for _ in range(FETCHES_PER_HOST)]
    await asyncio.sleep(0.05)
    assert holding == FETCHES_PER_HOST
    async with limits.fetch_slot("busy.example") as got:
        assert got is False  # no slot within the wait
    async with limits.fetch_slot("other.example") as got:
        assert got is True  # another host is not held up
    release.set()
    assert all(await asyncio.gather(*holders))
