"""Limits on what unknown senders can make the inbox do (each costs an outbound fetch of the sender's actor).

A request is *known* when its key is already cached (fresh), its actor is an accepted follower, or its host is in
`federation.trusted_hosts`: those go at full speed. For the others:
- a token bucket per sending host (new actors a host can introduce) and one per unknown key (a sender whose key
  keeps failing to fetch);
- a token bucket per post for reactions (Like, Announce) from unknown actors;
- at most FETCHES_PER_HOST actor fetches at a time per host; a request that cannot get a slot within
  SLOT_WAIT_SECONDS is refused too.
A refused request is answered 429 with Retry-After: the sender retries later, nothing is lost.

The buckets are kept in the database (store/token_buckets.py): every process takes from the same ones, so a host
gets no fresh allowance by reaching another web process. Only senders not known yet pay the trip (one group-commit
work, shared with the writes queued meanwhile), and they go on to fetch an actor anyway. While a bucket is empty
the process remembers until when, and refuses without asking the database: a flood costs no writes (other
processes can only take tokens, so the wait never shortens).

The fetch slots are per process, on purpose: they bound how many fetches this process has under way (its
connections and waiting tasks), which is its own business, and so N web processes make at most N × 4 fetches at
once to one host. How many actors a host can make the site fetch in all is bounded across processes by the shared
bucket above. Shared slots would cost a write to take and one to give back for every unknown sender, and a lease
with a heartbeat so that a killed process's slots come back: not worth it for a bound that is already N × 4.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fedblog.store.token_buckets import Bucket, TokenBucketStore

if TYPE_CHECKING:
    from fedblog.context import Context


@dataclass(frozen=True)
class Limit:
    scope: str  # the buckets' name in the database
    capacity: float
    rate: float  # tokens per second

    def bucket(self, key: str) -> Bucket:
        return Bucket(self.scope, key, self.capacity, self.rate)


NEW_ACTORS_PER_HOST = Limit("inbox_host", capacity=60, rate=1.0)  # a burst of 60 new accounts, then one a second
UNKNOWN_KEY = Limit("inbox_key", capacity=5, rate=1 / 12)  # five tries, then one every 12 s
REACTIONS_PER_POST = Limit("inbox_post", capacity=30, rate=1 / 6)  # 30 new faces at once on a post, then 10 a minute
MAX_REMEMBERED_REFUSALS = 10_000
FETCHES_PER_HOST = 4
SLOT_WAIT_SECONDS = 10.0
SLOT_RETRY_AFTER = 10
REACTION_TYPES = frozenset({"Like", "Announce", "EmojiReact"})


@dataclass
class InboxLimits:
    buckets: TokenBucketStore
    clock: Callable[[], float] = time.time  # wall-clock: the buckets are shared with other processes
    _empty_until: dict[Bucket, float] = field(default_factory=dict)  # buckets known empty, until when
    _slots: dict[str, asyncio.Semaphore] = field(default_factory=dict)

    async def admit_unknown(self, host: str, key_id: str, kind: object, object_id: str | None) -> int:
        """0 when an unknown sender's request may go on (a token taken from each of its buckets, or from none),
        else whole seconds for Retry-After."""
        wanted = [NEW_ACTORS_PER_HOST.bucket(host), UNKNOWN_KEY.bucket(key_id)]
        if kind in REACTION_TYPES and object_id:
            wanted.append(REACTIONS_PER_POST.bucket(object_id))
        now = self.clock()
        known_wait = max((self._empty_until.get(bucket, 0.0) - now for bucket in wanted), default=0.0)
        if known_wait > 0:
            return max(1, math.ceil(known_wait))
        waits = await self.buckets.take_all(wanted, now)
        if not any(waits):
            return 0
        if len(self._empty_until) >= MAX_REMEMBERED_REFUSALS:
            self._empty_until.clear()
        for bucket, wait in zip(wanted, waits, strict=True):
            if wait > 0:
                self._empty_until[bucket] = now + wait
        return max(1, math.ceil(max(waits)))

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
        limits = ctx.runtime.inbox_limits = InboxLimits(TokenBucketStore(ctx.db))
    return limits


def is_trusted_host(ctx: Context, host: str) -> bool:
    return host.lower() in {trusted.lower() for trusted in ctx.settings.federation.trusted_hosts}
