"""kill -9 of a web process while it processes a reply it already acknowledged (202): the reply is not lost. The
activity was recorded with a lease of the process working on it; a worker process of the same site takes it over
within seconds of the kill (the holder's process is gone) and stores the comment, without waiting for a restart."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from fedblog.assembly import open_context
from fedblog.protocol.httpsig import sign_request
from tests.conftest import free_port
from tests.fakes.remote import AS2, person_document, remote_key
from tests.faults.support import ServedBlog, WorkerProcess, fault_site, publish_offline

TEXT = "Sent just before the server died."


class SlowOrigin:
    """A remote instance whose note is slow to fetch the first time (the web process is still on it when killed)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.actor = f"{self.base}/users/ana"
        self.note_id = f"{self.base}/notes/1"
        self.key = remote_key("inbox-crash")
        self.first_fetch = asyncio.Event()
        self.release = asyncio.Event()
        self.in_reply_to = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> SlowOrigin:
        async def actor(_request: web.Request) -> web.Response:
            return web.Response(body=json.dumps(person_document(self.base, "ana", self.key)), content_type=AS2)

        async def note(_request: web.Request) -> web.Response:
            if not self.first_fetch.is_set():
                self.first_fetch.set()
                await self.release.wait()  # the first asker waits (and dies meanwhile)
            document = {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": self.note_id,
                "type": "Note",
                "attributedTo": self.actor,
                "inReplyTo": self.in_reply_to,
                "content": f"<p>{TEXT}</p>",
                "published": "2026-12-03T06:00:00Z",
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
            }
            return web.Response(body=json.dumps(document), content_type=AS2)

        app = web.Application()
        app.router.add_get("/users/ana", actor)
        app.router.add_get("/notes/1", note)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def close(self) -> None:
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def origin() -> AsyncIterator[SlowOrigin]:
    server = await SlowOrigin().start()
    yield server
    await server.close()


@pytest.mark.timeout(120)
async def test_kill_9_of_a_web_process_while_it_processes_a_reply__a_worker_takes_it_over(
    tmp_path: Path, origin: SlowOrigin
) -> None:
    # Given a web process (no background work of its own) and a worker process on one site
    port = free_port()
    settings = fault_site(tmp_path / "site", port, comments={"moderation": "open"})
    slug = await publish_offline(settings, "Shared")
    origin.in_reply_to = f"{settings.site.base_url}/posts/{slug}"
    web_process = await ServedBlog(settings, port, "--no-worker").start()
    worker = await WorkerProcess(settings).start()
    try:
        # When a reply given by id reaches the web process, which acknowledges it while it still fetches the note
        create = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{origin.note_id}/activity",
            "type": "Create",
            "actor": origin.actor,
            "object": origin.note_id,
        }
        body = json.dumps(create).encode()
        headers = sign_request(
            private_key=origin.key, key_id=f"{origin.actor}#main-key", method="POST",
            url=f"{settings.site.base_url}/inbox", body=body, headers={"Content-Type": "application/activity+json"},
        )  # fmt: skip
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{web_process.url}/inbox", data=body, headers=headers) as response,
        ):
            assert response.status == 202
        assert origin.first_fetch.is_set(), "the note was fetched before the answer: the test proves nothing"
        # And the web process is killed before it has the note
        await web_process.kill()
        killed_at = time.monotonic()
        origin.release.set()

        # Then the worker takes the reply over within seconds and stores the comment
        async with open_context(settings) as ctx:
            stored = None
            while time.monotonic() - killed_at < 30:
                stored = await ctx.db.fetch_value("SELECT status FROM inbox_activities WHERE id = ?", (create["id"],))
                if stored == "processed":
                    break
                await asyncio.sleep(0.2)
            took = time.monotonic() - killed_at
            assert stored == "processed", f"the reply is still {stored!r} 30 s after the kill"
            comments = await ctx.db.fetch_all("SELECT content_html FROM comments")
        assert [TEXT in row[0] for row in comments] == [True]
        assert took < 15, f"taken over after {took:.1f} s"
    finally:
        await web_process.kill()
        await worker.stop()
