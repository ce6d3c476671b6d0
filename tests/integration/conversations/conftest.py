"""Fixtures shared by the conversation tests: a loopback "remote Mastodon" and a blog that talks to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import LiveSite, SiteFactory
from tests.fakes.remote import RemoteInstance

OPEN = {"comments": {"moderation": "open"}}


@pytest.fixture
async def remote() -> AsyncIterator[RemoteInstance]:
    server = await RemoteInstance(avatars=True).start()
    try:
        yield server
    finally:
        await server.close()


@pytest.fixture
async def open_site(site_factory: SiteFactory, remote: RemoteInstance) -> LiveSite:
    """A blog whose moderation is open, so replies show at once; `remote` knows it."""
    created = await site_factory(overrides=OPEN)
    remote.site = created
    return created


@pytest.fixture
async def site(open_site: LiveSite) -> LiveSite:
    return open_site
