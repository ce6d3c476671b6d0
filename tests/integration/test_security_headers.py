"""Every answer carries the security headers (cached pages too), and admin answers are never stored."""

from __future__ import annotations

from fedblog.web.middleware import CSP, not_found_answers
from tests.conftest import LiveSite
from tests.integration.blog_support import get, publish

AS2 = {"Accept": "application/activity+json"}


async def test_security_headers__html_pages_fresh_cached_and_errors(site: LiveSite) -> None:
    await publish(site, "Guarded", slug="guarded")
    pages = [await get(site, "/posts/guarded"), await get(site, "/posts/guarded"), await get(site, "/posts/nope")]
    assert [page.status for page in pages] == [200, 200, 404]
    for page in pages:
        assert page.headers["Content-Security-Policy"] == CSP
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert page.headers.getall("Content-Security-Policy") == [CSP]  # once, not once per layer


async def test_security_headers__activitypub_documents_get_nosniff_without_page_policies(site: LiveSite) -> None:
    await publish(site, "Noted", slug="noted")
    for note in (await get(site, "/posts/noted", headers=AS2), await get(site, "/posts/noted", headers=AS2)):
        assert note.headers["Content-Type"].startswith("application/activity+json")
        assert note.headers["X-Content-Type-Options"] == "nosniff"
        assert "Content-Security-Policy" not in note.headers


async def test_admin_answers__never_stored_but_the_admin_stylesheet_is(site: LiveSite) -> None:
    redirect = await get(site, "/admin/posts")
    login = await get(site, "/admin/login")
    stylesheet = await get(site, "/admin/admin.css")
    assert redirect.status == 303 and redirect.headers["Cache-Control"] == "no-store"
    assert redirect.headers["X-Content-Type-Options"] == "nosniff"
    assert login.status == 200 and login.headers["Cache-Control"] == "no-store"
    assert stylesheet.status == 200 and stylesheet.headers["Cache-Control"] == "public, max-age=3600"
    assert (await get(site, "/administrator")).headers.get("Cache-Control") != "no-store"


async def test_error_page__a_failing_404_hook_gives_the_500_page_with_its_headers(site: LiveSite) -> None:
    async def broken(_request: object) -> None:
        raise RuntimeError("database is locked")

    not_found_answers(site.app).insert(0, broken)
    try:
        page = await get(site, "/posts/absent")
    finally:
        not_found_answers(site.app).remove(broken)
    assert page.status == 500 and "<html" in page.text and "database is locked" not in page.text
    assert page.headers["Content-Security-Policy"] == CSP
