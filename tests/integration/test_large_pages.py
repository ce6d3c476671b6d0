"""A long thread's page (megabytes) read by a slow reader: it arrives whole, and the server holds a piece of it per
reader, not a copy (64 slow readers of a 5.5 MB page held 64 copies: the benchmark's peak of 400-600 MB)."""

from __future__ import annotations

import asyncio
import socket

from aiohttp import web

from fedblog.web.page_cache import CSRF_PLACEHOLDER, CachedPage, response_from_page
from fedblog.web.pieces import IN_PIECES_ABOVE, PIECE_BYTES
from tests.conftest import bound_socket

MIB = 1024 * 1024


async def serve(page: CachedPage) -> tuple[web.AppRunner, int]:
    async def long_page(_request: web.Request) -> web.Response:
        return response_from_page(page, lambda: "the-token")

    app = web.Application()
    app.router.add_get("/long", long_page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = bound_socket()
    await web.SockSite(runner, sock).start()
    return runner, int(sock.getsockname()[1])


async def slow_reader(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection with a small receive window that asks for the page and reads nothing yet."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(b"GET /long HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    await writer.drain()
    return reader, writer


async def test_a_long_page__reaches_slow_readers_whole_while_the_server_holds_a_piece_for_each() -> None:
    # Given a cached page of 16 MB with the comment form's token in it
    rest = b"<p>" + b"a long thread " * (16 * MIB // 14) + b"</p>"
    page = CachedPage(body=f'<input value="{CSRF_PLACEHOLDER}">'.encode() + rest, content_type="text/html",
                      has_placeholder=True)  # fmt: skip
    runner, port = await serve(page)
    readers: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        # When three readers ask for it and read nothing for a while
        readers = [await slow_reader(port) for _ in range(3)]
        await asyncio.sleep(0.3)
        # Then the server keeps at most a piece or two of it per connection, not the rest of the page
        assert runner.server is not None
        buffered = [connection.transport.get_write_buffer_size() for connection in runner.server.connections
                    if connection.transport is not None]  # fmt: skip
        assert len(buffered) == 3 and max(buffered) <= 2 * PIECE_BYTES
        # And each gets the whole page, token in place, with its length announced
        for reader, _ in readers:
            head, _, body = (await asyncio.wait_for(reader.read(), 30)).partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200")
            assert body == b'<input value="the-token">' + rest
            assert f"Content-Length: {len(body)}".encode() in head
    finally:
        for _, writer in readers:
            writer.close()
        await runner.cleanup()


async def test_a_page_under_the_pieces_size__is_one_body_as_before() -> None:
    page = CachedPage(body=b"x" * IN_PIECES_ABOVE, content_type="text/html")
    assert response_from_page(page, lambda: "").body == b"x" * IN_PIECES_ABOVE
