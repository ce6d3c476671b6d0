"""Webmentions received (the verification queue and what each became) and sent (the sending queue).

Times are ISO 8601 UTC text compared as strings; the caller passes `now`, so the worker's clock rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from fedblog.clock import from_text, to_text
from fedblog.store.claims import claiming
from fedblog.store.db import Connection, Database

# A comment that a like, repost, bookmark or plain mention became: listed under "Mentions", not in the thread nor
# in the comment count. For queries over `comments c`.
NOT_A_MENTION = "NOT EXISTS (SELECT 1 FROM webmentions_received w WHERE w.comment_id = c.id AND w.kind != 'reply')"


@dataclass(frozen=True)
class ReceivedJob:
    id: int
    source: str
    target: str
    post_id: int
    source_host: str
    attempts: int
    comment_id: int | None
    protocol: str = "webmention"  # webmention | pingback | trackback
    claimed_title: str | None = None  # a trackback's own title, excerpt and blog name
    claimed_excerpt: str | None = None
    claimed_blog_name: str | None = None


@dataclass(frozen=True)
class Claims:
    """What a trackback's sender says of its page, kept until verification shows it."""

    title: str = ""
    excerpt: str = ""
    blog_name: str = ""


@dataclass(frozen=True)
class ReceivedOutcome:
    """What to write back after a verification attempt."""

    state: str  # pending (retry) | verified | rejected | failed
    attempts: int
    next_attempt_at: datetime | None = None
    error: str | None = None
    kind: str | None = None
    author_key: str | None = None
    comment_id: int | None = None


@dataclass(frozen=True)
class ShownMention:
    """An approved like/repost/bookmark/mention, as the post page lists it."""

    comment_id: int
    kind: str
    source: str
    source_host: str
    author_name: str
    author_url: str | None
    author_photo: str | None
    created_at: datetime


@dataclass(frozen=True)
class SentJob:
    id: int
    source: str
    target: str
    attempts: int


_RECEIVED_DUE = (
    "SELECT id, source, target, post_id, source_host, attempts, comment_id, protocol, claimed_title, "
    "claimed_excerpt, claimed_blog_name FROM webmentions_received "
    "WHERE state = 'pending' AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until <= ?) "
    "ORDER BY next_attempt_at, id LIMIT ?"
)
_SENT_DUE = (
    "SELECT id, source, target, attempts FROM webmentions_sent "
    "WHERE state = 'pending' AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until <= ?) "
    "ORDER BY next_attempt_at, id LIMIT ?"
)


class WebmentionStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._claim_received = claiming(_RECEIVED_DUE, db.dialect)
        self._claim_sent = claiming(_SENT_DUE, db.dialect)

    # -- received ------------------------------------------------------------------------------------------------

    async def queue_received(
        self,
        conn: Connection,
        source: str,
        target: str,
        post_id: int,
        ip: str | None,
        now: datetime,
        protocol: str = "webmention",
        claims: Claims | None = None,
    ) -> None:
        """Queue a verification; a re-sent (source, target) is verified again (update or removal)."""
        stamp = to_text(now)
        claimed = (claims.title, claims.excerpt, claims.blog_name) if claims is not None else (None, None, None)
        await conn.execute(
            "INSERT INTO webmentions_received (source, target, post_id, source_host, state, ip, next_attempt_at, "
            "received_at, protocol, claimed_title, claimed_excerpt, claimed_blog_name) "
            "VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, target) DO UPDATE SET "
            "state = 'pending', attempts = 0, next_attempt_at = excluded.next_attempt_at, locked_until = NULL, "
            "last_error = NULL, ip = excluded.ip, post_id = excluded.post_id, received_at = excluded.received_at, "
            "protocol = excluded.protocol, claimed_title = excluded.claimed_title, "
            "claimed_excerpt = excluded.claimed_excerpt, claimed_blog_name = excluded.claimed_blog_name",
            (source, target, post_id, _host(source), ip, stamp, stamp, protocol, *claimed),
        )

    async def is_registered(self, source: str, target: str) -> bool:
        """True when this (source, target) was verified and its comment is still there (a ping sent again)."""
        value = await self.db.fetch_value(
            "SELECT 1 FROM webmentions_received w JOIN comments c ON c.id = w.comment_id "
            "WHERE w.source = ? AND w.target = ? AND w.state = 'verified'",
            (source, target),
        )
        return value is not None

    async def count_pending_from(self, source_host: str) -> int:
        return int(
            await self.db.fetch_value(
                "SELECT COUNT(*) FROM webmentions_received WHERE source_host = ? AND state = 'pending'",
                (source_host,),
            )
        )

    async def claim_received(self, now: datetime, lock_until: datetime, limit: int) -> list[ReceivedJob]:
        stamp = to_text(now)
        if not await self.db.fetch_value(_RECEIVED_DUE, (stamp, stamp, 1)):
            return []  # idle: no write transaction
        async with self.db.transaction() as conn:
            jobs = [ReceivedJob(*row) for row in await conn.fetch_all(self._claim_received, (stamp, stamp, limit))]
            await conn.executemany(
                "UPDATE webmentions_received SET locked_until = ? WHERE id = ?",
                [(to_text(lock_until), job.id) for job in jobs],
            )
        return jobs

    async def save_received(self, conn: Connection, job_id: int, outcome: ReceivedOutcome, now: datetime) -> None:
        await conn.execute(
            "UPDATE webmentions_received SET state = ?, attempts = ?, next_attempt_at = COALESCE(?, next_attempt_at), "
            "locked_until = NULL, last_error = ?, kind = COALESCE(?, kind), author_key = COALESCE(?, author_key), "
            "comment_id = ?, verified_at = CASE WHEN ? = 'verified' THEN ? ELSE verified_at END WHERE id = ?",
            (
                outcome.state,
                outcome.attempts,
                to_text(outcome.next_attempt_at) if outcome.next_attempt_at else None,
                outcome.error,
                outcome.kind,
                outcome.author_key,
                outcome.comment_id,
                outcome.state,
                to_text(now),
                job_id,
            ),
        )

    async def author_is_trusted(self, author_key: str) -> bool:
        """True once a webmention from this author (see protocol.webmention.author_key) was approved."""
        value = await self.db.fetch_value(
            "SELECT 1 FROM webmentions_received w JOIN comments c ON c.id = w.comment_id "
            "WHERE w.author_key = ? AND c.status = 'approved' LIMIT 1",
            (author_key,),
        )
        return value is not None

    async def update_author(
        self, conn: Connection, author_id: int, name: str, url: str | None, photo: str | None
    ) -> None:
        await conn.execute(
            "UPDATE comment_authors SET name = ?, avatar_url = ?, profile_url = ? WHERE id = ? AND actor_id IS NULL",
            (name, photo, url, author_id),
        )

    async def forget_author(self, conn: Connection, author_id: int) -> None:
        """Drop a webmention author's row once no comment is theirs (a removed mention leaves no trace)."""
        await conn.execute(
            "DELETE FROM comment_authors WHERE id = ? AND kind = 'remote' AND actor_id IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM comments WHERE author_id = ?)",
            (author_id, author_id),
        )

    async def insert_ping_author(self, conn: Connection, title: str, source: str, now: datetime) -> int:
        """A pingback's or trackback's author, as WordPress keeps one: the source's title as the name, its URL as the
        website (a visitor without e-mail)."""
        return int(
            await conn.fetch_value(
                "INSERT INTO comment_authors (kind, name, website, created_at) VALUES ('visitor', ?, ?, ?) "
                "RETURNING id",
                (title, source, to_text(now)),
            )
        )

    async def update_ping_author(self, conn: Connection, author_id: int, title: str) -> None:
        await conn.execute(
            "UPDATE comment_authors SET name = ? WHERE id = ? AND kind = 'visitor' AND email IS NULL",
            (title, author_id),
        )

    async def forget_ping_author(self, conn: Connection, author_id: int) -> None:
        """Drop a ping's author row once no comment is theirs (a removed ping leaves no trace)."""
        await conn.execute(
            "DELETE FROM comment_authors WHERE id = ? AND kind = 'visitor' AND email IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM comments WHERE author_id = ?)",
            (author_id, author_id),
        )

    async def list_shown_mentions(self, post_id: int) -> list[ShownMention]:
        """Approved likes, reposts, bookmarks and plain mentions of a post, oldest first."""
        rows = await self.db.fetch_all(
            "SELECT c.id, w.kind, w.source, w.source_host, a.name, a.profile_url, a.avatar_url, c.created_at "
            "FROM webmentions_received w JOIN comments c ON c.id = w.comment_id "
            "JOIN comment_authors a ON a.id = c.author_id "
            "WHERE w.post_id = ? AND w.kind != 'reply' AND c.status = 'approved' ORDER BY c.created_at, c.id",
            (post_id,),
        )
        return [
            ShownMention(row[0], row[1], row[2], row[3], row[4], row[5], row[6], from_text(row[7]))  # type: ignore[arg-type]
            for row in rows
        ]

    async def received_state(self, source: str, target: str) -> tuple[str, int | None] | None:
        """(state, comment id) of a received webmention, for tools and tests."""
        row = await self.db.fetch_one(
            "SELECT state, comment_id FROM webmentions_received WHERE source = ? AND target = ?", (source, target)
        )
        return None if row is None else (row[0], row[1])

    # -- sent ----------------------------------------------------------------------------------------------------

    async def queue_sent(self, conn: Connection, source: str, targets: list[str], now: datetime) -> None:
        """One pending job per target; a target already known is sent again (the post changed)."""
        stamp = to_text(now)
        await conn.executemany(
            "INSERT INTO webmentions_sent (source, target, state, next_attempt_at, created_at) "
            "VALUES (?, ?, 'pending', ?, ?) ON CONFLICT (source, target) DO UPDATE SET state = 'pending', "
            "attempts = 0, next_attempt_at = excluded.next_attempt_at, locked_until = NULL, updated_at = ?",
            [(source, target, stamp, stamp, stamp) for target in targets],
        )

    async def sent_targets(self, conn: Connection, source: str) -> list[str]:
        rows = await conn.fetch_all("SELECT target FROM webmentions_sent WHERE source = ? ORDER BY id", (source,))
        return [row[0] for row in rows]

    async def claim_sent(self, now: datetime, lock_until: datetime, limit: int) -> list[SentJob]:
        stamp = to_text(now)
        if not await self.db.fetch_value(_SENT_DUE, (stamp, stamp, 1)):
            return []
        async with self.db.transaction() as conn:
            jobs = [SentJob(*row) for row in await conn.fetch_all(self._claim_sent, (stamp, stamp, limit))]
            await conn.executemany(
                "UPDATE webmentions_sent SET locked_until = ? WHERE id = ?",
                [(to_text(lock_until), job.id) for job in jobs],
            )
        return jobs

    async def save_sent(
        self,
        job_id: int,
        state: str,
        attempts: int,
        next_attempt_at: datetime | None,
        endpoint: str | None,
        status: int | None,
        error: str | None,
        now: datetime,
        protocol: str = "webmention",
    ) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE webmentions_sent SET state = ?, attempts = ?, next_attempt_at = COALESCE(?, next_attempt_at), "
                "locked_until = NULL, endpoint = ?, last_status = ?, last_error = ?, updated_at = ?, protocol = ? "
                "WHERE id = ?",
                (
                    state,
                    attempts,
                    to_text(next_attempt_at) if next_attempt_at else None,
                    endpoint,
                    status,
                    error,
                    to_text(now),
                    protocol,
                    job_id,
                ),
            )

    async def sent_protocol(self, source: str, target: str) -> str | None:
        """By which protocol the last try of a mention sent went (webmention, pingback), for tools and tests."""
        value = await self.db.fetch_value(
            "SELECT protocol FROM webmentions_sent WHERE source = ? AND target = ?", (source, target)
        )
        return None if value is None else str(value)

    async def sent_state(self, source: str, target: str) -> tuple[str, int, str | None] | None:
        """(state, attempts, last error) of a webmention sent, for tools and tests."""
        row = await self.db.fetch_one(
            "SELECT state, attempts, last_error FROM webmentions_sent WHERE source = ? AND target = ?", (source, target)
        )
        return None if row is None else (row[0], row[1], row[2])


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
