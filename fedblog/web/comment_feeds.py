"""Atom feeds of comments: the blog's latest (/comments/feed.xml) and one post's (/posts/<slug>/comments.xml).

/comments/feed.xml shares its prefix with the comment objects (/comments/<id>), whose routes take digits only, so
the two never collide whatever the registration order. Only approved, public comments are listed, never an email
or an address; content goes through the same allowlist sanitizer as fediverse replies once more on the way out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web

from fedblog.clock import utcnow
from fedblog.context import Context
from fedblog.models import AuthorKind, Comment
from fedblog.protocol.sanitize import sanitize_html
from fedblog.store.comment_feed import list_latest_public_comments, list_latest_public_comments_of_post
from fedblog.web.feed import ATOM_CONTENT_TYPE
from fedblog.web.keys import get_context
from fedblog.web.page_cache import cached
from fedblog.web.render import render_string

COMMENTS_FEED_SIZE = 30


@dataclass(frozen=True)
class CommentEntry:
    url: str
    title: str
    author_name: str
    author_uri: str | None
    language: str | None
    published: datetime
    updated: datetime
    summary: str
    content_html: str


def comment_to_entry(ctx: Context, comment: Comment) -> CommentEntry:
    author = comment.author
    uri: str | None
    if author.kind == AuthorKind.OWNER:
        name, uri = ctx.settings.author.display_name or ctx.settings.author.username, ctx.urls.profile()
    elif author.kind == AuthorKind.REMOTE:
        name, uri = author.name or author.handle or "", author.profile_url or author.actor_id
    else:
        name, uri = author.name, author.website or None
    title = ctx.i18n.gettext("%(author)s on “%(title)s”") % {"author": name, "title": comment.post_title}
    return CommentEntry(
        url=ctx.urls.comment_anchor(comment.post_slug, comment.id),
        title=title,
        author_name=name,
        author_uri=uri,
        language=comment.language,
        published=comment.created_at,
        updated=comment.updated_at or comment.created_at,
        summary=comment.summary,
        content_html=sanitize_html(comment.content_html),
    )


def atom_response(
    request: web.Request, comments: Sequence[Comment], title: str, self_url: str, page_url: str
) -> web.Response:
    ctx = get_context(request)
    entries = [comment_to_entry(ctx, comment) for comment in comments]
    body = render_string(
        request.app,
        "feeds/comments.xml",
        entries=entries,
        feed_title=title,
        self_url=self_url,
        page_url=page_url,
        updated=max((entry.updated for entry in entries), default=utcnow()),
    )
    return web.Response(text=body, content_type=ATOM_CONTENT_TYPE, charset="utf-8")


async def site_comments_feed(request: web.Request) -> web.Response:
    ctx = get_context(request)

    async def build() -> web.Response:
        comments = await list_latest_public_comments(ctx.db, COMMENTS_FEED_SIZE)
        title = ctx.i18n.gettext("Comments on %(site)s") % {"site": ctx.settings.site.title}
        return atom_response(request, comments, title, ctx.urls.comments_feed(), ctx.urls.home())

    return await cached(request, "/comments/feed.xml", build, lambda: "")


async def post_comments_feed(request: web.Request) -> web.Response:
    ctx = get_context(request)
    slug = request.match_info["slug"]

    async def build() -> web.Response:
        post = await ctx.posts.get_post_by_slug(slug)
        if post is None:
            raise web.HTTPNotFound()
        comments = await list_latest_public_comments_of_post(ctx.db, post.id, COMMENTS_FEED_SIZE)
        title = ctx.i18n.gettext("Comments on “%(title)s”") % {"title": post.title}
        return atom_response(request, comments, title, ctx.urls.post_comments_feed(slug), ctx.urls.post(slug))

    return await cached(request, f"/posts/{slug}/comments.xml", build, lambda: "")


def setup(app: web.Application) -> None:
    app.router.add_get("/comments/feed.xml", site_comments_feed, name="comments_feed")
    app.router.add_get("/posts/{slug}/comments.xml", post_comments_feed, name="post_comments_feed")
