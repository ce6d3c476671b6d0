"""Image uploads on the real app: checked by content, bounded, stripped of location, resized, in the library,
served at /media/, sent to the fediverse as attachments with a BlurHash, and the post's og:image."""

from __future__ import annotations

import io
import json
import re

import aiohttp
import pytest
from PIL import Image

from fedblog.services.media import MediaService
from tests.conftest import LiveSite, SiteFactory
from tests.integration.blog_support import get, publish
from tests.integration.studio_support import Admin, logged_in

GPS_IFD = 0x8825


def photo_with_location(width: int = 2000, height: int = 1200) -> bytes:
    """A JPEG as a phone writes it: EXIF with a camera maker and a GPS position."""
    image = Image.new("RGB", (width, height), (30, 120, 200))
    for x in range(0, width, 50):
        image.paste((240, 200, 40), (x, 0, x + 20, height))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2], gps[3], gps[4] = "N", (48.0, 51.0, 24.0), "E", (2.0, 21.0, 3.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    data = buffer.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD), "the fixture must carry a location"
    return data


def small_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (300, 200), (200, 30, 30, 255)).save(buffer, "PNG")
    return buffer.getvalue()


async def upload(
    admin: Admin,
    data: bytes,
    name: str = "photo.jpg",
    alt: str = "A blue and yellow flag",
    as_json: bool = True,
    csrf: str | None = None,
) -> tuple[int, str]:
    form = aiohttp.FormData()
    form.add_field("csrf_token", admin.csrf if csrf is None else csrf)
    form.add_field("alt", alt)
    form.add_field("file", io.BytesIO(data), filename=name, content_type="image/jpeg")
    headers = {"Accept": "application/json"} if as_json else {}
    async with admin.session.post(
        admin.site.url + "/admin/media", data=form, headers=headers, allow_redirects=False
    ) as response:
        return response.status, await response.text()


def media_files(site: LiveSite) -> list[str]:
    folder = site.ctx.settings.media_path
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


async def test_upload__photo_is_stored_without_its_location_with_variants_and_markdown(admin: Admin) -> None:
    status, text = await upload(admin, photo_with_location(), alt="A [striped] flag")
    assert status == 200, text
    answer = json.loads(text)
    url = answer["url"]
    assert url.startswith(admin.site.url + "/media/") and url.endswith("-1600.jpg")
    assert answer["markdown"] == f"![A \\[striped\\] flag]({url})"
    # The files: the original and three smaller variants, on disk in the site's media folder.
    names = media_files(admin.site)
    assert len(names) == 4 and all(name.endswith(".jpg") for name in names)
    async with admin.session.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "image/jpeg"
        assert "immutable" in response.headers["Cache-Control"]
        served = Image.open(io.BytesIO(await response.read()))
    assert served.size == (1600, 960)
    assert not served.getexif().get_ifd(GPS_IFD) and "exif" not in served.info
    for name in names:
        with Image.open(admin.site.ctx.settings.media_path / name) as stored:
            assert not stored.getexif(), f"{name} kept EXIF data"
    # The library lists it with its Markdown to reuse.
    library = await admin.get("/admin/media")
    assert library.status == 200 and "A \\[striped\\] flag" in library.text and url in library.text


@pytest.mark.parametrize(
    ("data", "name", "alt", "message"),
    [
        (b"<?php echo 'hello'; ?>", "innocent.jpg", "alt", "not a JPEG, PNG or WebP image"),
        (b"GIF89a" + b"\x00" * 100, "anim.gif", "alt", "not a JPEG, PNG or WebP image"),
        (small_png(), "red.png", "   ", "describe the image"),
    ],
)
async def test_upload__refused_with_a_clear_message_and_nothing_kept(
    admin: Admin, data: bytes, name: str, alt: str, message: str
) -> None:
    status, text = await upload(admin, data, name=name, alt=alt)
    assert status == 400 and message in json.loads(text)["error"]
    assert media_files(admin.site) == []
    assert await MediaService(admin.site.ctx).store.count() == 0
    # The form without JavaScript shows the same message on the library page, with the alt text kept.
    status, page = await upload(admin, data, name=name, alt=alt, as_json=False)
    assert status == 400 and message in page and 'role="alert"' in page


async def test_upload__larger_than_the_limit_is_refused(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"media": {"max_upload_mb": 1}})
    async with logged_in(site) as admin:
        status, text = await upload(admin, b"\xff\xd8" + b"\x00" * (1024 * 1024 + 10))
    assert status == 400 and "larger than 1 MB" in json.loads(text)["error"]
    assert media_files(site) == []


async def test_upload__without_the_csrf_token_is_forbidden(admin: Admin) -> None:
    status, _text = await upload(admin, small_png(), csrf="forged")
    assert status == 403
    assert media_files(admin.site) == []


async def test_upload__needs_a_logged_in_admin(site: LiveSite) -> None:
    async with aiohttp.ClientSession() as session:
        form = aiohttp.FormData()
        form.add_field("file", small_png(), filename="a.png")
        async with session.post(site.url + "/admin/media", data=form, allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"].startswith("/admin/login")
    assert media_files(site) == []


async def test_library__delete_removes_the_files_and_the_entry(admin: Admin) -> None:
    status, text = await upload(admin, small_png(), name="red.png", alt="A red square")
    assert status == 200
    item_id = json.loads(text)["id"]
    assert media_files(admin.site)
    page = await admin.post(f"/admin/media/{item_id}/delete", {})
    assert page.status == 303
    assert media_files(admin.site) == []
    library = await admin.get("/admin/media?deleted=1")
    assert "The image was deleted." in library.text and "A red square" not in library.text
    async with admin.session.get(json.loads(text)["url"]) as response:
        assert response.status == 404


async def test_post__images_go_out_as_attachments_with_blurhash_and_the_first_is_og_image(admin: Admin) -> None:
    _status, text = await upload(admin, photo_with_location(), alt="A blue and yellow flag")
    answer = json.loads(text)
    body = f"Look:\n\n{answer['markdown']}\n\nand another: ![A distant tree](https://images.example/tree.png)"
    post = await publish(admin.site, "Flags", body=body)
    async with admin.session.get(
        admin.site.url + f"/posts/{post.slug}", headers={"Accept": "application/activity+json"}
    ) as response:
        note = json.loads(await response.text())
    own, other = note["attachment"]
    assert own["type"] == "Image" and own["url"] == answer["url"] and own["name"] == "A blue and yellow flag"
    assert own["mediaType"] == "image/jpeg" and (own["width"], own["height"]) == (1600, 960)
    assert re.fullmatch(r"[0-9A-Za-z#$%*+,\-.:;=?@\[\]^_{|}~]{28}", own["blurhash"])
    assert other == {
        "type": "Image",
        "url": "https://images.example/tree.png",
        "name": "A distant tree",
        "mediaType": "image/png",
    }
    assert any(isinstance(entry, dict) and entry.get("blurhash") == "toot:blurhash" for entry in note["@context"])
    # The Create sent to followers carries the same attachment.
    page = await get(admin.site, f"/posts/{post.slug}")
    assert f'<meta property="og:image" content="{answer["url"]}">' in page.text
    assert 'name="twitter:card" content="summary_large_image"' in page.text
