"""Remote actors and their keys: fetched (signed), checked, cached in the remote_actors table.

Trust rules (INTEROP §1 "From keyId to actor", §7 #2, #5, #7):
- a fetched document must carry the AS2 @context and live at its own id (the id equals the URL asked for; an
  actor may name another id on the same origin, which is then fetched and must match itself);
- a key is only believed once its owner's actor document, fetched from the owner's own URL, lists a publicKey
  entry with exactly that key id (two-way check), and the key id and the owner share a host;
- cached actors are refetched after a day, or on demand (key rotation).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from fedblog.clock import to_text, utcnow
from fedblog.models import RemoteActor
from fedblog.protocol.actors import (
    InvalidActor,
    actor_from_document,
    claimed_key_owner,
    has_as2_context,
    is_actor_document,
)
from fedblog.protocol.addresses import UnsafeURL, check_url_shape, same_host, same_origin
from fedblog.services.http import FetchError, get_http
from fedblog.store.actors import ActorStore, KeyStamp

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)

ACTOR_TTL = timedelta(days=1)
# Actors read from remote_actors, by actor id and by key id: every signed request looks its key up, and every
# reply its author; a trip to the database thread each was a tenth of the inbox's time. Filled on read,
# updated on every write (_store, the only one in this process); entries still age out by ACTOR_TTL.
MEMORY_MAX_ENTRIES = 10_000
# A key already refetched this recently is not refetched again: a burst of forged signatures makes one fetch.
KEY_REFRESH_INTERVAL = 30.0


class RemoteError(FetchError):
    """A remote document that was fetched but cannot be trusted or used; str(error) says why."""


class RemoteActors:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = ActorStore(ctx.db)
        self.http = get_http(ctx)

    async def get_actor(self, actor_id: str, *, refresh: bool = False) -> RemoteActor:
        """The actor, from the cache when fresh, else fetched (signed) and cached. Raises FetchError."""
        if not refresh:
            cached = await self._cached_actor(actor_id)
            if cached is not None and self._fresh(cached):
                return cached
        async with self._lock(actor_id):
            if not refresh:
                cached = await self._cached_actor(actor_id)
                if cached is not None and self._fresh(cached):
                    return cached
            return await self._fetch_actor(actor_id, key_id=None)

    async def known_actor(self, actor_id: str) -> RemoteActor | None:
        """The cached actor, however old, without fetching (for code inside a transaction)."""
        return await self._cached_actor(actor_id)

    async def get_public_key(self, key_id: str, *, refresh: bool = False) -> tuple[str, str]:
        """(owner actor id, PEM) for a key id, after the two-way owner check. Raises FetchError (RemoteError)."""
        if not refresh:
            cached = await self._cached_key(key_id)
            if cached is not None:
                return cached  # its shape was checked before it was fetched
        _check_shape(key_id)
        async with self._lock(key_id):
            refreshes = self.ctx.runtime.key_refreshes
            if refresh and time.monotonic() - refreshes.get(key_id, -KEY_REFRESH_INTERVAL) < KEY_REFRESH_INTERVAL:
                refresh = False
            if not refresh:
                cached = await self._cached_key(key_id)
                if cached is not None:
                    return cached
            else:
                if len(refreshes) > 10_000:
                    refreshes.clear()
                refreshes[key_id] = time.monotonic()
            return await self._fetch_key(key_id)

    async def fetch_object(self, url: str) -> dict[str, Any]:
        """Any ActivityStreams object by a signed GET; its id must equal the URL."""
        _check_shape(url)
        doc = await self.http.get_json(url)
        if not has_as2_context(doc):
            raise RemoteError("not an ActivityStreams document")
        if doc.get("id") != url:
            raise RemoteError("fetched object's id does not match its URL")
        return doc

    # -- internals ----------------------------------------------------------------------------------------------

    @property
    def _memory(self) -> tuple[dict[str, RemoteActor], dict[str, RemoteActor]]:
        """(by actor id, by key id)."""
        return self.ctx.runtime.actors_by_id, self.ctx.runtime.actors_by_key

    def _remember(self, actor: RemoteActor, key_id: str | None = None) -> None:
        by_id, by_key = self._memory
        if len(by_id) + len(by_key) > MEMORY_MAX_ENTRIES:
            by_id.clear()
            by_key.clear()
        by_id[actor.id] = actor
        if key_id is not None:
            by_key[key_id] = actor

    def _forget(self, actor: RemoteActor) -> None:
        """Before a write: the store moves a key id to its new owner, so every entry of either may be stale."""
        by_id, by_key = self._memory
        for memory in (by_id, by_key):
            for stale in [
                key
                for key, cached in memory.items()
                if cached.id == actor.id or (actor.public_key_id and cached.public_key_id == actor.public_key_id)
            ]:
                del memory[stale]
        by_key.pop(actor.public_key_id or "", None)

    async def _cached_actor(self, actor_id: str) -> RemoteActor | None:
        actor = self._memory[0].get(actor_id)
        if actor is None:
            actor = await self.store.get_actor(actor_id)
            if actor is not None:
                self._remember(actor)
        return actor

    def align_key(self, key_id: str, stamp: KeyStamp | None) -> None:
        """This process's copy of a key, judged against the database's (`stamp`, read in the inbox's preflight: no
        trip of its own): a copy another process has fetched again or retired (an Update or a Delete it heard) is
        forgotten, so the signature is checked with what the database holds, or the key fetched anew."""
        cached = self._memory[1].get(key_id)
        if cached is None:
            return
        if (
            stamp is None
            or stamp.actor_id != cached.id
            or stamp.public_key_pem != cached.public_key_pem
            or stamp.fetched_at != to_text(cached.fetched_at)
        ):
            self._forget(cached)

    async def retire(self, actor_id: str, *, key_gone: bool) -> None:
        """The actor announced a change (Update) or its end (Delete, `key_gone`): its cached copy is stale here
        and, through its row, in every other process (see align_key); the next use fetches it again."""
        async with self.ctx.db.transaction() as conn:
            await self.store.retire_actor(conn, actor_id, key_gone=key_gone)
        for memory in self._memory:  # after the commit: a read meanwhile may have cached the old row
            for stale in [key for key, cached in memory.items() if cached.id == actor_id]:
                del memory[stale]

    async def has_fresh_key(self, key_id: str) -> bool:
        """True when verifying a signature by this key needs no fetch (the key is cached and fresh)."""
        return await self._cached_key(key_id) is not None

    async def _cached_key(self, key_id: str) -> tuple[str, str] | None:
        actor = self._memory[1].get(key_id)
        if actor is None:
            actor = await self.store.get_actor_by_key_id(key_id)
            if actor is not None:
                self._remember(actor, key_id)
        if actor is None or not actor.public_key_pem or not self._fresh(actor):
            return None
        return actor.id, actor.public_key_pem

    async def _fetch_key(self, key_id: str) -> tuple[str, str]:
        document_url = _without_fragment(key_id)
        doc = await self.http.get_json(document_url)
        if not has_as2_context(doc):
            raise RemoteError("key document is not an ActivityStreams document")
        owner_id = claimed_key_owner(doc, key_id)
        if owner_id is None:
            raise RemoteError("key document does not describe that key")
        if not same_host(owner_id, key_id):
            raise RemoteError("key and owner are on different hosts")
        if owner_id == document_url and doc.get("id") == owner_id and is_actor_document(doc):
            actor = await self._store(doc, key_id)  # the actor itself, fetched from its own id (Mastodon)
        else:
            # A bare Key or a stub (GoToSocial): believe nothing until the owner's own document lists the key.
            actor = await self._fetch_actor(owner_id, key_id=key_id)
        if actor.id != owner_id or actor.public_key_id != key_id or not actor.public_key_pem:
            raise RemoteError("the key's owner does not list that key")
        return actor.id, actor.public_key_pem

    async def _fetch_actor(self, actor_id: str, *, key_id: str | None) -> RemoteActor:
        _check_shape(actor_id)
        doc = await self.http.get_json(actor_id)
        doc_id = doc.get("id")
        if doc_id != actor_id:
            if not isinstance(doc_id, str) or not same_origin(doc_id, actor_id):
                raise RemoteError("fetched actor's id does not match its URL")
            doc = await self.http.get_json(doc_id)  # one hop to the canonical id, which must match itself
            if doc.get("id") != doc_id:
                raise RemoteError("fetched actor's id does not match its URL")
        if not has_as2_context(doc):
            raise RemoteError("actor is not an ActivityStreams document")
        return await self._store(doc, key_id)

    async def _store(self, doc: dict[str, Any], key_id: str | None) -> RemoteActor:
        try:
            actor = actor_from_document(doc, key_id=key_id, fetched_at=utcnow())
        except InvalidActor as error:
            raise RemoteError(str(error)) from None
        self._forget(actor)
        try:
            await self.store.upsert_actor(actor)
        finally:
            self._forget(actor)  # a read during the write may have cached the old row
        # What was just written: the request that fetched it, and the next ones, find it without a trip.
        self._remember(actor, actor.public_key_id)
        return actor

    def _fresh(self, actor: RemoteActor) -> bool:
        return utcnow() - actor.fetched_at < ACTOR_TTL

    def _lock(self, name: str) -> asyncio.Lock:
        """One fetch per actor or key at a time: a burst of deliveries from one server makes one key fetch."""
        locks = self.ctx.runtime.actor_locks
        if len(locks) > 1000:
            for stale in [key for key, lock in locks.items() if not lock.locked()]:
                del locks[stale]
        return locks.setdefault(name, asyncio.Lock())


def _check_shape(url: str) -> None:
    try:
        check_url_shape(url)
    except UnsafeURL as error:
        raise RemoteError(f"refused URL: {error}") from None


def _without_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
