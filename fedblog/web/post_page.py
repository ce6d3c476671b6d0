"""The post page: article, threaded conversation and comment form, shared by GET (web/blog.py) and by the
form POST that re-renders it with errors (web/comments.py).

Also the comment form's CSRF token, a secret of the page (the visitor's own cookies: web/visitor_cookies.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from fedblog.models import Comment, CommentNode, Post
from fedblog.protocol.ids import parse_positive_int
from fedblog.rendering import post_excerpt
from fedblog.services.comments import CommentForm, CommentService
from fedblog.web.comment_fragments import page_fragments
from fedblog.web.csrf import make_token
from fedblog.web.keys import STATE_KEY, get_context
from fedblog.web.page_cache import CSRF_PLACEHOLDER
from fedblog.web.render import render_html
from fedblog.web.visitor_secret import site_secret

CSRF_SCOPE = "comment-form"
HONEYPOT_FIELD = "nickname"

# Helpers for later features (fediverse reactions, "reply from your account") add template values here:
# each is called as `await extra(request, post)` and returns a dict merged into the post page's values.
PostPageExtra = Callable[[web.Request, Post], Awaitable[dict[str, Any]]]


def post_page_extras(app: web.Application) -> list[PostPageExtra]:
    return app[STATE_KEY].post_page_extras


def csrf_token_factory(app: web.Application) -> Callable[[], str]:
    secret = site_secret(app)
    return lambda: make_token(secret, CSRF_SCOPE)


@dataclass
class FormState:
    """What the comment form shows: typed values, errors by field, a form-wide message."""

    values: CommentForm = field(default_factory=CommentForm)
    errors: dict[str, str] = field(default_factory=dict)
    message: str = ""
    remember: bool = False  # "Remember my details in this browser" ticked


@dataclass(frozen=True)
class ThreadStep:
    node: CommentNode
    start: bool


def thread_steps(nodes: list[CommentNode]) -> Iterator[ThreadStep]:
    """The thread as start/end steps in display order, without recursion: a thread may be very deep."""
    stack: list[tuple[CommentNode, bool]] = [(node, True) for node in reversed(nodes)]
    while stack:
        node, start = stack.pop()
        yield ThreadStep(node, start)
        if start:
            stack.append((node, False))
            stack.extend((child, True) for child in reversed(node.children))


def walk(nodes: list[CommentNode]) -> Iterator[CommentNode]:
    return (step.node for step in thread_steps(nodes) if step.start)


async def render_post_page(
    request: web.Request,
    post: Post,
    form: FormState | None = None,
    reply_to_id: int | None = None,
    held: tuple[Comment, ...] = (),
    editable: frozenset[int] = frozenset(),
    status: int = 200,
) -> web.Response:
    """The whole post page, with CSRF_PLACEHOLDER where the form's token goes (see page_cache)."""
    ctx = get_context(request)
    form = form or FormState()
    thread = await CommentService(ctx).thread_for_post(post)
    if reply_to_id is None:
        reply_to_id = parse_positive_int(form.values.parent_id)
    reply_to = next((node.comment for node in walk(thread) if node.comment.id == reply_to_id), None)
    # The visitor's held comments are previewed under their parents when those are on the page, else after the thread.
    shown = {node.comment.id for node in walk(thread)}
    held_under: dict[int, list[Comment]] = {}
    held_after: list[Comment] = []
    for comment in held:
        if comment.parent_id in shown:
            held_under.setdefault(comment.parent_id, []).append(comment)
        else:
            held_after.append(comment)
    values: dict[str, Any] = {
        "post": post,
        "thread": thread,
        "thread_steps": thread_steps,
        "description": post.summary or post_excerpt(post.body_html, 200).text,
        "form": form.values,
        "errors": form.errors,
        "form_message": form.message,
        "form_remember": form.remember,
        "notify_offered": CommentService(ctx).offers_notifications(),
        "reply_to": reply_to,
        "held_under": held_under,
        "held_after": held_after,
        "editable": editable,
        "csrf_token": CSRF_PLACEHOLDER,
        "honeypot_field": HONEYPOT_FIELD,
        "reactions": None,
        "comments_open": CommentService(ctx).accepts_comments(post),
        "comment_fragments": page_fragments(request, post.slug),
    }
    for extra in post_page_extras(request.app):
        values.update(await extra(request, post))
    response = render_html(request, "blog/post.html", status=status, **values)
    response.headers["Vary"] = "Accept"
    if ctx.settings.webmention.receive:  # Webmention §3.1.2 discovery; kept by the page cache with the page
        response.headers["Link"] = f'<{ctx.urls.webmention()}>; rel="webmention"'
    if ctx.settings.pingback.receive:  # Pingback 1.0 §2 autodiscovery, kept by the page cache likewise
        response.headers["X-Pingback"] = ctx.urls.xmlrpc()
    return response
