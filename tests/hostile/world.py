"""The world the corpus runs in: the real app on a real port (and a second one that refuses private addresses),
a loopback "remote Mastodon", a server that counts every request (SSRF probes must never reach it), and a
"public" server on 127.0.0.2 that redirects."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from fedblog.app import create_app
from fedblog.config import load_settings
from fedblog.models import Post
from fedblog.services.posts import PostInput, PostService
from tests.conftest import LiveSite, make_site
from tests.fakes.remote import RemoteInstance


class HostileMastodon(RemoteInstance):
    """Actors whose documents carry whatever the case puts in `extra[name]`."""

    extra: dict[str, dict[str, Any]]

    def actor_document(self, name: str) -> dict[str, Any]:
        return {**super().actor_document(name), **getattr(self, "extra", {}).get(name, {})}


@dataclass
class Counter:
    """Counts requests; a probe that reaches it has escaped the guard."""

    hits: list[str] = field(default_factory=list)
    public_hits: list[str] = field(default_factory=list)
    port: int = 0
    public_port: int = 0
    runners: list[web.AppRunner] = field(default_factory=list)
    redirect_to: str = ""

    async def start(self) -> Counter:
        counting = web.Application()
        counting.router.add_route("*", "/{tail:.*}", self._count)
        self.port = await self._serve(counting, [("127.0.0.1", 0), ("::1", None)])
        public = web.Application()
        public.router.add_get("/r/{hops}", self._redirect)
        public.router.add_get("/{tail:.*}", self._count_public)
        self.public_port = await self._serve(public, [("127.0.0.2", 0), ("127.0.0.2", self.port)])
        return self

    async def _serve(self, app: web.Application, binds: list[tuple[str, int | None]]) -> int:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        self.runners.append(runner)
        port = 0
        for host, wanted in binds:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family)
            try:
                sock.bind((host, port if wanted is None else wanted))
            except OSError:  # no IPv6 loopback here: the IPv4 listener is enough
                sock.close()
                continue
            port = int(sock.getsockname()[1])
            await web.SockSite(runner, sock).start()
        return port

    async def _count(self, request: web.Request) -> web.Response:
        self.hits.append(request.path_qs)
        return web.Response(status=404)

    async def _count_public(self, request: web.Request) -> web.Response:
        self.public_hits.append(request.path_qs)
        return web.Response(status=404)

    async def _redirect(self, request: web.Request) -> web.Response:
        hops = int(request.match_info["hops"])
        target = f"/r/{hops - 1}" if hops > 1 else self.redirect_to
        raise web.HTTPFound(target)

    async def close(self) -> None:
        for runner in self.runners:
            await runner.cleanup()


@dataclass
class Pages:
    """A loopback web site serving the pages cases put in `pages` (path → HTML)."""

    pages: dict[str, str] = field(default_factory=dict)
    base: str = ""
    runner: web.AppRunner | None = None

    async def start(self) -> Pages:
        app = web.Application()
        app.router.add_get("/{tail:.*}", self._page)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        await web.SockSite(self.runner, sock).start()
        return self

    async def _page(self, request: web.Request) -> web.Response:
        page = self.pages.get(request.path)
        if page is None:
            return web.Response(status=404)
        return web.Response(text=page, content_type="text/html")

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@dataclass
class World:
    site: LiveSite
    guarded: LiveSite
    remote: HostileMastodon
    counter: Counter
    post: Post
    pages: Pages
    crowd: HostileMastodon  # a second server, whose new actors come in a crowd
    second_post: Post
    baseline: int = 0  # the most active-content markers any of the blog's own pages has, per marker
    markers: dict[str, int] = field(default_factory=dict)

    def fill(self, value: Any, token: str, actor: str = "alice") -> Any:
        """The case's placeholders filled in, through dicts and lists."""
        if isinstance(value, str):
            return (
                value.replace("{blog}", self.site.url)
                .replace("{post}", self.site.ctx.urls.note(self.post.slug))
                .replace("{remote}", self.remote.base)
                .replace("{alice}", self.remote.actor_id(actor))
                .replace("{bob}", self.remote.actor_id("bob"))
                .replace("{listener}", f"127.0.0.1:{self.counter.port}")
                .replace("{public_port}", str(self.counter.public_port))
                .replace("{port}", str(self.counter.port))
                .replace("{token}", token)
            )
        if isinstance(value, dict):
            return {self.fill(k, token, actor): self.fill(v, token, actor) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.fill(v, token, actor) for v in value]
        return value


async def start_site(directory: Path, private_addresses: bool) -> LiveSite:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    overrides = {
        "federation": {"allow_private_addresses": private_addresses},
        "webmention": {"send": False},
        "comments": {"moderation": "open", "rate_limit_per_minute": 100_000},
    }
    settings = load_settings(make_site(directory, f"http://127.0.0.1:{port}", overrides=overrides), environ={})
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return LiveSite(settings, runner, port)


async def open_world(directory: Path) -> AsyncIterator[World]:
    site = await start_site(directory / "blog", private_addresses=True)
    guarded = await start_site(directory / "guarded", private_addresses=False)
    remote = HostileMastodon(site=site, avatars=True)
    remote.extra = {}
    await remote.start()
    counter = await Counter().start()
    pages = await Pages().start()
    crowd = HostileMastodon(host="127.0.0.3", site=site, avatars=True)
    crowd.extra = {}
    await crowd.start()
    post = await PostService(site.ctx).publish(
        PostInput(title="Target", body_markdown="Original words.", slug="target")
    )
    second_post = await PostService(site.ctx).publish(
        PostInput(title="Popular", body_markdown="Liked.", slug="popular")
    )
    world = World(site, guarded, remote, counter, post, pages, crowd, second_post)
    # bob follows the blog (a case tries to undo his Follow in his name)
    follow = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{remote.actor_id('bob')}/follows/setup",
        "type": "Follow",
        "actor": remote.actor_id("bob"),
        "object": f"{site.url}/actor",
    }
    assert await remote.send("bob", follow) == 202
    try:
        yield world
    finally:
        await crowd.close()
        await pages.close()
        await counter.close()
        await remote.close()
        for live in (guarded, site):
            await live.runner.cleanup()


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()
