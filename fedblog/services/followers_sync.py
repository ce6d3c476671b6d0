"""Followers collection synchronization (FEP-8fcf): deliveries addressed to the followers carry, for the receiving
host, the digest of the blog's followers on that host (`Collection-Synchronization`), and the partial followers
collection it points to (/actor/followers_synchronization) lists them to that host's signed GET only.

The digests are computed from one read of the accepted followers, kept for DIGEST_SECONDS: a fan-out to a thousand
hosts makes one query, not one per delivery (a follow accepted meanwhile shows in the next period; the receiver
only re-fetches the partial collection, which is always read fresh).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import TYPE_CHECKING

from fedblog.protocol.addresses import host_of
from fedblog.protocol.followers_sync import HEADER, followers_digest, synchronization_header
from fedblog.store.followers import FollowerStore

if TYPE_CHECKING:
    from fedblog.context import Context

DIGEST_SECONDS = 60.0
MAX_REMEMBERED_BODIES = 64


class FollowerDigests:
    """host:port → the digest of the accepted followers whose actor is on it."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._digests: dict[str, str] = {}
        # The header is made per delivery (~1 µs; kept per host it was 4.4 MB for 10,000 hosts), from URLs made
        # once. And whether a body is addressed to the followers (the worker keeps one bytes object per body).
        self._urls = ("", "")  # the followers collection, the partial collection
        self._to_followers: dict[bytes, bool] = {}
        self._made_at = float("-inf")
        # A fan-out's first deliveries all find the digests stale at once: one of them reads, the others wait for it
        # (without it each read every follower and hashed them all: 2.4 s of CPU for 10,000 followers).
        self._refreshing = asyncio.Lock()

    async def headers_for(self, host: str, body: bytes) -> dict[str, str]:
        """The header for a delivery to `host` of an activity addressed to the followers; {} otherwise."""
        if not self._addressed_to_followers(body):
            return {}
        if self._stale():
            async with self._refreshing:
                if self._stale():  # not refreshed meanwhile by the delivery that held the lock
                    await self._refresh()
        digest = self._digests.get(host)
        if digest is None:
            return {}  # no follower on that host (a mention's recipient): nothing to synchronize
        return {HEADER: synchronization_header(*self._urls, digest)}

    def _addressed_to_followers(self, body: bytes) -> bool:
        found = self._to_followers.get(body)
        if found is None:
            if len(self._to_followers) >= MAX_REMEMBERED_BODIES:
                self._to_followers.clear()
            found = self._to_followers[body] = self.ctx.urls.followers().encode() in body
        return found

    def _stale(self) -> bool:
        return time.monotonic() - self._made_at > DIGEST_SECONDS

    def forget(self) -> None:
        """The queue is idle: the digests (one per host followed from) go once stale, as the next fan-out would make
        them again anyway (kept meanwhile: a post published a minute after another starts without reading every
        follower)."""
        self._to_followers.clear()
        if self._stale():
            self._digests = {}
            self._made_at = float("-inf")

    def __len__(self) -> int:
        """Hosts something is kept for."""
        return len(self._digests)

    async def _refresh(self) -> None:
        by_host: dict[str, list[str]] = defaultdict(list)
        for actor_id in await FollowerStore(self.ctx.db).accepted_actor_ids():
            by_host[host_of(actor_id)].append(actor_id)
        self._digests = {host: followers_digest(ids) for host, ids in by_host.items()}
        self._urls = (self.ctx.urls.followers(), partial_collection_url(self.ctx))
        self._made_at = time.monotonic()


def partial_collection_url(ctx: Context) -> str:
    return ctx.urls.absolute("/actor/followers_synchronization")


async def followers_on_host_of(ctx: Context, actor_id: str) -> list[str]:
    """The accepted followers on the same host as `actor_id` (the signer of the GET)."""
    host = host_of(actor_id)
    return [found for found in await FollowerStore(ctx.db).accepted_actor_ids() if host_of(found) == host]
