"""A sliding-window rate limiter in memory, keyed by whatever the caller chooses (IP, account)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from aiohttp import web

from fedblog.web.keys import SETTINGS_KEY


class RateLimiter:
    def __init__(self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window_seconds
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}

    def _recent(self, key: str) -> deque[float]:
        now = self.clock()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(self._hits) > 10_000:  # forget idle keys so a flood of addresses cannot grow memory forever
            for stale in [k for k, v in self._hits.items() if not v and k != key]:
                del self._hits[stale]
        return hits

    def allow(self, key: str) -> bool:
        """Count one hit for key; False when the key is over its limit."""
        hits = self._recent(key)
        if len(hits) >= self.limit:
            return False
        hits.append(self.clock())
        return True

    def retry_after(self, key: str) -> int:
        hits = self._recent(key)
        if len(hits) < self.limit:
            return 0
        return max(1, int(hits[0] + self.window - self.clock()) + 1)

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)


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
