"""A commenter's links from their e-mails: confirm the address, see their subscriptions, stop one or all.

Every page is reached with a token from an e-mail (services/subscriptions.py) and never shows an address. A GET only
shows a button: mail scanners open links, and must not confirm or stop anything. The POSTs act; the stop URLs also
take RFC 8058's one-click POST (`List-Unsubscribe=One-Click`) that mail clients send from their servers, so they
need no form token: the token in the URL is the permission.
"""

from __future__ import annotations

from aiohttp import web

from fedblog.services.subscriptions import Purpose, SubscriptionService, make_token, read_token
from fedblog.web.keys import get_context
from fedblog.web.render import render_html

# (The site's Referrer-Policy, strict-origin-when-cross-origin, already keeps the token out of other sites' logs.)
NO_TRACE = {"Cache-Control": "private, no-store"}


def page(request: web.Request, mode: str, status: int = 200, **values: object) -> web.Response:
    token = request.query.get("token", "")[:200]
    response = render_html(request, "blog/subscriptions.html", status=status, mode=mode, token=token, **values)
    response.headers.update(NO_TRACE)
    return response


def invalid(request: web.Request) -> web.Response:
    return page(request, "invalid", status=404)


async def manage(request: web.Request) -> web.Response:
    service = SubscriptionService(get_context(request))
    subscriber = await service.subscriber_for(Purpose.MANAGE, request.query.get("token", ""))
    if subscriber is None:
        return invalid(request)
    return page(
        request,
        "manage",
        items=await service.subscriptions(subscriber),
        confirmed=subscriber.confirmed_at is not None,
        stop_all_token=make_token(get_context(request), Purpose.STOP_ALL, subscriber.id),
    )


async def confirm_form(request: web.Request) -> web.Response:
    service = SubscriptionService(get_context(request))
    if await service.subscriber_for(Purpose.CONFIRM, request.query.get("token", "")) is None:
        return invalid(request)
    return page(request, "confirm")


async def confirm(request: web.Request) -> web.Response:
    if not await SubscriptionService(get_context(request)).confirm(request.query.get("token", "")):
        return invalid(request)
    return page(request, "confirmed")


def token_for(request: web.Request, purpose: Purpose) -> str | None:
    token = request.query.get("token", "")
    return token if read_token(get_context(request), purpose, token) is not None else None


async def stop_form(request: web.Request) -> web.Response:
    return page(request, "stop") if token_for(request, Purpose.STOP) else invalid(request)


async def stop(request: web.Request) -> web.Response:
    """One thread; also the one-click POST of a mail client. Stopping twice gives the same answer."""
    token = token_for(request, Purpose.STOP)
    if token is None:
        return invalid(request)
    stopped = await SubscriptionService(get_context(request)).stop(token)
    return page(request, "stopped", post_title=stopped.post_title if stopped else "")


async def stop_all_form(request: web.Request) -> web.Response:
    return page(request, "stop_all") if token_for(request, Purpose.STOP_ALL) else invalid(request)


async def stop_all(request: web.Request) -> web.Response:
    """Every thread: the address is forgotten (stopping twice gives the same answer)."""
    token = token_for(request, Purpose.STOP_ALL)
    if token is None:
        return invalid(request)
    await SubscriptionService(get_context(request)).stop_all(token)
    return page(request, "stopped_all")


def setup(app: web.Application) -> None:
    router = app.router
    router.add_get("/subscriptions", manage)
    router.add_get("/subscriptions/confirm", confirm_form)
    router.add_post("/subscriptions/confirm", confirm)
    router.add_get("/subscriptions/stop", stop_form)
    router.add_post("/subscriptions/stop", stop)
    router.add_get("/subscriptions/stop-all", stop_all_form)
    router.add_post("/subscriptions/stop-all", stop_all)
