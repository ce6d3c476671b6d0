"""Media downloaded from a WordPress site (`import wordpress --media download`), served at /media/wordpress/…"""

from __future__ import annotations

import mimetypes

from aiohttp import web

from fedblog.services.wordpress_media import MEDIA_SUBFOLDER
from fedblog.web.keys import get_context

CACHE = "public, max-age=86400"


async def wordpress_media(request: web.Request) -> web.StreamResponse:
    folder = (get_context(request).settings.media_path / MEDIA_SUBFOLDER).resolve()
    wanted = (folder / request.match_info["path"]).resolve()
    if not wanted.is_relative_to(folder) or not wanted.is_file() or wanted.name.endswith(".part"):
        raise web.HTTPNotFound()
    media_type = mimetypes.guess_type(wanted.name)[0] or "application/octet-stream"
    if media_type == "image/svg+xml" or media_type.startswith("text/"):
        media_type = "application/octet-stream"  # never rendered by the browser as a document
    return web.FileResponse(wanted, headers={"Content-Type": media_type, "Cache-Control": CACHE})


def setup(app: web.Application) -> None:
    app.router.add_get(f"/media/{MEDIA_SUBFOLDER}/{{path:.+}}", wordpress_media, name="wordpress_media")
