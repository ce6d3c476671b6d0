"""Comments of every origin (web form, fediverse, the author) and their authors: one table, one thread."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import partial

from fedblog.clock import from_text, to_text, utcnow
from fedblog.models import (
    Attachment,
    AuthorKind,
    Comment,
    CommentAuthor,
    CommentKind,
    CommentOrigin,
    CommentStatus,
    Visibility,
)
from fedblog.store.connection import SyncCursor
from fedblog.store.db import Connection, Database, Row, SyncConnection
from fedblog.store.webmentions import NOT_A_MENTION

_SELECT = """SELECT c.*, a.kind AS a_kind, a.name AS a_name, a.email AS a_email, a.website AS a_website,
    a.actor_id AS a_actor_id, a.handle AS a_handle, a.avatar_url AS a_avatar_url,
    a.profile_url AS a_profile_url, p.slug AS post_slug, p.title AS post_title
    FROM comments c JOIN comment_authors a ON a.id = c.author_id JOIN posts p ON p.id = c.post_id"""

PUBLIC_VISIBILITIES = "('public', 'unlisted')"


@dataclass(frozen=True)
class VisitorAuthor:
    """Someone who used the comment form: one row per (email, name, website)."""

    name: str
    email: str
    website: str | None


@dataclass(frozen=True)
class OwnerAuthor:
    """The blog's author (one row, kept up to date with the config)."""

    name: str
    actor_id: str
    profile_url: str


@dataclass(frozen=True)
class RemoteAuthor:
    """A fediverse account, one row per actor id, updated with each comment."""

    actor_id: str
    name: str
    handle: str | None
    avatar_url: str | None
    profile_url: str | None


@dataclass(frozen=True)
class PageAuthor:
    """A webmention's author: a person known by their page (no fediverse actor id), one row per mention."""

    name: str
    url: str | None
    photo: str | None
    created_at: str | None = None


NewAuthor = VisitorAuthor | OwnerAuthor | RemoteAuthor | PageAuthor


@dataclass(frozen=True)
class NewComment:
    post_id: int
    parent_id: int | None
    author_id: int
    origin: CommentOrigin
    status: CommentStatus
    content_html: str
    visibility: Visibility = Visibility.PUBLIC
    summary: str = ""
    sensitive: bool = False
    language: str | None = None
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)
    remote_id: str | None = None
    remote_url: str | None = None
    ip: str | None = None
    created_at: str | None = None
    kind: CommentKind = CommentKind.COMMENT
    wp_comment_id: int | None = None  # imported from WordPress
    approved_at: str | None = None  # default: now, when approved


def row_to_comment(row: Row) -> Comment:
    author = CommentAuthor(
        id=row["author_id"],
        kind=AuthorKind(row["a_kind"]),
        name=row["a_name"],
        email=row["a_email"],
        website=row["a_website"],
        actor_id=row["a_actor_id"],
        handle=row["a_handle"],
        avatar_url=row["a_avatar_url"],
        profile_url=row["a_profile_url"],
    )
    attachments = tuple(
        Attachment(url=item["url"], media_type=item.get("media_type", ""), name=item.get("name", ""))
        for item in json.loads(row["attachments_json"] or "[]")
    )
    return Comment(
        id=row["id"],
        post_id=row["post_id"],
        parent_id=row["parent_id"],
        author=author,
        origin=CommentOrigin(row["origin"]),
        status=CommentStatus(row["status"]),
        visibility=Visibility(row["visibility"]),
        content_html=row["content_html"],
        summary=row["summary"],
        sensitive=bool(row["sensitive"]),
        language=row["language"],
        attachments=attachments,
        remote_id=row["remote_id"],
        remote_url=row["remote_url"],
        created_at=from_text(row["created_at"]),  # type: ignore[arg-type]
        updated_at=from_text(row["updated_at"]),
        approved_at=from_text(row["approved_at"]),
        post_slug=row["post_slug"],
        post_title=row["post_title"],
        ip=row["ip"],
        kind=CommentKind(row["kind"]),
        wp_comment_id=row["wp_comment_id"],
    )


_ACTOR_TRUSTED = (
    "SELECT 1 FROM comments c JOIN comment_authors a ON a.id = c.author_id "
    "WHERE a.actor_id = ? AND c.status = 'approved' LIMIT 1"
)
# The remote author's row and, in the same statement, whether they have an approved comment (first_time trust):
# the one-trip inbox path read them in two statements.
_REMOTE_AUTHOR_ROW = (
    "SELECT id, name, handle, avatar_url, profile_url, EXISTS (SELECT 1 FROM comments c "
    "WHERE c.author_id = comment_authors.id AND c.status = 'approved') FROM comment_authors WHERE actor_id = ?"
)
_UPSERT_REMOTE_AUTHOR = (
    "INSERT INTO comment_authors (kind, name, actor_id, handle, avatar_url, profile_url, created_at) "
    "VALUES ('remote', ?, ?, ?, ?, ?, ?) ON CONFLICT (actor_id) DO UPDATE SET name = excluded.name, "
    "handle = excluded.handle, avatar_url = excluded.avatar_url, profile_url = excluded.profile_url RETURNING id"
)
# The columns a new comment is written with, in the order of _comment_params (PostgreSQL's batch of held replies,
# store/postgresql/batches.py, writes the same columns).
COMMENT_COLUMNS = (
    "post_id, parent_id, author_id, origin, status, visibility, content_html, summary, sensitive, language, "
    "attachments_json, remote_id, remote_url, ip, created_at, approved_at, kind, wp_comment_id"
)
_INSERT_COMMENT = (
    f"INSERT INTO comments ({COMMENT_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id"
)


def _comment_params(new: NewComment) -> tuple[object, ...]:
    now = to_text(utcnow())
    return (
        new.post_id,
        new.parent_id,
        new.author_id,
        new.origin.value,
        new.status.value,
        new.visibility.value,
        new.content_html,
        new.summary,
        int(new.sensitive),
        new.language,
        attachments_to_json(new.attachments),
        new.remote_id,
        new.remote_url,
        new.ip,
        new.created_at or now,
        (new.approved_at or now) if new.status == CommentStatus.APPROVED else None,
        new.kind.value,
        new.wp_comment_id,
    )


def attachments_to_json(attachments: tuple[Attachment, ...]) -> str:
    return json.dumps([{"url": a.url, "media_type": a.media_type, "name": a.name} for a in attachments])


def author_row_sync(raw: SyncConnection, author: NewAuthor) -> int:
    """The id of the author's row, found or made (updated where the source says more)."""
    if isinstance(author, VisitorAuthor):
        row = raw.execute(
            "SELECT id FROM comment_authors WHERE kind = 'visitor' AND email = ? AND name = ? "
            "AND COALESCE(website, '') = ?",
            (author.email, author.name, author.website or ""),
        ).fetchone()
        if row is not None:
            return int(row[0])
        return _inserted_id(
            raw.execute(
                "INSERT INTO comment_authors (kind, name, email, website, created_at) "
                "VALUES ('visitor', ?, ?, ?, ?) RETURNING id",
                (author.name, author.email, author.website or None, to_text(utcnow())),
            )
        )
    if isinstance(author, OwnerAuthor):
        row = raw.execute("SELECT id FROM comment_authors WHERE kind = 'owner'").fetchone()
        if row is not None:
            raw.execute(
                "UPDATE comment_authors SET name = ?, actor_id = ?, profile_url = ? WHERE id = ?",
                (author.name, author.actor_id, author.profile_url, row[0]),
            )
            return int(row[0])
        return _inserted_id(
            raw.execute(
                "INSERT INTO comment_authors (kind, name, actor_id, profile_url, created_at) "
                "VALUES ('owner', ?, ?, ?, ?) RETURNING id",
                (author.name, author.actor_id, author.profile_url, to_text(utcnow())),
            )
        )
    if isinstance(author, RemoteAuthor):
        return remote_author_row_sync(raw, author, find_remote_author_sync(raw, author))
    return _inserted_id(
        raw.execute(
            "INSERT INTO comment_authors (kind, name, avatar_url, profile_url, created_at) "
            "VALUES ('remote', ?, ?, ?, ?) RETURNING id",
            (author.name, author.photo, author.url, author.created_at or to_text(utcnow())),
        )
    )


@dataclass(frozen=True, slots=True)
class FoundRemoteAuthor:
    """A fediverse author's row as stored, read before their comment is written (one statement)."""

    row_id: int | None  # None: no row yet
    current: bool  # the row says what the author's document says now: nothing to write
    trusted: bool  # they have an approved comment here (first_time moderation publishes their next one)


def find_remote_author_sync(raw: SyncConnection, author: RemoteAuthor) -> FoundRemoteAuthor:
    row = raw.execute(_REMOTE_AUTHOR_ROW, (author.actor_id,)).fetchone()
    if row is None:
        return FoundRemoteAuthor(None, False, False)
    return FoundRemoteAuthor(int(row[0]), stored_as_now(author, (row[1], row[2], row[3], row[4])), bool(row[5]))


def stored_as_now(author: RemoteAuthor, stored: tuple[object, object, object, object]) -> bool:
    """The stored (name, handle, avatar_url, profile_url) of an author's row say what their document says now."""
    return stored == (author.name, author.handle, author.avatar_url, author.profile_url)


def remote_author_row_sync(raw: SyncConnection, author: RemoteAuthor, found: FoundRemoteAuthor) -> int:
    """The id of a fediverse author's row, written only when it is new or changed: a regular's row is usually as
    they are now (the upsert rewrote it on every reply, the dearest statement of a reply's commit after the
    comment itself)."""
    if found.row_id is not None and found.current:
        return found.row_id
    # The upsert returns the row's id whether it inserted or updated it.
    return _inserted_id(
        raw.execute(
            _UPSERT_REMOTE_AUTHOR,
            (author.name, author.actor_id, author.handle, author.avatar_url, author.profile_url, to_text(utcnow())),
        )
    )


def _inserted_id(cursor: SyncCursor) -> int:
    """The id an `INSERT … RETURNING id` gave (PostgreSQL has no lastrowid)."""
    return int(cursor.fetchone()[0])


def insert_comment_sync(raw: SyncConnection, new: NewComment) -> int:
    return _inserted_id(raw.execute(_INSERT_COMMENT, _comment_params(new)))


def add_comment_sync(raw: SyncConnection, new: NewComment, author: NewAuthor) -> int:
    """The one way a comment row is written with its author (new.author_id is ignored): its id. Every source
    comes here, through CommentStore.add_comment or a one-trip path, but the inbox's usual reply
    (store/threads.store_held_reply), which reads its author's row and trust first, then writes the same way."""
    return insert_comment_sync(raw, replace(new, author_id=author_row_sync(raw, author)))


def _add_and_read_back_sync(raw: SyncConnection, new: NewComment, author: NewAuthor) -> Comment:
    comment_id = add_comment_sync(raw, new, author)
    return row_to_comment(raw.execute(f"{_SELECT} WHERE c.id = ?", (comment_id,)).fetchone())


class CommentStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # Authors: each async method is one trip running the sync function that the one-trip paths share.
    async def get_or_create_visitor(self, conn: Connection, name: str, email: str, website: str | None) -> int:
        """One author row per (email, name, website): a visitor may change their name between comments."""
        return await conn.run(partial(author_row_sync, author=VisitorAuthor(name, email, website)))

    async def upsert_remote_author(
        self,
        conn: Connection,
        actor_id: str,
        name: str,
        handle: str | None,
        avatar_url: str | None,
        profile_url: str | None,
    ) -> int:
        author = RemoteAuthor(actor_id, name, handle, avatar_url, profile_url)
        return await conn.run(partial(author_row_sync, author=author))

    async def is_remote_author(self, actor_id: str) -> bool:
        """Whether this fediverse account commented or reacted here (it has an author row)."""
        row = "SELECT 1 FROM comment_authors WHERE kind = 'remote' AND actor_id = ? LIMIT 1"
        return await self.db.fetch_value(row, (actor_id,)) is not None

    async def get_or_create_owner(self, conn: Connection, name: str, actor_id: str, profile_url: str) -> int:
        return await conn.run(partial(author_row_sync, author=OwnerAuthor(name, actor_id, profile_url)))

    async def email_is_trusted(self, email: str) -> bool:
        """True once a comment by this email has been approved (first-time moderation)."""
        value = await self.db.fetch_value(
            "SELECT 1 FROM comments c JOIN comment_authors a ON a.id = c.author_id "
            "WHERE a.email = ? AND c.status = 'approved' LIMIT 1",
            (email.lower(),),
        )
        return value is not None

    async def actor_is_trusted(self, actor_id: str) -> bool:
        return await self.db.fetch_value(_ACTOR_TRUSTED, (actor_id,)) is not None

    @staticmethod
    def actor_is_trusted_sync(raw: SyncConnection, actor_id: str) -> bool:
        """actor_is_trusted() with the raw connection, for Database.run (several reads in one trip)."""
        return raw.execute(_ACTOR_TRUSTED, (actor_id,)).fetchone() is not None

    async def list_approved_commenters(self) -> list[tuple[CommentAuthor, int]]:
        """Every author with an approved comment and how many, most active first."""
        rows = await self.db.fetch_all(
            "SELECT a.*, COUNT(c.id) AS approved FROM comment_authors a JOIN comments c ON c.author_id = a.id "
            "WHERE c.status = 'approved' AND a.kind != 'owner' GROUP BY a.id ORDER BY approved DESC, a.name"
        )
        return [
            (
                CommentAuthor(
                    id=row["id"],
                    kind=AuthorKind(row["kind"]),
                    name=row["name"],
                    email=row["email"],
                    website=row["website"],
                    actor_id=row["actor_id"],
                    handle=row["handle"],
                    avatar_url=row["avatar_url"],
                    profile_url=row["profile_url"],
                ),
                row["approved"],
            )
            for row in rows
        ]

    async def author_row(self, conn: Connection, author: NewAuthor) -> int:
        """The id of the author's row, found or made (updated where the source says more)."""
        return await conn.run(partial(author_row_sync, author=author))

    async def add_comment(self, conn: Connection, new: NewComment, author: NewAuthor) -> Comment:
        """The author's row, then the comment by them (new.author_id is ignored), read back: one trip. Raises
        Conflict when a comment with that remote id exists already."""
        return await conn.run(partial(_add_and_read_back_sync, new=new, author=author))

    # Comments
    async def insert_comment(self, conn: Connection, new: NewComment) -> int:
        """A comment by the existing author `new.author_id`: its id."""
        return await conn.run(partial(insert_comment_sync, new=new))

    async def get_comment(self, comment_id: int) -> Comment | None:
        row = await self.db.fetch_one(f"{_SELECT} WHERE c.id = ?", (comment_id,))
        return None if row is None else row_to_comment(row)

    async def get_comments(self, comment_ids: list[int]) -> list[Comment]:
        """The comments among these ids that exist, oldest first."""
        if not comment_ids:
            return []
        marks = ", ".join("?" * len(comment_ids))
        rows = await self.db.fetch_all(f"{_SELECT} WHERE c.id IN ({marks}) ORDER BY c.id", comment_ids)
        return [row_to_comment(row) for row in rows]

    async def get_comment_by_remote_id(self, remote_id: str) -> Comment | None:
        row = await self.db.fetch_one(f"{_SELECT} WHERE c.remote_id = ?", (remote_id,))
        return None if row is None else row_to_comment(row)

    @staticmethod
    def get_comment_by_remote_id_sync(raw: SyncConnection, remote_id: str) -> Comment | None:
        """get_comment_by_remote_id() with the raw connection, for Database.run (several reads in one trip)."""
        row = raw.execute(f"{_SELECT} WHERE c.remote_id = ?", (remote_id,)).fetchone()
        return None if row is None else row_to_comment(row)

    async def list_visible_for_post(self, post_id: int) -> list[Comment]:
        """Approved comments shown in the post page's thread (public and unlisted), oldest first; likes and other
        webmentions that are not replies are listed apart (store/webmentions.py)."""
        rows = await self.db.fetch_all(
            f"{_SELECT} WHERE c.post_id = ? AND c.status = 'approved' AND c.visibility IN {PUBLIC_VISIBILITIES} "
            f"AND {NOT_A_MENTION} ORDER BY c.created_at, c.id",
            (post_id,),
        )
        return [row_to_comment(row) for row in rows]

    async def list_visible_replies(self, post_id: int, parent_id: int | None, limit: int, offset: int) -> list[Comment]:
        parent_clause = "c.parent_id IS NULL" if parent_id is None else "c.parent_id = ?"
        params: list[object] = [post_id, *([] if parent_id is None else [parent_id]), limit, offset]
        rows = await self.db.fetch_all(
            f"{_SELECT} WHERE c.post_id = ? AND {parent_clause} AND c.status = 'approved' "
            f"AND c.visibility IN {PUBLIC_VISIBILITIES} ORDER BY c.created_at, c.id LIMIT ? OFFSET ?",
            params,
        )
        return [row_to_comment(row) for row in rows]

    async def count_visible_replies(self, post_id: int, parent_id: int | None) -> int:
        parent_clause = "parent_id IS NULL" if parent_id is None else "parent_id = ?"
        params: list[object] = [post_id, *([] if parent_id is None else [parent_id])]
        return int(
            await self.db.fetch_value(
                f"SELECT COUNT(*) FROM comments WHERE post_id = ? AND {parent_clause} AND status = 'approved' "
                f"AND visibility IN {PUBLIC_VISIBILITIES}",
                params,
            )
        )

    async def list_by_status(
        self, status: CommentStatus | None = None, limit: int = 500, offset: int = 0
    ) -> list[Comment]:
        """Newest first; one page of `limit` comments from `offset`."""
        if status is None:
            rows = await self.db.fetch_all(
                f"{_SELECT} ORDER BY c.created_at DESC, c.id DESC LIMIT ? OFFSET ?", (limit, offset)
            )
        else:
            rows = await self.db.fetch_all(
                f"{_SELECT} WHERE c.status = ? ORDER BY c.created_at DESC, c.id DESC LIMIT ? OFFSET ?",
                (status.value, limit, offset),
            )
        return [row_to_comment(row) for row in rows]

    async def list_private_mentions(self, limit: int = 200) -> list[Comment]:
        rows = await self.db.fetch_all(
            f"{_SELECT} WHERE c.visibility IN ('followers', 'direct') ORDER BY c.created_at DESC LIMIT ?", (limit,)
        )
        return [row_to_comment(row) for row in rows]

    async def count_by_status(self) -> dict[str, int]:
        rows = await self.db.fetch_all("SELECT status, COUNT(*) FROM comments GROUP BY status")
        return {row[0]: row[1] for row in rows}

    async def set_status(self, conn: Connection, comment_id: int, status: CommentStatus) -> None:
        await conn.execute(
            "UPDATE comments SET status = ?, approved_at = CASE WHEN ? = 'approved' "
            "THEN COALESCE(approved_at, ?) ELSE approved_at END WHERE id = ?",
            (status.value, status.value, to_text(utcnow()), comment_id),
        )

    async def update_content(
        self,
        conn: Connection,
        comment_id: int,
        content_html: str,
        summary: str,
        sensitive: bool,
        attachments: tuple[Attachment, ...],
        updated_at: str,
    ) -> None:
        await conn.execute(
            "UPDATE comments SET content_html = ?, summary = ?, sensitive = ?, attachments_json = ?, updated_at = ? "
            "WHERE id = ?",
            (content_html, summary, int(sensitive), attachments_to_json(attachments), updated_at, comment_id),
        )

    async def delete_comment(self, conn: Connection, comment_id: int) -> None:
        """Deleting a comment keeps its replies: they move up to the deleted comment's parent."""
        row = await conn.fetch_one("SELECT parent_id FROM comments WHERE id = ?", (comment_id,))
        if row is None:
            return
        await conn.execute("UPDATE comments SET parent_id = ? WHERE parent_id = ?", (row[0], comment_id))
        await conn.execute("DELETE FROM comments WHERE id = ?", (comment_id,))

    async def delete_comments_by_actor(self, conn: Connection, actor_id: str) -> list[int]:
        rows = await conn.fetch_all(
            "SELECT c.id FROM comments c JOIN comment_authors a ON a.id = c.author_id WHERE a.actor_id = ? "
            "ORDER BY c.id DESC",
            (actor_id,),
        )
        ids = [row[0] for row in rows]
        for comment_id in ids:
            await self.delete_comment(conn, comment_id)
        return ids
