"""Blocklists of domains and accounts: a blocked source's follows are refused and its activities dropped.

The inbox asks `is_blocked` before verifying anything (403); the conversation handlers ask again for the authors
of objects they fetch (an allowed actor may reply inside a thread started by a blocked one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fedblog.store.blocks import BlockStore
from fedblog.store.followers import FollowerStore

if TYPE_CHECKING:
    from fedblog.context import Context

_DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
)


class BlockError(ValueError):
    """Not a domain nor an actor URL; the message says what is expected."""


@dataclass(frozen=True)
class Block:
    kind: str  # "domain" or "actor"
    value: str


async def is_blocked(ctx: Context, actor_id: str) -> bool:
    """True if this actor, or its domain or a parent domain, is blocked."""
    return await BlockStore(ctx.db).is_blocked(actor_id)


def parse_block(text: str) -> Block:
    """`example.com` (a domain and its subdomains) or `https://example.com/users/x` (one account)."""
    value = text.strip()
    if value.startswith(("https://", "http://")):
        parts = urlsplit(value)
        if not parts.hostname or parts.username or any(c.isspace() for c in value):
            raise BlockError(f"{value!r} is not a usable actor URL")
        return Block("actor", value)
    domain = value.lower().rstrip(".")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise BlockError(f"{value!r} is not a domain name") from None
    if not _DOMAIN_RE.match(domain):
        raise BlockError(f"{value!r} is neither a domain (example.com) nor an actor URL (https://…)")
    return Block("domain", domain)


async def list_blocks(ctx: Context) -> list[Block]:
    return [Block(kind, value) for kind, value in await BlockStore(ctx.db).list_all()]


async def add_block(ctx: Context, text: str) -> tuple[Block, int]:
    """Block a domain or an actor; their followers are removed at once. Returns (block, followers removed)."""
    block = parse_block(text)
    store, followers = BlockStore(ctx.db), FollowerStore(ctx.db)
    async with ctx.db.transaction() as conn:
        await store.add(conn, block.kind, block.value)
    removed = 0
    for follower in await followers.list_by_status(None, limit=100_000):
        if await store.is_blocked(follower.actor_id):
            async with ctx.db.transaction() as conn:
                removed += int(await followers.remove(conn, follower.actor_id))
    return block, removed


async def remove_block(ctx: Context, text: str) -> bool:
    block = parse_block(text)
    store = BlockStore(ctx.db)
    existing = {(b.kind, b.value) for b in await list_blocks(ctx)}
    if (block.kind, block.value) not in existing:
        return False
    async with ctx.db.transaction() as conn:
        await store.remove(conn, block.kind, block.value)
    return True
