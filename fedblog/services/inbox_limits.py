"""Limits on what unknown senders can make the inbox do (each costs an outbound fetch of the sender's actor).

A request is *known* when its key is already cached (fresh), its actor is an accepted follower, or its host is in
`federation.trusted_hosts`: those go at full speed. For the others:
- a token bucket per sending host (new actors a host can introduce) and one per unknown key (a sender whose key
  keeps failing to fetch);
- a token bucket per post for reactions (Like, Announce) from unknown actors;
- at most FETCHES_PER_HOST actor fetches at a time per host; a request that cannot get a slot within
  SLOT_WAIT_SECONDS is refused too.
A refused request is answered 429 with Retry-After: the sender retries later, nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fedblog.protocol.token_bucket import Buckets, Limit, take_all

if TYPE_CHECKING:
    from fedblog.context import Context

NEW_ACTORS_PER_HOST = Limit(capacity=60, rate=1.0)  # a burst of 60 new accounts, then one a second
UNKNOWN_KEY = Limit(capacity=5, rate=1 / 12)  # five tries, then one every 12 s
REACTIONS_PER_POST = Limit(capacity=30, rate=1 / 6)  # 30 new faces at once on a post, then ten a minute
FETCHES_PER_HOST = 4
SLOT_WAIT_SECONDS = 10.0
SLOT_RETRY_AFTER = 10
REACTION_TYPES = frozenset({"Like", "Announce", "EmojiReact"})


@dataclass
class InboxLimits:
    per_host: Buckets = field(default_factory=lambda: Buckets(NEW_ACTORS_PER_HOST))
    per_key: Buckets = field(default_factory=lambda: Buckets(UNKNOWN_KEY))
    per_post: Buckets = field(default_factory=lambda: Buckets(REACTIONS_PER_POST))
    _slots: dict[str, asyncio.Semaphore] = field(default_factory=dict)

    def admit_unknown(self, host: str, key_id: str, kind: object, object_id: str | None) -> int:
        """0 when an unknown sender's request may go on (its tokens taken), else seconds for Retry-After."""
        wanted = [(self.per_host, host), (self.per_key, key_id)]
        if kind in REACTION_TYPES and object_id:
            wanted.append((self.per_post, object_id))
        return take_all(wanted, time.monotonic())

    @contextlib.asynccontextmanager
    async def fetch_slot(self, host: str) -> AsyncIterator[bool]:
        """One of the host's fetch slots (True), or False after SLOT_WAIT_SECONDS without one."""
        slot = self._slots.get(host)
        if slot is None:
            if len(self._slots) > 1000:
                for idle in [name for name, held in self._slots.items() if not held.locked()]:
                    del self._slots[idle]
            slot = self._slots[host] = asyncio.Semaphore(FETCHES_PER_HOST)
        try:
            await asyncio.wait_for(slot.acquire(), timeout=SLOT_WAIT_SECONDS)
        except TimeoutError:
            yield False
            return
        try:
            yield True
        finally:
            slot.release()


def inbox_limits(ctx: Context) -> InboxLimits:
    limits = ctx.runtime.inbox_limits
    if limits is None:
        limits = ctx.runtime.inbox_limits = InboxLimits()
    return limits


def is_trusted_host(ctx: Context, host: str) -> bool:
    return host.lower() in {trusted.lower() for trusted in ctx.settings.federation.trusted_hosts}
