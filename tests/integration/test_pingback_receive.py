"""Receiving pingbacks (XML-RPC at /xmlrpc.php, called with Python's own xmlrpc.client) and trackbacks (a form
POST) on the real app with a real SQLite file. The pinging sites are aiohttp pages on 127.0.0.1: one that links to
the post and one that does not."""

from __future__ import annotations

import asyncio
import xmlrpc.client
from collections.abc import AsyncIterator

import aiohttp
import pytest

from fedblog.models import CommentKind, CommentOrigin, CommentStatus, PostKind
from fedblog.protocol import pingback
from fedblog.protocol.webmention import normalize_url
from fedblog.services.blocks import add_block
from fedblog.services.comments import CommentService
from fedblog.services.posts import PostInput, PostService
from tests.conftest import LiveSite, SiteFactory
from tests.fakes.pages import OtherSite, Served
from tests.integration.blog_support import get, post_page, publish, thread_html, verified

INTRO = "Un peu de contexte avant le lien, pour que l'extrait ait de quoi montrer. " * 3


def linking_page(target: str, title: str = "Que ferait le Community manager ? | Manager une communauté") -> str:
    return f"""<!doctype html><html><head><title>{title}</title></head><body><article>
    <p>{INTRO}Comme le dit <a href="{target}">ce billet</a>, il faut écouter avant de parler. Ensuite seulement,
    on répond.</p></article></body></html>"""


@pytest.fixture
async def pinging() -> AsyncIterator[OtherSite]:
    """The sites that ping us: their pages, which link to our posts or not."""
    site = await OtherSite().start()
    yield site
    await site.close()


async def ping(site: LiveSite, source: str, target: str) -> str:
    """pingback.ping through xmlrpc.client, as WordPress's own client would send it (in a thread: it blocks)."""

    def call() -> str:
        with xmlrpc.client.ServerProxy(f"{site.url}/xmlrpc.php") as proxy:
            return str(proxy.pingback.ping(source, target))

    return await asyncio.wait_for(asyncio.to_thread(call), 20)


async def fault_of(site: LiveSite, source: str, target: str) -> int:
    with pytest.raises(xmlrpc.client.Fault) as raised:
        await ping(site, source, target)
    return raised.value.faultCode


async def test_pingback__post_page_advertises_the_server(site: LiveSite) -> None:
    post = await publish(site, "Hello")
    page = await get(site, f"/posts/{post.slug}")
    again = await get(site, f"/posts/{post.slug}")  # from the page cache
    server = f"{site.url}/xmlrpc.php"
    assert f'<link rel="pingback" href="{server}">' in page.text
    assert page.headers["X-Pingback"] == server and again.headers["X-Pingback"] == server


async def test_pingback__from_a_linking_page_is_verified_and_shown_like_wordpress(
    site: LiveSite, pinging: OtherSite
) -> None:
    # Given a post and another blog's page that links to it
    post = await publish(site, "Manager une communauté")
    target = site.ctx.urls.post(post.slug)
    source = pinging.url("/2012/02/que-ferait-le-community-manager/")
    pinging.pages["/2012/02/que-ferait-le-community-manager/"] = Served(body=linking_page(target))
    # When that blog pings the post
    answer = await ping(site, source, target)
    assert "received" in answer
    _, comment_id = await verified(site, source, target)
    # Then a pingback waits for moderation: the source's title as its name, its URL as the website
    comment = await site.ctx.comments.get_comment(comment_id or 0)
    assert comment is not None and comment.status == CommentStatus.PENDING
    assert (comment.kind, comment.origin) == (CommentKind.PINGBACK, CommentOrigin.WEBMENTION)
    assert comment.author.name == "Que ferait le Community manager ? | Manager une communauté"
    assert comment.author.website == source and comment.author.email is None
    # And once approved the thread shows the title as a link and the words around the link between "[…]"
    await CommentService(site.ctx).approve(comment.id)
    thread = thread_html(await post_page(site, post))
    assert "Que ferait le Community manager ? | Manager une communauté" in thread
    assert f'href="{source}"' in thread
    assert "[…] " in thread and "Comme le dit ce billet, il faut écouter avant de parler." in thread
    # A second ping of the same pair is refused: already registered
    assert await fault_of(site, source, target) == pingback.ALREADY_REGISTERED


async def test_pingback__a_page_of_the_blog_takes_pingbacks_too(site: LiveSite, pinging: OtherSite) -> None:
    page = await PostService(site.ctx).publish(PostInput(title="À propos", body_markdown="Moi.", kind=PostKind.PAGE))
    target = site.ctx.urls.page(page.slug)
    pinging.pages["/about-them"] = Served(body=linking_page(target, title="Their page"))
    await ping(site, pinging.url("/about-them"), target)
    _, comment_id = await verified(site, pinging.url("/about-them"), normalize_url(target))  # stored without "/"
    comment = await site.ctx.comments.get_comment(comment_id or 0)
    assert comment is not None and comment.post_id == page.id and comment.author.name == "Their page"


async def test_pingback__a_page_that_does_not_link_is_rejected(site: LiveSite, pinging: OtherSite) -> None:
    post = await publish(site, "Hello")
    target = site.ctx.urls.post(post.slug)
    pinging.pages["/unrelated"] = Served(body="<title>Other</title><p>Nothing about <a href='/x'>you</a>.</p>")
    await ping(site, pinging.url("/unrelated"), target)
    _, comment_id = await verified(site, pinging.url("/unrelated"), target, state="rejected")
    assert comment_id is None
    assert await site.ctx.comments.list_by_status(None) == []


async def test_pingback__faults_known_at_once(site: LiveSite, pinging: OtherSite) -> None:
    post = await publish(site, "Hello")
    target = site.ctx.urls.post(post.slug)
    source = pinging.url("/page")
    assert await fault_of(site, "gopher://x.example/", target) == pingback.SOURCE_NOT_FOUND
    assert await fault_of(site, target, target) == pingback.SOURCE_HAS_NO_LINK
    assert await fault_of(site, source, "https://elsewhere.example/posts/x") == pingback.TARGET_NOT_FOUND
    assert await fault_of(site, source, f"{site.url}/posts/no-such-post") == pingback.TARGET_NOT_FOUND
    assert await fault_of(site, source, f"{site.url}/tags/python") == pingback.TARGET_NOT_A_POST
    assert await fault_of(site, f"{site.url}/search?q=x", target) == pingback.ACCESS_DENIED
    await add_block(site.ctx, "127.0.0.1")
    assert await fault_of(site, source, target) == pingback.ACCESS_DENIED
    # Nothing was queued, nothing fetched
    assert pinging.gets == []


async def test_pingback__other_methods_and_bad_bodies_get_a_fault_never_a_500(site: LiveSite) -> None:
    def list_methods() -> object:
        with xmlrpc.client.ServerProxy(f"{site.url}/xmlrpc.php") as proxy:
            return proxy.system.listMethods()

    with pytest.raises(xmlrpc.client.Fault) as raised:
        await asyncio.wait_for(asyncio.to_thread(list_methods), 20)
    assert raised.value.faultCode == pingback.METHOD_NOT_FOUND
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{f"&{chr(97 + i)};" * 10}">' for i in range(8))
        + "]><methodCall><methodName>&i;</methodName></methodCall>"
    )
    bodies = [b"", b"<methodCall>", bomb.encode(), b"<methodCall><methodName>pingback.ping</methodName></methodCall>"]
    async with aiohttp.ClientSession() as session:
        for body in bodies:
            async with session.post(f"{site.url}/xmlrpc.php", data=body, headers={"Content-Type": "text/xml"}) as r:
                assert r.status == 200
                text = await r.read()
            with pytest.raises(xmlrpc.client.Fault):
                xmlrpc.client.loads(text)
        async with session.get(f"{site.url}/xmlrpc.php") as answer:
            assert answer.status == 405


async def test_pingback__receiving_off_answers_404_and_advertises_nothing(site_factory: SiteFactory) -> None:
    site = await site_factory(overrides={"pingback": {"receive": False}})
    post = await publish(site, "Hello")
    page = await get(site, f"/posts/{post.slug}")
    assert "X-Pingback" not in page.headers and 'rel="pingback"' not in page.text
    async with aiohttp.ClientSession() as session, session.post(f"{site.url}/xmlrpc.php", data=b"<x/>") as answer:
        assert answer.status == 404


# --- trackback --------------------------------------------------------------------------------------------------


async def send_trackback(site: LiveSite, slug: str, fields: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{site.url}/posts/{slug}/trackback", data=fields) as answer,
    ):
        return answer.status, await answer.text()


async def test_trackback__off_by_default(site: LiveSite, pinging: OtherSite) -> None:
    post = await publish(site, "Hello")
    status, text = await send_trackback(site, post.slug, {"url": pinging.url("/page")})
    assert status == 404 and "<error>1</error>" in text and "not accepted" in text
    assert pinging.gets == []
    assert "trackback" not in (await get(site, f"/posts/{post.slug}")).text


async def test_trackback__when_on_the_post_page_gives_its_url_in_french_too(site_factory: SiteFactory) -> None:
    site = await site_factory(language="fr", overrides={"trackback": {"receive": True}})
    post = await publish(site, "Bonjour")
    page = await get(site, f"/posts/{post.slug}")
    assert f"URL de rétrolien de cet article : <code>{site.url}/posts/{post.slug}/trackback</code>" in page.text


async def test_trackback__verified_moderated_and_shown(site_factory: SiteFactory, pinging: OtherSite) -> None:
    site = await site_factory(overrides={"trackback": {"receive": True}, "comments": {"moderation": "open"}})
    post = await publish(site, "Hello")
    target = site.ctx.urls.post(post.slug)
    pinging.pages["/tb"] = Served(body=linking_page(target, title="Page title"))
    pinging.pages["/nolink"] = Served(body="<p>No link here.</p>")
    fields = {
        "url": pinging.url("/tb"),
        "title": "Un <b>billet</b> qui cite",
        "excerpt": "Ce que j'en pense, en bref.",
        "blog_name": "Manager une communauté",
    }
    status, text = await send_trackback(site, post.slug, fields)
    assert status == 200 and "<error>0</error>" in text, text
    _, comment_id = await verified(site, pinging.url("/tb"), target)
    comment = await site.ctx.comments.get_comment(comment_id or 0)
    assert comment is not None and comment.kind == CommentKind.TRACKBACK
    assert comment.status == CommentStatus.APPROVED  # moderation "open"
    thread = thread_html(await post_page(site, post))
    assert "Un billet qui cite" in thread and "[…] Ce que j&#x27;en pense, en bref. […]" in thread
    assert "<b>" not in thread
    # A page that does not link is dropped; a missing url or an unknown post is an error answer
    assert (await send_trackback(site, post.slug, {"url": pinging.url("/nolink")}))[0] == 200
    await verified(site, pinging.url("/nolink"), target, state="rejected")
    status, text = await send_trackback(site, post.slug, {"title": "no url"})
    assert status == 400 and "<error>1</error>" in text
    assert (await send_trackback(site, "no-such-post", {"url": pinging.url("/tb")}))[0] == 404
    assert len(await site.ctx.comments.list_by_status(None)) == 1
