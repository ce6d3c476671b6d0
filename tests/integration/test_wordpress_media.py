"""`--media download`: the old site's uploads, served by a loopback server playing the old WordPress, fetched through
the guarded client into the media folder; references rewritten, old upload URLs redirected."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from aiohttp import web

from bench.wordpress_export import WpItem, export
from fedblog.services.wordpress_import import import_wordpress, scan_export
from fedblog.services.wordpress_media import download_media
from tests.conftest import LiveSite, SiteFactory
from tests.integration.wxr_support import write_export

JPEG = b"\xff\xd8\xff\xe0" + b"fake jpeg body" * 10


async def old_wordpress() -> tuple[web.AppRunner, str, list[str]]:
    asked: list[str] = []

    async def upload(request: web.Request) -> web.Response:
        asked.append(request.path)
        name = request.match_info["name"]
        if name == "chat.jpg":
            return web.Response(body=JPEG, content_type="image/jpeg")
        if name == "dessin.svg":
            return web.Response(text="<svg onload='alert(1)'/>", content_type="image/svg+xml")
        return web.Response(status=404)

    app = web.Application()
    app.router.add_get("/wp-content/uploads/2009/03/{name}", upload)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}", asked


async def test_media_download__files_fetched_references_rewritten_old_urls_redirected(
    site: LiveSite, tmp_path: Path
) -> None:
    runner, old, asked = await old_wordpress()
    try:
        body = (
            f'<p><img src="{old}/wp-content/uploads/2009/03/chat.jpg" alt="Chat"></p>'
            f'<p><img src="{old}/wp-content/uploads/2009/03/absent.jpg" alt="Absent"></p>'
            f'<p><a href="{old}/wp-content/uploads/2009/03/dessin.svg">dessin</a></p>'
        )
        items = [
            WpItem(1, "Avec images", "avec-images", content=body),
            WpItem(2, "chat", "chat", type="attachment", attachment_url=f"{old}/wp-content/uploads/2009/03/chat.jpg"),
        ]
        path = write_export(tmp_path / "export.xml", export(items))
        scan = scan_export(path)
        media = await download_media(site.ctx, scan.media)
        report = await import_wordpress(site.ctx, path, media_urls=media.urls, scan=scan)
    finally:
        await runner.cleanup()
    assert sorted(asked) == sorted(
        [
            "/wp-content/uploads/2009/03/chat.jpg",
            "/wp-content/uploads/2009/03/absent.jpg",
            "/wp-content/uploads/2009/03/dessin.svg",
        ]
    )  # each once, the attachment and the body's image being the same URL
    stored = site.settings.media_path / "wordpress" / "2009" / "03" / "chat.jpg"
    assert stored.read_bytes() == JPEG
    assert not (site.settings.media_path / "wordpress" / "2009" / "03" / "dessin.svg").exists()
    assert media.failed == {"HTTP 404": 1, "not a media file (image/svg+xml)": 1}
    assert report.media == 1
    post = await site.ctx.posts.get_post_by_slug("avec-images")
    assert post is not None
    assert f'src="{site.url}/media/wordpress/2009/03/chat.jpg"' in post.body_html
    assert f'src="{old}/wp-content/uploads/2009/03/absent.jpg"' in post.body_html  # kept: not downloaded
    async with aiohttp.ClientSession() as session:
        async with session.get(site.url + "/wp-content/uploads/2009/03/chat.jpg", allow_redirects=False) as answer:
            assert answer.status == 301
            assert answer.headers["Location"] == site.url + "/media/wordpress/2009/03/chat.jpg"
        async with session.get(site.url + "/media/wordpress/2009/03/chat.jpg") as answer:
            assert answer.status == 200 and answer.content_type == "image/jpeg"
            assert await answer.read() == JPEG
        async with session.get(site.url + "/media/wordpress/..%2F..%2Ffedblog.toml") as answer:
            assert answer.status == 404


async def test_media_download__private_addresses_refused_by_the_guard(site_factory: SiteFactory) -> None:
    # A site that does not allow private addresses (production): the old site on loopback is never contacted
    site = await site_factory(overrides={"federation": {"allow_private_addresses": False}})
    runner, old, asked = await old_wordpress()
    try:
        media = await download_media(site.ctx, [f"{old}/wp-content/uploads/2009/03/chat.jpg"])
    finally:
        await runner.cleanup()
    assert asked == [] and media.urls == {}
    assert sum(media.failed.values()) == 1 and "not a public address" in next(iter(media.failed))
