"""A logged-in admin for the studio tests (media, settings, dashboard, moderation)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from tests.conftest import LiveSite
from tests.helpers import ADMIN_CSRF_RE, log_in
from tests.integration.blog_support import get, new_session
from tests.integration.test_admin import Admin


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
