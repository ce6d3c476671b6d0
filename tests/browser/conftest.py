"""Playwright driving Debian's Chromium (/usr/bin/chromium), headless, against the live app."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright

from tests import netguard

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium package")
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()


@pytest.fixture
async def browser_context(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(locale="en-US")
    await context.route("**/*", _loopback_only)
    context.set_default_timeout(10_000)
    try:
        yield context
    finally:
        await context.close()


@pytest.fixture
async def page(browser_context: BrowserContext) -> Page:
    return await browser_context.new_page()


async def _loopback_only(route: Route) -> None:
    """The browser's share of the test network guard: a request off loopback is aborted and fails the test."""
    host = urlsplit(route.request.url).hostname
    if host is None or netguard.is_loopback_ip(host) or host.lower() in netguard.LOOPBACK_NAMES:
        await route.continue_()
        return
    netguard.record(f"browser request to {route.request.url[:200]!r}")
    await route.abort("blockedbyclient")
