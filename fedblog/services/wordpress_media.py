"""`fedblog import wordpress --media download`: the old site's uploads fetched into the media folder, before the
import's transaction (no network inside it), through the SSRF-guarded client with its limits.

Only files under a `/wp-content/uploads/` path are fetched (attachments, and the images and links of post bodies
that point there), each at most MAX_MEDIA_BYTES, images and documents only. A file lands at
`<media folder>/wordpress/<its path under uploads>` (path parts reduced to safe names: no traversal) and is served
at /media/wordpress/…; the import rewrites the references and records each old URL as an old link. A file that
cannot be fetched keeps its old URL and is listed in the report.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from fedblog.context import Context
from fedblog.services.http import FetchError, describe_failure, followed, get_http

MAX_MEDIA_BYTES = 20 * 1024 * 1024
MAX_MEDIA_FILES = 50_000
CONCURRENCY = 4
MEDIA_SUBFOLDER = "wordpress"
MEDIA_TYPES = ("image/", "application/pdf", "audio/", "video/")
UPLOADS = "/wp-content/uploads/"
_SAFE_PART = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class MediaOutcome:
    urls: dict[str, str] = field(default_factory=dict)  # old URL → new absolute URL
    failed: Counter[str] = field(default_factory=Counter)  # by reason


def media_file_path(url: str) -> str | None:
    """The relative path a media URL is stored under (wordpress/2009/03/chat.jpg), or None if it is not an upload."""
    path = unquote(urlsplit(url).path)
    if UPLOADS not in path:
        return None
    parts = [_SAFE_PART.sub("-", part).strip(".-") for part in path.split(UPLOADS, 1)[1].split("/")]
    parts = [part for part in parts if part]
    if not parts:
        return None
    return "/".join([MEDIA_SUBFOLDER, *parts])


async def download_media(
    ctx: Context, candidates: list[str], on_progress: Callable[[int, int], None] | None = None
) -> MediaOutcome:
    outcome = MediaOutcome()
    folder = ctx.settings.media_path
    wanted = [(url, media_file_path(url)) for url in dict.fromkeys(candidates)][:MAX_MEDIA_FILES]
    jobs = [(url, relative) for url, relative in wanted if relative is not None]
    limit = asyncio.Semaphore(CONCURRENCY)
    done = 0

    async def fetch_one(url: str, relative: str) -> None:
        nonlocal done
        async with limit:
            target = folder / relative
            try:
                if not target.exists():
                    data = await _fetch(ctx, url)
                    _write(target, data)
                outcome.urls[url] = ctx.urls.absolute(f"/media/{relative}")
            except FetchError as error:
                outcome.failed[str(error)[:80]] += 1
            except OSError as error:
                outcome.failed[f"cannot write: {error.strerror}"] += 1
            done += 1
            if on_progress:
                on_progress(done, len(jobs))

    await asyncio.gather(*(fetch_one(url, relative) for url, relative in jobs))
    return outcome


async def _fetch(ctx: Context, url: str) -> bytes:
    http = get_http(ctx)
    headers = {"Accept": "image/*, application/pdf, */*;q=0.1"}
    try:
        async with followed(lambda hop: http.request("GET", hop, headers, None), url) as (_final, response):
            if response.status != 200:
                raise FetchError(f"HTTP {response.status}", status=response.status)
            content_type = response.content_type.lower()
            if not content_type.startswith(MEDIA_TYPES) or content_type == "image/svg+xml":  # SVG may hold script
                raise FetchError(f"not a media file ({content_type})")
            if response.content_length is not None and response.content_length > MAX_MEDIA_BYTES:
                raise FetchError("too large")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.content.iter_chunked(64 * 1024):
                size += len(chunk)
                if size > MAX_MEDIA_BYTES:
                    raise FetchError("too large")
                chunks.append(chunk)
            return b"".join(chunks)
    except FetchError:
        raise
    except Exception as error:  # OS errors besides aiohttp's (followed() turns those into FetchError): one line
        raise FetchError(describe_failure(error, url)) from None


def _write(target: Path, data: bytes) -> None:
    """Written beside and renamed into place: a half-written file never shows."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    os.chmod(partial, 0o644)
    partial.replace(target)
