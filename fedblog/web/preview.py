"""A draft's private preview: /preview/<post id>-<signature>, an address the author can open or share before
publishing. The signature is an HMAC of the post's id and creation time with the site secret: it cannot be guessed,
it survives edits (slug included), and it dies with the post. The page is never indexed, cached or linked."""

from __future__ import annotations

import base64
import hashlib
import hmac

from aiohttp import web

from fedblog.clock import to_text
from fedblog.models import Post
from fedblog.web.keys import get_context
from fedblog.web.render import render_html
from fedblog.web.visitor_secret import site_secret

NO_INDEX = "noindex, nofollow, noarchive"


def preview_token(secret: bytes, post: Post) -> str:
    created = to_text(post.created_at) if post.created_at else ""
    digest = hmac.new(secret, f"post-preview\x00{post.id}\x00{created}".encode(), hashlib.sha256).digest()
    return f"{post.id}-{base64.urlsafe_b64encode(digest[:24]).decode()}"


def preview_url(request: web.Request, post: Post) -> str:
    return get_context(request).urls.post_preview(preview_token(site_secret(request.app), post))


async def preview_page(request: web.Request) -> web.Response:
    ctx = get_context(request)
    token = request.match_info["token"]
    id_text, _, _signature = token.partition("-")
    post = await ctx.posts.get_post_by_id(int(id_text)) if id_text.isdigit() and len(id_text) < 19 else None
    if post is None or not hmac.compare_digest(preview_token(site_secret(request.app), post), token):
        raise web.HTTPNotFound()
    if post.is_public:
        raise web.HTTPSeeOther(ctx.urls.post(post.slug))  # published since: the real page
    response = render_html(request, "blog/preview.html", post=post, no_index=NO_INDEX)
    response.headers["X-Robots-Tag"] = NO_INDEX
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # links in the draft must not carry its address away
    return response


def setup(app: web.Application) -> None:
    app.router.add_get("/preview/{token}", preview_page, name="post_preview")
