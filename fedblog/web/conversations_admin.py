"""Admin pages of conversations: private mentions (followers-only and direct replies, never shown publicly) and
the blocklists of domains and accounts."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from fedblog.services.blocks import BlockError, add_block, list_blocks, remove_block
from fedblog.web.admin_base import admin_form, admin_session, form_text, render_admin
from fedblog.web.keys import get_context

BLOCKS_PATH = "/admin/blocks"


async def private_mentions(request: web.Request) -> web.Response:
    await admin_session(request)
    mentions = await get_context(request).comments.list_private_mentions()
    return render_admin(request, "admin/private_mentions.html", section="mentions", mentions=mentions)


async def blocks_page(request: web.Request) -> web.Response:
    await admin_session(request)
    done = request.query.get("done", "")
    return render_admin(
        request,
        "admin/blocks.html",
        section="blocks",
        blocks=await list_blocks(get_context(request)),
        done=done if done in ("added", "removed") else "",
        value=request.query.get("value", "")[:300],
        error="",
    )


async def blocks_add(request: web.Request) -> web.Response:
    form = await admin_form(request)
    ctx = get_context(request)
    value = form_text(form, "value", 300)
    try:
        block, _ = await add_block(ctx, value)
    except BlockError:
        error = ctx.i18n.gettext("Enter a domain (example.com) or an account URL (https://example.com/users/name).")
        return render_admin(
            request,
            "admin/blocks.html",
            status=400,
            section="blocks",
            blocks=await list_blocks(ctx),
            done="",
            value=value,
            error=error,
        )
    raise web.HTTPSeeOther(f"{BLOCKS_PATH}?{urlencode({'done': 'added', 'value': block.value})}")


async def blocks_remove(request: web.Request) -> web.Response:
    form = await admin_form(request)
    value = form_text(form, "value", 300)
    try:
        await remove_block(get_context(request), value)
    except BlockError:
        raise web.HTTPBadRequest(text="not a block") from None
    raise web.HTTPSeeOther(f"{BLOCKS_PATH}?{urlencode({'done': 'removed', 'value': value})}")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/mentions", private_mentions)
    app.router.add_get(BLOCKS_PATH, blocks_page)
    app.router.add_post(BLOCKS_PATH, blocks_add)
    app.router.add_post(BLOCKS_PATH + "/remove", blocks_remove)
