"""Two web processes on one database receiving the same activity at the same instant (a sender retrying through
a load balancer, or two deliveries of one activity): it is processed once. The first process to record the
activity by (id, signer) processes it; the other acknowledges it as a duplicate."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from fedblog.protocol.httpsig import sign_request
from tests.conftest import free_port
from tests.fakes.remote import AS2, person_document, remote_key
from tests.faults.support import ServedBlog, WorkerProcess, fault_site, wait_until


class Follower:
    """A loopback instance with one actor, ana, whose inbox counts what the blog sends her."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.actor = f"{self.base}/users/ana"
        self.key = remote_key("inbox-races")
        self.received: list[dict[str, Any]] = []
        self._runner: web.AppRunner | None = None

    async def start(self) -> Follower:
        async def actor(_request: web.Request) -> web.Response:
            return web.Response(body=json.dumps(person_document(self.base, "ana", self.key)), content_type=AS2)

        async def inbox(request: web.Request) -> web.Response:
            self.received.append(json.loads(await request.read()))
            return web.Response(status=202)

        app = web.Application()
        app.router.add_get("/users/ana", actor)
        app.router.add_post("/users/ana/inbox", inbox)
        app.router.add_post("/inbox", inbox)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def accepts(self) -> list[dict[str, Any]]:
        return [activity for activity in self.received if activity.get("type") == "Accept"]


@pytest.fixture
async def follower() -> AsyncIterator[Follower]:
    server = await Follower().start()
    yield server
    await server.close()


async def post(session: aiohttp.ClientSession, url: str, headers: dict[str, str], body: bytes) -> int:
    async with session.post(url, data=body, headers=headers) as response:
        return response.status


@pytest.mark.timeout(120)
async def test_the_same_follow_posted_to_two_processes_at_once__one_accept(tmp_path: Path, follower: Follower) -> None:
    # Given two web processes (no background work of their own) and one worker on one site
    port_a, port_b = free_port(), free_port()
    settings = fault_site(tmp_path / "site", port_a)
    first, second = ServedBlog(settings, port_a, "--no-worker"), ServedBlog(settings, port_b, "--no-worker")
    worker = WorkerProcess(settings)
    try:
        await first.start()  # the first applies the migrations; the others start together
        await asyncio.gather(second.start(), worker.start())
        # When the same signed Follow reaches both at the same instant
        follow = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{follower.actor}#follows/1",
            "type": "Follow",
            "actor": follower.actor,
            "object": f"{settings.site.base_url}/actor",
        }
        body = json.dumps(follow).encode()
        headers = sign_request(
            private_key=follower.key, key_id=f"{follower.actor}#main-key", method="POST",
            url=f"{settings.site.base_url}/inbox", body=body, headers={"Content-Type": "application/activity+json"},
        )  # fmt: skip
        async with aiohttp.ClientSession() as session:
            statuses = await asyncio.gather(
                post(session, f"{first.url}/inbox", headers, body), post(session, f"{second.url}/inbox", headers, body)
            )
        assert statuses == [202, 202]
        # Then the follower's inbox receives exactly one Accept of it
        await wait_until(lambda: bool(follower.accepts()), "an Accept", timeout=30)
        await asyncio.sleep(1.5)  # a second Accept, if any, would arrive now (the worker polls every second or so)
    finally:
        await first.stop()
        await second.stop()
        await worker.stop()
    accepts = follower.accepts()
    assert len(accepts) == 1, f"{len(accepts)} Accepts sent for one Follow"
    assert accepts[0]["object"]["id"] == follow["id"]
