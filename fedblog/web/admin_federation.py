"""Admin federation pages: followers (approve or reject requests, remove) and the delivery queue by host."""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from fedblog.services.delivery import queue_report
from fedblog.services.followers import FollowerError, FollowerService
from fedblog.services.queue_control import queue_overview, retry_deliveries
from fedblog.store.followers import ACCEPTED, PENDING
from fedblog.web.admin_base import admin_form, admin_session, form_text, render_admin
from fedblog.web.keys import get_context

ACTIONS = ("approve", "reject")


async def followers_page(request: web.Request) -> web.Response:
    await admin_session(request)
    service = FollowerService(get_context(request))
    return render_admin(
        request,
        "admin/federation_followers.html",
        section="followers",
        pending=await service.list(PENDING),
        accepted=await service.list(ACCEPTED),
        done=request.query.get("done", "") if request.query.get("done") in ACTIONS else "",
        manual=get_context(request).settings.federation.manually_approves_followers,
    )


async def follower_action(request: web.Request) -> web.Response:
    """POST /admin/followers/{approve|reject} with the actor id: sends Accept or Reject through the queue."""
    form = await admin_form(request)
    action = request.match_info["action"]
    service = FollowerService(get_context(request))
    try:
        if action == "approve":
            await service.approve(form_text(form, "actor", 2000))
        else:
            await service.reject(form_text(form, "actor", 2000))
    except FollowerError:
        raise web.HTTPNotFound(text="No such follower or follow request.") from None
    raise web.HTTPSeeOther("/admin/followers?" + urlencode({"done": action}))


async def queue_page(request: web.Request) -> web.Response:
    await admin_session(request)
    ctx = get_context(request)
    counts, hosts = await queue_report(ctx)
    overview = await queue_overview(ctx)
    return render_admin(
        request,
        "admin/federation_queue.html",
        section="queue",
        counts=counts,
        hosts=hosts,
        leased={host.host: host.leased for host in overview.hosts},
        workers=overview.workers,
        retried=request.query.get("retried", "") if request.query.get("retried", "").isdigit() else "",
    )


async def queue_retry(request: web.Request) -> web.Response:
    """POST /admin/queue/retry with a host: its failed deliveries (and retries waiting) are due now."""
    form = await admin_form(request)
    count = await retry_deliveries(get_context(request), form_text(form, "host", 300))
    raise web.HTTPSeeOther("/admin/queue?" + urlencode({"retried": count}))


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/followers", followers_page, name="admin_followers")
    app.router.add_post("/admin/followers/{action:approve|reject}", follower_action)
    app.router.add_get("/admin/queue", queue_page, name="admin_queue")
    app.router.add_post("/admin/queue/retry", queue_retry)
