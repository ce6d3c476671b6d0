"""A TLS-terminating reverse proxy on 127.0.0.1, as nginx or Caddy would sit in front of `fedblog serve`.

It keeps the Host header and the path byte for byte (signatures cover both) and adds X-Forwarded-For/-Proto.
"""

from __future__ import annotations

import ssl

import aiohttp
from aiohttp import web

# Hop-by-hop headers (RFC 9110 §7.6.1) and the ones aiohttp recomputes itself.
_DROP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


class TlsProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.runner: web.AppRunner | None = None
        self.session: aiohttp.ClientSession | None = None

    async def start(self, port: int, context: ssl.SSLContext) -> None:
        # A new upstream connection per request, as nginx does by default: nothing lingers at shutdown.
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True),
            auto_decompress=False,
            timeout=aiohttp.ClientTimeout(total=30),
        )
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", port, ssl_context=context).start()

    async def close(self) -> None:
        if self.runner is not None:
            await close_tls_runner(self.runner)
        if self.session is not None:
            await self.session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        assert self.session is not None
        headers = {name: value for name, value in request.headers.items() if name.lower() not in _DROP}
        peer = request.transport.get_extra_info("peername") if request.transport else None
        headers["X-Forwarded-For"] = peer[0] if peer else "127.0.0.1"
        headers["X-Forwarded-Proto"] = "https"
        body = await request.read()
        async with self.session.request(
            request.method,
            self.upstream + request.raw_path,
            headers=headers,
            data=body or None,
            allow_redirects=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
        ) as upstream:
            payload = await upstream.read()
            response = web.Response(status=upstream.status, body=payload)
            for name, value in upstream.headers.items():
                if name.lower() not in _DROP:
                    response.headers.add(name, value)
            return response


async def close_tls_runner(runner: web.BaseRunner) -> None:
    """Stop a TLS server without leaking sockets: abort idle keep-alive connections (Node keeps them open)
    first, since a graceful TLS close waits for the client's close_notify, which may come after the test's loop
    is gone."""
    if runner.server is not None:
        for handler in runner.server.connections:
            if handler.transport is not None:
                handler.transport.abort()
    await runner.cleanup()
