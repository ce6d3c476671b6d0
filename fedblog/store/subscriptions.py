"""Commenters' e-mail subscriptions: subscribers (double opt-in), their subscriptions, and the queue of their mails.

What is new to announce comes from comment_publications (filled by triggers, migration 040) read past a high-water
mark kept by store/notifications.py; this module turns those into queued mails and tracks each mail's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fedblog.clock import from_text, to_text
from fedblog.store.claims import claiming
from fedblog.store.db import Connection, Database, Row


@dataclass(frozen=True)
class Subscriber:
    id: int
    email: str
    confirmed_at: datetime | None
    confirmation_sent_at: datetime | None


@dataclass(frozen=True)
class Subscription:
    id: int
    subscriber_id: int
    kind: str  # 'replies' or 'post'
    post_id: int
    comment_id: int | None
    last_digest_at: datetime | None
    post_slug: str
    post_title: str


@dataclass(frozen=True)
class QueuedMail:
    id: int
    subscriber_id: int
    subscription_id: int | None
    kind: str  # 'confirm', 'reply', 'digest'
    comment_id: int | None
    attempts: int


@dataclass(frozen=True)
class Publication:
    id: int
    comment_id: int
    stamp: str  # as store/notifications.py stamps the stream's rows


_MAIL_COLUMNS = "id, subscriber_id, subscription_id, kind, comment_id, attempts"
# Due and not leased (a lapsed lease is a killed worker's); a digest only by its subscription's oldest pending row;
# and no address another worker holds mails of now: one worker at a time sends to an address, so the per-address
# limit, read before each send, holds across workers. On PostgreSQL the claim locks the address's row too, so a
# concurrent claim passes over it.
_DUE = (
    "SELECT m.id, m.subscriber_id, m.subscription_id, m.kind, m.comment_id, m.attempts FROM subscriber_mails m "
    "JOIN subscribers s ON s.id = m.subscriber_id WHERE m.status = 'pending' AND m.next_attempt_at <= ? "
    "AND (m.locked_until IS NULL OR m.locked_until <= ?) AND (m.kind != 'digest' OR m.id = (SELECT MIN(h.id) "
    "FROM subscriber_mails h WHERE h.subscription_id = m.subscription_id AND h.kind = 'digest' "
    "AND h.status = 'pending')) AND NOT EXISTS (SELECT 1 FROM subscriber_mails o WHERE o.subscriber_id = "
    "m.subscriber_id AND o.locked_until > ? AND o.locked_by != ?) ORDER BY m.id LIMIT ?"
)


def _queued(row: Row) -> QueuedMail:
    return QueuedMail(
        row["id"], row["subscriber_id"], row["subscription_id"], row["kind"], row["comment_id"], row["attempts"]
    )


def _subscriber(row: Row) -> Subscriber:
    return Subscriber(row["id"], row["email"], from_text(row["confirmed_at"]), from_text(row["confirmation_sent_at"]))


_SUBSCRIPTION_SELECT = (
    "SELECT s.*, p.slug AS post_slug, p.title AS post_title FROM subscriptions s JOIN posts p ON p.id = s.post_id"
)


def _subscription(row: Row) -> Subscription:
    return Subscription(
        row["id"],
        row["subscriber_id"],
        row["kind"],
        row["post_id"],
        row["comment_id"],
        from_text(row["last_digest_at"]),
        row["post_slug"],
        row["post_title"],
    )


class SubscriptionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # Subscribing (inside the comment's own transaction)
    async def subscribe(
        self, conn: Connection, email: str, kind: str, post_id: int, comment_id: int | None, now: datetime
    ) -> Subscriber:
        await conn.execute(
            "INSERT INTO subscribers (email, created_at) VALUES (?, ?) ON CONFLICT (email) DO NOTHING",
            (email, to_text(now)),
        )
        subscriber = _subscriber(await conn.fetch_one("SELECT * FROM subscribers WHERE email = ?", (email,)))  # type: ignore[arg-type]
        await conn.execute(
            "INSERT INTO subscriptions (subscriber_id, kind, post_id, comment_id, created_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (subscriber.id, kind, post_id, comment_id if kind == "replies" else None, to_text(now)),
        )
        return subscriber

    async def queue_confirmation(self, conn: Connection, subscriber_id: int, now: datetime) -> None:
        await conn.execute(
            "UPDATE subscribers SET confirmation_sent_at = ? WHERE id = ?", (to_text(now), subscriber_id)
        )
        await conn.execute(
            "INSERT INTO subscriber_mails (subscriber_id, kind, next_attempt_at, created_at) "
            "VALUES (?, 'confirm', ?, ?)",
            (subscriber_id, to_text(now), to_text(now)),
        )

    # Reading
    async def get_subscriber(self, subscriber_id: int) -> Subscriber | None:
        row = await self.db.fetch_one("SELECT * FROM subscribers WHERE id = ?", (subscriber_id,))
        return None if row is None else _subscriber(row)

    async def get_subscription(self, subscription_id: int) -> Subscription | None:
        row = await self.db.fetch_one(f"{_SUBSCRIPTION_SELECT} WHERE s.id = ?", (subscription_id,))
        return None if row is None else _subscription(row)

    async def subscriptions_of(self, subscriber_id: int) -> list[Subscription]:
        rows = await self.db.fetch_all(
            f"{_SUBSCRIPTION_SELECT} WHERE s.subscriber_id = ? ORDER BY s.id", (subscriber_id,)
        )
        return [_subscription(row) for row in rows]

    async def listeners_of(self, post_id: int, parent_id: int | None) -> list[tuple[Subscription, Subscriber]]:
        """Confirmed subscriptions a new comment concerns: replies to its parent, new comments of its post."""
        rows = await self.db.fetch_all(
            "SELECT s.*, p.slug AS post_slug, p.title AS post_title, b.email, b.confirmed_at, b.confirmation_sent_at "
            "FROM subscriptions s JOIN posts p ON p.id = s.post_id"
            " JOIN subscribers b ON b.id = s.subscriber_id WHERE b.confirmed_at IS NOT NULL AND "
            "((s.kind = 'replies' AND s.comment_id = ?) OR (s.kind = 'post' AND s.post_id = ?)) ORDER BY s.id",
            (parent_id if parent_id is not None else -1, post_id),
        )
        return [
            (
                _subscription(row),
                Subscriber(
                    row["subscriber_id"],
                    row["email"],
                    from_text(row["confirmed_at"]),
                    from_text(row["confirmation_sent_at"]),
                ),
            )
            for row in rows
        ]

    # Changing
    async def confirm(self, subscriber_id: int, now: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.execute(
                "UPDATE subscribers SET confirmed_at = COALESCE(confirmed_at, ?) WHERE id = ?",
                (to_text(now), subscriber_id),
            )

    async def stop(self, subscription_id: int) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM subscriptions WHERE id = ?", (subscription_id,))

    async def stop_all(self, subscriber_id: int) -> None:
        """Every subscription and every pending mail of this address; the address itself is forgotten."""
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM subscribers WHERE id = ?", (subscriber_id,))

    # The publications stream
    async def publications_past(self, after: int, upto: int, limit: int) -> list[Publication]:
        rows = await self.db.fetch_all(
            "SELECT id, comment_id, comment_id || '|' || published_at AS stamp FROM comment_publications "
            "WHERE id > ? AND id <= ? ORDER BY id LIMIT ?",
            (after, upto, limit),
        )
        return [Publication(row["id"], row["comment_id"], row["stamp"]) for row in rows]

    async def queue_announcements(
        self, conn: Connection, mails: list[tuple[int, int, str, int]], now: datetime
    ) -> None:
        """(subscriber, subscription, kind, comment) rows; a comment already queued for a subscription is skipped
        (approved, removed and approved again)."""
        await conn.executemany(
            "INSERT INTO subscriber_mails (subscriber_id, subscription_id, kind, comment_id, "
            "next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(*mail, to_text(now), to_text(now)) for mail in mails],
        )

    async def forget_publications_before(self, conn: Connection, publication_id: int) -> None:
        """Announced rows below the mark are not needed again (the marked row stays: its stamp is checked)."""
        await conn.execute("DELETE FROM comment_publications WHERE id < ?", (publication_id,))

    async def forget_all_publications(self) -> None:
        """Commenters' e-mails are off: nobody reads the publications."""
        if await self.db.fetch_value("SELECT 1 FROM comment_publications LIMIT 1"):
            async with self.db.transaction() as conn:
                await conn.execute("DELETE FROM comment_publications")

    # The mail queue
    async def claim_due(self, now: datetime, holder: str, lease_until: datetime, limit: int) -> list[QueuedMail]:
        """Due mails no live lease holds, leased to `holder` until `lease_until`: no other worker takes them
        meanwhile (on PostgreSQL, rows another claim is taking are skipped). A post's digest is claimed by its
        oldest pending row alone, and sends every pending row of it; an address's mails go to one worker at a time."""
        stamp = to_text(now)
        if not await self.db.fetch_value(_DUE, (stamp, stamp, stamp, holder, 1)):
            return []  # idle: no write transaction
        async with self.db.transaction() as conn:
            claim = claiming(_DUE, self.db.dialect, of="m, s")
            rows = await conn.fetch_all(claim, (stamp, stamp, stamp, holder, limit))
            await conn.executemany(
                "UPDATE subscriber_mails SET locked_until = ?, locked_by = ? WHERE id = ?",
                [(to_text(lease_until), holder, row["id"]) for row in rows],
            )
        return [_queued(row) for row in rows]

    async def release(self, mail_ids: list[int], holder: str) -> None:
        """Claimed but not tried (the round stopped): free for the next claim at once."""
        async with self.db.transaction() as conn:
            await conn.executemany(
                "UPDATE subscriber_mails SET locked_until = NULL, locked_by = NULL WHERE id = ? AND locked_by = ?",
                [(mail_id, holder) for mail_id in mail_ids],
            )

    async def pending_digest(self, subscription_id: int) -> list[QueuedMail]:
        rows = await self.db.fetch_all(
            f"SELECT {_MAIL_COLUMNS} FROM subscriber_mails "
            "WHERE status = 'pending' AND subscription_id = ? AND kind = 'digest' ORDER BY id",
            (subscription_id,),
        )
        return [_queued(row) for row in rows]

    async def sent_since(self, subscriber_id: int, since: datetime) -> list[datetime]:
        """When this address was sent mails since `since`, oldest first (the per-address rate limit)."""
        rows = await self.db.fetch_all(
            "SELECT sent_at FROM subscriber_mails WHERE subscriber_id = ? AND status = 'sent' AND sent_at > ? "
            "ORDER BY sent_at",
            (subscriber_id, to_text(since)),
        )
        return [moment for row in rows if (moment := from_text(row["sent_at"])) is not None]

    async def mark_sent(self, mail_ids: list[int], now: datetime, digest_of: int | None = None) -> None:
        async with self.db.transaction() as conn:
            await conn.executemany(
                "UPDATE subscriber_mails SET status = 'sent', sent_at = ?, last_error = NULL, "
                "locked_until = NULL, locked_by = NULL WHERE id = ?",
                [(to_text(now), mail_id) for mail_id in mail_ids],
            )
            if digest_of is not None:
                await conn.execute(
                    "UPDATE subscriptions SET last_digest_at = ? WHERE id = ?", (to_text(now), digest_of)
                )

    async def drop(self, mail_ids: list[int]) -> None:
        """Nothing to send any more (the comment is gone or hidden, the address was never confirmed)."""
        async with self.db.transaction() as conn:
            await conn.executemany(
                "UPDATE subscriber_mails SET status = 'dropped', locked_until = NULL, locked_by = NULL WHERE id = ?",
                [(mail_id,) for mail_id in mail_ids],
            )

    async def postpone(self, mail_ids: list[int], until: datetime) -> None:
        async with self.db.transaction() as conn:
            await conn.executemany(
                "UPDATE subscriber_mails SET next_attempt_at = ?, locked_until = NULL, locked_by = NULL WHERE id = ?",
                [(to_text(until), mail_id) for mail_id in mail_ids],
            )

    async def record_failure(self, mail_ids: list[int], error: str, until: datetime, give_up: bool) -> None:
        async with self.db.transaction() as conn:
            await conn.executemany(
                "UPDATE subscriber_mails SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, "
                "locked_until = NULL, locked_by = NULL, status = CASE WHEN ? = 1 THEN 'dropped' ELSE status END "
                "WHERE id = ?",
                [(error[:500], to_text(until), int(give_up), mail_id) for mail_id in mail_ids],
            )

    async def mail_states(self) -> dict[str, int]:
        rows = await self.db.fetch_all("SELECT status, COUNT(*) FROM subscriber_mails GROUP BY status")
        return {row[0]: row[1] for row in rows}
