"""Fixtures shared by the integration tests (the site itself is in tests/conftest.py): loopback remote instances
a logged-in admin session, and a real SMTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import LiveSite, free_port
from tests.fakes.mail import SmtpInbox
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


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpInbox]:
    """aiosmtpd on 127.0.0.1, keeping what it accepts (tests/fakes/mail.py)."""
    async with SmtpInbox(free_port()) as inbox:
        yield inbox
