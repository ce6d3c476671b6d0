"""/admin: login, logout, the dashboard; the posts and comments pages live in admin_posts and admin_comments.

Login is a password only (one author), checked with argon2 in a worker thread so the event loop keeps serving.
Failed attempts are counted per client address: after LOGIN_ATTEMPTS failures in LOGIN_WINDOW seconds the
login answers 429 with Retry-After until the window has passed.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from aiohttp import web

from fedblog.models import CommentStatus, PostState
from fedblog.passwords import verify_password
from fedblog.services.notifications import notification_summary
from fedblog.web import admin_comments, admin_posts, admin_settings
from fedblog.web.admin_base import admin_form, admin_session, form_text, render_admin
from fedblog.web.auth import current_session, end_session, start_session
from fedblog.web.dashboard_stats import dashboard_values
from fedblog.web.keys import CONTEXT_KEY, STATE_KEY, get_context
from fedblog.web.origin_check import posted_from_this_site
from fedblog.web.ratelimit import SharedRateLimiter, client_ip
from fedblog.web.render import TEMPLATES_DIR, render_html

LOGIN_ATTEMPTS = 5
LOGIN_WINDOW = 300
MAX_PASSWORD = 1024
ADMIN_CSS = TEMPLATES_DIR / "admin" / "admin.css"


def login_limiter(app: web.Application) -> SharedRateLimiter:
    state = app[STATE_KEY]
    if state.login_limiter is None:
        state.login_limiter = SharedRateLimiter(app[CONTEXT_KEY].db, "login", LOGIN_ATTEMPTS, LOGIN_WINDOW)
    return state.login_limiter


def safe_next(target: str) -> str:
    """Where to go after logging in: a path on this site only ('/…', never '//host', '/\\host' or a URL)."""
    if not target.startswith("/") or target.startswith(("//", "/\\")) or len(target) > 2000:
        return "/admin"
    if any(ord(char) < 0x20 or char in "\\\x7f" for char in target):
        return "/admin"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/admin"
    return target


def login_page(request: web.Request, next_path: str, error: str = "", status: int = 200) -> web.Response:
    return render_admin(request, "admin/login.html", status=status, next_path=next_path, error=error)


def too_many_attempts(request: web.Request, retry_after: int) -> web.Response:
    _ = get_context(request).i18n.gettext
    minutes = max(1, (retry_after + 59) // 60)
    message = _("Too many failed login attempts. Please wait %(minutes)d minutes and try again.") % {"minutes": minutes}
    response = render_html(request, "errors/error.html", status=429, error=web.HTTPTooManyRequests(), message=message)
    response.headers["Retry-After"] = str(retry_after)
    return response


async def show_login(request: web.Request) -> web.Response:
    next_path = safe_next(request.query.get("next", "/admin"))
    if await current_session(request) is not None:
        raise web.HTTPSeeOther(next_path)
    return login_page(request, next_path)


async def submit_login(request: web.Request) -> web.Response:
    ctx = get_context(request)
    _ = ctx.i18n.gettext
    if not posted_from_this_site(request):
        raise web.HTTPForbidden(text="This login form was sent from another site.")
    limiter = login_limiter(request.app)
    ip = client_ip(request)
    retry_after = await limiter.retry_after(ip)
    if retry_after:
        return too_many_attempts(request, retry_after)
    form = await request.post()
    next_path = safe_next(form_text(form, "next", 2000) or "/admin")
    password = form_text(form, "password", MAX_PASSWORD + 1)
    stored = ctx.settings.admin.password_hash
    valid = len(password) <= MAX_PASSWORD and await asyncio.to_thread(verify_password, stored, password)
    if not valid:
        await limiter.allow(ip)
        return login_page(request, next_path, error=_("Wrong password."), status=401)
    await limiter.reset(ip)
    response = web.HTTPSeeOther(next_path)
    await start_session(request, response)
    raise response


async def logout(request: web.Request) -> web.Response:
    await admin_form(request)
    response = web.HTTPSeeOther("/admin/login")
    await end_session(request, response)
    raise response


async def dashboard(request: web.Request) -> web.Response:
    await admin_session(request)
    ctx = get_context(request)
    counts = await ctx.comments.count_by_status()
    posts = await ctx.posts.list_all()
    drafts = sum(1 for post in posts if post.state is PostState.DRAFT)
    return render_admin(
        request,
        "admin/dashboard.html",
        section="dashboard",
        pending=counts.get(CommentStatus.PENDING.value, 0),
        approved=counts.get(CommentStatus.APPROVED.value, 0),
        spam=counts.get(CommentStatus.SPAM.value, 0),
        published=sum(1 for post in posts if post.is_public),
        drafts=drafts,
        recent_posts=posts[:5],
        notifications=await notification_summary(ctx),
        **await dashboard_values(request),
    )


async def stylesheet(_request: web.Request) -> web.FileResponse:
    return web.FileResponse(ADMIN_CSS, headers={"Cache-Control": "public, max-age=3600"})


def setup(app: web.Application) -> None:
    router = app.router
    router.add_get("/admin", dashboard, name="admin")
    router.add_get("/admin/", dashboard)
    router.add_get("/admin/login", show_login, name="admin_login")
    router.add_post("/admin/login", submit_login)
    router.add_post("/admin/logout", logout, name="admin_logout")
    router.add_get("/admin/admin.css", stylesheet, name="admin_css")
    admin_posts.setup(app)
    admin_comments.setup(app)
    admin_settings.setup(app)
