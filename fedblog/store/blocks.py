"""Blocked domains and actors: their requests get 403 and their follows are refused."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

from fedblog.clock import to_text, utcnow
from fedblog.store.db import Connection, Database, SyncConnection


def domain_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _blocked_query(urls: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
    """The query finding a block of any of these actor/key URLs or their domains; None when there is no URL."""
    # The same actors send again and again: their query (the parent domains parsed from each URL) is made once.
    # Only for URLs of a usual length: they come from requests not yet verified, the cache must stay small.
    if sum(len(url) for url in urls) <= _CACHED_URLS_MAX_CHARS:
        return _cached_blocked_query(urls)
    return _make_blocked_query(urls)


_CACHED_URLS_MAX_CHARS = 1024


@functools.lru_cache(maxsize=4096)
def _cached_blocked_query(urls: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
    return _make_blocked_query(urls)


def block_marks(urls: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """What a block of any of these actor/key URLs would be stored as: the URLs, and their domains and parents."""
    actors = [url for url in urls if url]
    domains: set[str] = set()
    for url in actors:
        parts = domain_of(url).split(".")
        domains.update(".".join(parts[i:]) for i in range(len(parts)) if parts[i:])
    return actors, sorted(domains)


def _make_blocked_query(urls: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
    actors, domains = block_marks(urls)
    if not actors:
        return None
    actor_marks = ",".join("?" * len(actors))
    domain_marks = ",".join("?" * len(domains)) or "NULL"
    sql = (
        f"SELECT 1 FROM blocks WHERE (kind = 'actor' AND value IN ({actor_marks})) "
        f"OR (kind = 'domain' AND value IN ({domain_marks})) LIMIT 1"
    )
    return sql, (*actors, *domains)


class BlockStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def is_blocked(self, *urls: str) -> bool:
        """True if any of these actor/key URLs, or its domain (or a parent domain), is blocked."""
        query = _blocked_query(urls)
        return query is not None and await self.db.fetch_value(*query) is not None

    @staticmethod
    def is_blocked_sync(raw: SyncConnection, *urls: str) -> bool:
        """is_blocked() with the raw connection, for Database.run (several reads in one trip)."""
        query = _blocked_query(urls)
        return query is not None and raw.execute(*query).fetchone() is not None

    async def add(self, conn: Connection, kind: str, value: str) -> None:
        await conn.execute(
            "INSERT INTO blocks (kind, value, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (kind, value.lower() if kind == "domain" else value, to_text(utcnow())),
        )

    async def remove(self, conn: Connection, kind: str, value: str) -> None:
        await conn.execute("DELETE FROM blocks WHERE kind = ? AND value = ?", (kind, value))

    async def list_all(self) -> list[tuple[str, str]]:
        rows = await self.db.fetch_all("SELECT kind, value FROM blocks ORDER BY kind, value")
        return [(row[0], row[1]) for row in rows]
