"""The remote_actors table: cached remote actors and their public keys."""

from __future__ import annotations

from fedblog.models import RemoteActor
from fedblog.store.db import Database


class ActorStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get_actor(self, actor_id: str) -> RemoteActor | None:
        raise NotImplementedError

    async def get_actor_by_key_id(self, key_id: str) -> RemoteActor | None:
        raise NotImplementedError

    async def upsert_actor(self, actor: RemoteActor) -> None:
        raise NotImplementedError

    async def delete_actor(self, actor_id: str) -> None:
        raise NotImplementedError
