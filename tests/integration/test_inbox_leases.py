"""Unprocessed inbox activities and their leases (store/inbox.claim_unprocessed, services/inbox.gone_holders): a
claim never takes what a live process works on; it takes what a killed process held, a lease that ran out, and at
a start what was left without a lease; two claims at once never take the same activity."""

from __future__ import annotations

import asyncio
import subprocess
from datetime import timedelta
from pathlib import Path

from fedblog.clock import utcnow
from fedblog.services.inbox import gone_holders, inbox_holder
from fedblog.store.db import Database, Row
from fedblog.store.inbox import InboxStore, Lease
from fedblog.store.postgresql.database import PostgresDatabase
from tests.postgres import open_database


def ended_pid() -> int:
    """The id of a process that has ended (and was not reused meanwhile, as far as a test can tell)."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_gone_holders__only_ended_processes_of_this_machine() -> None:
    me = inbox_holder()
    machine = me.rpartition(":")[0]
    dead = f"{machine}:{ended_pid()}"
    holders = [me, dead, f"{machine}:1", f"another-machine:{ended_pid()}"]
    assert gone_holders(holders, me) == [dead]


async def test_claim_unprocessed__takes_only_what_no_live_process_works_on(tmp_path: Path) -> None:
    db = await open_database(tmp_path / "fedblog.sqlite3")
    store = InboxStore(db)
    now = utcnow()
    machine = inbox_holder().rpartition(":")[0]
    live, dead = f"{machine}:1", f"{machine}:{ended_pid()}"
    leases = {
        "live": Lease(live, now + timedelta(minutes=2)),
        "dead": Lease(dead, now + timedelta(minutes=2)),
        "ran-out": Lease(live, now - timedelta(seconds=1)),
        "unleased": None,
    }
    try:
        async with db.transaction() as conn:
            for name, lease in leases.items():
                await store.record(conn, f"https://remote.example/{name}", "https://remote.example/ana", "Follow",
                                   None, "{}", lease=lease)  # fmt: skip
        me = Lease(inbox_holder(), now + timedelta(minutes=2))

        def names(rows: list[Row]) -> set[str]:
            return {row["id"].rsplit("/", 1)[1] for row in rows}

        # A sweep (not at a start): what a killed process held, and a lease that ran out
        gone = gone_holders(await store.lease_holders(), me.holder)
        assert names(await store.claim_unprocessed(now, me, gone, unleased=False)) == {"dead", "ran-out"}
        # At a start: also what was left without a lease; never what the live process works on
        assert names(await store.claim_unprocessed(now, me, [], unleased=True)) == {"unleased"}
        assert await store.claim_unprocessed(now, me, [], unleased=True) == []
        # Once that lease runs out, the next sweep takes it
        later = now + timedelta(minutes=3)
        assert names(await store.claim_unprocessed(later, me, [], unleased=False)) >= {"live"}
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
            a, b = Lease("machine:1", now + timedelta(minutes=2)), Lease("machine:2", now + timedelta(minutes=2))
            taken = await asyncio.gather(
                *(InboxStore(db).claim_unprocessed(now, lease, [], unleased=True, limit=10)
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
