"""Malformed HTTP (over-long header lines and URLs, a method that is not a token) is a 400 and one log line, never
an ERROR with a traceback."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tests.conftest import LiveSite


async def raw_exchange(site: LiveSite, request: bytes) -> bytes:
    """Send a first well-formed HEAD (so that a bad request is not the connection's first: aiohttp logs those
    differently), then `request`; the bytes answered to it."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", site.port), timeout=10)
    try:
        writer.write(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), timeout=10)  # the server closes after a 400
    finally:
        writer.close()


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"b" * 20_000 + b"\r\n\r\n",
        b"G@T / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["long URL", "long header line", "bad method", "bad chunk"],
)
async def test_server__malformed_http_is_a_400_and_one_warning(
    site: LiveSite, caplog: pytest.LogCaptureFixture, request_bytes: bytes
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    answer = await raw_exchange(site, request_bytes)
    assert b" 400 Bad Request\r\n" in answer
    await asyncio.sleep(0.05)  # the handler logs after answering
    server_records = [r for r in caplog.records if r.name.startswith("aiohttp") and r.levelno >= logging.INFO]
    assert not [record for record in server_records if record.exc_info or record.levelno >= logging.ERROR]
    warnings = [record for record in server_records if record.levelno == logging.WARNING]
    assert len(warnings) <= 1
    assert all("\n" not in record.getMessage() for record in server_records)
