"""Comments as ActivityPub objects: /comments/<id> (a Note for AS2 clients, a small page for browsers, both 200,
never a redirect) and /comments/<id>/replies (an OrderedCollection of the direct replies' ids, paged)."""

from __future__ import annotations

from aiohttp import web

from fedblog.models import Comment, CommentStatus
from fedblog.protocol.ids import parse_positive_int
from fedblog.services.comment_federation import collection_document, comment_reply_ids, is_public_local, plan_note
from fedblog.web.activitypub import as2_response, signed_fetch_refusal
from fedblog.web.keys import get_context
from fedblog.web.negotiation import wants_activity_json
from fedblog.web.render import render_html


async def shown_comment(request: web.Request) -> Comment:
    """An approved comment shown on its post page (public or unlisted), else 404."""
    comment_id = parse_positive_int(request.match_info["id"])
    comment = await get_context(request).comments.get_comment(comment_id) if comment_id is not None else None
    if comment is None or comment.status != CommentStatus.APPROVED or not comment.visibility.is_shown_publicly:
        raise web.HTTPNotFound()
    return comment


async def comment_object(request: web.Request) -> web.StreamResponse:
    ctx = get_context(request)
    comment = await shown_comment(request)
    if wants_activity_json(request):
        refusal = await signed_fetch_refusal(request)
        if refusal is not None:
            return refusal
        if not is_public_local(comment):
            raise web.HTTPNotFound()  # a fediverse comment's object lives on its own server (remote_id)
        plan = await plan_note(ctx, comment)
        return as2_response(plan.note)
    post = await ctx.posts.get_post_by_id(comment.post_id)
    if post is None:
        raise web.HTTPNotFound()
    response = render_html(request, "blog/comment_object.html", comment=comment, post=post)
    response.headers["Vary"] = "Accept"
    return response


async def comment_replies(request: web.Request) -> web.Response:
    ctx = get_context(request)
    refusal = await signed_fetch_refusal(request)
    if refusal is not None:
        return refusal
    comment = await shown_comment(request)
    page_text = request.query.get("page")
    page = parse_positive_int(page_text, 10_000)
    if page_text is not None and page is None:
        raise web.HTTPNotFound()
    items = await comment_reply_ids(ctx, comment)
    document = collection_document(
        ctx.urls.comment_replies(comment.id),
        lambda number: ctx.urls.comment_replies(comment.id, number),
        items,
        page,
    )
    return as2_response(document)


def setup(app: web.Application) -> None:
    app.router.add_get(r"/comments/{id:[0-9]+}", comment_object)
    app.router.add_get(r"/comments/{id:[0-9]+}/replies", comment_replies)
