"""The child side of the driver protocol: `READY <json>`, then one JSON command per stdin line, one reply each."""

from __future__ import annotations

import asyncio
import json
import sys
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def emit(tag: str, payload: dict[str, Any]) -> None:
    sys.stdout.write(f"{tag} {json.dumps(payload)}\n")
    sys.stdout.flush()


async def serve_commands(handlers: dict[str, Handler], ready: dict[str, Any]) -> None:
    """Answer commands until the driver closes stdin (or dies): a child never outlives its driver."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    emit("READY", ready)
    while line := await reader.readline():
        request = json.loads(line)
        name = request.pop("cmd")
        try:
            emit("OK", await handlers[name](request))
        except Exception as error:  # reported to the driver, which fails the benchmark with it
            traceback.print_exc()
            emit("ERR", {"error": f"{type(error).__name__}: {error}"})
