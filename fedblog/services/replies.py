"""Fediverse replies become comments: Create, Update and Delete of Notes, and the reply chain up to this blog.

Trust (INTEROP §7 #6–#9, #14): an embedded Note is used as sent only when the signer is the actor, the Note is
attributed to that actor, and its id shares the actor's origin; otherwise it is fetched by id from its origin
(the fetched id must equal the URL) and must still be the actor's. Only an object's author may edit or delete
it. A reply to an object we don't know makes us fetch its ancestors, within the chain budget of
services/thread_placement (which decides where a reply goes); the ancestors are stored as comments too (they are
part of the thread), and a chain that never reaches one of our posts or comments is dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from fedblog.clock import from_text, to_text, utcnow
from fedblog.events import OneTripCommentListener
from fedblog.models import Comment, CommentOrigin, CommentStatus, RemoteActor
from fedblog.protocol.activitystreams import first_id
from fedblog.protocol.addresses import is_http_url, same_origin
from fedblog.protocol.notes import NoteError, ParsedNote, parse_note
from fedblog.protocol.sanitize import plain_text
from fedblog.services.comments import Admission, admit, comments_are_open, moderation_decision
from fedblog.services.http import FetchError
from fedblog.services.incoming import IncomingActivity
from fedblog.services.integrity import proof_holds
from fedblog.services.remote import RemoteActors
from fedblog.services.thread_placement import ChainBudget, ThreadPlace, resolve_place, thread_ref
from fedblog.store import threads
from fedblog.store.backfill import BackfillStore
from fedblog.store.comments import NewComment, RemoteAuthor
from fedblog.store.db import Conflict, Connection, SyncConnection
from fedblog.store.followers import FollowerStore
from fedblog.store.inbox import PROCESSED, InboxRecord, InboxStore
from fedblog.store.quotes import QuoteStore
from fedblog.store.reactions import ReactionStore
from fedblog.store.remote_objects import RemoteObjectStore

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)


async def fetch_object(ctx: Context, url: str) -> dict[str, Any] | None:
    """A remote object fetched from its origin (signed GET, SSRF-guarded), or None if it can't be had."""
    if not is_http_url(url) or ctx.urls.is_local(url):
        return None
    try:
        found = await RemoteActors(ctx).fetch_object(url)
    except FetchError as error:
        log.info("could not fetch %r: %s", url[:200], error)
        return None
    return found if isinstance(found, dict) and found.get("id") == url else None


async def trusted_object(ctx: Context, activity: IncomingActivity) -> dict[str, Any] | None:
    """The activity's Note if it may be believed, fetched from its origin when the embedded copy may not."""
    object_id = activity.object_id
    if not object_id or not is_http_url(object_id):
        return None
    obj = activity.object[0] if isinstance(activity.object, list) and activity.object else activity.object
    embedded_ok = (
        isinstance(obj, dict)
        and same_origin(object_id, activity.actor_id)
        and first_id(obj.get("attributedTo")) == activity.actor_id
        # Sent by its actor, or forwarded with the actor's own integrity proof (FEP-8b32).
        and (activity.signer_id == activity.actor_id or await proof_holds(ctx, activity))
    )
    if not embedded_ok:
        obj = await fetch_object(ctx, object_id)
        if obj is None:
            return None
    assert isinstance(obj, dict)
    author = first_id(obj.get("attributedTo"))
    if author != activity.actor_id or not same_origin(object_id, author):
        log.info("dropping %r: attributed to %r, sent by %r", object_id[:200], author, activity.actor_id)
        return None
    return obj


def parse_or_none(obj: dict[str, Any]) -> ParsedNote | None:
    try:
        return parse_note(obj)
    except NoteError as error:
        log.info("ignoring object: %s", error)
        return None


# --- ancestors ----------------------------------------------------------------------------------------------


async def store_ancestor(ctx: Context, url: str, budget: ChainBudget) -> ThreadPlace | None:
    """The unknown object a reply answers, fetched from its origin and stored as a comment: its place."""
    obj = await fetch_object(ctx, url)
    if obj is None:
        return None
    author = first_id(obj.get("attributedTo"))
    if not author or not same_origin(url, author):
        return None
    parent = parse_or_none(obj)
    if parent is None:
        return None
    stored = await store_note(ctx, parent, author, budget)
    return None if stored is None else ThreadPlace(stored.post_id, stored.id)


# --- storing -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthorFields:
    actor_id: str
    name: str
    handle: str | None
    avatar_url: str | None
    profile_url: str


async def author_fields(ctx: Context, actor_id: str) -> AuthorFields | None:
    """The remote author as shown: display name as text, @user@host, http(s) avatar, profile on its host."""
    try:
        actor = await RemoteActors(ctx).get_actor(actor_id)
    except FetchError as error:
        log.info("could not fetch the actor %r: %s", actor_id[:200], error)
        return None
    # Made once per actor document (remote.py keeps the same object until it is fetched again): sanitizing
    # the name and handle for every reply was a few percent of the inbox's time.
    made = ctx.runtime.author_fields
    cached = made.get(actor_id)
    if cached is not None and cached[0] is actor:
        return cached[1]
    if len(made) > 10_000:
        made.clear()
    fields = _author_fields(actor_id, actor)
    made[actor_id] = (actor, fields)
    return fields


def _author_fields(actor_id: str, actor: RemoteActor) -> AuthorFields:
    handle = plain_text(actor.handle, 200) or None
    if handle and not handle.startswith("@"):
        handle = "@" + handle
    name = plain_text(actor.name, 100) or (handle or actor_id).lstrip("@").split("@", 1)[0]
    avatar = actor.icon_url if is_http_url(actor.icon_url) else None
    profile = actor.url if is_http_url(actor.url) and same_origin(actor.url, actor_id) else actor_id
    return AuthorFields(actor_id, name, handle, avatar, profile)


async def store_note(
    ctx: Context, note: ParsedNote, author_id: str, budget: ChainBudget, record: InboxRecord | None = None
) -> Comment | None:
    """Store a remote Note as a comment in its thread (or find it already stored); None if it has no place.

    `record`: the inbox activity that brought the Note, written (processed) in the same commit as the comment.
    """
    facts = await threads.note_facts(ctx.db, note.id, author_id)
    if facts.existing is not None:
        return facts.existing
    if facts.gone:
        return None
    budget.visited.add(note.id)
    place = await resolve_place(ctx, note.in_reply_to, budget, store_ancestor)
    if place is None:
        return None
    author = await author_fields(ctx, author_id)  # before the transaction: it may need a request
    if author is None:
        return None
    new = _new_comment(note, place, CommentStatus.PENDING)
    who = RemoteAuthor(author.actor_id, author.name, author.handle, author.avatar_url, author.profile_url)

    async def also(conn: Connection, comment: Comment) -> None:
        if record is not None:
            await InboxStore(ctx.db).settle_in(conn, record, PROCESSED)
        if budget.found_by_backfill:
            await BackfillStore(ctx.db).mark_found(conn, comment.id, comment.post_id, utcnow())

    # No parent given: the listeners' preparation concerns local comments only.
    comment = await admit(ctx, Admission(new, who, trusted=facts.trusted), also=also)
    if comment is None:  # the same Note arrived twice at once (a duplicate Create, or an ancestor fetched meanwhile)
        return await ctx.comments.get_comment_by_remote_id(note.id)
    if record is not None:
        record.settled = True
    return comment


def _new_comment(note: ParsedNote, place: ThreadPlace, status: CommentStatus) -> NewComment:
    now = utcnow()
    created = note.published if note.published and note.published < now else now
    return NewComment(
        post_id=place.post_id,
        parent_id=place.parent_id,
        author_id=0,  # the author row's id, known inside the transaction
        origin=CommentOrigin.FEDIVERSE,
        status=status,
        content_html=note.content_html,
        visibility=note.visibility,
        summary=note.summary,
        sensitive=note.sensitive,
        language=note.language,
        attachments=note.attachments,
        remote_id=note.id,
        remote_url=note.url,
        created_at=to_text(created),
    )


async def store_reply_in_one_trip(ctx: Context, note: ParsedNote, author_id: str, record: InboxRecord) -> bool:
    """The usual reply (to a post or comment stored here, held for moderation) in ONE trip to the database
    thread, inside the group commit: the duplicate, tombstone and trust checks, its place, the author,
    the comment and the inbox record (settled). Each trip was a thread wake-up, and three per reply were a tenth
    of the inbox's time. False, with nothing written, when store_note() must do it: an ancestor to fetch, or an
    approved comment (the listeners federating it run in a transaction of their own).

    Only for the inbox's own activity (`record`), whose actor (the Note's author, see trusted_object) the inbox
    checked against the blocklist before the signature: the author may be looked up (fetched) first."""
    ref = thread_ref(ctx, note.in_reply_to) if note.in_reply_to else None
    if ref is None:
        return False
    author = await author_fields(ctx, author_id)
    if author is None:
        return True  # no author to show: nothing stored, as store_note() would
    policy = ctx.settings.comments.moderation
    pending = _new_comment(note, ThreadPlace(0, None), CommentStatus.PENDING)

    who = RemoteAuthor(author.actor_id, author.name, author.handle, author.avatar_url, author.profile_url)

    def holds(trusted: Callable[[], bool], comments_state: tuple[bool, str] | None) -> bool:
        # Not asked again here: whether the author is blocked (they are the activity's actor, checked by the
        # inbox before the signature, in this request). Trust is a query: asked only when the policy needs it.
        approved = moderation_decision(policy, policy == "first_time" and trusted()) == CommentStatus.APPROVED
        return not approved or _closed(ctx, comments_state)

    one_trip = all(hasattr(listener, "fediverse_reply_approved_sync") for listener in ctx.comment_listeners)
    listeners = cast(list[OneTripCommentListener], ctx.comment_listeners)
    woken: list[OneTripCommentListener] = []

    def published(raw: SyncConnection, comment_id: int, new: NewComment) -> None:
        # The listeners' comment_approved, on the database thread in the same commit: a published reply stays in
        # the group commit (a transaction of its own was a commit and a dozen trips per reply).
        # Once each: a group commit run undone (the same Note twice in it) runs its works again, one by one.
        for each in listeners:
            if each.fediverse_reply_approved_sync(raw, comment_id, new) and all(each is not w for w in woken):
                woken.append(each)

    try:
        done = await threads.store_held_reply(
            ctx.db, (ref.kind, ref.key), pending, who, record, holds, published if one_trip else None
        )
    except Conflict:
        return False  # the same Note arrived twice at once: store_note() finds the other copy
    for listener in woken:
        listener.fediverse_reply_approved_committed()
    record.settled = done
    return done


def _closed(ctx: Context, comments_state: tuple[bool, str] | None) -> bool:
    """The post takes no new comments (services/comments.comments_are_open): a fediverse reply to it is held."""
    if comments_state is None:
        return False
    open_by_author, published_at = comments_state
    published = from_text(published_at)
    assert published is not None
    return not comments_are_open(open_by_author, published, ctx.settings.comments.close_after_days, utcnow())


# --- inbox handlers ------------------------------------------------------------------------------------------


async def on_create(ctx: Context, activity: IncomingActivity) -> bool:
    """Create(Note): a reply to a post or a comment becomes a comment; anything else is not ours."""
    obj = await trusted_object(ctx, activity)
    note = parse_or_none(obj) if obj is not None else None
    if note is None:
        return False
    record = activity.record
    if record is None or not await store_reply_in_one_trip(ctx, note, activity.actor_id, record):
        await store_note(ctx, note, activity.actor_id, ChainBudget(), record)
    return True


async def on_update(ctx: Context, activity: IncomingActivity) -> None:
    """Update(Note): the author's new text replaces the comment's, marked edited."""
    obj = await trusted_object(ctx, activity)
    note = parse_or_none(obj) if obj is not None else None
    if note is None:
        return
    comment = await ctx.comments.get_comment_by_remote_id(note.id)
    if comment is None or comment.author.actor_id != activity.actor_id:
        return
    updated = note.updated if note.updated and note.updated <= utcnow() else utcnow()
    async with ctx.db.transaction() as conn:
        await ctx.comments.update_content(
            conn, comment.id, note.content_html, note.summary, note.sensitive, note.attachments, to_text(updated)
        )


async def delete_actor(ctx: Context, actor_id: str) -> None:
    """A deleted account: its comments, reactions and follow go."""
    async with ctx.db.transaction() as conn:
        await ctx.comments.delete_comments_by_actor(conn, actor_id)
        await ReactionStore(ctx.db).remove_by_actor(conn, actor_id)
        await FollowerStore(ctx.db).remove(conn, actor_id)
        await QuoteStore(ctx.db).remove_by_actor(conn, actor_id)
    await RemoteActors(ctx).retire(actor_id, key_gone=True)  # its key verifies nothing more, in any process


async def on_delete(ctx: Context, activity: IncomingActivity) -> bool:
    """Delete of a Note (or Tombstone) by its author, or of the actor itself; unknown ids are remembered."""
    object_id = activity.object_id
    actor_id = activity.actor_id
    if not object_id or activity.signer_id != actor_id:
        return False
    if object_id == actor_id:
        await delete_actor(ctx, actor_id)
        return False  # let other handlers (followers) see the actor's deletion too
    comment = await ctx.comments.get_comment_by_remote_id(object_id)
    if comment is not None and comment.author.actor_id != actor_id:
        return True  # someone else's object: ignored
    async with ctx.db.transaction() as conn:
        if same_origin(object_id, actor_id):
            # Remembered, so that a Create arriving after its Delete stores nothing.
            await RemoteObjectStore(ctx.db).add_tombstone(conn, object_id, actor_id)
        if comment is not None:
            if comment.status == CommentStatus.APPROVED:
                for listener in ctx.comment_listeners:
                    await listener.comment_removed(conn, comment)
            await ctx.comments.delete_comment(conn, comment.id)
    return comment is not None
