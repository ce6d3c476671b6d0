"""Inbound activities by (id, signer): the record that makes processing idempotent and survives restarts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from fedblog.clock import to_text, utcnow
from fedblog.store.actors import ActorStore, KeyStamp
from fedblog.store.blocks import BlockStore
from fedblog.store.claims import claiming
from fedblog.store.db import Connection, Database, Row, SyncConnection
from fedblog.store.deliveries import DeliveryStore, WorkerRecord
from fedblog.store.read_batch import ReadBatch

RECEIVED = "received"
PROCESSED = "processed"
FAILED = "failed"
IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class Lease:
    """Who works on an unprocessed activity and until when: `holder` is a row of delivery_workers (role inbox), whose
    heartbeat says it is alive. `beat`: that row, to write with the lease (now) when its last heartbeat is not
    fresh: a lease whose holder has no fresh heartbeat is free to any other process."""

    holder: str
    until: datetime
    beat: WorkerRecord | None = None


def _beat_sync(raw: SyncConnection, lease: Lease | None) -> None:
    if lease is not None and lease.beat is not None:
        DeliveryStore.heartbeat_sync(raw, lease.beat, utcnow())


@dataclass
class InboxRecord:
    """An activity not yet recorded: written with its final status in the commit that processes it."""

    activity_id: str
    actor_id: str
    signer_id: str  # whose key signed the request: the actor, or a server forwarding the actor's activity
    kind: str
    object_id: str | None
    body: str
    settled: bool = False  # written (processed) by the handler's own commit
    claimed: bool = False  # recorded `received` under a lease before processing (InboxStore.claim)


_SETTLE = (
    "INSERT INTO inbox_activities (id, signer_id, actor_id, type, object_id, body, status, error, received_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (id, signer_id) DO UPDATE SET status = excluded.status, error = excluded.error, "
    "body = excluded.body, locked_by = NULL, locked_until = NULL"  # settled: no process works on it any more
)
# The statuses whose record keeps the activity's body: one still to process (again, after a crash), and one that
# failed (what the operator looks at). A processed or ignored one is kept for its (id, signer) alone: its effects
# are stored, and writing kilobytes of JSON per reply that nothing reads was a good part of the inbox's insert.
_KEEPS_BODY = frozenset({RECEIVED, FAILED})


def kept_body(body: str, status: str) -> str:
    """What the record of an activity with `status` keeps of its body (see _KEEPS_BODY)."""
    return body if status in _KEEPS_BODY else ""


@dataclass(frozen=True, slots=True)
class Preflight:
    """What the inbox asks before checking a signature."""

    blocked: bool  # the actor or the signing key is blocked
    troubled: bool  # the signer's host is one our deliveries are waiting for
    signers: frozenset[str]  # who sent this activity id already
    key: KeyStamp | None  # the signing key as the database holds it (another process may have retired it)


async def preflight(reads: ReadBatch, actor_id: str, key_id: str, key_host: str, activity_id: str) -> Preflight:
    """The inbox's four lookups before the signature, in one trip shared with concurrent requests' (`reads`)."""
    return await reads.run(PreflightRead(actor_id, key_id, key_host, activity_id))


@dataclass(frozen=True, slots=True)
class PreflightRead:
    """preflight()'s work on the database thread; a backend may read a batch of them at once (store/batches.py)."""

    actor_id: str
    key_id: str
    key_host: str
    activity_id: str

    def __call__(self, raw: SyncConnection) -> Preflight:
        return Preflight(
            blocked=BlockStore.is_blocked_sync(raw, self.actor_id, self.key_id),
            troubled=bool(self.key_host) and DeliveryStore.host_is_troubled_sync(raw, self.key_host),
            signers=InboxStore.signers_of_sync(raw, self.activity_id),
            key=ActorStore.key_stamp_sync(raw, self.key_id) if self.key_id else None,
        )


class InboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self,
        conn: Connection,
        activity_id: str,
        actor_id: str,
        kind: str,
        object_id: str | None,
        body: str,
        signer_id: str | None = None,
        lease: Lease | None = None,
    ) -> bool:
        """Store the activity; False when this signer sent this id already (a duplicate, not processed again).
        `signer_id` None: signed by its actor. `lease`: the process still working on it (see claim_unprocessed)."""
        if lease is not None and lease.beat is not None:
            await DeliveryStore(self.db).heartbeat(conn, lease.beat, utcnow())
        cursor = await conn.execute(
            "INSERT INTO inbox_activities "
            "(id, signer_id, actor_id, type, object_id, body, status, received_at, locked_by, locked_until) "
            "VALUES (?, ?, ?, ?, ?, ?, 'received', ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                activity_id, signer_id or actor_id, actor_id, kind, object_id, body, to_text(utcnow()),
                lease.holder if lease else None, to_text(lease.until) if lease else None,
            ),
        )  # fmt: skip
        return cursor.rowcount > 0

    async def claim(self, record: InboxRecord, lease: Lease) -> bool:
        """Record the activity `received` under `lease` before processing it; False when it was recorded already
        (by this signer: another request, or another process this very instant), and then it is not processed
        here. On both backends two claims at once cannot both win: the row's key decides (ON CONFLICT DO NOTHING).
        One trip, in the group commit."""
        return await self.db.run_transaction(lambda raw: self.claim_sync(raw, record, lease))

    @staticmethod
    def claim_sync(raw: SyncConnection, record: InboxRecord, lease: Lease) -> bool:
        _beat_sync(raw, lease)
        cursor = raw.execute(
            "INSERT INTO inbox_activities "
            "(id, signer_id, actor_id, type, object_id, body, status, received_at, locked_by, locked_until) "
            "VALUES (?, ?, ?, ?, ?, ?, 'received', ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                record.activity_id, record.signer_id, record.actor_id, record.kind, record.object_id, record.body,
                to_text(utcnow()), lease.holder, to_text(lease.until),
            ),
        )  # fmt: skip
        return cursor.rowcount > 0

    async def is_recorded(self, activity_id: str, signer_id: str) -> bool:
        sql = "SELECT 1 FROM inbox_activities WHERE id = ? AND signer_id = ?"
        return await self.db.fetch_value(sql, (activity_id, signer_id)) is not None

    @staticmethod
    def signers_of_sync(raw: SyncConnection, activity_id: str) -> frozenset[str]:
        """Who sent this activity id already (one trip, for Database.run): the inbox learns the signer only
        after this lookup, once the signature is verified."""
        rows = raw.execute("SELECT signer_id FROM inbox_activities WHERE id = ?", (activity_id,)).fetchall()
        return frozenset(row[0] for row in rows)

    @staticmethod
    def settle_sync(raw: SyncConnection, record: InboxRecord, status: str, error: str = "") -> None:
        """Record the activity with its final status (or update it when already recorded `received`).
        Plain sqlite3, for Database.run_transaction: inside the transaction that stored its effects."""
        raw.execute(
            _SETTLE,
            (record.activity_id, record.signer_id, record.actor_id, record.kind, record.object_id,
             kept_body(record.body, status), status, error[:500] or None, to_text(utcnow())),
        )  # fmt: skip

    async def settle_in(self, conn: Connection, record: InboxRecord, status: str) -> None:
        """settle_sync() inside an open transaction(): with the effects it records."""
        await conn.execute(
            _SETTLE,
            (record.activity_id, record.signer_id, record.actor_id, record.kind, record.object_id,
             kept_body(record.body, status), status, None, to_text(utcnow())),
        )  # fmt: skip

    async def settle(self, record: InboxRecord, status: str, error: str = "") -> None:
        await self.db.run_transaction(lambda raw: self.settle_sync(raw, record, status, error))

    async def set_status(
        self, conn: Connection, activity_id: str, signer_id: str, status: str, error: str = ""
    ) -> None:
        body_kept = status in _KEEPS_BODY
        await conn.execute(
            "UPDATE inbox_activities SET status = ?, error = ?, body = CASE WHEN ? THEN body ELSE '' END "
            "WHERE id = ? AND signer_id = ?",
            (status, error[:500] or None, body_kept, activity_id, signer_id),
        )

    async def get(self, activity_id: str) -> Row | None:
        return await self.db.fetch_one("SELECT * FROM inbox_activities WHERE id = ?", (activity_id,))

    async def claim_unprocessed(
        self,
        now: datetime,
        lease: Lease,
        alive_since: datetime,
        gone: Iterable[str],
        *,
        unleased: bool,
        limit: int = 500,
    ) -> list[Row]:
        """Lease to `lease.holder` the unprocessed activities no live process works on: those whose lease ran out
        or whose holder's heartbeat is older than `alive_since` (any machine), or is among the `gone` holders
        (processes of this machine that have ended: their rows are deleted), and with `unleased` those left
        without a lease (to retry at a start). The oldest first; on PostgreSQL two claims
        at once never take the same one."""
        stamp, alive = to_text(now), to_text(alive_since)
        gone = list(gone)
        free = (
            "(locked_until IS NOT NULL AND (locked_until <= ? OR locked_by IS NULL OR locked_by NOT IN "
            "(SELECT id FROM delivery_workers WHERE heartbeat_at > ?)))"
        ) + (" OR locked_until IS NULL" if unleased else "")
        due = f"SELECT 1 FROM inbox_activities WHERE status = 'received' AND ({free}) LIMIT 1"
        if not gone and not await self.db.fetch_value(due, (stamp, alive)):
            return []  # nothing to take: no write (every process looks every few seconds)
        async with self.db.transaction() as conn:
            # A gone process's row goes: its leases end now.
            await conn.executemany("DELETE FROM delivery_workers WHERE id = ?", [(holder,) for holder in gone])
            if lease.beat is not None:
                await DeliveryStore(self.db).heartbeat(conn, lease.beat, now)
            select = (
                f"SELECT * FROM inbox_activities WHERE status = 'received' AND ({free}) "
                "ORDER BY received_at, rowid LIMIT ?"
            )
            rows = await conn.fetch_all(claiming(select, conn.dialect), (stamp, alive, limit))
            await conn.executemany(
                "UPDATE inbox_activities SET locked_by = ?, locked_until = ? WHERE id = ? AND signer_id = ?",
                [(lease.holder, to_text(lease.until), row["id"], row["signer_id"]) for row in rows],
            )
        return rows

    async def release(self, activity_id: str, signer_id: str) -> None:
        """Left to retry at the next start (a fetch failed): no lease, so no sweep takes it meanwhile."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE inbox_activities SET locked_by = NULL, locked_until = NULL WHERE id = ? AND signer_id = ?",
                (activity_id, signer_id),
            )

    async def count_by_status(self) -> dict[str, int]:
        rows = await self.db.fetch_all("SELECT status, COUNT(*) FROM inbox_activities GROUP BY status")
        return {row[0]: row[1] for row in rows}
