"""Commenters' faces, all served from the blog: identicons made here, fediverse icons kept here.

`/faces/<key>.svg` is an identicon drawn from `key`, an HMAC of the commenter's e-mail under a secret derived from
the site key: the same face on every comment, and nothing to learn the address from (unlike Gravatar's plain hash).
`/faces/remote/<author id>` is a fediverse commenter's icon as fetched and resized by services/faces.py, or their
identicon until it is: the first request for a face not kept (or whose actor names another icon) starts its fetch
in the background. With `comments.gravatar = true`, web commenters' faces come from Gravatar instead: each
reader's browser then asks gravatar.com, which learns who reads which page (the privacy trade-off, off by default).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from fedblog.models import AuthorKind, CommentAuthor
from fedblog.protocol.identicon import identicon_svg
from fedblog.services.faces import RemoteFaces
from fedblog.store.faces import FaceStore
from fedblog.web.keys import CONTEXT_KEY, STATE_KEY, get_context
from fedblog.web.visitor_secret import site_secret

log = logging.getLogger(__name__)

FOREVER = "public, max-age=31536000, immutable"
GRAVATAR = "https://www.gravatar.com/avatar/"


def face_key(secret: bytes, seed: str) -> str:
    return hmac.new(secret, f"face\x00{seed.strip().lower()}".encode(), hashlib.sha256).hexdigest()[:32]


def face_url_factory(app: web.Application) -> Callable[[CommentAuthor], str]:
    """For templates: `face_url(comment.author)`."""
    ctx = app[CONTEXT_KEY]
    urls = ctx.urls
    secret = site_secret(app)

    def face_url(who: CommentAuthor) -> str:
        settings = ctx.settings  # read each time: the author may change the avatar from the admin
        if who.kind == AuthorKind.REMOTE:
            return urls.absolute(f"/faces/remote/{who.id}")
        if who.kind == AuthorKind.OWNER:
            return settings.author.avatar or urls.absolute(f"/faces/{face_key(secret, urls.actor())}.svg")
        email = who.email or who.name
        if settings.comments.gravatar and who.email:
            digest = hashlib.sha256(who.email.strip().lower().encode()).hexdigest()
            return f"{GRAVATAR}{digest}?s=80&d=identicon"
        return urls.absolute(f"/faces/{face_key(secret, email)}.svg")

    return face_url


def svg_response(key: str, cache_control: str) -> web.Response:
    body = identicon_svg(bytes.fromhex(key))
    return web.Response(
        text=body, content_type="image/svg+xml", charset="utf-8", headers={"Cache-Control": cache_control}
    )


async def identicon(request: web.Request) -> web.Response:
    """Drawn from the key alone: nothing is looked up, and any key gives a face."""
    return svg_response(request.match_info["key"], FOREVER)


MAX_FETCHES = 8


def _fetches(app: web.Application) -> dict[int, asyncio.Task[int]]:
    return app[STATE_KEY].face_fetches


def fetch_in_background(app: web.Application, author_id: int) -> None:
    """At most one fetch per author and MAX_FETCHES in all at a time; the next request asks again."""
    fetches = _fetches(app)
    if author_id in fetches or len(fetches) >= MAX_FETCHES:
        return
    task = asyncio.create_task(RemoteFaces(app[CONTEXT_KEY]).refresh(author_id))
    fetches[author_id] = task

    def done(finished: asyncio.Task[int]) -> None:
        fetches.pop(author_id, None)
        if not finished.cancelled() and finished.exception() is not None:
            log.warning("fetching a commenter's face failed: %s", finished.exception())

    task.add_done_callback(done)


async def settle_fetches(app: web.Application) -> None:
    """Wait for the fetches under way (tests; shutdown cancels them instead)."""
    await asyncio.gather(*_fetches(app).values(), return_exceptions=True)


async def remote_face(request: web.Request) -> web.Response:
    store = FaceStore(get_context(request).db)
    author_id = int(request.match_info["id"])
    face = await store.face(author_id)
    if face is not None:
        # Not immutable: the face changes when the actor names another icon.
        headers = {"Cache-Control": "public, max-age=3600"}
        return web.Response(body=face.image, content_type=face.media_type, headers=headers)
    seed = await store.seed_of(author_id)
    if seed is None:
        raise web.HTTPNotFound()
    # Not kept yet (or changed, or refused): a stand-in now, the icon once fetched, if it is due.
    fetch_in_background(request.app, author_id)
    return svg_response(face_key(site_secret(request.app), seed), "no-cache")


async def faces_lifetime(app: web.Application) -> AsyncIterator[None]:
    yield
    for task in list(_fetches(app).values()):
        task.cancel()
    await asyncio.gather(*_fetches(app).values(), return_exceptions=True)


def setup(app: web.Application) -> None:
    app.router.add_get(r"/faces/{key:[0-9a-f]{32}}.svg", identicon)
    app.router.add_get(r"/faces/remote/{id:\d{1,12}}", remote_face)
    app.cleanup_ctx.append(faces_lifetime)
