"""The subscribe template advertised by WebFinger (/authorize_interaction?uri=…) answers."""

from __future__ import annotations

import aiohttp

from fedblog.services.posts import PostInput, PostService
from tests.conftest import LiveSite


async def get(site: LiveSite, query: str) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as session:
        response = await session.get(site.url + "/authorize_interaction" + query, allow_redirects=False)
        await response.read()
        return response


async def test_authorize_interaction__our_post_opens_its_page(site: LiveSite) -> None:
    post = await PostService(site.ctx).publish(PostInput(title="Hello", body_markdown="Body"))
    response = await get(site, "?uri=" + site.ctx.urls.note(post.slug))
    assert response.status == 303
    assert response.headers["Location"] == site.ctx.urls.post(post.slug)


async def test_authorize_interaction__remote_uri_is_explained_not_redirected(site: LiveSite) -> None:
    async with aiohttp.ClientSession() as session:
        response = await session.get(
            site.url + "/authorize_interaction",
            params={"uri": "https://evil.example/<script>"},
            allow_redirects=False,
        )
        text = await response.text()
    assert response.status == 404
    assert "Location" not in response.headers
    assert "does not follow accounts" in text
    assert "<script>" not in text


async def test_authorize_interaction__missing_uri_is_400(site: LiveSite) -> None:
    response = await get(site, "")
    assert response.status == 400
