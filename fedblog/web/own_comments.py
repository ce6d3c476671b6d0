"""A visitor's own comment: edit or delete it for comments.edit_window_minutes, from the browser that wrote it.

GET /comments/{id}/edit shows the text in a form; POST …/edit saves it, POST /comments/{id}/delete removes it. Each
needs the writer's signed cookie for that comment (web/visitor_cookies.py), the form's token and this site as Origin;
anyone else, or the writer once the window has passed, gets 403 and a page that says so. The page shows the change at
once; a published comment that went to the fediverse is sent again as an Update, or a Delete (services/comments.py).
"""

from __future__ import annotations

from aiohttp import web

from fedblog.models import Comment, CommentStatus
from fedblog.rendering import html_to_plain_message, plain_text_to_html
from fedblog.services.comments import CommentService
from fedblog.web.comments import read_form
from fedblog.web.csrf import check_token, make_token
from fedblog.web.keys import get_context
from fedblog.web.origin_check import posted_from_this_site
from fedblog.web.post_page import CSRF_SCOPE
from fedblog.web.render import render_html
from fedblog.web.visitor_cookies import edit_deadline, editable_own_comment, visitor_now
from fedblog.web.visitor_secret import site_secret


def too_late(request: web.Request) -> web.Response:
    message = get_context(request).i18n.gettext(
        "This comment can no longer be changed from this browser: only its writer can, within %(minutes)d minutes "
        "of posting it."
    ) % {"minutes": get_context(request).settings.comments.edit_window_minutes}
    return render_html(request, "errors/error.html", status=403, error=web.HTTPForbidden(), message=message)


def edit_page(request: web.Request, comment: Comment, text: str, error: str = "", status: int = 200) -> web.Response:
    window = get_context(request).settings.comments.edit_window_minutes
    seconds_left = max(0, int((edit_deadline(comment, window) - visitor_now(request.app)).total_seconds()))
    response = render_html(
        request,
        "blog/edit_comment.html",
        status=status,
        comment=comment,
        text=text,
        error=error,
        minutes_left=max(1, -(-seconds_left // 60)),
        csrf_token=make_token(site_secret(request.app), CSRF_SCOPE),
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def where_it_shows(request: web.Request, comment: Comment) -> str:
    urls = get_context(request).urls
    if comment.status == CommentStatus.PENDING:
        return urls.held_comment(comment.post_slug, comment.id)
    return urls.comment_anchor(comment.post_slug, comment.id)


async def checked_comment(request: web.Request) -> tuple[Comment | None, dict[str, str]]:
    """The visitor's comment for a POST, or None; the form as posted."""
    form = await read_form(request)
    token_ok = check_token(site_secret(request.app), CSRF_SCOPE, form.get("csrf_token", ""))
    if not token_ok or not posted_from_this_site(request):
        raise web.HTTPForbidden(text="This form has expired: load the page again.")
    return await editable_own_comment(request, int(request.match_info["id"])), form


async def show_edit_form(request: web.Request) -> web.Response:
    comment = await editable_own_comment(request, int(request.match_info["id"]))
    if comment is None:
        return too_late(request)
    return edit_page(request, comment, html_to_plain_message(comment.content_html))


async def save_edit(request: web.Request) -> web.Response:
    comment, form = await checked_comment(request)
    if comment is None:
        return too_late(request)
    service = CommentService(get_context(request))
    message = form.get("message", "")
    error = service.validate_message(message)
    if error:
        return edit_page(request, comment, message, error=error, status=400)
    updated = await service.edit_comment(comment.id, plain_text_to_html(message))
    raise web.HTTPSeeOther(where_it_shows(request, updated))


async def delete_own(request: web.Request) -> web.Response:
    comment, _form = await checked_comment(request)
    if comment is None:
        return too_late(request)
    await CommentService(get_context(request)).delete(comment.id)
    raise web.HTTPSeeOther(get_context(request).urls.post(comment.post_slug) + "#comments")


def setup(app: web.Application) -> None:
    app.router.add_get(r"/comments/{id:\d{1,12}}/edit", show_edit_form)
    app.router.add_post(r"/comments/{id:\d{1,12}}/edit", save_edit)
    app.router.add_post(r"/comments/{id:\d{1,12}}/delete", delete_own)
