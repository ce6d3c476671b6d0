"""Token buckets in the database: every process on the database takes from the same buckets, so a sender cannot
get a fresh allowance by reaching another process (or a restarted one).

A bucket holds up to `capacity` tokens and gains `rate` tokens a second; a request takes one. Times are wall-clock
seconds (shared by processes, unlike a monotonic clock). A row exists only while its bucket is not full: a full
bucket is the same as no row, so rows whose `full_at` has passed are deleted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import partial

from fedblog.store.db import Database, SyncConnection


@dataclass(frozen=True)
class Bucket:
    scope: str  # which limit ("inbox_host", …)
    key: str  # whose bucket (a host, a key id, a post)
    capacity: float
    rate: float  # tokens per second


class TokenBucketStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def take_all(self, buckets: list[Bucket], now: float) -> list[float]:
        """Take one token from each bucket when all hold one (every wait 0.0); else take none and return, for each
        bucket, the seconds until it holds a token (0.0 for those that hold one now). One transaction: two
        processes cannot both take the last token."""
        return await self.db.run_transaction(partial(take_all_sync, buckets, now))

    async def levels(self, buckets: list[Bucket], now: float) -> list[float]:
        """The tokens each bucket holds now (nothing taken)."""
        return await self.db.run(partial(_levels_sync, buckets, now))


def level_of(bucket: Bucket, tokens: float, counted_at: float, now: float) -> float:
    return min(bucket.capacity, tokens + max(0.0, now - counted_at) * bucket.rate)


def _levels_sync(buckets: list[Bucket], now: float, raw: SyncConnection) -> list[float]:
    levels = []
    for bucket in buckets:
        row = raw.execute(
            "SELECT tokens, counted_at FROM token_buckets WHERE scope = ? AND bucket_key = ?",
            (bucket.scope, bucket.key),
        ).fetchone()
        levels.append(bucket.capacity if row is None else level_of(bucket, row[0], row[1], now))
    return levels


def take_all_sync(buckets: list[Bucket], now: float, raw: SyncConnection) -> list[float]:
    if raw.dialect == "postgresql":
        # SQLite runs one write transaction at a time; PostgreSQL runs them side by side, and two processes could
        # both read a bucket's last token: each bucket is locked for the transaction, in one order (no deadlock).
        for lock in sorted({_lock_key(bucket) for bucket in buckets}):
            raw.execute("SELECT pg_advisory_xact_lock(?)", (lock,))
    raw.execute("DELETE FROM token_buckets WHERE full_at <= ?", (now,))
    levels = _levels_sync(buckets, now, raw)
    waits = [
        0.0 if level >= 1.0 else (1.0 - level) / bucket.rate for bucket, level in zip(buckets, levels, strict=True)
    ]
    if any(waits):
        return waits
    for bucket, level in zip(buckets, levels, strict=True):
        tokens = level - 1.0
        raw.execute(
            "INSERT INTO token_buckets (scope, bucket_key, tokens, counted_at, full_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (scope, bucket_key) DO UPDATE SET"
            " tokens = excluded.tokens, counted_at = excluded.counted_at, full_at = excluded.full_at",
            (bucket.scope, bucket.key, tokens, now, now + (bucket.capacity - tokens) / bucket.rate),
        )
    return waits


def _lock_key(bucket: Bucket) -> int:
    """A signed 64-bit advisory lock key for one bucket (the same in every process)."""
    digest = hashlib.blake2b(f"token-bucket\0{bucket.scope}\0{bucket.key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)
