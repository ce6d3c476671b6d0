"""Posts on the fediverse: the listener that enqueues Create/Update/Delete, the blog's actor and its outbox.

fedblog/assembly.py attaches PostFederation to every context (server, CLI, tests), so a post published from
anywhere reaches the followers: the listener runs inside PostService's transaction and the worker sends the jobs.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fedblog.clock import utcnow
from fedblog.models import Post
from fedblog.protocol.activities import create_activity, delete_activity, update_activity
from fedblog.protocol.actors import actor_document
from fedblog.protocol.notes import post_to_note
from fedblog.services.delivery import enqueue, follower_inboxes, new_activity_id
from fedblog.services.integrity import assertion_method
from fedblog.services.media import MediaService
from fedblog.store.db import Connection
from fedblog.store.outbox import OutboxStore

if TYPE_CHECKING:
    from fedblog.context import Context


class PostFederation:
    """Tells followers about each post change, atomically with the change."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def post_published(self, conn: Connection, post: Post) -> None:
        note = post_to_note(
            self.ctx.urls,
            post,
            images=await MediaService(self.ctx).image_facts(post),
            quote_policy=self.ctx.settings.federation.quote_policy,
        )
        activity = create_activity(self.ctx.urls, new_activity_id(self.ctx, "create"), note)
        await enqueue(self.ctx, conn, activity, await follower_inboxes(self.ctx, conn))

    async def post_updated(self, conn: Connection, post: Post) -> None:
        note = post_to_note(
            self.ctx.urls,
            post,
            images=await MediaService(self.ctx).image_facts(post),
            quote_policy=self.ctx.settings.federation.quote_policy,
        )
        when = post.updated_at or utcnow()
        activity = update_activity(self.ctx.urls, new_activity_id(self.ctx, "update"), note, when)
        await enqueue(self.ctx, conn, activity, await follower_inboxes(self.ctx, conn))

    async def post_deleted(self, conn: Connection, post: Post) -> None:
        note_id = self.ctx.urls.note(post.slug)
        # Its Create/Update leave the outbox; copies not yet delivered are dropped with them.
        await OutboxStore(self.ctx.db).forget_object(conn, note_id)
        activity = delete_activity(self.ctx.urls, new_activity_id(self.ctx, "delete"), note_id)
        await enqueue(self.ctx, conn, activity, await follower_inboxes(self.ctx, conn))


async def blog_actor(ctx: Context) -> dict[str, Any]:
    """The blog author's Person document, from the config and the site key."""
    author = ctx.settings.author
    return actor_document(
        ctx.urls,
        name=author.display_name,
        bio=author.bio,
        avatar=author.avatar,
        header_image=author.header_image,
        links=author.links,
        public_key_pem=ctx.public_key_pem,
        manually_approves_followers=ctx.settings.federation.manually_approves_followers,
        discoverable=ctx.settings.federation.discoverable,
        published=await OutboxStore(ctx.db).site_created_at(),
        assertion_method=assertion_method(ctx),
    )


async def announce_profile_changes(ctx: Context) -> bool:
    """At start: if the profile or the key changed since the last Update(Person), send a new one to the
    followers (peers only refetch a cached actor after a day or a key failure). True when one was queued."""
    actor = {key: value for key, value in (await blog_actor(ctx)).items() if key != "@context"}
    last = await OutboxStore(ctx.db).latest_body("Update", ctx.urls.actor())
    if last is not None and json.loads(last).get("object") == actor:
        return False
    activity = update_activity(ctx.urls, new_activity_id(ctx, "update"), actor, utcnow())
    async with ctx.db.transaction() as conn:
        await enqueue(ctx, conn, activity, await follower_inboxes(ctx, conn))
    return True


async def outbox_size(ctx: Context) -> int:
    return await OutboxStore(ctx.db).count_public_creates()


async def outbox_items(ctx: Context, limit: int, offset: int) -> list[dict[str, Any]]:
    """The public Create activities, newest first, as collection items (without their @context)."""
    bodies = await OutboxStore(ctx.db).list_public_creates(limit, offset)
    return [{key: value for key, value in json.loads(body).items() if key != "@context"} for body in bodies]


async def sent_activity(ctx: Context, activity_id: str) -> dict[str, Any] | None:
    """An activity the blog sent, by id (so that every id we mint dereferences)."""
    body = await OutboxStore(ctx.db).get_body(activity_id)
    return None if body is None else json.loads(body)
