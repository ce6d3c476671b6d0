"""Admin authentication: an argon2-checked password, a session cookie, a CSRF token per session.

Handlers under /admin call `await require_admin(request)` first; POST handlers also check the form's
`csrf_token` with `check_admin_csrf`. The login page itself lives in web/admin.py.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from aiohttp import web

from fedblog.store.sessions import SessionStore
from fedblog.web.keys import get_context

COOKIE_NAME = "fedblog_admin"
SESSION_LIFETIME = timedelta(days=14)


@dataclass(frozen=True)
class AdminSession:
    token: str
    csrf_token: str


# The session found for this request, so one page asks the database once.
ADMIN_SESSION_KEY = web.RequestKey("fedblog_admin_session", AdminSession)


def sessions(request: web.Request) -> SessionStore:
    return SessionStore(get_context(request).db)


async def current_session(request: web.Request) -> AdminSession | None:
    cached = request.get(ADMIN_SESSION_KEY)
    if cached is not None:
        return cached
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        return None
    csrf = await sessions(request).get_csrf_token(token)
    if csrf is None:
        return None
    session = AdminSession(token=token, csrf_token=csrf)
    request[ADMIN_SESSION_KEY] = session
    return session


async def require_admin(request: web.Request) -> AdminSession:
    """The admin's session, or a redirect to the login page (which brings them back here)."""
    session = await current_session(request)
    if session is None:
        raise web.HTTPSeeOther(f"/admin/login?next={quote(request.path_qs, safe='')}")
    return session


async def check_admin_csrf(request: web.Request, session: AdminSession) -> web.Response | None:
    """Validate the posted csrf_token; return None when fine (reads the form, which aiohttp caches)."""
    form = await request.post()
    sent = str(form.get("csrf_token", ""))
    if not hmac.compare_digest(sent, session.csrf_token):
        raise web.HTTPForbidden(text="CSRF token missing or wrong: reload the page and try again.")
    return None


async def start_session(request: web.Request, response: web.StreamResponse) -> AdminSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    await sessions(request).create(token, csrf, SESSION_LIFETIME)
    ctx = get_context(request)
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=ctx.settings.is_https,
    )
    return AdminSession(token=token, csrf_token=csrf)


async def end_session(request: web.Request, response: web.StreamResponse) -> None:
    token = request.cookies.get(COOKIE_NAME)
    if token:
        await sessions(request).delete(token)
    response.del_cookie(COOKIE_NAME, path="/")
