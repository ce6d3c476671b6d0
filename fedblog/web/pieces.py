"""Large response bodies written in pieces, so that a slow reader costs the server a piece, not a copy of the page.

aiohttp hands a bytes body to the transport in one write; on Python 3.11 the transport joins it with the headers
(a copy) and keeps in its buffer whatever the socket did not take at once (another): a 5.5 MB page read by 64
slow connections held 64 copies (the server's peak, 400-600 MB in the benchmark's inbox phase). Written in
pieces from a view of the cached bytes, each piece waits for the one before to drain, and nothing is copied
but the part of a piece the socket has not taken yet.
"""

from __future__ import annotations

from typing import Any

from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload

# A piece: at 256 KiB the 64 readers of the 5.6 MB page all advanced together and its p99 went from 0.2-0.35 s
# to 0.4-1.0 s (throughput up); at 1 MiB p99 0.16-0.28 s, throughput up as much. Bodies from IN_PIECES_ABOVE are
# sent this way; the read path's 200-comment page (0.27 MB) still goes in one write, as before.
PIECE_BYTES = 1024 * 1024
IN_PIECES_ABOVE = 512 * 1024


class BodyInPieces(Payload):
    """`bytes` sent PIECE_BYTES at a time (aiohttp's writer drains the transport after each)."""

    _value: bytes
    _autoclose = True  # bytes in memory: nothing to close

    def __init__(self, value: bytes, content_type: str, **kwargs: Any) -> None:
        super().__init__(value, content_type=content_type, **kwargs)
        self._size = len(value)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return self._value.decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self._value

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        view = memoryview(self._value)
        end = len(view) if content_length is None else min(len(view), content_length)
        for start in range(0, end, PIECE_BYTES):
            await writer.write(view[start : min(start + PIECE_BYTES, end)])
