"""Fixtures shared by the integration tests (the site itself is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.remote import RemoteInstance


@pytest.fixture
async def remotes() -> AsyncIterator[list[RemoteInstance]]:
    """The remote instances a test starts (appends here), closed after it."""
    started: list[RemoteInstance] = []
    yield started
    for remote in started:
        await remote.close()
