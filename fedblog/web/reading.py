"""What surrounds a post on its page: reading time, the previous and next posts, the author's card, og:image."""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from fedblog.models import Post
from fedblog.protocol.images import image_urls
from fedblog.rendering import html_to_text
from fedblog.store.reading import ReadingStore
from fedblog.web.keys import get_context
from fedblog.web.post_page import post_page_extras

WORDS_PER_MINUTE = 230  # an adult reading prose on a screen; code and tables read slower, images add a little


def reading_minutes(body_html: str) -> int:
    words = len(html_to_text(body_html).split())
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


async def reading_extra(request: web.Request, post: Post) -> dict[str, Any]:
    ctx = get_context(request)
    neighbours: tuple[tuple[str, str] | None, ...] = (None, None)  # pages are not in the run of posts
    if not post.is_page:
        neighbours = await ReadingStore(ctx.db).neighbours(post.id, post.published_at)
    older, newer = neighbours
    images = image_urls(ctx.urls, post.body_html)
    return {
        "reading_minutes": reading_minutes(post.body_html),
        "older_post": older,
        "newer_post": newer,
        "og_image": images[0] if images else "",
    }


def setup(app: web.Application) -> None:
    post_page_extras(app).append(reading_extra)
