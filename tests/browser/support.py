"""What several browser tests share: the author logging in from the page a person sees."""

from __future__ import annotations

from playwright.async_api import Page

from tests.conftest import ADMIN_PASSWORD, LiveSite


async def log_in(page: Page, site: LiveSite, path: str) -> None:
    await page.goto(site.url + path)
    await page.get_by_label("Password").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
