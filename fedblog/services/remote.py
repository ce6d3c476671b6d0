"""Remote actors and their keys: fetched (signed), checked, cached in the remote_actors table."""

from __future__ import annotations

from typing import Any

from fedblog.models import RemoteActor


class RemoteActors:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    async def get_actor(self, actor_id: str, *, refresh: bool = False) -> RemoteActor:
        raise NotImplementedError

    async def get_public_key(self, key_id: str, *, refresh: bool = False) -> tuple[str, str]:
        raise NotImplementedError

    async def fetch_object(self, url: str) -> dict[str, Any]:
        raise NotImplementedError
