"""Unprocessed inbox activities and their leases (store/inbox.claim_unprocessed, services/inbox.process_unprocessed):
a lease names its holder's row of delivery_workers, whose heartbeat says it is alive (the delivery workers' one way
to tell a dead process). A claim never takes what a live process works on; it takes at once what a process whose
heartbeat stopped held (any machine), what a process of this machine that has ended held, a lease that ran out,
and at a start what was left without a lease; two claims at once never take the same activity."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from fedblog.clock import to_text, utcnow
from fedblog.services.inbox import process_unprocessed
from fedblog.store.db import Database, Row
from fedblog.store.deliveries import INBOX, WorkerRecord
from fedblog.store.followers import FollowerStore
from fedblog.store.inbox import InboxStore, Lease
from fedblog.store.postgresql.database import PostgresDatabase
from tests.conftest import LiveSite
from tests.fakes.remote import RemoteInstance, follow_activity
from tests.postgres import open_database


def ended_pid() -> int:
    """The id of a process that has ended (and was not reused meanwhile, as far as a test can tell)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


async def add_holder(db: Database, holder: str, machine: str, pid: int, heartbeat_at: datetime) -> None:
    """A process holding inbox leases, as the database knows it (its row and its last heartbeat)."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO delivery_workers (id, machine, pid, started_at, heartbeat_at, role) "
            "VALUES (?, ?, ?, ?, ?, 'inbox')",
            (holder, machine, pid, to_text(heartbeat_at), to_text(heartbeat_at)),
        )


def holding(holder: str, now: datetime) -> Lease:
    """A lease taken by a live process: its heartbeat is written with it."""
    return Lease(holder, now + timedelta(minutes=2), WorkerRecord(holder, "here", 1, now, INBOX))


async def test_claim_unprocessed__takes_only_what_no_live_process_works_on(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "fedblog.sqlite3")
    store = InboxStore(db)
    now = utcnow()
    alive = now - timedelta(seconds=15)
    await add_holder(db, "live", "elsewhere", 1, now - timedelta(seconds=1))
    await add_holder(db, "silent", "elsewhere", 2, now - timedelta(seconds=20))  # its heartbeat stopped
    await add_holder(db, "ended", socket.gethostname(), ended_pid(), now)  # killed here, just now
    leases = {
        "live": Lease("live", now + timedelta(minutes=2)),
        "silent": Lease("silent", now + timedelta(minutes=2)),
        "ended": Lease("ended", now + timedelta(minutes=2)),
        "unknown": Lease("machine:123", now + timedelta(minutes=2)),  # a holder no row names (before migration 120)
        "ran-out": Lease("live", now - timedelta(seconds=1)),
        "unleased": None,
    }
    try:
        async with db.transaction() as conn:
            for name, lease in leases.items():
                await store.record(conn, f"https://remote.example/{name}", "https://remote.example/ana", "Follow",
                                   None, "{}", lease=lease)  # fmt: skip
        me = holding("me", now)

        def names(rows: list[Row]) -> set[str]:
            return {row["id"].rsplit("/", 1)[1] for row in rows}

        # A sweep (not at a start): what a silent, an ended or an unknown holder held, and a lease that ran out
        taken = await store.claim_unprocessed(now, me, alive, ["ended"], unleased=False)
        assert names(taken) == {"silent", "ended", "unknown", "ran-out"}
        # At a start: also what was left without a lease; never what the live process works on
        assert names(await store.claim_unprocessed(now, me, alive, [], unleased=True)) == {"unleased"}
        assert await store.claim_unprocessed(now, me, alive, [], unleased=True) == []
        # Once the live holder's heartbeat stops too, the next sweep takes its lease at once
        later = now + timedelta(seconds=16)
        assert names(await store.claim_unprocessed(later, me, later - timedelta(seconds=15), [], unleased=False)) == {
            "live"
        }
    finally:
        await db.close()


async def test_claim_unprocessed__two_processes_at_once_never_take_the_same(tmp_path: Path) -> None:
    first = await open_database(tmp_path / "fedblog.sqlite3")
    try:
        async with first.transaction() as conn:
            for n in range(40):
                await InboxStore(first).record(conn, f"https://remote.example/{n}", "https://remote.example/ana",
                                               "Follow", None, "{}")  # fmt: skip
        second = await _same_database(first, tmp_path)
        try:
            now = utcnow()
            alive = now - timedelta(seconds=15)
            a, b = holding("holder-a", now), holding("holder-b", now)
            taken = await asyncio.gather(
                *(InboxStore(db).claim_unprocessed(now, lease, alive, [], unleased=True, limit=10)
                  for db, lease in [(first, a), (second, b)] * 4)
            )  # fmt: skip
            ids = [row["id"] for rows in taken for row in rows]
            assert len(ids) == len(set(ids)) == 40
        finally:
            await second.close()
    finally:
        await first.close()


async def _same_database(db: Database, tmp_path: Path) -> Database:
    """A second connection to the same database (another process's, as far as the database can tell)."""
    if isinstance(db, PostgresDatabase):
        return await PostgresDatabase.connect(db._target.url)
    return await Database.open(tmp_path / "fedblog.sqlite3")


@pytest.fixture
async def remote(site: LiveSite) -> AsyncIterator[RemoteInstance]:
    server = await RemoteInstance(blog_public_key_pem=site.ctx.public_key_pem).start()
    yield server
    await server.close()


@pytest.mark.parametrize(("silent_for", "taken"), [(20, True), (1, False)])
async def test_a_follow_leased_by_a_process_whose_heartbeat_stopped_is_taken_at_once(
    site: LiveSite, remote: RemoteInstance, silent_for: int, taken: bool
) -> None:
    # Given a Follow acknowledged by a web process on another machine, leased for two more minutes, and that
    # process's last heartbeat `silent_for` seconds ago (15 s: federation.heartbeat_stale_seconds' default)
    now = utcnow()
    follow = follow_activity(remote, "alice", f"{site.url}/actor")
    await add_holder(site.ctx.db, "web-elsewhere", "another-machine", 4242, now - timedelta(seconds=silent_for))
    async with site.ctx.db.transaction() as conn:
        await InboxStore(site.ctx.db).record(
            conn, follow["id"], follow["actor"], "Follow", follow["object"], json.dumps(follow),
            lease=Lease("web-elsewhere", now + timedelta(minutes=2)),
        )  # fmt: skip
    # When this process sweeps for leftovers (every few seconds)
    count = await process_unprocessed(site.ctx, at_start=False)
    # Then a silent holder's Follow is taken and handled at once, not two minutes later; a live one's is left alone
    follower = await FollowerStore(site.ctx.db).get(remote.actor_id("alice"))
    if taken:
        assert count == 1
        assert follower is not None and follower.status == "accepted"
    else:
        assert count == 0
        assert follower is None
