"""Listeners told about changes inside the transaction that makes them.

Federation registers one, so that a post published from the admin, the CLI or anywhere enqueues its
deliveries atomically with the change itself. Inside the transaction a listener does no network I/O (the
HTTP client refuses it): what it needs from the network is fetched by `prepare`, before the transaction.
"""

from __future__ import annotations

from typing import Protocol

from fedblog.models import Comment, CommentOrigin, Post
from fedblog.store.db import Connection


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
