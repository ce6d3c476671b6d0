"""Follow requests and followers: accept (or hold for the author), approve, reject, Undo.

Every answer (Accept/Reject) is an activity with its own id on our host, echoing the Follow in full, sent
through the delivery queue in the same transaction that changes the follower.
"""

from __future__ import annotations

import builtins
import json
import logging
from typing import TYPE_CHECKING, Any

from fedblog.models import Follower, RemoteActor
from fedblog.protocol.activities import accept_follow, reject_follow
from fedblog.protocol.activitystreams import first_id, id_of, type_of
from fedblog.protocol.inboxes import inbox_problem, inbox_url_problem
from fedblog.services.delivery import enqueue, new_activity_id
from fedblog.services.incoming import IncomingActivity
from fedblog.services.remote import RemoteActors
from fedblog.store.blocks import BlockStore
from fedblog.store.db import Connection
from fedblog.store.followers import ACCEPTED, PENDING, FollowerStore

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)

__all__ = ["ACCEPTED", "PENDING", "FollowerError", "FollowerService", "on_follow", "on_undo_follow"]


class FollowerError(LookupError):
    """No such follower, or not in a state that allows the action."""


async def record_follower(
    store: FollowerStore, conn: Connection, actor: RemoteActor, follow: dict[str, Any], status: str
) -> None:
    """The actor as a follower, known by `follow` (echoed in the blog's Accept or Reject; its id, if it has one,
    is what an Undo by id names)."""
    follow_id = follow.get("id")
    await store.upsert(
        conn,
        actor_id=actor.id,
        inbox=actor.inbox,
        shared_inbox=actor.shared_inbox,
        handle=actor.handle,
        name=actor.name[:200],
        follow_activity_id=follow_id if isinstance(follow_id, str) else "",
        follow_json=json.dumps(follow),
        status=status,
    )


def _clean_follow(raw: dict[str, Any]) -> dict[str, Any]:
    """The Follow as it will be echoed: everything received but the @context and any LD signature."""
    return {key: value for key, value in raw.items() if key not in ("@context", "signature")}


class FollowerService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = FollowerStore(ctx.db)

    async def handle_follow(self, activity: IncomingActivity) -> None:
        """Follow of our actor: record the follower and accept, or hold it when the author approves by hand."""
        if first_id(activity.object) != self.ctx.urls.actor():
            log.info("ignoring Follow %r of %r: not our actor", activity.id, activity.object_id)
            return
        if await BlockStore(self.ctx.db).is_blocked(activity.actor_id):
            log.info("ignoring Follow %r from a blocked source", activity.id)
            return

        actor = await RemoteActors(self.ctx).get_actor(activity.actor_id)
        problem = inbox_problem(
            actor.id,
            actor.inbox,
            actor.shared_inbox,
            blog_base=self.ctx.urls.base,
            allow_private=self.ctx.settings.federation.allow_private_addresses,
        )
        if problem is not None:
            log.info("refusing Follow %r from %r: %s", activity.id, actor.id, problem)
            await self._reject_unroutable(activity, actor)
            return
        existing = await self.store.get(activity.actor_id)
        manual = self.ctx.settings.federation.manually_approves_followers
        already_accepted = existing is not None and existing.status == ACCEPTED
        status = ACCEPTED if already_accepted or not manual else PENDING
        follow = _clean_follow(activity.raw)
        async with self.ctx.db.transaction() as conn:
            await record_follower(self.store, conn, actor, follow, status)
            if status == ACCEPTED:
                answer = accept_follow(self.ctx.urls, new_activity_id(self.ctx, "accept"), follow)
                await enqueue(self.ctx, conn, answer, [actor.inbox])

    async def _reject_unroutable(self, activity: IncomingActivity, actor: RemoteActor) -> None:
        """A Reject for a Follow whose inboxes are refused, sent only to one of them that is acceptable (if any)."""
        allow_private = self.ctx.settings.federation.allow_private_addresses
        candidates = ((actor.shared_inbox, True), (actor.inbox, False))
        target = next(
            (
                url
                for url, shared in candidates
                if url is not None
                and inbox_url_problem(url, actor.id, shared=shared, blog_base=self.ctx.urls.base,
                                      allow_private=allow_private) is None
            ),
            None,
        )  # fmt: skip
        if target is None:
            return
        answer = reject_follow(self.ctx.urls, new_activity_id(self.ctx, "reject"), _clean_follow(activity.raw))
        async with self.ctx.db.transaction() as conn:
            await enqueue(self.ctx, conn, answer, [target])

    async def handle_undo_follow(self, activity: IncomingActivity) -> None:
        """Undo(Follow): only the follower itself can end its follow (the signer is the actor, checked before)."""
        follower = await self.store.get(activity.actor_id)
        if follower is None:
            return
        undone = activity.object[0] if isinstance(activity.object, list) and activity.object else activity.object
        if isinstance(undone, dict):
            if first_id(undone.get("actor")) != activity.actor_id or type_of(undone) not in (None, "Follow"):
                return
            target = first_id(undone.get("object"))
            if target is not None and target != self.ctx.urls.actor():
                return
        elif not follower.follow_activity_id or id_of(undone) != follower.follow_activity_id:
            return  # an Undo of some other activity by id (a moved follow has no id: see services/moves.py)
        async with self.ctx.db.transaction() as conn:
            await self.store.remove(conn, activity.actor_id)

    async def approve(self, actor_id: str) -> Follower:
        follower = await self._get(actor_id)
        if follower.status == ACCEPTED:
            return follower
        follow = json.loads(follower.follow_json)
        async with self.ctx.db.transaction() as conn:
            await self.store.set_status(conn, actor_id, ACCEPTED)
            answer = accept_follow(self.ctx.urls, new_activity_id(self.ctx, "accept"), follow)
            await enqueue(self.ctx, conn, answer, [follower.inbox])
        return await self._get(actor_id)

    async def reject(self, actor_id: str) -> Follower:
        """Refuse a request, or end an accepted follow: the follower is told with a Reject and removed."""
        follower = await self._get(actor_id)
        follow = json.loads(follower.follow_json)
        async with self.ctx.db.transaction() as conn:
            await self.store.remove(conn, actor_id)
            answer = reject_follow(self.ctx.urls, new_activity_id(self.ctx, "reject"), follow)
            await enqueue(self.ctx, conn, answer, [follower.inbox])
        return follower

    async def remove(self, actor_id: str) -> bool:
        """Forget a follower without telling it (its actor was deleted)."""
        async with self.ctx.db.transaction() as conn:
            return await self.store.remove(conn, actor_id)

    async def list(self, status: str | None = None, limit: int = 1000) -> list[Follower]:
        return await self.store.list_by_status(status, limit)

    async def count(self) -> int:
        """Accepted followers."""
        return await self.store.count(ACCEPTED)

    async def accepted_ids(self, limit: int, offset: int) -> builtins.list[str]:
        return await self.store.list_accepted_ids(limit, offset)

    async def _get(self, actor_id: str) -> Follower:
        follower = await self.store.get(actor_id)
        if follower is None:
            raise FollowerError(f"no follower or follow request from {actor_id!r}")
        return follower


async def on_follow(ctx: Context, activity: IncomingActivity) -> None:
    await FollowerService(ctx).handle_follow(activity)


async def on_undo_follow(ctx: Context, activity: IncomingActivity) -> None:
    await FollowerService(ctx).handle_undo_follow(activity)
