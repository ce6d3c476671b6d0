"""`fedblog serve --no-worker` and `fedblog worker` as real processes on one site: the web process answers and
queues, only the worker delivers, and SIGTERM stops each cleanly."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from fedblog.protocol.keys import load_private_key, public_key_pem
from tests.conftest import free_port, make_site, site_key_pem
from tests.fakes.remote import RemoteInstance, follow_activity
from tests.helpers import clean_env, eventually, queue_line, started, wait_for_health


async def readyz(base_url: str) -> dict:
    async with aiohttp.ClientSession() as session, session.get(base_url + "/readyz") as response:
        assert response.status == 200
        return json.loads(await response.text())


async def test_web_without_worker_queues_and_the_worker_process_delivers(tmp_path: Path) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    config = make_site(tmp_path / "site", base_url, overrides={"federation": {"allow_private_addresses": True}})
    blog_key = public_key_pem(load_private_key(site_key_pem()))
    remote = await RemoteInstance(blog_public_key_pem=blog_key).start()
    env = clean_env(PORT=str(port), HOST="127.0.0.1")
    try:
        async with started("--config", str(config), "serve", "--no-worker", env=env) as web_process:
            await wait_for_health(base_url)
            # Given a web process that serves only: ready, and saying the worker is not its job
            body = await readyz(base_url)
            assert body["status"] == "ready"
            assert body["checks"]["worker"]["in_this_process"] is False
            # When a follower's Follow arrives, the Accept is queued and nobody sends it
            status, _ = await remote.post_signed(
                "alice", f"{base_url}/actor/inbox", follow_activity(remote, "alice", f"{base_url}/actor")
            )
            assert status == 202
            assert (await eventually(lambda: _pending(config), "the Accept queued")).startswith("pending 1,")
            assert remote.received_at("/users/alice/inbox") == []
            # Then `fedblog worker`, a process of its own, sends it, signed by the blog
            async with started("--config", str(config), "worker", env=clean_env()) as worker:
                received = await eventually(lambda: _received(remote), "the Accept delivered", timeout=60)
                assert received[0].activity["type"] == "Accept"
                assert received[0].verified, received[0].reason
                worker.terminate()
                assert await asyncio.wait_for(worker.wait(), timeout=30) == 0  # SIGTERM: a clean stop
                assert worker.stdout is not None
                assert b"fedblog worker is running" in await worker.stdout.read()
            assert (await queue_line(config)).startswith("pending 0, retrying 0, failed 0,")
            web_process.terminate()
            assert await asyncio.wait_for(web_process.wait(), timeout=30) == 0
    finally:
        await remote.close()


async def _pending(config: Path) -> str | None:
    line = await queue_line(config)
    return line if line.startswith("pending 1,") else None


async def _received(remote: RemoteInstance) -> list | None:
    return remote.received_at("/users/alice/inbox") or None
