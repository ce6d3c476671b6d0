"""A loopback web site for the tests: the pages other sites serve (linking to our posts, advertising endpoints),
and every POST it receives (as a Webmention or trackback endpoint would)."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Served:
    status: int = 200
    body: str = ""
    content_type: str = "text/html"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class OtherSite:
    """A loopback web site: pages by path, and every POST it receives (an endpoint)."""

    pages: dict[str, Served] = field(default_factory=dict)
    posts: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    gets: list[str] = field(default_factory=list)
    base: str = ""
    _runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        if request.method == "POST":
            form = await request.post()
            self.posts.append((request.path_qs, {k: str(v) for k, v in form.items()}))
            return web.Response(status=202, text="accepted")
        self.gets.append(request.path)
        page = self.pages.get(request.path)
        if page is None:
            return web.Response(status=404, text="not found")
        return web.Response(status=page.status, text=page.body, content_type=page.content_type, headers=page.headers)

    def url(self, path: str) -> str:
        return self.base + path

    async def start(self) -> OtherSite:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        # Bound first and handed to aiohttp: no window for another process to take the port.
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
        await web.SockSite(self._runner, sock).start()
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
