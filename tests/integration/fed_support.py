"""Helpers for the federation tests: AS2 GETs, and waiting for background work without timing assertions."""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp

AS2 = "application/activity+json"
LD_PROFILE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


async def fetch(url: str, accept: str = AS2, headers: dict[str, str] | None = None) -> tuple[int, Any, str]:
    """(status, headers, text) of a GET that does not follow redirects (ids are served with 200)."""
    sent = {"Accept": accept, **(headers or {})}
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers=sent, allow_redirects=False) as response,
    ):
        return response.status, response.headers, await response.text()


async def fetch_json(url: str, accept: str = AS2) -> dict[str, Any]:
    status, headers, text = await fetch(url, accept)
    assert status == 200, (url, status, text)
    assert headers["Content-Type"] == AS2
    return json.loads(text)


async def admin_session(site: Any) -> tuple[aiohttp.ClientSession, str]:
    """A logged-in admin browser session and its CSRF token (the caller closes the session)."""
    from tests.conftest import ADMIN_PASSWORD
    from tests.integration.blog_support import get, new_session, post_form

    session = new_session()
    login = await post_form(site, "/admin/login", {"password": ADMIN_PASSWORD}, session)
    assert login.status == 303
    page = await get(site, "/admin", session)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    return session, match.group(1)
