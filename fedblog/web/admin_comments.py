"""Admin comments: the moderation queue (pending, approved, spam) with approve, spam, delete and reply as the
author, and the list of approved commenters. Every change goes through CommentService (listeners federate it)."""

from __future__ import annotations

import math
from urllib.parse import urlencode

from aiohttp import web

from fedblog.models import CommentStatus
from fedblog.services.comments import CommentService
from fedblog.web.admin_base import admin_form, admin_session, form_text, render_admin
from fedblog.web.keys import get_context

TABS = (CommentStatus.PENDING, CommentStatus.APPROVED, CommentStatus.SPAM)
ACTIONS = ("approve", "spam", "delete", "reply")
MAX_REPLY = 20_000
PER_PAGE = 50  # a queue after a spam wave has thousands: one page at a time, newest first


def tab_from(text: str) -> CommentStatus:
    return CommentStatus(text) if text in {tab.value for tab in TABS} else CommentStatus.PENDING


def page_from(text: str) -> int:
    return int(text) if text.isdigit() and 1 <= int(text) <= 1_000_000 else 1


def queue_url(tab: CommentStatus, done: str = "", comment_id: int | None = None, error: str = "", page: int = 1) -> str:
    query = (
        {"status": tab.value}
        | ({"page": str(page)} if page > 1 else {})
        | ({"done": done} if done else {})
        | ({"error": error} if error else {})
    )
    anchor = f"#comment-{comment_id}" if comment_id is not None else ""
    return f"/admin/comments?{urlencode(query)}{anchor}"


async def moderation_queue(request: web.Request) -> web.Response:
    await admin_session(request)
    ctx = get_context(request)
    tab = tab_from(request.query.get("status", ""))
    counts = await ctx.comments.count_by_status()
    pages = max(1, math.ceil(counts.get(tab.value, 0) / PER_PAGE))
    page = min(page_from(request.query.get("page", "1")), pages)  # after moderating the last items of a page
    return render_admin(
        request,
        "admin/comments.html",
        section="comments",
        tab=tab,
        tabs=TABS,
        counts=counts,
        comments=await ctx.comments.list_by_status(tab, PER_PAGE, (page - 1) * PER_PAGE),
        page=page,
        pages=pages,
        page_url=lambda number: queue_url(tab, page=number),
        done=request.query.get("done", "") if request.query.get("done", "") in ACTIONS else "",
        error=request.query.get("error", "") == "empty",
    )


async def moderate(request: web.Request) -> web.Response:
    """POST /admin/comments/{id}/{action}: one button of the queue; back to the tab it was pressed on."""
    form = await admin_form(request)
    service = CommentService(get_context(request))
    comment_id = int(request.match_info["id"])
    action = request.match_info["action"]
    tab = tab_from(form_text(form, "tab", 20))
    page = page_from(form_text(form, "page", 10))
    comment = await get_context(request).comments.get_comment(comment_id)
    if comment is None:
        raise web.HTTPNotFound()
    if action == "approve":
        await service.approve(comment_id)
    elif action == "spam":
        await service.mark_spam(comment_id)
    elif action == "delete":
        await service.delete(comment_id)
        raise web.HTTPSeeOther(queue_url(tab, done=action, page=page))
    else:
        message = form_text(form, "message", MAX_REPLY)
        if not message.strip():
            raise web.HTTPSeeOther(queue_url(tab, comment_id=comment_id, error="empty", page=page))
        # Answering a held comment approves it first, as WordPress does: a reply under a hidden comment
        # would otherwise float to the top of the thread.
        if comment.status != CommentStatus.APPROVED:
            await service.approve(comment_id)
        await service.reply_as_author(comment_id, message)
    raise web.HTTPSeeOther(queue_url(tab, done=action, comment_id=comment_id, page=page))


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
    router.add_post(r"/admin/comments/{id:\d{1,12}}/{action:approve|spam|delete|reply}", moderate)
    router.add_get("/admin/commenters", commenters, name="admin_commenters")
