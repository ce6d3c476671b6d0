"""What every admin page shares: the session check, the CSRF check on POST, rendering, no-store caching.

Other admin modules (posts, comments, federation) use these three calls and nothing else from auth:

    session = await admin_session(request)               # GET: logged in, or a redirect to /admin/login
    form = await admin_form(request)                     # POST: logged in and the form's csrf_token checked (403)
    return render_admin(request, "admin/x.html", section="posts", **values)

Templates extend "admin/layout.html" and fill the blocks `title` and `content`; a POST form adds
`<input type="hidden" name="csrf_token" value="{{ csrf_token }}">`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from fedblog.web.auth import ADMIN_SESSION_KEY, AdminSession, check_admin_csrf, require_admin
from fedblog.web.render import render_html


async def admin_session(request: web.Request) -> AdminSession:
    return await require_admin(request)


async def admin_form(request: web.Request) -> MultiDictProxy[Any]:
    """The posted form of a logged-in admin whose CSRF token matches; otherwise a redirect or 403."""
    session = await require_admin(request)
    await check_admin_csrf(request, session)
    return await request.post()


def render_admin(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    session = request.get(ADMIN_SESSION_KEY)
    csrf_token = session.csrf_token if isinstance(session, AdminSession) else ""
    # The nav links pages that other modules add (followers, queue, mentions…) only once they are routed.
    routed = {resource.canonical for resource in request.app.router.resources()}
    return render_html(request, template, status=status, csrf_token=csrf_token, routed=routed, **values)


def form_text(form: MultiDictProxy[Any], name: str, limit: int = 200_000) -> str:
    """A text field of a posted form ('' when missing or a file), cut to a bound."""
    value = form.get(name, "")
    return value[:limit] if isinstance(value, str) else ""
