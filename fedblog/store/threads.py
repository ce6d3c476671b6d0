"""Where a reply goes: the post or comment an inReplyTo names, found with the fewest columns.

Plain sqlite3 functions on the raw connection, for Database.run / run_transaction: the inbox resolves a reply's
place in the trip that stores it.
"""

from __future__ import annotations

import sqlite3


def post_id_by_slug_sync(raw: sqlite3.Connection, slug: str) -> int | None:
    """A published (not draft) post's id."""
    row = raw.execute("SELECT id FROM posts WHERE slug = ? AND draft = 0", (slug,)).fetchone()
    return None if row is None else int(row[0])


def post_comments_state_sync(raw: sqlite3.Connection, post_id: int) -> tuple[bool, str] | None:
    """(comments open by the author's choice, published_at as stored) of a post."""
    row = raw.execute("SELECT comments_open, published_at FROM posts WHERE id = ?", (post_id,)).fetchone()
    return None if row is None else (bool(row[0]), str(row[1]))


def comment_place_sync(raw: sqlite3.Connection, comment_id: int) -> tuple[int, int] | None:
    """(post id, comment id) of a comment of any status."""
    row = raw.execute("SELECT post_id, id FROM comments WHERE id = ?", (comment_id,)).fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def remote_comment_place_sync(raw: sqlite3.Connection, remote_id: str) -> tuple[int, int] | None:
    """(post id, comment id) of the comment made of a remote object."""
    row = raw.execute("SELECT post_id, id FROM comments WHERE remote_id = ?", (remote_id,)).fetchone()
    return None if row is None else (int(row[0]), int(row[1]))
