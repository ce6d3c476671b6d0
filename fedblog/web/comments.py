"""The public comment form: POST /posts/{slug}/comments.

Checks, in order: body size (413, before reading), per-IP rate limit (429 with Retry-After, the form comes back
with what was typed and how long to wait), CSRF token and same origin (403, the form again), honeypot, then the
service's validation (400, each error next to its field). A filled honeypot gets the same redirect as a held comment
but nothing is stored, so a bot learns nothing. Every comment sent is remembered by the writer's browser in a signed
cookie (web/visitor_cookies.py): its held comments show to it alone, and it may edit or delete them for a while.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from urllib.parse import parse_qsl

from aiohttp import web

from fedblog.models import Post
from fedblog.services.comments import CommentForm, CommentsClosed, CommentService
from fedblog.store.db import DatabaseUnreachable, StorageUnavailable
from fedblog.web.csrf import check_token
from fedblog.web.keys import CONTEXT_KEY, SETTINGS_KEY, STATE_KEY, get_context
from fedblog.web.middleware import STORAGE_RETRY_AFTER_SECONDS, storage_unavailable
from fedblog.web.origin_check import posted_from_this_site
from fedblog.web.page_cache import personalize
from fedblog.web.post_page import (
    CSRF_SCOPE,
    HONEYPOT_FIELD,
    FormState,
    csrf_token_factory,
    render_post_page,
    site_secret,
)
from fedblog.web.ratelimit import SharedRateLimiter, client_ip
from fedblog.web.render import render_html
from fedblog.web.visitor_cookies import DETAILS_COOKIE, SavedDetails, forget_details, remember_own_comment, save_details

log = logging.getLogger(__name__)

MAX_FORM_BYTES = 64 * 1024
FORM_FIELDS = ("name", "email", "website", "message", "parent_id", "notify_replies", "notify_post")


def comment_limiter(app: web.Application) -> SharedRateLimiter:
    state = app[STATE_KEY]
    if state.comment_limiter is None:
        state.comment_limiter = SharedRateLimiter(
            app[CONTEXT_KEY].db, "comment", app[SETTINGS_KEY].comments.rate_limit_per_minute, 60
        )
    return state.comment_limiter


async def read_form(request: web.Request) -> dict[str, str]:
    """The url-encoded body, read with a hard size limit (a missing or lying Content-Length changes nothing)."""
    if request.content_type not in ("application/x-www-form-urlencoded", ""):
        raise web.HTTPUnsupportedMediaType(text="The comment form is sent as application/x-www-form-urlencoded.")
    body = await request.content.read(MAX_FORM_BYTES + 1)
    if len(body) > MAX_FORM_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_FORM_BYTES, actual_size=len(body))
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        raise web.HTTPBadRequest(text="The form could not be read.") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)
    return form


async def too_many_requests(request: web.Request, post: Post, state: FormState, retry_after: int) -> web.Response:
    """The form comes back with what was typed, and how long to wait."""
    i18n = get_context(request).i18n
    wait = i18n.ngettext(
        "You have sent several comments in a short time: your comment was not sent yet. "
        "Please wait %(seconds)d second and send it again.",
        "You have sent several comments in a short time: your comment was not sent yet. "
        "Please wait %(seconds)d seconds and send it again.",
        retry_after,
    ) % {"seconds": retry_after}
    response = await form_again(request, post, replace(state, message=wait), status=429)
    response.headers["Retry-After"] = str(retry_after)
    return response


def comments_closed(request: web.Request) -> web.Response:
    message = get_context(request).i18n.gettext("Comments are closed on this post: your comment was not sent.")
    return render_html(request, "errors/error.html", status=403, error=web.HTTPForbidden(), message=message)


async def form_again(request: web.Request, post: Post, state: FormState, status: int) -> web.Response:
    response = await render_post_page(request, post, form=state, status=status)
    response.headers["Cache-Control"] = "private, no-store"
    return personalize(response, csrf_token_factory(request.app))


async def submit_comment(request: web.Request) -> web.StreamResponse:
    if request.content_length is not None and request.content_length > MAX_FORM_BYTES:
        raise web.HTTPRequestEntityTooLarge(max_size=MAX_FORM_BYTES, actual_size=request.content_length)
    ctx = get_context(request)
    try:
        post = await ctx.posts.get_post_by_slug(request.match_info["slug"])
    except StorageUnavailable as error:  # the database cannot even be read: the visitor's text is shown back
        return storage_unavailable(request, error, kept_text=(await read_form(request)).get("message", ""))
    if post is None:
        raise web.HTTPNotFound()
    if not CommentService(ctx).accepts_comments(post):
        return comments_closed(request)
    data = await read_form(request)
    values = CommentForm(**{name: data.get(name, "") for name in FORM_FIELDS})
    remember = bool(data.get("remember"))
    ip = client_ip(request)
    limiter = comment_limiter(request.app)
    if not await limiter.allow(ip):
        state = FormState(values=values, remember=remember)
        return await too_many_requests(request, post, state, await limiter.retry_after(ip))
    token_ok = check_token(site_secret(request.app), CSRF_SCOPE, data.get("csrf_token", ""))
    if not token_ok or not posted_from_this_site(request):
        message = ctx.i18n.gettext("This form has expired. Your comment was not sent: please send it again.")
        return await form_again(request, post, FormState(values=values, message=message, remember=remember), 403)
    if data.get(HONEYPOT_FIELD):
        raise web.HTTPSeeOther(ctx.urls.post(post.slug) + "#comments")

    try:
        result = await CommentService(ctx).submit_web_comment(post, values, ip)
    except CommentsClosed:
        return comments_closed(request)
    except StorageUnavailable as error:
        log.warning("comment on %r not saved: %s", post.slug, error)
        if isinstance(error, DatabaseUnreachable):
            message = ctx.i18n.gettext(
                "The blog cannot reach its database right now. Your comment was not sent: please send it again"
                " in a moment."
            )
        else:
            message = ctx.i18n.gettext(
                "The blog cannot save comments right now (its storage is full). Your comment was not sent: "
                "please send it again later."
            )
        response = await form_again(request, post, FormState(values=values, message=message), status=503)
        response.headers["Retry-After"] = str(STORAGE_RETRY_AFTER_SECONDS)
        return response
    if result.errors or result.comment is None:
        state = FormState(values=values, errors=result.errors, remember=remember)
        return await form_again(request, post, state, status=400)
    comment = result.comment
    if result.held:
        location = ctx.urls.held_comment(post.slug, comment.id)
    else:
        location = ctx.urls.comment_anchor(post.slug, comment.id)
    response = web.Response(status=303, headers={"Location": location})
    remember_own_comment(request, response, comment)
    if remember:
        author = comment.author
        save_details(request, response, SavedDetails(author.name, author.email or "", author.website or ""))
    elif DETAILS_COOKIE in request.cookies:
        forget_details(response)
    return response


def setup(app: web.Application) -> None:
    app.router.add_post("/posts/{slug}/comments", submit_comment, name="comment_form")
