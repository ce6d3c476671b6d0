"""The fault suite's parts: many loopback "remote servers" counting what reaches each inbox, `fedblog serve` as a
real process that can be killed, and a site whose followers live on those servers."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from fedblog.assembly import open_context
from fedblog.config import Settings, load_settings
from fedblog.services.federation import announce_profile_changes
from fedblog.services.posts import PostInput, PostService
from fedblog.store.followers import FollowerStore
from tests.conftest import make_site

FEDBLOG = str(Path(sys.executable).parent / "fedblog")


@dataclass(frozen=True)
class Arrival:
    inbox: str
    activity_id: str
    at: float  # time.monotonic()


@dataclass
class InboxFarm:
    """`hosts` servers on 127.0.0.1 (one port each: one host each, as the queue counts hosts by host:port).
    Every POST to /users/<name>/inbox is recorded; `delay` holds each answer, `hang` holds it for good."""

    hosts: int
    delay: float = 0.0
    status: int = 202
    hang: set[str] = field(default_factory=set)  # host:port that never answer
    arrivals: list[Arrival] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> InboxFarm:
        app = web.Application()
        app.router.add_post("/users/{name}/inbox", self._inbox)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        for _ in range(self.hosts):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            self.ports.append(int(sock.getsockname()[1]))
            await web.SockSite(self._runner, sock).start()
        return self

    async def close(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def host(self, index: int) -> str:
        return f"127.0.0.1:{self.ports[index]}"

    def inboxes(self, per_host: int) -> list[tuple[str, str]]:
        """(actor id, inbox) of `per_host` followers on every host."""
        out = []
        for index in range(self.hosts):
            for n in range(per_host):
                actor = f"http://{self.host(index)}/users/reader{n}"
                out.append((actor, f"{actor}/inbox"))
        return out

    def per_inbox(self) -> Counter[str]:
        return Counter(arrival.inbox for arrival in self.arrivals)

    async def _inbox(self, request: web.Request) -> web.Response:
        body = await request.read()
        host = request.host
        if host in self.hang:
            await self._release.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        activity = json.loads(body)
        self.arrivals.append(Arrival(f"http://{host}{request.path}", str(activity.get("id")), time.monotonic()))
        return web.Response(status=self.status)


def fault_site(
    directory: Path,
    port: int,
    federation: dict[str, Any] | None = None,
    comments: dict[str, Any] | None = None,
    database: Path | None = None,
    database_url: str | None = None,
) -> Settings:
    """A site on 127.0.0.1:port whose deliveries may go to loopback servers (its database at `database`, or the
    PostgreSQL database `database_url`)."""
    overrides: dict[str, dict[str, Any]] = {
        "federation": {"allow_private_addresses": True, **(federation or {})},
        "webmention": {"send": False},
        "comments": comments or {},
    }
    if database is not None:
        overrides["database"] = {"path": str(database)}
    if database_url is not None:
        overrides["database"] = {"url": database_url}
    return load_settings(make_site(directory, f"http://127.0.0.1:{port}", overrides=overrides), environ={})


async def add_followers(settings: Settings, inboxes: Iterable[tuple[str, str]]) -> None:
    async with open_context(settings) as ctx:
        await announce_profile_changes(ctx)  # the profile is recorded before there are followers to tell
        store = FollowerStore(ctx.db)
        async with ctx.db.transaction() as conn:
            for actor, inbox in inboxes:
                await store.upsert(
                    conn,
                    actor_id=actor,
                    inbox=inbox,
                    shared_inbox=None,
                    handle=None,
                    name=actor.rsplit("/", 1)[-1],
                    follow_activity_id=f"{actor}/follows/1",
                    follow_json="{}",
                    status="accepted",
                )


async def publish_offline(settings: Settings, title: str) -> str:
    """Publish with no server running: the post and its delivery jobs are in the database, nothing is sent yet."""
    async with open_context(settings) as ctx:
        post = await PostService(ctx).publish(PostInput(title=title, body_markdown="Body"))
        return post.slug


async def delivery_states(settings: Settings) -> Counter[str]:
    async with open_context(settings) as ctx:
        rows = await ctx.db.fetch_all("SELECT status FROM deliveries WHERE activity_id LIKE '%/create/%'")
    return Counter(row[0] for row in rows)


class _FedblogChild:
    """A fedblog command in its own process, stopped as an operator (SIGTERM) or a crash (SIGKILL) would."""

    process: asyncio.subprocess.Process | None

    async def kill(self) -> None:
        """kill -9: no cleanup of any kind (its leases stay in the database, its heartbeat stops)."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            await asyncio.wait_for(self.process.wait(), timeout=10)

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), timeout=20)
            except TimeoutError:
                await self.kill()


class ServedBlog(_FedblogChild):
    """`fedblog serve` in its own process, as a site runs it."""

    def __init__(self, settings: Settings, port: int | None = None, *serve_args: str) -> None:
        self.settings = settings
        self.port = port or int(urlsplit(settings.site.base_url).port or 80)
        self.serve_args = serve_args  # e.g. --no-worker
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, stderr: Any = asyncio.subprocess.DEVNULL) -> ServedBlog:
        env = {name: value for name, value in os.environ.items() if not name.startswith("FEDBLOG_")}
        env.pop("HOST", None)
        env.pop("PORT", None)
        self.process = await asyncio.create_subprocess_exec(
            FEDBLOG,
            "--config",
            str(self.settings.root / "fedblog.toml"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            *self.serve_args,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )
        async with aiohttp.ClientSession() as session:
            for _ in range(300):  # up to ~30 s on a loaded machine
                try:
                    async with session.get(self.url + "/") as response:
                        if response.status < 500:
                            return self
                except aiohttp.ClientConnectionError:
                    pass
                if self.process.returncode is not None:
                    raise AssertionError(f"fedblog serve exited with {self.process.returncode}")
                await asyncio.sleep(0.1)
        raise AssertionError("fedblog serve did not start")


class WorkerProcess(_FedblogChild):
    """`fedblog worker` in its own process: the background work alone, as a worker machine runs it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self) -> WorkerProcess:
        env = {name: value for name, value in os.environ.items() if not name.startswith("FEDBLOG_")}
        self.process = await asyncio.create_subprocess_exec(
            FEDBLOG,
            "--config",
            str(self.settings.root / "fedblog.toml"),
            "worker",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert self.process.stdout is not None
        # It says so once its background tasks run (after the database is open and migrated).
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout=30)
        if b"worker is running" not in line:
            raise AssertionError(f"fedblog worker did not start: {line!r}")
        return self


async def wait_until(check: Any, what: str, timeout: float) -> float:
    """Poll `check()` (sync) until true; return the seconds it took; fail naming `what` after `timeout`."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{what}: not true after {timeout:.0f} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


async def run_cli(settings: Settings, *args: str) -> tuple[int, str]:
    """`fedblog --config … ARGS` in its own process: (exit code, output)."""
    process = await asyncio.create_subprocess_exec(
        FEDBLOG,
        "--config",
        str(settings.root / "fedblog.toml"),
        *args,
        # As a site runs it: the tests' own FEDBLOG_* variables (FEDBLOG_TEST_BACKEND) are no settings of fedblog's.
        env={name: value for name, value in os.environ.items() if not name.startswith("FEDBLOG_")},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, out.decode()
