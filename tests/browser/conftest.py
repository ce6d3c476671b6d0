"""Playwright driving Debian's Chromium (/usr/bin/chromium), headless, against the live app.

One Chromium per test process (starting Playwright's driver and the browser cost seconds a test), a fresh
browser context (cookies, storage) per test. Playwright's objects belong to the event loop that started them,
so the browser tests, and the sites they visit, run on one event loop for the package.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright

from tests import netguard
from tests.conftest import LiveSite, SiteFactory, live_sites

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Flags as the machine's notes advise: the closed network refuses Chromium's background connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


LOOP = "package"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            # First, so that it is the closest asyncio mark (pytest-asyncio's auto mode adds a plain one).
            item.add_marker(pytest.mark.asyncio(loop_scope=LOOP), append=False)


@pytest_asyncio.fixture(loop_scope=LOOP, scope="package")
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package")
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()


@pytest_asyncio.fixture(loop_scope=LOOP)
async def browser_context(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(locale="en-US")
    await context.route("**/*", _loopback_only)
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        await context.close()


@pytest_asyncio.fixture(loop_scope=LOOP)
async def page(browser_context: BrowserContext) -> Page:
    return await browser_context.new_page()


@pytest_asyncio.fixture(loop_scope=LOOP)
async def site_factory(tmp_path: Path) -> AsyncIterator[SiteFactory]:
    """tests/conftest.py's live sites, served on the browser's event loop."""
    async with live_sites(tmp_path) as start:
        yield start


@pytest_asyncio.fixture(loop_scope=LOOP)
async def site(site_factory: SiteFactory) -> LiveSite:
    return await site_factory()


async def _loopback_only(route: Route) -> None:
    """The browser's share of the test network guard: a request off loopback is aborted and fails the test."""
    host = urlsplit(route.request.url).hostname
    if host is None or netguard.is_loopback_ip(host) or host.lower() in netguard.LOOPBACK_NAMES:
        await route.continue_()
        return
    netguard.record(f"browser request to {route.request.url[:200]!r}")
    await route.abort("blockedbyclient")
