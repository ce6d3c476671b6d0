"""A bounded map that lets go of what has not been used for a while.

What a fan-out keeps per inbox (its parsed URL) is made again at every delivery of the next fan-out if it goes as
soon as the queue runs dry: fan-outs a few seconds apart (a post and its update, the replies published on a busy
thread) paid ~0.1 ms per delivery for it. Kept for good, it is megabytes after a fan-out to 10,000 hosts. Here an
entry goes once it has not been used for `keep_seconds` (at the owner's next `forget_unused`), or when `limit`
newer ones need its place.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RecentlyUsed(Generic[K, V]):
    def __init__(self, limit: int, keep_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.keep_seconds = keep_seconds
        self._clock = clock
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()  # least recently used first, with when

    def get(self, key: K) -> V | None:
        found = self._entries.get(key)
        if found is None:
            return None
        self._entries[key] = (found[0], self._clock())
        self._entries.move_to_end(key)
        return found[0]

    def put(self, key: K, value: V) -> None:
        self._entries[key] = (value, self._clock())
        self._entries.move_to_end(key)
        while len(self._entries) > self.limit:
            self._entries.popitem(last=False)

    def forget_unused(self) -> int:
        """Let go of every entry not used for `keep_seconds`; how many went."""
        horizon = self._clock() - self.keep_seconds
        gone = 0
        while self._entries:
            _key, (_value, used_at) = next(iter(self._entries.items()))
            if used_at > horizon:
                break
            self._entries.popitem(last=False)
            gone += 1
        return gone

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
