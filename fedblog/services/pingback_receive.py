"""Receiving pingbacks and trackbacks: checked and queued at once, verified later by the webmention worker.

They share the webmention verification queue (`webmentions_received`, column `protocol`): the same SSRF-guarded
fetch, the same link check (the source must really link to the post), the same per-host backlog limit, the same
moderation. What differs is what the comment shows: WordPress's way, the source page's title as a link and the
words around its link (a trackback brings its own title and excerpt).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from fedblog.clock import utcnow
from fedblog.models import Post, PostKind
from fedblog.protocol import pingback as pb
from fedblog.protocol import webmention as wm
from fedblog.protocol.addresses import hostname_of
from fedblog.protocol.trackback import InvalidTrackback, Trackback
from fedblog.services.webmention_receive import MAX_PENDING_PER_HOST, POST_PATH, post_for_target, wakeup_event
from fedblog.store.blocks import BlockStore
from fedblog.store.webmentions import Claims, WebmentionStore

if TYPE_CHECKING:
    from fedblog.context import Context

PINGBACK, TRACKBACK = "pingback", "trackback"


async def _published_post(ctx: Context, target: str) -> Post:
    """The published post or page a pingback's target names; else the fault that says why not."""
    post = await post_for_target(ctx, target)
    if post is not None:
        return post
    wanted, base = urlsplit(wm.normalize_url(target)), urlsplit(wm.normalize_url(ctx.urls.base))
    if (wanted.scheme, wanted.netloc) != (base.scheme, base.netloc):
        raise pb.PingbackFault(pb.TARGET_NOT_FOUND, "The target URI is not a page of this blog.")
    if POST_PATH.match(wanted.path):
        raise pb.PingbackFault(pb.TARGET_NOT_FOUND, "The target URI names no published post of this blog.")
    raise pb.PingbackFault(pb.TARGET_NOT_A_POST, "The target URI is not a post: only posts take pingbacks.")


async def _queue(
    ctx: Context, source: str, target: str, post: Post, ip: str | None, protocol: str, claims: Claims | None = None
) -> None:
    store = WebmentionStore(ctx.db)
    async with ctx.db.transaction() as conn:
        await store.queue_received(conn, source, target, post.id, ip, utcnow(), protocol, claims)
    wakeup_event(ctx).set()


async def _refused_source(ctx: Context, source: str) -> str | None:
    """Why a source may not ping at all (its own blog, a blocked site, too long a backlog), else None."""
    if ctx.urls.is_local(source):  # the blog's own pages would speak in its name
        return "The source URI must be a page of another site."
    if await BlockStore(ctx.db).is_blocked(source):
        return "Pings from this site are not accepted."
    return None


async def accept_pingback(ctx: Context, source: str, target: str, ip: str | None) -> None:
    """Check a `pingback.ping` and queue its verification; raises PingbackFault with the answer's fault."""
    post = await _published_post(ctx, target)
    refused = await _refused_source(ctx, source)
    if refused is not None:
        raise pb.PingbackFault(pb.ACCESS_DENIED, refused)
    target = wm.normalize_url(target)
    store = WebmentionStore(ctx.db)
    if await store.is_registered(source, target):
        raise pb.PingbackFault(pb.ALREADY_REGISTERED, "The pingback has already been registered.")
    if await store.count_pending_from(hostname_of(source)) >= MAX_PENDING_PER_HOST:
        raise pb.PingbackFault(pb.UPSTREAM_ERROR, "Too many pings from this site are waiting; try again later.")
    await _queue(ctx, source, target, post, ip, PINGBACK)


async def accept_trackback(ctx: Context, post: Post, ping: Trackback, ip: str | None) -> None:
    """Check a trackback to a published post and queue its verification; raises InvalidTrackback."""
    refused = await _refused_source(ctx, ping.url)
    if refused is not None:
        raise InvalidTrackback(refused.replace("source URI", "url"))
    target = wm.normalize_url(ctx.urls.page(post.slug) if post.kind == PostKind.PAGE else ctx.urls.post(post.slug))
    store = WebmentionStore(ctx.db)
    if await store.is_registered(ping.url, target):
        raise InvalidTrackback("This trackback has already been registered.")
    if await store.count_pending_from(hostname_of(ping.url)) >= MAX_PENDING_PER_HOST:
        raise InvalidTrackback("Too many pings from this site are waiting; try again later.")
    await _queue(ctx, ping.url, target, post, ip, TRACKBACK, Claims(ping.title, ping.excerpt, ping.blog_name))
