"""ActivityPub representations (actor, notes, collections). To be written with the federation issue."""

from __future__ import annotations

from aiohttp import web

from fedblog.models import Post


async def note_response(request: web.Request, post: Post) -> web.StreamResponse:
    """The post as an AS2 Note; the blog's post handler calls this when the client wants activity+json."""
    raise web.HTTPNotAcceptable(text="ActivityPub representations are not available yet")


def setup(app: web.Application) -> None:
    """Register this module's routes."""
