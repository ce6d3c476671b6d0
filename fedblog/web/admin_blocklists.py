"""/admin/blocks/lists: import a domain blocklist (Mastodon's CSV export) from a file or a URL, and re-sync it."""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web

from fedblog.services.blocklists import (
    UPLOAD_SOURCE,
    BlocklistError,
    FetchError,
    SyncResult,
    list_sources,
    resync,
    sync_blocklist,
)
from fedblog.web.admin_base import admin_form, admin_session, form_text, render_admin
from fedblog.web.keys import get_context
from fedblog.web.media import UploadTooLarge, read_multipart

LISTS_PATH = "/admin/blocks/lists"
MAX_UPLOAD = 4 * 1024 * 1024


async def lists_page(
    request: web.Request, status: int = 200, result: SyncResult | None = None, error: str = "", **values: Any
) -> web.Response:
    return render_admin(
        request,
        "admin/blocklists.html",
        status=status,
        section="blocks",
        sources=await list_sources(get_context(request)),
        result=result,
        error=error,
        url=values.get("url", ""),
        upload_source=UPLOAD_SOURCE,
    )


async def show_lists(request: web.Request) -> web.Response:
    await admin_session(request)
    return await lists_page(request)


async def import_list(request: web.Request) -> web.Response:
    """A file (multipart) or a URL: the file is synced as the 'upload' source, a URL under its own name."""
    session = await admin_session(request)
    ctx = get_context(request)
    _ = ctx.i18n.gettext
    try:
        form = await read_multipart(request, MAX_UPLOAD, ("file",))
    except UploadTooLarge:
        return await lists_page(request, 400, error=_("The list is larger than 4 MB."))
    if not hmac.compare_digest(form.texts.get("csrf_token", ""), session.csrf_token):
        raise web.HTTPForbidden(text="The form has expired: reload the page and try again.")
    url = form.texts.get("url", "").strip()[:2000]
    try:
        if "file" in form.files:
            text = form.files["file"][1].decode("utf-8", "replace")
            result = await sync_blocklist(ctx, UPLOAD_SOURCE, text)
        elif url:
            result = await resync(ctx, url)
        else:
            return await lists_page(request, 400, error=_("Choose a CSV file or give the list's address."))
    except BlocklistError:
        return await lists_page(
            request, 400, error=_("This is not a domain blocklist in Mastodon's CSV format."), url=url
        )
    except FetchError as error:
        message = _("The list could not be fetched: %(reason)s") % {"reason": str(error)}
        return await lists_page(request, 400, error=message, url=url)
    return await lists_page(request, result=result)


async def resync_list(request: web.Request) -> web.Response:
    form = await admin_form(request)
    ctx = get_context(request)
    url = form_text(form, "url", 2000)
    if url not in {source for source, _synced, _count in await list_sources(ctx)} or url == UPLOAD_SOURCE:
        raise web.HTTPBadRequest(text="Unknown list.")
    try:
        result = await resync(ctx, url)
    except (BlocklistError, FetchError) as error:
        reason = str(error) if isinstance(error, FetchError) else ctx.i18n.gettext("not a blocklist")
        message = ctx.i18n.gettext("The list could not be fetched: %(reason)s") % {"reason": reason}
        return await lists_page(request, 400, error=message)
    return await lists_page(request, result=result)


def setup(app: web.Application) -> None:
    app.router.add_get(LISTS_PATH, show_lists, name="admin_blocklists")
    app.router.add_post(LISTS_PATH, import_list)
    app.router.add_post(LISTS_PATH + "/resync", resync_list)
