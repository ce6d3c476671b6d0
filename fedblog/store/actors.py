"""The remote_actors table: cached remote actors and their public keys."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from fedblog.clock import from_text, to_text, utcnow
from fedblog.models import RemoteActor
from fedblog.store.db import Connection, Database, Row, SyncConnection

# The fetched_at of a retired actor: older than any cache's time to live, so the next use fetches it again.
RETIRED_AT = "1970-01-01T00:00:00Z"


@dataclass(frozen=True, slots=True)
class KeyStamp:
    """A key as the database holds it: its owner, the owner's fetched_at (as stored) and the key itself."""

    actor_id: str
    fetched_at: str
    public_key_pem: str | None


@dataclass(frozen=True, slots=True)
class AssertionKeys:
    """An actor's FEP-8b32 assertionMethod Multikeys (key id → publicKeyMultibase) and when they were read."""

    keys: dict[str, str]
    read_at: datetime


_COLUMNS = "id, type, inbox, shared_inbox, handle, name, icon_url, url, public_key_id, public_key_pem, fetched_at"


class ActorStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get_actor(self, actor_id: str) -> RemoteActor | None:
        row = await self.db.fetch_one(f"SELECT {_COLUMNS} FROM remote_actors WHERE id = ?", (actor_id,))
        return _actor(row) if row else None

    async def get_actor_by_key_id(self, key_id: str) -> RemoteActor | None:
        row = await self.db.fetch_one(
            f"SELECT {_COLUMNS} FROM remote_actors WHERE public_key_id = ? ORDER BY fetched_at DESC LIMIT 1",
            (key_id,),
        )
        return _actor(row) if row else None

    async def upsert_actor(self, actor: RemoteActor) -> None:
        """Insert or update the actor, in one trip shared with concurrent writes (group commit): the first
        requests from many new accounts each bring an actor to store, alongside the replies being stored."""
        await self.db.run_transaction(lambda raw: _upsert_actor_sync(raw, actor))

    async def retire_actor(self, conn: Connection, actor_id: str, *, key_gone: bool) -> None:
        """The actor announced a change (Update) or its end (Delete): its row is stale, so the next use fetches it
        again; with `key_gone` its key is dropped too, and verifies nothing more until fetched anew. Its assertion
        keys go as well (read again from its document at the next proof)."""
        await conn.execute(
            "UPDATE remote_actors SET fetched_at = ?, public_key_pem = CASE WHEN ? = 1 THEN NULL "
            "ELSE public_key_pem END WHERE id = ?",
            (RETIRED_AT, 1 if key_gone else 0, actor_id),
        )
        await conn.execute("DELETE FROM actor_assertion_keys WHERE actor_id = ?", (actor_id,))

    async def assertion_keys(self, actor_id: str) -> AssertionKeys | None:
        """The actor's FEP-8b32 keys as some process last read them from its document (None: not read, or retired)."""
        row = await self.db.fetch_one("SELECT keys, read_at FROM actor_assertion_keys WHERE actor_id = ?", (actor_id,))
        if row is None:
            return None
        read_at = from_text(row[1])
        assert read_at is not None
        return AssertionKeys(json.loads(row[0]), read_at)

    async def keep_assertion_keys(self, actor_id: str, keys: Mapping[str, str], read_at: datetime) -> None:
        """The keys just read from the actor's document, for every process (one trip, in the group commit)."""
        row = (actor_id, json.dumps(dict(keys), sort_keys=True), to_text(read_at))

        def keep(raw: SyncConnection) -> None:
            raw.execute(
                "INSERT INTO actor_assertion_keys (actor_id, keys, read_at) VALUES (?, ?, ?) "
                "ON CONFLICT (actor_id) DO UPDATE SET keys = excluded.keys, read_at = excluded.read_at",
                row,
            )

        await self.db.run_transaction(keep)

    @staticmethod
    def key_stamp_sync(raw: SyncConnection, key_id: str) -> KeyStamp | None:
        """What the database holds for a key now, in plain calls for the inbox's preflight: a process's cached
        copy is judged against it (another process may have fetched it again, or retired it)."""
        row = raw.execute(
            "SELECT id, fetched_at, public_key_pem FROM remote_actors WHERE public_key_id = ? "
            "ORDER BY fetched_at DESC LIMIT 1",
            (key_id,),
        ).fetchone()
        return KeyStamp(row[0], row[1], row[2]) if row else None

    async def delete_actor(self, actor_id: str) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("DELETE FROM remote_actors WHERE id = ?", (actor_id,))


def _upsert_actor_sync(raw: SyncConnection, actor: RemoteActor) -> None:
    # A key id belongs to one actor: drop it from any other row that still claims it (rotation, moves).
    raw.execute(
        "UPDATE remote_actors SET public_key_id = NULL, public_key_pem = NULL WHERE public_key_id = ? AND id != ?",
        (actor.public_key_id, actor.id),
    )
    raw.execute(
        f"INSERT INTO remote_actors ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET type = excluded.type, inbox = excluded.inbox, "
        "shared_inbox = excluded.shared_inbox, handle = excluded.handle, name = excluded.name, "
        "icon_url = excluded.icon_url, url = excluded.url, public_key_id = excluded.public_key_id, "
        "public_key_pem = excluded.public_key_pem, fetched_at = excluded.fetched_at",
        (
            actor.id,
            actor.type,
            actor.inbox,
            actor.shared_inbox,
            actor.handle,
            actor.name,
            actor.icon_url,
            actor.url,
            actor.public_key_id,
            actor.public_key_pem,
            to_text(actor.fetched_at),
        ),
    )


def _actor(row: Row) -> RemoteActor:
    return RemoteActor(
        id=row["id"],
        type=row["type"],
        inbox=row["inbox"],
        shared_inbox=row["shared_inbox"],
        handle=row["handle"],
        name=row["name"],
        icon_url=row["icon_url"],
        url=row["url"],
        public_key_id=row["public_key_id"],
        public_key_pem=row["public_key_pem"],
        fetched_at=from_text(row["fetched_at"]) or utcnow(),
    )
