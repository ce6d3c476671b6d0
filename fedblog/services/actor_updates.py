"""Update of an actor (Person, Service…): someone who commented or reacted here changed their name or icon.

The actor is read again from its origin (the embedded copy is not believed), and the author row follows, so the
next request for their face fetches the new icon (services/faces.py) and their comments show the new name. Accounts
that never commented or reacted here are not fetched (an Update reaches every server that follows them), but their
cached copy and key are retired, in every process: fetched again at their next use (a rotated key).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fedblog.services.http import FetchError
from fedblog.services.incoming import IncomingActivity
from fedblog.services.reactions import keep_face
from fedblog.services.remote import RemoteActors
from fedblog.services.replies import author_fields

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)


async def on_actor_update(ctx: Context, activity: IncomingActivity) -> None:
    actor_id = activity.actor_id
    if activity.signer_id != actor_id or activity.object_id != actor_id:
        return  # only the account itself announces its new profile
    remote = RemoteActors(ctx)
    # The copy (its key, its FEP-8b32 assertion keys) kept by every process is retired: fetched again at its next use.
    await remote.retire(actor_id, key_gone=False)
    if not await ctx.comments.is_remote_author(actor_id):
        return  # not fetched now
    try:
        # Before the transaction: the actor as its origin serves it now (every process's copy follows the new row).
        await remote.get_actor(actor_id, refresh=True)
    except FetchError as error:
        log.info("could not read the updated actor %r: %s", actor_id[:200], error)
        return
    author = await author_fields(ctx, actor_id)
    async with ctx.db.transaction() as conn:
        await keep_face(ctx, conn, author)
