"""The inbox's one flat table: (activity type, object type) → the handler that runs it.

An object type of None is the fallback for that activity type (the object named by id only, or of a type not
listed). Fallbacks that must try more than one reading of an id are named functions below. An activity type
absent from the table is acknowledged and ignored (recorded `ignored`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from fedblog.protocol.actors import ACTOR_TYPES
from fedblog.protocol.notes import NOTE_TYPES
from fedblog.services import actor_updates, followers, moves, quotes, reactions, replies, reports
from fedblog.services.incoming import Handler, IncomingActivity

if TYPE_CHECKING:
    from fedblog.context import Context


async def undo_by_id(ctx: Context, activity: IncomingActivity) -> None:
    """An Undo naming its object by id only: a reaction of ours if one has that id, else a follow."""
    if not await reactions.on_undo(ctx, activity):
        await followers.on_undo_follow(ctx, activity)


async def delete_object(ctx: Context, activity: IncomingActivity) -> bool:
    """A Delete: of a post quoting ours if one has that id, else of a comment or of the actor."""
    return await quotes.on_quote_deleted(ctx, activity) or await replies.on_delete(ctx, activity)


HANDLERS: Mapping[tuple[str, str | None], Handler] = {
    ("Follow", None): followers.on_follow,
    ("Undo", "Follow"): followers.on_undo_follow,
    ("Undo", "Like"): reactions.on_undo,
    ("Undo", "Announce"): reactions.on_undo,
    ("Undo", None): undo_by_id,
    **{("Create", kind): replies.on_create for kind in sorted(NOTE_TYPES)},
    ("Create", None): replies.on_create,  # a Note given by id only: fetched from its origin
    **{("Update", kind): replies.on_update for kind in sorted(NOTE_TYPES)},
    **{("Update", kind): actor_updates.on_actor_update for kind in sorted(ACTOR_TYPES)},
    **{("Delete", kind): delete_object for kind in sorted({*NOTE_TYPES, "Tombstone"})},
    ("Delete", None): delete_object,  # by id: a Note (a comment or a quote), or the actor itself
    ("Like", None): reactions.on_reaction,
    ("Announce", None): reactions.on_reaction,
    ("Flag", None): reports.on_flag,
    ("Move", None): moves.on_move,
    ("QuoteRequest", None): quotes.on_quote_request,
}

# The activity types some handler runs (any other is recorded `ignored`, with no effect to run twice).
HANDLED_TYPES = frozenset(kind for kind, _ in HANDLERS)


def find_handler(activity: IncomingActivity) -> Handler | None:
    """The handler for this activity's type and object type, else its type's fallback, else None."""
    return HANDLERS.get((activity.type, activity.object_type)) or HANDLERS.get((activity.type, None))
