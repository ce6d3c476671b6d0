"""The search box in the site header, in a real browser (no JavaScript involved)."""

from __future__ import annotations

from playwright.async_api import Page, expect

from tests.conftest import LiveSite
from tests.integration.blog_support import publish


async def test_header_search_box__finds_a_post_and_keeps_the_words(site: LiveSite, page: Page) -> None:
    # Given a post about a lighthouse
    await publish(site, "Lighthouse keeping", "Trimming the wick every evening.")
    await publish(site, "Something else", "Nothing to see.")
    # When a visitor types a word in the header's search box (found by its label) and presses Enter
    await page.goto(site.url + "/")
    box = page.get_by_role("banner").get_by_role("searchbox", name="Search the posts")
    await box.fill("wick")
    await box.press("Enter")
    # Then the results page lists the post, with the word marked, and its search box holds the words
    await expect(page.get_by_role("heading", level=1)).to_have_text("Results for “wick”")
    await expect(page.locator("article.search-result")).to_have_count(1)
    await expect(page.locator("article.search-result mark")).to_have_text("wick")
    await expect(page.get_by_role("searchbox", name="Search the posts")).to_have_value("wick")
    await page.get_by_role("link", name="Lighthouse keeping").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Lighthouse keeping")


async def test_header_search_box__button_submits_too(site: LiveSite, page: Page) -> None:
    await page.goto(site.url + "/archive")

    await page.get_by_role("banner").get_by_role("searchbox", name="Search the posts").fill("nothing")
    await page.get_by_role("banner").get_by_role("button", name="Search").click()

    await expect(page.get_by_text("No results for “nothing”.")).to_be_visible()
    await expect(page.get_by_role("searchbox")).to_have_count(1)  # the page's own box, no second one in the header
