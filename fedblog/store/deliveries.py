"""The delivery queue (one row per activity and inbox) and the per-host health that pauses dead servers.

Times are ISO 8601 UTC text, compared as strings; the caller passes `now`, so the worker's clock rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from fedblog.clock import from_text, to_text
from fedblog.store.db import Connection, Database, Row, SyncConnection
from fedblog.store.postgresql import deliveries as pg

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


# A job is free when it holds no lease, its lease ran out, or the worker holding it has no fresh heartbeat
# (parameters: now, now, the oldest heartbeat still alive).
_FREE = (
    "(locked_until IS NULL OR locked_until <= ? OR (locked_by IS NOT NULL AND locked_by NOT IN "
    "(SELECT id FROM delivery_workers WHERE heartbeat_at > ?)))"
)
_ANY_DUE = f"SELECT 1 FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ? AND {_FREE} LIMIT 1"
_UPSERT_WORKER = (
    "INSERT INTO delivery_workers (id, machine, pid, started_at, heartbeat_at, role) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at"
)
# What a row of delivery_workers holds leases on: deliveries (a delivery worker) or inbox activities.
DELIVERIES = "deliveries"
INBOX = "inbox"


# A host that failed lately or is paused (PostgreSQL's batch of inbox preflights asks it too).
TROUBLED_HOST = "(consecutive_failures > 0 OR paused_until IS NOT NULL)"
_TROUBLED = f"SELECT 1 FROM hosts WHERE host = ? AND {TROUBLED_HOST}"


_SAVE_RESULT = (
    "UPDATE deliveries SET status = ?, attempts = ?, next_attempt_at = COALESCE(?, next_attempt_at), "
    "locked_until = NULL, locked_by = NULL, last_error = ?, "
    "delivered_at = CASE WHEN ? = 'delivered' THEN ? END WHERE id = ?"
)
_HOST_SUCCEEDED = (
    "INSERT INTO hosts (host, consecutive_failures, last_success_at) VALUES (?, 0, ?) "
    "ON CONFLICT (host) DO UPDATE SET consecutive_failures = 0, paused_until = NULL, "
    "last_success_at = excluded.last_success_at"
)


@dataclass(frozen=True)
class Job:
    id: int
    activity_id: str
    inbox: str
    host: str
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class WorkerRecord:
    """A holder of leases (a delivery worker, or a process's inbox) as the database knows it: where it runs and
    when it last said it was alive."""

    id: str
    machine: str
    pid: int
    heartbeat_at: datetime
    role: str = DELIVERIES  # DELIVERIES or INBOX


@dataclass(frozen=True)
class HostHealth:
    consecutive_failures: int
    last_counted_failure_at: datetime | None


@dataclass(frozen=True)
class HostStatus:
    host: str
    pending: int
    retrying: int
    failed: int
    delivered: int
    consecutive_failures: int
    paused_until: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class Result:
    """What to write back for one job after an attempt."""

    job_id: int
    status: str  # pending (retry) | delivered | failed
    attempts: int
    next_attempt_at: datetime | None = None
    error: str | None = None


def _result_rows(results: Iterable[Result], now: datetime) -> list[tuple[object, ...]]:
    stamp = to_text(now)
    return [
        (
            r.status,
            r.attempts,
            to_text(r.next_attempt_at) if r.next_attempt_at else None,
            r.error[:300] if r.error else None,
            r.status,
            stamp,
            r.job_id,
        )
        for r in results
    ]


def _pg_results(results: Iterable[Result]) -> list[tuple[int, str, int, str | None, str | None]]:
    return [
        (r.job_id, r.status, r.attempts, to_text(r.next_attempt_at) if r.next_attempt_at else None,
         r.error[:300] if r.error else None)
        for r in results
    ]  # fmt: skip


# Leases other live workers hold, per host (parameters: this worker, now, the oldest heartbeat still alive):
# what they send now counts against a host's limit too. Read through the partial index of migration 087: without
# INDEXED BY, SQLite's planner (no ANALYZE statistics) read every pending job through deliveries_due instead, at
# every claim (0.9 ms a claim with 10,000 jobs due). SQLite only: PostgreSQL's claim is a statement of its own.
_LEASED_ELSEWHERE = (
    "SELECT host, COUNT(*) FROM deliveries INDEXED BY deliveries_leased "
    "WHERE locked_by IS NOT NULL AND locked_by != ? AND status = 'pending' "
    "AND locked_until > ? AND locked_by IN (SELECT id FROM delivery_workers WHERE heartbeat_at > ?) GROUP BY host"
)
_CLAIM_WINDOW = (
    "SELECT id, activity_id, inbox, host, attempts, created_at FROM deliveries "
    f"WHERE status = 'pending' AND next_attempt_at <= ? AND {_FREE} ORDER BY next_attempt_at, id LIMIT ?"
)


def _job(row: Row) -> Job:
    return Job(id=row[0], activity_id=row[1], inbox=row[2], host=row[3], attempts=row[4], created_at=from_text(row[5]))  # type: ignore[arg-type]


def _worker_row(worker: WorkerRecord | None) -> tuple[str, str, int, str] | None:
    return (worker.id, worker.machine, worker.pid, worker.role) if worker is not None else None


def _claim_sqlite(
    raw: SyncConnection,
    *,
    now: datetime,
    stamp: str,
    alive: str,
    window: int,
    worker: WorkerRecord | None,
    busy: Mapping[str, int],
    per_host: int,
    limit: int,
    lock_until: str,
) -> list[Job]:
    """claim_due() on SQLite, in one trip to the write thread: the due index is read row by row and no further than
    the `limit`-th job taken (reading the whole window, 512 rows and more, was most of a claim's cost)."""
    taken: dict[str, int] = dict(busy)
    if worker is not None:
        for host, leased in raw.execute(_LEASED_ELSEWHERE, (worker.id, stamp, alive)).fetchall():
            taken[host] = taken.get(host, 0) + int(leased)
    chosen: list[Job] = []
    cursor = raw.execute(_CLAIM_WINDOW, (stamp, stamp, alive, window))
    try:
        while len(chosen) < limit and (row := cursor.fetchone()) is not None:
            if taken.get(row[3], 0) >= per_host:
                continue
            taken[row[3]] = taken.get(row[3], 0) + 1
            chosen.append(_job(row))
    finally:
        cursor.close()
    if chosen:
        if worker is not None:
            DeliveryStore.heartbeat_sync(raw, worker, now)
        raw.executemany(
            "UPDATE deliveries SET locked_until = ?, locked_by = ? WHERE id = ?",
            [(lock_until, worker.id if worker else None, job.id) for job in chosen],
        )
    return chosen


class DeliveryStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert_jobs(
        self, conn: Connection, activity_id: str, targets: Iterable[tuple[str, str]], now: datetime
    ) -> None:
        """One pending job per (inbox, host); a paused host's new jobs wait for the end of its pause."""
        stamp = to_text(now)
        if conn.dialect == "postgresql":  # one statement for the whole fan-out
            await conn.execute(pg.INSERT_JOBS, pg.job_parameters(activity_id, targets, stamp))
            return
        await conn.executemany(
            "INSERT INTO deliveries "
            "(activity_id, inbox, host, status, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, 'pending', 0, "
            "COALESCE((SELECT paused_until FROM hosts WHERE host = ? AND paused_until > ?), ?), ?) "
            "ON CONFLICT DO NOTHING",
            [(activity_id, inbox, host, host, stamp, stamp, stamp) for inbox, host in targets],
        )

    async def claim_due(
        self,
        now: datetime,
        lock_until: datetime,
        limit: int,
        per_host: int,
        busy: Mapping[str, int] | None = None,
        worker: WorkerRecord | None = None,
        alive_since: datetime | None = None,
    ) -> list[Job]:
        """Lease up to `limit` due jobs, oldest first, at most `per_host` per host counting the `busy` ones already
        in flight here and the leases other live workers hold (the limit holds across workers and machines). A lease
        ends at `lock_until`, or as soon as its `worker`'s heartbeat is older than `alive_since` (the claim itself is
        a heartbeat). Reads a bounded window of the due index, never the whole queue."""
        stamp = to_text(now)
        alive = to_text(alive_since) if alive_since else ""  # "": every known worker counts as alive
        if not await self.db.fetch_value(_ANY_DUE, (stamp, stamp, alive)):
            return []  # idle: no write transaction (an idle worker polls every few seconds)
        window_size = max(limit * 8, 512)
        if self.db.dialect == "postgresql":  # one statement (store/postgresql/deliveries.CLAIM)
            claim = partial(
                pg.claim, now=stamp, alive=alive, window=window_size, worker=_worker_row(worker), busy=busy or {},
                per_host=per_host, limit=limit, lock_until=to_text(lock_until),
            )  # fmt: skip
            rows = await self.db.run_statement(claim)
            return [_job(row) for row in sorted(rows, key=lambda row: (row[6], row[0]))]
        claim = partial(
            _claim_sqlite, now=now, stamp=stamp, alive=alive, window=window_size, worker=worker, busy=busy or {},
            per_host=per_host, limit=limit, lock_until=to_text(lock_until),
        )  # fmt: skip
        return await self.db.run_transaction(claim)

    # Workers
    @staticmethod
    async def _beat(conn: Connection, worker: WorkerRecord, now: datetime) -> None:
        stamp = to_text(now)
        await conn.execute(_UPSERT_WORKER, (worker.id, worker.machine, worker.pid, stamp, stamp, worker.role))

    @staticmethod
    def heartbeat_sync(raw: SyncConnection, worker: WorkerRecord, now: datetime) -> None:
        """heartbeat() on the database thread, inside a transaction that takes leases in the holder's name."""
        stamp = to_text(now)
        raw.execute(_UPSERT_WORKER, (worker.id, worker.machine, worker.pid, stamp, stamp, worker.role))

    async def heartbeat(self, conn: Connection, worker: WorkerRecord, now: datetime) -> None:
        """The worker is alive at `now` (its leases hold)."""
        await self._beat(conn, worker, now)

    async def workers_on(self, machine: str) -> list[WorkerRecord]:
        rows = await self.db.fetch_all(
            "SELECT id, machine, pid, heartbeat_at, role FROM delivery_workers WHERE machine = ?", (machine,)
        )
        return [WorkerRecord(r[0], r[1], r[2], from_text(r[3]), r[4]) for r in rows]  # type: ignore[arg-type]

    async def forget_workers(self, worker_ids: Iterable[str], silent_since: datetime) -> None:
        """These workers are gone, and so is every worker silent since `silent_since`: their leases are free (claims
        skip only the leases of known, live workers), and the table keeps only live workers."""
        async with self.db.transaction() as conn:
            await conn.executemany("DELETE FROM delivery_workers WHERE id = ?", [(w,) for w in worker_ids])
            await conn.execute("DELETE FROM delivery_workers WHERE heartbeat_at < ?", (to_text(silent_since),))

    async def release_worker(self, worker_id: str) -> None:
        """A worker stopping cleanly: the jobs it leased and did not finish are free, and it is forgotten."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE deliveries SET locked_until = NULL, locked_by = NULL "
                "WHERE locked_by = ? AND status = 'pending'",
                (worker_id,),
            )
            await conn.execute("DELETE FROM delivery_workers WHERE id = ?", (worker_id,))

    async def save_results(self, conn: Connection, results: Iterable[Result], now: datetime) -> None:
        if conn.dialect == "postgresql":
            rows = _pg_results(results)
            await conn.run(lambda raw: pg.save_outcomes(raw, to_text(now), rows, (), None))
            return
        await conn.executemany(_SAVE_RESULT, _result_rows(results, now))

    async def save_outcomes(
        self, results: Iterable[Result], healthy_hosts: Iterable[str], now: datetime, worker: WorkerRecord | None = None
    ) -> None:
        """save_outcomes_sync() committed: on SQLite in the group commit, on PostgreSQL as one statement alone (one
        trip, Database.run_statement)."""
        if self.db.dialect == "postgresql":
            stamp, rows = to_text(now), _pg_results(results)
            hosts = list(healthy_hosts)
            await self.db.run_statement(lambda raw: pg.save_outcomes(raw, stamp, rows, hosts, _worker_row(worker)))
            return
        await self.db.run_transaction(partial(self.save_outcomes_sync, results=results, healthy_hosts=healthy_hosts,
                                              now=now, worker=worker))  # fmt: skip

    @staticmethod
    def save_outcomes_sync(
        raw: SyncConnection,
        results: Iterable[Result],
        healthy_hosts: Iterable[str],
        now: datetime,
        worker: WorkerRecord | None = None,
    ) -> None:
        """save_results(), host_succeeded() and a heartbeat of `worker` in plain sqlite3, for
        Database.run_transaction: the common outcome (deliveries that worked) recorded in one trip."""
        stamp = to_text(now)
        if raw.dialect == "postgresql":  # one statement (store/postgresql/deliveries.SAVE_OUTCOMES)
            pg.save_outcomes(raw, stamp, _pg_results(results), healthy_hosts, _worker_row(worker))
            return
        raw.executemany(_SAVE_RESULT, _result_rows(results, now))
        raw.executemany(_HOST_SUCCEEDED, [(host, stamp) for host in healthy_hosts])
        if worker is not None:
            raw.execute(_UPSERT_WORKER, (worker.id, worker.machine, worker.pid, stamp, stamp, worker.role))

    async def fail_pending_for_inbox(self, conn: Connection, inbox: str, error: str) -> None:
        await conn.execute(
            "UPDATE deliveries SET status = 'failed', locked_until = NULL, locked_by = NULL, last_error = ? "
            "WHERE inbox = ? AND status = 'pending'",
            (error, inbox),
        )

    # Hosts
    async def host_succeeded(self, conn: Connection, hosts: Iterable[str], now: datetime) -> None:
        await conn.executemany(_HOST_SUCCEEDED, [(host, to_text(now)) for host in hosts])

    async def host_health(self, conn: Connection, host: str) -> HostHealth:
        row = await conn.fetch_one("SELECT consecutive_failures, last_failure_at FROM hosts WHERE host = ?", (host,))
        if row is None:
            return HostHealth(0, None)
        return HostHealth(int(row[0]), from_text(row[1]))

    async def host_failed(self, conn: Connection, host: str, now: datetime) -> int:
        """Count one more consecutive failure (of an attempt window: `last_failure_at` is when the last counted
        failure happened); return the count."""
        count = await conn.fetch_value(
            "INSERT INTO hosts (host, consecutive_failures, last_failure_at) VALUES (?, 1, ?) "
            "ON CONFLICT (host) DO UPDATE SET consecutive_failures = hosts.consecutive_failures + 1, "
            "last_failure_at = excluded.last_failure_at RETURNING consecutive_failures",
            (host, to_text(now)),
        )
        return int(count or 0)

    async def pause_host(self, conn: Connection, host: str, until: datetime) -> None:
        """No request to this host before `until`: its pending jobs move there too (so claims skip them)."""
        stamp = to_text(until)
        await conn.execute("UPDATE hosts SET paused_until = ? WHERE host = ?", (stamp, host))
        await conn.execute(
            "UPDATE deliveries SET next_attempt_at = ? WHERE host = ? AND status = 'pending' AND next_attempt_at < ?",
            (stamp, host, stamp),
        )

    async def host_is_troubled(self, host: str) -> bool:
        return await self.db.fetch_value(_TROUBLED, (host,)) is not None

    @staticmethod
    def host_is_troubled_sync(raw: SyncConnection, host: str) -> bool:
        """host_is_troubled() with the raw connection, for Database.run (several reads in one trip)."""
        return raw.execute(_TROUBLED, (host,)).fetchone() is not None

    async def resume_host(self, conn: Connection, host: str, now: datetime) -> None:
        """The host contacted us: it is alive, so its waiting jobs are due now."""
        await conn.execute("UPDATE hosts SET consecutive_failures = 0, paused_until = NULL WHERE host = ?", (host,))
        stamp = to_text(now)
        await conn.execute(
            "UPDATE deliveries SET next_attempt_at = ? WHERE host = ? AND status = 'pending' AND next_attempt_at > ?",
            (stamp, host, stamp),
        )

    # Reports
    async def counts(self) -> dict[str, int]:
        rows = await self.db.fetch_all(
            "SELECT CASE WHEN status = 'pending' AND attempts > 0 THEN 'retrying' ELSE status END, COUNT(*) "
            "FROM deliveries GROUP BY 1"
        )
        return {row[0]: row[1] for row in rows}

    async def status_by_host(self, limit: int = 200) -> list[HostStatus]:
        rows = await self.db.fetch_all(
            "SELECT d.host, SUM(CASE WHEN d.status = 'pending' AND d.attempts = 0 THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN d.status = 'pending' AND d.attempts > 0 THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN d.status = 'delivered' THEN 1 ELSE 0 END), COALESCE(h.consecutive_failures, 0), "
            "h.paused_until, (SELECT last_error FROM deliveries e WHERE e.host = d.host AND e.last_error IS NOT NULL "
            "ORDER BY e.id DESC LIMIT 1) "
            "FROM deliveries d LEFT JOIN hosts h ON h.host = d.host GROUP BY d.host, h.consecutive_failures, "
            "h.paused_until ORDER BY SUM(CASE WHEN d.status != 'delivered' THEN 1 ELSE 0 END) DESC, d.host LIMIT ?",
            (limit,),
        )
        return [
            HostStatus(
                host=row[0],
                pending=row[1] or 0,
                retrying=row[2] or 0,
                failed=row[3] or 0,
                delivered=row[4] or 0,
                consecutive_failures=row[5],
                paused_until=from_text(row[6]),
                last_error=row[7],
            )
            for row in rows
        ]

    async def get_job(self, job_id: int) -> Row | None:
        return await self.db.fetch_one("SELECT * FROM deliveries WHERE id = ?", (job_id,))

    async def list_for_activity(self, activity_id: str) -> list[Row]:
        return await self.db.fetch_all("SELECT * FROM deliveries WHERE activity_id = ? ORDER BY id", (activity_id,))
