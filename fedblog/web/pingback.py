"""Pingback and Trackback on the web side: `POST /xmlrpc.php` (pingback.ping, answered at once with a string or
a fault) and `POST /posts/SLUG/trackback` (answered with the Trackback XML). Both only check and queue; the
webmention worker verifies the source later. Rate limits are the webmention endpoint's, shared with it."""

from __future__ import annotations

import logging

from aiohttp import web

from fedblog.protocol import pingback as pb
from fedblog.protocol import trackback as tb
from fedblog.protocol import xmlrpc
from fedblog.protocol.addresses import hostname_of
from fedblog.services.pingback_receive import accept_pingback, accept_trackback
from fedblog.web.keys import get_context
from fedblog.web.ratelimit import client_ip
from fedblog.web.webmention import limiters

log = logging.getLogger(__name__)

XML = "text/xml"


def _xml(body: bytes, status: int = 200) -> web.Response:
    return web.Response(status=status, body=body, content_type=XML, charset="utf-8")


def _fault(code: int, message: str) -> web.Response:
    # XML-RPC answers a fault with 200: clients read the fault from the body.
    return _xml(xmlrpc.dump_fault(xmlrpc.Fault(code, message)))


async def _throttled(request: web.Request, source: str) -> bool:
    by_ip, by_host = limiters(request.app)
    for limiter, key in ((by_ip, client_ip(request)), (by_host, hostname_of(source))):
        if not await limiter.allow(key):
            return True
    return False


async def xmlrpc_endpoint(request: web.Request) -> web.Response:
    """POST /xmlrpc.php: `pingback.ping(source, target)`; any other call or body gets a fault, never a 500."""
    ctx = get_context(request)
    if not ctx.settings.pingback.receive:
        raise web.HTTPNotFound()
    if request.content_length is not None and request.content_length > xmlrpc.MAX_BODY_BYTES:
        return _fault(pb.PARSE_ERROR, f"parse error. the request is larger than {xmlrpc.MAX_BODY_BYTES} bytes")
    try:
        call = xmlrpc.parse_method_call(await request.read())  # the app caps bodies at 1 MiB, the parser at 64 KiB
    except xmlrpc.XmlRpcError as error:
        return _fault(pb.PARSE_ERROR, f"parse error. {error}")
    try:
        source, target = pb.ping_arguments(call)
        if await _throttled(request, source):
            raise pb.PingbackFault(pb.UPSTREAM_ERROR, "Too many pings; try again later.")
        await accept_pingback(ctx, source, target, client_ip(request))
    except pb.PingbackFault as refused:
        return _xml(xmlrpc.dump_fault(refused.fault))
    except Exception:  # a bug must not answer a 500 the client cannot read
        log.exception("a pingback could not be queued")
        return _fault(pb.UPSTREAM_ERROR, "server error. the ping could not be recorded; try again later.")
    thanks = f"Pingback from {source} to {target} received; it will be verified, then moderated."
    return _xml(xmlrpc.dump_response(thanks))


async def trackback_endpoint(request: web.Request) -> web.Response:
    """POST /posts/SLUG/trackback (form fields url, title, excerpt, blog_name): the Trackback XML answer."""
    ctx = get_context(request)
    if not ctx.settings.trackback.receive:
        return _xml(tb.response_xml("Trackbacks are not accepted on this blog."), status=404)
    post = await ctx.posts.get_post_by_slug(request.match_info["slug"])
    if post is None:
        return _xml(tb.response_xml("No published post has this trackback URL."), status=404)
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return _xml(tb.response_xml("Send the ping as application/x-www-form-urlencoded."), status=400)
    try:
        ping = tb.parse_trackback(await request.post())
        if await _throttled(request, ping.url):
            return _xml(tb.response_xml("Too many pings; try again later."), status=429)
        await accept_trackback(ctx, post, ping, client_ip(request))
    except tb.InvalidTrackback as error:
        return _xml(tb.response_xml(str(error)), status=400)
    return _xml(tb.response_xml())


def setup(app: web.Application) -> None:
    app.router.add_post("/xmlrpc.php", xmlrpc_endpoint)
    app.router.add_post("/posts/{slug}/trackback", trackback_endpoint)
