"""Sliding-window rate limiters keyed by whatever the caller chooses (IP, account), counted in the database
(the comment form, the admin login, search, remote interaction, webmention/pingback/trackback): every process
counts the same hits, and a restart forgets none."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from aiohttp import web

from fedblog.store.db import Database, StorageUnavailable
from fedblog.store.rate_limits import RateLimitStore
from fedblog.web.keys import SETTINGS_KEY


class SharedRateLimiter:
    """At most `limit` hits per key in any `window_seconds`, counted in the database (RateLimitStore)."""

    def __init__(
        self, db: Database, scope: str, limit: int, window_seconds: float, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = RateLimitStore(db)
        self.scope = scope
        self.limit = limit
        self.window = window_seconds
        self.clock = clock

    async def allow(self, key: str) -> bool:
        """Count one hit for key; False when the key is over its limit. A storage that refuses the write lets the
        request on: what it came to write fails the same way, with a clear answer."""
        try:
            return await self.store.hit(self.scope, key, self.limit, self.window, self.clock()) == 0
        except StorageUnavailable:
            return True

    async def retry_after(self, key: str) -> int:
        return await self.store.retry_after(self.scope, key, self.limit, self.window, self.clock())

    async def reset(self, key: str) -> None:
        with contextlib.suppress(StorageUnavailable):
            await self.store.reset(self.scope, key)


def client_ip(request: web.Request) -> str:
    """The visitor's address: the socket peer, or with server.behind_proxy the last X-Forwarded-For hop
    (the one our own proxy appended; earlier hops are client-controlled)."""
    settings = request.app[SETTINGS_KEY]
    if settings.server.behind_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return str(request.remote or "unknown")
