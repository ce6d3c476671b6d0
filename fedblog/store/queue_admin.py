"""The delivery queue seen and steered by its operator: what waits, per host and per worker (`fedblog queue
status`, `/metrics`), failed deliveries made due again (`queue retry`), a host's undelivered rows removed
(`queue purge`). Read from the `deliveries`, `hosts` and `delivery_workers` tables the worker uses, so what every
process and every machine does is seen, not one process's memory. Times are ISO 8601 UTC text, as there."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fedblog.clock import from_text, to_text
from fedblog.store.db import Database


@dataclass(frozen=True)
class HostQueue:
    host: str
    pending: int  # waiting for a first attempt, no lease
    retrying: int  # waiting for another attempt after a failure, no lease
    leased: int  # claimed by a worker whose lease still runs
    failed: int  # given up
    paused_until: datetime | None
    oldest_pending: datetime | None  # when the oldest undelivered row was queued


@dataclass(frozen=True)
class WorkerQueue:
    id: str
    machine: str
    pid: int
    heartbeat_at: datetime
    leased: int


@dataclass(frozen=True)
class QueueOverview:
    hosts: list[HostQueue]
    workers: list[WorkerQueue]

    @property
    def pending(self) -> int:
        return sum(h.pending for h in self.hosts)

    @property
    def retrying(self) -> int:
        return sum(h.retrying for h in self.hosts)

    @property
    def leased(self) -> int:
        return sum(h.leased for h in self.hosts)

    @property
    def failed(self) -> int:
        return sum(h.failed for h in self.hosts)

    @property
    def paused(self) -> int:
        return sum(1 for h in self.hosts if h.paused_until is not None)

    @property
    def oldest_pending(self) -> datetime | None:
        times = [h.oldest_pending for h in self.hosts if h.oldest_pending is not None]
        return min(times) if times else None


class QueueAdminStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def overview(self, now: datetime, host: str | None = None) -> QueueOverview:
        """Every host with undelivered rows (or a pause), and every worker known with the leases it holds."""
        stamp = to_text(now)
        where, params = ("AND d.host = ?", (host,)) if host else ("", ())
        rows = await self.db.fetch_all(
            "SELECT d.host, "
            "SUM(CASE WHEN d.status = 'pending' AND d.attempts = 0 AND (d.locked_until IS NULL OR d.locked_until <= ?) "
            "THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN d.status = 'pending' AND d.attempts > 0 AND (d.locked_until IS NULL OR d.locked_until <= ?) "
            "THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN d.status = 'pending' AND d.locked_until > ? THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END), "
            "MIN(CASE WHEN d.status = 'pending' THEN d.created_at END), h.paused_until "
            "FROM deliveries d LEFT JOIN hosts h ON h.host = d.host "
            f"WHERE d.status != 'delivered' {where} GROUP BY d.host, h.paused_until ORDER BY d.host",
            (stamp, stamp, stamp, *params),
        )
        hosts = [
            HostQueue(
                host=row[0],
                pending=row[1] or 0,
                retrying=row[2] or 0,
                leased=row[3] or 0,
                failed=row[4] or 0,
                oldest_pending=from_text(row[5]),
                paused_until=paused if (paused := from_text(row[6])) and paused > now else None,
            )
            for row in rows
        ]
        worker_rows = await self.db.fetch_all(
            "SELECT w.id, w.machine, w.pid, w.heartbeat_at, "
            "(SELECT COUNT(*) FROM deliveries d WHERE d.locked_by = w.id AND d.status = 'pending' "
            "AND d.locked_until > ?) FROM delivery_workers w WHERE w.role = 'deliveries' ORDER BY w.machine, w.pid",
            (stamp,),
        )
        workers = [
            WorkerQueue(id=r[0], machine=r[1], pid=r[2], heartbeat_at=from_text(r[3]), leased=r[4])  # type: ignore[arg-type]
            for r in worker_rows
        ]
        return QueueOverview(hosts, workers)

    async def retry_failed(self, now: datetime, host: str | None = None) -> int:
        """Failed rows (of one host, or all) are pending again with a fresh count of attempts, and every row waiting
        for a retry is due now; the host's pause and failure count are cleared, so the worker tries at its next
        poll. Returns how many rows were made due."""
        stamp = to_text(now)
        where, params = ("AND host = ?", (host,)) if host else ("", ())
        async with self.db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?, locked_until = NULL, "
                f"locked_by = NULL WHERE status = 'failed' {where}",
                (stamp, *params),
            )
            count = cursor.rowcount
            cursor = await conn.execute(
                f"UPDATE deliveries SET next_attempt_at = ? WHERE status = 'pending' AND next_attempt_at > ? {where}",
                (stamp, stamp, *params),
            )
            count += cursor.rowcount
            await conn.execute(
                f"UPDATE hosts SET consecutive_failures = 0, paused_until = NULL WHERE 1 = 1 {where}", params
            )
        return count

    async def purge_host(self, host: str) -> int:
        """Remove every undelivered row (pending, leased or failed) for the host. Returns how many."""
        async with self.db.transaction() as conn:
            cursor = await conn.execute("DELETE FROM deliveries WHERE host = ? AND status != 'delivered'", (host,))
            return cursor.rowcount
