"""Move: a follower's account moved to a new address. The new account is kept as the follower in place of the old
one once its own actor document, fetched from its origin, lists the old account in `alsoKnownAs` (anyone can send
a Move; only the target can confirm it). Nothing is sent: the follow simply continues at the new address, as a
Follow without an id until the new account sends its own (an Undo by id then names that one)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fedblog.protocol.activitystreams import first_id
from fedblog.protocol.addresses import is_http_url
from fedblog.services.followers import record_follower
from fedblog.services.http import FetchError
from fedblog.services.incoming import IncomingActivity
from fedblog.services.remote import RemoteActors
from fedblog.store.blocks import BlockStore
from fedblog.store.followers import ACCEPTED, FollowerStore

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)


def also_known_as(document: dict[str, object]) -> set[str]:
    value = document.get("alsoKnownAs")
    items = value if isinstance(value, list) else [value]
    return {found for found in (first_id(item) for item in items) if found}


async def on_move(ctx: Context, activity: IncomingActivity) -> None:
    old = activity.actor_id
    target = first_id(activity.raw.get("target"))
    if activity.signer_id != old or first_id(activity.object) != old:
        return  # only the account itself announces its move
    if not target or target == old or not is_http_url(target):
        return
    store = FollowerStore(ctx.db)
    follower = await store.get(old)
    if follower is None or follower.status != ACCEPTED:
        return
    if await BlockStore(ctx.db).is_blocked(target):
        log.info("ignoring Move of %r to a blocked account", old[:200])
        return
    remote = RemoteActors(ctx)
    try:
        # Before the transaction: the target's own word, then its addresses.
        document = await remote.fetch_object(target)
        if old not in also_known_as(document):
            log.info("ignoring Move of %r: %r does not list it in alsoKnownAs", old[:200], target[:200])
            return
        new = await remote.get_actor(target, refresh=True)
    except FetchError as error:
        log.info("ignoring Move of %r: its target could not be read: %s", old[:200], error)
        return
    existing = await store.get(new.id)
    # The new account never sent a Follow, so its follow has no id: an Accept or Reject names it by actor and object
    # (as Mastodon matches an embedded Follow). The Move's id would name another server's activity as this Follow.
    follow = {"type": "Follow", "actor": new.id, "object": ctx.urls.actor()}
    async with ctx.db.transaction() as conn:
        await store.remove(conn, old)
        if existing is None or existing.status != ACCEPTED:
            await record_follower(store, conn, new, follow, ACCEPTED)
    log.info("follower %r moved to %r", old[:200], new.id[:200])
