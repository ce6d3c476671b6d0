"""The worker's housekeeping: a Delete or an Undo that arrived before what it deletes or undoes is remembered for
REMEMBER_DAYS (a late Create or Like then changes nothing), and forgotten after, so that those tables stay
bounded; the worker does it when it starts and every hour."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from fedblog.app import create_app
from fedblog.clock import utcnow
from fedblog.services.housekeeping import REMEMBER_DAYS, forget_old_deletes_and_undos
from fedblog.store.remote_objects import RemoteObjectStore
from tests.conftest import LiveSite
from tests.fakes.remote import RemoteInstance
from tests.helpers import eventually, publish


async def test_deletes_and_undos_that_came_first__are_kept_for_a_while_then_forgotten(
    site: LiveSite, remote: RemoteInstance
) -> None:
    # Given a Delete of a Note the blog never saw and an Undo of a Like it never got, from Alice's server
    post = await publish(site)
    delete = remote.sample("delete-note-tombstone", "alice")
    undo = remote.sample("undo-like", "alice", post)
    assert await remote.send("alice", delete) == 202
    assert await remote.send("alice", undo) == 202
    remembered = RemoteObjectStore(site.ctx.db)
    note_id, like_id = delete["object"]["id"], undo["object"]["id"]
    assert await remembered.is_tombstoned(note_id) and await remembered.is_undone(like_id)

    # Within REMEMBER_DAYS nothing is forgotten; after them both are
    soon = utcnow() + timedelta(days=REMEMBER_DAYS - 1)
    assert await forget_old_deletes_and_undos(site.ctx, soon) == 0
    assert await remembered.is_tombstoned(note_id) and await remembered.is_undone(like_id)

    later = utcnow() + timedelta(days=REMEMBER_DAYS + 1)
    assert await forget_old_deletes_and_undos(site.ctx, later) == 2
    assert not await remembered.is_tombstoned(note_id) and not await remembered.is_undone(like_id)


async def test_the_worker_forgets_old_deletes_and_undos_when_it_starts(site: LiveSite, remote: RemoteInstance) -> None:
    remembered = RemoteObjectStore(site.ctx.db)
    old, recent = utcnow() - timedelta(days=REMEMBER_DAYS + 1), utcnow() - timedelta(days=1)
    async with site.ctx.db.transaction() as conn:
        await remembered.add_tombstone(conn, remote.url("/notes/old"), remote.actor_id("alice"), at=old)
        await remembered.add_undone(conn, remote.url("/likes/old"), remote.actor_id("alice"), at=old)
        await remembered.add_tombstone(conn, remote.url("/notes/recent"), remote.actor_id("alice"), at=recent)

    # A worker started on the same database (as `fedblog worker` would be)
    runner = web.AppRunner(create_app(site.settings), access_log=None)
    await runner.setup()
    try:

        async def forgotten() -> bool:
            return not await remembered.is_tombstoned(remote.url("/notes/old")) and not await remembered.is_undone(
                remote.url("/likes/old")
            )

        await eventually(forgotten, "the worker never forgot the old delete and undo")
        assert await remembered.is_tombstoned(remote.url("/notes/recent"))
    finally:
        await runner.cleanup()
