"""ActivityPub representations: the actor (and its HTML profile on the same URL), Notes, collections,
activities. Every AS2 answer is `application/activity+json` with `Vary: Accept`, served with 200 at its id.

In authorized-fetch mode, everything but the actor document needs a signed GET: the actor stays public so
that a peer can fetch our key to check our own signed requests without a fetch loop.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from fedblog.models import Post
from fedblog.protocol.activitystreams import AS_CONTEXT
from fedblog.protocol.actors import profile_fields
from fedblog.protocol.ids import parse_positive_int
from fedblog.protocol.images import absolute_url
from fedblog.protocol.notes import post_to_note, tombstone
from fedblog.protocol.ordered_collections import ordered_collection, ordered_collection_page
from fedblog.protocol.webfinger import subject
from fedblog.rendering import plain_text_to_html
from fedblog.services.blocks import is_blocked
from fedblog.services.comment_federation import conversation_ids, post_reply_ids
from fedblog.services.federation import blog_actor, outbox_items, outbox_size, sent_activity
from fedblog.services.followers import FollowerService
from fedblog.services.followers_sync import followers_on_host_of, partial_collection_url
from fedblog.services.media import MediaService
from fedblog.services.quotes import authorization_document
from fedblog.services.verification import Rejected, verify_inbound
from fedblog.web.keys import get_context
from fedblog.web.middleware import error_page, not_found_answers
from fedblog.web.negotiation import AS2_CONTENT_TYPE, wants_activity_json
from fedblog.web.page_cache import cached
from fedblog.web.render import render_html

PAGE_SIZE = 20
RECENT_POSTS = 5


def as2_response(data: dict[str, Any], status: int = 200) -> web.Response:
    body = json.dumps(data, ensure_ascii=False).encode()
    return web.Response(body=body, status=status, headers={"Content-Type": AS2_CONTENT_TYPE, "Vary": "Accept"})


def json_error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status, headers={"Vary": "Accept"})


async def signed_fetch_refusal(request: web.Request) -> web.Response | None:
    """None when the request may see AS2 data; else the 401/403 to answer (authorized-fetch mode only)."""
    ctx = get_context(request)
    if not ctx.settings.federation.authorized_fetch:
        return None
    verdict = await verify_inbound(ctx, method="GET", path_qs=request.path_qs, headers=request.headers, body=None)
    if isinstance(verdict, Rejected):
        return json_error(401 if verdict.status != 403 else 403, verdict.reason)
    if await is_blocked(ctx, verdict.actor_id) or await is_blocked(ctx, verdict.key_id):
        return json_error(403, "blocked")
    return None


def protected(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Callable[..., Any]:
    async def wrapper(request: web.Request) -> web.StreamResponse:
        return await signed_fetch_refusal(request) or await handler(request)

    return wrapper


def no_csrf_token() -> str:
    return ""  # AS2 documents carry no form, so no per-visitor token


async def note_response(
    request: web.Request, slug: str, load_post: Callable[[], Awaitable[Post]]
) -> web.StreamResponse:
    """The post as an AS2 Note; the blog's post handler calls this when the client wants activity+json.
    Cached like the pages, and looked up in the cache before the post is loaded: right after publishing, every
    follower's server fetches it at once."""
    refusal = await signed_fetch_refusal(request)
    if refusal is not None:
        return refusal
    ctx = get_context(request)

    async def build() -> web.Response:
        post = await load_post()
        images = await MediaService(ctx).image_facts(post)
        return as2_response(
            post_to_note(ctx.urls, post, images=images, quote_policy=ctx.settings.federation.quote_policy)
        )

    return await cached(request, f"/posts/{slug}#as2", build, no_csrf_token)


# --- the actor and its profile page --------------------------------------------------------------------


async def actor_json(request: web.Request) -> dict[str, Any]:
    return await blog_actor(get_context(request))


async def profile_page(request: web.Request) -> web.Response:
    ctx = get_context(request)
    author = ctx.settings.author
    response = render_html(
        request,
        "blog/profile.html",
        display_name=author.display_name or author.username,
        bio_html=plain_text_to_html(author.bio) if author.bio else "",
        avatar=absolute_url(ctx.urls, author.avatar) if author.avatar else None,
        handle="@" + subject(ctx.urls).removeprefix("acct:"),
        links=[(f["name"], f["value"]) for f in profile_fields(author.links)],
        rel_me=[line.partition("=")[2].strip() for line in author.links],
        recent_posts=await ctx.posts.list_published(RECENT_POSTS),
        followers_count=await FollowerService(ctx).count(),
        manual=ctx.settings.federation.manually_approves_followers,
    )
    response.headers["Vary"] = "Accept"
    return response


async def actor(request: web.Request) -> web.StreamResponse:
    """/actor: the Person for servers, the profile page for browsers (never a redirect)."""
    if wants_activity_json(request):

        async def build() -> web.Response:
            return as2_response(await actor_json(request))

        return await cached(request, "/actor#as2", build, no_csrf_token)
    return await profile_page(request)


async def profile(request: web.Request) -> web.StreamResponse:
    """/@username: the profile page; servers asking for AS2 get the actor, whose id is /actor."""
    ctx = get_context(request)
    if request.match_info["username"].lower() != ctx.urls.username.lower():
        raise web.HTTPNotFound()
    return await actor(request)


# --- collections ---------------------------------------------------------------------------------------


def page_of(request: web.Request) -> int | None:
    text = request.query.get("page")
    if text is None:
        return None
    number = parse_positive_int(text, 1_000_000)
    if number is None:
        raise web.HTTPNotFound()
    return number


def with_page(url: str, page: int) -> str:
    return f"{url}?page={page}"


async def paged_collection(
    request: web.Request,
    collection_id: str,
    total: int,
    load: Callable[[int, int], Awaitable[list[Any]]],
    owner: str | None = None,
) -> web.Response:
    """The collection (totalItems, first, last) without ?page, one OrderedCollectionPage with ?page=N; `owner`,
    when given, is the collection's `attributedTo` (who answers for a conversation, FEP-7888)."""
    page = page_of(request)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page is None:
        collection = ordered_collection(
            collection_id, total, with_page(collection_id, 1), with_page(collection_id, pages)
        )
        if owner is not None:
            collection["attributedTo"] = owner
        return as2_response(collection)
    if page > pages:
        raise web.HTTPNotFound()
    items = await load(PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return as2_response(
        ordered_collection_page(
            with_page(collection_id, page),
            collection_id,
            items,
            with_page(collection_id, page + 1) if page < pages else None,
            with_page(collection_id, page - 1) if page > 1 else None,
            total,
        )
    )


async def outbox(request: web.Request) -> web.Response:
    ctx = get_context(request)

    async def load(limit: int, offset: int) -> list[Any]:
        return await outbox_items(ctx, limit, offset)

    return await paged_collection(request, ctx.urls.outbox(), await outbox_size(ctx), load)


async def followers(request: web.Request) -> web.Response:
    ctx = get_context(request)
    service = FollowerService(ctx)
    return await paged_collection(request, ctx.urls.followers(), await service.count(), service.accepted_ids)


async def followers_synchronization(request: web.Request) -> web.Response:
    """FEP-8fcf's partial followers collection: the accepted followers on the signer's own host, to a signed GET
    only (whatever federation.authorized_fetch says: it tells a server which of its accounts follow the blog)."""
    ctx = get_context(request)
    verdict = await verify_inbound(ctx, method="GET", path_qs=request.path_qs, headers=request.headers, body=None)
    if isinstance(verdict, Rejected):
        return json_error(401 if verdict.status != 403 else 403, verdict.reason)
    if await is_blocked(ctx, verdict.actor_id):
        return json_error(403, "blocked")
    items = await followers_on_host_of(ctx, verdict.actor_id)
    collection = ordered_collection(partial_collection_url(ctx), len(items), None)
    collection["orderedItems"] = items
    return as2_response(collection)


async def following(request: web.Request) -> web.Response:
    ctx = get_context(request)

    async def nothing(limit: int, offset: int) -> list[Any]:
        return []

    return await paged_collection(request, ctx.urls.following(), 0, nothing)


async def featured(request: web.Request) -> web.Response:
    """Pinned posts: none (the collection exists because Mastodon fetches it)."""
    collection = ordered_collection(get_context(request).urls.featured(), 0, None)
    collection["orderedItems"] = []
    return as2_response(collection)


async def replies(request: web.Request) -> web.Response:
    """Every approved public comment of the post (the whole thread, so that crawlers see all of it), as ids:
    remote ones by their own id, ours by /comments/N. Each comment's own replies are at /comments/N/replies."""

    ctx = get_context(request)
    post = await ctx.posts.get_post_by_slug(request.match_info["slug"])
    if post is None:
        raise web.HTTPNotFound()
    ids = await post_reply_ids(ctx, post.id)

    async def load(limit: int, offset: int) -> list[Any]:
        return list(ids[offset : offset + limit])

    total = len(ids)
    return await paged_collection(request, ctx.urls.replies(post.slug), total, load)


async def conversation(request: web.Request) -> web.Response:
    """The post's conversation, the `context` of its Note and of every comment Note (FEP-7888): the post, then
    every approved public comment in order, so that another server can backfill the whole thread from it."""
    ctx = get_context(request)
    post = await ctx.posts.get_post_by_slug(request.match_info["slug"])
    if post is None:
        raise web.HTTPNotFound()
    ids = await conversation_ids(ctx, post)

    async def load(limit: int, offset: int) -> list[Any]:
        return list(ids[offset : offset + limit])

    return await paged_collection(request, ctx.urls.conversation(post.slug), len(ids), load, owner=ctx.urls.actor())


async def activity(request: web.Request) -> web.Response:
    """Every activity the blog sent dereferences at its id."""
    ctx = get_context(request)
    activity_id = ctx.urls.activity(request.match_info["kind"], request.match_info["token"])
    found = await sent_activity(ctx, activity_id)
    if found is None:
        raise web.HTTPNotFound()
    return as2_response(found)


async def tombstone_answer(request: web.Request) -> web.StreamResponse | None:
    """A GET of a deleted or unpublished post's address answers 410 Gone instead of 404: a Tombstone for AS2
    clients, the "gone" page for browsers (a post published again answers 200: its tombstone is removed)."""
    if request.method not in ("GET", "HEAD"):
        return None
    ctx = get_context(request)
    object_id = ctx.urls.absolute(request.rel_url.raw_path)
    found = await ctx.posts.get_tombstone(object_id)
    if found is None:
        return None
    if not wants_activity_json(request):
        return error_page(request, web.HTTPGone())
    former_type, deleted_at = found
    return as2_response({"@context": AS_CONTEXT, **tombstone(object_id, former_type, deleted_at)}, 410)


async def quote_stamp(request: web.Request) -> web.Response:
    """A QuoteAuthorization the blog granted (FEP-044f); 404 once revoked."""
    document = await authorization_document(get_context(request), request.match_info["token"])
    if document is None:
        raise web.HTTPNotFound()
    return as2_response(document)


def setup(app: web.Application) -> None:
    not_found_answers(app).append(tombstone_answer)
    app.router.add_get("/actor", actor, name="actor")
    app.router.add_get("/@{username}", profile, name="profile")
    app.router.add_get("/actor/outbox", protected(outbox), name="outbox")
    app.router.add_get("/actor/followers", protected(followers), name="followers")
    app.router.add_get("/actor/followers_synchronization", followers_synchronization, name="followers_sync")
    app.router.add_get("/actor/following", protected(following), name="following")
    app.router.add_get("/actor/featured", protected(featured), name="featured")
    app.router.add_get("/posts/{slug}/replies", protected(replies), name="replies")
    app.router.add_get("/posts/{slug}/context", protected(conversation), name="conversation")
    app.router.add_get("/activities/{kind}/{token}", protected(activity), name="activity")
    app.router.add_get(r"/quotes/{token:[A-Za-z0-9_-]{1,64}}", protected(quote_stamp), name="quote_stamp")
