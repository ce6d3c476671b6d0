"""Token buckets, keyed, with bounded memory. Pure: the caller passes the time.

A bucket holds up to `capacity` tokens and gains `rate` tokens a second; a request takes one. `take_all` takes
one from each of several buckets or from none (a request refused by one limit costs nothing in the others).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

MAX_KEYS = 10_000  # per limit; the least recently used key is forgotten first (it was full again, or soon will be)


@dataclass(frozen=True)
class Limit:
    capacity: float
    rate: float  # tokens per second


class Buckets:
    """One limit, one bucket per key."""

    def __init__(self, limit: Limit, max_keys: int = MAX_KEYS) -> None:
        self.limit = limit
        self.max_keys = max_keys
        self._levels: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key → (tokens, at)

    def level(self, key: str, now: float) -> float:
        tokens, at = self._levels.get(key, (self.limit.capacity, now))
        return min(self.limit.capacity, tokens + max(0.0, now - at) * self.limit.rate)

    def wait(self, key: str, now: float) -> float:
        """Seconds until the key's bucket holds a token (0 when it holds one now)."""
        missing = 1.0 - self.level(key, now)
        return 0.0 if missing <= 0 else missing / self.limit.rate

    def take(self, key: str, now: float) -> None:
        self._levels[key] = (self.level(key, now) - 1.0, now)
        self._levels.move_to_end(key)
        while len(self._levels) > self.max_keys:
            self._levels.popitem(last=False)


def take_all(wanted: list[tuple[Buckets, str]], now: float) -> int:
    """Take a token from each (buckets, key) when all have one and return 0; else take none and return the whole
    seconds to wait (for Retry-After)."""
    wait = max((buckets.wait(key, now) for buckets, key in wanted), default=0.0)
    if wait > 0:
        return max(1, math.ceil(wait))
    for buckets, key in wanted:
        buckets.take(key, now)
    return 0
