"""Domain blocklists on the real app: Mastodon's CSV export uploaded, or fetched from a URL (a loopback server
plays the list's host) and re-synced; the SSRF guard refuses private addresses outside tests."""

from __future__ import annotations

import io

import aiohttp
from aiohttp import web

from fedblog.services.blocks import is_blocked, list_blocks
from tests.conftest import LiveSite, SiteFactory
from tests.integration.studio_support import Admin, logged_in

EXPORT = """#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate
spam.example,suspend,false,false,Spam,false
loud.example,silence,true,false,,false
harass.example,suspend,true,true,,false
"""


async def import_list(admin: Admin, *, file: str | None = None, url: str = "") -> tuple[int, str]:
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("csrf_token", admin.csrf)
    form.add_field("url", url)
    if file is not None:
        form.add_field("file", io.BytesIO(file.encode()), filename="domain_blocks.csv", content_type="text/csv")
    async with admin.session.post(admin.site.url + "/admin/blocks/lists", data=form) as response:
        return response.status, await response.text()


async def domains(site: LiveSite) -> set[str]:
    return {block.value for block in await list_blocks(site.ctx) if block.kind == "domain"}


async def test_import__uploaded_export_blocks_the_suspended_domains(admin: Admin) -> None:
    status, text = await import_list(admin, file=EXPORT)
    assert status == 200, text
    assert "2 domains in the list: 2 newly blocked, 0 unblocked, 1 skipped." in text.replace("\n", " ")
    assert await domains(admin.site) == {"spam.example", "harass.example"}
    assert await is_blocked(admin.site.ctx, "https://social.spam.example/users/bot")
    status, text = await import_list(admin, file="just,some\ncolumns,here\n")
    assert status == 400 and "not a domain blocklist" in text


async def test_import__from_a_url_then_resync_follows_the_list_and_keeps_manual_blocks(admin: Admin) -> None:
    site = admin.site
    served = {"body": EXPORT}

    async def blocklist(_request: web.Request) -> web.Response:
        return web.Response(text=served["body"], content_type="text/csv")

    async def moved(_request: web.Request) -> web.Response:
        raise web.HTTPFound("/blocklist.csv")

    app = web.Application()
    app.router.add_get("/blocklist.csv", blocklist)
    app.router.add_get("/old.csv", moved)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    list_site = web.TCPSite(runner, "127.0.0.1", 0)
    await list_site.start()
    port = list_site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/old.csv"
    try:
        status, text = await import_list(admin, url=url)
        assert status == 200, text
        assert await domains(site) == {"spam.example", "harass.example"}
        # The author also blocks harass.example by hand? It was already blocked by the list; block another by hand.
        page = await admin.post("/admin/blocks", {"value": "manual.example"})
        assert page.status == 303
        served["body"] = "#domain,#severity\nharass.example,suspend\nnew.example,suspend\nmanual.example,suspend\n"
        resynced = await admin.post("/admin/blocks/lists/resync", {"url": url})
        assert resynced.status == 200
        assert "3 domains in the list: 1 newly blocked, 1 unblocked, 0 skipped." in resynced.text.replace("\n", " ")
        assert await domains(site) == {"harass.example", "new.example", "manual.example"}
        # manual.example was blocked by hand: when the list drops it, it stays blocked.
        served["body"] = "#domain,#severity\nharass.example,suspend\n"
        await admin.post("/admin/blocks/lists/resync", {"url": url})
        assert await domains(site) == {"harass.example", "manual.example"}
    finally:
        await runner.cleanup()


async def test_import__a_private_address_is_refused_by_the_ssrf_guard(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"federation": {"allow_private_addresses": False}})
    async with logged_in(site) as admin:
        status, text = await import_list(admin, url=f"{site.url}/robots.txt")
        assert status == 400 and "could not be fetched" in text and "not a public address" in text
        status, text = await import_list(admin, url="file:///etc/passwd")
        assert status == 400 and "could not be fetched" in text
    assert await domains(site) == set()
