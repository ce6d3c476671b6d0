"""What the e-mail notifier reads (comments and followers past a high-water mark) and its durable state.

Each stream is a table read in rowid order. A mark is the last rowid announced plus a stamp of that row: SQLite gives
the rowid of a deleted top row to the next insert, and the stamp tells such a newcomer from the row announced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from fedblog.clock import from_text, to_text
from fedblog.store.db import Connection, Database

COMMENTS = "comments"
FOLLOWERS = "followers"
PUBLICATIONS = "publications"  # comments as they become published, for commenters' e-mails (store/subscriptions.py)
AUTHOR_STREAMS = (COMMENTS, FOLLOWERS)

# stream -> (table, rowid column, stamp of a row from columns that never change)
_STREAMS = {
    COMMENTS: ("comments", "id", "created_at || '|' || author_id || '|' || post_id"),
    FOLLOWERS: ("followers", "rowid", "actor_id || '|' || created_at"),
    PUBLICATIONS: ("comment_publications", "id", "comment_id || '|' || published_at"),
}

_COMMENTS_PAST = """SELECT c.id, c.status, c.origin, c.visibility, c.content_html, c.summary, c.created_at,
    a.name AS author_name, p.slug AS post_slug, p.title AS post_title,
    (SELECT w.kind FROM webmentions_received w WHERE w.comment_id = c.id LIMIT 1) AS mention_kind
    FROM comments c JOIN comment_authors a ON a.id = c.author_id JOIN posts p ON p.id = c.post_id
    WHERE c.id > ? AND c.id <= ? AND c.status = ? AND c.origin != 'author' ORDER BY c.id LIMIT ?"""


@dataclass(frozen=True)
class Mark:
    last_id: int
    last_stamp: str | None


@dataclass(frozen=True)
class CommentNotice:
    id: int
    status: str
    origin: str
    visibility: str
    content_html: str
    summary: str
    author_name: str
    post_slug: str
    post_title: str
    mention_kind: str | None  # like, repost… when a webmention that is not a reply


@dataclass(frozen=True)
class FollowerNotice:
    actor_id: str
    handle: str | None
    name: str
    status: str


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """The first items of a range and how many the range holds."""

    items: tuple[T, ...]
    total: int


@dataclass(frozen=True)
class NotificationStatus:
    last_sent_at: datetime | None
    last_items: int
    last_error: str | None
    last_error_at: datetime | None


class NotificationStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def marks(self) -> dict[str, Mark]:
        rows = await self.db.fetch_all("SELECT stream, last_id, last_stamp FROM notification_marks")
        return {row["stream"]: Mark(row["last_id"], row["last_stamp"]) for row in rows}

    async def top(self, stream: str) -> Mark:
        """The newest row of a stream now (0 when empty)."""
        table, key, stamp = _STREAMS[stream]
        row = await self.db.fetch_one(f"SELECT {key}, {stamp} FROM {table} ORDER BY {key} DESC LIMIT 1")
        return Mark(0, None) if row is None else Mark(int(row[0]), row[1])

    async def resolve(self, stream: str, mark: Mark) -> int:
        """The rowid past which rows are new: the mark, or the highest row below it when the marked row is gone
        or was replaced by a newer row under the same rowid."""
        table, key, stamp = _STREAMS[stream]
        current = await self.db.fetch_value(f"SELECT {stamp} FROM {table} WHERE {key} = ?", (mark.last_id,))
        if mark.last_id == 0 or current == mark.last_stamp:
            return mark.last_id
        below = await self.db.fetch_value(f"SELECT MAX({key}) FROM {table} WHERE {key} < ?", (mark.last_id,))
        return int(below or 0)

    async def start_marks(self, now: datetime, streams: tuple[str, ...] = AUTHOR_STREAMS) -> None:
        """Marks at the top of each stream, for streams without one: notifications begin from now, not from the
        blog's first comment. Writes only when a mark is missing."""
        existing = await self.marks()
        missing = [stream for stream in streams if stream not in existing]
        if not missing:
            return
        tops = {stream: await self.top(stream) for stream in missing}
        async with self.db.transaction() as conn:
            for stream, mark in tops.items():
                await conn.execute(
                    "INSERT INTO notification_marks (stream, last_id, last_stamp, updated_at) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (stream, mark.last_id, mark.last_stamp, to_text(now)),
                )

    async def clear_marks(self, streams: tuple[str, ...] = AUTHOR_STREAMS) -> None:
        """Notifications turned off: the next time they are on, they start from then (no catch-up digest)."""
        marks = ", ".join("?" * len(streams))
        if await self.db.fetch_value(f"SELECT COUNT(*) FROM notification_marks WHERE stream IN ({marks})", streams):
            async with self.db.transaction() as conn:
                await conn.execute(f"DELETE FROM notification_marks WHERE stream IN ({marks})", streams)

    async def comments_past(self, after: int, upto: int, status: str, limit: int) -> Page[CommentNotice]:
        """Comments by others (not the author's own) with rowid in (after, upto] and this status, oldest first."""
        total = await self.db.fetch_value(
            "SELECT COUNT(*) FROM comments c WHERE c.id > ? AND c.id <= ? AND c.status = ? AND c.origin != 'author'",
            (after, upto, status),
        )
        rows = await self.db.fetch_all(_COMMENTS_PAST, (after, upto, status, limit)) if total else []
        items = tuple(
            CommentNotice(
                id=row["id"],
                status=row["status"],
                origin=row["origin"],
                visibility=row["visibility"],
                content_html=row["content_html"],
                summary=row["summary"],
                author_name=row["author_name"],
                post_slug=row["post_slug"],
                post_title=row["post_title"],
                mention_kind=row["mention_kind"] if row["mention_kind"] != "reply" else None,
            )
            for row in rows
        )
        return Page(items, int(total or 0))

    async def followers_past(self, after: int, upto: int, status: str, limit: int) -> Page[FollowerNotice]:
        total = await self.db.fetch_value(
            "SELECT COUNT(*) FROM followers WHERE rowid > ? AND rowid <= ? AND status = ?", (after, upto, status)
        )
        rows = await self.db.fetch_all(
            "SELECT actor_id, handle, name, status FROM followers WHERE rowid > ? AND rowid <= ? AND status = ? "
            "ORDER BY rowid LIMIT ?",
            (after, upto, status, limit),
        )
        items = tuple(FollowerNotice(row["actor_id"], row["handle"], row["name"], row["status"]) for row in rows)
        return Page(items, int(total or 0))

    async def advance(self, marks: dict[str, Mark], now: datetime, sent_items: int | None) -> None:
        """Move the marks (after the SMTP server accepted the digest, or when nothing was worth a mail);
        `sent_items` records the digest on the status row when one went out."""
        async with self.db.transaction() as conn:
            await self.move_marks(conn, marks, now)
            if sent_items is not None:
                await conn.execute(
                    "INSERT INTO notification_status (id, last_sent_at, last_items, last_error, last_error_at) "
                    "VALUES (1, ?, ?, NULL, NULL) ON CONFLICT (id) DO UPDATE SET last_sent_at = excluded.last_sent_at, "
                    "last_items = excluded.last_items, last_error = NULL, last_error_at = NULL",
                    (to_text(now), sent_items),
                )

    @staticmethod
    async def move_marks(conn: Connection, marks: dict[str, Mark], now: datetime) -> None:
        """Inside the caller's transaction (the subscriber notifier moves its mark with the mails it queues)."""
        for stream, mark in marks.items():
            await conn.execute(
                "INSERT INTO notification_marks (stream, last_id, last_stamp, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (stream) DO UPDATE SET last_id = excluded.last_id, "
                "last_stamp = excluded.last_stamp, updated_at = excluded.updated_at",
                (stream, mark.last_id, mark.last_stamp, to_text(now)),
            )

    async def record_failure(self, error: str, now: datetime) -> None:
        """The last failed attempt, already stripped of secrets by the caller."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO notification_status (id, last_error, last_error_at) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET last_error = excluded.last_error, "
                "last_error_at = excluded.last_error_at",
                (error[:500], to_text(now)),
            )

    async def status(self) -> NotificationStatus:
        row = await self.db.fetch_one(
            "SELECT last_sent_at, last_items, last_error, last_error_at FROM notification_status WHERE id = 1"
        )
        if row is None:
            return NotificationStatus(None, 0, None, None)
        return NotificationStatus(
            from_text(row["last_sent_at"]), row["last_items"], row["last_error"], from_text(row["last_error_at"])
        )
