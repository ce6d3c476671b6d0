"""Admin comments: the moderation queue (pending, approved, spam) with approve, spam, delete and reply as the
author, and the list of approved commenters. Every change goes through CommentService (listeners federate it)."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from fedblog.models import CommentOrigin, CommentStatus
from fedblog.protocol.ids import parse_positive_int
from fedblog.services.comments import CommentService
from fedblog.services.moderation import BULK_ACTIONS, moderate_many, queue_page
from fedblog.store.moderation import QueueFilter
from fedblog.web.admin_base import admin_form, admin_session, form_text, render_admin
from fedblog.web.keys import get_context

TABS = (CommentStatus.PENDING, CommentStatus.APPROVED, CommentStatus.SPAM)
ACTIONS = ("approve", "spam", "delete", "reply", "bulk-approve", "bulk-spam", "bulk-delete")
ORIGINS = ("web", "fediverse", "webmention")
MAX_REPLY = 20_000
PER_PAGE = 50  # a queue after a spam wave has thousands: one page at a time, newest first


def tab_from(text: str) -> CommentStatus:
    return CommentStatus(text) if text in {tab.value for tab in TABS} else CommentStatus.PENDING


def page_from(text: str) -> int:
    return parse_positive_int(text, 1_000_000) or 1


def origin_from(text: str) -> CommentOrigin | None:
    return CommentOrigin(text) if text in ORIGINS else None


def queue_url(
    tab: CommentStatus,
    done: str = "",
    comment_id: int | None = None,
    error: str = "",
    page: int = 1,
    origin: str = "",
    words: str = "",
    count: int | None = None,
) -> str:
    query = (
        {"status": tab.value}
        | ({"origin": origin} if origin else {})
        | ({"q": words} if words else {})
        | ({"page": str(page)} if page > 1 else {})
        | ({"done": done} if done else {})
        | ({"count": str(count)} if count is not None else {})
        | ({"error": error} if error else {})
    )
    anchor = f"#comment-{comment_id}" if comment_id is not None else ""
    return f"/admin/comments?{urlencode(query)}{anchor}"


async def moderation_queue(request: web.Request) -> web.Response:
    await admin_session(request)
    ctx = get_context(request)
    tab = tab_from(request.query.get("status", ""))
    origin = origin_from(request.query.get("origin", ""))
    words = request.query.get("q", "").strip()[:200]
    queue = QueueFilter(tab, origin, words)
    counts = await ctx.comments.count_by_status()
    requested = page_from(request.query.get("page", "1"))
    found = await queue_page(ctx, queue, PER_PAGE, (requested - 1) * PER_PAGE)
    pages = max(1, math.ceil(found.total / PER_PAGE))
    page = min(requested, pages)  # after moderating the last items of a page
    if page != requested:
        found = await queue_page(ctx, queue, PER_PAGE, (page - 1) * PER_PAGE)
    origin_value = origin.value if origin else ""
    count = request.query.get("count", "")
    return render_admin(
        request,
        "admin/comments.html",
        section="comments",
        tab=tab,
        tabs=TABS,
        counts=counts,
        comments=found.comments,
        parents=found.parents,
        found_by_backfill=found.found_by_backfill,
        reports=found.reports,
        total=found.total,
        origin=origin_value,
        origins=ORIGINS,
        words=words,
        page=page,
        pages=pages,
        page_url=lambda number: queue_url(tab, page=number, origin=origin_value, words=words),
        tab_url=lambda status: queue_url(status, origin=origin_value, words=words),
        done=request.query.get("done", "") if request.query.get("done", "") in ACTIONS else "",
        done_count=0 if count == "0" else parse_positive_int(count, 1_000_000),
        error=request.query.get("error", "") == "empty",
    )


async def moderate_bulk(request: web.Request) -> web.Response:
    """POST /admin/comments/bulk: the checked comments of the page, one action for all; back to the same view."""
    form = await admin_form(request)
    tab = tab_from(form_text(form, "tab", 20))
    page = page_from(form_text(form, "page", 10))
    origin = form_text(form, "origin", 20) if form_text(form, "origin", 20) in ORIGINS else ""
    words = form_text(form, "q", 200)
    action = form_text(form, "bulk", 20)
    if action not in BULK_ACTIONS:
        raise web.HTTPBadRequest(text="Unknown action.")
    wanted = (parse_positive_int(value) for value in form.getall("ids", []) if isinstance(value, str))
    ids = [number for number in wanted if number is not None]
    done = await moderate_many(get_context(request), ids, action)
    raise web.HTTPSeeOther(queue_url(tab, done=f"bulk-{action}", page=page, origin=origin, words=words, count=done))


async def moderate(request: web.Request) -> web.Response:
    """POST /admin/comments/{id}/{action}: one button of the queue; back to the tab it was pressed on."""
    form = await admin_form(request)
    service = CommentService(get_context(request))
    comment_id = int(request.match_info["id"])
    action = request.match_info["action"]
    tab = tab_from(form_text(form, "tab", 20))
    page = page_from(form_text(form, "page", 10))
    view: dict[str, Any] = {
        "origin": form_text(form, "origin", 20) if form_text(form, "origin", 20) in ORIGINS else "",
        "words": form_text(form, "q", 200),
    }
    comment = await get_context(request).comments.get_comment(comment_id)
    if comment is None:
        raise web.HTTPNotFound()
    if action == "approve":
        await service.approve(comment_id)
    elif action == "spam":
        await service.mark_spam(comment_id)
    elif action == "delete":
        await service.delete(comment_id)
        raise web.HTTPSeeOther(queue_url(tab, done=action, page=page, **view))
    elif action == "edit":
        text = form_text(form, "text", MAX_REPLY)
        if not text.strip():
            raise web.HTTPSeeOther(queue_url(tab, comment_id=comment_id, error="empty", page=page, **view))
        try:
            await service.edit_as_author(comment_id, text)
        except ValueError:  # nothing left once sanitized
            raise web.HTTPSeeOther(queue_url(tab, comment_id=comment_id, error="empty", page=page, **view)) from None
    else:
        message = form_text(form, "message", MAX_REPLY)
        if not message.strip():
            raise web.HTTPSeeOther(queue_url(tab, comment_id=comment_id, error="empty", page=page, **view))
        # Answering a held comment approves it first, as WordPress does: a reply under a hidden comment
        # would otherwise float to the top of the thread.
        if comment.status != CommentStatus.APPROVED:
            await service.approve(comment_id)
        await service.reply_as_author(comment_id, message)
    raise web.HTTPSeeOther(queue_url(tab, done=action, comment_id=comment_id, page=page, **view))


async def commenters(request: web.Request) -> web.Response:
    await admin_session(request)
    ctx = get_context(request)
    return render_admin(
        request,
        "admin/commenters.html",
        section="commenters",
        commenters=await ctx.comments.list_approved_commenters(),
    )


def setup(app: web.Application) -> None:
    router = app.router
    router.add_get("/admin/comments", moderation_queue, name="admin_comments")
    router.add_post("/admin/comments/bulk", moderate_bulk, name="admin_comments_bulk")
    router.add_post(r"/admin/comments/{id:[0-9]{1,12}}/{action:approve|spam|delete|reply|edit}", moderate)
    router.add_get("/admin/commenters", commenters, name="admin_commenters")
