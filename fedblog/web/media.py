"""Uploaded images: served at /media/NAME, uploaded and managed in the admin's media library (/admin/media).

The upload is read as a stream (the app's 1 MiB body limit is for everything else) and stops at media.max_upload_mb.
The editor's script posts here with `Accept: application/json` and inserts the Markdown it gets back; without
JavaScript the library's own form does the same and shows the Markdown to copy.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from aiohttp import BodyPartReader, web

from fedblog.models import MediaItem
from fedblog.services.media import MediaError, MediaService, display_name, markdown_for, original_file_name
from fedblog.web.admin_base import admin_form, admin_session, render_admin
from fedblog.web.keys import get_context

MAX_FIELD = 20_000  # a text field (the bio, the profile links); files have their own limit
LIBRARY_PAGE = 60
IMMUTABLE = "public, max-age=31536000, immutable"  # a file name is random and never reused
MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


class UploadTooLarge(Exception):
    pass


@dataclass
class UploadForm:
    csrf_token: str = ""
    alt: str = ""
    file_name: str = ""
    data: bytes = b""


async def read_part(part: BodyPartReader, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class MultipartForm:
    texts: dict[str, str]
    files: dict[str, tuple[str, bytes]]  # field -> (file name, bytes); empty file fields left out


async def read_multipart(request: web.Request, max_file_bytes: int, file_fields: tuple[str, ...]) -> MultipartForm:
    """A multipart form read as a stream: text fields bounded, files up to max_file_bytes (UploadTooLarge)."""
    form = MultipartForm({}, {})
    if request.content_type != "multipart/form-data":  # a form without files may come urlencoded
        posted = await request.post()
        form.texts = {name: value for name, value in posted.items() if isinstance(value, str)}
        return form
    try:
        reader = await request.multipart()
    except (AssertionError, ValueError, KeyError):
        raise web.HTTPBadRequest(text="expected a multipart form") from None
    fields = 0
    while (part := await reader.next()) is not None:
        fields += 1
        if not isinstance(part, BodyPartReader) or not part.name or fields > 100:
            continue
        if part.name in file_fields:
            data = await read_part(part, max_file_bytes)
            if data:
                form.files[part.name] = (part.filename or "", data)
        else:
            form.texts.setdefault(part.name, (await read_part(part, MAX_FIELD)).decode("utf-8", "replace"))
    return form


async def read_upload(request: web.Request, max_bytes: int) -> UploadForm:
    form = await read_multipart(request, max_bytes, ("file",))
    file_name, data = form.files.get("file", ("", b""))
    texts = form.texts
    return UploadForm(csrf_token=texts.get("csrf_token", ""), alt=texts.get("alt", ""), file_name=file_name, data=data)


def media_url(request: web.Request, item: MediaItem) -> str:
    return get_context(request).urls.media(display_name(item))


def library(request: web.Request, items: list[MediaItem], status: int = 200, **values: object) -> web.Response:
    urls = get_context(request).urls
    entries = [
        {
            "item": item,
            "thumbnail": urls.media(item.variant_name(480) if 480 in item.variant_widths else item.file_name),
            "markdown": markdown_for(media_url(request, item), item.alt_text),
        }
        for item in items
    ]
    return render_admin(request, "admin/media.html", status=status, section="media", entries=entries, **values)


async def show_library(request: web.Request) -> web.Response:
    await admin_session(request)
    service = MediaService(get_context(request))
    uploaded = request.query.get("uploaded", "")
    return library(
        request,
        await service.store.list_recent(LIBRARY_PAGE),
        uploaded=int(uploaded) if uploaded.isdigit() else None,
        deleted=request.query.get("deleted") == "1",
        max_upload_mb=service.ctx.settings.media.max_upload_mb,
    )


async def recent_json(request: web.Request) -> web.Response:
    """The latest uploads for the editor's "already uploaded" list (its script asks when the list is opened)."""
    await admin_session(request)
    ctx = get_context(request)
    items = await MediaService(ctx).store.list_recent(24)
    return web.json_response(
        [
            {
                "id": item.id,
                "alt": item.alt_text,
                "thumbnail": ctx.urls.media(item.variant_name(480) if 480 in item.variant_widths else item.file_name),
                "markdown": markdown_for(media_url(request, item), item.alt_text),
            }
            for item in items
        ]
    )


async def upload(request: web.Request) -> web.Response:
    session = await admin_session(request)
    ctx = get_context(request)
    service = MediaService(ctx)
    wants_json = "application/json" in request.headers.get("Accept", "")
    error: MediaError | None = None
    form = UploadForm()
    try:
        form = await read_upload(request, service.max_bytes)
    except UploadTooLarge:
        error = MediaError("the file is larger than %(size)d MB", size=ctx.settings.media.max_upload_mb)
    if not hmac.compare_digest(form.csrf_token, session.csrf_token) and error is None:
        raise web.HTTPForbidden(text="The form has expired: reload the page and try again.")
    item: MediaItem | None = None
    if error is None:
        try:
            item = await service.upload(form.data, form.file_name, form.alt)
        except MediaError as refused:
            error = refused
    if error is not None or item is None:
        message = error.text(ctx.i18n.gettext) if error else ""
        if wants_json:
            return web.json_response({"error": message}, status=400)
        return library(
            request,
            await service.store.list_recent(LIBRARY_PAGE),
            status=400,
            error=message,
            alt=form.alt,
            max_upload_mb=ctx.settings.media.max_upload_mb,
        )
    if wants_json:
        url = media_url(request, item)
        return web.json_response({"id": item.id, "url": url, "markdown": markdown_for(url, item.alt_text)})
    raise web.HTTPSeeOther(f"/admin/media?uploaded={item.id}")


async def delete(request: web.Request) -> web.Response:
    await admin_form(request)
    media_id = request.match_info["media_id"]
    await MediaService(get_context(request)).delete(int(media_id))
    raise web.HTTPSeeOther("/admin/media?deleted=1")


async def serve(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if original_file_name(name) is None:
        raise web.HTTPNotFound()
    path = get_context(request).settings.media_path / name
    if not path.is_file():
        raise web.HTTPNotFound()
    extension = name.rpartition(".")[2]
    return web.FileResponse(path, headers={"Cache-Control": IMMUTABLE, "Content-Type": MEDIA_TYPES[extension]})


def setup(app: web.Application) -> None:
    router = app.router
    router.add_get("/media/{name}", serve, name="media")
    router.add_get("/admin/media", show_library, name="admin_media")
    router.add_get("/admin/media/recent.json", recent_json, name="admin_media_recent")
    router.add_post("/admin/media", upload)
    router.add_post(r"/admin/media/{media_id:\d{1,12}}/delete", delete, name="admin_delete_media")
