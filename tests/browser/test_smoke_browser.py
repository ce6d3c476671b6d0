from playwright.async_api import Page

from tests.conftest import LiveSite


async def test_error_page__unknown_address_shows_not_found(site: LiveSite, page: Page) -> None:
    response = await page.goto(site.url + "/no-such-page")
    assert response is not None and response.status == 404
    assert await page.locator("h1").inner_text() == "Page not found"
