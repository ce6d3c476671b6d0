"""The remote_actors table: cached remote actors and their public keys."""

from __future__ import annotations

from fedblog.clock import from_text, to_text, utcnow
from fedblog.models import RemoteActor
from fedblog.store.db import Database, Row, SyncConnection

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
