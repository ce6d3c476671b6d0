"""A logged-in admin for the tests of the author's pages (admin, media, settings, dashboard, moderation)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import aiohttp

from tests.conftest import LiveSite
from tests.helpers import ADMIN_CSRF_RE, log_in
from tests.integration.blog_support import Page, get, new_session, post_form


class Admin:
    """A logged-in browser session: its cookie jar and the session's CSRF token."""

    def __init__(self, site: LiveSite, session: aiohttp.ClientSession, csrf: str) -> None:
        self.site = site
        self.session = session
        self.csrf = csrf

    async def get(self, path: str) -> Page:
        return await get(self.site, path, self.session)

    async def post(self, path: str, data: dict[str, str], with_csrf: bool = True) -> Page:
        return await post_form(self.site, path, {**data, "csrf_token": self.csrf} if with_csrf else data, self.session)


@contextlib.asynccontextmanager
async def logged_in(site: LiveSite) -> AsyncIterator[Admin]:
    session = new_session()
    try:
        assert (await log_in(site, session)).status == 303
        page = await get(site, "/admin", session)
        match = ADMIN_CSRF_RE.search(page.text)
        assert page.status == 200 and match
        yield Admin(site, session, match.group(1))
    finally:
        await session.close()


def post_fields(**values: str) -> dict[str, str]:
    """The admin's post form, every field given (empty unless set)."""
    fields = {"title": "", "slug": "", "tags": "", "language": "en", "summary": "", "date": "", "body": ""}
    fields.update(values)
    return fields
