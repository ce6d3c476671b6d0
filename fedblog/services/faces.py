"""Faces of commenters: fediverse icons fetched once, resized and kept, so the blog serves them itself.

Readers' browsers never load an image from a commenter's server (no tracking by it, nothing broken when it goes
away). An icon is fetched through the SSRF-guarded client, unsigned, at most MAX_ICON_BYTES of PNG, JPEG, GIF or
WebP; decoded by Pillow only below MAX_PIXELS (a small file may claim a huge picture), reduced to FACE_SIZE and
stored as PNG. When the author's actor names another icon (the author row is refreshed with each comment and with
the actor cache), it is fetched again; a failure is retried a day later. Blocked actors' icons are not fetched.
Fetches happen when a reader's browser first asks the blog for a face (web/faces.py), never while a page renders.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from fedblog.clock import utcnow
from fedblog.services.blocks import is_blocked
from fedblog.services.http import FetchError, get_http
from fedblog.store.faces import FaceStore

if TYPE_CHECKING:
    from fedblog.context import Context

log = logging.getLogger(__name__)

ICON_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
PILLOW_FORMATS = frozenset({"PNG", "JPEG", "GIF", "WEBP"})
MAX_ICON_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 4096 * 4096
FACE_SIZE = 96
BATCH = 20
RETRY_AFTER = timedelta(days=1)


class BadImage(ValueError):
    """Not an image we take; the message says why."""


def resize_face(data: bytes) -> bytes:
    """The icon as a FACE_SIZE×FACE_SIZE (at most) PNG; BadImage when it is not a small PNG/JPEG/GIF/WebP."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format not in PILLOW_FORMATS:
                raise BadImage(f"format {image.format!r} is not accepted")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise BadImage(f"{width}×{height} pixels is too large")
            image.draft("RGB", (FACE_SIZE, FACE_SIZE))  # JPEG: decode at a reduced scale
            image.seek(0)  # the first frame of an animation
            face = image.convert("RGBA")
            face.thumbnail((FACE_SIZE, FACE_SIZE))
            out = io.BytesIO()
            face.save(out, format="PNG", optimize=True)
            return out.getvalue()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise BadImage(f"not a readable image ({type(error).__name__})") from None


class RemoteFaces:
    def __init__(self, ctx: Context, clock: Callable[[], datetime] = utcnow) -> None:
        self.ctx = ctx
        self.store = FaceStore(ctx.db)
        self.clock = clock

    async def refresh(self, author_id: int | None = None) -> int:
        """Fetch the icons that are due (one author's, or BATCH at most); how many faces were stored."""
        now = self.clock()
        stored = 0
        for item in await self.store.due(now - RETRY_AFTER, BATCH, author_id):
            if item.actor_id and await is_blocked(self.ctx, item.actor_id):
                await self.store.save(item.author_id, item.icon_url, now, None, None, "blocked")
                continue
            try:
                data, _media_type = await get_http(self.ctx).get_image(
                    item.icon_url, types=ICON_TYPES, limit=MAX_ICON_BYTES
                )
                face = await asyncio.to_thread(resize_face, data)
            except (FetchError, BadImage) as error:
                log.info("no face from %r: %s", item.icon_url[:200], error)
                await self.store.save(item.author_id, item.icon_url, now, None, None, str(error)[:300])
                continue
            await self.store.save(item.author_id, item.icon_url, now, face, "image/png", "")
            stored += 1
        return stored
