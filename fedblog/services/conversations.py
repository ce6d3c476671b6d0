"""Conversation wiring: the inbox handlers for replies and reactions, and the listener federating comments.

Handlers registered for a fallback key (an activity type with any object) chain to the one registered before
(federation's Undo(Follow) by id, for instance): ours runs first and passes on what is not about conversations.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from fedblog.services import reactions, replies
from fedblog.services.comment_federation import CommentFederation
from fedblog.services.inbox_dispatch import Dispatcher, IncomingActivity, get_dispatcher

if TYPE_CHECKING:
    from fedblog.context import Context

NOTE_TYPES = ("Note", "Article", "Page", "Question")
ChainedHandler = Callable[["Context", IncomingActivity], Awaitable[bool]]


def _chain(dispatcher: Dispatcher, activity_type: str, handler: ChainedHandler) -> None:
    """Register `handler` as the fallback for `activity_type`; the previous fallback runs when it returns False."""
    probe = IncomingActivity(id="", type=activity_type, actor_id="", object=None, raw={}, signer_id="")
    previous = dispatcher.find(probe)

    async def chained(ctx: Context, activity: IncomingActivity) -> None:
        if not await handler(ctx, activity) and previous is not None:
            await previous(ctx, activity)

    dispatcher.register(activity_type, chained)


def install(ctx: Any) -> None:
    """Attach the conversation handlers and the comment listener to the context."""
    dispatcher = get_dispatcher(ctx)

    async def on_create(ctx: Context, activity: IncomingActivity) -> None:
        await replies.on_create(ctx, activity)

    async def on_delete(ctx: Context, activity: IncomingActivity) -> None:
        await replies.on_delete(ctx, activity)

    for note_type in NOTE_TYPES:
        dispatcher.register("Create", on_create, note_type)
        dispatcher.register("Update", replies.on_update, note_type)
        dispatcher.register("Delete", on_delete, note_type)
    dispatcher.register("Delete", on_delete, "Tombstone")
    _chain(dispatcher, "Create", replies.on_create)  # a Note given by id only: fetched
    _chain(dispatcher, "Delete", replies.on_delete)  # by id: a Note, or the actor itself
    dispatcher.register("Like", reactions.on_reaction)
    dispatcher.register("Announce", reactions.on_reaction)

    async def on_undo_reaction(ctx: Context, activity: IncomingActivity) -> None:
        await reactions.on_undo(ctx, activity)

    dispatcher.register("Undo", on_undo_reaction, "Like")
    dispatcher.register("Undo", on_undo_reaction, "Announce")
    _chain(dispatcher, "Undo", reactions.on_undo)  # by id: a reaction, else federation's Undo(Follow)
    ctx.comment_listeners.append(CommentFederation(ctx))
