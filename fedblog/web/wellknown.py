"""Discovery: WebFinger, host-meta, NodeInfo. Public, CORS-open, JSON answers even on errors."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from fedblog.clock import utcnow
from fedblog.protocol import nodeinfo, webfinger
from fedblog.web.keys import get_context

CORS = {"Access-Control-Allow-Origin": "*"}


def _json(data: Any, status: int = 200, content_type: str = webfinger.JRD_CONTENT_TYPE) -> web.Response:
    headers = {**CORS, "Content-Type": content_type}
    if status == 200:
        headers["Cache-Control"] = "public, max-age=3600"
    return web.Response(body=json.dumps(data).encode(), status=status, headers=headers)


async def webfinger_handler(request: web.Request) -> web.Response:
    urls = get_context(request).urls
    resources = request.query.getall("resource", [])
    found = webfinger.lookup(resources[0] if len(resources) == 1 else None, urls)
    if found is webfinger.Lookup.MALFORMED:
        return _json({"error": "the query needs one resource: acct:user@host or a URL"}, 400)
    if found is webfinger.Lookup.UNKNOWN:
        return _json({"error": "unknown resource"}, 404)
    return _json(webfinger.jrd(urls))


async def host_meta(request: web.Request) -> web.Response:
    body = webfinger.host_meta(get_context(request).urls)
    return web.Response(text=body, headers={**CORS, "Content-Type": webfinger.XRD_CONTENT_TYPE})


async def nodeinfo_links(request: web.Request) -> web.Response:
    urls = get_context(request).urls
    return _json(nodeinfo.discovery(urls.absolute("/nodeinfo/2.1")), content_type="application/json")


async def nodeinfo_document(request: web.Request) -> web.Response:
    ctx = get_context(request)
    latest = await ctx.posts.list_published(1)
    document = nodeinfo.document(
        node_name=ctx.settings.site.title,
        node_description=ctx.settings.site.description,
        local_posts=await ctx.posts.count_published(),
        last_post_at=latest[0].published_at if latest else None,
        now=utcnow(),
    )
    return _json(document, content_type=nodeinfo.CONTENT_TYPE)


def setup(app: web.Application) -> None:
    app.router.add_get("/.well-known/webfinger", webfinger_handler, name="webfinger")
    app.router.add_get("/.well-known/host-meta", host_meta, name="host_meta")
    app.router.add_get("/.well-known/nodeinfo", nodeinfo_links, name="nodeinfo_links")
    app.router.add_get("/nodeinfo/2.1", nodeinfo_document, name="nodeinfo")
