"""Local comments on the fediverse: their Notes (served at /comments/<id>), the replies collections, and the
Create/Update/Delete sent when the author answers or a visitor's web comment answers a fediverse comment.

Every approved local comment is a Note by the blog's actor (the only actor that can sign). The author's replies
are public, addressed to the remote author they answer (with a Mention) and to the followers. A visitor's
comment is delivered only to the remote author it answers, unlisted, and opens with a line naming the visitor,
so that it never reads as the blog author's words (see docs/CONVERSATIONS.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fedblog.models import AuthorKind, Comment, CommentKind, CommentOrigin, CommentStatus, Post
from fedblog.protocol.activities import create_activity, delete_activity, update_activity
from fedblog.protocol.notes import Recipient, attribution_line, comment_to_note
from fedblog.protocol.ordered_collections import ordered_collection, ordered_collection_page
from fedblog.services.blocks import is_blocked
from fedblog.services.delivery import enqueue, follower_inboxes, new_activity_id
from fedblog.services.http import FetchError
from fedblog.services.remote import RemoteActors
from fedblog.store.comments import NewComment
from fedblog.store.db import Connection, SyncConnection
from fedblog.store.outbox import OutboxStore

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)

LOCAL_ORIGINS = (CommentOrigin.WEB, CommentOrigin.AUTHOR)
PAGE_SIZE = 20


def ap_id(ctx: Context, comment: Comment) -> str:
    """A comment's ActivityPub id: the remote object's for fediverse comments, /comments/<id> for ours."""
    return comment.remote_id or ctx.urls.comment_object(comment.id)


def has_ap_object(comment: Comment) -> bool:
    """Webmentions, pingbacks and trackbacks are pages on the web, not ActivityPub objects: no id to list or to
    answer."""
    return comment.origin != CommentOrigin.WEBMENTION and comment.kind == CommentKind.COMMENT


def is_public_local(comment: Comment) -> bool:
    return (
        comment.origin in LOCAL_ORIGINS
        and comment.kind == CommentKind.COMMENT
        and comment.status == CommentStatus.APPROVED
        and comment.visibility.is_shown_publicly
    )


@dataclass(frozen=True)
class NotePlan:
    note: dict[str, Any]
    recipients: list[Recipient]
    to_followers: bool


async def plan_note(ctx: Context, comment: Comment) -> NotePlan:
    """The Note of a local comment and who it is for (the remote author it answers, the followers)."""
    parent = await ctx.comments.get_comment(comment.parent_id) if comment.parent_id else None
    in_reply_to = (
        ap_id(ctx, parent) if parent is not None and has_ap_object(parent) else ctx.urls.note(comment.post_slug)
    )
    recipients: list[Recipient] = []
    answered = answered_actor(parent)
    if parent is not None and answered is not None:
        recipients.append(Recipient(answered, parent.author.handle, parent.author.profile_url))
    by_author = comment.origin == CommentOrigin.AUTHOR
    attribution = None
    if not by_author:
        template = ctx.i18n.gettext("%(name)s (visitor, via the blog's comment form) wrote:")
        attribution = attribution_line(template, comment.author.name)
    note = comment_to_note(ctx.urls, comment, in_reply_to=in_reply_to, recipients=recipients, attribution=attribution)
    return NotePlan(note=note, recipients=recipients, to_followers=by_author and comment.visibility.is_shown_publicly)


def answered_actor(parent: Comment | None) -> str | None:
    """The remote author a local comment answering `parent` is delivered to."""
    if parent is not None and parent.author.kind == AuthorKind.REMOTE and parent.author.actor_id:
        return parent.author.actor_id
    return None


async def refresh_recipient(ctx: Context, parent: Comment | None) -> None:
    """Before the transaction: the answered author's actor, refetched when stale (its inbox may have moved)."""

    actor_id = answered_actor(parent)
    if actor_id is None or await is_blocked(ctx, actor_id):
        return
    try:
        await RemoteActors(ctx).get_actor(actor_id)
    except FetchError as error:
        log.info("no inbox for %r: %s", actor_id[:200], error)


async def recipient_inboxes(ctx: Context, recipients: list[Recipient]) -> list[str]:
    """The remote authors' inboxes (shared when they have one), from the actor cache only: this runs inside
    the transaction, after refresh_recipient; an actor never fetched has no inbox to deliver to."""

    inboxes = []
    for recipient in recipients:
        if await is_blocked(ctx, recipient.actor_id):
            continue
        actor = await RemoteActors(ctx).known_actor(recipient.actor_id)
        if actor is None:
            log.info("no inbox for %r: its actor could not be fetched", recipient.actor_id[:200])
            continue
        inboxes.append(actor.shared_inbox or actor.inbox)
    return inboxes


class CommentFederation:
    """A CommentListener: approved local comments that answer someone go out; removed ones are deleted."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def prepare(self, origin: CommentOrigin, parent: Comment | None) -> None:
        if origin in LOCAL_ORIGINS:
            await refresh_recipient(self.ctx, parent)

    async def _audience(self, comment: Comment) -> tuple[NotePlan, list[str]] | None:
        if comment.origin not in LOCAL_ORIGINS:
            return None
        plan = await plan_note(self.ctx, comment)
        inboxes = await recipient_inboxes(self.ctx, plan.recipients)
        if plan.to_followers:
            inboxes += await follower_inboxes(self.ctx)
        return (plan, inboxes) if inboxes else None

    def fediverse_reply_approved_sync(self, raw: SyncConnection, comment_id: int, new: NewComment) -> bool:
        return False  # only the blog's own comments are federated (_audience)

    def fediverse_reply_approved_committed(self) -> None:
        return None

    async def comment_approved(self, conn: Connection, comment: Comment) -> None:
        audience = await self._audience(comment)
        if audience is None:
            return
        plan, inboxes = audience
        activity = create_activity(self.ctx.urls, new_activity_id(self.ctx, "create"), plan.note)
        await enqueue(self.ctx, conn, activity, inboxes)

    async def comment_edited(self, conn: Connection, comment: Comment) -> None:
        """An Update of the Note to the same inboxes as its Create."""
        audience = await self._audience(comment)
        if audience is None:
            return
        plan, inboxes = audience
        when = comment.updated_at or comment.created_at
        activity = update_activity(self.ctx.urls, new_activity_id(self.ctx, "update"), plan.note, when)
        await enqueue(self.ctx, conn, activity, inboxes)

    async def comment_removed(self, conn: Connection, comment: Comment) -> None:
        audience = await self._audience(comment)
        if audience is None:
            return
        plan, inboxes = audience
        object_id = self.ctx.urls.comment_object(comment.id)
        await OutboxStore(self.ctx.db).forget_object(conn, object_id)
        activity = delete_activity(self.ctx.urls, new_activity_id(self.ctx, "delete"), object_id)
        # Addressed like the Note it deletes, so that a private recipient's server accepts it.
        activity["to"], activity["cc"] = plan.note["to"], plan.note["cc"]
        await enqueue(self.ctx, conn, activity, inboxes)


# --- collections ------------------------------------------------------------------------------------------------


async def post_reply_ids(ctx: Context, post_id: int) -> list[str]:
    """Every approved public comment of a post (the whole thread, oldest first), as AP ids."""
    return [
        ap_id(ctx, comment) for comment in await ctx.comments.list_visible_for_post(post_id) if has_ap_object(comment)
    ]


async def conversation_ids(ctx: Context, post: Post) -> list[str]:
    """The post's conversation (FEP-7888): its Note first, then every approved public comment, oldest first."""
    return [ctx.urls.note(post.slug), *await post_reply_ids(ctx, post.id)]


async def comment_reply_ids(ctx: Context, comment: Comment) -> list[str]:
    """The approved public direct replies to a comment, as AP ids."""
    total = await ctx.comments.count_visible_replies(comment.post_id, comment.id)
    children = await ctx.comments.list_visible_replies(comment.post_id, comment.id, total, 0)
    return [ap_id(ctx, child) for child in children if has_ap_object(child)]


def collection_document(collection_id: str, page_url: Any, items: list[str], page: int | None) -> dict[str, Any]:
    """An OrderedCollection of ids, or its page `page` (1-based) of PAGE_SIZE items."""

    pages = max(1, -(-len(items) // PAGE_SIZE))
    if page is None:
        return ordered_collection(collection_id, len(items), page_url(1), page_url(pages))
    chunk = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return ordered_collection_page(
        page_url(page),
        collection_id,
        list(chunk),
        page_url(page + 1) if page < pages else None,
        page_url(page - 1) if page > 1 else None,
        total=len(items),
    )
