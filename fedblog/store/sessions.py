"""Admin sessions: only a hash of the cookie token is stored."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from fedblog.clock import to_text, utcnow
from fedblog.store.db import Database


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, token: str, csrf_token: str, lifetime: timedelta) -> None:
        now = utcnow()
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM admin_sessions WHERE expires_at < ?", (to_text(now),))
            await conn.execute(
                "INSERT INTO admin_sessions (token_hash, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (token_hash(token), csrf_token, to_text(now), to_text(now + lifetime)),
            )

    async def get_csrf_token(self, token: str) -> str | None:
        """The session's CSRF token if the session exists and has not expired."""
        value = await self.db.fetch_value(
            "SELECT csrf_token FROM admin_sessions WHERE token_hash = ? AND expires_at > ?",
            (token_hash(token), to_text(utcnow())),
        )
        return None if value is None else str(value)

    async def delete(self, token: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM admin_sessions WHERE token_hash = ?", (token_hash(token),))
