"""SIGTERM to `fedblog serve`, as systemd or `docker stop` sends it: the delivery under way to a slow inbox gets its
answer and is recorded (not sent twice), the deliveries still queued stay queued for the next worker (none lost),
and a request still arriving is answered before the process exits."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web

from fedblog.protocol.keys import load_private_key, public_key_pem
from tests.conftest import free_port, make_site, site_key_pem
from tests.fakes.remote import Received, RemoteInstance, check_signature, follow_activity
from tests.helpers import FEDBLOG, clean_env, eventually, queue_line, run, started, wait_for_health

SLOW_SECONDS = 3.0


class SlowRemote(RemoteInstance):
    """Answers each inbox POST after `delay` seconds once told to; `arrived` is set when a Create comes in."""

    delay: float = 0.0

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.arrived = asyncio.Event()

    async def _inbox(self, request: web.Request) -> web.Response:
        body = await request.read()
        if b'"Create"' in body:
            self.arrived.set()
        await asyncio.sleep(self.delay)
        return await self._record(request, body)

    async def _record(self, request: web.Request, body: bytes) -> web.Response:
        verified, reason = check_signature(request, body, self.blog_public_key_pem)
        self.received.append(Received(request.path, dict(request.headers), body, verified, reason))
        return web.Response(status=202)


def creates(remote: RemoteInstance, name: str) -> int:
    return sum(1 for item in remote.received_at(f"/users/{name}/inbox") if item.activity["type"] == "Create")


async def test_sigterm_finishes_the_delivery_under_way_and_keeps_the_queued_one(tmp_path: Path) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    federation = {"allow_private_addresses": True, "delivery_per_host": 1, "delivery_timeout_seconds": 15}
    overrides = {"federation": federation, "webmention": {"send": False}, "pingback": {"send": False}}
    config = make_site(tmp_path / "site", base_url, overrides=overrides)
    remote = await SlowRemote(
        blog_public_key_pem=public_key_pem(load_private_key(site_key_pem())), shared_inbox=False
    ).start()
    post = tmp_path / "post.md"
    post.write_text("---\ntitle: Slow\nslug: slow\n---\nTo two followers on one slow server.\n", encoding="utf-8")
    env = clean_env(PORT=str(port), HOST="127.0.0.1")
    try:
        async with started("--config", str(config), "serve", env=env) as server:
            await wait_for_health(base_url)
            # Given two followers on one server that answers slowly, one delivery at a time to it
            for number, name in enumerate(("alice", "bob"), start=1):
                status, _ = await remote.post_signed(
                    name, f"{base_url}/actor/inbox", follow_activity(remote, name, f"{base_url}/actor", number)
                )
                assert status == 202
            await eventually(lambda: _count(remote, 2), "both Accepts delivered")
            remote.delay = SLOW_SECONDS
            # When a post goes out and SIGTERM comes while its first delivery waits for the answer
            result = await run(FEDBLOG, "--config", str(config), "post", "publish", str(post))
            assert result.code == 0, result.err
            await asyncio.wait_for(remote.arrived.wait(), timeout=30)
            server.terminate()
            # Then the process waits for that answer, records it and exits cleanly
            assert await asyncio.wait_for(server.wait(), timeout=40) == 0
        assert creates(remote, "alice") + creates(remote, "bob") == 1
        # And the other delivery is still queued, free for the next worker at once
        assert (await queue_line(config)).startswith("pending 1, retrying 0, failed 0,")
        remote.delay = 0.0
        async with started("--config", str(config), "worker", env=clean_env()) as worker:
            await eventually(lambda: _both_created(remote), "the queued Create delivered by the next worker")
            worker.terminate()
            assert await asyncio.wait_for(worker.wait(), timeout=30) == 0
        # Each follower got the post exactly once: nothing lost, nothing sent twice
        assert (creates(remote, "alice"), creates(remote, "bob")) == (1, 1)
        assert (await queue_line(config)).startswith("pending 0, retrying 0, failed 0,")
    finally:
        await remote.close()


async def test_sigterm_answers_the_request_still_arriving(tmp_path: Path) -> None:
    port = free_port()
    config = make_site(tmp_path / "site", f"http://127.0.0.1:{port}")
    env = clean_env(PORT=str(port), HOST="127.0.0.1")
    async with started("--config", str(config), "serve", "--no-worker", env=env) as server:
        await wait_for_health(f"http://127.0.0.1:{port}")
        # Given a request whose body is half sent
        body = b'{"type": "Follow", "actor": "https://remote.example/users/alice"}'
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = f"POST /actor/inbox HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/activity+json\r\n"
        writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body[:10])
        await writer.drain()
        await asyncio.sleep(0.3)
        # When SIGTERM comes, and the rest of the body after it
        server.terminate()
        await asyncio.sleep(0.5)
        writer.write(body[10:])
        await writer.drain()
        # Then the request gets its answer (unsigned: 401), not a reset connection
        status_line = await asyncio.wait_for(reader.readline(), timeout=20)
        assert status_line.startswith(b"HTTP/1.1 401"), status_line
        writer.close()
        assert await asyncio.wait_for(server.wait(), timeout=40) == 0


async def _count(remote: RemoteInstance, expected: int) -> bool:
    return len(remote.received) >= expected


async def _both_created(remote: RemoteInstance) -> bool:
    return creates(remote, "alice") >= 1 and creates(remote, "bob") >= 1
