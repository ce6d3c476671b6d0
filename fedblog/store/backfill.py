"""The thread backfill's queue (services/backfill.py) and the comments it found."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fedblog.clock import to_text
from fedblog.store.claims import claiming
from fedblog.store.db import Connection, Database, SyncConnection

PENDING, DONE, FAILED = "pending", "done", "failed"

_DUE = (
    "SELECT j.id, j.comment_id, j.post_id, j.attempts, c.remote_id FROM backfill_jobs j "
    "JOIN comments c ON c.id = j.comment_id "
    "WHERE j.state = 'pending' AND j.next_attempt_at <= ? AND (j.locked_until IS NULL OR j.locked_until < ?) "
    "ORDER BY j.next_attempt_at, j.id LIMIT ?"
)


@dataclass(frozen=True)
class CrawlJob:
    id: int
    comment_id: int
    post_id: int
    attempts: int
    remote_id: str | None  # the Note whose sub-thread is read


_ENQUEUE = (
    "INSERT INTO backfill_jobs (comment_id, post_id, state, next_attempt_at) VALUES (?, ?, 'pending', ?) "
    "ON CONFLICT (comment_id) DO UPDATE SET state = 'pending', attempts = 0, next_attempt_at = excluded.next_attempt_at"
)


class BackfillStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._claim = claiming(_DUE, db.dialect, of="j")

    async def enqueue(self, conn: Connection, comment_id: int, post_id: int, now: datetime) -> None:
        """A crawl of this comment's sub-thread, due now (again, if it was crawled before)."""
        await conn.execute(_ENQUEUE, (comment_id, post_id, to_text(now)))

    @staticmethod
    def enqueue_sync(raw: SyncConnection, comment_id: int, post_id: int, now: datetime) -> None:
        """enqueue() inside a one-trip transaction (the inbox's published reply)."""
        raw.execute(_ENQUEUE, (comment_id, post_id, to_text(now)))

    async def claim(self, now: datetime, lock_until: datetime, limit: int) -> list[CrawlJob]:
        stamp = to_text(now)
        if not await self.db.fetch_value(_DUE, (stamp, stamp, 1)):
            return []  # idle: no write transaction
        async with self.db.transaction() as conn:
            jobs = [CrawlJob(*row) for row in await conn.fetch_all(self._claim, (stamp, stamp, limit))]
            await conn.executemany(
                "UPDATE backfill_jobs SET locked_until = ? WHERE id = ?",
                [(to_text(lock_until), job.id) for job in jobs],
            )
        return jobs

    async def finish(self, job_id: int, now: datetime, again_at: datetime | None, error: str | None) -> None:
        """A crawl ended: due again at `again_at` (a re-crawl of an active thread), else done."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE backfill_jobs SET state = ?, attempts = 0, next_attempt_at = ?, locked_until = NULL, "
                "last_error = ?, crawled_at = ? WHERE id = ?",
                (PENDING if again_at else DONE, to_text(again_at) if again_at else None, error, to_text(now), job_id),
            )

    async def retry(self, job_id: int, attempts: int, again_at: datetime | None, error: str) -> None:
        """The crawl could not start (its Note could not be fetched): tried again at `again_at`, else failed."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE backfill_jobs SET state = ?, attempts = ?, next_attempt_at = ?, locked_until = NULL, "
                "last_error = ? WHERE id = ?",
                (PENDING if again_at else FAILED, attempts, to_text(again_at) if again_at else None, error, job_id),
            )

    async def job_state(self, comment_id: int) -> str | None:
        value = await self.db.fetch_value("SELECT state FROM backfill_jobs WHERE comment_id = ?", (comment_id,))
        return None if value is None else str(value)

    async def mark_found(self, conn: Connection, comment_id: int, post_id: int, now: datetime) -> None:
        await conn.execute(
            "INSERT INTO backfill_found (comment_id, post_id, found_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (comment_id, post_id, to_text(now)),
        )

    async def count_found(self, post_id: int) -> int:
        """Comments of this post found by backfill (its budget per post)."""
        return int(await self.db.fetch_value("SELECT COUNT(*) FROM backfill_found WHERE post_id = ?", (post_id,)))

    async def found_among(self, comment_ids: list[int]) -> set[int]:
        if not comment_ids:
            return set()
        marks = ", ".join("?" * len(comment_ids))
        rows = await self.db.fetch_all(
            f"SELECT comment_id FROM backfill_found WHERE comment_id IN ({marks})", comment_ids
        )
        return {int(row[0]) for row in rows}

    async def last_comment_at(self, post_id: int) -> str | None:
        """When the post's thread last got a comment (text, as stored): whether it is still active."""
        value = await self.db.fetch_value("SELECT MAX(created_at) FROM comments WHERE post_id = ?", (post_id,))
        return None if value is None else str(value)
