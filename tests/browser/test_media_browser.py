"""The editor's image upload in a real browser: a chosen file and a dropped file become Markdown in the text,
with the alt text required first."""

from __future__ import annotations

import base64
import io
import re

from PIL import Image
from playwright.async_api import Page, expect

from tests.browser.support import log_in
from tests.conftest import LiveSite


def png_bytes(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 400), colour).save(buffer, "PNG")
    return buffer.getvalue()


async def test_editor__chosen_and_dropped_images_are_inserted_as_markdown(site: LiveSite, page: Page) -> None:
    await log_in(page, site, "/admin/posts/new")
    body = page.get_by_label("Text (Markdown)")
    await body.fill("Before the picture.")
    box = page.locator("#media-drop")
    await expect(box).to_be_visible()

    # A file chosen without alt text is not sent: the author is asked for it.
    await box.get_by_label("Image").set_input_files(
        files=[{"name": "sea.png", "mimeType": "image/png", "buffer": png_bytes((20, 90, 160))}]
    )
    await expect(page.locator("#editor-image-status")).to_contain_text("Write the alt text")
    assert await site.ctx.db.fetch_value("SELECT COUNT(*) FROM media") == 0
    await box.get_by_label("Alt text").fill("The sea at dusk")
    await box.get_by_role("button", name="Insert image").click()
    await expect(page.locator("#editor-image-status")).to_have_text("Image inserted.")
    text = await body.input_value()
    assert text.startswith("Before the picture.\n\n![The sea at dusk](" + site.url + "/media/")

    # A dropped file, with its alt text typed first, is sent at once.
    await box.get_by_label("Alt text").fill("A green field")
    payload = base64.b64encode(png_bytes((40, 160, 60))).decode()
    await box.evaluate(
        """(box, payload) => {
            const bytes = Uint8Array.from(atob(payload), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "field.png", { type: "image/png" }));
            box.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        }""",
        payload,
    )
    await expect(body).to_have_value(re.compile(r"!\[A green field\]\(http://127\.0\.0\.1:\d+/media/"))

    # Both are in the library, and a refused file says why without touching the text.
    await expect(page.locator("#editor-image-status")).to_have_text("Image inserted.")
    before = await body.input_value()
    await box.get_by_label("Alt text").fill("Not an image")
    await box.get_by_label("Image").set_input_files(
        files=[{"name": "notes.png", "mimeType": "image/png", "buffer": b"just some text"}]
    )
    await expect(page.locator("#editor-image-status")).to_contain_text("not a JPEG, PNG or WebP image")
    assert await body.input_value() == before
    await page.goto(site.url + "/admin/media")
    await expect(page.locator(".media-entry")).to_have_count(2)
    await expect(page.locator(".media-entry img").first).to_have_attribute("alt", "A green field")


async def test_editor__an_image_uploaded_in_the_library_is_reused_from_the_editor(site: LiveSite, page: Page) -> None:
    # Given an image uploaded with the library's own form (no script involved)
    await log_in(page, site, "/admin/media")
    await page.get_by_label("Image", exact=True).set_input_files(
        files=[{"name": "dunes.png", "mimeType": "image/png", "buffer": png_bytes((200, 170, 90))}]
    )
    await page.get_by_label("Alt text").fill("Sand dunes at noon")
    await page.get_by_role("button", name="Upload").click()
    markdown = await page.locator(".media-markdown").first.input_value()
    assert markdown.startswith("![Sand dunes at noon](" + site.url + "/media/")
    # When the author opens the editor's list of uploads and picks it
    await page.goto(site.url + "/admin/posts/new")
    body = page.get_by_label("Text (Markdown)")
    await body.fill("Look:")
    await page.get_by_text("Insert an image already uploaded").click()
    await page.get_by_role("button", name="Sand dunes at noon").click()
    # Then its Markdown is in the text
    await expect(body).to_have_value("Look:\n\n" + markdown + "\n")
