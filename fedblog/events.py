"""Listeners told about changes inside the transaction that makes them.

Federation registers one, so that a post published from the admin, the CLI or anywhere enqueues its
deliveries atomically with the change itself. Inside the transaction a listener does no network I/O (the
HTTP client refuses it): what it needs from the network is fetched by `prepare`, before the transaction.
"""

from __future__ import annotations

from typing import Protocol

from fedblog.models import Comment, CommentOrigin, Post
from fedblog.store.comments import NewComment
from fedblog.store.db import Connection, SyncConnection


class PostListener(Protocol):
    async def post_published(self, conn: Connection, post: Post) -> None: ...

    async def post_updated(self, conn: Connection, post: Post) -> None: ...

    async def post_deleted(self, conn: Connection, post: Post) -> None: ...


class CommentListener(Protocol):
    async def prepare(self, origin: CommentOrigin, parent: Comment | None) -> None:
        """Before the transaction that adds or changes a comment of `origin` answering `parent`: the network
        work the calls below will need (the remote author's actor refreshed)."""

    async def comment_approved(self, conn: Connection, comment: Comment) -> None: ...

    async def comment_removed(self, conn: Connection, comment: Comment) -> None: ...

    # Optional (CommentService looks it up): a published comment's text changed.
    # async def comment_edited(self, conn: Connection, comment: Comment) -> None: ...


class OneTripCommentListener(Protocol):
    """Optional for a CommentListener (services/replies.store_reply_in_one_trip asks every listener for both
    methods; without them on any listener, a published fediverse reply goes the long way through
    comment_approved, in a transaction of its own)."""

    def fediverse_reply_approved_sync(self, raw: SyncConnection, comment_id: int, new: NewComment) -> bool:
        """comment_approved for a fediverse reply the inbox publishes, on the database thread inside the group
        commit: plain sqlite3 work, no awaits, no I/O. True: call fediverse_reply_approved_committed() once
        committed."""

    def fediverse_reply_approved_committed(self) -> None:
        """On the event loop, after the commit (a worker woken)."""
