"""Listeners told about changes inside the transaction that makes them.

Federation registers one, so that a post published from the admin, the CLI or anywhere enqueues its
deliveries atomically with the change itself.
"""

from __future__ import annotations

from typing import Protocol

import aiosqlite

from fedblog.models import Comment, Post


class PostListener(Protocol):
    async def post_published(self, conn: aiosqlite.Connection, post: Post) -> None: ...

    async def post_updated(self, conn: aiosqlite.Connection, post: Post) -> None: ...

    async def post_deleted(self, conn: aiosqlite.Connection, post: Post) -> None: ...


class CommentListener(Protocol):
    async def comment_approved(self, conn: aiosqlite.Connection, comment: Comment) -> None: ...

    async def comment_removed(self, conn: aiosqlite.Connection, comment: Comment) -> None: ...
