"""Domain blocklists imported from Mastodon's CSV export, uploaded or fetched from a URL the author gives (through
the SSRF guard), and re-synced: domains added since are blocked, domains the list dropped are unblocked unless
they were blocked by hand or by another list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fedblog.protocol.blocklist import BlocklistError, parse_mastodon_blocklist
from fedblog.services.http import FetchError, followed, get_http
from fedblog.store.blocklists import BlocklistStore
from fedblog.store.blocks import BlockStore
from fedblog.store.followers import FollowerStore

if TYPE_CHECKING:
    from fedblog.context import Context

UPLOAD_SOURCE = "upload"
MAX_LIST_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class SyncResult:
    listed: int
    added: int
    removed: int
    skipped: int
    followers_removed: int


async def sync_blocklist(ctx: Context, source: str, text: str) -> SyncResult:
    """Block the list's domains and remember them under `source`; raises BlocklistError for a file that is not
    a blocklist (nothing changes then)."""
    parsed = parse_mastodon_blocklist(text)
    lists, blocks = BlocklistStore(ctx.db), BlockStore(ctx.db)
    previous = await lists.entries(source)
    others = await lists.entries_of_other_sources(source)
    blocked = {value for kind, value in await blocks.list_all() if kind == "domain"}
    listed = set(parsed.domains)
    to_add = [domain for domain in parsed.domains if domain not in blocked]
    to_remove = sorted((previous - listed) - others)
    owned = (previous & listed) | set(to_add)
    async with ctx.db.transaction() as conn:
        for domain in to_add:
            await blocks.add(conn, "domain", domain)
        for domain in to_remove:
            await blocks.remove(conn, "domain", domain)
        await lists.replace(conn, source, owned)
    return SyncResult(
        listed=len(listed),
        added=len(to_add),
        removed=len(to_remove),
        skipped=parsed.skipped,
        followers_removed=await remove_blocked_followers(ctx) if to_add else 0,
    )


async def remove_blocked_followers(ctx: Context) -> int:
    followers, blocks = FollowerStore(ctx.db), BlockStore(ctx.db)
    removed = 0
    for follower in await followers.list_by_status(None, limit=100_000):
        if await blocks.is_blocked(follower.actor_id):
            async with ctx.db.transaction() as conn:
                removed += int(await followers.remove(conn, follower.actor_id))
    return removed


async def fetch_blocklist(ctx: Context, url: str) -> str:
    """The list at `url` as text: http(s) only, every hop through the SSRF guard, at most MAX_LIST_BYTES."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise FetchError("expected an http(s) URL")
    http = get_http(ctx)
    headers = {"Accept": "text/csv, text/plain;q=0.9, */*;q=0.1"}
    async with followed(lambda hop: http.request("GET", hop, headers), url) as (_final, response):
        if response.status != 200:
            raise FetchError(f"HTTP {response.status}", status=response.status)
        data = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            data += chunk
            if len(data) > MAX_LIST_BYTES:
                raise FetchError("the list is larger than 4 MB")
        return bytes(data).decode("utf-8", "replace")


async def resync(ctx: Context, url: str) -> SyncResult:
    """Fetch the list again and sync it (the network first, then one transaction)."""
    return await sync_blocklist(ctx, url, await fetch_blocklist(ctx, url))


async def list_sources(ctx: Context) -> list[tuple[str, str, int]]:
    return await BlocklistStore(ctx.db).sources()


__all__ = ["BlocklistError", "FetchError", "SyncResult", "list_sources", "resync", "sync_blocklist"]
