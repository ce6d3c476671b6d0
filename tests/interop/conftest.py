"""Interop fixtures: a real Fedify peer (Node.js) and the real blog served over https on 127.0.0.1.

Fedify resolves `@user@host` handles with WebFinger over https only, so the blog gets an https base_url,
served either through a TLS-terminating reverse proxy (the usual deployment) or by aiohttp itself.
The peer trusts the throwaway CA through NODE_EXTRA_CA_CERTS.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from fedblog.app import create_app
from fedblog.config import load_settings
from tests.conftest import LiveSite, free_port, make_site
from tests.interop.peer_process import PeerProcess
from tests.interop.tls import TlsFiles, make_tls_files
from tests.interop.tls_proxy import TlsProxy, close_tls_runner


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/interop/" in str(item.fspath):
            item.add_marker(pytest.mark.interop)


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory, tls_files: TlsFiles) -> Iterator[PeerProcess]:
    """One Fedify peer per test module (starting Node costs about a second); always stopped."""
    log = tmp_path_factory.mktemp("peer") / "peer.log"
    process = PeerProcess.start(log, tls_files.ca_cert)
    try:
        yield process
    finally:
        process.stop()


class HttpsBlog(LiveSite):
    """A LiveSite reachable at an https base_url, plus helpers the interop tests share."""

    def __init__(self, site: LiveSite, tls_files: TlsFiles) -> None:
        super().__init__(site.settings, site.runner, site.port)
        self.tls_files = tls_files
        self.host = self.url.removeprefix("https://")
        self.handle = f"@{self.settings.author.username}@{self.host}"

    @property
    def actor(self) -> str:
        return self.ctx.urls.actor()

    async def get(self, path: str, accept: str = "text/html") -> tuple[int, str]:
        """GET a page the way a visitor's browser would, over the same https front door."""
        connector = aiohttp.TCPConnector(ssl=self.tls_files.client_context())
        async with (
            aiohttp.ClientSession(connector=connector) as session,
            session.get(self.url + path, headers={"Accept": accept}, allow_redirects=False) as response,
        ):
            return response.status, await response.text()


HttpsBlogFactory = Callable[..., Awaitable[HttpsBlog]]


@pytest.fixture
async def https_blog_factory(tmp_path: Path, tls_files: TlsFiles) -> AsyncIterator[HttpsBlogFactory]:
    """Start blogs at https://127.0.0.1:<port>: `proxied=True` puts a TLS reverse proxy in front of plain http."""
    cleanups: list[Callable[[], Awaitable[Any]]] = []
    counter = 0

    async def start(proxied: bool = True, overrides: dict[str, dict[str, Any]] | None = None) -> HttpsBlog:
        nonlocal counter
        counter += 1
        public_port = free_port()
        merged: dict[str, dict[str, Any]] = {"federation": {"allow_private_addresses": True}}
        if proxied:
            merged["server"] = {"behind_proxy": True}
        for section, values in (overrides or {}).items():
            merged.setdefault(section, {}).update(values)
        config = make_site(tmp_path / f"blog{counter}", f"https://127.0.0.1:{public_port}", "en", merged)
        settings = load_settings(config, environ={})
        runner = web.AppRunner(create_app(settings), access_log=None)
        await runner.setup()
        cleanups.append(runner.cleanup)
        if proxied:
            app_port = free_port()
            await web.TCPSite(runner, "127.0.0.1", app_port).start()
            proxy = TlsProxy(f"http://127.0.0.1:{app_port}")
            cleanups.append(proxy.close)
            await proxy.start(public_port, tls_files.server_context())
        else:
            cleanups[-1] = lambda: close_tls_runner(runner)
            await web.TCPSite(runner, "127.0.0.1", public_port, ssl_context=tls_files.server_context()).start()
        return HttpsBlog(LiveSite(settings, runner, public_port), tls_files)

    yield start
    for cleanup in reversed(cleanups):
        await cleanup()


@pytest.fixture
async def blog(https_blog_factory: HttpsBlogFactory) -> HttpsBlog:
    """The usual deployment: TLS proxy → `fedblog serve` on plain http."""
    return await https_blog_factory(proxied=True)


async def deliver(blog: HttpsBlog) -> None:
    """Run the blog's delivery worker once over every due job, so a test never waits for its poll interval."""
    from fedblog.services.delivery import DeliveryWorker  # late: the module lands with the federation work

    await DeliveryWorker(blog.ctx).run_once()


async def follow_blog(peer: PeerProcess, blog: HttpsBlog) -> dict[str, Any]:
    """The peer follows the blog by handle and waits for the blog's Accept, verified by Fedify."""
    sent = await peer.follow(blog.handle)
    await peer.wait_for_activity(
        lambda a: a["type"] == "Accept" and a["actor"] == blog.actor and a["objectId"] == sent["followId"],
        f"the blog's Accept of {sent['followId']}",
        tick=lambda: deliver(blog),
    )
    return sent
