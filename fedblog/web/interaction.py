"""Remote interaction ("Reply from your fediverse account", "Follow"), reactions on the post page, and the
conversation pages of other modules (comment objects, admin mentions and blocks) registered from here."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedblog.models import Post
from fedblog.services.interaction import InteractionError, remote_interaction_url
from fedblog.services.reactions import reactions_for_post
from fedblog.services.thread_placement import local_place
from fedblog.web import comment_objects, conversations_admin
from fedblog.web.keys import CONTEXT_KEY, STATE_KEY, get_context
from fedblog.web.post_page import post_page_extras
from fedblog.web.ratelimit import SharedRateLimiter, client_ip
from fedblog.web.render import render_html

MAX_HANDLE = 300
LOOKUPS_PER_MINUTE = 10


async def interaction_target(request: web.Request, object_url: str) -> tuple[str, str, Post | None] | None:
    """(action, the URL to hand to the visitor's server, the post) for one of our objects, or for following."""
    ctx = get_context(request)
    if not object_url or object_url == ctx.urls.actor():
        return "follow", ctx.urls.actor(), None
    place = await local_place(ctx, object_url)
    if place is None:
        return None
    post = await ctx.posts.get_post_by_id(place.post_id)
    if post is None:
        return None
    if place.parent_id is None:
        return "reply", ctx.urls.note(post.slug), post
    comment = await ctx.comments.get_comment(place.parent_id)
    if comment is None or not comment.visibility.is_shown_publicly or comment.status.value != "approved":
        return None
    return "reply", comment.remote_id or ctx.urls.comment_object(comment.id), post


def render_form(
    request: web.Request,
    target: tuple[str, str, Post | None],
    form_object: str,
    handle: str = "",
    error: str = "",
    status: int = 200,
) -> web.Response:
    """The form again; `form_object` is the URL it was asked for (ours), posted back as is."""
    action, _, post = target
    response = render_html(
        request,
        "blog/interaction.html",
        status=status,
        action=action,
        object_url=form_object,
        target_post=post,
        handle=handle,
        error=error,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def interaction_page(request: web.Request) -> web.Response:
    object_url = "" if request.query.get("follow") else request.query.get("object", "")
    target = await interaction_target(request, object_url)
    if target is None:
        raise web.HTTPNotFound()
    return render_form(request, target, object_url)


def limiter(request: web.Request) -> SharedRateLimiter:
    """Counted in the database: a lookup costs a fetch from the visitor's server, whichever process makes it."""
    state = request.app[STATE_KEY]
    if state.interaction_limiter is None:
        state.interaction_limiter = SharedRateLimiter(
            request.app[CONTEXT_KEY].db, "interaction", LOOKUPS_PER_MINUTE, 60
        )
    return state.interaction_limiter


async def interaction_submit(request: web.Request) -> web.Response:
    """Look the visitor's handle up and send them (303) to their server's page for this object."""
    ctx = get_context(request)
    form = await request.post()
    object_url = str(form.get("object", ""))[:2000]
    handle = str(form.get("handle", ""))[:MAX_HANDLE].strip()
    target = await interaction_target(request, "" if form.get("follow") else object_url)
    if target is None:
        raise web.HTTPNotFound()
    key = client_ip(request)
    if not await limiter(request).allow(key):
        message = ctx.i18n.gettext("Too many lookups: please wait a minute and try again.")
        response = render_form(request, target, object_url, handle, message, status=429)
        response.headers["Retry-After"] = str(await limiter(request).retry_after(key))
        return response
    try:
        url = await remote_interaction_url(ctx, handle, target[0], target[1])
    except InteractionError as error:
        return render_form(request, target, object_url, handle, str(error), status=400)
    # Set as is: HTTPSeeOther would re-normalise the URL and undo the template's percent-encoding.
    return web.Response(status=303, headers={"Location": url, "Cache-Control": "no-store"})


async def reactions_extra(request: web.Request, post: Post) -> dict[str, Any]:
    """The post page's likes and boosts (faces and counts), for blog/_reactions.html."""
    return {"reactions": await reactions_for_post(get_context(request), post.id)}


async def authorize_interaction(request: web.Request) -> web.Response:
    """The WebFinger subscribe template's target. Our own objects open their page; a remote one is explained,
    never redirected to (no open redirect): this blog has one author and does not follow or reply from here."""
    ctx = get_context(request)
    uri = request.query.get("uri", "").strip()[:2000]
    if not uri:
        raise web.HTTPBadRequest(text="missing ?uri=")
    place = await local_place(ctx, uri) if ctx.urls.is_local(uri) else None
    if place is not None:
        post = await ctx.posts.get_post_by_id(place.post_id)
        if post is not None:
            target = ctx.urls.post(post.slug)
            if place.parent_id is not None:
                target = ctx.urls.comment_anchor(post.slug, place.parent_id)
            raise web.HTTPSeeOther(target)
    if uri == ctx.urls.actor() or uri.removeprefix("acct:").lstrip("@") == ctx.urls.handle().lstrip("@"):
        raise web.HTTPSeeOther(ctx.urls.profile())
    link = uri if uri.startswith(("https://", "http://")) else None
    response = render_html(request, "blog/authorize_interaction.html", status=404, uri=uri, link=link)
    response.headers["Cache-Control"] = "no-store"
    return response


def setup(app: web.Application) -> None:
    app.router.add_get("/authorize_interaction", authorize_interaction)
    app.router.add_get("/interact", interaction_page)
    app.router.add_post("/interact", interaction_submit)
    post_page_extras(app).append(reactions_extra)
    comment_objects.setup(app)
    conversations_admin.setup(app)
