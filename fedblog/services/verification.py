"""Inbound request authentication: key id → remote key → signature check, with one refetch on failure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Verified:
    actor_id: str  # the key's owner: the signer
    key_id: str
    replayed: bool = False  # the same signature was seen within 12 h: acknowledge, do not process


@dataclass(frozen=True)
class Rejected:
    status: int  # 401 signature problems, 400 malformed, 403 blocked
    reason: str


async def verify_inbound(
    ctx: Any, *, method: str, path_qs: str, headers: Mapping[str, str], body: bytes | None
) -> Verified | Rejected:
    raise NotImplementedError
