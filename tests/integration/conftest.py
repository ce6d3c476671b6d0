"""Fixtures shared by the integration tests (the site itself is in tests/conftest.py): loopback remote instances
and a logged-in admin session."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import LiveSite
from tests.fakes.remote import RemoteInstance
from tests.integration.studio_support import Admin, logged_in


@pytest.fixture
async def remotes() -> AsyncIterator[list[RemoteInstance]]:
    """The remote instances a test starts (appends here), closed after it."""
    started: list[RemoteInstance] = []
    yield started
    for remote in started:
        await remote.close()


@pytest.fixture
async def admin(site: LiveSite) -> AsyncIterator[Admin]:
    """The author logged in to the admin of `site`."""
    async with logged_in(site) as session:
        yield session
