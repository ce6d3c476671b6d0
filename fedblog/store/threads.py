"""Where a reply goes: the post or comment an inReplyTo names, found with the fewest columns; and the inbox's
usual held reply stored in one trip.

The `_sync` functions run on the database thread (Database.run / run_transaction): the inbox resolves a reply's
place in the trip that stores it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from fedblog.models import Comment, CommentStatus
from fedblog.store.batches import Alone, Outcome
from fedblog.store.blocks import BlockStore
from fedblog.store.comments import (
    CommentStore,
    NewComment,
    RemoteAuthor,
    find_remote_author_sync,
    insert_comment_sync,
    remote_author_row_sync,
)
from fedblog.store.db import Database, SyncConnection
from fedblog.store.inbox import PROCESSED, InboxRecord, InboxStore
from fedblog.store.remote_objects import RemoteObjectStore


@dataclass(frozen=True)
class NoteFacts:
    """What the store knows of a remote Note before storing it."""

    existing: Comment | None  # the comment already made of it
    gone: bool  # deleted before it came, or its author blocked
    trusted: bool  # its author has an approved comment here


# (is the author trusted: asked only if the policy needs it, the post's (comments open by the author's choice,
# published_at) or None) -> stored held here
HoldsReply = Callable[[Callable[[], bool], "tuple[bool, str] | None"], bool]
# What the listeners do for a reply published in the one trip: (connection, the comment's id, the comment).
PublishedInOneTrip = Callable[[SyncConnection, int, NewComment], None]


# (post id, parent comment id or None for the top of the post's thread)
Place = tuple[int, "int | None"]


def place_of_sync(raw: SyncConnection, kind: str, key: str) -> Place | None:
    """The place a reference names if it is stored here: kind "post" (key: a published post's slug), "comment"
    (key: one of our comment ids) or "remote" (key: the remote object a comment was made of)."""
    if kind == "post":
        post_id = post_id_by_slug_sync(raw, key)
        return None if post_id is None else (post_id, None)
    return comment_place_sync(raw, int(key)) if kind == "comment" else remote_comment_place_sync(raw, key)


async def place_of(db: Database, kind: str, key: str) -> Place | None:
    return await db.run(partial(_place_of_sync, kind, key))


def _place_of_sync(kind: str, key: str, raw: SyncConnection) -> Place | None:
    return place_of_sync(raw, kind, key)


async def note_facts(db: Database, note_id: str, author_id: str) -> NoteFacts:
    """Three lookups in one trip to the database thread."""
    return await db.run(partial(_note_facts_sync, note_id, author_id))


def _note_facts_sync(note_id: str, author_id: str, raw: SyncConnection) -> NoteFacts:
    return NoteFacts(
        existing=CommentStore.get_comment_by_remote_id_sync(raw, note_id),
        gone=RemoteObjectStore.is_tombstoned_sync(raw, note_id) or BlockStore.is_blocked_sync(raw, author_id),
        trusted=CommentStore.actor_is_trusted_sync(raw, author_id),
    )


async def store_held_reply(
    db: Database,
    ref: tuple[str, str],
    pending: NewComment,
    author: RemoteAuthor,
    record: InboxRecord,
    holds: HoldsReply,
    published: PublishedInOneTrip | None = None,
) -> bool:
    """The usual reply (to a post or comment stored here) in ONE trip inside the group commit: the duplicate and
    tombstone checks, its place, the author's trust, the comment with its author, and the inbox record (settled).
    `ref` is what it answers, (kind, key) as for place_of; `holds` is the moderation decision (pure, run on the
    database thread). A reply `holds` approves is stored approved when `published` is given (what the comment
    listeners do for it, on the database thread, in the same transaction), else it goes the long way. False,
    with nothing written, when it must go the long way: an ancestor to fetch, or an approved reply without
    `published`. Raises Conflict when the same Note was stored meanwhile."""
    return await db.run_transaction(HeldReply(ref, pending, author, record, holds, published))


@dataclass(frozen=True)
class HeldReply:
    """store_held_reply()'s work in the group commit; a backend may store a batch of them at once
    (store/batches.py), with the same outcome as each one run alone."""

    ref: tuple[str, str]
    pending: NewComment
    author: RemoteAuthor
    record: InboxRecord
    holds: HoldsReply
    published: PublishedInOneTrip | None

    def __call__(self, raw: SyncConnection) -> bool:
        return _store_held_reply_sync(self.ref, self.pending, self.author, self.record, self.holds, self.published, raw)


def held_replies_in_one_savepoint(raw: SyncConnection, works: list[HeldReply], alone: Alone) -> list[Outcome]:
    """SQLite's runner for a run of HeldReply works in the group commit: each work's statements as they are, under
    the run's one savepoint instead of a SAVEPOINT and a RELEASE of its own (two of a published reply's 14
    statements, each a trip through the GIL on the database thread). A work that raises before it wrote anything
    (a reference that is no id, the moderation decision) fails alone; one that raises after (the same Note twice
    in the batch) undoes the run, which then goes work by work, each with its own outcome
    (db._batched_in_savepoint)."""
    outcomes: list[Outcome] = []
    for work in works:
        changes = raw.total_changes
        try:
            outcomes.append((True, work(raw)))
        except Exception as error:
            if raw.total_changes != changes or not raw.in_transaction:
                raise
            outcomes.append((False, error))
    return outcomes


# SQLite's Database only: PostgreSQL's has runners of its own (store/postgresql/batches.py).
Database.write_runners = {**Database.write_runners, HeldReply: held_replies_in_one_savepoint}


def _store_held_reply_sync(
    ref: tuple[str, str],
    pending: NewComment,
    author: RemoteAuthor,
    record: InboxRecord,
    holds: HoldsReply,
    published: PublishedInOneTrip | None,
    raw: SyncConnection,
) -> bool:
    if not _stored_or_tombstoned_sync(raw, pending.remote_id or ""):
        kind, key = ref
        found = _place_and_state_sync(raw, kind, key)
        if found is None and kind == "remote":
            return False  # an unknown ancestor, to fetch
        if found is not None:
            (post_id, parent_id), comments_state = found
            # The author's row and their trust in one statement, before the decision that needs the trust.
            found_author = find_remote_author_sync(raw, author)
            if holds(lambda: found_author.trusted, comments_state):
                status = CommentStatus.PENDING
            elif published is None:
                return False
            else:
                status = CommentStatus.APPROVED
            author_id = remote_author_row_sync(raw, author, found_author)
            placed = replace(pending, post_id=post_id, parent_id=parent_id, author_id=author_id, status=status)
            comment_id = insert_comment_sync(raw, placed)
            if status == CommentStatus.APPROVED:
                assert published is not None
                published(raw, comment_id, placed)
    InboxStore.settle_sync(raw, record, PROCESSED)
    return True


def _stored_or_tombstoned_sync(raw: SyncConnection, remote_id: str) -> bool:
    """A comment was made of this remote object already, or it was deleted before it came: one statement."""
    row = raw.execute(
        "SELECT EXISTS (SELECT 1 FROM comments WHERE remote_id = ?) "
        "OR EXISTS (SELECT 1 FROM remote_tombstones WHERE object_id = ?)",
        (remote_id, remote_id),
    ).fetchone()
    return bool(row[0])


def _place_and_state_sync(raw: SyncConnection, kind: str, key: str) -> tuple[Place, tuple[bool, str] | None] | None:
    """place_of_sync() and the post's post_comments_state_sync(); a reply to a post (the usual) in one statement."""
    if kind == "post":
        row = raw.execute(
            "SELECT id, comments_open, published_at FROM posts WHERE slug = ? AND draft = 0", (key,)
        ).fetchone()
        return None if row is None else ((int(row[0]), None), (bool(row[1]), str(row[2])))
    place = place_of_sync(raw, kind, key)
    return None if place is None else (place, post_comments_state_sync(raw, place[0]))


def post_id_by_slug_sync(raw: SyncConnection, slug: str) -> int | None:
    """A published (not draft) post's id."""
    row = raw.execute("SELECT id FROM posts WHERE slug = ? AND draft = 0", (slug,)).fetchone()
    return None if row is None else int(row[0])


def post_comments_state_sync(raw: SyncConnection, post_id: int) -> tuple[bool, str] | None:
    """(comments open by the author's choice, published_at as stored) of a post."""
    row = raw.execute("SELECT comments_open, published_at FROM posts WHERE id = ?", (post_id,)).fetchone()
    return None if row is None else (bool(row[0]), str(row[1]))


def comment_place_sync(raw: SyncConnection, comment_id: int) -> tuple[int, int] | None:
    """(post id, comment id) of a comment of any status."""
    row = raw.execute("SELECT post_id, id FROM comments WHERE id = ?", (comment_id,)).fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def remote_comment_place_sync(raw: SyncConnection, remote_id: str) -> tuple[int, int] | None:
    """(post id, comment id) of the comment made of a remote object."""
    row = raw.execute("SELECT post_id, id FROM comments WHERE remote_id = ?", (remote_id,)).fetchone()
    return None if row is None else (int(row[0]), int(row[1]))
