"""Quotes of posts the blog authorized (services/quotes.py), with the faces to show (from the remote actor cache)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fedblog.clock import to_text
from fedblog.store.db import Connection, Database

ACCEPTED, REVOKED = "accepted", "revoked"


@dataclass(frozen=True)
class Quote:
    id: int
    post_id: int
    quote_id: str  # the quoting post
    quote_url: str | None
    actor_id: str
    token: str
    state: str
    name: str
    handle: str | None
    icon_url: str | None
    profile_url: str | None
    author_id: int | None  # their comment_authors row: the face the blog serves (/faces/remote/<id>)


_SELECT = (
    "SELECT q.id, q.post_id, q.quote_id, q.quote_url, q.actor_id, q.token, q.state, COALESCE(a.name, ''), a.handle, "
    "a.icon_url, a.url, ca.id FROM quotes q LEFT JOIN remote_actors a ON a.id = q.actor_id "
    "LEFT JOIN comment_authors ca ON ca.actor_id = q.actor_id"
)


class QuoteStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def accept(
        self, conn: Connection, post_id: int, quote_id: str, quote_url: str | None, actor_id: str, request_id: str,
        token: str, now: datetime,
    ) -> str:  # fmt: skip
        """Record the authorized quote; its stamp's token (the one granted before, when the request comes again)."""
        await conn.execute(
            "INSERT INTO quotes (post_id, quote_id, quote_url, actor_id, request_id, token, state, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'accepted', ?) ON CONFLICT (quote_id) DO UPDATE SET "
            "request_id = excluded.request_id, quote_url = excluded.quote_url",
            (post_id, quote_id, quote_url, actor_id, request_id, token, to_text(now)),
        )
        return str(await conn.fetch_value("SELECT token FROM quotes WHERE quote_id = ?", (quote_id,)))

    async def get_by_token(self, token: str) -> Quote | None:
        row = await self.db.fetch_one(f"{_SELECT} WHERE q.token = ?", (token,))
        return None if row is None else Quote(*row)

    async def get(self, quote_row_id: int) -> Quote | None:
        row = await self.db.fetch_one(f"{_SELECT} WHERE q.id = ?", (quote_row_id,))
        return None if row is None else Quote(*row)

    async def get_by_quote_id(self, quote_id: str) -> Quote | None:
        row = await self.db.fetch_one(f"{_SELECT} WHERE q.quote_id = ?", (quote_id,))
        return None if row is None else Quote(*row)

    async def revoke(self, conn: Connection, quote_row_id: int, now: datetime) -> None:
        await conn.execute(
            "UPDATE quotes SET state = 'revoked', revoked_at = ? WHERE id = ?", (to_text(now), quote_row_id)
        )

    async def remove(self, conn: Connection, quote_id: str) -> None:
        """The quoting post was deleted by its author."""
        await conn.execute("DELETE FROM quotes WHERE quote_id = ?", (quote_id,))

    async def remove_by_actor(self, conn: Connection, actor_id: str) -> None:
        await conn.execute("DELETE FROM quotes WHERE actor_id = ?", (actor_id,))

    async def list_for_post(self, post_id: int, limit: int = 40) -> list[Quote]:
        rows = await self.db.fetch_all(
            f"{_SELECT} WHERE q.post_id = ? AND q.state = 'accepted' ORDER BY q.created_at, q.id LIMIT ?",
            (post_id, limit),
        )
        return [Quote(*row) for row in rows]

    async def count_for_post(self, post_id: int) -> int:
        value = await self.db.fetch_value(
            "SELECT COUNT(*) FROM quotes WHERE post_id = ? AND state = 'accepted'", (post_id,)
        )
        return int(value or 0)

    async def list_all(self, limit: int = 200) -> list[Quote]:
        rows = await self.db.fetch_all(f"{_SELECT} ORDER BY q.created_at DESC, q.id DESC LIMIT ?", (limit,))
        return [Quote(*row) for row in rows]
