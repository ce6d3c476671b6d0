"""Likes and boosts (Announce) of posts, and their Undo; idempotent and order-independent.

Only the actor who signed may react or undo (signer == actor). An Undo that arrives before its Like is
remembered (undone_activities), so the late Like changes nothing; a duplicate Like is one reaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fedblog.models import Post
from fedblog.protocol.activitystreams import first_id, type_of
from fedblog.protocol.addresses import same_origin
from fedblog.services.incoming import IncomingActivity
from fedblog.services.replies import AuthorFields, author_fields
from fedblog.services.thread_placement import local_place
from fedblog.store.db import Connection
from fedblog.store.quotes import Quote, QuoteStore
from fedblog.store.reactions import Reaction, ReactionStore
from fedblog.store.remote_objects import RemoteObjectStore

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)

KIND_OF_TYPE = {"Like": "like", "Announce": "announce"}


async def reacted_post(ctx: Context, object_id: str | None) -> Post | None:
    """The post a Like or Announce is about (its Note id); reactions to comments are not kept."""
    if not object_id:
        return None
    place = await local_place(ctx, object_id)
    if place is None or place.parent_id is not None:
        return None
    return await ctx.posts.get_post_by_id(place.post_id)


async def on_reaction(ctx: Context, activity: IncomingActivity) -> None:
    kind = KIND_OF_TYPE.get(activity.type)
    if kind is None or activity.signer_id != activity.actor_id:
        return
    post = await reacted_post(ctx, activity.object_id)
    if post is None or await RemoteObjectStore(ctx.db).is_undone(activity.id):
        return

    author = await author_fields(ctx, activity.actor_id)  # its name and face under the post (fetched if need be)
    async with ctx.db.transaction() as conn:
        await ReactionStore(ctx.db).add(conn, activity.id, kind, post.id, activity.actor_id)
        await keep_face(ctx, conn, author)


async def keep_face(ctx: Context, conn: Connection, author: AuthorFields | None) -> None:
    """The reacting account gets an author row like a commenter's, so that the blog serves its face (faces.py)
    and readers' browsers never load it from its server."""
    if author is not None:
        await ctx.comments.upsert_remote_author(
            conn, author.actor_id, author.name, author.handle, author.avatar_url, author.profile_url
        )


async def on_undo(ctx: Context, activity: IncomingActivity) -> bool:
    """Undo(Like) / Undo(Announce); True when it was about a reaction (handled), False to let others try."""
    target = activity.object_id
    if not target or activity.signer_id != activity.actor_id:
        return False
    embedded = activity.object[0] if isinstance(activity.object, list) and activity.object else activity.object
    embedded_kind = KIND_OF_TYPE.get(type_of(embedded) or "")
    store = ReactionStore(ctx.db)
    reaction = await store.get(target)
    if reaction is None and embedded_kind is None:
        # Given by id only and not (yet) known: remember it in case it is a Like still on its way.
        if same_origin(target, activity.actor_id):
            async with ctx.db.transaction() as conn:
                await RemoteObjectStore(ctx.db).add_undone(conn, target, activity.actor_id)
        return False
    if reaction is not None and reaction.actor_id != activity.actor_id:
        return True  # someone else's reaction: ignored
    async with ctx.db.transaction() as conn:
        if reaction is not None:
            await store.remove(conn, target)
        elif isinstance(embedded, dict) and first_id(embedded.get("actor")) == activity.actor_id and embedded_kind:
            # Not stored under this id (or not arrived yet): remove by what it was, and remember the id.
            post = await reacted_post(ctx, first_id(embedded.get("object")))
            if post is not None:
                await store.remove_matching(conn, embedded_kind, post.id, activity.actor_id)
            if same_origin(target, activity.actor_id):
                await RemoteObjectStore(ctx.db).add_undone(conn, target, activity.actor_id)
    return True


@dataclass(frozen=True)
class PostReactions:
    likes: list[Reaction]
    boosts: list[Reaction]
    like_count: int
    boost_count: int
    quotes: list[Quote] = field(default_factory=list)  # authorized quotes (services/quotes.py)
    quote_count: int = 0

    @property
    def empty(self) -> bool:
        return not (self.like_count or self.boost_count or self.quote_count)


async def reactions_for_post(ctx: Context, post_id: int, faces: int = 40) -> PostReactions:
    store = ReactionStore(ctx.db)
    counts = await store.counts_for_post(post_id)
    return PostReactions(
        likes=await store.list_for_post(post_id, "like", faces),
        boosts=await store.list_for_post(post_id, "announce", faces),
        like_count=counts["like"],
        boost_count=counts["announce"],
        quotes=await QuoteStore(ctx.db).list_for_post(post_id, faces),
        quote_count=await QuoteStore(ctx.db).count_for_post(post_id),
    )
