"""A fan-out queued by `fedblog post publish` (another process) starts at once: the command pokes the running
worker's socket after its commit, instead of the worker noticing the jobs at its next poll."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from fedblog.assembly import open_context
from fedblog.config import load_settings
from fedblog.context import Context
from fedblog.services.posts import PostInput, PostService
from fedblog.services.wakeups import DELIVERIES, listening, poke, wakeup_folder
from fedblog.store.deliveries import DeliveryStore
from fedblog.store.followers import FollowerStore
from tests.conftest import make_site
from tests.helpers import FEDBLOG, run

POST_MD = """---
title: A post for the followers
slug: for-the-followers
---
Hello, followers.
"""


async def add_follower(ctx: Context) -> None:
    async with ctx.db.transaction() as conn:
        await FollowerStore(ctx.db).upsert(
            conn, actor_id="https://remote.example/users/ann", inbox="https://remote.example/users/ann/inbox",
            shared_inbox=None, handle="@ann@remote.example", name="ann",
            follow_activity_id="https://remote.example/follows/1", follow_json="{}", status="accepted",
        )  # fmt: skip


async def test_post_publish_from_the_cli_wakes_the_running_worker_after_its_commit(tmp_path: Path) -> None:
    config = make_site(tmp_path / "site", "https://blog.example")
    (tmp_path / "post.md").write_text(POST_MD)
    async with open_context(load_settings(config)) as ctx:
        await add_follower(ctx)
        # Given a process whose worker listens for wake-ups (as `fedblog serve` does)
        async with listening(ctx):
            wakeup = ctx.runtime.delivery_wakeup
            wakeup.clear()
            # When the CLI publishes a post in its own process
            result = await run(FEDBLOG, "--config", str(config), "post", "publish", str(tmp_path / "post.md"))
            assert result.code == 0, result.err
            # Then this process is woken (the poke was sent before the command returned), and the delivery it
            # is woken for is already committed, visible to it
            await asyncio.wait_for(wakeup.wait(), timeout=10)
            assert (await DeliveryStore(ctx.db).counts()).get("pending") == 1
        if ctx.db.dialect == "sqlite":  # PostgreSQL's wake-ups go through the database (NOTIFY): no socket
            folder = wakeup_folder(ctx)
            assert folder is not None and list(folder.iterdir()) == []  # its socket is gone with the listener


async def test_a_post_published_in_the_server_wakes_its_worker_once_the_deliveries_are_committed(
    tmp_path: Path,
) -> None:
    config = make_site(tmp_path / "site", "https://blog.example")
    async with open_context(load_settings(config)) as ctx, listening(ctx):
        await add_follower(ctx)
        wakeup = ctx.runtime.delivery_wakeup
        wakeup.clear()

        async def what_the_woken_worker_reads() -> dict[str, int]:
            await wakeup.wait()
            return await DeliveryStore(ctx.db).counts()  # committed rows only, as the worker reads them

        worker = asyncio.create_task(what_the_woken_worker_reads())
        # When the admin publishes (in the server's process)
        await PostService(ctx).publish(PostInput(title="In the server", body_markdown="Hello, followers."))
        # Then the worker woken finds the delivery (woken inside the transaction, it found none and slept 2 s)
        assert (await asyncio.wait_for(worker, timeout=10)).get("pending") == 1


async def test_poke_reaches_every_listening_process_and_removes_dead_ones_sockets(tmp_path: Path) -> None:
    folder = tmp_path / "wakeups"
    folder.mkdir(mode=0o700)
    live = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    live.bind(str(folder / "101.sock"))
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(folder / "102.sock"))
    dead.close()  # its process ended without removing its socket (kill -9)
    try:
        assert poke(folder, DELIVERIES) == 1
        assert live.recv(64) == DELIVERIES
        assert sorted(path.name for path in folder.iterdir()) == ["101.sock"]
    finally:
        live.close()


@pytest.mark.sqlite_only  # on PostgreSQL the wake-ups are NOTIFY, no socket
async def test_the_worker_socket_is_private_to_the_site_user(tmp_path: Path) -> None:
    config = make_site(tmp_path / "site", "https://blog.example")
    async with open_context(load_settings(config)) as ctx, listening(ctx):
        folder = wakeup_folder(ctx)
        assert folder is not None
        assert folder.stat().st_mode & 0o777 == 0o700
        (sock,) = list(folder.iterdir())
        assert sock.stat().st_mode & 0o077 == 0
